/**
 * Blocked triangular solves op(T)·X = B (op = identity or transpose) and cho_solve, for float32 tfjs.
 *
 * The inverses of the b×b diagonal blocks are formed on the host in float64 (all blocks are
 * downloaded up front — they do not depend on B — so the solve itself has no host round trip);
 * each block step is X_k = inv(T_kk)·R_k and the right-looking update R_rest −= T_rest,k·X_k, both
 * `tf.matMul` on the backend. Only the triangle named by `lower` is read. Transposed operands are
 * materialised with tf.transpose: wasm's matMul with a transpose flag measured several times slower.
 */
import type { Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import { OperatorError } from '../../core/operator/index.js';
import type { TF } from '../../core/operator/index.js';
import { batchItem, invLower, splitBatch, transposeHost } from './host.js';

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
  const parts: Tensor[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const ti = count === 1 ? tf.reshape(t, [n, n]) : batchItem(tf, t, i, n, n);
      const bi = count === 1 ? tf.reshape(b, [n, m]) : batchItem(tf, b, i, n, m);
      try {
        const inv = await diagonalInverses(tf, ti as Tensor2D, opts);
        parts.push(solveWithInverses(tf, ti as Tensor2D, bi as Tensor2D, inv, opts));
        inv.blocks.forEach((x) => x.dispose());
      } finally {
        ti.dispose();
        bi.dispose();
      }
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

interface DiagonalInverses {
  starts: number[];
  /** M_k = inverse of the lower-triangular form of the stored block (see solveWithInverses). */
  blocks: Tensor2D[];
}

/**
 * For each diagonal block S_k of the stored matrix: M_k = S_k⁻¹ when lower, (S_k⁻¹)ᵀ when upper —
 * in both cases the inverse of a lower-triangular matrix, computed in float64.
 */
async function diagonalInverses(tf: TF, t: Tensor2D, opts: TriangularOptions): Promise<DiagonalInverses> {
  const n = t.shape[0];
  const bs = Math.max(1, Math.floor(opts.blockSize ?? 128));
  const lower = opts.lower ?? true;
  const starts: number[] = [];
  for (let k0 = 0; k0 < n; k0 += bs) starts.push(k0);
  const slices = starts.map((k0) => {
    const b = Math.min(bs, n - k0);
    return tf.slice(t, [k0, k0], [b, b]);
  });
  const datas = await Promise.all(slices.map((s) => s.data()));
  slices.forEach((s) => s.dispose());
  const blocks: Tensor2D[] = [];
  starts.forEach((k0, idx) => {
    const b = Math.min(bs, n - k0);
    const raw = datas[idx];
    const h = new Float64Array(b * b);
    // The lower-triangular form: S itself (lower) or Sᵀ (upper); the other triangle is ignored.
    for (let i = 0; i < b; i++) {
      for (let j = 0; j <= i; j++) h[i * b + j] = lower ? raw[i * b + j] : raw[j * b + i];
      const d = h[i * b + i];
      if (!(d !== 0) || !Number.isFinite(d)) {
        blocks.forEach((x) => x.dispose());
        throw new OperatorError('singular', `linalg/solve_triangular: diagonal entry ${k0 + i} is ${d}`, { row: k0 + i });
      }
    }
    blocks.push(tf.tensor2d(Float32Array.from(invLower(h, b)), [b, b]));
  });
  return { starts, blocks };
}

/**
 * The block sweep. With M_k as above: inv(op(S_k)) is M_k when lower === !transpose, else M_kᵀ.
 * op(T) is lower (forward sweep) when lower !== transpose.
 */
function solveWithInverses(tf: TF, t: Tensor2D, b: Tensor2D, inv: DiagonalInverses, opts: TriangularOptions): Tensor2D {
  const lower = opts.lower ?? true;
  const transpose = opts.transpose ?? false;
  const n = t.shape[0];
  const m = b.shape[1];
  const forward = lower !== transpose;
  const transposeM = lower === transpose;
  const nb = inv.starts.length;
  if (nb === 0) return tf.clone(b);
  const xs: Tensor2D[] = new Array(nb);
  // `rem` holds the still-unsolved rows of the updated right-hand side.
  let rem: Tensor2D = b;
  try {
    for (let s = 0; s < nb; s++) {
      const k = forward ? s : nb - 1 - s;
      const k0 = inv.starts[k];
      const k1 = k + 1 < nb ? inv.starts[k + 1] : n;
      const bk = k1 - k0;
      const next: Tensor2D | null = tf.tidy((): Tensor2D | void => {
        // Forward: rem = rows k0..n (this block first); backward: rem = rows 0..k1 (this block last).
        const rk = forward ? tf.slice(rem, [0, 0], [bk, m]) : tf.slice(rem, [k0, 0], [bk, m]);
        const xk = tf.matMul(transposeM ? tf.transpose(inv.blocks[k]) : inv.blocks[k], rk) as Tensor2D;
        xs[k] = tf.keep(xk);
        if (forward) {
          if (k1 === n) return;
          // T_{>k,k}: L[k1:, k0:k1] (lower) or U[k0:k1, k1:]ᵀ (upper, transposed).
          const panel = lower ? tf.slice(t, [k1, k0], [n - k1, bk]) : tf.slice(t, [k0, k1], [bk, n - k1]);
          return tf.sub(tf.slice(rem, [bk, 0], [n - k1, m]), tf.matMul(lower ? panel : tf.transpose(panel), xk)) as Tensor2D;
        }
        if (k0 === 0) return;
        // T_{<k,k}: U[0:k0, k0:k1] (upper) or L[k0:k1, 0:k0]ᵀ (lower, transposed).
        const panel = lower ? tf.slice(t, [k0, 0], [bk, k0]) : tf.slice(t, [0, k0], [k0, bk]);
        return tf.sub(tf.slice(rem, [0, 0], [k0, m]), tf.matMul(lower ? tf.transpose(panel) : panel, xk)) as Tensor2D;
      }) ?? null;
      if (rem !== b) rem.dispose();
      if (next === null) {
        rem = b;
        break;
      }
      rem = next;
    }
    return (nb === 1 ? tf.clone(xs[0]) : tf.concat(xs, 0)) as Tensor2D;
  } finally {
    if (rem !== b) rem.dispose();
    xs.forEach((x) => x?.dispose());
  }
}
