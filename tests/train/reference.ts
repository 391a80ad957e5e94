/**
 * Float64 references for the train family: an MLP forward pass, its loss and backprop written from
 * the formulas with plain loops (independent of tfjs), and central finite differences.
 */
import type { MlpModel } from '../../operators/model/mlp-lib.js';

export type Params64 = Record<string, Float64Array>;

/** erf by its Taylor series (|x| < 4 here), accurate to ~1e-12 for the arguments of these tests. */
export function erf(x: number): number {
  if (Math.abs(x) > 5) return Math.sign(x);
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

export function act(name: string, z: number, eps: number): number {
  switch (name) {
    case 'relu': return Math.max(z, 0);
    case 'erf': return erf(z);
    case 'tanh': return Math.tanh(z);
    case 'gelu': return 0.5 * z * (1 + erf(z / Math.SQRT2));
    case 'identity': return z;
    case 'quadratic': return z + (eps * z * z) / 2;
    default: throw new Error(name);
  }
}
export function dact(name: string, z: number, eps: number): number {
  switch (name) {
    case 'relu': return z > 0 ? 1 : 0;
    case 'erf': return (2 / Math.sqrt(Math.PI)) * Math.exp(-z * z);
    case 'tanh': return 1 - Math.tanh(z) ** 2;
    case 'gelu': return 0.5 * (1 + erf(z / Math.SQRT2)) + (z * Math.exp(-z * z / 2)) / Math.sqrt(2 * Math.PI);
    case 'identity': return 1;
    case 'quadratic': return 1 + eps * z;
    default: throw new Error(name);
  }
}

/** Pre-activations z_l [n][fan_out] and the output α·z_L. */
export function forward64(model: MlpModel, P: Params64, X: number[][]): { zs: number[][][]; hs: number[][][]; out: number[][] } {
  let h = X;
  const zs: number[][][] = [];
  const hs: number[][][] = [];
  const L = model.layers.length - 1;
  model.layers.forEach((layer, l) => {
    hs.push(h);
    const W = P[layer.weight];
    const b = layer.bias ? P[layer.bias] : null;
    const z = h.map((row) => {
      const o = new Array<number>(layer.fan_out).fill(0);
      for (let j = 0; j < layer.fan_out; j++) {
        let s = 0;
        for (let i = 0; i < layer.fan_in; i++) s += row[i] * W[i * layer.fan_out + j];
        o[j] = layer.multiplier * s + (b ? layer.bias_multiplier * b[j] : 0);
      }
      return o;
    });
    zs.push(z);
    h = l < L ? z.map((r) => r.map((v) => act(model.activation, v, model.epsilon))) : z;
  });
  return { zs, hs, out: h.map((r) => r.map((v) => v * model.output_scale)) };
}

/** mse (1/2N)Σ(f−y)² or cross_entropy −(1/N)Σ y log softmax f; `f0` subtracted when given (centered). */
export function loss64(kind: 'mse' | 'cross_entropy', f: number[][], Y: number[][], f0?: number[][]): number {
  let s = 0;
  f.forEach((row, i) => {
    const r = row.map((v, k) => v - (f0 ? f0[i][k] : 0));
    if (kind === 'mse') r.forEach((v, k) => (s += 0.5 * (v - Y[i][k]) ** 2));
    else {
      const m = Math.max(...r);
      const lse = m + Math.log(r.reduce((a, v) => a + Math.exp(v - m), 0));
      r.forEach((v, k) => (s -= Y[i][k] * (v - lse)));
    }
  });
  return s / f.length;
}

/** Backprop of the loss (float64, by hand). */
export function grad64(model: MlpModel, P: Params64, X: number[][], Y: number[][], kind: 'mse' | 'cross_entropy' = 'mse', f0?: number[][]): Params64 {
  const { zs, hs, out } = forward64(model, P, X);
  const N = X.length;
  const alpha = model.output_scale;
  // dL/dz_L = α·dL/df
  let delta = out.map((row, i) => {
    const r = row.map((v, k) => v - (f0 ? f0[i][k] : 0));
    if (kind === 'mse') return r.map((v, k) => (alpha * (v - Y[i][k])) / N);
    const m = Math.max(...r);
    const e = r.map((v) => Math.exp(v - m));
    const s = e.reduce((a, v) => a + v, 0);
    return e.map((v, k) => (alpha * (v / s - Y[i][k])) / N);
  });
  const G: Params64 = {};
  for (let l = model.layers.length - 1; l >= 0; l--) {
    const layer = model.layers[l];
    const gW = new Float64Array(layer.fan_in * layer.fan_out);
    hs[l].forEach((row, n) => {
      for (let i = 0; i < layer.fan_in; i++) for (let j = 0; j < layer.fan_out; j++) gW[i * layer.fan_out + j] += layer.multiplier * row[i] * delta[n][j];
    });
    G[layer.weight] = gW;
    if (layer.bias) {
      const gb = new Float64Array(layer.fan_out);
      delta.forEach((row) => row.forEach((v, j) => (gb[j] += layer.bias_multiplier * v)));
      G[layer.bias] = gb;
    }
    if (l > 0) {
      const W = P[layer.weight];
      delta = delta.map((row, n) =>
        Array.from({ length: layer.fan_in }, (_, i) => {
          let s = 0;
          for (let j = 0; j < layer.fan_out; j++) s += W[i * layer.fan_out + j] * row[j];
          return layer.multiplier * s * dact(model.activation, zs[l - 1][n][i], model.epsilon);
        }),
      );
    }
  }
  return G;
}

/** Central finite differences of a scalar function of the parameters. */
export function fdGrad(f: (P: Params64) => number, P: Params64, h = 1e-6): Params64 {
  const G: Params64 = {};
  for (const [name, v] of Object.entries(P)) {
    const g = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const keep = v[i];
      v[i] = keep + h;
      const up = f(P);
      v[i] = keep - h;
      const dn = f(P);
      v[i] = keep;
      g[i] = (up - dn) / (2 * h);
    }
    G[name] = g;
  }
  return G;
}

/** max |a − b| / max(max |b|, floor) over all parameters. */
export function relErr(a: Params64, b: Params64, floor = 1e-8): number {
  let num = 0;
  let den = floor;
  for (const k of Object.keys(b)) {
    b[k].forEach((v, i) => {
      num = Math.max(num, Math.abs(a[k][i] - v));
      den = Math.max(den, Math.abs(v));
    });
  }
  return num / den;
}

export function clone64(P: Params64): Params64 {
  return Object.fromEntries(Object.entries(P).map(([k, v]) => [k, Float64Array.from(v)]));
}

/** Deterministic inputs (exact float32 values). */
export function data(n: number, d: number, seed: number): number[][] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () =>
    Array.from({ length: d }, () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return Math.fround((s / 2 ** 32) * 2 - 1);
    }),
  );
}
