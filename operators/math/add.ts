import { defineOperator, tensor, Type } from '../../core/operator/index.js';
import { binaryInputs, binaryOutputs, broadcastOperands, expectSameTensorDType, operands } from './elementwise.js';

/** out = a + b (+ more[0] + more[1] …), numpy broadcasting; all terms share one dtype. */
export const add = defineOperator({
  id: 'math.add',
  version: 1,
  summary: 'Element-wise sum out = a + b + Σ more[i], broadcast as in numpy',
  description: 'Terms are added left to right: ((a + b) + more[0]) + more[1] …; all must have the same dtype.',
  params: Type.Object({}, { additionalProperties: false }),
  inputs: {
    ...binaryInputs,
    more: tensor({ dtype: ['float32', 'int32'], variadic: true, optional: true, doc: 'Further terms, broadcast with a and b' }),
  },
  outputs: binaryOutputs,
  examples: [{ inputs: { a: { shape: [3, 4] }, b: { shape: [4] }, more: [{ shape: [3, 1] }] } }],
  shape: ({ a, b, more }) => ({ out: broadcastOperands(operands(a, b, more)) }),
  run: ({ a, b, more }, _p, { tf }) => {
    expectSameTensorDType(operands(a, b, more));
    return { out: tf.tidy(() => (more ?? []).reduce((sum, t) => tf.add(sum, t), tf.add(a, b))) };
  },
});
