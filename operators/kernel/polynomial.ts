import type { Tensor } from '@tensorflow/tfjs-core';
import { defineOperator, Type } from '../../core/operator/index.js';
import { classicInputs, classicOutputs, classicShape, tiledPairwise, tileSchema } from './common.js';

export const polynomial = defineOperator({
  id: 'kernel.polynomial',
  version: 1,
  summary: 'Polynomial kernel k(x, y) = (γ·x·y + coef0)^degree',
  description:
    'scikit-learn conventions (gamma null = 1/d). The integer power is taken by repeated squaring (exact sign for negative bases on every backend).',
  params: Type.Object(
    {
      degree: Type.Integer({ minimum: 1, maximum: 64, default: 3, description: 'Integer degree ≥ 1' }),
      gamma: Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Null()], { default: null, description: 'Scale γ of x·y; null = 1/d' }),
      coef0: Type.Number({ default: 1, description: 'Constant term' }),
      tile_entries: tileSchema,
    },
    { additionalProperties: false },
  ),
  inputs: classicInputs,
  outputs: classicOutputs,
  examples: [{ params: { degree: 2 }, inputs: { x1: { shape: [5, 3] }, x2: { shape: [4, 3] } } }],
  shape: ({ x1, x2 }) => classicShape(x1, x2),
  run: async ({ x1, x2 }, p, { tf, signal }) => {
    const gamma = p.gamma ?? 1 / (x1.shape[1] as number);
    const k = await tiledPairwise(
      tf,
      x1,
      x2,
      (a, b) => {
        const base = tf.add(tf.mul(tf.matMul(a, b, false, true), gamma), p.coef0);
        let result: Tensor | null = null;
        let pow = base;
        for (let e = p.degree; e > 0; e >>= 1) {
          if (e & 1) result = result ? tf.mul(result, pow) : pow;
          if (e > 1) pow = tf.mul(pow, pow);
        }
        return result!;
      },
      { tileEntries: p.tile_entries, signal },
    );
    return { k };
  },
});
