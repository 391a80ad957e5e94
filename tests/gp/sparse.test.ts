import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { sparse } from '../../operators/gp/index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';
import { addNoise, chol, choSolve, col, dot, fwd, gpRef, kern, matrix, relErr, type M, type Spec } from './ref.js';

const transpose = (a: M): M => a[0].map((_, j) => col(a, j));
const matmul = (a: M, b: M): M => a.map((r) => b[0].map((_, j) => r.reduce((s, v, k) => s + v * b[k][j], 0)));

/** Float64 SGPR from the textbook (non-stable) formulas: Q = KfuKuu⁻¹Kuf, Σ = (Kuu + KufKfu/σ²)⁻¹. */
function sgprRef(x: M, z: M, xs: M, y: number[], spec: Spec, s2: number) {
  const kuu = kern(z, z, spec);
  const kuf = kern(z, x, spec);
  const kus = kern(z, xs, spec);
  const lu = chol(kuu);
  const v = transpose(kuf).map((r) => fwd(lu, r)); // rows: L⁻¹k_u(x_i)
  const q = matmul(v, transpose(v));
  const lq = chol(addNoise(q, s2));
  const alpha = choSolve(lq, y);
  const trDiff = x.reduce((s, xi, i) => s + kern([xi], [xi], spec)[0][0] - q[i][i], 0);
  const elbo = -0.5 * dot(y, alpha) - lq.reduce((s, r, i) => s + Math.log(r[i]), 0) - (x.length / 2) * Math.log(2 * Math.PI) - trDiff / (2 * s2);
  const sig = addNoise(kuu, 0).map((r, i) => r.map((vv, j) => vv + dot(kuf[i], kuf[j]) / s2));
  const ls = chol(sig);
  const kufy = kuf.map((r) => dot(r, y) / s2);
  const b = choSolve(ls, kufy);
  const mean = transpose(kus).map((r) => dot(r, b));
  const vr = transpose(kus).map((r, i) => {
    const a1 = fwd(lu, r);
    const a2 = fwd(ls, r);
    return kern([xs[i]], [xs[i]], spec)[0][0] - dot(a1, a1) + dot(a2, a2);
  });
  return { mean, var: vr, elbo };
}

for (const backend of testBackends()) {
  describe(`gp.sparse (sgpr) on ${backend}`, () => {
    it('equals the exact GP when z = x', async () => {
      await useBackend(backend);
      const x = Array.from({ length: 30 }, (_, i) => [Math.fround(-3 + (6 * i) / 29)]);
      const xs = matrix(10, 1, 41, -3.5, 3.5);
      const y = x.map(([a]) => Math.fround(Math.sin(2 * a)));
      const spec: Spec = { type: 'rbf', lengthscale: 0.6, outputscale: 1.2 };
      const before = tf.memory().numTensors;
      const t = { x: tf.tensor2d(x), z: tf.tensor2d(x), x_test: tf.tensor2d(xs), y: tf.tensor1d(y) };
      const out = (await sparse.run(t as never, params(sparse, { kernel: spec, noise: 0.1 }), testContext())) as Record<string, tf.Tensor>;
      const want = gpRef(kern(x, x, spec), kern(xs, x, spec), new Array(10).fill(1.2), y, 0.1);
      expect(relErr(await out.mean.data(), want.mean)).toBeLessThan(2e-3);
      expect(relErr(await out.var.data(), want.var)).toBeLessThan(2e-3);
      expect(Math.abs((await out.elbo.data())[0] - want.lml) / Math.abs(want.lml)).toBeLessThan(2e-3);
      tf.dispose([out.mean, out.var, out.elbo, ...Object.values(t)]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('matches float64 SGPR with m < n, streamed in chunks, from x/z or from k_* matrices', async () => {
      await useBackend(backend);
      const x = matrix(40, 2, 51);
      const z = matrix(10, 2, 52);
      const xs = matrix(9, 2, 53);
      const y = x.map(([a, b]) => Math.fround(Math.cos(a) + 0.5 * b));
      const spec: Spec = { type: 'matern32', lengthscale: [1.5, 2], outputscale: 1 };
      const want = sgprRef(x, z, xs, y, spec, 0.2);
      const before = tf.memory().numTensors;
      const t = { x: tf.tensor2d(x), z: tf.tensor2d(z), x_test: tf.tensor2d(xs), y: tf.tensor1d(y) };
      const p = params(sparse, { kernel: spec, noise: 0.2, chunk: 16 });
      const out = (await sparse.run(t as never, p, testContext())) as Record<string, tf.Tensor>;
      expect(relErr(await out.mean.data(), want.mean)).toBeLessThan(2e-3);
      expect(relErr(await out.var.data(), want.var)).toBeLessThan(2e-3);
      expect(Math.abs((await out.elbo.data())[0] - want.elbo) / Math.abs(want.elbo)).toBeLessThan(2e-3);
      const k = {
        k_uu: tf.tensor2d(kern(z, z, spec)),
        k_uf: tf.tensor2d(kern(z, x, spec)),
        k_ff_diag: tf.ones([40]),
        k_us: tf.tensor2d(kern(z, xs, spec)),
        k_ss_diag: tf.ones([9]),
        y: t.y,
      };
      const out2 = (await sparse.run(k as never, p, testContext())) as Record<string, tf.Tensor>;
      expect(relErr(await out2.mean.data(), want.mean)).toBeLessThan(2e-3);
      expect(relErr(await out2.var.data(), want.var)).toBeLessThan(2e-3);
      tf.dispose([out.mean, out.var, out.elbo, out2.mean, out2.var, out2.elbo, ...Object.values(t), ...Object.values(k)]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
