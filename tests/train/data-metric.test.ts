/**
 * metric.accuracy, metric.crossing and the training datasets: closed forms and properties checked in
 * float64 from the definitions, on every backend at small sizes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { accuracy, crossing, mnist, modular, sinusoid, split, teacherStudent } from '../../operators/train-data-index.js';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';
import { testBackends, useBackend } from '../helpers/backends.js';

type T = tf.Tensor;
const run = <O>(op: { run: (...a: never[]) => unknown }, inputs: object, given: object = {}, seed = 4): O =>
  tf.tidy(() => (op.run as (i: object, p: object, c: object) => O)(inputs, params(op as never, given as Record<string, unknown>), testContext({ seed })) as never) as O;

for (const backend of testBackends()) {
  describe(`metrics on ${backend}`, () => {
    it('metric.accuracy counts argmax hits, int or one-hot labels, and signs for one output', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const pred = tf.tensor2d([[0.1, 2, 0], [3, 1, 2], [0, 0, 5], [1, 2, 3]]);
      const li = tf.tensor1d([1, 0, 1, 2], 'int32');
      const lh = tf.tidy(() => tf.cast(tf.oneHot(li, 3), 'float32'));
      const s = tf.tensor2d([[0.5], [-2], [0.1], [-0.3]]);
      const sl = tf.tensor1d([1, -1, -1, -1]);
      const a = run<{ out: T }>(accuracy, { pred, labels: li });
      const b = run<{ out: T }>(accuracy, { pred, labels: lh });
      const c = run<{ out: T }>(accuracy, { pred: s, labels: sl });
      expect((await a.out.data())[0]).toBeCloseTo(0.75, 6);
      expect((await b.out.data())[0]).toBeCloseTo(0.75, 6);
      expect((await c.out.data())[0]).toBeCloseTo(0.75, 6);
      tf.dispose([pred, li, lh, s, sl, a.out, b.out, c.out]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('metric.crossing', () => {
  it('finds the first step below fraction·initial (or an absolute value), −1 when never', async () => {
    await useBackend('wasm');
    const metrics = { columns: ['step', 'loss', 'val_loss'], rows: [0, 10, 20, 30, 40].map((step, i) => ({ step, loss: [1, 0.8, 0.45, 0.3, 0.2][i], val_loss: [2, 2, 1.9, 1.5, 0.9][i] })) };
    const a = run<{ out: T; info: { step: number | null } }>(crossing, { metrics }, { metric: 'loss', fraction: 0.5 });
    expect((await a.out.data())[0]).toBe(20);
    const b = run<{ out: T; info: { step: number | null } }>(crossing, { metrics }, { metric: 'val_loss', fraction: 0.5 });
    expect((await b.out.data())[0]).toBe(40);
    const c = run<{ out: T; info: { step: number | null; crossed: boolean } }>(crossing, { metrics }, { metric: 'val_loss', below: 0.5 });
    expect((await c.out.data())[0]).toBe(-1);
    expect(c.info.crossed).toBe(false);
    tf.dispose([a.out, b.out, c.out]);
    expect(() => run(crossing, { metrics }, { metric: 'nope' })).toThrow(/no column 'nope'/);
  });
});

describe('datasets (wasm)', () => {
  it('data.modular: every pair once, labels a+b mod p, one-hots consistent', async () => {
    await useBackend('wasm');
    const p = 5;
    const o = run<{ x: T; y: T; labels: T }>(modular, {}, { p, operation: 'sub' });
    const x = await o.x.data();
    const y = await o.y.data();
    const l = await o.labels.data();
    for (let i = 0; i < p * p; i++) {
      const a = Array.from(x.slice(i * 2 * p, i * 2 * p + p)).indexOf(1);
      const b = Array.from(x.slice(i * 2 * p + p, (i + 1) * 2 * p)).indexOf(1);
      expect(a * p + b).toBe(i);
      expect(l[i]).toBe((((a - b) % p) + p) % p);
      expect(Array.from(y.slice(i * p, (i + 1) * p)).indexOf(1)).toBe(l[i]);
    }
    tf.dispose([o.x, o.y, o.labels]);
  });

  it('data.split: a seeded permutation — disjoint parts covering all rows, y and z follow x', async () => {
    await useBackend('wasm');
    const n = 20;
    const x = tf.tensor2d(Array.from({ length: n }, (_, i) => [i, 2 * i]));
    const z = tf.tensor1d(Array.from({ length: n }, (_, i) => i), 'int32');
    const o = run<Record<string, T>>(split, { x, z }, { train_fraction: 0.7 });
    const o2 = run<Record<string, T>>(split, { x, z }, { train_fraction: 0.7 });
    const o3 = run<Record<string, T>>(split, { x, z }, { train_fraction: 0.7 }, 77);
    expect(o.x_train.shape).toEqual([14, 2]);
    expect(o.x_test.shape).toEqual([6, 2]);
    expect(o.z_train.dtype).toBe('int32');
    const tr = Array.from(await o.z_train.data());
    const te = Array.from(await o.z_test.data());
    expect([...tr, ...te].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    const xt = await o.x_train.data();
    tr.forEach((v, i) => expect([xt[2 * i], xt[2 * i + 1]]).toEqual([v, 2 * v]));
    expect(Array.from(await o2.z_train.data())).toEqual(tr);
    expect(Array.from(await o3.z_train.data())).not.toEqual(tr);
    tf.dispose([x, z, ...Object.values(o), ...Object.values(o2), ...Object.values(o3)]);
  });

  it('data.sinusoid: targets follow the formula; the test grid spans test_range', async () => {
    await useBackend('wasm');
    const o = run<Record<string, T>>(sinusoid, {}, { n: 50, amplitude: 3, frequency: 0.5, phase: 0.3, test_n: 9 });
    const x = await o.x.data();
    const y = await o.y.data();
    x.forEach((v, i) => {
      expect(v).toBeGreaterThanOrEqual(-1);
      expect(v).toBeLessThanOrEqual(1);
      expect(Math.abs(y[i] - 3 * Math.sin(Math.PI * v + 0.3))).toBeLessThan(1e-5);
    });
    expect(Array.from(await o.x_test.data())).toEqual([-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2]);
    tf.dispose(Object.values(o));
  });

  it('data.teacher_student: seeded; quadratic target has mean 0 and variance 1; single-index is φ of a projection', async () => {
    await useBackend('wasm');
    const q = run<{ x: T; y: T }>(teacherStudent, {}, { n: 4000, d: 6, target: 'quadratic' });
    const y = Array.from(await q.y.data());
    const mean = y.reduce((a, b) => a + b) / y.length;
    const v = y.reduce((a, b) => a + (b - mean) ** 2, 0) / y.length;
    expect(Math.abs(mean)).toBeLessThan(0.06);
    expect(Math.abs(v - 1)).toBeLessThan(0.12);
    const x = Array.from(await q.x.data());
    const xm = x.reduce((a, b) => a + b) / x.length;
    const xv = x.reduce((a, b) => a + (b - xm) ** 2, 0) / x.length;
    expect(Math.abs(xv - 1)).toBeLessThan(0.05);
    const q2 = run<{ x: T; y: T }>(teacherStudent, {}, { n: 4000, d: 6, target: 'quadratic' });
    expect(Array.from(await q2.y.data())).toEqual(y);
    // single_index with relu: y ≥ 0 and exactly half-ish of the points positive.
    const s = run<{ x: T; y: T }>(teacherStudent, {}, { n: 400, d: 5, target: 'single_index', activation: 'relu' });
    const sy = Array.from(await s.y.data());
    expect(Math.min(...sy)).toBeGreaterThanOrEqual(0);
    const pos = sy.filter((t) => t > 0).length / sy.length;
    expect(Math.abs(pos - 0.5)).toBeLessThan(0.1);
    tf.dispose([q.x, q.y, q2.x, q2.y, s.x, s.y]);
  });

  it('data.mnist: seeded digits from the package files; labels match one-hots; downsampling averages 2×2 blocks', async () => {
    await useBackend('wasm');
    const a = run<Record<string, T>>(mnist, {}, { n_train: 300, n_test: 100 });
    const b = run<Record<string, T>>(mnist, {}, { n_train: 300, n_test: 100, downsample: 2 });
    expect(a.x_train.shape).toEqual([300, 784]);
    expect(b.x_test.shape).toEqual([100, 196]);
    const x = await a.x_train.data();
    let [lo, hi] = [Infinity, -Infinity];
    for (const v of x) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    const l = Array.from(await a.labels_train.data());
    const y = await a.y_train.data();
    l.forEach((c, i) => expect(Array.from(y.slice(i * 10, i * 10 + 10)).indexOf(1)).toBe(c));
    expect(new Set(l).size).toBe(10);
    // Same seed → the same digits; block averages of the full images equal the downsampled pixels.
    const xb = await b.x_train.data();
    for (const r of [0, 17, 299])
      for (const [i, j] of [[5, 5], [7, 9], [10, 3]]) {
        const s = [0, 1].flatMap((u) => [0, 1].map((v) => x[r * 784 + (2 * i + u) * 28 + 2 * j + v])).reduce((p, q) => p + q) / 4;
        expect(Math.abs(xb[r * 196 + i * 14 + j] - s)).toBeLessThan(1e-6);
      }
    expect(Array.from(await b.labels_train.data())).toEqual(l);
    tf.dispose([...Object.values(a), ...Object.values(b)]);
  });
});

