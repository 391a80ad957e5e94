/**
 * Rank-k pivoted Cholesky and the preconditioner P = Lk·Lkᵀ + s·I built from it, applied with the
 * Woodbury identity (Harbrecht, Peters & Schneider 2012; GPyTorch/BBMM, Gardner et al. 2018).
 *
 * The greedy factorisation picks the largest remaining diagonal each step and needs one row of A
 * per step (A is downloaded once); all its arithmetic is float64 on the host, O(n·k²).
 * Woodbury: P⁻¹ = (I − Lk·C⁻¹·Lkᵀ)/s with C = s·I + LkᵀLk (k×k, factored in float64), so applying
 * P⁻¹ to an [n, m] block is two thin matmuls on the backend; log|P| = (n−k)·log s + log|C|.
 */
import type { Tensor2D } from '@tensorflow/tfjs-core';
import type { TF } from '../../core/operator/index.js';
import { cholInPlace, invLower } from './host.js';

export interface PivotedCholesky {
  /** n×k factor, row-major float64: A − shift·I ≈ Lk·Lkᵀ, exact on the pivot rows/columns. */
  lk: Float64Array;
  n: number;
  /** Rank reached (≤ the rank asked; smaller when the residual diagonal is exhausted). */
  k: number;
  pivots: number[];
  /** diag(A − shift·I − Lk·Lkᵀ) after k steps. */
  residualDiag: Float64Array;
}

/** Greedy rank-`rank` pivoted Cholesky of A − shift·I, for A [n, n] (symmetric; rows are read). */
export async function pivotedCholesky(tf: TF, a: Tensor2D, rank: number, opts: { shift?: number } = {}): Promise<PivotedCholesky> {
  const n = a.shape[0];
  const shift = opts.shift ?? 0;
  const kMax = Math.max(0, Math.min(rank, n));
  // One download of A: a row slice on tfjs-wasm would copy all of A anyway.
  const host = await a.data();
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = host[i * n + i];
  for (let i = 0; i < n; i++) d[i] -= shift;
  const lk = new Float64Array(n * kMax);
  const pivots: number[] = [];
  const chosen = new Uint8Array(n);
  let k = 0;
  for (; k < kMax; k++) {
    let p = -1;
    let best = 0;
    for (let i = 0; i < n; i++) if (!chosen[i] && d[i] > best) (best = d[i]), (p = i);
    // Residual exhausted (or not positive): the factor is as good as this rank allows.
    if (p < 0 || !Number.isFinite(best)) break;
    const row = host.subarray(p * n, (p + 1) * n);
    const piv = Math.sqrt(best);
    for (let j = 0; j < n; j++) {
      let s = row[j] - (j === p ? shift : 0);
      for (let t = 0; t < k; t++) s -= lk[j * kMax + t] * lk[p * kMax + t];
      const v = chosen[j] ? 0 : j === p ? piv : s / piv;
      lk[j * kMax + k] = v;
      d[j] -= v * v;
    }
    d[p] = 0;
    chosen[p] = 1;
    pivots.push(p);
  }
  // Compact to the rank reached.
  const out = new Float64Array(n * k);
  for (let j = 0; j < n; j++) for (let t = 0; t < k; t++) out[j * k + t] = lk[j * kMax + t];
  return { lk: out, n, k, pivots, residualDiag: d };
}

/** A symmetric positive definite approximation P of A, applied to [n, m] blocks. */
export interface Preconditioner {
  /** P⁻¹·R for R [n, m]; returns a new tensor. */
  apply(r: Tensor2D): Tensor2D;
  /** Z ~ N(0, P), [n, m] (for SLQ probes). */
  sample(m: number, seed: number): Tensor2D;
  /** log|P|, float64. */
  readonly logdet: number;
  readonly rank: number;
  readonly shift: number;
  dispose(): void;
}

/** P = I. */
export function identityPreconditioner(tf: TF, n: number): Preconditioner {
  return {
    apply: (r) => tf.clone(r),
    sample: (m, seed) => tf.randomNormal([n, m], 0, 1, 'float32', seed) as Tensor2D,
    logdet: 0,
    rank: 0,
    shift: 1,
    dispose: () => {},
  };
}

export interface PreconditionerOptions {
  /**
   * s in P = Lk·Lkᵀ + s·I. A number (e.g. the known noise σ² of K + σ²I) factors A − s·I as
   * GPyTorch factors K. 'auto' (default) factors A itself and takes s = the smallest residual
   * diagonal left among non-pivot rows (≥ σ² for K + σ²I), floored at 1e-6·mean(diag A).
   */
  shift?: number | 'auto';
}

/** Rank-k pivoted-Cholesky preconditioner of A [n, n]; rank 0 gives the identity. */
export async function pivotedCholeskyPreconditioner(
  tf: TF,
  a: Tensor2D,
  rank: number,
  opts: PreconditionerOptions = {},
): Promise<Preconditioner> {
  const n = a.shape[0];
  if (rank <= 0) return identityPreconditioner(tf, n);
  const fixed = typeof opts.shift === 'number' ? opts.shift : undefined;
  const pc = await pivotedCholesky(tf, a, rank, { shift: fixed ?? 0 });
  const { k, lk } = pc;
  let s: number;
  if (fixed !== undefined) s = fixed;
  else {
    let trace = 0;
    let minRes = Infinity;
    const chosen = new Set(pc.pivots);
    for (let i = 0; i < n; i++) {
      trace += pc.residualDiag[i];
      if (!chosen.has(i)) minRes = Math.min(minRes, pc.residualDiag[i]);
    }
    // mean(diag A) = (Σ residual + ‖Lk‖²_F)/n.
    for (let i = 0; i < lk.length; i++) trace += lk[i] * lk[i];
    const floor = 1e-6 * (trace / n);
    s = Number.isFinite(minRes) ? Math.max(minRes, floor) : floor;
  }
  if (!(s > 0)) throw new Error(`linalg/preconditioner: shift must be positive, got ${s}`);
  // C = s·I + LkᵀLk, factored in float64; W = Lk·C⁻¹ so that P⁻¹R = (R − W·(LkᵀR))/s.
  const c = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let v = 0;
      for (let r = 0; r < n; r++) v += lk[r * k + i] * lk[r * k + j];
      c[i * k + j] = v + (i === j ? s : 0);
    }
  }
  const bad = cholInPlace(c, k);
  if (bad >= 0) throw new Error('linalg/preconditioner: Woodbury core is not positive definite');
  let logdetC = 0;
  for (let i = 0; i < k; i++) logdetC += 2 * Math.log(c[i * k + i]);
  const ci = invLower(c, k); // C⁻¹ = Lc⁻ᵀ·Lc⁻¹
  const w = new Float32Array(n * k);
  const tmp = new Float64Array(k);
  for (let r = 0; r < n; r++) {
    // tmp = Lc⁻¹·lk_r; w_r = Lc⁻ᵀ·tmp.
    for (let i = 0; i < k; i++) {
      let v = 0;
      for (let j = 0; j <= i; j++) v += ci[i * k + j] * lk[r * k + j];
      tmp[i] = v;
    }
    for (let j = 0; j < k; j++) {
      let v = 0;
      for (let i = j; i < k; i++) v += ci[i * k + j] * tmp[i];
      w[r * k + j] = v;
    }
  }
  const lkT = tf.tensor2d(Float32Array.from(lk), [n, k]);
  const wT = tf.tensor2d(w, [n, k]);
  const sqrtS = Math.sqrt(s);
  return {
    apply: (r) =>
      tf.tidy(() => tf.div(tf.sub(r, tf.matMul(wT, tf.matMul(lkT, r, true, false))), s)) as Tensor2D,
    sample: (m, seed) =>
      tf.tidy(() =>
        tf.add(
          tf.matMul(lkT, tf.randomNormal([k, m], 0, 1, 'float32', seed)),
          tf.mul(tf.randomNormal([n, m], 0, 1, 'float32', seed + 1), sqrtS),
        ),
      ) as Tensor2D,
    logdet: (n - k) * Math.log(s) + logdetC,
    rank: k,
    shift: s,
    dispose: () => {
      lkT.dispose();
      wT.dispose();
    },
  };
}
