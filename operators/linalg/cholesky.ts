/**
 * Blocked right-looking Cholesky A = L·Lᵀ for float32 tfjs, with a jitter policy.
 *
 * Per block column k (size b): the b×b diagonal block of the trailing matrix is factored on the
 * host in float64 (`cholInPlace`), the panel L21 = A21·L11⁻ᵀ is solved there too (O(n·b²) per
 * block), and the trailing product L21·L21ᵀ — the O(n³) part — is a `tf.matMul` on the active
 * backend. The trailing matrix is held on the host in float64 between block steps (the downloaded
 * product is subtracted there), because tfjs has no in-place update and tfjs-wasm's slice copies
 * its whole input: slicing the device matrix per block cost as much as the matmuls. So the only
 * float32 steps are the storage of L and the matmuls' accumulation, which is kept short by
 * multiplying `innerBlock` (32) columns at a time. Only the lower triangle of A is read.
 *
 * Jitter policy (GPyTorch's psd_safe_cholesky, made deterministic and reported): "auto" tries no
 * jitter, then 1e-6·mean(diag A), ×10 per retry up to 1e-3·mean(diag A); a number is applied once.
 * Jitter is added to the diagonal blocks on the host in float64 just before they are factored,
 * which equals factoring A + jitter·I. The last failure throws `not_psd` with the first failing row.
 */
import type { Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import { OperatorError } from '../../core/operator/index.js';
import { lapackHook, type LapackHook } from './lapack-hook.js';
import type { TF } from '../../core/operator/index.js';
import { checkAbort, cholInPlace, splitBatch, sumLog } from './host.js';

export type JitterSpec = 'auto' | number;

export interface CholeskyOptions {
  /** 'auto' (default) or a fixed jitter added once to the diagonal. */
  jitter?: JitterSpec;
  /** Block size b (default 128). */
  blockSize?: number;
  /**
   * Columns of L21 per float32 matmul in the trailing update (default 32, ≤ b); the partial
   * products are summed in float64 on the host. Smaller is more accurate and slower.
   */
  innerBlock?: number;
  signal?: AbortSignal;
}

/** Facts about one factorisation. */
export interface CholeskyInfo {
  /** Jitter actually added to the diagonal (0 when none was needed). */
  jitter_used: number;
  /** Every jitter value tried, in order. */
  jitter_tried: number[];
  n: number;
  block_size: number;
  inner_block: number;
}

export interface CholeskyResult {
  /** Lower factor, same shape as A (upper triangle zero). */
  l: Tensor;
  /** One entry per matrix of the batch (one entry when A is [n,n]). */
  infos: CholeskyInfo[];
  /** Largest jitter used over the batch. */
  jitterUsed: number;
}

const AUTO_FACTORS = [0, 1e-6, 1e-5, 1e-4, 1e-3];

/** The jitter schedule for a matrix whose diagonal has mean `meanDiag`. */
export function jitterSchedule(spec: JitterSpec, meanDiag: number): number[] {
  if (spec === 'auto') {
    const scale = Number.isFinite(meanDiag) && meanDiag > 0 ? meanDiag : Math.abs(meanDiag) || 1;
    return AUTO_FACTORS.map((f) => f * scale);
  }
  return [spec];
}

/**
 * Cholesky factor of A [..., n, n] (loops over batch dims). Throws OperatorError `not_psd`
 * ({row, jitterTried, batchIndex}) or `non_finite_input`; never returns NaNs.
 */
export async function choleskyFactor(tf: TF, a: Tensor, opts: CholeskyOptions = {}): Promise<CholeskyResult> {
  const shape = a.shape;
  if (shape.length < 2 || shape[shape.length - 1] !== shape[shape.length - 2]) {
    throw new OperatorError('bad_shape', `linalg/cholesky: expected [..., n, n], got [${shape.join(',')}]`);
  }
  const n = shape[shape.length - 1];
  const { count } = splitBatch(shape, 2);
  // One download for the whole batch: tfjs-wasm's slice copies its entire input, so per-matrix
  // (and per-block) slicing of device tensors would cost O(size of A) each time.
  const all = await a.data();
  const infos: CholeskyInfo[] = [];
  let out: Float32Array | undefined;
  for (let i = 0; i < count; i++) {
    const host = all.subarray(i * n * n, (i + 1) * n * n) as Float32Array;
    const { l, info } = await choleskyHost(tf, host, n, opts, count === 1 ? undefined : i);
    infos.push(info);
    if (count === 1) out = l; // a single matrix: its factor is the result, no copy
    else (out ??= new Float32Array(count * n * n)).set(l, i * n * n);
  }
  return {
    l: tf.tensor(out ?? new Float32Array(0), shape, 'float32'),
    infos,
    jitterUsed: Math.max(...infos.map((x) => x.jitter_used)),
  };
}

/**
 * Cholesky of one n×n matrix given as row-major host values (only the lower triangle is read);
 * the factor comes back as a host Float32Array.
 */
export async function choleskyHost(
  tf: TF,
  host: ArrayLike<number>,
  n: number,
  opts: CholeskyOptions = {},
  batchIndex?: number,
): Promise<{ l: Float32Array; info: CholeskyInfo }> {
  const bs = Math.max(1, Math.floor(opts.blockSize ?? 128));
  const inner = Math.max(1, Math.min(bs, Math.floor(opts.innerBlock ?? 32)));
  const where = batchIndex === undefined ? {} : { batchIndex };
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += host[i * n + i];
  meanDiag /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      if (!Number.isFinite(host[i * n + j])) {
        throw new OperatorError('non_finite_input', `linalg/cholesky: A[${i},${j}] is ${host[i * n + j]}`, {
          row: i,
          col: j,
          ...where,
        });
      }
    }
  }
  const schedule = jitterSchedule(opts.jitter ?? 'auto', meanDiag);
  const tried: number[] = [];
  let failedRow = -1;
  const lapack = lapackHook(tf);
  for (const jitter of schedule) {
    tried.push(jitter);
    const res = lapack ? factorWithLapack(lapack, host, n, jitter) : await factorOnce(tf, host, n, bs, inner, jitter, opts.signal);
    if ('l' in res) {
      return { l: res.l, info: { jitter_used: jitter, jitter_tried: tried, n, block_size: bs, inner_block: inner } };
    }
    failedRow = res.failedRow;
  }
  throw new OperatorError(
    'not_psd',
    `linalg/cholesky: matrix is not positive definite: pivot of row ${failedRow} is not positive ` +
      `with jitter ${tried[tried.length - 1]} (tried ${tried.join(', ')}); increase noise/jitter or standardise inputs`,
    { row: failedRow, jitterTried: tried, ...where },
  );
}

/** Cholesky of one [n, n] tensor; the factor is returned as a host Float32Array (row-major). */
export async function choleskyMatrix(
  tf: TF,
  a: Tensor2D,
  opts: CholeskyOptions = {},
): Promise<{ l: Float32Array; info: CholeskyInfo }> {
  return choleskyHost(tf, await a.data(), a.shape[0], opts);
}

/** One attempt at a fixed jitter through LAPACK (double precision inside). */
function factorWithLapack(lapack: LapackHook, host: ArrayLike<number>, n: number, jitter: number): { l: Float32Array } | { failedRow: number } {
  // The jitter is added inside (in float64): no n² copy of A, which at n = 4096 cost more in
  // page faults than the factorisation.
  const a = host instanceof Float32Array ? host : Float32Array.from(host);
  const { l, info } = lapack.cholesky(a, n, jitter);
  // LAPACK's info is the order of the first leading minor that is not positive definite.
  return info === 0 ? { l } : { failedRow: info - 1 };
}

/**
 * One attempt at a fixed jitter: the factor, or the first row whose pivot failed.
 * Host work per block is O(b³ + (n−k)·b² + (n−k)²); the O(n³) flops are all in tf.matMul.
 */
async function factorOnce(
  tf: TF,
  host: ArrayLike<number>,
  n: number,
  bs: number,
  inner: number,
  jitter: number,
  signal: AbortSignal | undefined,
): Promise<{ l: Float32Array } | { failedRow: number }> {
  const L = new Float32Array(n * n);
  const work = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) work[i * n + j] = host[i * n + j];
  for (let k0 = 0; k0 < n; k0 += bs) {
    checkAbort(signal, 'linalg/cholesky');
    const b = Math.min(bs, n - k0);
    const k1 = k0 + b;
    const rest = n - k1;
    const h = new Float64Array(b * b);
    for (let i = 0; i < b; i++) for (let j = 0; j <= i; j++) h[i * b + j] = work[(k0 + i) * n + k0 + j];
    for (let i = 0; i < b; i++) h[i * b + i] += jitter;
    const bad = cholInPlace(h, b);
    if (bad >= 0) return { failedRow: k0 + bad };
    for (let i = 0; i < b; i++) for (let j = 0; j <= i; j++) L[(k0 + i) * n + k0 + j] = h[i * b + j];
    if (rest === 0) break;

    // Panel L21 = A21·L11⁻ᵀ by forward substitution on the host in float64, from the float64
    // trailing matrix. (Multiplying by an explicit inverse of L11 on the backend was measured
    // worse: its float32 error grows with cond(L11), i.e. with the block size — RBF GP means at
    // n = 2000, σ² = 1e-4 were 3× less accurate.) Cost O((n−k)·b²) per block, O(n²·b) in all.
    const row = new Float64Array(b);
    for (let i = 0; i < rest; i++) {
      const w = (k1 + i) * n + k0;
      for (let j = 0; j < b; j++) {
        let v = work[w + j];
        const hj = j * b;
        for (let t = 0; t < j; t++) v -= h[hj + t] * row[t];
        row[j] = v / h[hj + j];
      }
      for (let j = 0; j < b; j++) {
        if (!Number.isFinite(row[j])) return { failedRow: k1 - 1 };
        L[w + j] = row[j];
      }
    }
    // Trailing update A22 −= L21·L21ᵀ, as float32 matmuls over `inner` columns of L21 at a time,
    // each product summed into the float64 trailing matrix on the host. The float32 accumulation
    // inside the matmul is the dominant error of the whole factorisation (RBF GP mean at n = 2000,
    // σ² = 1e-4: 4.0e-3 with 128 columns per product, 1.9e-3 with 32, 8e-4 with 8), so the chunk
    // trades transfers for accuracy.
    for (let c0 = 0; c0 < b; c0 += inner) {
      const cb = Math.min(inner, b - c0);
      const chunk = new Float32Array(rest * cb);
      for (let i = 0; i < rest; i++) {
        const o = (k1 + i) * n + k0 + c0;
        for (let j = 0; j < cb; j++) chunk[i * cb + j] = L[o + j];
      }
      const g = tf.tidy(() => {
        const p = tf.tensor2d(chunk, [rest, cb]);
        // Explicit transpose: wasm's matMul with transpose_b measured ~5× slower than on a transposed copy.
        return tf.matMul(p, tf.transpose(p));
      });
      const gh = await g.data();
      g.dispose();
      for (let i = 0; i < rest; i++) {
        const w = (k1 + i) * n + k1;
        const gi = i * rest;
        for (let j = 0; j <= i; j++) work[w + j] -= gh[gi + j];
      }
    }
  }
  return { l: L };
}

/** log|A| = 2 Σ log Lᵢᵢ from a factor [..., n, n], summed in float64 on the host; one value per matrix. */
export async function logdetFromFactor(tf: TF, l: Tensor): Promise<number[]> {
  const n = l.shape[l.shape.length - 1];
  const { count } = splitBatch(l.shape, 2);
  const diag = tf.tidy(() => {
    const flat = tf.reshape(l, [count, n * n]);
    const idx = tf.tensor1d(Array.from({ length: n }, (_, i) => i * (n + 1)), 'int32');
    return tf.gather(flat, idx, 1);
  });
  const d = await diag.data();
  diag.dispose();
  const out: number[] = [];
  for (let b = 0; b < count; b++) out.push(2 * sumLog(d.subarray(b * n, (b + 1) * n)));
  return out;
}
