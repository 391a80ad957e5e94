import { defineOperator, Type } from '../../core/operator/index.js';
import { classicInputs, classicOutputs, classicShape, tiledPairwise, tileSchema, varianceSchema } from './common.js';

export const linear = defineOperator({
  id: 'kernel.linear',
  version: 1,
  summary: 'Linear kernel k(x, y) = σ²·x·y + bias',
  description: 'The NNGP of a linear model with weights ~ N(0, σ²) and bias ~ N(0, bias). Tiled like the other kernels.',
  params: Type.Object(
    {
      variance: varianceSchema,
      bias: Type.Number({ minimum: 0, default: 0, description: 'Constant added to every entry (bias variance)' }),
      tile_entries: tileSchema,
    },
    { additionalProperties: false },
  ),
  inputs: classicInputs,
  outputs: classicOutputs,
  examples: [{ params: { variance: 2, bias: 0.5 }, inputs: { x1: { shape: [5, 3] }, x2: { shape: [4, 3] } } }],
  shape: ({ x1, x2 }) => classicShape(x1, x2),
  run: async ({ x1, x2 }, p, { tf, signal }) => ({
    k: await tiledPairwise(tf, x1, x2, (a, b) => tf.add(tf.mul(tf.matMul(a, b, false, true), p.variance), p.bias), {
      tileEntries: p.tile_entries,
      signal,
    }),
  }),
});
