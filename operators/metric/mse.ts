import { defineOperator, OperatorError, Type } from '../../core/operator/index.js';
import { expectSameShape, inferScalarOfPair, pairInputs, scalarOutput } from './pair.js';

/** Mean squared error mean((a − b)²) over all elements, in float32. */
export const mse = defineOperator({
  id: 'metric.mse',
  version: 1,
  summary: 'Mean squared error out = (1/n)·Σᵢ (aᵢ − bᵢ)², a and b of the same shape',
  params: Type.Object({}, { additionalProperties: false }),
  inputs: pairInputs,
  outputs: scalarOutput,
  examples: [{ inputs: { a: { shape: [6] }, b: { shape: [6] } } }],
  shape: ({ a, b }) => inferScalarOfPair(a, b),
  run: ({ a, b }, _p, { tf }) => {
    expectSameShape(a, b);
    if (a.size === 0) throw new OperatorError('empty_input', 'the mean squared error of empty tensors is undefined');
    return { out: tf.tidy(() => tf.mean(tf.squaredDifference(tf.cast(a, 'float32'), tf.cast(b, 'float32')))) };
  },
});
