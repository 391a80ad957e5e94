import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { OperatorError } from '../../core/operator/index.js';
import { exact } from '../../operators/gp/index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';
import { fd, gpRef, kern, lmlAt, matrix, relErr, type Spec } from './ref.js';

type Out = { mean?: tf.Tensor; var?: tf.Tensor; lml: tf.Tensor; lml_grad?: tf.Tensor; info: Record<string, unknown> };
const run = async (inputs: Record<string, tf.Tensor | undefined>, given: Record<string, unknown>, ctx = testContext()) =>
  (await exact.run(inputs as never, params(exact, given), ctx)) as Out;
const disposeOut = (o: Out) => tf.dispose([o.mean, o.var, o.lml, o.lml_grad].filter(Boolean) as tf.Tensor[]);

const n = 40;
const x = matrix(n, 2, 11);
const xs = matrix(15, 2, 12, -2.5, 2.5);
const y = x.map(([a, b]) => Math.fround(Math.sin(2 * a) + 0.5 * Math.cos(b)));

for (const backend of testBackends()) {
  describe(`gp.exact on ${backend}`, () => {
    it('matches float64 mean/var/LML and the LML gradient (central differences) for every kernel', async () => {
      await useBackend(backend);
      const cases: Array<{ spec: Spec; ard: boolean }> = [
        { spec: { type: 'rbf', lengthscale: [0.8, 1.3], outputscale: 1.5 }, ard: true },
        { spec: { type: 'matern12', lengthscale: 1.1, outputscale: 0.9 }, ard: false },
        { spec: { type: 'matern32', lengthscale: [0.7, 1.2], outputscale: 1.2 }, ard: true },
        { spec: { type: 'matern52', lengthscale: 0.9, outputscale: 1.1 }, ard: false },
        { spec: { type: 'linear', lengthscale: [1.5, 2], outputscale: 0.8 }, ard: true },
      ];
      const s2 = 0.05;
      const before = tf.memory().numTensors;
      const tx = tf.tensor2d(x);
      const txs = tf.tensor2d(xs);
      const ty = tf.tensor1d(y);
      for (const { spec, ard } of cases) {
        const out = await run({ x: tx, x_test: txs, y: ty }, { kernel: spec, noise: s2, grad: true });
        const want = gpRef(kern(x, x, spec), kern(xs, x, spec), xs.map((r) => kern([r], [r], spec)[0][0]), y, s2);
        const scale = Math.max(...want.var.map(Math.abs), 1e-3);
        expect(relErr(await out.mean!.data(), want.mean), spec.type).toBeLessThan(2e-3);
        expect(relErr(await out.var!.data(), want.var, scale), spec.type).toBeLessThan(2e-3);
        expect(Math.abs((await out.lml.data())[0] - want.lml) / Math.abs(want.lml), spec.type).toBeLessThan(2e-3);
        const ls = typeof spec.lengthscale === 'number' ? [spec.lengthscale] : spec.lengthscale;
        const theta = [...ls.map(Math.log), Math.log(spec.outputscale), Math.log(s2)];
        const g = fd((t) => lmlAt(x, y, spec.type, t, ard), theta);
        const got = await out.lml_grad!.data();
        const gscale = Math.max(...g.map(Math.abs));
        g.forEach((gi, i) => expect(Math.abs(got[i] - gi) / gscale, `${spec.type} grad ${i}: ${got[i]} vs ${gi}`).toBeLessThan(2e-3));
        expect(out.info.grad_names).toHaveLength(theta.length);
        disposeOut(out);
      }
      tf.dispose([tx, txs, ty]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('takes precomputed matrices, a prior mean and [n, c] targets', async () => {
      await useBackend(backend);
      const spec: Spec = { type: 'rbf', lengthscale: 1, outputscale: 1 };
      const k = kern(x, x, spec);
      const kc = kern(xs, x, spec);
      const y2 = y.map((v, i) => [v, Math.fround(0.3 * v + (i % 3))]);
      const before = tf.memory().numTensors;
      const t = { k_train: tf.tensor2d(k), k_cross: tf.tensor2d(kc), k_test_diag: tf.ones([15]), y: tf.tensor2d(y2) };
      const out = await run(t, { noise: 0.1, mean: 0.5 });
      expect(out.mean!.shape).toEqual([15, 2]);
      const m = await out.mean!.data();
      let lml = 0;
      for (let c = 0; c < 2; c++) {
        const want = gpRef(k, kc, new Array(15).fill(1), y2.map((r) => r[c]), 0.1, 0.5);
        lml += want.lml;
        expect(relErr(Array.from({ length: 15 }, (_, i) => m[2 * i + c]), want.mean)).toBeLessThan(2e-3);
        expect(relErr(await out.var!.data(), want.var)).toBeLessThan(2e-3);
      }
      expect(Math.abs((await out.lml.data())[0] - lml) / Math.abs(lml)).toBeLessThan(2e-3);
      disposeOut(out);
      tf.dispose(Object.values(t));
      expect(tf.memory().numTensors).toBe(before);
    });

    it('ill-conditioned (noise 1e-8, near-duplicate points): auto jitter is finite and reported; jitter 0 is not_psd', async () => {
      await useBackend(backend);
      const xd = [...x.slice(0, 20), ...x.slice(0, 10).map(([a, b]) => [a + 1e-4, b])];
      const yd = xd.map(([a]) => Math.sin(a));
      const before = tf.memory().numTensors;
      const tx = tf.tensor2d(xd);
      const ty = tf.tensor1d(yd);
      const txs = tf.tensor2d(xs);
      const ctx = testContext();
      const out = await run({ x: tx, y: ty, x_test: txs }, { noise: 1e-8, kernel: { type: 'rbf', lengthscale: 1, outputscale: 1 } }, ctx);
      const v = await out.var!.data();
      const m = await out.mean!.data();
      expect(Array.from(m).every(Number.isFinite)).toBe(true);
      expect(Array.from(v).every((e) => Number.isFinite(e) && e >= 0)).toBe(true);
      expect(out.info.jitter_used).toBeGreaterThan(0);
      expect(ctx.notes.jitter_used).toBe(out.info.jitter_used);
      disposeOut(out);
      const err = await run({ x: tx, y: ty, x_test: txs }, { noise: 1e-8, jitter: 0 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OperatorError);
      expect((err as OperatorError).code).toBe('not_psd');
      tf.dispose([tx, ty, txs]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('rejects NaN inputs with non_finite_input, leaking nothing', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const tx = tf.tensor2d(x);
      const ty = tf.tensor1d(y.map((v, i) => (i === 3 ? NaN : v)));
      const err = await run({ x: tx, y: ty }, {}).catch((e: unknown) => e);
      expect((err as OperatorError).code).toBe('non_finite_input');
      tf.dispose([tx, ty]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('CG path agrees with Cholesky, reports iterations/residual; slq LML is flagged as an estimate', async () => {
      await useBackend(backend);
      const spec: Spec = { type: 'rbf', lengthscale: 1, outputscale: 1 };
      const before = tf.memory().numTensors;
      const tx = tf.tensor2d(x);
      const txs = tf.tensor2d(xs);
      const ty = tf.tensor1d(y);
      const want = gpRef(kern(x, x, spec), kern(xs, x, spec), new Array(15).fill(1), y, 0.1);
      const ctx = testContext({ seed: 5 });
      const out = await run({ x: tx, x_test: txs, y: ty }, { noise: 0.1, solver: 'cg', logdet: 'slq', cg_tol: 1e-5, chunk: 6 }, ctx);
      expect(relErr(await out.mean!.data(), want.mean)).toBeLessThan(2e-3);
      expect(relErr(await out.var!.data(), want.var)).toBeLessThan(2e-3);
      expect(out.info.cg_iters).toBeGreaterThan(0);
      expect(out.info.cg_residual).toBeLessThan(1e-4);
      expect(out.info.lml_is_estimate).toBe(true);
      expect(ctx.notes.lml_is_estimate).toBe(true);
      // SLQ on n = 40 with 10 probes: a few percent (gp.md measured 0.2–3%).
      expect(Math.abs((await out.lml.data())[0] - want.lml) / Math.abs(want.lml)).toBeLessThan(0.1);
      disposeOut(out);
      const ex = await run({ x: tx, y: ty }, { noise: 0.1, solver: 'cg' });
      expect(ex.info.lml_is_estimate).toBe(false);
      expect(Math.abs((await ex.lml.data())[0] - want.lml) / Math.abs(want.lml)).toBeLessThan(2e-3);
      disposeOut(ex);
      tf.dispose([tx, txs, ty]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
