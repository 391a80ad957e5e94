/**
 * LML gradient on the CG path (GPyTorch's BBMM, Gardner et al. 2018):
 *   ∂LML/∂log θ = ½ Σ_c α_cᵀ ∂Ky α_c − (c/2)·tr(Ky⁻¹ ∂Ky),
 * where α = Ky⁻¹(y − m) comes from CG and the trace is Hutchinson's estimate
 *   tr(Ky⁻¹ ∂Ky) ≈ (1/t) Σᵢ (Ky⁻¹zᵢ)ᵀ ∂Ky zᵢ,   zᵢ ∈ {±1}ⁿ (Rademacher, seeded),
 * with the t solves Ky⁻¹zᵢ done in the same batched CG call as α. Both terms are contractions
 * ½ΣW⊙∂Ky with an n×n weight (ααᵀ, resp. one per probe, −(c/2)(uᵢzᵢᵀ + zᵢuᵢᵀ), so that the sample
 * standard error comes with the mean), reusing the Cholesky path's kernelGradContractions. The first term is exact up to the CG residual; the second is unbiased
 * with variance 2(‖M‖_F² − Σ M_ii²)/t for M = sym(Ky⁻¹∂Ky) (Rademacher probes).
 */
import type { Tensor2D } from '@tensorflow/tfjs-core';
import type { TF } from '../../core/operator/index.js';
import { diagOf } from './exact-core.js';
import { kernelGradContractions, kernelParamNames } from './kernels.js';
import type { KernelSpec } from './kernels.js';

/**
 * Seeded Rademacher probes [n, t], drawn on the host (a 32-bit mulberry generator) so that the same
 * seed gives the same probes on every backend.
 */
export function rademacherProbes(tf: TF, n: number, t: number, seed: number): Tensor2D {
  let s = (seed ^ 0x9e3779b9) >>> 0;
  const v = new Float32Array(n * t);
  for (let i = 0; i < v.length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let r = Math.imul(s ^ (s >>> 15), 1 | s);
    r ^= r + Math.imul(r ^ (r >>> 7), 61 | r);
    v[i] = ((r ^ (r >>> 14)) >>> 0) & 1 ? 1 : -1;
  }
  return tf.tensor2d(v, [n, t]);
}

export interface CgGrad {
  names: string[];
  /** quad + trace, per log-hyperparameter. */
  grad: number[];
  /** ½Σ_c α_cᵀ∂Kyα_c (exact up to CG). */
  quad: number[];
  /** −(c/2)·(Hutchinson estimate of tr(Ky⁻¹∂Ky)). */
  trace: number[];
  /** Sample standard error of `trace` over the probes (NaN for one probe). */
  stderr: number[];
}

/**
 * Gradient from α [n, c], U = Ky⁻¹Z [n, t] and the probes Z [n, t], for K = K(x, x) without noise
 * and per-row noise σ² (the noise entry is w.r.t. a common log factor of σ²).
 */
export async function cgLmlGrad(
  tf: TF,
  alpha: Tensor2D,
  u: Tensor2D,
  z: Tensor2D,
  x: Tensor2D,
  k: Tensor2D,
  spec: KernelSpec,
  noise: number[],
): Promise<CgGrad> {
  const c = alpha.shape[1];
  const t = z.shape[1];
  const part = async (w: Tensor2D): Promise<number[]> => {
    try {
      const kg = await kernelGradContractions(tf, x, k, w, spec);
      const wd = await diagOf(tf, w);
      let gn = 0;
      for (let i = 0; i < noise.length; i++) gn += 0.5 * wd[i] * noise[i];
      return [...kg, gn];
    } finally {
      w.dispose();
    }
  };
  const quad = await part(tf.tidy(() => tf.matMul(alpha, alpha, false, true) as Tensor2D));
  // Per probe i: −(c/2)·zᵢᵀ∂Ky uᵢ, as ½ΣW⊙∂Ky with W = −(c/2)(uᵢzᵢᵀ + zᵢuᵢᵀ) (∂Ky is symmetric).
  // One contraction per probe gives the sample standard error next to the mean.
  const perProbe: number[][] = [];
  for (let i = 0; i < t; i++) {
    perProbe.push(
      await part(
        tf.tidy(() => {
          const ui = tf.slice(u, [0, i], [-1, 1]);
          const zi = tf.slice(z, [0, i], [-1, 1]);
          const uz = tf.matMul(ui, zi, false, true);
          return tf.mul(tf.add(uz, tf.transpose(uz)), -c / 2) as Tensor2D;
        }),
      ),
    );
  }
  const trace = quad.map((_, j) => perProbe.reduce((acc, r) => acc + r[j], 0) / t);
  const stderr = trace.map((mu, j) =>
    t > 1 ? Math.sqrt(perProbe.reduce((acc, r) => acc + (r[j] - mu) ** 2, 0) / (t - 1) / t) : NaN,
  );
  return {
    names: [...kernelParamNames(spec, x.shape[1]), 'noise'],
    grad: quad.map((q, i) => q + trace[i]),
    quad,
    trace,
    stderr,
  };
}
