/**
 * Stochastic Lanczos quadrature estimate of log|A| from preconditioned CG (GPyTorch's BBMM,
 * Gardner et al. 2018; Ubaru, Chen & Saad 2017):
 *   log|A| ≈ log|P| + (1/t) Σᵢ ‖zᵢ‖²_{P⁻¹} · e₁ᵀ log(Tᵢ) e₁,   zᵢ ~ N(0, P),
 * where Tᵢ is the Lanczos tridiagonal of P⁻¹A rebuilt from probe i's CG coefficients:
 *   T_jj = 1/α_j + β_{j−1}/α_{j−1},  T_{j,j+1} = √β_j/α_j.
 * e₁ᵀ log(T) e₁ = Σ_k τ_k² log θ_k (Gauss quadrature: θ eigenvalues, τ first eigenvector components,
 * computed in float64). The result is an estimate: it carries its probe standard error.
 */
import type { Tensor2D } from '@tensorflow/tfjs-core';
import type { TF } from '../../core/operator/index.js';
import { cg } from './cg.js';
import { tridiagEigFirst } from './host.js';
import { identityPreconditioner, pivotedCholeskyPreconditioner } from './pivoted-cholesky.js';

export interface SlqOptions {
  /** Number of probe vectors t (default 10). */
  numProbes?: number;
  /** Lanczos/CG steps per probe (default 50). */
  maxIter?: number;
  /** CG stops a probe early at this relative residual (default 1e-5). */
  tol?: number;
  /** Pivoted-Cholesky preconditioner rank (default 15; 0 = none). */
  precondRank?: number;
  precondShift?: number | 'auto';
  seed?: number;
  signal?: AbortSignal;
}

export interface SlqResult {
  /** The estimate of log|A|. */
  logdet: number;
  /** Standard error of the mean over probes. */
  stderr: number;
  /** log|P| + t·(probe term) for each probe. */
  perProbe: number[];
  logdetPrecond: number;
  iterations: number[];
  precondRank: number;
  precondShift: number;
  /** Ritz values ≤ 0 met (float32 breakdown; clamped out of the sum). */
  nonPositiveRitz: number;
}

/** SLQ estimate of log|A| for a symmetric positive definite A [n, n]. */
export async function logdetSlq(tf: TF, a: Tensor2D, opts: SlqOptions = {}): Promise<SlqResult> {
  const n = a.shape[0];
  const t = Math.max(1, Math.floor(opts.numProbes ?? 10));
  const rank = opts.precondRank ?? 15;
  const precond = rank > 0
    ? await pivotedCholeskyPreconditioner(tf, a, rank, { shift: opts.precondShift ?? 'auto' })
    : identityPreconditioner(tf, n);
  try {
    const z = precond.sample(t, opts.seed ?? 0);
    let res;
    try {
      res = await cg(tf, a, z, {
        tol: opts.tol ?? 1e-5,
        maxIter: opts.maxIter ?? 50,
        precond: rank > 0 ? precond : undefined,
        recordLanczos: true,
        signal: opts.signal,
      });
    } finally {
      z.dispose();
    }
    res.x.dispose();
    const perProbe: number[] = [];
    let nonPositiveRitz = 0;
    for (let i = 0; i < t; i++) {
      const al = res.lanczos!.alpha[i];
      const be = res.lanczos!.beta[i];
      const k = al.length;
      const d = new Float64Array(k);
      const e = new Float64Array(Math.max(0, k - 1));
      for (let j = 0; j < k; j++) {
        d[j] = 1 / al[j] + (j > 0 ? be[j - 1] / al[j - 1] : 0);
        if (j < k - 1) e[j] = Math.sqrt(be[j]) / al[j];
      }
      const { values, first } = tridiagEigFirst(d, e);
      let quad = 0;
      for (let j = 0; j < k; j++) {
        if (values[j] > 0) quad += first[j] * first[j] * Math.log(values[j]);
        else nonPositiveRitz++;
      }
      perProbe.push(precond.logdet + res.rz0[i] * quad);
    }
    const mean = perProbe.reduce((s, v) => s + v, 0) / t;
    const varr = t > 1 ? perProbe.reduce((s, v) => s + (v - mean) ** 2, 0) / (t - 1) : NaN;
    return {
      logdet: mean,
      stderr: Math.sqrt(varr / t),
      perProbe,
      logdetPrecond: precond.logdet,
      iterations: res.iterations,
      precondRank: precond.rank,
      precondShift: precond.shift,
      nonPositiveRitz,
    };
  } finally {
    precond.dispose();
  }
}
