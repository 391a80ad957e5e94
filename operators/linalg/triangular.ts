/**
 * Blocked triangular solves op(T)·X = B (op = identity or transpose) and cho_solve, for float32 tfjs.
 *
 * T and B are downloaded once; the inverses of the b×b diagonal blocks are formed on the host in
 * float64, and each block step X_k = T_kk⁻¹·(B_k − T_k,solved·X_solved) is two `tf.matMul`s on the
 * backend (left-looking, so the sweep never waits on the host). Only the triangle named by `lower`
 * is read.
 */
import type { Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import { OperatorError } from '../../core/operator/index.js';
import { lapackHook, type LapackHook } from './lapack-hook.js';
import type { TF } from '../../core/operator/index.js';
import { invLower, splitBatch, transposeHost } from './host.js';

export interface TriangularOptions {
  /** T is lower triangular (default true); otherwise upper. */
  lower?: boolean;
  /** Solve with Tᵀ instead of T (default false). */
  transpose?: boolean;
  /** Block size b (default 128). */
  blockSize?: number;
}

/**
 * Solves op(T)·X = B for T [..., n, n] and B [..., n, m] (or [..., n], a vector per matrix);
 * batch dims must be equal. Throws OperatorError `singular` on a zero or non-finite diagonal.
 */
export async function solveTriangular(tf: TF, t: Tensor, b: Tensor, opts: TriangularOptions = {}): Promise<Tensor> {
  const n = t.shape[t.shape.length - 1];
  const vector = b.shape.length === t.shape.length - 1;
  const bShape = vector ? [...b.shape, 1] : b.shape;
  checkShapes(t.shape, bShape, 'linalg/solve_triangular');
  const m = bShape[bShape.length - 1];
  const { count } = splitBatch(t.shape, 2);
  // T and B are read once: tfjs-wasm's slice copies its whole input, so blocks come from the host.
  const [th, bh] = await Promise.all([t.data(), b.data()]);
  const lapack = lapackHook(tf);
  const parts: Tensor[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const ti = th.subarray(i * n * n, (i + 1) * n * n) as Float32Array;
      const bi = bh.subarray(i * n * m, (i + 1) * n * m) as Float32Array;
      parts.push(lapack ? solveWithLapack(tf, lapack, ti, n, bi, m, opts) : solveHost(tf, ti, n, bi, m, opts));
    }
    return tf.tidy(() => tf.reshape(count === 1 ? parts[0] : tf.stack(parts), b.shape));
  } finally {
    parts.forEach((p) => p.dispose());
  }
}

/** Solves A·X = B given the Cholesky factor L of A (A = LLᵀ): X = L⁻ᵀ(L⁻¹B). */
export async function choSolve(tf: TF, l: Tensor, b: Tensor, opts: { blockSize?: number } = {}): Promise<Tensor> {
  const y = await solveTriangular(tf, l, b, { lower: true, transpose: false, blockSize: opts.blockSize });
  try {
    return await solveTriangular(tf, l, y, { lower: true, transpose: true, blockSize: opts.blockSize });
  } finally {
    y.dispose();
  }
}

function checkShapes(ts: number[], bs: number[], where: string): void {
  const r = ts.length;
  if (r < 2 || ts[r - 1] !== ts[r - 2]) throw new OperatorError('bad_shape', `${where}: T must be [..., n, n], got [${ts}]`);
  if (bs.length !== r || bs[r - 2] !== ts[r - 1] || bs.slice(0, r - 2).some((d, i) => d !== ts[i])) {
    throw new OperatorError('bad_shape', `${where}: B [${bs}] does not match T [${ts}]`);
  }
}

/**
 * Blocked left-looking substitution for one matrix held on the host (row-major, stored triangle
 * `lower`). With T = op(S): when T is lower (lower !== transpose) blocks are solved first to last,
 *   X_k = T_kk⁻¹ · (B_k − T_k,<k · X_<k),
 * otherwise last to first with T_k,>k · X_>k. T_kk⁻¹ is formed on the host in float64; the products
 * run on the backend, and the sweep has no host round trip.
 */
/** The same solve through LAPACK's trsm, with the same `singular` check on the diagonal. */
function solveWithLapack(tf: TF, lapack: LapackHook, s: Float32Array, n: number, bh: Float32Array, m: number, opts: TriangularOptions): Tensor2D {
  for (let i = 0; i < n; i++) {
    const d = s[i * n + i];
    if (d === 0 || !Number.isFinite(d)) throw new OperatorError('singular', `linalg/solve_triangular: diagonal entry ${i} is ${d}`, { row: i });
  }
  const x = lapack.solveTriangular(s, bh, n, m, { lower: opts.lower ?? true, transpose: opts.transpose ?? false });
  return tf.tensor2d(x, [n, m]);
}

export function solveHost(
  tf: TF,
  s: ArrayLike<number>,
  n: number,
  bh: Float32Array,
  m: number,
  opts: TriangularOptions = {},
): Tensor2D {
  const bs = Math.max(1, Math.floor(opts.blockSize ?? 128));
  const lower = opts.lower ?? true;
  const transpose = opts.transpose ?? false;
  const forward = lower !== transpose;
  // T[i][j] = S[i][j] without transpose, S[j][i] with it; only the stored triangle is read.
  const at = transpose ? (i: number, j: number) => s[j * n + i] : (i: number, j: number) => s[i * n + j];
  const starts: number[] = [];
  for (let k0 = 0; k0 < n; k0 += bs) starts.push(k0);
  const nb = starts.length;
  if (nb === 0) return tf.tensor2d(bh, [n, m]);
  const xs: Tensor2D[] = new Array(nb);
  try {
    for (let step = 0; step < nb; step++) {
      const k = forward ? step : nb - 1 - step;
      const k0 = starts[k];
      const k1 = Math.min(n, k0 + bs);
      const b = k1 - k0;
      // inv(T_kk) in float64: T_kk is lower when forward; an upper T_kk is inverted as (T_kkᵀ)⁻¹ᵀ.
      const h = new Float64Array(b * b);
      for (let i = 0; i < b; i++) {
        for (let j = 0; j <= i; j++) h[i * b + j] = forward ? at(k0 + i, k0 + j) : at(k0 + j, k0 + i);
        const d = h[i * b + i];
        if (!(d !== 0) || !Number.isFinite(d)) {
          throw new OperatorError('singular', `linalg/solve_triangular: diagonal entry ${k0 + i} is ${d}`, { row: k0 + i });
        }
      }
      const invL = invLower(h, b);
      const inv = Float32Array.from(forward ? invL : transposeHost(invL, b, b));
      // The already-solved rows: 0..k0 (forward) or k1..n (backward).
      const [c0, c1] = forward ? [0, k0] : [k1, n];
      const coupling = new Float32Array(b * (c1 - c0));
      for (let i = 0; i < b; i++) for (let j = c0; j < c1; j++) coupling[i * (c1 - c0) + j - c0] = at(k0 + i, j);
      xs[k] = tf.tidy(() => {
        let r: Tensor2D = tf.tensor2d(bh.subarray(k0 * m, k1 * m), [b, m]);
        if (c1 > c0) {
          const solved = forward ? xs.slice(0, k) : xs.slice(k + 1);
          const xPrev = solved.length === 1 ? solved[0] : tf.concat(solved, 0);
          r = tf.sub(r, tf.matMul(tf.tensor2d(coupling, [b, c1 - c0]), xPrev));
        }
        return tf.matMul(tf.tensor2d(inv, [b, b]), r);
      });
    }
    return (nb === 1 ? tf.clone(xs[0]) : tf.concat(xs, 0)) as Tensor2D;
  } finally {
    xs.forEach((x) => x?.dispose());
  }
}
