/**
 * train.linearized and train.ntk_flow: the Jacobian-vector product against float64 finite differences,
 * the trained twin against the exact GD recursion of a linear model, the closed-form flow against a
 * float64 matrix exponential, and a wide network tracking its twin.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../core/operator/index.js';
import { linearized, ntkFlow } from '../../operators/train/index.js';
import { mlpJvp } from '../../operators/train/lib.js';
import { mlpForward } from '../../operators/model/mlp-lib.js';
import { fit } from '../../operators/train/fit.js';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';
import { useBackend } from '../helpers/backends.js';
import { clone64, data, forward64, grad64, type Params64 } from './reference.js';
import { makeNet, type Net } from './fit-helpers.js';

type M = number[][];
const matmul = (a: M, b: M): M => a.map((r) => b[0].map((_, j) => r.reduce((s, v, k) => s + v * b[k][j], 0)));
const eye = (n: number): M => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (__, j) => (i === j ? 1 : 0)));
/** e^A by scaling and squaring with a 30-term Taylor series (float64). */
function expm(A: M): M {
  const norm = Math.max(...A.map((r) => r.reduce((s, v) => s + Math.abs(v), 0)));
  const s = Math.max(0, Math.ceil(Math.log2(norm + 1)) + 1);
  const B = A.map((r) => r.map((v) => v / 2 ** s));
  let term = eye(A.length);
  let sum = eye(A.length);
  for (let k = 1; k < 30; k++) {
    term = matmul(term, B).map((r) => r.map((v) => v / k));
    sum = sum.map((r, i) => r.map((v, j) => v + term[i][j]));
  }
  for (let i = 0; i < s; i++) sum = matmul(sum, sum);
  return sum;
}
/** Θ_η(X1, X2) = Σ_θ η_θ ∂f(x1)/∂θ ∂f(x2)/∂θ in float64 from backprop Jacobian rows (one output). */
function ntk64(net: Net, X1: M, X2: M, rate: (name: string) => number): M {
  const rows = (X: M) => X.map((x) => {
    const f = forward64(net.model, net.P64, [x]).out[0][0];
    const g = grad64(net.model, net.P64, [x], [[f - 1]]); // mse gradient (f − y)/1 = 1·∂f/∂θ
    return Object.keys(g).flatMap((k) => Array.from(g[k], (v) => v * Math.sqrt(rate(k))));
  });
  const [J1, J2] = [rows(X1), rows(X2)];
  return J1.map((a) => J2.map((b) => a.reduce((s, v, i) => s + v * b[i], 0)));
}

const X = data(8, 3, 51);
const Y = data(8, 1, 52);
const Xt = data(5, 3, 53);

describe('linearised twin (wasm)', () => {
  it('the JVP equals a float64 central difference of the forward pass', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const net = await makeNet({ widths: [3, 6, 5, 2], activation: 'gelu', parameterization: 'mup', b_std: 0.4, output_scale: 1.3 });
    const dir: Params64 = Object.fromEntries(Object.entries(net.P64).map(([k, v], i) => [k, Float64Array.from(data(1, v.length, 60 + i)[0])]));
    const h = 1e-6;
    const up = clone64(net.P64);
    const dn = clone64(net.P64);
    for (const k of Object.keys(up)) up[k].forEach((v, i) => ((up[k][i] = v + h * dir[k][i]), (dn[k][i] = net.P64[k][i] - h * dir[k][i])));
    const fu = forward64(net.model, up, X).out;
    const fd = forward64(net.model, dn, X).out;
    const want = fu.flatMap((r, i) => r.map((v, j) => (v - fd[i][j]) / (2 * h)));
    const tx = tf.tensor2d(X);
    const t = tf.tidy(() => {
      const d = Object.fromEntries(Object.entries(dir).map(([k, v]) => [k, tf.tensor(Float32Array.from(v), net.P[k].shape)]));
      return mlpJvp(tf, net.model, net.P, mlpForward(tf, net.model, net.P, tx), d);
    });
    const got = Array.from(await t.data());
    const scale = Math.max(...want.map(Math.abs));
    got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(1e-5 * scale));
    tf.dispose([t, tx, ...Object.values(net.P)]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('GD on the twin follows f₀ + (I − (I − Θ_η/N)^t)(y − f₀); ntk_flow equals f₀ + (I − e^{−Θ_η t/N})(y − f₀)', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const net = await makeNet({ widths: [3, 16, 1], activation: 'tanh', parameterization: 'ntk', b_std: 0.2 });
    const lr = 0.5;
    const t = 30;
    const rate = (k: string) => lr * (k === 'W1' ? 2 : 1);
    const Th = ntk64(net, X, X, rate);
    const f0 = forward64(net.model, net.P64, X).out.map((r) => r[0]);
    const r0 = Y.map((r, i) => [r[0] - f0[i]]);
    const n = X.length;
    let P = eye(n);
    const step = eye(n).map((r, i) => r.map((v, j) => v - Th[i][j] / n));
    for (let s = 0; s < t; s++) P = matmul(P, step);
    const wantGd = matmul(eye(n).map((r, i) => r.map((v, j) => v - P[i][j])), r0).map((r, i) => f0[i] + r[0]);
    const E = expm(Th.map((r) => r.map((v) => (-v * t) / n)));
    const wantFlow = matmul(eye(n).map((r, i) => r.map((v, j) => v - E[i][j])), r0).map((r, i) => f0[i] + r[0]);
    const tx = tf.tensor2d(X);
    const ty = tf.tensor2d(Y);
    const lin = (await linearized.run({ params: net.P, model: net.model as unknown as JsonValue, x: tx, y: ty }, params(linearized, { optimizer: { type: 'gd', lr }, steps: t, lr_multipliers: { W1: 2 } }), testContext())) as { params: Record<string, tf.Tensor>; pred: tf.Tensor };
    const gotGd = Array.from(await lin.pred.data());
    gotGd.forEach((v, i) => expect(Math.abs(v - wantGd[i])).toBeLessThan(1e-4));
    const flow = (await ntkFlow.run({ params: net.P, model: net.model as unknown as JsonValue, x: tx, y: ty }, params(ntkFlow, { lr, steps: t, lr_multipliers: { W1: 2 } }), testContext())) as { pred: tf.Tensor };
    const gotFlow = Array.from(await flow.pred.data());
    gotFlow.forEach((v, i) => expect(Math.abs(v - wantFlow[i])).toBeLessThan(1e-4));
    // The two differ (discrete vs continuous time) by more than the tolerance here.
    expect(Math.max(...wantGd.map((v, i) => Math.abs(v - wantFlow[i])))).toBeGreaterThan(1e-3);
    tf.dispose([tx, ty, lin.pred, flow.pred, ...Object.values(lin.params), ...Object.values(net.P)]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('ntk_flow at large t interpolates: f(x*) = f₀(x*) + Θ(x*, X)Θ⁻¹(y − f₀)', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const net = await makeNet({ widths: [3, 32, 1], activation: 'erf', parameterization: 'ntk', b_std: 0.3 });
    const rate = () => 1;
    const Th = ntk64(net, X, X, rate);
    const Tc = ntk64(net, Xt, X, rate);
    const f0 = forward64(net.model, net.P64, X).out.map((r) => r[0]);
    const f0t = forward64(net.model, net.P64, Xt).out.map((r) => r[0]);
    // Solve Θ a = y − f₀ by Gaussian elimination (float64).
    const n = X.length;
    const A = Th.map((r, i) => [...r, Y[i][0] - f0[i]]);
    for (let c = 0; c < n; c++) {
      for (let r = c + 1; r < n; r++) {
        const m = A[r][c] / A[c][c];
        for (let k = c; k <= n; k++) A[r][k] -= m * A[c][k];
      }
    }
    const a = new Array<number>(n).fill(0);
    for (let r = n - 1; r >= 0; r--) a[r] = (A[r][n] - A[r].slice(r + 1, n).reduce((s, v, k) => s + v * a[r + 1 + k], 0)) / A[r][r];
    const want = Tc.map((row, i) => f0t[i] + row.reduce((s, v, k) => s + v * a[k], 0));
    const [tx, ty, tt] = [tf.tensor2d(X), tf.tensor2d(Y), tf.tensor2d(Xt)];
    const flow = (await ntkFlow.run({ params: net.P, model: net.model as unknown as JsonValue, x: tx, y: ty, x_test: tt }, params(ntkFlow, { lr: 1, steps: 1e7 }), testContext())) as { pred: tf.Tensor };
    const got = Array.from(await flow.pred.data());
    const scale = Math.max(...want.map(Math.abs));
    got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(2e-3 * scale));
    tf.dispose([tx, ty, tt, flow.pred, ...Object.values(net.P)]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a width-2048 network trained 200 GD steps tracks its linearised twin (relative gap < 0.1)', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const Xw = data(10, 4, 71);
    const Yw = data(10, 1, 72);
    const Xs = data(20, 4, 73);
    const net = await makeNet({ widths: [4, 2048, 1], activation: 'relu', parameterization: 'ntk', W_std: Math.SQRT2, b_std: 0.1 });
    const [tx, ty, ts] = [tf.tensor2d(Xw), tf.tensor2d(Yw), tf.tensor2d(Xs)];
    const p = params(fit, { optimizer: { type: 'gd', lr: 1 }, steps: 200, log_every: 200 });
    const net1 = (await fit.run({ params: net.P, model: net.model as unknown as JsonValue, x: tx, y: ty }, p, testContext())) as { params: Record<string, tf.Tensor> };
    const lin = (await linearized.run({ params: net.P, model: net.model as unknown as JsonValue, x: tx, y: ty, x_test: ts }, p, testContext())) as { params: Record<string, tf.Tensor>; pred: tf.Tensor };
    const fNet = tf.tidy(() => mlpForward(tf, net.model, net1.params, ts).out);
    const f0 = tf.tidy(() => mlpForward(tf, net.model, net.P, ts).out);
    const [a, b, c] = [Array.from(await fNet.data()), Array.from(await lin.pred.data()), Array.from(await f0.data())];
    const gap = Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0)) / Math.sqrt(b.reduce((s, v) => s + v * v, 0));
    const moved = Math.sqrt(b.reduce((s, v, i) => s + (v - c[i]) ** 2, 0)) / Math.sqrt(b.reduce((s, v) => s + v * v, 0));
    expect(gap).toBeLessThan(0.1);
    // Training moved the predictions by much more than the gap (the check is not vacuous).
    expect(moved).toBeGreaterThan(3 * gap);
    tf.dispose([tx, ty, ts, fNet, f0, lin.pred, ...Object.values(lin.params), ...Object.values(net1.params), ...Object.values(net.P)]);
    expect(tf.memory().numTensors).toBe(before);
  }, 30000);
});
