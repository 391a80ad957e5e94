/**
 * Large-n accuracy of the blocked float32 Cholesky, solves and logdet against float64 references,
 * on wasm only and once per size (the O(n³) references run in JS: ~1–3 s at n = 2048).
 * Measured errors and timings are printed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { choleskyFactor, choSolve, logdetFromFactor } from '../../operators/linalg/index.js';
import { useBackend } from '../helpers/backends.js';
import {
  normals,
  rbf,
  refCholeskyBlocked,
  refLogdet,
  refLowerSolve,
  refMatmul,
  relErr,
  relErrMax,
  roundF32,
  spdMatrix,
} from './ref.js';

const u = 2 ** -24;
const wasmListed = (process.env.KERNELFLOW_TEST_BACKENDS ?? 'wasm').split(',').map((s) => s.trim()).includes('wasm');

describe.runIf(wasmListed)('linalg at large n on wasm (float64 references)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  // Bounds are ~5–10× the errors measured on this machine; the factor and logdet are backward
  // stable (errors ~ u·√cond), solves are forward errors ~ cond·u at worst.
  const sizes = [
    { n: 256, cond: 1e6, l: 2e-5, logdet: 1e-5, solve: 1e-2 },
    { n: 1024, cond: 1e6, l: 1e-5, logdet: 1e-6, solve: 5e-3 },
    { n: 2048, cond: 1e6, l: 1e-5, logdet: 1e-6, solve: 5e-3 },
  ];
  for (const { n, cond, ...bound } of sizes) {
    it(`n=${n} cond=${cond.toExponential(0)}: Cholesky, cho_solve, logdet`, async () => {
      const a64 = roundF32(spdMatrix(n, cond, n));
      const m = 4;
      const b64 = roundF32(normals(n * m, n + 1));
      let t0 = performance.now();
      const lref = refCholeskyBlocked(a64, n);
      const tRef = performance.now() - t0;
      const before = tf.memory().numTensors;
      const A = tf.tensor2d(Float32Array.from(a64), [n, n]);
      const B = tf.tensor2d(Float32Array.from(b64), [n, m]);
      t0 = performance.now();
      const { l, jitterUsed } = await choleskyFactor(tf, A);
      const lh = await l.data();
      const tChol = performance.now() - t0;
      t0 = performance.now();
      const x = await choSolve(tf, l, B);
      const xh = await x.data();
      const tSolve = performance.now() - t0;
      const ld = (await logdetFromFactor(tf, l))[0];
      const xref = refLowerSolve(lref, n, refLowerSolve(lref, n, b64, m), m, true);
      // Backward error of the factor in float64: ‖A·v − L·(Lᵀ·v)‖/‖A·v‖ for the columns of B.
      const lt = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) lt[j * n + i] = lh[i * n + j];
      const back = relErr(refMatmul(lh, refMatmul(lt, b64, n, n, m), n, n, m), refMatmul(a64, b64, n, n, m));
      const errs = {
        l: relErr(lh, lref),
        logdet: Math.abs(ld - refLogdet(lref, n)) / Math.abs(refLogdet(lref, n)),
        solve: relErr(xh, xref),
        backward: back,
      };
      console.log(
        `[linalg wasm] n=${n} cond=${cond.toExponential(0)} ` +
          Object.entries(errs).map(([k, v]) => `${k}=${v.toExponential(2)}`).join(' ') +
          ` | chol ${tChol.toFixed(0)} ms, cho_solve(${m} rhs) ${tSolve.toFixed(0)} ms, f64 JS reference ${tRef.toFixed(0)} ms`,
      );
      expect(jitterUsed).toBe(0);
      expect(errs.l).toBeLessThan(bound.l);
      expect(errs.logdet).toBeLessThan(bound.logdet);
      expect(errs.solve).toBeLessThan(bound.solve);
      expect(errs.backward).toBeLessThan(50 * u * Math.sqrt(n));
      tf.dispose([A, B, l, x]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  // The GP posterior mean μ* = K*·(K + σ²I)⁻¹y of shared/reference/gp.md's table: d = 8, X ~ N(0, I),
  // RBF with ℓ = √8, s = 1, 200 test points, kernel built in float64 then rounded to float32; errors
  // max|μ32 − μ64|/max|μ64| against float64 Cholesky on the float64 kernel. Table (blocked f32 +
  // f64 host blocks): 1.9e-5 (500, 1e-1), 1.6e-4…3.2e-4 (500, 1e-3…1e-4), 2.4e-3 (2000, 1e-4); plain
  // f32 Cholesky 3.5e-3 (2000, 1e-4). `bound` is for α from our factor and solve with K*·α in float64
  // (what the table measures); `boundF32` for the whole float32 pipeline, K*·α a tf.matMul too.
  const gp = [
    { n: 500, noise: 1e-1, bound: 5e-5, boundF32: 1e-4 },
    { n: 500, noise: 1e-4, bound: 1e-3, boundF32: 2e-3 },
    { n: 2000, noise: 1e-4, bound: 4e-3, boundF32: 8e-3 },
  ];
  for (const { n, noise, bound, boundF32 } of gp) {
    it(`RBF GP posterior mean, n=${n}, noise=${noise}`, async () => {
      const d = 8;
      const nt = 200;
      const x = normals(n * d, 100 + n);
      const xs = normals(nt * d, 200 + n);
      const y = new Float64Array(n);
      for (let i = 0; i < n; i++) y[i] = Math.sin(x[i * d]) + 0.5 * Math.cos(2 * x[i * d + 1]) + 0.1 * x[i * d + 2];
      const k = rbf(x, n, x, n, d, Math.sqrt(d));
      for (let i = 0; i < n; i++) k[i * n + i] += noise;
      const ks = rbf(xs, nt, x, n, d, Math.sqrt(d));
      const lref = refCholeskyBlocked(k, n);
      const alpha64 = refLowerSolve(lref, n, refLowerSolve(lref, n, y, 1), 1, true);
      const mu64 = refMatmul(ks, alpha64, nt, n, 1);
      const before = tf.memory().numTensors;
      const K = tf.tensor2d(Float32Array.from(k), [n, n]);
      const Y = tf.tensor2d(Float32Array.from(y), [n, 1]);
      const Ks = tf.tensor2d(Float32Array.from(ks), [nt, n]);
      const t0 = performance.now();
      const { l, jitterUsed } = await choleskyFactor(tf, K);
      const alpha = await choSolve(tf, l, Y);
      const mu = tf.matMul(Ks, alpha);
      const muh = await mu.data();
      const t = performance.now() - t0;
      const ld = (await logdetFromFactor(tf, l))[0];
      const err = relErrMax(refMatmul(ks, await alpha.data(), nt, n, 1), mu64);
      const errF32 = relErrMax(muh, mu64);
      const ldErr = Math.abs(ld - refLogdet(lref, n)) / Math.abs(refLogdet(lref, n));
      console.log(
        `[linalg wasm] RBF GP n=${n} noise=${noise}: mean rel ${err.toExponential(2)} (K*·α in f64), ` +
          `${errF32.toExponential(2)} (all f32), logdet rel ${ldErr.toExponential(2)}, jitter ${jitterUsed}, ` +
          `chol+solve+predict ${t.toFixed(0)} ms`,
      );
      expect(jitterUsed).toBe(0);
      expect(err).toBeLessThan(bound);
      expect(errF32).toBeLessThan(boundF32);
      expect(ldErr).toBeLessThan(1e-4);
      tf.dispose([K, Y, Ks, l, alpha, mu]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
