/** Float64 references for the gp tests: plain loops over number[][]. */
export type M = number[][];

export interface Spec {
  type: 'rbf' | 'matern12' | 'matern32' | 'matern52' | 'linear';
  lengthscale: number | number[];
  outputscale: number;
}

export function kern(a: M, b: M, s: Spec): M {
  const d = a[0].length;
  const ls = typeof s.lengthscale === 'number' ? new Array(d).fill(s.lengthscale) : s.lengthscale;
  return a.map((u) =>
    b.map((v) => {
      if (s.type === 'linear') return s.outputscale * u.reduce((acc, ui, j) => acc + (ui * v[j]) / ls[j] ** 2, 0);
      const r2 = u.reduce((acc, ui, j) => acc + ((ui - v[j]) / ls[j]) ** 2, 0);
      const r = Math.sqrt(r2);
      switch (s.type) {
        case 'rbf':
          return s.outputscale * Math.exp(-r2 / 2);
        case 'matern12':
          return s.outputscale * Math.exp(-r);
        case 'matern32':
          return s.outputscale * (1 + Math.sqrt(3) * r) * Math.exp(-Math.sqrt(3) * r);
        default:
          return s.outputscale * (1 + Math.sqrt(5) * r + (5 / 3) * r2) * Math.exp(-Math.sqrt(5) * r);
      }
    }),
  );
}

export function chol(a: M): M {
  const n = a.length;
  const l = a.map(() => new Array(n).fill(0));
  for (let j = 0; j < n; j++) {
    let d = a[j][j];
    for (let k = 0; k < j; k++) d -= l[j][k] ** 2;
    if (!(d > 0)) throw new Error(`ref chol: pivot ${j} = ${d}`);
    l[j][j] = Math.sqrt(d);
    for (let i = j + 1; i < n; i++) {
      let s = a[i][j];
      for (let k = 0; k < j; k++) s -= l[i][k] * l[j][k];
      l[i][j] = s / l[j][j];
    }
  }
  return l;
}

/** Solves L·x = b (lower) for a vector. */
export function fwd(l: M, b: number[]): number[] {
  const x: number[] = [];
  for (let i = 0; i < b.length; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i][k] * x[k];
    x.push(s / l[i][i]);
  }
  return x;
}
export function bwd(l: M, b: number[]): number[] {
  const n = b.length;
  const x = new Array(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= l[k][i] * x[k];
    x[i] = s / l[i][i];
  }
  return x;
}
export const choSolve = (l: M, b: number[]) => bwd(l, fwd(l, b));
export const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
export const addNoise = (k: M, s2: number) => k.map((r, i) => r.map((v, j) => v + (i === j ? s2 : 0)));
export const col = (a: M, j: number) => a.map((r) => r[j]);

/** Exact GP in float64: mean, latent var, LML for y [n] (prior mean m). */
export function gpRef(k: M, kc: M, kss: number[], y: number[], s2: number, m = 0) {
  const l = chol(addNoise(k, s2));
  const yc = y.map((v) => v - m);
  const alpha = choSolve(l, yc);
  const mean = kc.map((r) => m + dot(r, alpha));
  const v = kc.map((r, i) => {
    const w = fwd(l, r);
    return kss[i] - dot(w, w);
  });
  const lml = -0.5 * dot(yc, alpha) - l.reduce((s, r, i) => s + Math.log(r[i]), 0) - (y.length / 2) * Math.log(2 * Math.PI);
  return { mean, var: v, lml, alpha };
}

/** LML of the inline-kernel model at log-parameters θ = [log ℓ (1 or d), log s, log σ²]. */
export function lmlAt(x: M, y: number[], type: Spec['type'], theta: number[], ard: boolean): number {
  const d = x[0].length;
  const nl = ard ? d : 1;
  const ls = theta.slice(0, nl).map(Math.exp);
  const spec: Spec = { type, lengthscale: ard ? ls : ls[0], outputscale: Math.exp(theta[nl]) };
  const k = kern(x, x, spec);
  return gpRef(k, [], [], y, Math.exp(theta[nl + 1])).lml;
}

/** Central differences of f at θ, step h. */
export function fd(f: (t: number[]) => number, theta: number[], h = 1e-5): number[] {
  return theta.map((_, i) => {
    const p = [...theta];
    const q = [...theta];
    p[i] += h;
    q[i] -= h;
    return (f(p) - f(q)) / (2 * h);
  });
}

/** Deterministic uniform values in [lo, hi) (LCG), rounded to float32. */
export function lcg(n: number, seed: number, lo = -2, hi = 2): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.fround(lo + ((hi - lo) * s) / 2 ** 32);
  });
}
export function matrix(rows: number, cols: number, seed: number, lo = -2, hi = 2): M {
  const v = lcg(rows * cols, seed, lo, hi);
  return Array.from({ length: rows }, (_, i) => v.slice(i * cols, (i + 1) * cols));
}

/** max |got − want| / max(1, |want|)-style relative error over arrays. */
export function relErr(got: ArrayLike<number>, want: number[], floor = 1): number {
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i] - want[i]) / Math.max(floor, Math.abs(want[i])));
  return e;
}
