import { defineOperator, Type } from '../../core/operator/index.js';
import { binaryInputs, binaryOutputs, broadcastOperands, expectSameTensorDType, operands } from './elementwise.js';

/** out = a ⊙ b (Hadamard product), numpy broadcasting; a and b share one dtype. */
export const mul = defineOperator({
  id: 'math.mul',
  version: 1,
  summary: 'Element-wise product out = a ⊙ b, broadcast as in numpy',
  params: Type.Object({}, { additionalProperties: false }),
  inputs: binaryInputs,
  outputs: binaryOutputs,
  examples: [{ inputs: { a: { shape: [2, 3] }, b: { shape: [2, 3] } } }],
  shape: ({ a, b }) => ({ out: broadcastOperands(operands(a, b)) }),
  run: ({ a, b }, _p, { tf }) => {
    expectSameTensorDType(operands(a, b));
    return { out: tf.mul(a, b) };
  },
});
