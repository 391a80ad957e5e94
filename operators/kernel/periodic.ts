import { defineOperator, Type } from '../../core/operator/index.js';
import { classicInputs, classicOutputs, classicShape, scaleBy, tiledPairwise, tileSchema, varianceSchema, lengthscaleSchema } from './common.js';

export const periodic = defineOperator({
  id: 'kernel.periodic',
  version: 1,
  summary: 'Periodic kernel k(x, y) = σ²·exp(−2 Σ_d sin²(π(x_d − y_d)/p)/ℓ_d²)',
  description:
    'MacKay 1998 / scikit-learn ExpSineSquared for d = 1; for d > 1 the product over dimensions (the ARD form, as in GPflow up to ' +
    'its ½ convention). Computed without pairwise differences: Σ_d sin²(π(x_d−y_d)/p)/ℓ_d² = ½Σ_d ℓ_d⁻² − ½(C₁C₂ᵀ + S₁S₂ᵀ) with ' +
    'C = cos(2πx/p)/ℓ, S = sin(2πx/p)/ℓ, clamped at 0 and exactly 0 on the symmetric diagonal; absolute error ≈ 1e-7·Σℓ⁻² in the exponent.',
  params: Type.Object(
    {
      lengthscale: lengthscaleSchema,
      period: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'Period p > 0' }),
      variance: varianceSchema,
      tile_entries: tileSchema,
    },
    { additionalProperties: false },
  ),
  inputs: classicInputs,
  outputs: classicOutputs,
  examples: [{ params: { period: 2, lengthscale: 1.5 }, inputs: { x1: { shape: [5, 2] }, x2: { shape: [4, 2] } } }],
  shape: ({ x1, x2 }, p) => classicShape(x1, x2, p.lengthscale),
  run: async ({ x1, x2 }, p, { tf, signal }) => {
    const d = x1.shape[1] as number;
    const ls = Array.isArray(p.lengthscale) ? p.lengthscale : new Array<number>(d).fill(p.lengthscale);
    const half = ls.reduce((s, l) => s + 1 / (l * l), 0) / 2;
    const feats = (x: typeof x1) => {
      const ang = tf.mul(x, (2 * Math.PI) / p.period);
      return tf.concat([scaleBy(tf, tf.cos(ang), p.lengthscale), scaleBy(tf, tf.sin(ang), p.lengthscale)], 1);
    };
    const f1 = tf.tidy(() => feats(x1));
    const f2 = x2 ? tf.tidy(() => feats(x2)) : undefined;
    try {
      const k = await tiledPairwise(
        tf,
        f1,
        f2,
        (a, b, diag) => {
          let s = tf.relu(tf.sub(half, tf.mul(tf.matMul(a, b, false, true), 0.5)));
          if (diag) s = tf.where(diag, tf.zerosLike(s), s);
          return tf.mul(tf.exp(tf.mul(s, -2)), p.variance);
        },
        { tileEntries: p.tile_entries, signal },
      );
      return { k };
    } finally {
      tf.dispose(f2 ? [f1, f2] : [f1]);
    }
  },
});
