/**
 * Small dense routines run on the host in JS doubles (float64). The linalg library keeps the
 * O(n³) work on the tfjs backend (tf.matMul) and only ever hands these routines b×b blocks
 * (b ≈ 128), k×k preconditioner cores or Lanczos tridiagonals, so each call is cheap while the
 * pivots, inverses and reductions that decide accuracy are done in float64.
 * Matrices are row-major Float64Arrays.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { OperatorError } from '../../core/operator/index.js';
import type { TF } from '../../core/operator/index.js';

/**
 * In-place lower Cholesky of an n×n matrix (reads the lower triangle, zeroes the upper one).
 * Returns -1 on success, or the index of the first row whose pivot is not positive and finite.
 * Dot-product (left-looking) form so every inner loop runs over contiguous memory.
 */
export function cholInPlace(a: Float64Array, n: number): number {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j];
    for (let k = 0; k < j; k++) d -= a[rj + k] * a[rj + k];
    if (!(d > 0) || !Number.isFinite(d)) return j;
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
      a[ri + j] = s / ljj;
    }
    for (let k = j + 1; k < n; k++) a[rj + k] = 0;
  }
  return -1;
}

/** Inverse of an n×n lower-triangular matrix (upper triangle ignored), by column substitution. */
export function invLower(l: Float64Array, n: number): Float64Array {
  const x = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    x[j * n + j] = 1 / l[j * n + j];
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      const ri = i * n;
      for (let k = j; k < i; k++) s -= l[ri + k] * x[k * n + j];
      x[ri + j] = s / l[ri + i];
    }
  }
  return x;
}

/** Transpose of an r×c row-major matrix. */
export function transposeHost(a: Float64Array | Float32Array, r: number, c: number): Float64Array {
  const t = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = a[i * c + j];
  return t;
}

/**
 * Eigenvalues of a symmetric tridiagonal matrix (diagonal `d`, off-diagonal `e`, e[i] couples
 * i and i+1) and the first component of each unit eigenvector — all Gauss quadrature needs
 * (Golub & Welsch 1969). Implicit QL with Wilkinson shifts (the `tqli` of Numerical Recipes),
 * rotating only the first row of the eigenvector matrix.
 */
export function tridiagEigFirst(d0: ArrayLike<number>, e0: ArrayLike<number>): { values: Float64Array; first: Float64Array } {
  const n = d0.length;
  const d = Float64Array.from(d0);
  const e = new Float64Array(n);
  for (let i = 0; i < n - 1; i++) e[i] = e0[i];
  const z = new Float64Array(n);
  if (n > 0) z[0] = 1;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    let m: number;
    do {
      for (m = l; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= Number.EPSILON * dd) break;
      }
      if (m !== l) {
        if (iter++ === 100) throw new Error('linalg/tridiagEigFirst: QL iteration did not converge');
        let g = (d[l + 1] - d[l]) / (2 * e[l]);
        let r = Math.hypot(g, 1);
        g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
        let s = 1;
        let c = 1;
        let p = 0;
        let i: number;
        for (i = m - 1; i >= l; i--) {
          let f = s * e[i];
          const b = c * e[i];
          r = Math.hypot(f, g);
          e[i + 1] = r;
          if (r === 0) {
            d[i + 1] -= p;
            e[m] = 0;
            break;
          }
          s = f / r;
          c = g / r;
          g = d[i + 1] - p;
          r = (d[i] - g) * s + 2 * c * b;
          p = s * r;
          d[i + 1] = g + p;
          g = c * r - b;
          f = z[i + 1];
          z[i + 1] = s * z[i] + c * f;
          z[i] = c * z[i] - s * f;
        }
        if (r === 0 && i >= l) continue;
        d[l] -= p;
        e[l] = g;
        e[m] = 0;
      }
    } while (m !== l);
  }
  return { values: d, first: z };
}

/** Σ log xᵢ accumulated in float64 (Kahan-compensated), from float32 or float64 values. */
export function sumLog(values: ArrayLike<number>): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < values.length; i++) {
    const y = Math.log(values[i]) - c;
    const t = s + y;
    c = t - s - y;
    s = t;
  }
  return s;
}

/** Leading (batch) dims and the trailing matrix dims of a shape. */
export function splitBatch(shape: number[], trailing: number): { batch: number[]; count: number } {
  const batch = shape.slice(0, shape.length - trailing);
  return { batch, count: batch.reduce((p, d) => p * d, 1) };
}

/**
 * Throws `non_finite_input` when `t` holds a NaN or ±Inf. One scalar download: Σ 0·tᵢ is 0 for
 * finite entries and NaN otherwise, with no overflow (tf.max would skip NaN on some backends).
 */
export async function assertFinite(tf: TF, t: Tensor, what: string, where: string): Promise<void> {
  const s = tf.tidy(() => tf.sum(tf.mul(t, 0)));
  const v = (await s.data())[0];
  s.dispose();
  if (!Number.isFinite(v)) {
    throw new OperatorError('non_finite_input', `${where}: ${what} contains NaN or Inf`, { input: what });
  }
}

/** Throws when the run was cancelled. */
export function checkAbort(signal: AbortSignal | undefined, where: string): void {
  if (signal?.aborted) throw new OperatorError('cancelled', `${where}: cancelled`);
}
