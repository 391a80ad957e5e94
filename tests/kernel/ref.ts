/**
 * Float64 references for the kernel family, written from the formulas with plain loops and
 * independent of the operators' code: ReLU-family kernels from the arc-cosine forms with acos,
 * erf from Williams' asin form, gelu/sin/cos from 2-D Gauss–Hermite quadrature of E[φ(u)φ(v)]
 * and E[φ′(u)φ′(v)], dense layers from the neural-tangents recursions.
 */
export type Mat = number[][];
type Layer = Record<string, any>;

// ---- Gauss–Hermite nodes (physicists', weight e^{−x²}), Newton on the recurrence (Numerical Recipes gauher).
function gaussHermite(n: number): { x: number[]; w: number[] } {
  const x = new Array<number>(n);
  const w = new Array<number>(n);
  const m = (n + 1) >> 1;
  let z = 0;
  const pim4 = Math.PI ** -0.25;
  for (let i = 0; i < m; i++) {
    if (i === 0) z = Math.sqrt(2 * n + 1) - 1.85575 * (2 * n + 1) ** -0.16667;
    else if (i === 1) z -= (1.14 * n ** 0.426) / z;
    else if (i === 2) z = 1.86 * z - 0.86 * x[0];
    else if (i === 3) z = 1.91 * z - 0.91 * x[1];
    else z = 2 * z - x[i - 2];
    let pp = 0;
    for (let it = 0; it < 100; it++) {
      let p1 = pim4;
      let p2 = 0;
      for (let j = 0; j < n; j++) {
        const p3 = p2;
        p2 = p1;
        p1 = z * Math.sqrt(2 / (j + 1)) * p2 - Math.sqrt(j / (j + 1)) * p3;
      }
      pp = Math.sqrt(2 * n) * p2;
      const z1 = z;
      z = z1 - p1 / pp;
      if (Math.abs(z - z1) <= 1e-15) break;
    }
    x[i] = z;
    x[n - 1 - i] = -z;
    w[i] = 2 / (pp * pp);
    w[n - 1 - i] = w[i];
  }
  return { x, w };
}
const GH = gaussHermite(64);

/** E[f(u) g(v)] for (u, v) ~ N(0, [[q1, k], [k, q2]]) by 64×64 Gauss–Hermite quadrature. */
export function bivariate(f: (u: number) => number, g: (v: number) => number, q1: number, q2: number, k: number): number {
  const s1 = Math.sqrt(q1);
  const s2 = Math.sqrt(q2);
  const rho = s1 * s2 > 0 ? Math.max(-1, Math.min(1, k / (s1 * s2))) : 0;
  const c = Math.sqrt(Math.max(0, 1 - rho * rho));
  let total = 0;
  for (let i = 0; i < GH.x.length; i++) {
    const z1 = Math.SQRT2 * GH.x[i];
    const fu = f(s1 * z1);
    for (let j = 0; j < GH.x.length; j++) {
      const z2 = Math.SQRT2 * GH.x[j];
      total += GH.w[i] * GH.w[j] * fu * g(s2 * (rho * z1 + c * z2));
    }
  }
  return total / Math.PI;
}

// erf (Abramowitz–Stegun 7.1.26 is too crude): series / continued fraction to ~1e-15.
export function erf(x: number): number {
  const t = Math.abs(x);
  if (t < 2.5) {
    let sum = t;
    let term = t;
    for (let n = 1; n < 200; n++) {
      term *= (-t * t) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction (Lentz)
  let f = t;
  let C = t;
  let D = 0;
  for (let n = 1; n < 300; n++) {
    const an = n / 2;
    D = t + an * D;
    D = 1 / D;
    C = t + an / C;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}
const Phi = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));
const phi = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);

// ---- one activation on (K, q1, q2): returns [E φφ, E φ′φ′].
function relu2(q1: number, q2: number, k: number, flip: boolean): number {
  // E[relu(u) relu(±v)] = √(q1q2)(sinθ' + (π−θ')cosθ')/2π, θ' the angle of (u, ±v)
  const Q = Math.sqrt(q1 * q2);
  if (Q === 0) return 0;
  const rho = Math.max(-1, Math.min(1, (flip ? -k : k) / Q));
  const th = Math.acos(rho);
  return (Q * (Math.sin(th) + (Math.PI - th) * Math.cos(th))) / (2 * Math.PI);
}
function step2(q1: number, q2: number, k: number, flip: boolean): number {
  const Q = Math.sqrt(q1 * q2);
  const rho = Q === 0 ? 1 : Math.max(-1, Math.min(1, (flip ? -k : k) / Q));
  return (Math.PI - Math.acos(rho)) / (2 * Math.PI);
}

export function actPair(layer: Layer, q1: number, q2: number, k: number, diag: boolean): [number, number] {
  const t = layer.type;
  const ab = (a: number, b: number): [number, number] => {
    // f = b·relu(x) − a·relu(−x); f′ = b·1(x>0) + a·1(x<0)
    const kk = diag ? q1 : k;
    const nngp = b * b * relu2(q1, q2, kk, false) + a * a * relu2(q1, q2, kk, false) - 2 * a * b * relu2(q1, q2, kk, true);
    const dot = (a * a + b * b) * step2(q1, q2, kk, false) + 2 * a * b * step2(q1, q2, kk, true);
    return [nngp, dot];
  };
  switch (t) {
    case 'relu':
      return ab(0, 1);
    case 'abrelu':
      return ab(layer.a ?? 0, layer.b ?? 1);
    case 'leaky_relu':
      return ab(layer.alpha ?? 0.01, 1);
    case 'abs':
      return ab(-1, 1);
    case 'erf':
    case 'sigmoid_like': {
      const [a, b, c] = t === 'erf' ? [layer.a ?? 1, layer.b ?? 1, layer.c ?? 0] : [0.5, 1 / 2.4020563531719796, 0.5];
      const A1 = 1 + 2 * b * b * q1;
      const A2 = 1 + 2 * b * b * q2;
      const nngp = a * a * (2 / Math.PI) * Math.asin((2 * b * b * k) / Math.sqrt(A1 * A2)) + c * c;
      const dot = (a * a * 4 * b * b) / Math.PI / Math.sqrt(A1 * A2 - 4 * b ** 4 * k * k);
      return [nngp, dot];
    }
    case 'gelu': {
      const g = (x: number) => x * Phi(x);
      const gp = (x: number) => Phi(x) + x * phi(x);
      return [bivariate(g, g, q1, q2, k), bivariate(gp, gp, q1, q2, k)];
    }
    case 'sin':
    case 'cos': {
      const [a, b, c] = [layer.a ?? 1, layer.b ?? 1, layer.c ?? 0];
      const f = t === 'sin' ? (x: number) => a * Math.sin(b * x + c) : (x: number) => a * Math.cos(b * x + c);
      const fp = t === 'sin' ? (x: number) => a * b * Math.cos(b * x + c) : (x: number) => -a * b * Math.sin(b * x + c);
      return [bivariate(f, f, q1, q2, k), bivariate(fp, fp, q1, q2, k)];
    }
    case 'layernorm': {
      const eps = layer.eps ?? 1e-12;
      const s = 1 / Math.sqrt((q1 + eps) * (q2 + eps));
      return [k * s, s];
    }
    default:
      throw new Error(`reference: no activation ${t}`);
  }
}

export interface RefState {
  K: Mat;
  T: Mat;
  q1: number[];
  q2: number[];
  width: number;
}

/** The NNGP/NTK recursion in float64 over raw layer JSON. `sym`: K(x_i, x_i) is a diagonal entry. */
export function refLayers(layers: Layer[], s: RefState, param: 'ntk' | 'standard', sym: boolean): RefState {
  for (const layer of layers) {
    const t = layer.type;
    if (t === 'identity') continue;
    if (t === 'dense') {
      const w2 = (layer.W_std ?? 1) ** 2;
      const b2 = layer.b_std === undefined ? 0 : layer.b_std ** 2;
      const K = s.K.map((row) => row.map((k) => w2 * k + b2));
      const T = s.K.map((row, i) =>
        row.map((k, j) =>
          param === 'ntk' ? K[i][j] + w2 * s.T[i][j] : s.width * k + w2 * s.T[i][j] + (layer.b_std === undefined ? 0 : 1),
        ),
      );
      s = { K, T, q1: s.q1.map((q) => w2 * q + b2), q2: s.q2.map((q) => w2 * q + b2), width: layer.width ?? NaN };
    } else if (t === 'residual') {
      const br = refLayers(layer.branch, s, param, sym);
      s = {
        K: s.K.map((row, i) => row.map((k, j) => k + br.K[i][j])),
        T: s.T.map((row, i) => row.map((v, j) => v + br.T[i][j])),
        q1: s.q1.map((q, i) => q + br.q1[i]),
        q2: s.q2.map((q, j) => q + br.q2[j]),
        width: s.width,
      };
    } else {
      const pairs = s.K.map((row, i) => row.map((k, j) => actPair(layer, s.q1[i], s.q2[j], k, sym && i === j)));
      s = {
        K: pairs.map((row) => row.map((p) => p[0])),
        T: pairs.map((row, i) => row.map((p, j) => p[1] * s.T[i][j])),
        q1: s.q1.map((q) => actPair(layer, q, q, q, true)[0]),
        q2: s.q2.map((q) => actPair(layer, q, q, q, true)[0]),
        width: s.width,
      };
    }
  }
  return s;
}

/** NNGP and NTK of `layers` between rows of x1 and x2 (x2 undefined = x1, symmetric). */
export function refNn(layers: Layer[], x1: Mat, x2: Mat | undefined, param: 'ntk' | 'standard' = 'ntk'): { nngp: Mat; ntk: Mat } {
  const b = x2 ?? x1;
  const d = x1[0].length;
  const dot = (u: number[], v: number[]) => u.reduce((s, ui, k) => s + ui * v[k], 0) / d;
  const K = x1.map((u) => b.map((v) => dot(u, v)));
  const s = refLayers(
    layers,
    { K, T: K.map((r) => r.map(() => 0)), q1: x1.map((u) => dot(u, u)), q2: b.map((v) => dot(v, v)), width: d },
    param,
    x2 === undefined,
  );
  return { nngp: s.K, ntk: s.T };
}

/** max over entries of |got − want| / max(|want|, floor·max|want|). */
export function maxRelErr(got: ArrayLike<number>, want: Mat, floor = 1e-2): number {
  const flat = want.flat();
  const scale = Math.max(...flat.map(Math.abs));
  let worst = 0;
  flat.forEach((w, i) => {
    const e = Math.abs(got[i] - w) / Math.max(Math.abs(w), floor * scale, 1e-30);
    if (!(e <= worst)) worst = e; // NaN propagates as a failure
  });
  return worst;
}

export function toMat(data: ArrayLike<number>, n1: number, n2: number): Mat {
  return Array.from({ length: n1 }, (_, i) => Array.from({ length: n2 }, (_, j) => data[i * n2 + j]));
}

export function matOf(flat: number[], cols: number): Mat {
  const out: Mat = [];
  for (let i = 0; i < flat.length; i += cols) out.push(flat.slice(i, i + cols));
  return out;
}
