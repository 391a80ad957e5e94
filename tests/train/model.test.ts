/**
 * model.mlp / model.apply: the abc table, gradients of every parameterisation and activation against
 * float64 backprop and central finite differences, the per-layer empirical NTK against per-point
 * Jacobians, and centering.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../core/operator/index.js';
import { apply, mlp } from '../../operators/model/index.js';
import { buildMlpModel, type MlpModel } from '../../operators/model/mlp-lib.js';
import { mlpLossAndGrads, mlpNtk } from '../../operators/train/lib.js';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { data, fdGrad, forward64, grad64, loss64, relErr, type Params64 } from './reference.js';

type Out = { params: Record<string, tf.Tensor>; model: JsonValue };

async function init(given: Record<string, unknown>, seed = 3): Promise<{ model: MlpModel; P: Record<string, tf.Tensor>; P64: Params64 }> {
  const out = mlp.run({}, params(mlp, given), testContext({ seed })) as Out;
  const P64: Params64 = {};
  for (const [k, t] of Object.entries(out.params)) P64[k] = Float64Array.from(await t.data());
  return { model: out.model as unknown as MlpModel, P: out.params, P64 };
}

describe('model.mlp abc table', () => {
  it('gives effective weight std σ_w/√n_in (hidden, input) and the muP output scale σ_w/n', () => {
    for (const parameterization of ['standard', 'ntk', 'mup'] as const) {
      const m = buildMlpModel({ widths: [5, 64, 32, 2], activation: 'relu', epsilon: 1, parameterization, W_std: 1.5, b_std: 0.2, output_scale: 1, centered: false, bias: true });
      m.layers.forEach((layer, l) => {
        const eff = layer.multiplier * layer.init_std;
        const want = parameterization === 'mup' && l === 2 ? 1.5 / 32 : 1.5 / Math.sqrt(layer.fan_in);
        expect(eff).toBeCloseTo(want, 12);
        // abc: multiplier ∝ n^−a, init ∝ n^−b with n the named width.
        const n = layer.width === 'fan_in' ? layer.fan_in : layer.fan_out;
        const m2 = buildMlpModel({ widths: [5, 256, 128, 2], activation: 'relu', epsilon: 1, parameterization, W_std: 1.5, b_std: 0.2, output_scale: 1, centered: false, bias: true }).layers[l];
        const n2 = m2.width === 'fan_in' ? m2.fan_in : m2.fan_out;
        if (n2 === n) return; // the input dimension is fixed
        expect(Math.log(m2.multiplier / layer.multiplier) / Math.log(n2 / n)).toBeCloseTo(-layer.a, 10);
        expect(Math.log(m2.init_std / layer.init_std) / Math.log(n2 / n)).toBeCloseTo(-layer.b, 10);
      });
    }
  });
  it('draws the seeded init with the declared std and the same values for the same seed', async () => {
    await useBackend('wasm');
    const a = await init({ widths: [256, 128, 1], parameterization: 'ntk', W_std: 2 }, 5);
    const b = await init({ widths: [256, 128, 1], parameterization: 'ntk', W_std: 2 }, 5);
    const w = a.P64.W0;
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(Math.abs(std - 1)).toBeLessThan(0.02);
    expect(Array.from(b.P64.W0)).toEqual(Array.from(w));
    tf.dispose([...Object.values(a.P), ...Object.values(b.P)]);
  });
  it('shape inference lists every parameter', () => {
    const s = mlp.shape!({}, params(mlp, { widths: [3, 4, 2] }), { node: 'n', op: 'model.mlp', resolvePath: (p: string) => p }) as unknown as { params: { entries: Record<string, { shape: number[] }> } };
    expect(Object.fromEntries(Object.entries(s.params.entries).map(([k, v]) => [k, v.shape]))).toEqual({ W0: [3, 4], b0: [4], W1: [4, 2], b1: [2] });
  });
});

for (const backend of testBackends()) {
  describe(`model gradients on ${backend}`, () => {
    const X = data(6, 3, 11);
    const Y = data(6, 2, 12);
    for (const parameterization of ['standard', 'ntk', 'mup'] as const) {
      const acts = backend === 'wasm' ? ['relu', 'erf', 'tanh', 'gelu', 'identity', 'quadratic'] : ['quadratic'];
      for (const activation of acts) {
        it(`${parameterization}/${activation}: tfjs gradient = float64 backprop = central differences`, async () => {
          await useBackend(backend);
          const before = tf.memory().numTensors;
          const { model, P, P64 } = await init({ widths: [3, 5, 4, 2], activation, parameterization, W_std: 1.3, b_std: 0.4, output_scale: 1.7, epsilon: 0.5 });
          const mse = (Q: Params64) => loss64('mse', forward64(model, Q, X).out, Y);
          const bp = grad64(model, P64, X, Y);
          const fd = fdGrad(mse, P64);
          // The reference against itself (relu kinks are away from these points).
          expect(relErr(bp, fd)).toBeLessThan(1e-6);
          const names = Object.keys(P);
          const tx = tf.tensor2d(X);
          const ty = tf.tensor2d(Y);
          const { grads: gr, value } = tf.tidy(() => mlpLossAndGrads(tf, model, P, tx, ty, 'mse'));
          expect(Math.abs((await value.data())[0] - mse(P64))).toBeLessThan(1e-5 * mse(P64));
          const grads = [value, ...names.map((n) => gr[n])];
          const G: Params64 = {};
          for (let i = 0; i < names.length; i++) G[names[i]] = Float64Array.from(await grads[i + 1].data());
          expect(relErr(G, bp)).toBeLessThan(2e-5);
          tf.dispose([...grads, tx, ty, ...Object.values(P)]);
          expect(tf.memory().numTensors).toBe(before);
        });
      }
    }

    it('cross-entropy gradient of a centered model matches float64 backprop', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const { model, P, P64 } = await init({ widths: [3, 6, 3], activation: 'tanh', parameterization: 'mup', centered: true, output_scale: 2 });
      const { model: _m, P: P1, P64: Q64 } = await init({ widths: [3, 6, 3], activation: 'tanh', parameterization: 'mup' }, 9);
      void _m;
      const Yc = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]];
      const f0 = forward64(model, P64, X).out;
      const bp = grad64(model, Q64, X, Yc, 'cross_entropy', f0);
      const fd = fdGrad((Q) => loss64('cross_entropy', forward64(model, Q, X).out, Yc, f0), Q64);
      expect(relErr(bp, fd)).toBeLessThan(1e-6);
      const names = Object.keys(P);
      const tx = tf.tensor2d(X);
      const ty = tf.tensor2d(Yc);
      const { grads: gr, value } = tf.tidy(() => mlpLossAndGrads(tf, model, P1, tx, ty, 'cross_entropy', P));
      const grads = [...names.map((n) => gr[n]), value];
      const G: Params64 = {};
      for (let i = 0; i < names.length; i++) G[names[i]] = Float64Array.from(await grads[i].data());
      expect(relErr(G, bp)).toBeLessThan(2e-5);
      tf.dispose([...grads, tx, ty, ...Object.values(P), ...Object.values(P1)]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('model.apply: centered output is 0 at init; uncentered equals the float64 forward pass', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const { model, P, P64 } = await init({ widths: [3, 7, 2], activation: 'gelu', parameterization: 'ntk', b_std: 0.3 });
      const tx = tf.tensor2d(X);
      const { out } = tf.tidy(() => apply.run({ params: P, model: model as unknown as JsonValue, x: tx }, {}, testContext()) as { out: tf.Tensor });
      const want = forward64(model, P64, X).out.flat();
      const got = Array.from(await out.data());
      got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(1e-5 * (1 + Math.abs(want[i]))));
      const centered = { ...model, centered: true } as unknown as JsonValue;
      const { out: c } = tf.tidy(() => apply.run({ params: P, model: centered, x: tx, init: P }, {}, testContext()) as { out: tf.Tensor });
      expect(Math.max(...Array.from(await c.data()).map(Math.abs))).toBe(0);
      expect(() => tf.tidy(() => apply.run({ params: P, model: centered, x: tx }, {}, testContext()) as tf.Tensor)).toThrow(/centered/);
      tf.dispose([out, c, tx, ...Object.values(P)]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('per-layer empirical NTK equals the Gram matrix of per-point Jacobians (float64)', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const { model, P, P64 } = await init({ widths: [3, 5, 4, 2], activation: 'tanh', parameterization: 'ntk', b_std: 0.5, output_scale: 1.5 });
      const names = Object.keys(P);
      const trainable = new Set(names.filter((n) => n !== 'b1'));
      const tx = tf.tensor2d(X);
      const K = tf.tidy(() => mlpNtk(tf, model, P, tx, trainable));
      const got = Array.from(await K.data());
      // Jacobian rows J[i,k] = ∂f_ik/∂θ by backprop of f_ik alone: loss64 of a one-hot "mse" is awkward, so use
      // grad64 with Y = f − e_ik·N (mse gradient (f−y)/N = e_ik).
      const f = forward64(model, P64, X).out;
      const jac: number[][][] = X.map((_, i) =>
        [0, 1].map((k) => {
          const Yk = f.map((row, r) => row.map((v, c) => v - (r === i && c === k ? X.length : 0)));
          const g = grad64(model, P64, X, Yk);
          return names.filter((n) => trainable.has(n)).flatMap((n) => Array.from(g[n]));
        }),
      );
      const n = X.length;
      let maxErr = 0;
      let maxVal = 0;
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let k = 0; k < 2; k++) jac[i][k].forEach((v, p) => (s += v * jac[j][k][p]));
          maxErr = Math.max(maxErr, Math.abs(s - got[i * n + j]));
          maxVal = Math.max(maxVal, Math.abs(s));
        }
      expect(maxErr / maxVal).toBeLessThan(1e-5);
      tf.dispose([K, tx, ...Object.values(P)]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
