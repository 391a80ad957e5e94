import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Operator } from '../../core/operator/index.js';
import { createRegistry, runGraph } from '../../core/index.js';
import { eigh } from '../../operators/linalg/index.js';
import * as kernels from '../../operators/kernel/index.js';
import { arccos, linear, matern, nn, periodic, polynomial, product, rbf, scale, sum } from '../../operators/kernel/index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params, sequence } from '../helpers/dense-reference.js';
import { matOf, maxRelErr, refNn, type Mat } from './ref.js';

const meta = (shape: (number | null)[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape });
const sctx = { node: 'n', op: 'kernel.x', resolvePath: (p: string) => p };

/** Runs a classic kernel op with engine-validated params; checks for leaks; returns host data. */
async function runK(op: Operator, x1: tf.Tensor, x2: tf.Tensor | undefined, given: Record<string, unknown>): Promise<Float32Array> {
  const before = tf.memory().numTensors;
  const { k } = (await op.run({ x1, x2 }, params(op, given), testContext())) as { k: tf.Tensor };
  const data = (await k.data()) as Float32Array;
  k.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return data;
}

// ---- float64 references, one loop per formula.
const pair = (x1: Mat, x2: Mat, f: (u: number[], v: number[]) => number): Mat => x1.map((u) => x2.map((v) => f(u, v)));
const lsOf = (ls: number | number[], d: number) => (Array.isArray(ls) ? ls : new Array<number>(d).fill(ls));
const r2 = (u: number[], v: number[], ls: number[]) => u.reduce((s, ui, k) => s + ((ui - v[k]) / ls[k]) ** 2, 0);
const dotp = (u: number[], v: number[]) => u.reduce((s, ui, k) => s + ui * v[k], 0);
const norm = (u: number[]) => Math.sqrt(dotp(u, u));
const REF: Record<string, (p: any, x1: Mat, x2: Mat) => Mat> = {
  rbf: (p, a, b) => pair(a, b, (u, v) => p.variance * Math.exp(-0.5 * r2(u, v, lsOf(p.lengthscale, u.length)))),
  matern: (p, a, b) =>
    pair(a, b, (u, v) => {
      const r = Math.sqrt(r2(u, v, lsOf(p.lengthscale, u.length)));
      if (p.nu === 0.5) return p.variance * Math.exp(-r);
      if (p.nu === 1.5) return p.variance * (1 + Math.sqrt(3) * r) * Math.exp(-Math.sqrt(3) * r);
      return p.variance * (1 + Math.sqrt(5) * r + (5 * r * r) / 3) * Math.exp(-Math.sqrt(5) * r);
    }),
  linear: (p, a, b) => pair(a, b, (u, v) => p.variance * dotp(u, v) + p.bias),
  polynomial: (p, a, b) => pair(a, b, (u, v) => ((p.gamma ?? 1 / u.length) * dotp(u, v) + p.coef0) ** p.degree),
  periodic: (p, a, b) =>
    pair(a, b, (u, v) => {
      const ls = lsOf(p.lengthscale, u.length);
      const s = u.reduce((acc, ui, k) => acc + Math.sin((Math.PI * (ui - v[k])) / p.period) ** 2 / ls[k] ** 2, 0);
      return p.variance * Math.exp(-2 * s);
    }),
  arccos: (p, a, b) =>
    pair(a, b, (u, v) => {
      const nu = norm(u);
      const nv = norm(v);
      const th = nu * nv === 0 ? 0 : Math.acos(Math.max(-1, Math.min(1, dotp(u, v) / (nu * nv))));
      const J = [Math.PI - th, Math.sin(th) + (Math.PI - th) * Math.cos(th), 3 * Math.sin(th) * Math.cos(th) + (Math.PI - th) * (1 + 2 * Math.cos(th) ** 2)][p.order];
      return (p.variance / Math.PI) * (nu * nv) ** p.order * J;
    }),
};

const CASES: [Operator, Record<string, unknown>][] = [
  [rbf, { lengthscale: 1.3, variance: 0.8 }],
  [rbf, { lengthscale: [0.5, 2, 1.1] }],
  [matern, { nu: 0.5, lengthscale: 0.9, variance: 1.7 }],
  [matern, { nu: 1.5, lengthscale: [1, 0.4, 3] }],
  [matern, { nu: 2.5, lengthscale: 1.6 }],
  [linear, { variance: 0.7, bias: 0.3 }],
  [polynomial, { degree: 3, coef0: -0.5 }],
  [polynomial, { degree: 4, gamma: 0.6, coef0: 1 }],
  [periodic, { lengthscale: 0.8, period: 2.5, variance: 1.2 }],
  [periodic, { lengthscale: [0.5, 1, 2], period: 1.5 }],
  [arccos, { order: 0 }],
  [arccos, { order: 1, variance: 2 }],
  [arccos, { order: 2 }],
];

const X1 = matOf(sequence([6, 3], 31).data, 3);
const X2 = matOf(sequence([5, 3], 32).data, 3);
X1[2] = [0, 0, 0]; // a zero row (arccos must stay finite)

describe('classic kernels: shapes', () => {
  it('infers [n1, n2] and checks features and ARD lengths', () => {
    expect(rbf.shape!({ x1: meta([6, 3]) }, params(rbf, {}), sctx)).toEqual({ k: [6, 6] });
    expect(matern.shape!({ x1: meta([6, 3]), x2: meta([null, 3]) }, params(matern, {}), sctx)).toEqual({ k: [6, null] });
    expect(() => rbf.shape!({ x1: meta([6, 3]) }, params(rbf, { lengthscale: [1, 2] }), sctx)).toThrow(/ARD/);
    expect(() => linear.shape!({ x1: meta([6, 3]), x2: meta([4, 2]) }, params(linear, {}), sctx)).toThrow(/features/);
    expect(sum.shape!({ k: [meta([3, 4]), meta([null, 4])] }, {}, sctx)).toEqual({ k: [3, 4] });
    expect(() => product.shape!({ k: [meta([3, 4]), meta([3, 5])] }, {}, sctx)).toThrow(/differs/);
    expect(() => params(matern, { nu: 1 })).toThrow();
  });
});

for (const backend of testBackends()) {
  describe(`classic kernels on ${backend}`, () => {
    beforeAll(async () => {
      await useBackend(backend);
    });

    it('every kernel (scalar and ARD lengthscales) matches its float64 reference, symmetric and not', async () => {
      // webgpu (Dawn on lavapipe here) has less accurate atan2/exp/sqrt than wasm/cpu: measured 3.1e-5 (arccos order 2).
      const tol = backend === 'webgpu' ? 1e-4 : 2e-5;
      const a = tf.tensor2d(X1);
      const b = tf.tensor2d(X2);
      for (const [op, given] of CASES) {
        const p = params(op, given);
        const ref = REF[op.id.slice('kernel.'.length)];
        const sym = await runK(op, a, undefined, given);
        const asym = await runK(op, a, b, given);
        const label = `${op.id} ${JSON.stringify(given)}`;
        expect(maxRelErr(sym, ref(p, X1, X1)), label).toBeLessThan(tol);
        expect(maxRelErr(asym, ref(p, X1, X2)), label).toBeLessThan(tol);
        const n = X1.length;
        for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(sym[i * n + j], label).toBe(sym[j * n + i]);
        if (['kernel.rbf', 'kernel.matern', 'kernel.periodic'].includes(op.id)) {
          for (let i = 0; i < n; i++) expect(sym[i * n + i], label).toBe(Math.fround(p.variance)); // exact diagonal
        }
      }
      tf.dispose([a, b]);
    });

    it('tiling changes nothing (ragged blocks and row strips)', async () => {
      const xs = matOf(sequence([11, 3], 7).data, 3);
      const x = tf.tensor2d(xs);
      const whole = await runK(rbf, x, undefined, { lengthscale: 0.9 });
      const blocks = await runK(rbf, x, undefined, { lengthscale: 0.9, tile_entries: 9 });
      const strips = await runK(matern, x, x, { lengthscale: 0.9, tile_entries: 25 });
      expect(maxRelErr(blocks, REF.rbf(params(rbf, { lengthscale: 0.9 }), xs, xs))).toBeLessThan(2e-5);
      expect(maxRelErr(whole, matOf(Array.from(blocks), 11))).toBeLessThan(1e-6);
      expect(maxRelErr(strips, REF.matern(params(matern, { lengthscale: 0.9 }), xs, xs))).toBeLessThan(2e-5);
      tf.dispose(x);
    });

    it('arccos order 1 = 2d × the ReLU NNGP; sum, product and scale', async () => {
      const a = tf.tensor2d(X1);
      const d = X1[0].length;
      const ac = await runK(arccos, a, undefined, { order: 1 });
      const relu = refNn([{ type: 'dense' }, { type: 'relu' }], X1, undefined).nngp;
      expect(maxRelErr(ac, relu.map((r) => r.map((v) => 2 * d * v)))).toBeLessThan(2e-5);

      const before = tf.memory().numTensors;
      const k1 = tf.tensor2d([[1, 2], [3, 4]]);
      const k2 = tf.tensor2d([[0.5, -1], [2, 0.25]]);
      const s = sum.run({ k: [k1, k2, k1] }, {}, testContext()) as { k: tf.Tensor };
      const pr = product.run({ k: [k1, k2] }, {}, testContext()) as { k: tf.Tensor };
      const sc = scale.run({ k: k2 }, params(scale, { factor: 3 }), testContext()) as { k: tf.Tensor };
      expect(Array.from(await s.k.data())).toEqual([2.5, 3, 8, 8.25]);
      expect(Array.from(await pr.k.data())).toEqual([0.5, -2, 6, 1]);
      expect(Array.from(await sc.k.data())).toEqual([1.5, -3, 6, 0.75]);
      tf.dispose([k1, k2, s.k, pr.k, sc.k, a]);
      expect(tf.memory().numTensors).toBe(before - 1);
    });
  });
}

describe('classic kernels are PSD (wasm)', () => {
  it('λ_min ≥ −1e-5·trace/n for every kernel', async () => {
    await useBackend('wasm');
    const n = 48;
    const x = tf.tensor2d(sequence([n, 3], 9).data, [n, 3]);
    for (const [op, given] of CASES.filter(([op, g]) => !(op === polynomial && (g.coef0 as number) < 0))) {
      const { k } = (await op.run({ x1: x, x2: undefined }, params(op, given), testContext())) as { k: tf.Tensor };
      const { values, vectors } = await eigh(tf, k);
      const lam = await values.data();
      const kd = await k.data();
      let trace = 0;
      for (let i = 0; i < n; i++) trace += kd[i * n + i];
      expect(lam[0], `${op.id} ${JSON.stringify(given)}`).toBeGreaterThanOrEqual(-1e-5 * (trace / n));
      tf.dispose([k, values, vectors]);
    }
    tf.dispose(x);
  });
});

describe('kernel family end to end (own registry, wasm)', () => {
  it('runs a graph of kernel.nn, kernel.rbf and kernel.sum', async () => {
    const registry = await createRegistry();
    for (const op of Object.values(kernels)) if ((op as Operator).__kernelflowOperator) registry.register(op as Operator, 'test');
    const graph = {
      kernelflow: '1',
      name: 'kernels-e2e',
      seed: 3,
      nodes: {
        x: { op: 'data.normal', params: { shape: [20, 5] } },
        ntk: { op: 'kernel.nn', inputs: { x1: 'x' }, params: { layers: [{ type: 'dense', W_std: 1.5, b_std: 0.05 }, { type: 'relu' }, { type: 'dense' }] } },
        rbf: { op: 'kernel.rbf', inputs: { x1: 'x' }, params: { lengthscale: 2 } },
        both: { op: 'kernel.sum', inputs: { k: ['ntk.ntk', 'rbf'] } },
      },
      outputs: { both: 'both', nngp: 'ntk.nngp' },
    };
    const { status, outputs, dispose } = await runGraph(graph, { backend: 'wasm', cache: false, registry }).result;
    expect(status).toBe('ok');
    const both = outputs.both;
    expect(both.kind === 'tensor' && both.tensor.shape).toEqual([20, 20]);
    dispose();
  });
});

// nn is imported for the end-to-end registry above (via the family index); keep the named import used.
void nn;
