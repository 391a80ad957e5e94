/**
 * gp.sparse method svgp against float64 references written from the textbook formulas:
 * marginals μ = KxuKuu⁻¹m, v = kxx − kxuKuu⁻¹kux + kxuKuu⁻¹SKuu⁻¹kux, the closed-form Gaussian
 * expected log-likelihood −½log 2πσ² − ((y − μ)² + v)/2σ² and the Gaussian KL
 * ½[tr(Kuu⁻¹S) + mᵀKuu⁻¹m − M + log|Kuu| − log|S|]. rtol 2e-3 (float32 against float64).
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { OperatorError } from '../../core/operator/index.js';
import { sparse } from '../../operators/gp/index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';
import { addNoise, chol, choSolve, col, dot, fwd, gpRef, kern, matrix, relErr, type M, type Spec } from './ref.js';

const transpose = (a: M): M => a[0].map((_, j) => col(a, j));
const matmul = (a: M, b: M): M => a.map((r) => b[0].map((_, j) => r.reduce((s, v, k) => s + v * b[k][j], 0)));
/** A⁻¹B column by column through the Cholesky factor of A. */
const solveM = (l: M, b: M): M => transpose(transpose(b).map((c) => choSolve(l, c)));
const logdetL = (l: M) => 2 * l.reduce((s, r, i) => s + Math.log(Math.abs(r[i])), 0);

/** Float64 SVGP at q = N(qm, S): ELBO, its parts, and predictions at xs. */
function svgpRef(x: M, z: M, xs: M, y: number[], spec: Spec, s2: number, qm: number[], s: M) {
  const kuu = kern(z, z, spec);
  const lu = chol(kuu);
  const mm = z.length;
  const marg = (pts: M) => {
    const kup = kern(z, pts, spec);
    const a = choSolve(lu, qm); // Kuu⁻¹m
    return pts.map((p, i) => {
      const ku = col(kup, i);
      const w = choSolve(lu, ku); // Kuu⁻¹k_u
      return { mu: dot(ku, a), v: kern([p], [p], spec)[0][0] - dot(ku, w) + dot(w, s.map((r) => dot(r, w))) };
    });
  };
  const ell = marg(x).reduce((acc, { mu, v }, i) => acc - 0.5 * Math.log(2 * Math.PI * s2) - ((y[i] - mu) ** 2 + v) / (2 * s2), 0);
  const kinvS = solveM(lu, s);
  const kl = 0.5 * (kinvS.reduce((t, r, i) => t + r[i], 0) + dot(qm, choSolve(lu, qm)) - mm + logdetL(lu) - logdetL(chol(s)));
  const pred = marg(xs);
  return { elbo: ell - kl, ell, kl, mean: pred.map((p) => p.mu), var: pred.map((p) => p.v) };
}

/** Titsias' optimal q: Σ = (Kuu + KufKfu/σ²)⁻¹, m = KuuΣKufy/σ², S = KuuΣKuu. */
function optimalQRef(x: M, z: M, y: number[], spec: Spec, s2: number) {
  const kuu = kern(z, z, spec);
  const kuf = kern(z, x, spec);
  const p = addNoise(kuu, 0).map((r, i) => r.map((v, j) => v + dot(kuf[i], kuf[j]) / s2));
  const lp = chol(p);
  const qm = matmul(kuu, solveM(lp, kuf.map((r) => [dot(r, y) / s2]))).map((r) => r[0]);
  const s = matmul(kuu, solveM(lp, kuu));
  return { qm, s: s.map((r, i) => r.map((v, j) => 0.5 * (v + s[j][i]))) };
}

/** Float64 collapsed SGPR bound log N(y | 0, Q + σ²I) − tr(Kff − Q)/2σ². */
function sgprElboRef(x: M, z: M, y: number[], spec: Spec, s2: number): number {
  const lu = chol(kern(z, z, spec));
  const v = transpose(kern(z, x, spec)).map((r) => fwd(lu, r));
  const q = matmul(v, transpose(v));
  const lq = chol(addNoise(q, s2));
  const trDiff = x.reduce((s, xi, i) => s + kern([xi], [xi], spec)[0][0] - q[i][i], 0);
  return -0.5 * dot(y, choSolve(lq, y)) - logdetL(lq) / 2 - (x.length / 2) * Math.log(2 * Math.PI) - trDiff / (2 * s2);
}

type Out = { mean: tf.Tensor; var: tf.Tensor; elbo: tf.Tensor; q_mu?: tf.Tensor; q_sqrt?: tf.Tensor; info: Record<string, unknown> };
const run = async (t: Record<string, tf.Tensor>, given: Record<string, unknown>) =>
  (await sparse.run(t as never, params(sparse, given), testContext())) as Out;
const disposeOut = (o: Out) => tf.dispose([o.mean, o.var, o.elbo, o.q_mu, o.q_sqrt].filter(Boolean) as tf.Tensor[]);
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

const x = matrix(40, 2, 61);
const z = matrix(8, 2, 62);
const xs = matrix(9, 2, 63);
const y = x.map(([a, b]) => Math.fround(Math.cos(a) + 0.5 * b));
const spec: Spec = { type: 'matern52', lengthscale: [1.3, 1.8], outputscale: 1.1 };
const s2 = 0.15;

for (const backend of testBackends()) {
  describe(`gp.sparse (svgp) on ${backend}`, () => {
    it('optimal q: the uncollapsed bound equals SGPR\'s collapsed bound, predictions equal SGPR\'s', async () => {
      await useBackend(backend);
      const opt = optimalQRef(x, z, y, spec, s2);
      const want = svgpRef(x, z, xs, y, spec, s2, opt.qm, opt.s);
      // The identity itself, in float64 (guards the references).
      expect(rel(want.elbo, sgprElboRef(x, z, y, spec, s2))).toBeLessThan(1e-9);
      const before = tf.memory().numTensors;
      const t = { x: tf.tensor2d(x), z: tf.tensor2d(z), x_test: tf.tensor2d(xs), y: tf.tensor1d(y) };
      const sv = await run(t, { method: 'svgp', kernel: spec, noise: s2, chunk: 16 });
      const sg = await run(t, { method: 'sgpr', kernel: spec, noise: s2, chunk: 16 });
      const [e1, e2] = [(await sv.elbo.data())[0], (await sg.elbo.data())[0]];
      expect(rel(e1, e2)).toBeLessThan(2e-3);
      expect(rel(e1, want.elbo)).toBeLessThan(2e-3);
      expect(rel(sv.info.ell as number, want.ell)).toBeLessThan(2e-3);
      expect(Math.abs((sv.info.kl as number) - want.kl)).toBeLessThan(2e-3 * Math.abs(want.elbo));
      expect(sv.info.q).toBe('optimal');
      expect(relErr(await sv.mean.data(), Array.from(await sg.mean.data()))).toBeLessThan(2e-3);
      expect(relErr(await sv.var.data(), Array.from(await sg.var.data()))).toBeLessThan(2e-3);
      expect(relErr(await sv.mean.data(), want.mean)).toBeLessThan(2e-3);
      expect(relErr(await sv.var.data(), want.var)).toBeLessThan(2e-3);
      // The optimal q is output in GPflow's parameters: q_mu, and q_sqrt with q_sqrt·q_sqrtᵀ = S.
      expect(relErr(await sv.q_mu!.data(), opt.qm, Math.max(...opt.qm.map(Math.abs)))).toBeLessThan(2e-3);
      const lq = (await sv.q_sqrt!.array()) as M;
      expect(lq.every((r, i) => r.every((v, j) => j <= i || v === 0))).toBe(true);
      const sGot = matmul(lq, transpose(lq)).flat();
      expect(relErr(sGot, opt.s.flat(), Math.max(...opt.s.flat().map(Math.abs)))).toBeLessThan(2e-3);
      // Fed back as a given q, it reproduces the bound.
      const back = await run({ ...t, q_mu: sv.q_mu!, q_sqrt: sv.q_sqrt! }, { method: 'svgp', kernel: spec, noise: s2, chunk: 16 });
      expect(back.info.q).toBe('given');
      expect(rel((await back.elbo.data())[0], want.elbo)).toBeLessThan(2e-3);
      [sv, sg, back].forEach(disposeOut);
      tf.dispose(Object.values(t));
      expect(tf.memory().numTensors).toBe(before);
    });

    it('given non-optimal q: ELBO, ELL, KL and predictions match float64; the bound is below the optimum', async () => {
      await useBackend(backend);
      const opt = optimalQRef(x, z, y, spec, s2);
      const pert = matrix(8, 1, 64, -0.3, 0.3).map((r) => r[0]);
      const qm = opt.qm.map((v, i) => Math.fround(v + pert[i]));
      // A lower-triangular root with one negative diagonal entry (allowed: S = L_S L_Sᵀ).
      const lsq = matrix(8, 8, 65, -0.2, 0.2).map((r, i) => r.map((v, j) => (j > i ? 0 : j === i ? Math.fround((i === 3 ? -1 : 1) * (0.3 + 0.05 * i)) : v)));
      const sMat = matmul(lsq, transpose(lsq));
      const want = svgpRef(x, z, xs, y, spec, s2, qm, sMat);
      const best = sgprElboRef(x, z, y, spec, s2);
      expect(want.elbo).toBeLessThan(best);
      const before = tf.memory().numTensors;
      // The upper triangle of q_sqrt is ignored (GPflow's convention): fill it with junk.
      const junk = lsq.map((r, i) => r.map((v, j) => (j > i ? 5 : v)));
      const t = { x: tf.tensor2d(x), z: tf.tensor2d(z), x_test: tf.tensor2d(xs), y: tf.tensor1d(y), q_mu: tf.tensor1d(qm), q_sqrt: tf.tensor2d(junk) };
      const out = await run(t, { method: 'svgp', kernel: spec, noise: s2, chunk: 16, jitter: 0 });
      const e = (await out.elbo.data())[0];
      expect(rel(e, want.elbo)).toBeLessThan(2e-3);
      expect(rel(out.info.ell as number, want.ell)).toBeLessThan(2e-3);
      expect(rel(out.info.kl as number, want.kl)).toBeLessThan(2e-3);
      expect(e).toBeLessThan(best);
      expect(out.info.q).toBe('given');
      expect(relErr(await out.mean.data(), want.mean)).toBeLessThan(2e-3);
      expect(relErr(await out.var.data(), want.var)).toBeLessThan(2e-3);
      disposeOut(out);
      // From kernel matrices, with q_mu given per column of a [n, 2] target.
      const k = {
        k_uu: tf.tensor2d(kern(z, z, spec)),
        k_uf: tf.tensor2d(kern(z, x, spec)),
        k_ff_diag: tf.fill([40], 1.1),
        y: tf.tensor2d(y.map((v) => [v, v])),
        q_mu: tf.tensor2d(qm.map((v) => [v, v])),
        q_sqrt: t.q_sqrt,
      };
      const out2 = await run(k, { method: 'svgp', noise: s2, jitter: 0 });
      expect(rel((await out2.elbo.data())[0], 2 * want.elbo)).toBeLessThan(2e-3);
      expect(out2.q_mu!.shape).toEqual([8, 2]);
      disposeOut(out2);
      tf.dispose([...Object.values(t), k.k_uu, k.k_uf, k.k_ff_diag, k.y, k.q_mu]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('z = x: equals the exact GP (mean, var, ELBO = LML)', async () => {
      await useBackend(backend);
      const x1 = Array.from({ length: 30 }, (_, i) => [Math.fround(-3 + (6 * i) / 29)]);
      const xs1 = matrix(10, 1, 66, -3.5, 3.5);
      const y1 = x1.map(([a]) => Math.fround(Math.sin(2 * a)));
      const sp: Spec = { type: 'rbf', lengthscale: 0.6, outputscale: 1.2 };
      const before = tf.memory().numTensors;
      const t = { x: tf.tensor2d(x1), z: tf.tensor2d(x1), x_test: tf.tensor2d(xs1), y: tf.tensor1d(y1) };
      const out = await run(t, { method: 'svgp', kernel: sp, noise: 0.1 });
      const want = gpRef(kern(x1, x1, sp), kern(xs1, x1, sp), new Array(10).fill(1.2), y1, 0.1);
      expect(relErr(await out.mean.data(), want.mean)).toBeLessThan(2e-3);
      expect(relErr(await out.var.data(), want.var)).toBeLessThan(2e-3);
      expect(rel((await out.elbo.data())[0], want.lml)).toBeLessThan(2e-3);
      disposeOut(out);
      tf.dispose(Object.values(t));
      expect(tf.memory().numTensors).toBe(before);
    });

    it('errors: singular q_sqrt is not_psd, q_mu alone or with sgpr is refused; nothing leaks', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const sing = Array.from({ length: 8 }, (_, i) => Array.from({ length: 8 }, (_, j) => (i === j && i !== 5 ? 1 : 0)));
      const t = { x: tf.tensor2d(x), z: tf.tensor2d(z), x_test: tf.tensor2d(xs), y: tf.tensor1d(y), q_mu: tf.zeros([8]), q_sqrt: tf.tensor2d(sing) };
      const e1 = await run(t, { method: 'svgp', kernel: spec, noise: s2 }).catch((e: unknown) => e);
      expect(e1).toBeInstanceOf(OperatorError);
      expect((e1 as OperatorError).code).toBe('not_psd');
      const e2 = await run({ ...t, q_sqrt: undefined as never }, { method: 'svgp', kernel: spec, noise: s2 }).catch((e: unknown) => e);
      expect((e2 as OperatorError).code).toBe('shape');
      const e3 = await run(t, { method: 'sgpr', kernel: spec, noise: s2 }).catch((e: unknown) => e);
      expect(e3).toBeInstanceOf(OperatorError);
      tf.dispose(Object.values(t));
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
