import { defineOperator, Type } from '../../core/operator/index.js';
import { binaryInputs, binaryOutputs, broadcastOperands, expectSameTensorDType, operands } from './elementwise.js';

/** out = a − b, numpy broadcasting; a and b share one dtype. */
export const sub = defineOperator({
  id: 'math.sub',
  version: 1,
  summary: 'Element-wise difference out = a − b, broadcast as in numpy',
  params: Type.Object({}, { additionalProperties: false }),
  inputs: binaryInputs,
  outputs: binaryOutputs,
  examples: [{ inputs: { a: { shape: [3, 4] }, b: { shape: [3, 1] } } }],
  shape: ({ a, b }) => ({ out: broadcastOperands(operands(a, b)) }),
  run: ({ a, b }, _p, { tf }) => {
    expectSameTensorDType(operands(a, b));
    return { out: tf.sub(a, b) };
  },
});
