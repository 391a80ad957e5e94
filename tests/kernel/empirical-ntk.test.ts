/**
 * kernel.empirical_ntk against a float64 explicit Jacobian (central differences of a float64 forward
 * pass written here) on tiny nets — every activation, both parameterisations, given and seeded
 * parameters — and, at width 4096 on 64 points (wasm), against the infinite-width ReLU NTK/NNGP
 * written here from the arc-cosine recursions.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ParamError, ShapeError } from '../../core/operator/index.js';
import { empiricalNtk } from '../../operators/kernel/empirical-ntk.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params, sequence } from '../helpers/dense-reference.js';

type Layer = Record<string, unknown> & { type: string };
type Out = Record<string, tf.Tensor | Record<string, tf.Tensor>>;

const erf64 = (x: number): number => {
  // Abramowitz–Stegun 7.1.26 is too coarse; use the series / continued fraction via erfc.
  const t = Math.abs(x);
  if (t < 3) {
    let sum = t;
    let term = t;
    for (let k = 1; k < 200; k++) {
      term *= (-t * t) / k;
      const add = term / (2 * k + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (Math.sign(x) * 2 * sum) / Math.sqrt(Math.PI);
  }
  // erfc continued fraction (Lentz) for |x| ≥ 3
  let f = t;
  let C = t;
  let D = 0;
  for (let k = 1; k < 200; k++) {
    const a = k / 2;
    D = t + a * D;
    D = 1 / D;
    C = t + a / C;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-t * t) / (Math.sqrt(Math.PI) * f);
  return Math.sign(x) * (1 - erfc);
};

function act64(l: Layer, z: number): number {
  const n = (k: string, dflt: number) => (l[k] as number | undefined) ?? dflt;
  switch (l.type) {
    case 'relu': return Math.max(z, 0);
    case 'abrelu': return z < 0 ? n('a', 0) * z : n('b', 1) * z;
    case 'leaky_relu': return z < 0 ? n('alpha', 0.01) * z : z;
    case 'abs': return Math.abs(z);
    case 'identity': return z;
    case 'tanh': return Math.tanh(z);
    case 'erf': return n('a', 1) * erf64(n('b', 1) * z) + n('c', 0);
    case 'sigmoid_like': return 0.5 * erf64(z / 2.4020563531719796) + 0.5;
    case 'gelu': return z * 0.5 * (1 + erf64(z / Math.SQRT2));
    case 'sin': return n('a', 1) * Math.sin(n('b', 1) * z + n('c', 0));
    case 'cos': return n('a', 1) * Math.cos(n('b', 1) * z + n('c', 0));
    default: throw new Error(l.type);
  }
}

/** float64 forward pass of the raw-parameter network (as the operator documents it). */
function forward64(x: number[], layers: Layer[], w: Record<string, Float64Array>, standard: boolean): number[] {
  let h = x;
  let i = 0;
  for (const l of layers) {
    if (l.type !== 'dense') {
      h = h.map((z) => act64(l, z));
      continue;
    }
    const nIn = h.length;
    const nOut = (l.width as number | undefined) ?? 1;
    const W = w[`W${i}`];
    const b = w[`b${i}`];
    const cw = standard ? 1 : ((l.W_std as number | undefined) ?? 1) / Math.sqrt(nIn);
    const cb = standard ? 1 : ((l.b_std as number | undefined) ?? 0);
    h = Array.from({ length: nOut }, (_, j) => {
      let s = 0;
      for (let k = 0; k < nIn; k++) s += h[k] * W[k * nOut + j];
      return cw * s + (l.b_std !== undefined ? cb * b[j] : 0);
    });
    i++;
  }
  return h;
}

/** Θ = (1/k)·Σ_o J_o(x)·J_o(x′) with J by float64 central differences over every raw parameter. */
function ntk64(x1: number[][], x2: number[][], layers: Layer[], w: Record<string, Float64Array>, standard: boolean): { ntk: number[][]; nngp: number[][] } {
  const jac = (x: number[]): number[][] => {
    const cols: number[][] = [];
    for (const name of Object.keys(w).sort()) {
      const p = w[name];
      for (let j = 0; j < p.length; j++) {
        const v = p[j];
        const eps = 1e-5 * Math.max(1, Math.abs(v));
        p[j] = v + eps;
        const fp = forward64(x, layers, w, standard);
        p[j] = v - eps;
        const fm = forward64(x, layers, w, standard);
        p[j] = v;
        cols.push(fp.map((f, o) => (f - fm[o]) / (2 * eps)));
      }
    }
    return cols; // [param][output]
  };
  const J1 = x1.map(jac);
  const J2 = x2.map(jac);
  const f1 = x1.map((x) => forward64(x, layers, w, standard));
  const f2 = x2.map((x) => forward64(x, layers, w, standard));
  const k = f1[0].length;
  return {
    ntk: J1.map((a) => J2.map((b) => a.reduce((s, col, p) => s + col.reduce((t, v, o) => t + v * b[p][o], 0), 0) / k)),
    nngp: f1.map((a) => f2.map((b) => a.reduce((s, v, o) => s + v * b[o], 0) / k)),
  };
}

const rows = (shape: [number, number], seed: number, scale = 1): number[][] => {
  const s = sequence(shape, seed).data;
  return Array.from({ length: shape[0] }, (_, i) => s.slice(i * shape[1], (i + 1) * shape[1]).map((v) => v * scale));
};

const ACTS: Layer[] = [
  { type: 'relu' },
  { type: 'abrelu', a: -0.3, b: 0.8 },
  { type: 'leaky_relu', alpha: 0.1 },
  { type: 'abs' },
  { type: 'identity' },
  { type: 'tanh' },
  { type: 'erf', a: 1.2, b: 0.7, c: 0.1 },
  { type: 'sigmoid_like' },
  { type: 'gelu' },
  { type: 'sin', a: 1.1, b: 0.9, c: 0.3 },
  { type: 'cos', b: 1.3 },
];
const net = (act: Layer): Layer[] => [
  { type: 'dense', W_std: 1.3, b_std: 0.2, width: 6 },
  act,
  { type: 'dense', W_std: 0.9, width: 5 },
  act,
  { type: 'dense', W_std: 1.1, b_std: 0.1, width: 2 },
];

async function hostOf(t: tf.Tensor): Promise<number[][]> {
  return (await t.array()) as number[][];
}
function maxRelErr(got: number[][], want: number[][]): number {
  const scale = Math.max(...want.flat().map(Math.abs));
  return Math.max(...got.flat().map((g, i) => Math.abs(g - want.flat()[i]))) / scale;
}

const X1 = rows([4, 3], 3);
const X2 = rows([3, 3], 4);

for (const backend of testBackends()) {
  describe(`kernel.empirical_ntk on ${backend}`, () => {
    for (const parameterization of ['ntk', 'standard'] as const) {
      it(`every activation, ${parameterization}: matches a float64 finite-difference Jacobian (rel ≤ 1e-5), seeded params`, async () => {
        await useBackend(backend);
        const before = tf.memory().numTensors;
        const x1 = tf.tensor2d(X1);
        const x2 = tf.tensor2d(X2);
        for (const act of backend === 'wasm' ? ACTS : ACTS.filter((_, i) => i % 3 === 0 || act_is_smooth(i))) {
          const layers = net(act);
          const p = params(empiricalNtk, { layers, parameterization, return_params: true });
          const out = tf.tidy(() => empiricalNtk.run({ x1, x2 }, p, testContext({ seed: 7 })) as Out);
          const drawn = out.params as Record<string, tf.Tensor>;
          const w: Record<string, Float64Array> = {};
          for (const [name, t] of Object.entries(drawn)) w[name] = Float64Array.from(await t.data());
          const want = ntk64(X1, X2, layers, w, parameterization === 'standard');
          const e1 = maxRelErr(await hostOf(out.ntk as tf.Tensor), want.ntk);
          const e2 = maxRelErr(await hostOf(out.nngp as tf.Tensor), want.nngp);
          expect(e1, `${act.type} ntk`).toBeLessThan(1e-5);
          expect(e2, `${act.type} nngp`).toBeLessThan(1e-5);
          tf.dispose([out.ntk as tf.Tensor, out.nngp as tf.Tensor, ...Object.values(drawn)]);
        }
        tf.dispose([x1, x2]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }

    it('width 2304 (long contractions) matches the float64 closed form of a one-hidden-layer tanh network', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const width = 2304;
      const layers: Layer[] = [{ type: 'dense', W_std: 1.3, b_std: 0.2, width }, { type: 'tanh' }, { type: 'dense', W_std: 0.8, b_std: 0.5 }];
      const X = rows([24, 3], 8);
      const x1 = tf.tensor2d(X);
      const out = tf.tidy(() => empiricalNtk.run({ x1 }, params(empiricalNtk, { layers, return_params: true }), testContext({ seed: 4 })) as Out);
      const w = out.params as Record<string, tf.Tensor>;
      const [W0, b0, W1] = await Promise.all([w.W0.data(), w.b0.data(), w.W1.data()]);
      // f = c₂·Σ_j v_j tanh(z_j) + β₂b₂, z = c₁·x·W₀ + β₁b₀: Θ = c₂²Σ_j σ_jσ′_j + β₂² + c₂²Σ_j v_j² σ̇_jσ̇′_j (c₁²x·x′ + β₁²).
      const d = X[0].length;
      const [c1, b1, c2, b2] = [1.3 / Math.sqrt(d), 0.2, 0.8 / Math.sqrt(width), 0.5];
      const z = X.map((x) => Array.from({ length: width }, (_, j) => c1 * x.reduce((s, v, i) => s + v * W0[i * width + j], 0) + b1 * b0[j]));
      const want = X.map((x, a) =>
        X.map((y, b) => {
          const xy = c1 * c1 * x.reduce((s, v, i) => s + v * y[i], 0) + b1 * b1;
          let t = b2 * b2;
          for (let j = 0; j < width; j++) {
            const [ta, tb] = [Math.tanh(z[a][j]), Math.tanh(z[b][j])];
            t += c2 * c2 * (ta * tb + W1[j] ** 2 * (1 - ta * ta) * (1 - tb * tb) * xy);
          }
          return t;
        }),
      );
      expect(maxRelErr(await hostOf(out.ntk as tf.Tensor), want)).toBeLessThan(1e-5);
      tf.dispose([x1, out.ntk as tf.Tensor, out.nngp as tf.Tensor, ...Object.values(w)]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('given params are used, x2 absent gives the exactly symmetric kernel of x1, no leaks', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const layers = net({ type: 'erf' });
      const shapes: Record<string, number[]> = { W0: [3, 6], b0: [6], W1: [6, 5], W2: [5, 2], b2: [2] };
      const w: Record<string, Float64Array> = {};
      const given: Record<string, tf.Tensor> = {};
      Object.entries(shapes).forEach(([name, shape], i) => {
        const s = sequence(shape.length === 1 ? [shape[0], 1] : (shape as [number, number]), 20 + i).data;
        given[name] = tf.tensor(s, shape);
        w[name] = Float64Array.from(s);
      });
      const x1 = tf.tensor2d(X1);
      const p = params(empiricalNtk, { layers, parameterization: 'ntk' });
      const out = tf.tidy(() => empiricalNtk.run({ x1, params: given }, p, testContext({ seed: 1 })) as Out);
      expect(out.params).toBeUndefined();
      const got = await hostOf(out.ntk as tf.Tensor);
      const want = ntk64(X1, X1, layers, w, false);
      expect(maxRelErr(got, want.ntk)).toBeLessThan(2e-5);
      got.forEach((r, i) => r.forEach((v, j) => expect(v).toBe(got[j][i])));
      // A missing bias entry is a structured error.
      const { b0: _drop, ...rest } = given;
      expect(() => tf.tidy(() => empiricalNtk.run({ x1, params: rest }, p, testContext()) as Out)).toThrow(/b0/);
      tf.dispose([x1, out.ntk as tf.Tensor, out.nngp as tf.Tensor, ...Object.values(given)]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

/** The smooth activations are the ones most sensitive to derivative bugs: keep them on every backend. */
function act_is_smooth(i: number): boolean {
  return ['tanh', 'gelu', 'erf', 'sin', 'cos'].includes(ACTS[i].type);
}

describe('static checks', () => {
  const meta = (shape: (number | null)[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape });
  const ctx = { node: 'n', op: 'kernel.empirical_ntk', resolvePath: (q: string) => q };
  const sh = (layers: Layer[], inputs: Record<string, unknown> = {}) =>
    empiricalNtk.shape!({ x1: meta([5, 3]), ...inputs } as never, params(empiricalNtk, { layers }), ctx);
  it('infers [n1, n2], rejects bad stacks with pointers', () => {
    expect(sh(net({ type: 'relu' }), { x2: meta([null, 3]) })).toEqual({ ntk: [5, null], nngp: [5, null] });
    expect(() => sh([{ type: 'relu' }, { type: 'dense' }])).toThrow(ParamError);
    expect(() => sh([{ type: 'dense' }, { type: 'relu' }, { type: 'dense' }])).toThrow(/width/);
    expect(() => sh([{ type: 'dense', width: 3 }], { x2: meta([2, 4]) })).toThrow(ShapeError);
    expect(() => sh([{ type: 'dense', width: 3 }], { params: { kind: 'tensors', entries: { W0: meta([4, 3]) } } })).toThrow(ShapeError);
    expect(() => params(empiricalNtk, { layers: [{ type: 'conv' }] })).toThrow();
    try {
      sh([{ type: 'dense', width: 2 }, { type: 'relu' }, { type: 'dense', width: 2 }, { type: 'relu' }, { type: 'dense', width: 3 }, { type: 'dense' }]);
    } catch (e) {
      expect.unreachable(String(e));
    }
    try {
      sh([{ type: 'dense' }, { type: 'relu' }, { type: 'dense' }]);
      expect.unreachable();
    } catch (e) {
      expect((e as ParamError).pointer).toBe('/params/layers/0/width');
    }
  });
});

/** Infinite-width ReLU NNGP and NTK (ntk parameterisation), float64, from the arc-cosine recursions. */
function reluLimit(x: number[][], Ws: number[], bs: number[]): { nngp: number[][]; ntk: number[][] } {
  const n = x.length;
  const d = x[0].length;
  let K = x.map((a) => x.map((b) => a.reduce((s, v, i) => s + v * b[i], 0) / d));
  let T = K.map((r) => r.map(() => 0));
  for (let l = 0; l < Ws.length; l++) {
    if (l > 0) {
      // relu on the previous dense output
      const q = K.map((r, i) => r[i]);
      const Kn = K.map((r) => r.slice());
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const th = i === j ? 0 : Math.atan2(Math.sqrt(Math.max(q[i] * q[j] - K[i][j] ** 2, 0)), K[i][j]);
          Kn[i][j] = (Math.sqrt(q[i] * q[j]) * (Math.sin(th) + (Math.PI - th) * Math.cos(th))) / (2 * Math.PI);
          T[i][j] *= (Math.PI - th) / (2 * Math.PI);
        }
      }
      K = Kn;
    }
    K = K.map((r) => r.map((v) => Ws[l] ** 2 * v + bs[l] ** 2));
    T = T.map((r, i) => r.map((v, j) => K[i][j] + Ws[l] ** 2 * v));
  }
  return { nngp: K, ntk: T };
}

describe('width 4096, 64 points (wasm)', () => {
  it('runs in seconds and is within Monte Carlo error of the infinite-width ReLU kernels', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const X = rows([64, 8], 9, 0.8);
    const layers: Layer[] = [
      { type: 'dense', W_std: 1.4, b_std: 0.1, width: 4096 },
      { type: 'relu' },
      { type: 'dense', W_std: 1.4, b_std: 0.1, width: 4096 },
      { type: 'relu' },
      { type: 'dense', W_std: 1.4, b_std: 0.1 },
    ];
    const x = tf.tensor2d(X);
    const t0 = performance.now();
    const out = tf.tidy(() => empiricalNtk.run({ x1: x }, params(empiricalNtk, { layers }), testContext({ seed: 3 })) as Out);
    const got = await hostOf(out.ntk as tf.Tensor);
    const ms = performance.now() - t0;
    const want = reluLimit(X, [1.4, 1.4, 1.4], [0.1, 0.1, 0.1]);
    const rel = Math.sqrt(got.flat().reduce((s, v, i) => s + (v - want.ntk.flat()[i]) ** 2, 0) / want.ntk.flat().reduce((s, v) => s + v * v, 0));
    expect(rel, `relative Frobenius error ${rel}`).toBeLessThan(0.05);
    expect(ms, `took ${ms.toFixed(0)} ms`).toBeLessThan(20_000);
    tf.dispose([x, out.ntk as tf.Tensor, out.nngp as tf.Tensor]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('against kernel.nn (part A), width 2048 (wasm)', () => {
  it('the empirical NTK (one network) and the NNGP (mean over networks and outputs) approach the analytic kernels', async () => {
    await useBackend('wasm');
    const { nn } = await import('../../operators/kernel/nn.js');
    const before = tf.memory().numTensors;
    const X = rows([16, 5], 12);
    const x = tf.tensor2d(X);
    const hidden: Layer[] = [
      { type: 'dense', W_std: 1.5, b_std: 0.2, width: 2048 },
      { type: 'erf' },
      { type: 'dense', W_std: 1.2, b_std: 0.1, width: 2048 },
      { type: 'relu' },
    ];
    const exact = (await nn.run({ x1: x }, params(nn, { layers: [...hidden, { type: 'dense', W_std: 0.9, b_std: 0.3 }], outputs: ['ntk'] }), testContext())) as Record<string, tf.Tensor>;
    const T = (await exact.ntk.data()) as Float32Array;
    const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let num = 0;
      let den = 0;
      for (let i = 0; i < b.length; i++) {
        num += (a[i] - b[i]) ** 2;
        den += b[i] ** 2;
      }
      return Math.sqrt(num / den);
    };
    // NTK: one network with one output.
    const one = tf.tidy(() => empiricalNtk.run({ x1: x }, params(empiricalNtk, { layers: [...hidden, { type: 'dense', W_std: 0.9, b_std: 0.3 }] }), testContext({ seed: 1 })) as Out);
    const eNtk = rel((await (one.ntk as tf.Tensor).data()) as Float32Array, T);
    // NNGP: f f′ᵀ is one Gaussian draw per output; average 4 one-hidden-layer networks × 512 outputs
    // (2048 draws: ≈ 3% expected error) against kernel.nn of the same one-hidden-layer stack.
    const shallow: Layer[] = [{ type: 'dense', W_std: 1.5, b_std: 0.2, width: 2048 }, { type: 'erf' }];
    const exact1 = (await nn.run({ x1: x }, params(nn, { layers: [...shallow, { type: 'dense', W_std: 0.9, b_std: 0.3 }], outputs: ['nngp'] }), testContext())) as Record<string, tf.Tensor>;
    const K = (await exact1.nngp.data()) as Float32Array;
    const mean = new Float64Array(K.length);
    for (let s = 0; s < 4; s++) {
      const o = tf.tidy(() => empiricalNtk.run({ x1: x }, params(empiricalNtk, { layers: [...shallow, { type: 'dense', W_std: 0.9, b_std: 0.3, width: 512 }], outputs: ['nngp'] }), testContext({ seed: 10 + s })) as Out);
      const v = (await (o.nngp as tf.Tensor).data()) as Float32Array;
      v.forEach((val, i) => (mean[i] += val / 4));
      expect(o.ntk).toBeUndefined();
      tf.dispose(o.nngp as tf.Tensor);
    }
    const eNngp = rel(mean, K);
    // Measured 0.058 (seed 1); two hidden layers fluctuate ≈ 2.5/√width.
    expect(eNtk, `NTK relative Frobenius error ${eNtk}`).toBeLessThan(0.1);
    expect(eNngp, `NNGP relative Frobenius error ${eNngp}`).toBeLessThan(0.08);
    tf.dispose([x, one.ntk as tf.Tensor, one.nngp as tf.Tensor, ...Object.values(exact), ...Object.values(exact1)]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
