/**
 * Compact box-constrained minimisers in float64 on the host, for small parameter vectors
 * (GP log-hyperparameters): projected L-BFGS (two-loop recursion, memory 10) with a backtracking
 * Armijo line search on the projected path, and projected Adam. The objective may throw (e.g. a
 * Cholesky failing at an extreme point): a throwing trial point counts as +∞ and the step shrinks.
 */

export type Objective = (x: number[]) => Promise<{ f: number; g: number[] }>;

export interface MinimizeOptions {
  lower: number[];
  upper: number[];
  maxIter?: number;
  /** Stop when the projected gradient's largest entry falls below this (default 1e-5). */
  gtol?: number;
  /** Stop when the relative decrease of f falls below this (default 1e-9). */
  ftol?: number;
  memory?: number;
  signal?: AbortSignal;
  onIter?: (iter: number, f: number) => void;
}

export interface MinimizeResult {
  x: number[];
  f: number;
  g: number[];
  iterations: number;
  evaluations: number;
  converged: boolean;
  reason: string;
}

const clip = (x: number[], lo: number[], hi: number[]) => x.map((v, i) => Math.min(hi[i], Math.max(lo[i], v)));
const dotv = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);

/** Projected gradient: zero where a bound is active and the gradient pushes outward. */
function projGrad(x: number[], g: number[], lo: number[], hi: number[]): number[] {
  return g.map((gi, i) => ((x[i] <= lo[i] && gi > 0) || (x[i] >= hi[i] && gi < 0) ? 0 : gi));
}

async function safeEval(f: Objective, x: number[]): Promise<{ f: number; g: number[] } | undefined> {
  try {
    const r = await f(x);
    return Number.isFinite(r.f) && r.g.every(Number.isFinite) ? r : undefined;
  } catch (err) {
    if ((err as { name?: string }).name === 'OperatorError' && (err as { code?: string }).code === 'aborted') throw err;
    return undefined;
  }
}

export async function lbfgsb(fun: Objective, x0: number[], opts: MinimizeOptions): Promise<MinimizeResult> {
  const { lower: lo, upper: hi } = opts;
  const maxIter = opts.maxIter ?? 100;
  const gtol = opts.gtol ?? 1e-5;
  const ftol = opts.ftol ?? 1e-9;
  const mem = opts.memory ?? 10;
  let x = clip(x0, lo, hi);
  let evals = 1;
  const first = await safeEval(fun, x);
  if (!first) throw new Error('lbfgs: the objective is not finite at the start point');
  let { f, g } = first;
  const S: number[][] = [];
  const Y: number[][] = [];
  let it = 0;
  let reason = 'max_iter';
  let converged = false;
  for (; it < maxIter; it++) {
    if (opts.signal?.aborted) throw Object.assign(new Error('aborted'), { name: 'OperatorError', code: 'aborted' });
    const pg = projGrad(x, g, lo, hi);
    if (Math.max(...pg.map(Math.abs)) < gtol) {
      reason = 'gtol';
      converged = true;
      break;
    }
    // Two-loop recursion on the free variables.
    const free = pg.map((v, i) => v !== 0 || (x[i] > lo[i] && x[i] < hi[i]));
    const q = pg.slice();
    const al: number[] = [];
    for (let k = S.length - 1; k >= 0; k--) {
      const a = dotv(S[k], q) / dotv(Y[k], S[k]);
      al[k] = a;
      for (let i = 0; i < q.length; i++) q[i] -= a * Y[k][i];
    }
    const gamma = S.length ? dotv(S[S.length - 1], Y[Y.length - 1]) / dotv(Y[Y.length - 1], Y[Y.length - 1]) : 1 / Math.max(1, Math.max(...pg.map(Math.abs)));
    for (let i = 0; i < q.length; i++) q[i] *= gamma;
    for (let k = 0; k < S.length; k++) {
      const b = dotv(Y[k], q) / dotv(Y[k], S[k]);
      for (let i = 0; i < q.length; i++) q[i] += S[k][i] * (al[k] - b);
    }
    let d = q.map((v, i) => (free[i] ? -v : 0));
    if (dotv(d, g) >= 0) {
      d = pg.map((v) => -v);
      S.length = 0;
      Y.length = 0;
    }
    let t = 1;
    let next: { x: number[]; f: number; g: number[] } | undefined;
    for (let ls = 0; ls < 30; ls++) {
      const xn = clip(x.map((v, i) => v + t * d[i]), lo, hi);
      evals++;
      const r = await safeEval(fun, xn);
      const step = xn.map((v, i) => v - x[i]);
      if (r && r.f <= f + 1e-4 * dotv(g, step)) {
        next = { x: xn, ...r };
        break;
      }
      t *= 0.5;
    }
    if (!next) {
      reason = 'line_search';
      converged = Math.max(...pg.map(Math.abs)) < 1e-3;
      break;
    }
    const s = next.x.map((v, i) => v - x[i]);
    const yv = next.g.map((v, i) => v - g[i]);
    if (dotv(s, yv) > 1e-12 * Math.max(1, dotv(yv, yv))) {
      S.push(s);
      Y.push(yv);
      if (S.length > mem) {
        S.shift();
        Y.shift();
      }
    }
    const df = f - next.f;
    ({ x, f, g } = next);
    opts.onIter?.(it + 1, f);
    if (df <= ftol * Math.max(1, Math.abs(f))) {
      reason = 'ftol';
      converged = true;
      it++;
      break;
    }
  }
  return { x, f, g, iterations: it, evaluations: evals, converged, reason };
}

/** Projected Adam (Kingma & Ba 2015) with step size lr. */
export async function adam(fun: Objective, x0: number[], opts: MinimizeOptions & { lr?: number }): Promise<MinimizeResult> {
  const { lower: lo, upper: hi } = opts;
  const lr = opts.lr ?? 0.1;
  const maxIter = opts.maxIter ?? 100;
  let x = clip(x0, lo, hi);
  const m = x.map(() => 0);
  const v = x.map(() => 0);
  let best: { x: number[]; f: number; g: number[] } | undefined;
  let evals = 0;
  let it = 0;
  for (; it < maxIter; it++) {
    if (opts.signal?.aborted) throw Object.assign(new Error('aborted'), { name: 'OperatorError', code: 'aborted' });
    evals++;
    const r = await safeEval(fun, x);
    if (!r) break;
    if (!best || r.f < best.f) best = { x: x.slice(), ...r };
    opts.onIter?.(it + 1, r.f);
    for (let i = 0; i < x.length; i++) {
      m[i] = 0.9 * m[i] + 0.1 * r.g[i];
      v[i] = 0.999 * v[i] + 0.001 * r.g[i] * r.g[i];
      const mh = m[i] / (1 - 0.9 ** (it + 1));
      const vh = v[i] / (1 - 0.999 ** (it + 1));
      x[i] -= (lr * mh) / (Math.sqrt(vh) + 1e-8);
    }
    x = clip(x, lo, hi);
  }
  if (!best) throw new Error('adam: the objective is not finite at the start point');
  return { ...best, iterations: it, evaluations: evals, converged: false, reason: 'max_iter' };
}
