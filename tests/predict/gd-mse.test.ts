/**
 * predict.gd_mse against float64 references written here: the gradient-flow ODE
 * df/dt = −(η/N)·K̃·(f − y), df_te/dt = −(η/N)·K_te,tr·(f − y) integrated by RK4, and the t = ∞
 * solution by Gaussian elimination; plus the t = 0 / t = ∞ limits, time-axis layout and the
 * diag_reg / learning_rate conventions.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../core/operator/index.js';
import { createRegistry } from '../../core/prepare.js';
import { runGraph } from '../../core/index.js';
import { gdMse } from '../../operators/predict/index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params, sequence } from '../helpers/dense-reference.js';

type Mat = number[][];
const n = 8;
const m = 5;
const k = 2;
const N = n * k;

const pts = (count: number, seed: number): Mat => {
  const s = sequence([count, 2], seed).data;
  return Array.from({ length: count }, (_, i) => [s[2 * i], s[2 * i + 1]]);
};
const rbf = (a: Mat, b: Mat) => a.map((p) => b.map((q) => Math.fround(Math.exp(-((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2) / (2 * 0.8 ** 2)))));
const XTR = pts(n, 1);
const XTE = pts(m, 2);
const KTT = rbf(XTR, XTR);
const KTE = rbf(XTE, XTR);
const Y: Mat = sequence([n, k], 3).data.reduce<Mat>((acc, v, i) => (i % k === 0 ? [...acc, [v]] : (acc[acc.length - 1].push(v), acc)), []);
const F0: Mat = sequence([n, k], 4).data.map((v) => Math.fround(v * 0.25)).reduce<Mat>((acc, v, i) => (i % k === 0 ? [...acc, [v]] : (acc[acc.length - 1].push(v), acc)), []);
const FT0: Mat = sequence([m, k], 5).data.map((v) => Math.fround(v * 0.25)).reduce<Mat>((acc, v, i) => (i % k === 0 ? [...acc, [v]] : (acc[acc.length - 1].push(v), acc)), []);

const mul = (a: Mat, b: Mat): Mat => a.map((r) => b[0].map((_, j) => r.reduce((s, v, i) => s + v * b[i][j], 0)));
const sub = (a: Mat, b: Mat): Mat => a.map((r, i) => r.map((v, j) => v - b[i][j]));
const axpy = (a: Mat, s: number, b: Mat): Mat => a.map((r, i) => r.map((v, j) => v + s * b[i][j]));
const trace = (a: Mat) => a.reduce((s, r, i) => s + r[i], 0);
const regularised = (K: Mat, r: number): Mat => K.map((row, i) => row.map((v, j) => v + (i === j ? r : 0)));

const memo = new Map<string, { tr: Mat; te: Mat }>();
/** RK4 on the gradient flow, float64 (memoised: the same references serve every backend). */
function flow(Kr: Mat, Kte: Mat, y: Mat, f0: Mat, ft0: Mat, eta: number, t: number): { tr: Mat; te: Mat } {
  const key = JSON.stringify([Kr, Kte, y, f0, ft0, eta, t]);
  if (!memo.has(key)) memo.set(key, flowUncached(Kr, Kte, y, f0, ft0, eta, t));
  return memo.get(key)!;
}
function flowUncached(Kr: Mat, Kte: Mat, y: Mat, f0: Mat, ft0: Mat, eta: number, t: number): { tr: Mat; te: Mat } {
  const steps = Math.max(1, Math.ceil(t / 0.1));
  const h = t / steps;
  const c = -eta / N;
  const deriv = (f: Mat) => {
    const r = sub(f, y);
    return { dtr: mul(Kr, r).map((row) => row.map((v) => c * v)), dte: mul(Kte, r).map((row) => row.map((v) => c * v)) };
  };
  let f = f0;
  let g = ft0;
  for (let s = 0; s < steps && t > 0; s++) {
    const k1 = deriv(f);
    const k2 = deriv(axpy(f, h / 2, k1.dtr));
    const k3 = deriv(axpy(f, h / 2, k2.dtr));
    const k4 = deriv(axpy(f, h, k3.dtr));
    const comb = (a: Mat, b: Mat, cc: Mat, d: Mat) => a.map((row, i) => row.map((v, j) => (h / 6) * (v + 2 * b[i][j] + 2 * cc[i][j] + d[i][j])));
    f = f.map((row, i) => row.map((v, j) => v + comb(k1.dtr, k2.dtr, k3.dtr, k4.dtr)[i][j]));
    g = g.map((row, i) => row.map((v, j) => v + comb(k1.dte, k2.dte, k3.dte, k4.dte)[i][j]));
  }
  return { tr: f, te: g };
}

/** Gaussian elimination with partial pivoting, float64: A⁻¹B. */
function solve(A: Mat, B: Mat): Mat {
  const a = A.map((r, i) => [...r, ...B[i]]);
  const nn = A.length;
  for (let c = 0; c < nn; c++) {
    let p = c;
    for (let r = c + 1; r < nn; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    [a[c], a[p]] = [a[p], a[c]];
    for (let r = 0; r < nn; r++) {
      if (r === c) continue;
      const f = a[r][c] / a[c][c];
      for (let j = c; j < a[r].length; j++) a[r][j] -= f * a[c][j];
    }
  }
  return a.map((r, i) => r.slice(nn).map((v) => v / a[i][i]));
}

const close = (got: number[], want: number[], atol: number, what: string) => {
  const err = Math.max(...got.map((g, i) => Math.abs(g - want[i])));
  expect(err, `${what}: max error ${err}`).toBeLessThan(atol);
  return err;
};

type Out = { fx_train: tf.Tensor; fx_test?: tf.Tensor };
async function call(p: Record<string, unknown>, withTest = true, withF0 = true): Promise<{ tr: Float32Array; te?: Float32Array; shapes: number[][] }> {
  const inputs = {
    k_train_train: tf.tensor2d(KTT),
    y_train: tf.tensor2d(Y),
    ...(withTest ? { k_test_train: tf.tensor2d(KTE) } : {}),
    ...(withF0 ? { fx_train_0: tf.tensor2d(F0), ...(withTest ? { fx_test_0: tf.tensor2d(FT0) } : {}) } : {}),
  };
  const out = (await gdMse.run(inputs, params(gdMse, p), testContext())) as Out;
  const res = {
    tr: (await out.fx_train.data()) as Float32Array,
    te: out.fx_test ? ((await out.fx_test.data()) as Float32Array) : undefined,
    shapes: [out.fx_train.shape, ...(out.fx_test ? [out.fx_test.shape] : [])],
  };
  tf.dispose([...Object.values(inputs), out.fx_train, ...(out.fx_test ? [out.fx_test] : [])]);
  return res;
}

const ATOL = 2e-5; // |y| ≤ 2: float32 eigh and matmuls; measured ≤ 2.6e-6 on wasm, cpu, webgpu

for (const backend of testBackends()) {
  describe(`predict.gd_mse on ${backend}`, () => {
    it('matches the float64 gradient-flow ODE at several times (one call, time axis first), no leaks', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const times = [0, 3, 30, 300];
      const eta = 1.5;
      const got = await call({ t: times, learning_rate: eta });
      expect(got.shapes).toEqual([[4, n, k], [4, m, k]]);
      times.forEach((t, ti) => {
        const want = flow(KTT, KTE, Y, F0, FT0, eta, t);
        close(Array.from(got.tr.subarray(ti * n * k, (ti + 1) * n * k)), want.tr.flat(), ATOL, `train t=${t}`);
        close(Array.from(got.te!.subarray(ti * m * k, (ti + 1) * m * k)), want.te.flat(), ATOL, `test t=${t}`);
      });
      // t = 0 is the initial outputs.
      close(Array.from(got.tr.subarray(0, n * k)), F0.flat(), 1e-6, 't=0 train');
      close(Array.from(got.te!.subarray(0, m * k)), FT0.flat(), 1e-6, 't=0 test');
      expect(tf.memory().numTensors).toBe(before);
    });

    it('t = ∞ (null): fx_train = y exactly, fx_test = f_te0 + K_te,tr K̃⁻¹(y − f0); relative diag_reg', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const reg = 0.01;
      const r = (reg * trace(KTT)) / n;
      const got = await call({ t: null, diag_reg: reg });
      got.tr.forEach((v, i) => expect(v).toBe(Math.fround(Y.flat()[i])));
      const want = axpy(FT0, 1, mul(KTE, solve(regularised(KTT, r), sub(Y, F0))));
      close(Array.from(got.te!), want.flat(), ATOL, 'test t=∞');
      // A very long finite time reaches the same test outputs (eigen path vs Cholesky path).
      const late = await call({ t: 1e7, diag_reg: reg });
      close(Array.from(late.te!), want.flat(), ATOL, 'test t=1e7');
      // ...and the regularised flow still drives the train outputs to y.
      close(Array.from(late.tr), Y.flat(), ATOL, 'train t=1e7');
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('predict.gd_mse conventions (wasm)', () => {
  it('absolute diag_reg = relative × trace/n; time scales with learning_rate; zero initial outputs; no test input', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const rel = await call({ t: 40, diag_reg: 0.05 });
    const abs = await call({ t: 40, diag_reg: (0.05 * trace(KTT)) / n, diag_reg_absolute_scale: true });
    close(Array.from(abs.tr), Array.from(rel.tr), 2e-5, 'relative vs absolute');
    const want = flow(regularised(KTT, (0.05 * trace(KTT)) / n), KTE, Y, F0, FT0, 1, 40);
    close(Array.from(rel.tr), want.tr.flat(), ATOL, 'regularised flow');
    const fast = await call({ t: 10, learning_rate: 4 });
    const slow = await call({ t: 40, learning_rate: 1 });
    close(Array.from(fast.te!), Array.from(slow.te!), 2e-5, 'η·t');
    const zero = await call({ t: 25 }, false, false);
    expect(zero.shapes).toEqual([[n, k]]);
    const zref = flow(KTT, KTE, Y, Y.map((r) => r.map(() => 0)), FT0, 1, 25);
    close(Array.from(zero.tr), zref.tr.flat(), ATOL, 'f0 = 0');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('y of rank 1 keeps rank 1; shape inference', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const y1 = Y.map((r) => r[0]);
    const inputs = { k_train_train: tf.tensor2d(KTT), y_train: tf.tensor1d(y1), k_test_train: tf.tensor2d(KTE) };
    const out = (await gdMse.run(inputs, params(gdMse, { t: [5, 50] }), testContext())) as Out;
    expect(out.fx_train.shape).toEqual([2, n]);
    expect(out.fx_test!.shape).toEqual([2, m]);
    // N = y.size = n here, so the rank-1 problem runs on its own clock.
    const scaled = flow(KTT, KTE, y1.map((v) => [v]), y1.map(() => [0]), KTE.map(() => [0]), 1, 50 * (N / n));
    close(Array.from((await out.fx_train.data()).subarray(n)), scaled.tr.flat(), ATOL, 'rank-1 train');
    tf.dispose([...Object.values(inputs), out.fx_train, out.fx_test!]);
    expect(tf.memory().numTensors).toBe(before);

    const meta = (shape: (number | null)[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape });
    const ctx = { node: 'n', op: 'predict.gd_mse', resolvePath: (q: string) => q };
    expect(gdMse.shape!({ k_train_train: meta([8, 8]), y_train: meta([8, 3]), k_test_train: meta([null, 8]) }, params(gdMse, { t: [1, 2, 3] }), ctx)).toEqual({ fx_train: [3, 8, 3], fx_test: [3, null, 3] });
    expect(gdMse.shape!({ k_train_train: meta([8, 8]), y_train: meta([8]) }, params(gdMse, {}), ctx)).toEqual({ fx_train: [8] });
    expect(() => gdMse.shape!({ k_train_train: meta([8, 7]), y_train: meta([8]) }, params(gdMse, {}), ctx)).toThrow(ShapeError);
    expect(() => gdMse.shape!({ k_train_train: meta([8, 8]), y_train: meta([7, 2]) }, params(gdMse, {}), ctx)).toThrow(ShapeError);
    expect(() => gdMse.shape!({ k_train_train: meta([8, 8]), y_train: meta([8, 2]), k_test_train: meta([3, 6]) }, params(gdMse, {}), ctx)).toThrow(ShapeError);
    expect(() => gdMse.shape!({ k_train_train: meta([8, 8]), y_train: meta([8, 2]), fx_train_0: meta([8, 3]) }, params(gdMse, {}), ctx)).toThrow(ShapeError);
    expect(() => params(gdMse, { t: -1 })).toThrow();
  });

  it('runs in a graph (runGraph, wasm)', async () => {
    const registry = await createRegistry();
    registry.register(gdMse, 'test');
    const before = tf.memory().numTensors;
    const graph = {
      kernelflow: '1',
      name: 'gd',
      seed: 1,
      nodes: {
        k: { op: 'data.constant', params: { value: KTT } },
        kt: { op: 'data.constant', params: { value: KTE } },
        y: { op: 'data.constant', params: { value: Y } },
        p: { op: 'predict.gd_mse', inputs: { k_train_train: 'k', y_train: 'y', k_test_train: 'kt' }, params: { t: [1, 10] } },
      },
      outputs: { tr: 'p.fx_train', te: 'p.fx_test' },
    };
    const result = await runGraph(graph, { backend: 'wasm', cache: false, registry }).result;
    expect(result.status, JSON.stringify(result.manifest.nodes)).toBe('ok');
    const te = result.outputs.te;
    if (te.kind !== 'tensor') throw new Error('expected a tensor');
    expect(te.tensor.shape).toEqual([2, m, k]);
    const want = flow(KTT, KTE, Y, Y.map((r) => r.map(() => 0)), FT0.map((r) => r.map(() => 0)), 1, 10);
    close(Array.from((await te.tensor.data()).subarray(m * k)), want.te.flat(), ATOL, 'graph');
    result.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
