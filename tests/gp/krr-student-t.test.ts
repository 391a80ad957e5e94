import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { exact, krr, lgamma, nll, studentT } from '../../operators/gp/index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';
import { addNoise, chol, choSolve, dot, fwd, gpRef, kern, matrix, relErr, type Spec } from './ref.js';

const n = 36;
const x = matrix(n, 3, 21);
const xs = matrix(12, 3, 22);
const y = x.map(([a, b, c]) => Math.fround(Math.sin(a) * b + 0.3 * c));
const spec: Spec = { type: 'matern52', lengthscale: [1.2, 0.9, 2], outputscale: 1.3 };

/** lgamma by Stirling's series after shifting x above 20 (independent of the Lanczos form). */
function lgammaRef(x: number): number {
  let shift = 0;
  while (x < 20) {
    shift -= Math.log(x);
    x += 1;
  }
  const z = 1 / (x * x);
  return shift + (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + (1 / (12 * x)) * (1 - z * (1 / 30 - z * (1 / 105 - z / 140)));
}

describe('lgamma', () => {
  it('matches Stirling and Γ(n) = (n−1)!', () => {
    for (const v of [0.3, 1, 2.5, 7, 19.5, 40.2]) expect(Math.abs(lgamma(v) - lgammaRef(v))).toBeLessThan(1e-12);
    expect(lgamma(6)).toBeCloseTo(Math.log(120), 12);
  });
});

for (const backend of testBackends()) {
  describe(`gp.krr and gp.student_t on ${backend}`, () => {
    it('KRR equals the float64 solve and the GP mean with σ² = λ', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const t = { x: tf.tensor2d(x), x_test: tf.tensor2d(xs), y: tf.tensor1d(y) };
      const lam = 0.03;
      const out = (await krr.run(t as never, params(krr, { kernel: spec, lambda: lam }), testContext())) as Record<string, tf.Tensor>;
      const l = chol(addNoise(kern(x, x, spec), lam));
      const dual = choSolve(l, y);
      const pred = kern(xs, x, spec).map((r) => dot(r, dual));
      expect(relErr(await out.dual.data(), dual, Math.max(...dual.map(Math.abs)))).toBeLessThan(2e-3);
      expect(relErr(await out.pred.data(), pred)).toBeLessThan(2e-3);
      const gp = (await exact.run(t as never, params(exact, { kernel: spec, noise: lam }), testContext())) as Record<string, tf.Tensor>;
      expect(relErr(await out.pred.data(), Array.from(await gp.mean.data()))).toBeLessThan(1e-4);
      tf.dispose([out.dual, out.pred, gp.mean, gp.var, gp.lml]);
      tf.dispose(Object.values(t));
      expect(tf.memory().numTensors).toBe(before);
    });

    it('Student-t process matches its float64 closed form', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const t = { x: tf.tensor2d(x), x_test: tf.tensor2d(xs), y: tf.tensor1d(y) };
      const [a, b, lam] = [3, 0.5, 0.05];
      const out = (await studentT.run(t as never, params(studentT, { kernel: spec, noise: lam, a, b }), testContext())) as Record<string, tf.Tensor>;
      const A = addNoise(kern(x, x, spec), lam);
      const l = chol(A);
      const alpha = choSolve(l, y);
      const beta = dot(y, alpha);
      const logdet = 2 * l.reduce((s, r, i) => s + Math.log(r[i]), 0);
      const lml = lgammaRef(a + n / 2) - lgammaRef(a) - (n / 2) * Math.log(2 * Math.PI * b) - 0.5 * logdet - (a + n / 2) * Math.log(1 + beta / (2 * b));
      const kc = kern(xs, x, spec);
      const q = kc.map((r, i) => {
        const w = fwd(l, r);
        return kern([xs[i]], [xs[i]], spec)[0][0] - dot(w, w);
      });
      const nu = 2 * a + n;
      const mean = kc.map((r) => dot(r, alpha));
      expect(relErr(await out.mean.data(), mean)).toBeLessThan(2e-3);
      expect(relErr(await out.scale.data(), q.map((v) => ((2 * b + beta) / nu) * v))).toBeLessThan(2e-3);
      expect(relErr(await out.var.data(), q.map((v) => ((2 * b + beta) / (nu - 2)) * v))).toBeLessThan(2e-3);
      expect(relErr(await out.scale_y.data(), q.map((v) => ((2 * b + beta) / nu) * (v + lam)))).toBeLessThan(2e-3);
      expect((await out.dof.data())[0]).toBe(nu);
      expect(Math.abs((await out.lml.data())[0] - lml) / Math.abs(lml)).toBeLessThan(2e-3);
      // Its mean is the GP mean.
      expect(relErr(await out.mean.data(), gpRef(kern(x, x, spec), kc, q, y, lam).mean)).toBeLessThan(2e-3);
      tf.dispose(Object.values(out).filter((v) => v instanceof tf.Tensor));
      tf.dispose(Object.values(t));
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('gp.nll', () => {
  it('Gaussian and Student-t NLL match float64; the t tends to the Gaussian as ν → ∞', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const yv = [0.5, -1, 2, 0.1];
    const mv = [0.4, -0.5, 1, 0];
    const vv = [0.1, 0.2, 0.5, 0.05];
    const t = { y: tf.tensor1d(yv), mean: tf.tensor1d(mv), var: tf.tensor1d(vv) };
    const g = (await nll.run(t as never, params(nll, { noise: 0.01 }), testContext())) as { nll: tf.Tensor };
    const wantG = yv.reduce((s, y, i) => s + 0.5 * Math.log(2 * Math.PI * (vv[i] + 0.01)) + (y - mv[i]) ** 2 / (2 * (vv[i] + 0.01)), 0) / 4;
    expect((await g.nll.data())[0]).toBeCloseTo(wantG, 5);
    const nu = 5;
    const dof = tf.scalar(nu);
    const st = (await nll.run({ ...t, dof } as never, params(nll, {}), testContext())) as { nll: tf.Tensor };
    const wantT = yv.reduce((s, y, i) => s - lgammaRef((nu + 1) / 2) + lgammaRef(nu / 2) + 0.5 * Math.log(nu * Math.PI * vv[i]) + ((nu + 1) / 2) * Math.log(1 + (y - mv[i]) ** 2 / (nu * vv[i])), 0) / 4;
    expect((await st.nll.data())[0]).toBeCloseTo(wantT, 5);
    const big = tf.scalar(1e6);
    const lim = (await nll.run({ ...t, dof: big } as never, params(nll, {}), testContext())) as { nll: tf.Tensor };
    const wantLim = yv.reduce((s, y, i) => s + 0.5 * Math.log(2 * Math.PI * vv[i]) + (y - mv[i]) ** 2 / (2 * vv[i]), 0) / 4;
    expect((await lim.nll.data())[0]).toBeCloseTo(wantLim, 4);
    tf.dispose([g.nll, st.nll, lim.nll, dof, big, ...Object.values(t)]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
