import { defineOperator, Type } from '../../core/operator/index.js';
import { classicInputs, classicOutputs, classicShape, lengthscaleSchema, stationaryKernel, tileSchema, varianceSchema } from './common.js';
import { tryFusedStationary } from './fused-hook.js';

export const matern = defineOperator({
  id: 'kernel.matern',
  version: 1,
  summary: 'Matérn kernel, r = ‖(x − y)/ℓ‖: ν=½ σ²e^{−r}; ν=3/2 σ²(1+√3r)e^{−√3r}; ν=5/2 σ²(1+√5r+5r²/3)e^{−√5r}',
  description:
    'Rasmussen & Williams 2006, eq. 4.14–4.17; ℓ scalar or per dimension (ARD). r = √d² with d² computed as in kernel.rbf ' +
    '(centred, scaled, clamped at 0, exact 0 on the symmetric diagonal).',
  params: Type.Object(
    {
      nu: Type.Union([Type.Literal(0.5), Type.Literal(1.5), Type.Literal(2.5)], { default: 1.5, description: 'Smoothness ν: 0.5, 1.5 or 2.5' }),
      lengthscale: lengthscaleSchema,
      variance: varianceSchema,
      tile_entries: tileSchema,
    },
    { additionalProperties: false },
  ),
  inputs: classicInputs,
  outputs: classicOutputs,
  examples: [{ params: { nu: 2.5, lengthscale: [1, 2, 0.5] }, inputs: { x1: { shape: [6, 3] } } }],
  shape: ({ x1, x2 }, p) => classicShape(x1, x2, p.lengthscale),
  run: async ({ x1, x2 }, p, ctx) => {
    const { tf, signal } = ctx;
    // The native backend's fused kernel when it has one (fused-hook.ts); this tfjs code is the reference.
    const kind = p.nu === 0.5 ? 'matern12' : p.nu === 1.5 ? 'matern32' : 'matern52';
    const fast = await tryFusedStationary(ctx, kind, x1, x2, p.lengthscale, p.variance);
    return { k: fast ?? (await stationaryKernel(
      tf,
      x1,
      x2,
      p.lengthscale,
      (d2) => {
        const r = tf.sqrt(d2);
        if (p.nu === 0.5) return tf.mul(tf.exp(tf.neg(r)), p.variance);
        const s = Math.sqrt(p.nu === 1.5 ? 3 : 5);
        const sr = tf.mul(r, s);
        const poly = p.nu === 1.5 ? tf.add(sr, 1) : tf.add(tf.add(sr, 1), tf.mul(d2, 5 / 3));
        return tf.mul(tf.mul(poly, tf.exp(tf.neg(sr))), p.variance);
      },
      { tileEntries: p.tile_entries, signal },
    )) };
  },
});
