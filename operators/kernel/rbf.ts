import { defineOperator, Type } from '../../core/operator/index.js';
import { classicInputs, classicOutputs, classicShape, lengthscaleSchema, stationaryKernel, tileSchema, varianceSchema } from './common.js';
import { tryFusedStationary } from './fused-hook.js';

export const rbf = defineOperator({
  id: 'kernel.rbf',
  version: 1,
  summary: 'Squared-exponential kernel k(x, y) = σ²·exp(−½‖(x − y)/ℓ‖²), ℓ scalar or per dimension (ARD)',
  description:
    'Rasmussen & Williams 2006, eq. 4.9. Squared distances of the ℓ-scaled inputs, centred on mean(x1), as ‖x‖² + ‖y‖² − 2x·y clamped at 0, ' +
    'exactly 0 on the diagonal of a symmetric call (x2 absent). Tiled: memory is the output plus one tile.',
  params: Type.Object({ lengthscale: lengthscaleSchema, variance: varianceSchema, tile_entries: tileSchema }, { additionalProperties: false }),
  inputs: classicInputs,
  outputs: classicOutputs,
  examples: [{ params: { lengthscale: 1.5, variance: 2 }, inputs: { x1: { shape: [6, 3] } } }],
  shape: ({ x1, x2 }, p) => classicShape(x1, x2, p.lengthscale),
  run: async ({ x1, x2 }, p, ctx) => {
    const { tf, signal } = ctx;
    // The native backend's fused kernel when it has one (fused-hook.ts); this tfjs code is the reference.
    const fast = await tryFusedStationary(ctx, 'rbf', x1, x2, p.lengthscale, p.variance);
    return {
      k: fast ?? (await stationaryKernel(tf, x1, x2, p.lengthscale, (d2) => tf.mul(tf.exp(tf.mul(d2, -0.5)), p.variance), { tileEntries: p.tile_entries, signal })),
    };
  },
});
