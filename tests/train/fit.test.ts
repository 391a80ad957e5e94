/**
 * train.fit: optimiser updates against float64 references written from their definitions (GD,
 * momentum, Adam, SAM's two passes), lr multipliers and frozen groups, seeded minibatches, stopping
 * rules, sharpness on quadratics with a known Hessian, the muP coordinate check, constant
 * numTensors across steps, cancellation within one step, and divergence errors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { OperatorError } from '../../core/operator/index.js';
import { hessianTopEig } from '../../operators/train/lib.js';
import { testContext } from '../helpers/context.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { clone64, data, forward64, grad64, loss64, relErr, type Params64 } from './reference.js';
import { makeNet, read64, runFit } from './fit-helpers.js';
import { jacobiEigen } from '../helpers/jacobi.js';

const X = data(6, 3, 21);
const Y = data(6, 2, 22);

/** Largest eigenvalue of a symmetric matrix by float64 Jacobi rotations. */
function maxEig(A: number[][]): number {
  return Math.max(...jacobiEigen(A).values);
}

for (const backend of testBackends()) {
  describe(`train.fit updates on ${backend}`, () => {
    it('one full-batch GD step equals w − η·lr_mult·∇L (multipliers, a frozen bias)', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const net = await makeNet({ widths: [3, 5, 2], activation: 'tanh', parameterization: 'ntk', b_std: 0.5, W_std: 1.4 });
      const g = grad64(net.model, net.P64, X, Y);
      const mult: Record<string, number> = { W0: 0.3, b0: 0, W1: 0.3 * 2, b1: 0.3 * 0.5 };
      const want = clone64(net.P64);
      for (const k of Object.keys(want)) want[k].forEach((v, i) => (want[k][i] = v - mult[k] * g[k][i]));
      const r = await runFit(net, X, Y, { optimizer: { type: 'gd', lr: 0.3 }, steps: 1, lr_multipliers: { W1: 2, layer1: 0.5 }, frozen: ['b0'], log_every: 1 });
      const got = await read64(r.params);
      expect(relErr(got, want)).toBeLessThan(2e-6);
      expect(Array.from(got.b0)).toEqual(Array.from(net.P64.b0));
      expect(r.metrics.rows.map((row) => row.step)).toEqual([0, 1]);
      const l0 = loss64('mse', forward64(net.model, net.P64, X).out, Y);
      const l1 = loss64('mse', forward64(net.model, want, X).out, Y);
      expect(Math.abs((r.metrics.rows[0].loss as number) - l0)).toBeLessThan(1e-5 * l0);
      expect(Math.abs((r.metrics.rows[1].loss as number) - l1)).toBeLessThan(1e-5 * l1);
      tf.dispose([...Object.values(net.P), ...Object.values(r.params)]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('SAM equals the two-pass definition: ε = ρg/‖g‖, w ← w − η∇L(w + ε)', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const net = await makeNet({ widths: [3, 6, 2], activation: 'gelu', parameterization: 'mup', b_std: 0.3 });
      const rho = 0.2;
      const lr = 0.5;
      const g = grad64(net.model, net.P64, X, Y);
      const norm = Math.sqrt(Object.values(g).reduce((s, v) => s + v.reduce((a, b) => a + b * b, 0), 0));
      const wp = clone64(net.P64);
      for (const k of Object.keys(wp)) wp[k].forEach((v, i) => (wp[k][i] = v + (rho * g[k][i]) / norm));
      const g2 = grad64(net.model, wp, X, Y);
      const want = clone64(net.P64);
      for (const k of Object.keys(want)) want[k].forEach((v, i) => (want[k][i] = v - lr * g2[k][i]));
      // Differs from a plain GD step by more than the tolerance below.
      const gd = clone64(net.P64);
      for (const k of Object.keys(gd)) gd[k].forEach((v, i) => (gd[k][i] = v - lr * g[k][i]));
      expect(relErr(gd, want)).toBeGreaterThan(1e-3);
      const r = await runFit(net, X, Y, { optimizer: { type: 'sam', lr, rho }, steps: 1 });
      expect(relErr(await read64(r.params), want)).toBeLessThan(2e-6);
      tf.dispose([...Object.values(net.P), ...Object.values(r.params)]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('train.fit optimisers (wasm)', () => {
  it('momentum and Adam (with decoupled weight decay) follow their float64 recursions for 3 steps', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const net = await makeNet({ widths: [3, 4, 2], activation: 'erf', parameterization: 'standard', b_std: 0.2 });
    const names = Object.keys(net.P64);
    // momentum: buf ← μ·buf + g, w ← w − η(buf + λw)
    {
      const w = clone64(net.P64);
      const buf: Params64 = Object.fromEntries(names.map((k) => [k, new Float64Array(w[k].length)]));
      for (let t = 0; t < 3; t++) {
        const g = grad64(net.model, w, X, Y);
        for (const k of names) w[k].forEach((v, i) => {
          buf[k][i] = 0.8 * buf[k][i] + g[k][i];
          w[k][i] = v - 0.2 * (buf[k][i] + 0.1 * v);
        });
      }
      const r = await runFit(net, X, Y, { optimizer: { type: 'momentum', lr: 0.2, momentum: 0.8, weight_decay: 0.1 }, steps: 3 });
      expect(relErr(await read64(r.params), w)).toBeLessThan(5e-6);
      tf.dispose(Object.values(r.params));
    }
    // Adam: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², w ← w − η(m̂/(√v̂ + ε) + λw)
    {
      const w = clone64(net.P64);
      const m: Params64 = Object.fromEntries(names.map((k) => [k, new Float64Array(w[k].length)]));
      const v2: Params64 = Object.fromEntries(names.map((k) => [k, new Float64Array(w[k].length)]));
      const [b1, b2, eps, lr, wd] = [0.9, 0.99, 1e-8, 0.01, 0.05];
      for (let t = 1; t <= 3; t++) {
        const g = grad64(net.model, w, X, Y);
        for (const k of names) w[k].forEach((val, i) => {
          m[k][i] = b1 * m[k][i] + (1 - b1) * g[k][i];
          v2[k][i] = b2 * v2[k][i] + (1 - b2) * g[k][i] ** 2;
          const mh = m[k][i] / (1 - b1 ** t);
          const vh = v2[k][i] / (1 - b2 ** t);
          w[k][i] = val - lr * (mh / (Math.sqrt(vh) + eps) + wd * val);
        });
      }
      const r = await runFit(net, X, Y, { optimizer: { type: 'adam', lr, betas: [b1, b2], eps, weight_decay: wd }, steps: 3 });
      // Adam normalises each coordinate: compare each step size (≈ lr) at float32 resolution.
      const got = await read64(r.params);
      let maxDiff = 0;
      for (const k of names) got[k].forEach((val, i) => (maxDiff = Math.max(maxDiff, Math.abs(val - w[k][i]))));
      expect(maxDiff).toBeLessThan(1e-3 * lr);
      tf.dispose(Object.values(r.params));
    }
    tf.dispose(Object.values(net.P));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('cross-entropy GD on int32 labels equals the float64 step; accuracy column is logged', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const net = await makeNet({ widths: [3, 5, 3], activation: 'relu', parameterization: 'ntk' });
    const labels = [0, 1, 2, 2, 1, 0];
    const onehot = labels.map((c) => [0, 1, 2].map((j) => (j === c ? 1 : 0)));
    const g = grad64(net.model, net.P64, X, onehot, 'cross_entropy');
    const want = clone64(net.P64);
    for (const k of Object.keys(want)) want[k].forEach((v, i) => (want[k][i] = v - 0.7 * g[k][i]));
    const y = tf.tensor1d(labels, 'int32');
    const r = await runFit(net, X, y, { optimizer: { type: 'gd', lr: 0.7 }, steps: 1, loss: 'cross_entropy' });
    y.dispose();
    expect(relErr(await read64(r.params), want)).toBeLessThan(2e-6);
    expect(r.metrics.columns).toContain('accuracy');
    const f0 = forward64(net.model, net.P64, X).out;
    const acc = f0.filter((row, i) => row.indexOf(Math.max(...row)) === labels[i]).length / 6;
    expect(r.metrics.rows[0].accuracy).toBeCloseTo(acc, 6);
    tf.dispose([...Object.values(net.P), ...Object.values(r.params)]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('minibatch order is seeded: same seed → same result, another seed → another; epochs count batches', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const net = await makeNet({ widths: [3, 4, 2], activation: 'tanh' });
    const p = { optimizer: { type: 'sgd', lr: 0.5, batch_size: 4 }, epochs: 3, log_every: 2 };
    const a = await runFit(net, X, Y, p);
    const b = await runFit(net, X, Y, p);
    const c = await runFit(net, X, Y, p, { seed: 99 });
    expect(a.info.steps_run).toBe(6);
    expect(a.info.steps_per_epoch).toBe(2);
    expect(a.metrics.rows.map((r) => r.step)).toEqual([0, 2, 4, 6]);
    const [A, B, C] = [await read64(a.params), await read64(b.params), await read64(c.params)];
    expect(relErr(A, B)).toBe(0);
    expect(relErr(A, C)).toBeGreaterThan(1e-4);
    tf.dispose([...Object.values(net.P), ...[a, b, c].flatMap((r) => Object.values(r.params))]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stop_when and early_stopping end training early and say so', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const net = await makeNet({ widths: [3, 16, 2], activation: 'tanh', parameterization: 'ntk' });
    const l0 = loss64('mse', forward64(net.model, net.P64, X).out, Y);
    const s = await runFit(net, X, Y, { optimizer: { type: 'gd', lr: 0.5 }, steps: 500, log_every: 5, stop_when: { metric: 'loss', below: 0.5 * l0 } });
    expect(s.info.stopped).toBe('stop_when');
    const last = s.metrics.rows[s.metrics.rows.length - 1];
    expect(last.loss as number).toBeLessThan(0.5 * l0);
    expect(s.metrics.rows[s.metrics.rows.length - 2].loss as number).toBeGreaterThanOrEqual(0.5 * l0);
    // A huge min_delta: no row ever counts as an improvement after the first.
    const e = await runFit(net, X, Y, { optimizer: { type: 'gd', lr: 0.1 }, steps: 500, log_every: 5, early_stopping: { monitor: 'loss', patience: 3, min_delta: 1e9 } });
    expect(e.info.stopped).toBe('early_stopping');
    expect(e.info.steps_run).toBe(15);
    await expect(runFit(net, X, Y, { steps: 1, stop_when: { metric: 'val_loss', below: 1 } })).rejects.toThrow(/no metrics column 'val_loss'/);
    await expect(runFit(net, X, Y, { steps: 1, frozen: ['W9'] })).rejects.toThrow(/unknown parameter group 'W9'/);
    tf.dispose([...Object.values(net.P), ...Object.values(s.params), ...Object.values(e.params)]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('sharpness (wasm)', () => {
  it('power iteration on HVPs by central differences finds the top eigenvalue of a known quadratic (1e-3)', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    // A = Q diag(λ) Qᵀ with a Householder Q; L(w) = ½ wᵀAw + bᵀw, ∇L = Aw + b, split over two tensors.
    const lam = [6, 3.5, 2, 1, 0.5, 0.25, 0.1];
    const n = lam.length;
    const u = data(1, n, 5)[0];
    const un = Math.sqrt(u.reduce((s, v) => s + v * v, 0));
    const Q = lam.map((_, i) => lam.map((__, j) => (i === j ? 1 : 0) - (2 * u[i] * u[j]) / un ** 2));
    const A = Q.map((_, i) => Q.map((__, j) => lam.reduce((s, l, k) => s + Q[i][k] * l * Q[j][k], 0)));
    const tA = tf.tensor2d(A);
    const tb = tf.tensor1d(data(1, n, 6)[0]);
    const w = [tf.tensor1d(data(1, 3, 7)[0]), tf.tensor1d(data(1, n - 3, 8)[0])];
    const grad = (ws: tf.Tensor[]) => {
      const g = tf.add(tf.squeeze(tf.matMul(tA, tf.reshape(tf.concat(ws), [n, 1]))), tb);
      return [tf.slice(g, 0, 3), tf.slice(g, 3, n - 3)];
    };
    const res = await hessianTopEig(tf, grad, w, { iters: 200, tol: 1e-7, epsRel: 1e-2, seed: 1 });
    expect(Math.abs(res.value - 6) / 6).toBeLessThan(1e-3);
    tf.dispose([tA, tb, ...w]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('train.fit sharpness of a linear least-squares model is λ_max(XᵀX/N) (1e-3)', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const Xl = data(40, 5, 31).map((r, i) => r.map((v, j) => v * (j === 0 ? 3 : 1) + (i % 3) * 0.1));
    const Yl = data(40, 1, 32);
    const net = await makeNet({ widths: [5, 1], activation: 'identity', bias: false });
    const H = Array.from({ length: 5 }, (_, a) => Array.from({ length: 5 }, (__, b) => Xl.reduce((s, r) => s + r[a] * r[b], 0) / 40));
    const r = await runFit(net, Xl, Yl, { optimizer: { type: 'gd', lr: 0.05 }, steps: 2, log_every: 2, track: ['sharpness'], sharpness_iters: 100 });
    const want = maxEig(H);
    for (const row of r.metrics.rows) expect(Math.abs((row.sharpness as number) - want) / want).toBeLessThan(1e-3);
    tf.dispose([...Object.values(net.P), ...Object.values(r.params)]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('coordinate check (wasm)', () => {
  it('hidden-feature change after 10 GD steps scales as width^−½ under ntk and is flat under mup', async () => {
    await useBackend('wasm');
    const Xc = data(32, 8, 41);
    const Yc = data(32, 1, 42);
    const widths = [64, 256, 1024, 4096];
    const slope = (fc: number[]) => {
      const xs = widths.map(Math.log);
      const ys = fc.map(Math.log);
      const mx = xs.reduce((a, b) => a + b) / xs.length;
      const my = ys.reduce((a, b) => a + b) / ys.length;
      return xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0) / xs.reduce((s, x) => s + (x - mx) ** 2, 0);
    };
    const slopes: Record<string, number> = {};
    for (const parameterization of ['ntk', 'mup']) {
      const fc: number[] = [];
      for (const n of widths) {
        const net = await makeNet({ widths: [8, n, 1], activation: 'tanh', parameterization });
        const r = await runFit(net, Xc, Yc, { optimizer: { type: 'gd', lr: 0.1 }, steps: 10, log_every: 10, track: ['feature_change'] });
        fc.push(r.metrics.rows[r.metrics.rows.length - 1].feature_change as number);
        tf.dispose([...Object.values(net.P), ...Object.values(r.params)]);
      }
      slopes[parameterization] = slope(fc);
    }
    expect(slopes.ntk).toBeGreaterThan(-0.65);
    expect(slopes.ntk).toBeLessThan(-0.35);
    expect(Math.abs(slopes.mup)).toBeLessThan(0.1);
  }, 30000);
});

describe('memory, cancellation, divergence (wasm)', () => {
  it('numTensors is the same after every step for every optimiser and track', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const net = await makeNet({ widths: [3, 8, 2], activation: 'tanh', b_std: 0.1 });
    for (const type of ['gd', 'sgd', 'momentum', 'adam', 'sam']) {
      const counts: number[] = [];
      const r = await runFit(
        net, X, Y,
        { optimizer: { type, lr: 0.05, batch_size: 4 }, steps: 12, log_every: 3, track: ['weight_norm', 'ntk_change', 'ntk_alignment', 'feature_change', 'sharpness'], sharpness_iters: 3 },
        { progress: (u) => void (u.step !== undefined && u.step > 0 && counts.push(tf.memory().numTensors)) },
      );
      expect(counts.length).toBe(12);
      expect(new Set(counts).size, `${type}: ${counts.join(',')}`).toBe(1);
      for (const row of r.metrics.rows) for (const c of r.metrics.columns) expect(Number.isFinite(row[c] as number)).toBe(true);
      tf.dispose(Object.values(r.params));
    }
    tf.dispose(Object.values(net.P));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('an abort stops training within one step and frees everything', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const net = await makeNet({ widths: [3, 8, 2] });
    const controller = new AbortController();
    const steps: number[] = [];
    const err = await runFit(net, X, Y, { optimizer: { type: 'adam', lr: 0.01 }, steps: 150, log_every: 1000 }, {
      signal: controller.signal,
      progress: (u) => {
        steps.push(u.step ?? -1);
        if (u.step === 3) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperatorError);
    expect((err as OperatorError).code).toBe('cancelled');
    expect(Math.max(...steps)).toBe(3);
    tf.dispose(Object.values(net.P));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('divergence fails with the step, the last finite loss and a likely cause; nothing leaks', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const net = await makeNet({ widths: [3, 16, 2], activation: 'quadratic', epsilon: 1, parameterization: 'standard' });
    const err = (await runFit(net, X, Y, { optimizer: { type: 'gd', lr: 50 }, steps: 100 }).catch((e: unknown) => e)) as OperatorError;
    expect(err).toBeInstanceOf(OperatorError);
    expect(err.code).toBe('diverged');
    const step = err.details!.step as number;
    expect(step).toBeGreaterThan(0);
    expect(err.message).toMatch(new RegExp(`at step ${step}:`));
    expect(err.message).toMatch(/last finite loss \d/);
    expect(err.message).toMatch(/learning rate|lr/);
    expect(Number.isFinite(err.details!.last_finite_loss as number)).toBe(true);
    tf.dispose(Object.values(net.P));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects non-finite inputs before training', async () => {
    await useBackend('wasm');
    const net = await makeNet({ widths: [3, 4, 2] });
    const bad = X.map((r) => [...r]);
    bad[2][1] = NaN;
    await expect(runFit(net, bad, Y, { steps: 2 })).rejects.toMatchObject({ code: 'non_finite_input' });
    tf.dispose(Object.values(net.P));
  });
});

void testContext;
