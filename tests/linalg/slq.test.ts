import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { logdetSlq } from '../../operators/linalg/index.js';
import { logdetSlqOp as slqOp } from '../../operators/linalg/op-logdet-slq.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { normals, rbf, refCholesky, refLogdet, spdMatrix } from './ref.js';

const params = { num_probes: 10, max_iter: 50, tol: 1e-5, precond_rank: 15, precond_shift: 'auto' as const };

function rbfSystem(n: number, noise: number, seed: number): Float64Array {
  const d = 8;
  const x = normals(n * d, seed);
  const k = rbf(x, n, x, n, d, Math.sqrt(d));
  for (let i = 0; i < n; i++) k[i * n + i] += noise;
  return k;
}

describe('linalg.logdet_slq shape inference', () => {
  it('is a scalar estimate and stochastic', () => {
    const ctx = { node: 'n', op: 'linalg.logdet_slq', resolvePath: (p: string) => p };
    const meta = { kind: 'tensor' as const, dtype: 'float32' as const, shape: [9, 9] };
    expect(slqOp.shape!({ a: meta }, params, ctx)).toEqual({ out: [], info: { kind: 'json' } });
    expect(slqOp.stochastic).toBe(true);
  });
});

for (const backend of testBackends()) {
  describe(`linalg.logdet_slq on ${backend}`, () => {
    beforeAll(async () => {
      await useBackend(backend);
    });

    it('is exact-ish on a small well-conditioned matrix, labelled an estimate, seeded, and leaks nothing', async () => {
      const n = 60;
      const a64 = spdMatrix(n, 1e2, 51);
      const exact = refLogdet(refCholesky(Float64Array.from(Float32Array.from(a64)), n), n);
      const A = tf.tensor2d(Float32Array.from(a64), [n, n]);
      const before = tf.memory().numTensors;
      const ctx = testContext({ seed: 7 });
      const p = { ...params, num_probes: 16, max_iter: 60, precond_rank: 0 };
      const r1 = (await slqOp.run({ a: A }, p, ctx)) as { out: tf.Tensor; info: any };
      const r2 = (await slqOp.run({ a: A }, p, testContext({ seed: 7 }))) as { out: tf.Tensor; info: any };
      const r3 = (await slqOp.run({ a: A }, p, testContext({ seed: 8 }))) as { out: tf.Tensor; info: any };
      const est = r1.info.logdet;
      console.log(`[linalg ${backend}] SLQ n=${n} cond=1e2: estimate ${est.toFixed(3)} ± ${r1.info.stderr.toFixed(3)}, exact ${exact.toFixed(3)}`);
      expect(r1.info.estimate).toBe(true);
      expect(ctx.notes.logdet_estimate).toBe(true);
      expect(r1.out.shape).toEqual([]);
      expect(r2.info.logdet).toBe(est);
      expect(r3.info.logdet).not.toBe(est);
      expect(Math.abs(est - exact)).toBeLessThan(Math.max(4 * r1.info.stderr, 0.02 * Math.abs(exact)));
      tf.dispose([r1.out, r2.out, r3.out]);
      expect(tf.memory().numTensors).toBe(before);
      A.dispose();
    });
  });
}

describe.runIf(testBackends().includes('wasm'))('SLQ on RBF kernels (wasm)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('estimates log|K + σ²I| within a few percent, preconditioned', async () => {
    const rows: string[] = [];
    for (const [n, noise] of [[400, 1e-1], [400, 1e-2]] as const) {
      const k64 = rbfSystem(n, noise, 60 + n);
      const exact = refLogdet(refCholesky(Float64Array.from(Float32Array.from(k64)), n), n);
      const K = tf.tensor2d(Float32Array.from(k64), [n, n]);
      for (const rank of [0, 15]) {
        const t0 = performance.now();
        const r = await logdetSlq(tf, K, { numProbes: 16, maxIter: 60, precondRank: rank, seed: 3 });
        const ms = performance.now() - t0;
        const rel = Math.abs(r.logdet - exact) / Math.abs(exact);
        rows.push(
          `n=${n} noise=${noise} rank=${rank}: estimate ${r.logdet.toFixed(2)} ± ${r.stderr.toFixed(2)} vs exact ${exact.toFixed(2)} ` +
            `(rel ${rel.toExponential(2)}), iterations max ${Math.max(...r.iterations)}, ${ms.toFixed(0)} ms`,
        );
        expect(Math.abs(r.logdet - exact)).toBeLessThan(Math.max(4 * r.stderr, 0.01 * Math.abs(exact)));
        expect(rel).toBeLessThan(0.05);
      }
      K.dispose();
    }
    console.log(`[linalg wasm] SLQ:\n  ${rows.join('\n  ')}`);
  });
});
