/**
 * linalg/eigh — symmetric eigendecomposition A = V·diag(λ)·Vᵀ, eigenvalues sorted, for the
 * gradient-descent predictions e^{−ηΛt} of kernel regression (see shared/reference/kernels.md).
 *
 * Algorithm (the LAPACK `dsyevd` pipeline, split between the host and the tfjs backend):
 *  1. Householder tridiagonalisation Qᵀ A Q = T on the host in float64 (`dsytd2`): (4/3)n³ flops,
 *     symmetric rank-2 updates on the lower triangle only. This is the one O(n³) step in plain JS.
 *  2. Cuppen's divide and conquer on T (`dstedc`/`dlaed*`): T splits into two halves plus a rank-one
 *     term ρvvᵀ; each half is solved recursively (leaves by implicit QL, `tql2`, float64); the merge
 *     solves the secular equation 1 + ρ Σ zᵢ²/(dᵢ − λ) = 0 in float64 with a two-pole rational model
 *     (Bunch–Nielsen–Sorensen), deflates small zᵢ and close poles (Givens), and recomputes z by
 *     Gu–Eisenstat's formula so the merged eigenvectors are orthogonal to working precision. The
 *     O(n³) part of each merge — blockdiag(Q₁,Q₂)·U — is a tf.matMul on the backend (float32).
 *  3. Back-transformation V = Q·Z with blocked compact-WY reflectors (`dormtr`/`dlarft`): 2n³ flops,
 *     all of it tf.matMul on the backend.
 * Cost: (4/3)n³ host flops + ≈ (2 + 4/3)n³ backend flops at worst (deflation usually removes much
 * of the merge work for kernel matrices, whose spectra decay fast). Measured on a 2-core AMD EPYC
 * (wasm backend): see bench/RESULTS.md (`## linalg`).
 *
 * Accuracy: the host stages are float64, so the result is limited by float32 storage of A and V and
 * by the float32 matmuls of steps 2–3. Measured (wasm): ‖A − VΛVᵀ‖_F/‖A‖_F = 7e-7 and
 * max|VᵀV − I| = 6e-7 at n = 500 (random symmetric; 2e-7 / 7e-7 for an RBF kernel), 1.1e-6 / 1.1e-6
 * at n = 2000. The tests assert both ≤ n·ε₃₂ (ε₃₂ = 2⁻²³; 6e-5 at n = 500). Eigenvalues are accurate
 * to ≈ ε₃₂‖A‖₂ in absolute terms (backward stability), not relatively: the tiny eigenvalues of a
 * kernel matrix are noise at that level, which is why the predictions clamp Λ ≥ 0.
 * Time (2-core EPYC, wasm): n = 500 ≈ 0.5 s, n = 1000 ≈ 2 s, n = 2000 ≈ 15–30 s, most of it the
 * host tridiagonalisation; numpy (OpenBLAS) is ≈ 10–20× faster (bench/RESULTS.md).
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import type { TF } from '../../core/operator/context.js';
import { OperatorError } from '../../core/operator/errors.js';
import { lapackHook } from './lapack-hook.js';

const EPS = 2 ** -52;

export interface EighOptions {
  /** Eigenvalue order of the result (ascending by default). */
  order?: 'ascending' | 'descending';
  /** Use (A + Aᵀ)/2 (default); when false only the lower triangle of A is read. */
  symmetrize?: boolean;
  /** Sub-problems up to this size are solved by implicit QL on the host (default 64). */
  leafSize?: number;
  /** Reflectors per compact-WY block in the back-transformation (default 64). */
  blockSize?: number;
}

export interface EighStats {
  n: number;
  batch: number;
  algorithm: string;
  /** Fraction of merge eigenpairs deflated (no secular root needed), over all merges. */
  deflated_fraction: number;
  /** Most iterations any secular-equation root needed. */
  secular_iterations_max: number;
  /** Milliseconds per stage, summed over the batch. */
  ms: { tridiagonal: number; divide_conquer: number; back_transform: number };
}

export interface EighResult {
  /** Eigenvalues [..., n], sorted. */
  values: Tensor;
  /** Eigenvectors as columns [..., n, n]: A·V[:, i] = λᵢ V[:, i]. */
  vectors: Tensor;
  stats: EighStats;
}

interface Counters {
  merged: number;
  deflated: number;
  secularMax: number;
}

/** Symmetric eigendecomposition of a [..., n, n] tensor; see the file header for the algorithm. */
export async function eigh(tf: TF, a: Tensor, options: EighOptions = {}): Promise<EighResult> {
  const { order = 'ascending', symmetrize = true, leafSize = 64, blockSize = 64 } = options;
  const shape = a.shape;
  if (shape.length < 2 || shape[shape.length - 1] !== shape[shape.length - 2]) {
    throw new OperatorError('bad_shape', `linalg/eigh: expected a [..., n, n] matrix, got [${shape.join(',')}]`);
  }
  const n = shape[shape.length - 1];
  const batchShape = shape.slice(0, -2);
  const batch = batchShape.reduce((p, d) => p * d, 1);
  const data = await a.data();
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new OperatorError('non_finite_input', 'linalg/eigh: the matrix has a non-finite entry', { index: i, value: String(data[i]) });
    }
  }
  // The native backend's LAPACK dsyevd (float64 inside) replaces the host implementation when present.
  const hook = lapackHook(tf);
  const lapackEigh = hook?.eigh?.bind(hook);
  const counters: Counters = { merged: 0, deflated: 0, secularMax: 0 };
  const ms = { tridiagonal: 0, divide_conquer: 0, back_transform: 0 };
  const values = new Float32Array(batch * n);
  const vectorParts: Tensor[] = [];
  try {
    for (let b = 0; b < batch; b++) {
      const A = new Float64Array(n * n);
      const off = b * n * n;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j <= i; j++) {
          const v = symmetrize ? 0.5 * (data[off + i * n + j] + data[off + j * n + i]) : data[off + i * n + j];
          A[i * n + j] = v;
          A[j * n + i] = v;
        }
      }
      const { lambda, vectors } = lapackEigh ? eighLapack(tf, lapackEigh, A, n) : await eighOne(tf, A, n, leafSize, blockSize, counters, ms);
      for (let i = 0; i < n; i++) values[b * n + i] = order === 'ascending' ? lambda[i] : lambda[n - 1 - i];
      if (order === 'descending') {
        vectorParts.push(tf.reverse(vectors, 1));
        vectors.dispose();
      } else vectorParts.push(vectors);
    }
    const vectors = tf.tidy(() => (batch === 1 && batchShape.length === 0 ? vectorParts[0].clone() : tf.reshape(tf.stack(vectorParts), shape)));
    return {
      values: tf.tensor(values, [...batchShape, n], 'float32'),
      vectors,
      stats: {
        n,
        batch,
        algorithm: lapackEigh
          ? 'LAPACK dsyevd (float64, native backend)'
          : 'householder tridiagonalisation (host float64) + divide and conquer + blocked WY back-transformation',
        deflated_fraction: counters.merged === 0 ? 0 : counters.deflated / counters.merged,
        secular_iterations_max: counters.secularMax,
        ms: { tridiagonal: Math.round(ms.tridiagonal), divide_conquer: Math.round(ms.divide_conquer), back_transform: Math.round(ms.back_transform) },
      },
    };
  } finally {
    tf.dispose(vectorParts);
  }
}

/** One matrix by the backend's LAPACK dsyevd: same contract as eighOne. */
function eighLapack(tf: TF, lapackEigh: NonNullable<ReturnType<typeof lapackHook>>['eigh'] & {}, A: Float64Array, n: number): { lambda: Float64Array; vectors: Tensor } {
  const { values, vectors, info } = lapackEigh(Float32Array.from(A), n);
  if (info !== 0) throw new OperatorError('no_convergence', `linalg/eigh: LAPACK dsyevd did not converge (info ${info})`, { info });
  return { lambda: Float64Array.from(values), vectors: tf.tensor2d(vectors, [n, n], 'float32') };
}

/** One matrix: A (float64, full symmetric, row-major) → ascending eigenvalues and a [n,n] tensor of eigenvectors. */
async function eighOne(
  tf: TF,
  A: Float64Array,
  n: number,
  leafSize: number,
  blockSize: number,
  counters: Counters,
  ms: EighStats['ms'],
): Promise<{ lambda: Float64Array; vectors: Tensor }> {
  // Scale to max |aᵢⱼ| = 1 so that squares in the Householder norms cannot overflow or underflow.
  let scale = 0;
  for (let i = 0; i < A.length; i++) scale = Math.max(scale, Math.abs(A[i]));
  if (scale === 0 || n === 1) {
    const lambda = new Float64Array(n);
    if (n === 1) lambda[0] = A[0];
    return { lambda, vectors: tf.eye(n) };
  }
  for (let i = 0; i < A.length; i++) A[i] /= scale;

  let t0 = performance.now();
  const { d, e, Y, tau } = tridiagonalize(A, n);
  ms.tridiagonal += performance.now() - t0;

  t0 = performance.now();
  const { lambda, Z } = await divideConquer(tf, d, e, 0, n, leafSize, counters);
  ms.divide_conquer += performance.now() - t0;

  t0 = performance.now();
  const vectors = backTransform(tf, Z, Y, tau, n, blockSize);
  ms.back_transform += performance.now() - t0;
  for (let i = 0; i < n; i++) lambda[i] *= scale;
  return { lambda, vectors };
}

/**
 * Householder reduction of a symmetric A (lower triangle used; overwritten) to tridiagonal form
 * T = Qᵀ A Q, Q = H₀⋯H_{n−3}, Hₖ = I − τₖ vₖvₖᵀ with vₖ[k+1] = 1 (LAPACK `dsytd2`, lower).
 * Returns the diagonal d, sub-diagonal e (e[k] couples k and k+1) and the reflectors as rows of Y.
 */
export function tridiagonalize(A: Float64Array, n: number): { d: Float64Array; e: Float64Array; Y: Float64Array; tau: Float64Array } {
  const d = new Float64Array(n);
  const e = new Float64Array(Math.max(n - 1, 0));
  const Y = new Float64Array(n * n);
  const tau = new Float64Array(n);
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    d[k] = A[k * n + k];
    const alpha = A[(k + 1) * n + k];
    let sigma = 0;
    for (let i = k + 2; i < n; i++) sigma += A[i * n + k] * A[i * n + k];
    if (sigma === 0) {
      e[k] = alpha; // already reduced: Hₖ = I (τ = 0)
      continue;
    }
    const norm = Math.sqrt(alpha * alpha + sigma);
    const beta = alpha <= 0 ? norm : -norm;
    const t = (beta - alpha) / beta;
    const s = 1 / (alpha - beta);
    tau[k] = t;
    e[k] = beta;
    v[k + 1] = 1;
    for (let i = k + 2; i < n; i++) v[i] = A[i * n + k] * s;
    const yrow = k * n;
    for (let i = k + 1; i < n; i++) Y[yrow + i] = v[i];
    // p = τ·A₂₂·v from the lower triangle (one pass: row i gives both A[i,j]v[j] and A[i,j]v[i]).
    for (let i = k + 1; i < n; i++) p[i] = 0;
    for (let i = k + 1; i < n; i++) {
      const row = i * n;
      const vi = v[i];
      let acc = 0;
      for (let j = k + 1; j < i; j++) {
        const aij = A[row + j];
        acc += aij * v[j];
        p[j] += aij * vi;
      }
      p[i] += acc + A[row + i] * vi;
    }
    let pv = 0;
    for (let i = k + 1; i < n; i++) {
      p[i] *= t;
      pv += p[i] * v[i];
    }
    // w = p − (τ/2)(pᵀv)v, then A₂₂ ← A₂₂ − v wᵀ − w vᵀ (lower triangle).
    const K = 0.5 * t * pv;
    for (let i = k + 1; i < n; i++) p[i] -= K * v[i];
    for (let i = k + 1; i < n; i++) {
      const row = i * n;
      const vi = v[i];
      const wi = p[i];
      for (let j = k + 1; j <= i; j++) A[row + j] -= vi * p[j] + wi * v[j];
    }
  }
  if (n >= 2) {
    d[n - 2] = A[(n - 2) * n + n - 2];
    e[n - 2] = A[(n - 1) * n + n - 2];
  }
  if (n >= 1) d[n - 1] = A[(n - 1) * n + n - 1];
  return { d, e, Y, tau };
}

/**
 * Eigen-decomposition of the symmetric tridiagonal (d, e) by implicit QL with Wilkinson shifts
 * (EISPACK `tql2`, as in JAMA), float64. Returns ascending eigenvalues and eigenvectors as ROWS of W
 * (W[i·n + k] = k-th component of the i-th eigenvector).
 */
export function tql2(dIn: Float64Array, eIn: Float64Array): { lambda: Float64Array; W: Float64Array } {
  const n = dIn.length;
  const d = Float64Array.from(dIn);
  const e = new Float64Array(n);
  e.set(eIn.subarray(0, n - 1));
  const W = new Float64Array(n * n);
  for (let i = 0; i < n; i++) W[i * n + i] = 1;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > EPS * tst1) m++;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new OperatorError('not_converged', 'linalg/eigh: implicit QL did not converge', { index: l });
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = 1;
        let c3 = 1;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          const ri = i * n;
          const ri1 = (i + 1) * n;
          for (let k = 0; k < n; k++) {
            const hk = W[ri1 + k];
            const wk = W[ri + k];
            W[ri1 + k] = s * wk + c * hk;
            W[ri + k] = c * wk - s * hk;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > EPS * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[i] - d[j]);
  const lambda = new Float64Array(n);
  const Ws = new Float64Array(n * n);
  order.forEach((src, dst) => {
    lambda[dst] = d[src];
    Ws.set(W.subarray(src * n, src * n + n), dst * n);
  });
  return { lambda, W: Ws };
}

/**
 * Cuppen divide and conquer on the tridiagonal block [lo, hi) of (d, e). Returns ascending
 * eigenvalues (float64) and the eigenvector matrix Z as a [size, size] backend tensor (columns).
 */
async function divideConquer(
  tf: TF,
  d: Float64Array,
  e: Float64Array,
  lo: number,
  hi: number,
  leafSize: number,
  counters: Counters,
): Promise<{ lambda: Float64Array; Z: Tensor }> {
  const size = hi - lo;
  if (size <= leafSize) {
    const { lambda, W } = tql2(d.subarray(lo, hi), e.subarray(lo, Math.max(hi - 1, lo)));
    // W holds eigenvectors as rows; Z wants them as columns.
    const Z = new Float32Array(size * size);
    for (let i = 0; i < size; i++) for (let k = 0; k < size; k++) Z[k * size + i] = W[i * size + k];
    return { lambda, Z: tf.tensor2d(Z, [size, size]) };
  }
  const m = size >> 1;
  const beta = e[lo + m - 1];
  const rho = Math.abs(beta);
  const sign = beta < 0 ? -1 : 1;
  // T = diag(T₁ − ρ e_last e_lastᵀ, T₂ − ρ e₁e₁ᵀ) + ρ vvᵀ with v = [e_last; sign·e₁], ρ ≥ 0.
  const dd = Float64Array.from(d);
  dd[lo + m - 1] -= rho;
  dd[lo + m] -= rho;
  const left = await divideConquer(tf, dd, e, lo, lo + m, leafSize, counters);
  let right: { lambda: Float64Array; Z: Tensor };
  try {
    right = await divideConquer(tf, dd, e, lo + m, hi, leafSize, counters);
  } catch (err) {
    left.Z.dispose();
    throw err;
  }
  try {
    // z = blockdiag(Q₁, Q₂)ᵀ v = [last row of Q₁; sign · first row of Q₂].
    const rows = tf.tidy(() => [tf.slice(left.Z, [m - 1, 0], [1, m]), tf.slice(right.Z, [0, 0], [1, size - m])]);
    const [zl, zr] = await Promise.all(rows.map((t) => t.data()));
    tf.dispose(rows);
    const z = new Float64Array(size);
    for (let i = 0; i < m; i++) z[i] = zl[i];
    for (let i = 0; i < size - m; i++) z[m + i] = sign * zr[i];
    const D = new Float64Array(size);
    D.set(left.lambda);
    D.set(right.lambda, m);
    const { lambda, U } = mergeRankOne(D, z, rho, counters);
    const Z = tf.tidy(() => {
      const u = tf.tensor2d(U, [size, size]);
      return tf.concat([tf.matMul(left.Z, tf.slice(u, [0, 0], [m, size])), tf.matMul(right.Z, tf.slice(u, [m, 0], [size - m, size]))], 0);
    });
    return { lambda, Z };
  } finally {
    left.Z.dispose();
    right.Z.dispose();
  }
}

/**
 * Eigen-decomposition of D + ρzzᵀ (D diagonal, ρ ≥ 0), float64: deflation, secular equation,
 * Gu–Eisenstat eigenvectors. Returns ascending eigenvalues and U (float32, row-major [s, s],
 * columns = eigenvectors in the coordinates of D).
 */
export function mergeRankOne(Din: Float64Array, zIn: Float64Array, rhoIn: number, counters?: Counters): { lambda: Float64Array; U: Float32Array } {
  const s = Din.length;
  let zn2 = 0;
  for (let i = 0; i < s; i++) zn2 += zIn[i] * zIn[i];
  const zn = Math.sqrt(zn2);
  const rho = rhoIn * zn2;
  const perm = Array.from({ length: s }, (_, i) => i).sort((i, j) => Din[i] - Din[j]);
  const Ds = new Float64Array(s);
  const zs = new Float64Array(s);
  let dmax = 0;
  perm.forEach((src, t) => {
    Ds[t] = Din[src];
    zs[t] = zn === 0 ? 0 : zIn[src] / zn;
    dmax = Math.max(dmax, Math.abs(Ds[t]));
  });
  const tol = 8 * EPS * Math.max(dmax, rho);

  // Deflation: negligible ρ|zᵢ|, and pairs of close poles (a Givens rotation zeroes one z).
  const deflated = new Uint8Array(s);
  const rotations: Array<[number, number, number, number]> = [];
  const kept: number[] = [];
  for (let t = 0; t < s; t++) {
    if (rho * Math.abs(zs[t]) <= tol) {
      deflated[t] = 1;
      continue;
    }
    if (kept.length > 0) {
      const p = kept[kept.length - 1];
      const r = Math.hypot(zs[p], zs[t]);
      const c = zs[t] / r;
      const sn = zs[p] / r;
      if (Math.abs((Ds[t] - Ds[p]) * c * sn) <= tol) {
        // u_p' = c e_p − s e_t (z = 0, deflated), u_t' = s e_p + c e_t (z = r).
        const dp = Ds[p] * c * c + Ds[t] * sn * sn;
        const dt = Ds[p] * sn * sn + Ds[t] * c * c;
        Ds[p] = dp;
        Ds[t] = dt;
        zs[p] = 0;
        zs[t] = r;
        rotations.push([p, t, c, sn]);
        deflated[p] = 1;
        kept.pop();
      }
    }
    kept.push(t);
  }
  const k = kept.length;
  if (counters) {
    counters.merged += s;
    counters.deflated += s - k;
  }

  // Secular equation 1/ρ + Σ ζᵢ²/(δᵢ − λ) = 0 over the kept poles δ (ascending).
  const delta = new Float64Array(k);
  const zeta2 = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    delta[i] = Ds[kept[i]];
    zeta2[i] = zs[kept[i]] * zs[kept[i]];
  }
  const origin = new Int32Array(k);
  const tauRoot = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const { o, tau, iters } = secularRoot(j, delta, zeta2, rho);
    origin[j] = o;
    tauRoot[j] = tau;
    if (counters) counters.secularMax = Math.max(counters.secularMax, iters);
  }
  // diff(i, j) = δᵢ − λⱼ, computed from the nearest pole so that it keeps its relative accuracy.
  const diff = (i: number, j: number) => delta[i] - delta[origin[j]] - tauRoot[j];
  // Gu–Eisenstat: ẑᵢ² = ∏ⱼ(λⱼ − δᵢ) / (ρ ∏_{j≠i}(δⱼ − δᵢ)), so that the vectors are orthogonal.
  const zhat = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let w = -diff(i, i);
    for (let j = 0; j < k; j++) if (j !== i) w *= -diff(i, j) / (delta[j] - delta[i]);
    const zi = zs[kept[i]];
    zhat[i] = (zi < 0 ? -1 : 1) * Math.sqrt(Math.abs(w) / rho);
  }

  // All eigenpairs: deflated ones are unit vectors in slot coordinates; roots have secular vectors.
  const pairs: Array<{ value: number; slot: number; root: number }> = [];
  for (let t = 0; t < s; t++) if (deflated[t]) pairs.push({ value: Ds[t], slot: t, root: -1 });
  for (let j = 0; j < k; j++) pairs.push({ value: delta[origin[j]] + tauRoot[j], slot: -1, root: j });
  pairs.sort((x, y) => x.value - y.value);
  const S = new Float64Array(s * s); // rows: slots, columns: output eigenpairs
  const lambda = new Float64Array(s);
  const col = new Float64Array(k);
  pairs.forEach((pair, c) => {
    lambda[c] = pair.value;
    if (pair.root < 0) {
      S[pair.slot * s + c] = 1;
      return;
    }
    let norm = 0;
    for (let i = 0; i < k; i++) {
      col[i] = zhat[i] / diff(i, pair.root);
      norm += col[i] * col[i];
    }
    norm = Math.sqrt(norm);
    for (let i = 0; i < k; i++) S[kept[i] * s + c] = col[i] / norm;
  });
  // Undo the deflation rotations (last first) on the rows, then the sort permutation.
  for (let r = rotations.length - 1; r >= 0; r--) {
    const [p, t, c, sn] = rotations[r];
    const rp = p * s;
    const rt = t * s;
    for (let j = 0; j < s; j++) {
      const a = S[rp + j];
      const b = S[rt + j];
      S[rp + j] = c * a + sn * b;
      S[rt + j] = -sn * a + c * b;
    }
  }
  const U = new Float32Array(s * s);
  perm.forEach((src, t) => {
    for (let j = 0; j < s; j++) U[src * s + j] = S[t * s + j];
  });
  return { lambda, U };
}

/**
 * The j-th root of 1/ρ + Σᵢ ζᵢ²/(δᵢ − λ) = 0 (ρ > 0, δ ascending), λ ∈ (δⱼ, δⱼ₊₁) or
 * (δ_last, δ_last + ρΣζ²]. Returned as λ = δ_o + τ with o the nearer pole, found by the
 * Bunch–Nielsen–Sorensen two-pole rational model safeguarded by bisection.
 */
function secularRoot(j: number, delta: Float64Array, zeta2: Float64Array, rho: number): { o: number; tau: number; iters: number } {
  const k = delta.length;
  const invRho = 1 / rho;
  let o: number;
  let lo: number;
  let hi: number;
  if (j < k - 1) {
    const half = (delta[j + 1] - delta[j]) / 2;
    let g = invRho;
    for (let i = 0; i < k; i++) g += zeta2[i] / (delta[i] - delta[j] - half);
    if (g >= 0) {
      o = j;
      lo = 0;
      hi = half;
    } else {
      o = j + 1;
      lo = -half;
      hi = 0;
    }
  } else {
    let sum = 0;
    for (let i = 0; i < k; i++) sum += zeta2[i];
    o = j;
    lo = 0;
    hi = rho * sum;
  }
  const Delta = new Float64Array(k);
  for (let i = 0; i < k; i++) Delta[i] = delta[i] - delta[o];
  const a1 = Delta[j];
  const a2 = j < k - 1 ? Delta[j + 1] : Infinity;
  let tau = (lo + hi) / 2;
  let iters = 0;
  for (; iters < 200; iters++) {
    let psi = 0;
    let dpsi = 0;
    let phi = 0;
    let dphi = 0;
    for (let i = 0; i <= j; i++) {
      const r = 1 / (Delta[i] - tau);
      const t = zeta2[i] * r;
      psi += t;
      dpsi += t * r;
    }
    for (let i = j + 1; i < k; i++) {
      const r = 1 / (Delta[i] - tau);
      const t = zeta2[i] * r;
      phi += t;
      dphi += t * r;
    }
    const g = invRho + psi + phi;
    if (g === 0) break;
    if (g < 0) lo = tau;
    else hi = tau;
    if (Math.abs(g) <= 8 * k * EPS * (invRho + Math.abs(psi) + Math.abs(phi))) break;
    if (hi - lo <= 4 * EPS * Math.max(Math.abs(lo), Math.abs(hi))) break;
    // Model: ψ(x) ≈ P + Q/(a₁ − x), φ(x) ≈ S + T/(a₂ − x), matching value and slope at τ.
    const Q = dpsi * (a1 - tau) * (a1 - tau);
    const P = psi - Q / (a1 - tau);
    let x: number;
    if (j < k - 1) {
      const T = dphi * (a2 - tau) * (a2 - tau);
      const S = phi - T / (a2 - tau);
      const c = invRho + P + S;
      // c(a₁ − x)(a₂ − x) + Q(a₂ − x) + T(a₁ − x) = 0
      const A2 = c;
      const B = -(c * (a1 + a2) + Q + T);
      const C = c * a1 * a2 + Q * a2 + T * a1;
      if (A2 === 0) x = -C / B;
      else {
        const disc = Math.sqrt(Math.max(B * B - 4 * A2 * C, 0));
        const r1 = (-B - (B >= 0 ? disc : -disc)) / (2 * A2);
        const r2 = r1 === 0 ? 0 : C / (A2 * r1);
        x = r1 > lo && r1 < hi ? r1 : r2;
      }
    } else {
      const c = invRho + P;
      x = c > 0 ? a1 + Q / c : NaN;
    }
    tau = Number.isFinite(x) && x > lo && x < hi ? x : (lo + hi) / 2;
  }
  return { o, tau, iters };
}

/**
 * V = Q·Z with Q = H₀⋯H_{n−3}: blocks of reflectors in compact-WY form I − Y T Yᵀ (`dlarft`,
 * forward, columnwise) applied last block first, each as three matmuls on rows below the block.
 * Disposes Z.
 */
function backTransform(tf: TF, Z: Tensor, Yh: Float64Array, tau: Float64Array, n: number, nb: number): Tensor {
  const nref = n - 2;
  let V = Z;
  for (let j0 = Math.floor((nref - 1) / nb) * nb; j0 >= 0 && nref > 0; j0 -= nb) {
    const b = Math.min(nb, nref - j0);
    const r0 = j0 + 1;
    const rows = n - r0;
    const Yb = new Float64Array(rows * b);
    for (let l = 0; l < b; l++) {
      const yrow = (j0 + l) * n;
      for (let r = j0 + l + 1; r < n; r++) Yb[(r - r0) * b + l] = Yh[yrow + r];
    }
    // T: T[i][i] = τᵢ, T[0:i, i] = −τᵢ T[0:i, 0:i] (Y[:, 0:i]ᵀ yᵢ).
    const T = new Float64Array(b * b);
    const w = new Float64Array(b);
    for (let i = 0; i < b; i++) {
      const ti = tau[j0 + i];
      for (let l = 0; l < i; l++) {
        let acc = 0;
        for (let r = i; r < rows; r++) acc += Yb[r * b + l] * Yb[r * b + i];
        w[l] = acc;
      }
      for (let r = 0; r < i; r++) {
        let acc = 0;
        for (let l = r; l < i; l++) acc += T[r * b + l] * w[l];
        T[r * b + i] = -ti * acc;
      }
      T[i * b + i] = ti;
    }
    const prev = V;
    V = tf.tidy(() => {
      const y = tf.tensor2d(Float32Array.from(Yb), [rows, b]);
      const t = tf.tensor2d(Float32Array.from(T), [b, b]);
      const lower = tf.slice(prev, [r0, 0], [rows, n]);
      const updated = tf.sub(lower, tf.matMul(y, tf.matMul(t, tf.matMul(y, lower, true, false))));
      return r0 === 0 ? updated : tf.concat([tf.slice(prev, [0, 0], [r0, n]), updated], 0);
    });
    prev.dispose();
  }
  return V;
}
