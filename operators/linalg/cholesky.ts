/**
 * Blocked right-looking Cholesky A = L·Lᵀ for float32 tfjs, with a jitter policy.
 *
 * Per block column k (size b): the b×b diagonal block of the trailing matrix is downloaded and
 * factored on the host in float64 (`cholInPlace`), its inverse is formed there too; the panel
 * L21 = A21·L11⁻ᵀ and the trailing update A22 −= L21·L21ᵀ are `tf.matMul`s on the active backend.
 * Only the lower triangle of A is read.
 *
 * Why the panel uses the inverse of L11 rather than a host triangular solve: the panel is
 * (n−k)×b, so a host solve costs O(n·b²) JS flops per block (O(n²b) in all, seconds at n = 2048),
 * while the matmul with inv(L11)ᵀ runs on the backend; L11 is a well-scaled Cholesky block whose
 * inverse is formed in float64 and rounded once, which measures as accurate as LAPACK's spotrf
 * (see shared/reference/gp.md, "blk32_h64").
 *
 * Jitter policy (GPyTorch's psd_safe_cholesky, made deterministic and reported): "auto" tries no
 * jitter, then 1e-6·mean(diag A), ×10 per retry up to 1e-3·mean(diag A); a number is applied once.
 * Jitter is added to the diagonal blocks on the host in float64 just before they are factored,
 * which equals factoring A + jitter·I. The last failure throws `not_psd` with the first failing row.
 */
import type { Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import { OperatorError } from '../../core/operator/index.js';
import type { TF } from '../../core/operator/index.js';
import { batchItem, checkAbort, cholInPlace, invLower, splitBatch, transposeHost } from './host.js';

export type JitterSpec = 'auto' | number;

export interface CholeskyOptions {
  /** 'auto' (default) or a fixed jitter added once to the diagonal. */
  jitter?: JitterSpec;
  /** Block size b (default 128). */
  blockSize?: number;
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
  const out = new Float32Array(count * n * n);
  const infos: CholeskyInfo[] = [];
  for (let i = 0; i < count; i++) {
    const m = count === 1 ? a : batchItem(tf, a, i, n, n);
    try {
      const { l, info } = await choleskyMatrix(tf, m as Tensor2D, opts, count === 1 ? undefined : i);
      out.set(l, i * n * n);
      infos.push(info);
    } finally {
      if (m !== a) m.dispose();
    }
  }
  return {
    l: tf.tensor(out, shape, 'float32'),
    infos,
    jitterUsed: Math.max(...infos.map((x) => x.jitter_used)),
  };
}

/** Cholesky of one [n,n] matrix; the factor is returned as a host Float32Array (row-major). */
export async function choleskyMatrix(
  tf: TF,
  a: Tensor2D,
  opts: CholeskyOptions = {},
  batchIndex?: number,
): Promise<{ l: Float32Array; info: CholeskyInfo }> {
  const n = a.shape[0];
  const bs = Math.max(1, Math.floor(opts.blockSize ?? 128));
  const host = await a.data();
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += host[i * n + i];
  meanDiag /= n;
  for (let i = 0; i < n; i++) {
    // Only the lower triangle is read, so only it must be finite.
    for (let j = 0; j <= i; j++) {
      if (!Number.isFinite(host[i * n + j])) {
        throw new OperatorError('non_finite_input', `linalg/cholesky: A[${i},${j}] is ${host[i * n + j]}`, {
          row: i,
          col: j,
          ...(batchIndex === undefined ? {} : { batchIndex }),
        });
      }
    }
  }
  const schedule = jitterSchedule(opts.jitter ?? 'auto', meanDiag);
  const tried: number[] = [];
  let failedRow = -1;
  for (const jitter of schedule) {
    tried.push(jitter);
    const res = await factorOnce(tf, a, host, n, bs, jitter, opts.signal);
    if ('l' in res) {
      return { l: res.l, info: { jitter_used: jitter, jitter_tried: tried, n, block_size: bs } };
    }
    failedRow = res.failedRow;
  }
  throw new OperatorError(
    'not_psd',
    `linalg/cholesky: matrix is not positive definite: pivot of row ${failedRow} is not positive ` +
      `with jitter ${tried[tried.length - 1]} (tried ${tried.join(', ')}); increase noise/jitter or standardise inputs`,
    { row: failedRow, jitterTried: tried, ...(batchIndex === undefined ? {} : { batchIndex }) },
  );
}

/** One attempt at a fixed jitter: the factor, or the first row whose pivot failed. */
async function factorOnce(
  tf: TF,
  a: Tensor2D,
  host: Float32Array | Int32Array | Uint8Array,
  n: number,
  bs: number,
  jitter: number,
  signal: AbortSignal | undefined,
): Promise<{ l: Float32Array } | { failedRow: number }> {
  const L = new Float32Array(n * n);
  let trailing: Tensor2D = a;
  try {
    for (let k0 = 0; k0 < n; k0 += bs) {
      checkAbort(signal, 'linalg/cholesky');
      const b = Math.min(bs, n - k0);
      const rest = n - k0 - b;
      // The first diagonal block comes straight from the downloaded input.
      let blk: ArrayLike<number>;
      let ld: number;
      if (k0 === 0) {
        blk = host;
        ld = n;
      } else {
        const t = tf.slice(trailing, [0, 0], [b, b]);
        blk = await t.data();
        t.dispose();
        ld = b;
      }
      const h = new Float64Array(b * b);
      for (let i = 0; i < b; i++) for (let j = 0; j <= i; j++) h[i * b + j] = blk[i * ld + j];
      for (let i = 0; i < b; i++) h[i * b + i] += jitter;
      const bad = cholInPlace(h, b);
      if (bad >= 0) return { failedRow: k0 + bad };
      for (let i = 0; i < b; i++) for (let j = 0; j <= i; j++) L[(k0 + i) * n + k0 + j] = h[i * b + j];
      if (rest === 0) break;

      const inv = tf.tensor2d(Float32Array.from(transposeHost(invLower(h, b), b, b)), [b, b]);
      const l21 = tf.tidy(() => tf.matMul(tf.slice(trailing, [b, 0], [rest, b]), inv));
      inv.dispose();
      const l21h = await l21.data();
      for (let i = 0; i < rest; i++) {
        const row = (k0 + b + i) * n + k0;
        for (let j = 0; j < b; j++) {
          const v = l21h[i * b + j];
          // A non-finite panel entry means a later pivot would be garbage: report this block's row.
          if (!Number.isFinite(v)) {
            l21.dispose();
            return { failedRow: k0 + b - 1 };
          }
          L[row + j] = v;
        }
      }
      // Explicit transpose: wasm's matMul with transpose_b measured ~5× slower than on a transposed copy.
      const next = tf.tidy(() =>
        tf.sub(tf.slice(trailing, [b, b], [rest, rest]), tf.matMul(l21, tf.transpose(l21))),
      ) as Tensor2D;
      l21.dispose();
      if (trailing !== a) trailing.dispose();
      trailing = next;
    }
  } finally {
    if (trailing !== a) trailing.dispose();
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
  for (let b = 0; b < count; b++) {
    let s = 0;
    let c = 0;
    for (let i = 0; i < n; i++) {
      const y = Math.log(d[b * n + i]) - c;
      const t = s + y;
      c = t - s - y;
      s = t;
    }
    out.push(2 * s);
  }
  return out;
}
