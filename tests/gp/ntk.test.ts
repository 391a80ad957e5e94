import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ntk } from '../../operators/gp/index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';
import { addNoise, chol, choSolve, dot, gpRef, kern, matrix, relErr, type M } from './ref.js';

const n = 30;
const x = matrix(n, 2, 61);
const xs = matrix(8, 2, 62);
const y = x.map(([a, b]) => Math.fround(Math.tanh(a) - b * 0.2));
const add = (a: M, b: M) => a.map((r, i) => r.map((v, j) => v + b[i][j]));
const ntkOf = (a: M, b: M) => add(kern(a, b, { type: 'rbf', lengthscale: 1, outputscale: 2 }), kern(a, b, { type: 'linear', lengthscale: 2, outputscale: 1 }));
const nngpOf = (a: M, b: M) => kern(a, b, { type: 'matern52', lengthscale: 0.8, outputscale: 1 });

/** Float64 NTK-GP posterior (Lee et al. 2019) with Θ + r·I. */
function ntkRef(th: M, thc: M, k: M, kc: M, kss: number[], r: number) {
  const l = chol(addNoise(th, r));
  const bcols = thc.map((row) => choSolve(l, row)); // columns of B = Θ⁻¹Θ*ᵀ
  const mean = bcols.map((b) => dot(b, y));
  const v = bcols.map((b, i) => kss[i] + dot(b, k.map((row) => dot(row, b))) - 2 * dot(kc[i], b));
  return { mean, var: v };
}

for (const backend of testBackends()) {
  describe(`gp.ntk on ${backend}`, () => {
    it('matches the float64 NTK posterior; Θ = K gives the GP mean', async () => {
      await useBackend(backend);
      const th = ntkOf(x, x);
      const thc = ntkOf(xs, x);
      const k = nngpOf(x, x);
      const kc = nngpOf(xs, x);
      const kss = new Array(8).fill(1);
      const diagReg = 1e-2;
      const r = (diagReg * th.reduce((s, row, i) => s + row[i], 0)) / n;
      const want = ntkRef(th, thc, k, kc, kss, r);
      const before = tf.memory().numTensors;
      const t = {
        theta_train: tf.tensor2d(th),
        theta_cross: tf.tensor2d(thc),
        k_train: tf.tensor2d(k),
        k_cross: tf.tensor2d(kc),
        k_test_diag: tf.tensor1d(kss),
        y: tf.tensor1d(y),
      };
      const out = (await ntk.run(t as never, params(ntk, { diag_reg: diagReg }), testContext())) as Record<string, tf.Tensor>;
      expect(relErr(await out.mean.data(), want.mean)).toBeLessThan(2e-3);
      expect(relErr(await out.var.data(), want.var, Math.max(...want.var.map(Math.abs)))).toBeLessThan(2e-3);
      tf.dispose([out.mean, out.var]);
      // Θ = K: the mean is the GP mean with noise r.
      const t2 = { theta_train: t.k_train, theta_cross: t.k_cross, y: t.y };
      const out2 = (await ntk.run(t2 as never, params(ntk, { diag_reg: diagReg }), testContext())) as Record<string, tf.Tensor>;
      const r2 = (diagReg * k.reduce((s, row, i) => s + row[i], 0)) / n;
      expect(relErr(await out2.mean.data(), gpRef(k, kc, kss, y, r2).mean)).toBeLessThan(2e-3);
      expect(out2.var).toBeUndefined();
      tf.dispose([out2.mean, ...Object.values(t)]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
