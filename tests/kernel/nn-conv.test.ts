/**
 * kernel.nn on [n, P, C] inputs (1-D convolutional NNGP / NTK) against a float64 reference written
 * here from the recursions with plain loops. The reference always tracks the full position-pair
 * covariance [n1, n2, P, P], so flatten networks also test that the operator's diagonal-only
 * recursion is exact.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParamError } from '../../core/operator/index.js';
import { nn } from '../../operators/kernel/nn.js';
import { eigh } from '../../operators/linalg/index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params, sequence } from '../helpers/dense-reference.js';
import { actPair, type Mat, maxRelErr, refLayers } from './ref.js';

type Layer = Record<string, any>;
type X = number[][][]; // [n][P][C]
type Pair = number[][][][]; // [a][b][i][j]

const meta = (shape: (number | null)[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape });
const sctx = { node: 'n', op: 'kernel.nn', resolvePath: (p: string) => p };

function xOf(n: number, P: number, C: number, seed: number): X {
  const flat = sequence([n, P, C], seed).data;
  return Array.from({ length: n }, (_, a) => Array.from({ length: P }, (_, i) => flat.slice((a * P + i) * C, (a * P + i + 1) * C)));
}

// ---- float64 reference.
interface Ref {
  K: Pair;
  T: Pair;
  V1: number[][][]; // each row sample's own [P, P] covariance
  V2: number[][][];
  width: number; // channels of the current representation (fan-in of a "standard" layer)
}

/** (1/F)·Σ_δ X(i+δ, j+δ): 'same' skips taps out of range, 'circular' wraps them. */
function convMean(X: number[][], F: number, padding: string): number[][] {
  const P = X.length;
  const h = (F - 1) / 2;
  return X.map((row, i) =>
    row.map((_, j) => {
      let sum = 0;
      for (let d = -h; d <= h; d++) {
        let ii = i + d;
        let jj = j + d;
        if (padding === 'circular') {
          ii = ((ii % P) + P) % P;
          jj = ((jj % P) + P) % P;
        } else if (ii < 0 || ii >= P || jj < 0 || jj >= P) continue;
        sum += X[ii][jj];
      }
      return sum / F;
    }),
  );
}

/** The spatial layers (conv, activations, residual) on Σ(a,b,i,j), Θ and each sample's own covariance. */
function refSpatial(layers: Layer[], s: Ref, param: 'ntk' | 'standard', sym: boolean): Ref {
  for (const l of layers) {
    if (l.type === 'residual') {
      const br = refSpatial(l.branch, s, param, sym);
      const add4 = (u: Pair, v: Pair) => u.map((row, a) => row.map((k, b) => k.map((r, i) => r.map((x, j) => x + v[a][b][i][j]))));
      const add3 = (u: number[][][], v: number[][][]) => u.map((m, a) => m.map((r, i) => r.map((x, j) => x + v[a][i][j])));
      s = { K: add4(s.K, br.K), T: add4(s.T, br.T), V1: add3(s.V1, br.V1), V2: add3(s.V2, br.V2), width: s.width };
    } else if (l.type === 'conv') {
      const F = l.filter ?? 3;
      const pad = l.padding ?? 'same';
      const w2 = (l.W_std ?? 1) ** 2;
      const b2 = l.b_std === undefined ? 0 : l.b_std ** 2;
      const aff = (m: number[][]) => convMean(m, F, pad).map((r) => r.map((v) => w2 * v + b2));
      const K = s.K.map((row) => row.map(aff));
      const T = s.K.map((row, a) =>
        row.map((k, b) => {
          const mk = convMean(k, F, pad);
          const mt = convMean(s.T[a][b], F, pad);
          return mk.map((r, i) =>
            r.map((v, j) => (param === 'ntk' ? K[a][b][i][j] + w2 * mt[i][j] : s.width * F * v + w2 * mt[i][j] + (l.b_std === undefined ? 0 : 1))),
          );
        }),
      );
      s = { K, T, V1: s.V1.map(aff), V2: s.V2.map(aff), width: l.width ?? NaN };
    } else {
      // activation: entrywise on position pairs, with the variances q(a,i) = V(a,i,i)
      const pairs = s.K.map((row, a) =>
        row.map((k, b) => k.map((r, i) => r.map((v, j) => actPair(l, s.V1[a][i][i], s.V2[b][j][j], v, sym && a === b && i === j)))),
      );
      const self = (V: number[][]) => V.map((r, i) => r.map((v, j) => actPair(l, V[i][i], V[j][j], v, i === j)[0]));
      s = {
        K: pairs.map((row) => row.map((k) => k.map((r) => r.map((p) => p[0])))),
        T: pairs.map((row, a) => row.map((k, b) => k.map((r, i) => r.map((p, j) => p[1] * s.T[a][b][i][j])))),
        V1: s.V1.map(self),
        V2: s.V2.map(self),
        width: s.width,
      };
    }
  }
  return s;
}

/** Float64 NNGP/NTK of a conv network: spatial layers on Σ(a,b,i,j), then readout, then the flat recursion of ./ref.ts. */
function refConv(layers: Layer[], x1: X, x2: X | undefined, param: 'ntk' | 'standard'): { nngp: Mat; ntk: Mat } {
  const sym = x2 === undefined;
  const xb = x2 ?? x1;
  const P = x1[0].length;
  const C = x1[0][0].length;
  const cov = (u: number[][], v: number[][]) => u.map((ui) => v.map((vj) => ui.reduce((s, t, c) => s + t * vj[c], 0) / C));
  let s: Ref = {
    K: x1.map((u) => xb.map((v) => cov(u, v))),
    T: x1.map(() => xb.map(() => Array.from({ length: P }, () => new Array<number>(P).fill(0)))),
    V1: x1.map((u) => cov(u, u)),
    V2: xb.map((v) => cov(v, v)),
    width: C,
  };
  const at = layers.findIndex((l) => l.type === 'global_avg_pool' || l.type === 'flatten');
  s = refSpatial(layers.slice(0, at), s, param, sym);
  const pool = layers[at].type === 'global_avg_pool';
  // pool: mean over all (i, j); flatten: mean over i = j.
  const red = (m: number[][]) => (pool ? m.flat().reduce((u, v) => u + v, 0) / (P * P) : m.reduce((u, r, i) => u + r[i], 0) / P);
  const flat = refLayers(
    layers.slice(at + 1),
    {
      K: s.K.map((row) => row.map(red)),
      T: s.T.map((row) => row.map(red)),
      q1: s.V1.map(red),
      q2: s.V2.map(red),
      width: s.width * (pool ? 1 : P),
    },
    param,
    sym,
  );
  return { nngp: flat.K, ntk: flat.T };
}

// ---- the operator.
async function runNn(x1: tf.Tensor, x2: tf.Tensor | undefined, given: Record<string, unknown>): Promise<{ nngp: Float32Array; ntk: Float32Array }> {
  const before = tf.memory().numTensors;
  const out = (await nn.run({ x1, x2 }, params(nn, given), testContext())) as { nngp: tf.Tensor; ntk: tf.Tensor };
  const res = { nngp: (await out.nngp.data()) as Float32Array, ntk: (await out.ntk.data()) as Float32Array };
  tf.dispose([out.nngp, out.ntk]);
  expect(tf.memory().numTensors).toBe(before);
  return res;
}

const conv = (filter: number, W_std: number, b_std: number | undefined, width: number, padding: string): Layer => ({
  type: 'conv',
  filter,
  W_std,
  ...(b_std === undefined ? {} : { b_std }),
  width,
  padding,
});
const STACKS = (padding: string): [string, Layer[]][] => [
  [
    'conv→relu→conv→relu→flatten→dense',
    [conv(3, 1.3, 0.2, 5, padding), { type: 'relu' }, conv(3, 1.1, 0.1, 4, padding), { type: 'relu' }, { type: 'flatten' }, { type: 'dense', W_std: 0.9, b_std: 0.1 }],
  ],
  ['conv→relu→global_avg_pool→dense', [conv(3, 1.2, 0.1, 6, padding), { type: 'relu' }, { type: 'global_avg_pool' }, { type: 'dense', W_std: 1.0, b_std: 0.2 }]],
  [
    'conv5→erf→conv1 (no bias)→relu→pool→dense→relu→dense',
    [
      conv(5, 1.4, 0.3, 3, padding),
      { type: 'erf', a: 1.2, b: 0.8, c: 0.1 },
      conv(1, 1.1, undefined, 4, padding),
      { type: 'relu' },
      { type: 'global_avg_pool' },
      { type: 'dense', W_std: 1.3, b_std: 0.1, width: 7 },
      { type: 'relu' },
      { type: 'dense', W_std: 0.8, b_std: 0.05 },
    ],
  ],
  [
    'conv→residual(relu→conv)→relu→flatten→dense',
    [
      conv(3, 1.2, 0.1, 4, padding),
      { type: 'residual', branch: [{ type: 'relu' }, conv(3, 0.9, 0.05, 4, padding)] },
      { type: 'relu' },
      { type: 'flatten' },
      { type: 'dense', W_std: 1.0, b_std: 0.1 },
    ],
  ],
];

// P = 4 < filter 5 exercises wrap-around beyond one period (circular) and all-but-one taps out of range (same).
const [P, C] = [4, 3];
const X1 = xOf(5, P, C, 31);
const X2 = xOf(3, P, C, 32);

describe('kernel.nn convolutional: shape and validation', () => {
  const shape = (layers: unknown, x1 = meta([5, 6, 3]), x2?: ReturnType<typeof meta>, extra: Record<string, unknown> = {}) =>
    nn.shape!({ x1, x2 }, params(nn, { layers, ...extra }), sctx);
  const pointerOf = (f: () => unknown): [string, string] => {
    try {
      f();
    } catch (e) {
      return [(e as Error).name, (e as ParamError).pointer];
    }
    return ['none', ''];
  };
  const pooled = [{ type: 'conv' }, { type: 'relu' }, { type: 'global_avg_pool' }, { type: 'dense' }];
  it('infers [n1, n2]', () => {
    expect(shape(pooled, meta([5, 6, 3]), meta([null, 6, 3]))).toEqual({ nngp: [5, null], ntk: [5, null] });
    expect(shape([{ type: 'conv' }, { type: 'relu' }, { type: 'flatten' }], meta([5, 6, 3]), undefined, { outputs: ['ntk'] })).toEqual({ ntk: [5, 5] });
    expect(shape([{ type: 'conv', width: 8 }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense' }], meta([5, 6, 3]), undefined, { parameterization: 'standard' })).toEqual({
      nngp: [5, 5],
      ntk: [5, 5],
    });
  });
  it('rejects misplaced layers, even filters and mismatched inputs with pointers', () => {
    expect(pointerOf(() => shape([{ type: 'conv' }, { type: 'relu' }, { type: 'flatten' }], meta([5, 3])))).toEqual(['ParamError', '/params/layers/0']);
    expect(pointerOf(() => shape([{ type: 'dense' }, { type: 'relu' }, { type: 'global_avg_pool' }], meta([5, 3])))).toEqual(['ParamError', '/params/layers/2']);
    expect(pointerOf(() => shape([{ type: 'dense' }, { type: 'relu' }, { type: 'flatten' }]))).toEqual(['ParamError', '/params/layers/0']);
    expect(pointerOf(() => shape([{ type: 'conv' }, { type: 'relu' }, { type: 'dense' }]))).toEqual(['ParamError', '/params/layers/2']);
    expect(pointerOf(() => shape([{ type: 'conv', filter: 4 }, { type: 'flatten' }]))).toEqual(['ParamError', '/params/layers/0/filter']);
    expect(pointerOf(() => shape([{ type: 'conv', padding: 'valid' }, { type: 'flatten' }]))).toEqual(['ParamError', '/params/layers/0/padding']);
    expect(pointerOf(() => shape([{ type: 'conv' }, { type: 'relu' }]))).toEqual(['ParamError', '/params/layers']);
    expect(pointerOf(() => shape([{ type: 'conv' }, { type: 'global_avg_pool' }, { type: 'conv' }]))).toEqual(['ParamError', '/params/layers/2']);
    expect(pointerOf(() => shape([{ type: 'conv' }, { type: 'flatten' }, { type: 'relu' }, { type: 'dense' }]))).toEqual(['ParamError', '/params/layers/2']);
    expect(pointerOf(() => shape([{ type: 'conv' }, { type: 'residual', branch: [{ type: 'relu' }, { type: 'flatten' }] }, { type: 'flatten' }]))).toEqual([
      'ParamError',
      '/params/layers/1',
    ]);
    expect(pointerOf(() => shape([{ type: 'relu' }, { type: 'flatten' }]))).toEqual(['ParamError', '/params/layers/0']);
    expect(pointerOf(() => shape([{ type: 'conv' }, { type: 'relu' }, { type: 'conv' }, { type: 'flatten' }, { type: 'dense' }], meta([5, 6, 3]), undefined, { parameterization: 'standard' }))).toEqual([
      'ParamError',
      '/params/layers/0/width',
    ]);
    expect(pointerOf(() => shape(pooled, meta([5, 6, 3]), meta([4, 5, 3])))).toEqual(['ShapeError', '/inputs/x2']);
    expect(pointerOf(() => shape(pooled, meta([5, 6, 3]), meta([4, 3])))).toEqual(['ShapeError', '/inputs/x2']);
    expect(pointerOf(() => shape(pooled, meta([5, 6, 3, 1])))).toEqual(['ShapeError', '/inputs/x1']);
  });
});

describe('kernel.nn convolutional: float64 self-check of the reference', () => {
  it('P = 1 with filter-1 convs is the dense network', async () => {
    const { refNn } = await import('./ref.js');
    const x = X1.map((u) => [u[0]]);
    const layers = (kind: string): Layer[] => [
      kind === 'conv' ? conv(1, 1.3, 0.2, 5, 'same') : { type: 'dense', W_std: 1.3, b_std: 0.2, width: 5 },
      { type: 'relu' },
      ...(kind === 'conv' ? [{ type: 'flatten' }] : []),
      { type: 'dense', W_std: 0.9, b_std: 0.1 },
    ];
    for (const param of ['ntk', 'standard'] as const) {
      const got = refConv(layers('conv'), x, undefined, param);
      const want = refNn(layers('dense'), x.map((u) => u[0]), undefined, param);
      expect(maxRelErr(got.nngp.flat(), want.nngp)).toBeLessThan(1e-12);
      expect(maxRelErr(got.ntk.flat(), want.ntk)).toBeLessThan(1e-12);
    }
  });
});

const tensor3 = (x: X) => tf.tensor3d(x);

for (const backend of testBackends()) {
  describe(`kernel.nn convolutional on ${backend}`, () => {
    beforeAll(async () => {
      await useBackend(backend);
    });
    for (const param of ['ntk', 'standard'] as const) {
      for (const padding of ['same', 'circular']) {
        it(`agrees with the float64 reference (${param}, ${padding}, symmetric and cross)`, async () => {
          const a = tensor3(X1);
          const b = tensor3(X2);
          const worst: Record<string, number> = {};
          for (const [name, layers] of STACKS(padding)) {
            for (const sym of [true, false]) {
              const got = await runNn(a, sym ? undefined : b, { layers, parameterization: param });
              const want = refConv(layers, X1, sym ? undefined : X2, param);
              const e = Math.max(maxRelErr(got.nngp, want.nngp), maxRelErr(got.ntk, want.ntk));
              worst[`${name} ${sym ? 'sym' : 'cross'}`] = e;
            }
          }
          tf.dispose([a, b]);
          for (const [name, e] of Object.entries(worst)) expect(e, `${name}: rel err ${e.toExponential(2)}`).toBeLessThan(2e-4);
        });
      }
    }

    it('tiling changes nothing; symmetric outputs are exactly symmetric', async () => {
      const n = 9;
      const xs = xOf(n, 5, 2, 41);
      const x = tensor3(xs);
      const xc = tf.clone(x);
      for (const [, layers] of STACKS('circular').slice(0, 2)) {
        const want = refConv(layers, xs, undefined, 'ntk');
        // tile_entries 50 over P² = 25 or P = 5: 1×1 or 3×3 blocks (ragged), strips of 1 or 1 rows
        for (const [x2, tileEntries] of [
          [undefined, 50],
          [undefined, 1 << 18],
          [xc, 60],
        ] as const) {
          const got = await runNn(x, x2, { layers, tile_entries: tileEntries });
          for (const key of ['nngp', 'ntk'] as const) {
            expect(maxRelErr(got[key], want[key])).toBeLessThan(2e-4);
            if (!x2) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(got[key][i * n + j]).toBe(got[key][j * n + i]);
          }
        }
      }
      tf.dispose([x, xc]);
    });
  });
}

describe('kernel.nn convolutional kernels are PSD (wasm)', () => {
  it('NNGP and NTK, pool and flatten: λ_min ≥ −1e-5·trace/n', async () => {
    await useBackend('wasm');
    const n = 24;
    const x = tensor3(xOf(n, 6, 3, 7));
    for (const [name, layers] of STACKS('same')) {
      const out = (await nn.run({ x1: x, x2: undefined }, params(nn, { layers }), testContext())) as Record<string, tf.Tensor>;
      for (const key of ['nngp', 'ntk']) {
        const { values, vectors } = await eigh(tf, out[key]);
        const lam = await values.data();
        const k = await out[key].data();
        let trace = 0;
        for (let i = 0; i < n; i++) trace += k[i * n + i];
        expect(lam[0], `${name} ${key}`).toBeGreaterThanOrEqual(-1e-5 * (trace / n));
        tf.dispose([values, vectors]);
      }
      tf.dispose(Object.values(out));
    }
    tf.dispose(x);
  });
});
