import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParamError, ShapeError } from '../../core/operator/index.js';
import { eigh } from '../../operators/linalg/index.js';
import { nn } from '../../operators/kernel/nn.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params, sequence } from '../helpers/dense-reference.js';
import { actPair, bivariate, erf, matOf, maxRelErr, refNn } from './ref.js';

type Layer = Record<string, any>;
const meta = (shape: (number | null)[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape });
const sctx = { node: 'n', op: 'kernel.nn', resolvePath: (p: string) => p };

/** Runs kernel.nn through its `run` with engine-validated params; checks for leaks. */
async function runNn(x1: tf.Tensor, x2: tf.Tensor | undefined, given: Record<string, unknown>): Promise<{ nngp?: Float32Array; ntk?: Float32Array }> {
  const before = tf.memory().numTensors;
  const out = (await nn.run({ x1, x2 }, params(nn, given), testContext())) as { nngp?: tf.Tensor; ntk?: tf.Tensor };
  const res = { nngp: out.nngp ? ((await out.nngp.data()) as Float32Array) : undefined, ntk: out.ntk ? ((await out.ntk.data()) as Float32Array) : undefined };
  tf.dispose([out.nngp, out.ntk].filter((t): t is tf.Tensor => t !== undefined));
  expect(tf.memory().numTensors).toBe(before);
  return res;
}

const D1 = (act: Layer): Layer[] => [{ type: 'dense', W_std: 1.2, b_std: 0.1, width: 6 }, act, { type: 'dense', W_std: 0.9, b_std: 0.2 }];
const ACTS: Layer[] = [
  { type: 'relu' },
  { type: 'abrelu', a: -0.3, b: 0.8 },
  { type: 'leaky_relu', alpha: 0.2 },
  { type: 'abs' },
  { type: 'erf', a: 1.3, b: 0.7, c: 0.2 },
  { type: 'sigmoid_like' },
  { type: 'gelu' },
  { type: 'sin', a: 1.1, b: 0.8, c: 0.3 },
  { type: 'cos', a: 0.9, b: 1.2, c: -0.4 },
  { type: 'identity' },
  { type: 'layernorm', eps: 1e-3 },
];
const STACKS: [string, Layer[]][] = [
  ...ACTS.map((a): [string, Layer[]] => [a.type, D1(a)]),
  ['dense no bias', [{ type: 'dense', W_std: 1.4, width: 5 }, { type: 'relu' }, { type: 'dense', W_std: 1.1 }]],
  [
    'residual + layernorm',
    [
      { type: 'dense', W_std: 1.3, b_std: 0.1, width: 4 },
      { type: 'residual', branch: [{ type: 'relu' }, { type: 'dense', W_std: 0.8, b_std: 0.05, width: 4 }] },
      { type: 'layernorm', eps: 1e-2 },
      { type: 'erf' },
      { type: 'dense', W_std: 1.0, b_std: 0.3 },
    ],
  ],
  [
    'depth 3 relu',
    [
      { type: 'dense', W_std: 1.5, b_std: 0.05, width: 7 },
      { type: 'relu' },
      { type: 'dense', W_std: 1.5, b_std: 0.05, width: 3 },
      { type: 'relu' },
      { type: 'dense', W_std: 1.5, b_std: 0.05, width: 9 },
      { type: 'relu' },
      { type: 'dense', W_std: 1.5, b_std: 0.05 },
    ],
  ],
];

const X1 = matOf(sequence([5, 3], 11).data, 3);
const X2 = matOf(sequence([4, 3], 12).data, 3);

describe('kernel.nn float64 reference (self-checks of the test reference)', () => {
  it('closed forms agree with Gauss–Hermite quadrature', () => {
    const [q1, q2, k] = [1.3, 0.7, 0.4];
    const relu = (x: number) => Math.max(x, 0);
    const e = (x: number) => 1.3 * erf(0.7 * x) + 0.2;
    const [erfK] = actPair({ type: 'erf', a: 1.3, b: 0.7, c: 0.2 }, q1, q2, k, false);
    expect(Math.abs(erfK - bivariate(e, e, q1, q2, k))).toBeLessThan(1e-9);
    // ReLU: quadrature converges slowly at the kink, so only to ~1e-4 here.
    const [reluK] = actPair({ type: 'relu' }, q1, q2, k, false);
    expect(Math.abs(reluK - bivariate(relu, relu, q1, q2, k))).toBeLessThan(2e-3);
    expect(Math.abs(erf(0.5) - 0.5204998778130465)).toBeLessThan(1e-14);
    expect(Math.abs(erf(3) - 0.9999779095030014)).toBeLessThan(1e-14);
  });
});

describe('kernel.nn shape and validation', () => {
  const shape = (layers: unknown, extra: Record<string, unknown> = {}, x1 = meta([5, 3]), x2?: ReturnType<typeof meta>) =>
    nn.shape!({ x1, x2 }, params(nn, { layers, ...extra }), sctx);
  const pointerOf = (f: () => unknown): [string, string] => {
    try {
      f();
    } catch (e) {
      return [(e as Error).name, (e as ParamError).pointer];
    }
    return ['none', ''];
  };
  it('infers [n1, n2] and only the selected outputs', () => {
    expect(shape(D1({ type: 'relu' }), {}, meta([5, 3]), meta([null, 3]))).toEqual({ nngp: [5, null], ntk: [5, null] });
    expect(shape(D1({ type: 'relu' }), { outputs: ['ntk'] })).toEqual({ ntk: [5, 5] });
  });
  it('rejects bad stacks with pointers', () => {
    expect(pointerOf(() => shape([{ type: 'relu' }]))).toEqual(['ParamError', '/params/layers/0']);
    expect(pointerOf(() => shape([{ type: 'dense' }, { type: 'relu' }, { type: 'tanh' }]))).toEqual(['ParamError', '/params/layers/2']);
    expect(pointerOf(() => shape([{ type: 'dense' }, { type: 'relu' }, { type: 'layernorm' }]))).toEqual(['ParamError', '/params/layers/2']);
    expect(pointerOf(() => shape([{ type: 'dense' }, { type: 'relu' }, { type: 'dense' }], { parameterization: 'standard' }))).toEqual([
      'ParamError',
      '/params/layers/0/width',
    ]);
    expect(shape([{ type: 'dense', width: 8 }, { type: 'relu' }, { type: 'dense' }], { parameterization: 'standard' })).toEqual({ nngp: [5, 5], ntk: [5, 5] });
    expect(pointerOf(() => shape([{ type: 'dense', W_std: -1 }]))).toEqual(['ParamError', '/params/layers/0/W_std']);
    expect(pointerOf(() => shape([{ type: 'dense', stride: 2 }]))).toEqual(['ParamError', '/params/layers/0/stride']);
    expect(pointerOf(() => shape([{ type: 'dense' }, { type: 'residual', branch: [{ type: 'relu' }, { type: 'erf' }] }]))).toEqual([
      'ParamError',
      '/params/layers/1/branch/1',
    ]);
    expect(pointerOf(() => shape([{ type: 'conv', filter: [3] }]))).toEqual(['ParamError', '/params/layers/0']);
    expect(pointerOf(() => shape([{ type: 'dense' }], {}, meta([5, 3]), meta([4, 2])))).toEqual(['ShapeError', '/inputs/x2']);
    // [n, P, C] inputs are convolutional (tests/kernel/nn-conv.test.ts): a dense layer before pooling is the error.
    expect(pointerOf(() => shape([{ type: 'dense' }], {}, meta([5, 3, 2])))).toEqual(['ParamError', '/params/layers/0']);
    expect(pointerOf(() => shape([{ type: 'dense' }], {}, meta([5, 3, 2, 1])))).toEqual(['ShapeError', '/inputs/x1']);
    expect(() => shape([{ type: 'relu' }])).toThrow(ParamError);
    expect(() => shape([], {}, meta([5, 3]), meta([4, 2]))).toThrow(ShapeError);
  });
});

for (const backend of testBackends()) {
  describe(`kernel.nn on ${backend}`, () => {
    beforeAll(async () => {
      await useBackend(backend);
    });
    const t1 = () => tf.tensor2d(X1);
    const t2 = () => tf.tensor2d(X2);

    for (const param of ['ntk', 'standard'] as const) {
      it(`every layer type agrees with the float64 reference (${param})`, async () => {
        const a = t1();
        const b = t2();
        const worst: Record<string, number> = {};
        for (const [name, layers] of STACKS) {
          for (const sym of [true, false]) {
            const got = await runNn(a, sym ? undefined : b, { layers, parameterization: param });
            const want = refNn(layers, X1, sym ? undefined : X2, param);
            const e = Math.max(maxRelErr(got.nngp!, want.nngp), maxRelErr(got.ntk!, want.ntk));
            worst[name] = Math.max(worst[name] ?? 0, e);
          }
        }
        tf.dispose([a, b]);
        for (const [name, e] of Object.entries(worst)) expect(e, `${name}: rel err ${e.toExponential(2)}`).toBeLessThan(2e-4);
      });
    }

    it('identities: ABReLU(0,1) = ReLU, ABReLU(a,a) = a²·identity, leaky_relu/abs are ABReLU', async () => {
      const a = t1();
      const same = async (l1: Layer, l2: Layer, factor = 1) => {
        const g1 = await runNn(a, undefined, { layers: D1(l1).slice(0, 2) });
        const g2 = await runNn(a, undefined, { layers: D1(l2).slice(0, 2) });
        for (const key of ['nngp', 'ntk'] as const) {
          g1[key]!.forEach((v, i) => expect(Math.abs(v - factor * g2[key]![i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v))));
        }
      };
      await same({ type: 'abrelu', a: 0, b: 1 }, { type: 'relu' });
      await same({ type: 'abrelu', a: 0.7, b: 0.7 }, { type: 'identity' }, 0.49);
      await same({ type: 'abrelu', a: -1.5, b: -1.5 }, { type: 'identity' }, 2.25);
      await same({ type: 'abrelu', a: 0.2, b: 1 }, { type: 'leaky_relu', alpha: 0.2 });
      await same({ type: 'abrelu', a: -1, b: 1 }, { type: 'abs' });
      tf.dispose(a);
    });

    it('symmetric calls: exact symmetry, diagonal = the diagonal recursion, and tiling changes nothing', async () => {
      const n = 13;
      const xs = matOf(sequence([n, 4], 21).data, 4);
      const x = tf.tensor2d(xs);
      const layers = [
        { type: 'dense', W_std: 1.5, b_std: 0.05 },
        { type: 'relu' },
        { type: 'dense', W_std: 1.5, b_std: 0.05 },
        { type: 'gelu' },
        { type: 'dense', W_std: 1.5 },
      ];
      const whole = await runNn(x, undefined, { layers });
      const tiled = await runNn(x, undefined, { layers, tile_entries: 16 }); // 4×4 blocks, ragged edge
      const xc = tf.clone(x);
      const strips = await runNn(x, xc, { layers, tile_entries: 30 }); // row strips of 2 rows
      const want = refNn(layers, xs, undefined);
      for (const key of ['nngp', 'ntk'] as const) {
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(tiled[key]![i * n + j]).toBe(tiled[key]![j * n + i]);
        expect(maxRelErr(whole[key]!, want[key])).toBeLessThan(2e-4);
        expect(maxRelErr(tiled[key]!, want[key])).toBeLessThan(2e-4);
        expect(maxRelErr(strips[key]!, want[key])).toBeLessThan(2e-4);
      }
      tf.dispose([x, xc]);
    });

    it('zero rows without bias give 0, not NaN; depth-100 ReLU stays finite and accurate', async () => {
      const xs = [
        [0, 0, 0],
        [1, -0.5, 2],
        [0.3, 0.1, -1],
      ];
      const x = tf.tensor2d(xs);
      const z = await runNn(x, undefined, { layers: D1({ type: 'relu' }).map((l) => (l.type === 'dense' ? { ...l, b_std: undefined } : l)) });
      expect([z.nngp![0], z.nngp![1], z.nngp![3], z.ntk![0], z.ntk![2]]).toEqual([0, 0, 0, 0, 0]);
      for (const v of [...z.nngp!, ...z.ntk!]) expect(Number.isFinite(v)).toBe(true);
      for (const [wStd, bStd] of [
        [Math.SQRT2, 0],
        [1.5, 0.05],
        [2, 0.1],
      ]) {
        const layers: Layer[] = [];
        for (let l = 0; l < 100; l++) layers.push({ type: 'dense', W_std: wStd, b_std: bStd }, { type: 'relu' });
        layers.push({ type: 'dense', W_std: wStd, b_std: bStd });
        const got = await runNn(x, undefined, { layers });
        for (const v of [...got.nngp!, ...got.ntk!]) expect(Number.isFinite(v)).toBe(true);
        const want = refNn(layers, xs, undefined);
        // 100 layers of float32 rounding near correlation 1: measured 2.0–2.5e-5 on wasm/cpu; webgpu's
        // (lavapipe) atan2/sqrt are less accurate, so it gets a looser bound.
        const tol = backend === 'webgpu' ? 5e-3 : 1e-4;
        expect(maxRelErr(got.nngp!, want.nngp), `nngp W=${wStd}`).toBeLessThan(tol);
        expect(maxRelErr(got.ntk!, want.ntk), `ntk W=${wStd}`).toBeLessThan(tol);
      }
      tf.dispose(x);
    });

    it('only the selected output is computed', async () => {
      const a = t1();
      const got = await runNn(a, undefined, { layers: D1({ type: 'relu' }), outputs: ['ntk'] });
      expect(got.nngp).toBeUndefined();
      expect(maxRelErr(got.ntk!, refNn(D1({ type: 'relu' }), X1, undefined).ntk)).toBeLessThan(2e-4);
      tf.dispose(a);
    });
  });
}

describe('kernel.nn kernels are PSD (wasm)', () => {
  it('NNGP and NTK of several stacks: λ_min ≥ −1e-5·trace/n', async () => {
    await useBackend('wasm');
    const n = 48;
    const x = tf.tensor2d(sequence([n, 6], 5).data, [n, 6]);
    for (const [name, layers] of STACKS.filter(([s]) => ['relu', 'gelu', 'erf', 'residual + layernorm', 'depth 3 relu', 'sin'].includes(s))) {
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

