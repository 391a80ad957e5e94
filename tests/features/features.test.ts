/**
 * features.rff / features.favor / features.relu: φ(x)·φ(x′) converges to the exact kernel
 * (float64, written here from the formulas) with an error falling like D^−½ — a log-log slope
 * fitted over six sizes — and on every backend each φ matches a float64 evaluation of the
 * operator's formula from the same random matrix.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { Operator } from '../../core/operator/index.js';
import { ParamError, ShapeError } from '../../core/operator/index.js';
import { createRegistry } from '../../core/prepare.js';
import { runGraph } from '../../core/index.js';
import { favor, reluFeatures, rff } from '../../operators/features/index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params, sequence } from '../helpers/dense-reference.js';

type Mat = number[][];
const n = 6;
const d = 3;
/** Inputs of norm ≈ 0.5–1 (exact float32 values). */
const X: Mat = (() => {
  const s = sequence([n, d], 11).data.map((v) => v * 0.3);
  return Array.from({ length: n }, (_, i) => s.slice(i * d, i * d + d));
})();

const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);

function exactRbf(x: Mat, ls: number[], variance: number): Mat {
  return x.map((a) => x.map((b) => variance * Math.exp(-a.reduce((s, v, k) => s + ((v - b[k]) / ls[k % ls.length]) ** 2, 0) / 2)));
}
function exactExp(x: Mat): Mat {
  return x.map((a) => x.map((b) => Math.exp(dot(a, b))));
}
function exactReluNngp(x: Mat, W: number, B: number): Mat {
  const dd = x[0].length;
  const k = (a: number[], b: number[]) => (W * W * dot(a, b)) / dd + B * B;
  return x.map((a) =>
    x.map((b) => {
      const K = k(a, b);
      const q1 = k(a, a);
      const q2 = k(b, b);
      const th = Math.atan2(Math.sqrt(Math.max(q1 * q2 - K * K, 0)), K);
      return (Math.sqrt(q1 * q2) * (Math.sin(th) + (Math.PI - th) * Math.cos(th))) / (2 * Math.PI);
    }),
  );
}

function gram(phi: Float32Array, rows: number, cols: number): Mat {
  return Array.from({ length: rows }, (_, i) =>
    Array.from({ length: rows }, (_, j) => {
      let s = 0;
      for (let c = 0; c < cols; c++) s += phi[i * cols + c] * phi[j * cols + c];
      return s;
    }),
  );
}
const rmsDiff = (a: Mat, b: Mat) => Math.sqrt(a.flat().reduce((s, v, i) => s + (v - b.flat()[i]) ** 2, 0) / a.flat().length);

/** Least-squares slope of log(err) against log(D). */
function slope(D: number[], err: number[]): number {
  const lx = D.map(Math.log);
  const ly = err.map(Math.log);
  const mx = lx.reduce((a, b) => a + b) / lx.length;
  const my = ly.reduce((a, b) => a + b) / ly.length;
  return lx.reduce((s, v, i) => s + (v - mx) * (ly[i] - my), 0) / lx.reduce((s, v) => s + (v - mx) ** 2, 0);
}

interface Case {
  op: Operator;
  p: Record<string, unknown>;
  exact: Mat;
  /** φ in float64 from the operator's random draws. */
  ref: (x: Mat, draws: Record<string, Float32Array>, D: number) => Mat;
}

const cases: Case[] = [
  {
    op: rff,
    p: { lengthscale: [0.7, 1.3, 1.0], variance: 1.7 },
    exact: exactRbf(X, [0.7, 1.3, 1.0], 1.7),
    ref: (x, { w }, D) => {
      const m = D / 2;
      const ls = [0.7, 1.3, 1.0];
      return x.map((row) => {
        const z = Array.from({ length: m }, (_, j) => row.reduce((s, v, k) => s + (v / ls[k]) * w[k * m + j], 0));
        const c = Math.sqrt(1.7 / m);
        return [...z.map((v) => c * Math.cos(v)), ...z.map((v) => c * Math.sin(v))];
      });
    },
  },
  {
    op: favor,
    p: {},
    exact: exactExp(X),
    ref: (x, { w }, D) =>
      x.map((row) => {
        const h = dot(row, row) / 2;
        return Array.from({ length: D }, (_, j) => Math.exp(row.reduce((s, v, k) => s + v * w[k * D + j], 0) - h) / Math.sqrt(D));
      }),
  },
  {
    op: reluFeatures,
    p: { W_std: 1.4, b_std: 0.3 },
    exact: exactReluNngp(X, 1.4, 0.3),
    ref: (x, { w, b }, D) =>
      x.map((row) =>
        Array.from({ length: D }, (_, j) => {
          const z = (1.4 / Math.sqrt(d)) * row.reduce((s, v, k) => s + v * w[k * D + j], 0) + 0.3 * b[j];
          return Math.max(z, 0) / Math.sqrt(D);
        }),
      ),
  },
];

type Out = Record<string, tf.Tensor>;

for (const backend of testBackends()) {
  describe(`random features on ${backend}`, () => {
    for (const c of cases) {
      it(`${c.op.id}: φ matches float64 from the same draws, a given matrix is used, no leaks`, async () => {
        await useBackend(backend);
        const before = tf.memory().numTensors;
        const D = 64;
        const p = params(c.op, { ...c.p, num_features: D });
        const x = tf.tensor2d(X);
        const out = tf.tidy(() => c.op.run({ x }, p, testContext({ seed: 5 })) as Out);
        const draws: Record<string, Float32Array> = {};
        for (const k of Object.keys(out)) if (k !== 'out') draws[k] = (await out[k].data()) as Float32Array;
        const phi = (await out.out.data()) as Float32Array;
        const want = c.ref(X, draws, D);
        expect(out.out.shape).toEqual([n, D]);
        want.flat().forEach((v, i) => expect(Math.abs(phi[i] - v)).toBeLessThan(2e-6 + 2e-6 * Math.abs(v)));
        // The same draws passed back in give the same features; another seed gives others.
        const given = tf.tidy(() => c.op.run({ x, ...Object.fromEntries(Object.entries(out).filter(([k]) => k !== 'out')) }, p, testContext({ seed: 99 })) as Out);
        const again = (await given.out.data()) as Float32Array;
        again.forEach((v, i) => expect(v).toBe(phi[i]));
        const other = tf.tidy(() => c.op.run({ x }, p, testContext({ seed: 6 })) as Out);
        const o = (await other.out.data()) as Float32Array;
        expect(o.some((v, i) => v !== phi[i])).toBe(true);
        tf.dispose([x, ...Object.values(out), ...Object.values(given), ...Object.values(other)]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  });
}

describe('convergence of φφᵀ to the exact kernel (wasm)', () => {
  const sizes = [32, 128, 512, 2048, 8192, 32768];
  const seeds = [1, 2, 3, 4, 5, 6, 7, 8];
  for (const c of cases) {
    it(`${c.op.id}: RMS error ∝ D^−½ (fitted slope in [−0.65, −0.35])`, async () => {
      await useBackend('wasm');
      const before = tf.memory().numTensors;
      const x = tf.tensor2d(X);
      const errs: number[] = [];
      for (const D of sizes) {
        let sq = 0;
        for (const seed of seeds) {
          const out = tf.tidy(() => c.op.run({ x }, params(c.op, { ...c.p, num_features: D }), testContext({ seed })) as Out);
          const g = gram((await out.out.data()) as Float32Array, n, D);
          sq += rmsDiff(g, c.exact) ** 2;
          tf.dispose(Object.values(out));
        }
        errs.push(Math.sqrt(sq / seeds.length));
      }
      tf.dispose(x);
      const s = slope(sizes, errs);
      expect(s, `errors ${errs.map((e) => e.toExponential(2)).join(', ')}`).toBeGreaterThan(-0.65);
      expect(s).toBeLessThan(-0.35);
      // The largest size is close in absolute terms too (scale of the kernels here is O(1)).
      expect(errs[errs.length - 1]).toBeLessThan(0.03);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe('shape inference and end to end', () => {
  const meta = (shape: (number | null)[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape });
  const ctx = { node: 'n', op: 'features', resolvePath: (q: string) => q };
  it('infers shapes, accepts unknown dims, rejects mismatches', () => {
    expect(rff.shape!({ x: meta([null, 3]) }, params(rff, { num_features: 10 }), ctx)).toEqual({ out: [null, 10], w: [3, 5] });
    expect(favor.shape!({ x: meta([4, null]) }, params(favor, { num_features: 7 }), ctx)).toEqual({ out: [4, 7], w: [null, 7] });
    expect(reluFeatures.shape!({ x: meta([4, 2]) }, params(reluFeatures, { num_features: 7 }), ctx)).toEqual({ out: [4, 7], w: [2, 7], b: [7] });
    expect(() => rff.shape!({ x: meta([4, 3]), w: meta([3, 6]) }, params(rff, { num_features: 10 }), ctx)).toThrow(ShapeError);
    expect(() => rff.shape!({ x: meta([4, 2]) }, params(rff, { lengthscale: [1, 2, 3] }), ctx)).toThrow(ShapeError);
    expect(() => reluFeatures.shape!({ x: meta([4, 2]), b: meta([5]) }, params(reluFeatures, { num_features: 7 }), ctx)).toThrow(ShapeError);
    expect(() => params(rff, { num_features: 7 })).toThrow();
    expect(() => rff.shape!({ x: meta([4, 2]) }, { lengthscale: 1, variance: 1, num_features: 7 }, ctx)).toThrow(ParamError);
  });
  it('train and test features share a draw through the w output (runGraph, wasm)', async () => {
    await useBackend('wasm');
    const registry = await createRegistry();
    for (const op of [rff, favor, reluFeatures]) registry.register(op, 'test');
    const before = tf.memory().numTensors;
    const graph = {
      kernelflow: '1',
      name: 'rff-shared',
      seed: 3,
      nodes: {
        x: { op: 'data.constant', params: { value: X } },
        a: { op: 'features.rff', inputs: { x: 'x' }, params: { num_features: 2048 } },
        b: { op: 'features.rff', inputs: { x: 'x', w: 'a.w' }, params: { num_features: 2048 } },
        k: { op: 'math.matmul', inputs: { a: 'a', b: 'b' }, params: { transpose_b: true } },
      },
      outputs: { k: 'k' },
    };
    const result = await runGraph(graph, { backend: 'wasm', cache: false, registry }).result;
    expect(result.status, JSON.stringify(result.manifest.nodes)).toBe('ok');
    const kv = result.outputs.k;
    if (kv.kind !== 'tensor') throw new Error('expected a tensor');
    const k = (await kv.tensor.data()) as Float32Array;
    const exact = exactRbf(X, [1], 1);
    exact.flat().forEach((v, i) => expect(Math.abs(k[i] - v)).toBeLessThan(0.1));
    for (let i = 0; i < n; i++) expect(k[i * n + i]).toBeCloseTo(1, 5); // cos² + sin² = 1
    result.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
