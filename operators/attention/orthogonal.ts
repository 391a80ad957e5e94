/**
 * attention/orthogonal — orthogonal random features ("Rethinking Attention with Performers",
 * Choromanski et al., ICLR 2021, §"Orthogonal random features"): an [m, D] projection made of stacked
 * blocks of D mutually orthogonal rows (the last block keeps its first m mod D rows). Each block is the
 * Gram–Schmidt orthonormalisation of a Gaussian D×D matrix, and each row is rescaled by the norm of an
 * independent Gaussian D-vector (chi_D), so every row is marginally N(0, I) — the FAVOR+ estimator stays
 * unbiased — while rows within a block are exactly orthogonal, which lowers its variance.
 * Drawn on the host in float64 from the seed (identical on every backend, no device read-back).
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { Type } from '../../core/operator/index.js';
import type { TF } from '../../core/operator/index.js';
import { mixSeed, Rng } from '../model/index.js';

export const orthogonalParam = Type.Boolean({
  default: true,
  description: 'FAVOR+ projection drawn when none is given: blocks of D orthogonal rows with chi_D norms (true), or i.i.d. N(0,1) rows (false).',
});

/** Gram–Schmidt is repeated once ("twice is enough"): rows orthogonal to float64 round-off. */
const PASSES = 2;

/** [m, d] row-major float64: stacked blocks of d orthogonal rows, each row's norm chi_d distributed. */
export function orthogonalGaussian(m: number, d: number, seed: number): Float64Array {
  const rng = new Rng(mixSeed(seed, 0x0a7f));
  const out = new Float64Array(m * d);
  for (let r0 = 0; r0 < m; r0 += d) {
    const rows = Math.min(d, m - r0);
    const basis: Float64Array[] = [];
    while (basis.length < rows) {
      const g = Float64Array.from({ length: d }, () => rng.normal());
      for (let pass = 0; pass < PASSES; pass++)
        for (const e of basis) {
          let c = 0;
          for (let t = 0; t < d; t++) c += g[t] * e[t];
          for (let t = 0; t < d; t++) g[t] -= c * e[t];
        }
      const norm = Math.hypot(...g);
      if (!(norm > 1e-8)) continue; // (almost) dependent draw: probability 0, redraw
      basis.push(g.map((x) => x / norm));
    }
    basis.forEach((e, i) => {
      let s = 0;
      for (let t = 0; t < d; t++) s += rng.normal() ** 2;
      const len = Math.sqrt(s); // chi_d: the norm of an independent N(0, I_d) vector
      for (let t = 0; t < d; t++) out[(r0 + i) * d + t] = e[t] * len;
    });
  }
  return out;
}

/** [m, d] row-major float64 i.i.d. N(0, 1) from the seed (the baseline the orthogonal draw improves on). */
export function iidGaussian(m: number, d: number, seed: number): Float64Array {
  const rng = new Rng(mixSeed(seed, 0x011d));
  return Float64Array.from({ length: m * d }, () => rng.normal());
}

/** The FAVOR+ projection W [m, D] drawn from a node seed: orthogonal blocks, or i.i.d. rows. */
export function drawProjection(tf: TF, m: number, d: number, seed: number, orthogonal: boolean): Tensor {
  const w = orthogonal ? orthogonalGaussian(m, d, seed) : iidGaussian(m, d, seed);
  return tf.tensor2d(Float32Array.from(w), [m, d]);
}
