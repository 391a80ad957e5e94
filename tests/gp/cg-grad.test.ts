/**
 * gp.exact, solver cg, grad: true — the BBMM gradient ½αᵀ∂Kα − ½tr(Ky⁻¹∂K) with a Hutchinson trace.
 *
 * Tolerance for the estimated term (why it is statistical, not a fixed rtol): with t Rademacher probes,
 * zᵀMz has mean tr(M) and variance 2(‖M‖_F² − Σ M_ii²) for symmetric M = sym(Ky⁻¹∂Ky), so the trace
 * term −½·mean_z(zᵀMz) has standard error SE = ½·√(2(‖M‖_F² − ΣM_ii²)/t). Both are computed here in
 * float64 from the closed-form ∂K. With t = 128 the mean of 128 iid terms is close to Gaussian (CLT);
 * we allow 4·SE (two-sided Gaussian tail 6e-5 per parameter) plus a float32/CG floor of 2e-3·max|∂|.
 * The probes are seeded, so the test is deterministic; the bound says the seed is not cherry-picked.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { exact } from '../../operators/gp/index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';
import { addNoise, chol, choSolve, dot, kern, matrix, type M, type Spec } from './ref.js';

type Out = { lml: tf.Tensor; lml_grad?: tf.Tensor; mean?: tf.Tensor; var?: tf.Tensor; info: Record<string, unknown> };
const run = async (inputs: Record<string, tf.Tensor>, given: Record<string, unknown>, seed = 7) =>
  (await exact.run(inputs as never, params(exact, given), testContext({ seed }))) as Out;
const disposeOut = (o: Out) => tf.dispose([o.mean, o.var, o.lml, o.lml_grad].filter(Boolean) as tf.Tensor[]);

const n = 40;
const x = matrix(n, 2, 21);
const y = x.map(([a, b]) => Math.fround(Math.sin(2 * a) + 0.5 * Math.cos(b)));
const spec: Spec = { type: 'rbf', lengthscale: [0.9, 1.4], outputscale: 1.3 };
const s2 = 0.1;

/** Float64: per log-parameter, ½αᵀ∂Kyα, −½tr(Ky⁻¹∂Ky) and the SE of its Hutchinson estimate with t probes. */
function reference(t: number) {
  const k = kern(x, x, spec);
  const ls = spec.lengthscale as number[];
  const dks: M[] = [
    ...ls.map((l, j) => k.map((r, a) => r.map((v, b) => (v * (x[a][j] - x[b][j]) ** 2) / (l * l)))),
    k,
    k.map((r, a) => r.map((_, b) => (a === b ? s2 : 0))),
  ];
  const l = chol(addNoise(k, s2));
  const alpha = choSolve(l, y);
  // Ky⁻¹ column by column.
  const kinv = Array.from({ length: n }, (_, j) => choSolve(l, Array.from({ length: n }, (_, i) => (i === j ? 1 : 0))));
  return dks.map((dk) => {
    const quad = 0.5 * dot(alpha, dk.map((r) => dot(r, alpha)));
    const m = kinv.map((r) => dk[0].map((_, b) => r.reduce((s, v, c) => s + v * dk[c][b], 0)));
    let tr = 0;
    let fro = 0;
    let d2 = 0;
    for (let a = 0; a < n; a++) {
      tr += m[a][a];
      d2 += m[a][a] ** 2;
      for (let b = 0; b < n; b++) fro += (0.5 * (m[a][b] + m[b][a])) ** 2;
    }
    return { quad, trace: -0.5 * tr, se: 0.5 * Math.sqrt((2 * (fro - d2)) / t) };
  });
}

for (const backend of testBackends()) {
  describe(`gp.exact cg gradient on ${backend}`, () => {
    it('exact αᵀ∂Kα term, Hutchinson trace within 4 standard errors, flagged as an estimate', async () => {
      await useBackend(backend);
      const t = 128;
      const want = reference(t);
      const before = tf.memory().numTensors;
      const tx = tf.tensor2d(x);
      const ty = tf.tensor1d(y);
      const out = await run({ x: tx, y: ty }, { kernel: spec, noise: s2, solver: 'cg', grad: true, num_probes: t, cg_tol: 1e-5 });
      const got = Array.from(await out.lml_grad!.data());
      const quad = out.info.lml_grad_quad as number[];
      const trace = out.info.lml_grad_trace as number[];
      const scale = Math.max(...want.map((w) => Math.abs(w.quad + w.trace)), ...want.map((w) => Math.abs(w.quad)));
      want.forEach((w, i) => {
        expect(Math.abs(quad[i] - w.quad) / scale, `quad ${i}: ${quad[i]} vs ${w.quad}`).toBeLessThan(2e-3);
        expect(Math.abs(trace[i] - w.trace), `trace ${i}: ${trace[i]} vs ${w.trace} (SE ${w.se})`).toBeLessThan(4 * w.se + 2e-3 * scale);
        expect(Math.abs(got[i] - (quad[i] + trace[i]))).toBeLessThan(1e-4 * scale);
        // The reported sample SE estimates the float64 SE (128 draws: its relative spread is ~6–15%, kurtosis-dependent).
        const se = (out.info.lml_grad_stderr as number[])[i];
        expect(se / w.se, `stderr ${i}`).toBeGreaterThan(0.7);
        expect(se / w.se, `stderr ${i}`).toBeLessThan(1.4);
      });
      expect(out.info.lml_grad_is_estimate).toBe(true);
      expect(out.info.num_probes).toBe(t);
      expect(out.info.grad_names).toEqual(['lengthscale[0]', 'lengthscale[1]', 'outputscale', 'noise']);
      disposeOut(out);
      // The Cholesky path is exact and says so.
      const ch = await run({ x: tx, y: ty }, { kernel: spec, noise: s2, solver: 'cholesky', grad: true });
      expect(ch.info.lml_grad_is_estimate).toBe(false);
      const gch = await ch.lml_grad!.data();
      want.forEach((w, i) => expect(Math.abs(gch[i] - (w.quad + w.trace)) / scale).toBeLessThan(2e-3));
      disposeOut(ch);
      tf.dispose([tx, ty]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('seeded: the same seed gives the same gradient, another seed another estimate (default num_probes)', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const tx = tf.tensor2d(x);
      const ty = tf.tensor1d(y);
      const p = { kernel: spec, noise: s2, solver: 'cg', grad: true };
      const a = await run({ x: tx, y: ty }, p, 3);
      const b = await run({ x: tx, y: ty }, p, 3);
      const c = await run({ x: tx, y: ty }, p, 4);
      const [ga, gb, gc] = await Promise.all([a.lml_grad!.data(), b.lml_grad!.data(), c.lml_grad!.data()]);
      expect(Array.from(ga)).toEqual(Array.from(gb));
      expect(Array.from(ga)).not.toEqual(Array.from(gc));
      expect(a.info.num_probes).toBe(10);
      // The exact term does not depend on the probes.
      (a.info.lml_grad_quad as number[]).forEach((q, i) => expect(Math.abs(q - (c.info.lml_grad_quad as number[])[i])).toBeLessThan(1e-3 * Math.max(1, Math.abs(q))));
      [a, b, c].forEach(disposeOut);
      tf.dispose([tx, ty]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
