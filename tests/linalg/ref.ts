/**
 * float64 references for the linalg tests: plain JS double loops and closed forms.
 * Matrices are row-major Float64Arrays.
 */

/** Deterministic uniform(0,1) stream (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws (Box–Muller). */
export function normals(count: number, seed: number): Float64Array {
  const u = rng(seed);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u() + 1e-300));
    const th = 2 * Math.PI * u();
    out[i] = r * Math.cos(th);
    if (i + 1 < count) out[i + 1] = r * Math.sin(th);
  }
  return out;
}

/**
 * SPD A = Q·diag(λ)·Qᵀ with λ log-spaced from 1 down to 1/cond (or the given `eigs`), Q a product of
 * `reflections` random Householder reflections (dense fill-in at O(n²) cost per reflection).
 */
export function spdMatrix(n: number, cond: number, seed: number, eigs?: number[], reflections = 3): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    a[i * n + i] = eigs ? eigs[i] : Math.pow(cond, -(n === 1 ? 0 : i / (n - 1)));
  }
  for (let h = 0; h < reflections; h++) {
    const v = normals(n, seed * 31 + h);
    let nv = 0;
    for (const x of v) nv += x * x;
    nv = Math.sqrt(nv);
    for (let i = 0; i < n; i++) v[i] /= nv;
    // H·A·H with H = I − 2vvᵀ: A − 2v(Av)ᵀ − 2(Av)vᵀ + 4(vᵀAv)vvᵀ (A symmetric).
    const av = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += a[i * n + j] * v[j];
      av[i] = s;
    }
    let vav = 0;
    for (let i = 0; i < n; i++) vav += v[i] * av[i];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) a[i * n + j] += -2 * v[i] * av[j] - 2 * av[i] * v[j] + 4 * vav * v[i] * v[j];
    }
  }
  return a;
}

/** Rounds to float32 (what the tensor will hold), returned as float64 values. */
export function roundF32(a: Float64Array): Float64Array {
  return Float64Array.from(Float32Array.from(a));
}

/** RBF kernel s·exp(−|x−x'|²/2ℓ²) between rows of x1 [n1,d] and x2 [n2,d]. */
export function rbf(x1: Float64Array, n1: number, x2: Float64Array, n2: number, d: number, ell: number): Float64Array {
  const k = new Float64Array(n1 * n2);
  for (let i = 0; i < n1; i++) {
    for (let j = 0; j < n2; j++) {
      let r = 0;
      for (let t = 0; t < d; t++) r += (x1[i * d + t] - x2[j * d + t]) ** 2;
      k[i * n2 + j] = Math.exp(-r / (2 * ell * ell));
    }
  }
  return k;
}

/** f64 Cholesky (dot-product form); throws when not positive definite. */
export function refCholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
    if (!(d > 0)) throw new Error(`refCholesky: not PD at ${j}`);
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = s / ljj;
    }
  }
  return l;
}

/** Solves L·X = B (lower) or Lᵀ·X = B for B [n, m]. */
export function refLowerSolve(l: Float64Array, n: number, b: Float64Array, m: number, transpose = false): Float64Array {
  const x = Float64Array.from(b);
  if (!transpose) {
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < i; k++) {
        const lik = l[i * n + k];
        for (let c = 0; c < m; c++) x[i * m + c] -= lik * x[k * m + c];
      }
      for (let c = 0; c < m; c++) x[i * m + c] /= l[i * n + i];
    }
  } else {
    for (let i = n - 1; i >= 0; i--) {
      for (let k = i + 1; k < n; k++) {
        const lki = l[k * n + i];
        for (let c = 0; c < m; c++) x[i * m + c] -= lki * x[k * m + c];
      }
      for (let c = 0; c < m; c++) x[i * m + c] /= l[i * n + i];
    }
  }
  return x;
}

export function refLogdet(l: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(l[i * n + i]);
  return 2 * s;
}

/** C = A·B for A [r, k], B [k, c]. */
export function refMatmul(a: ArrayLike<number>, b: ArrayLike<number>, r: number, k: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    for (let t = 0; t < k; t++) {
      const ait = a[i * k + t];
      if (ait === 0) continue;
      for (let j = 0; j < c; j++) out[i * c + j] += ait * b[t * c + j];
    }
  }
  return out;
}

/** ‖a − b‖_F / ‖b‖_F. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/** max|a − b| / max|b|. */
export function relErrMax(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

/**
 * The same f64 Cholesky, reorganised in 64-column panels so the O(n³) loop reuses a cached panel
 * (2 rows × 2 columns per inner loop). Same arithmetic as refCholesky up to summation order.
 */
export function refCholeskyBlocked(a: Float64Array, n: number, nb = 64): Float64Array {
  const w = Float64Array.from(a);
  const l = new Float64Array(n * n);
  for (let k0 = 0; k0 < n; k0 += nb) {
    const b = Math.min(nb, n - k0);
    const k1 = k0 + b;
    // Factor the panel rows k0..n, columns k0..k1 (unblocked within the panel).
    const p = new Float64Array((n - k0) * b); // panel of L, row-major [n-k0, b]
    for (let j = 0; j < b; j++) {
      let d = w[(k0 + j) * n + k0 + j];
      for (let t = 0; t < j; t++) d -= p[j * b + t] * p[j * b + t];
      if (!(d > 0)) throw new Error(`refCholeskyBlocked: not PD at ${k0 + j}`);
      const ljj = Math.sqrt(d);
      p[j * b + j] = ljj;
      for (let i = j + 1; i < n - k0; i++) {
        let s = w[(k0 + i) * n + k0 + j];
        for (let t = 0; t < j; t++) s -= p[i * b + t] * p[j * b + t];
        p[i * b + j] = s / ljj;
      }
    }
    for (let i = 0; i < n - k0; i++) for (let j = 0; j < b && j <= i; j++) l[(k0 + i) * n + k0 + j] = p[i * b + j];
    // Trailing update of the lower triangle: W[i][j] −= Σ_t P[i][t]·P[j][t], i ≥ j ≥ k1.
    const r = n - k1;
    for (let i = 0; i < r; i += 2) {
      const i2 = Math.min(i + 1, r - 1);
      const pi = (b + i) * b;
      const pi2 = (b + i2) * b;
      for (let j = 0; j <= i2; j += 2) {
        const j2 = Math.min(j + 1, r - 1);
        const pj = (b + j) * b;
        const pj2 = (b + j2) * b;
        let s00 = 0, s01 = 0, s10 = 0, s11 = 0;
        for (let t = 0; t < b; t++) {
          const a0 = p[pi + t], a1 = p[pi2 + t], b0 = p[pj + t], b1 = p[pj2 + t];
          s00 += a0 * b0;
          s01 += a0 * b1;
          s10 += a1 * b0;
          s11 += a1 * b1;
        }
        const wi = (k1 + i) * n + k1;
        const wi2 = (k1 + i2) * n + k1;
        if (j <= i) w[wi + j] -= s00;
        if (j2 !== j && j2 <= i) w[wi + j2] -= s01;
        if (i2 !== i) {
          w[wi2 + j] -= s10;
          if (j2 !== j) w[wi2 + j2] -= s11;
        }
      }
    }
  }
  return l;
}
