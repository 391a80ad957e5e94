import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { OperatorError, ShapeError } from '../../core/operator/index.js';
import { choleskyFactor, choSolve, logdetFromFactor, solveTriangular } from '../../operators/linalg/index.js';
import { choleskyOp as cholesky } from '../../operators/linalg/op-cholesky.js';
import { choSolveOp } from '../../operators/linalg/op-cho-solve.js';
import { logdetOp as logdet } from '../../operators/linalg/op-logdet.js';
import { solveTriangularOp } from '../../operators/linalg/op-solve-triangular.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { normals, refCholesky, refLogdet, refLowerSolve, relErr, roundF32, spdMatrix } from './ref.js';

const meta = (shape: (number | string | null)[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape });
const sctx = { node: 'n', op: 'linalg', resolvePath: (p: string) => p };

describe('linalg shape inference', () => {
  it('cholesky keeps [..., n, n] and rejects non-square input', () => {
    expect(cholesky.shape!({ a: meta([3, 'n', null]) }, { jitter: 'auto', block_size: 128, inner_block: 32 }, sctx)).toEqual({
      l: [3, 'n', 'n'],
      info: { kind: 'json' },
    });
    expect(() => cholesky.shape!({ a: meta([4, 5]) }, { jitter: 'auto', block_size: 128, inner_block: 32 }, sctx)).toThrow(ShapeError);
  });
  it('solves return the right-hand side shape and check n and batch dims', () => {
    const p = { lower: true, transpose: false, block_size: 128 };
    expect(solveTriangularOp.shape!({ l: meta([5, 5]), b: meta([5, 3]) }, p, sctx)).toEqual({ x: [5, 3] });
    expect(solveTriangularOp.shape!({ l: meta([2, null, 5]), b: meta([2, 5]) }, p, sctx)).toEqual({ x: [2, 5] });
    expect(() => solveTriangularOp.shape!({ l: meta([5, 5]), b: meta([4, 3]) }, p, sctx)).toThrow(ShapeError);
    expect(() => choSolveOp.shape!({ l: meta([2, 5, 5]), b: meta([3, 5, 1]) }, { block_size: 128 }, sctx)).toThrow(ShapeError);
  });
  it('logdet takes exactly one of a and l and returns the batch shape', () => {
    const p = { jitter: 'auto' as const, block_size: 128, inner_block: 32 };
    expect(logdet.shape!({ a: meta([4, 6, 6]), l: undefined }, p, sctx)).toEqual({ out: [4], info: { kind: 'json' } });
    expect(logdet.shape!({ a: undefined, l: meta([6, 6]) }, p, sctx)).toEqual({ out: [], info: { kind: 'json' } });
    expect(() => logdet.shape!({ a: meta([6, 6]), l: meta([6, 6]) }, p, sctx)).toThrow(ShapeError);
  });
});

/** Results per backend, to check that backends agree with each other. */
const seen = new Map<string, Float32Array>();

function agree(key: string, values: Float32Array, tol: number): void {
  const other = seen.get(key);
  if (other) expect(relErr(values, other)).toBeLessThan(tol);
  else seen.set(key, values);
}

for (const backend of testBackends()) {
  describe(`linalg Cholesky and solves on ${backend}`, () => {
    const cases = [
      { n: 64, cond: 1e2, block: 16 },
      { n: 64, cond: 1e6, block: 16 },
      { n: 128, cond: 1e4, block: 32 },
      { n: 128, cond: 1e6, block: 128 },
    ];
    for (const { n, cond, block } of cases) {
      it(`n=${n} cond=${cond.toExponential(0)} block=${block}: factor, logdet and solves match float64`, async () => {
        await useBackend(backend);
        const a64 = roundF32(spdMatrix(n, cond, n + cond));
        const lref = refCholesky(a64, n);
        const m = 3;
        const b64 = roundF32(normals(n * m, 5));
        const before = tf.memory().numTensors;
        const A = tf.tensor2d(Float32Array.from(a64), [n, n]);
        const B = tf.tensor2d(Float32Array.from(b64), [n, m]);
        const { l, infos } = await choleskyFactor(tf, A, { blockSize: block });
        const lh = (await l.data()) as Float32Array;
        const ld = (await logdetFromFactor(tf, l))[0];
        const x = await choSolve(tf, l, B, { blockSize: block });
        const xh = (await x.data()) as Float32Array;
        const y = await solveTriangular(tf, l, B, { blockSize: block });
        const yh = (await y.data()) as Float32Array;
        const xref = refLowerSolve(lref, n, refLowerSolve(lref, n, b64, m), m, true);
        const yref = refLowerSolve(lref, n, b64, m);
        const errs = {
          l: relErr(lh, lref),
          logdet: Math.abs(ld - refLogdet(lref, n)) / Math.abs(refLogdet(lref, n)),
          solve: relErr(xh, xref),
          tri: relErr(yh, yref),
        };
        console.log(`[linalg ${backend}] n=${n} cond=${cond.toExponential(0)} b=${block}`, fmt(errs));
        expect(infos[0].jitter_used).toBe(0);
        // float32 bounds (u = 6e-8), set ~5× above the measured errors: factor and logdet grow with
        // cond, the solve ~ cond·u.
        expect(errs.l).toBeLessThan(2e-5);
        expect(errs.logdet).toBeLessThan(1e-5);
        expect(errs.tri).toBeLessThan(Math.max(1e-5, 20 * Math.sqrt(cond) * 6e-8));
        expect(errs.solve).toBeLessThan(Math.max(1e-5, 0.1 * cond * 6e-8));
        agree(`l${n}-${cond}-${block}`, lh, 1e-5);
        agree(`x${n}-${cond}-${block}`, xh, Math.max(1e-5, cond * 6e-8));
        tf.dispose([A, B, l, x, y]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }

    it('solve_triangular: lower/upper × transpose, vectors and batches match float64', async () => {
      await useBackend(backend);
      const n = 70;
      const block = 16;
      const lref = refCholesky(roundF32(spdMatrix(n, 1e3, 9)), n);
      const l32 = Float32Array.from(lref);
      const lr = Float64Array.from(l32);
      const u32 = new Float32Array(n * n); // U = Lᵀ stored upper, with garbage below to prove it is ignored
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) u32[i * n + j] = j >= i ? l32[j * n + i] : 1e3;
      const lg32 = Float32Array.from(l32);
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) lg32[i * n + j] = -7; // garbage above
      const m = 2;
      const b64 = roundF32(normals(n * m, 11));
      const before = tf.memory().numTensors;
      const L = tf.tensor2d(lg32, [n, n]);
      const U = tf.tensor2d(u32, [n, n]);
      const B = tf.tensor2d(Float32Array.from(b64), [n, m]);
      const want = { fwd: refLowerSolve(lr, n, b64, m), bwd: refLowerSolve(lr, n, b64, m, true) };
      const check = async (t: tf.Tensor, lower: boolean, transpose: boolean, ref: Float64Array) => {
        const x = await solveTriangular(tf, t, B, { lower, transpose, blockSize: block });
        const e = relErr((await x.data()) as Float32Array, ref);
        x.dispose();
        expect(e, `lower=${lower} transpose=${transpose}`).toBeLessThan(1e-5);
      };
      await check(L, true, false, want.fwd); // L x = b
      await check(L, true, true, want.bwd); // Lᵀ x = b
      await check(U, false, false, want.bwd); // U x = b, U = Lᵀ
      await check(U, false, true, want.fwd); // Uᵀ x = b
      // A vector right-hand side and a batch of two.
      const v = tf.tensor1d(Float32Array.from(b64.filter((_, i) => i % m === 0)));
      const xv = await solveTriangular(tf, L, v, { blockSize: block });
      expect(xv.shape).toEqual([n]);
      const wantV = refLowerSolve(lr, n, Float64Array.from(b64.filter((_, i) => i % m === 0)), 1);
      expect(relErr((await xv.data()) as Float32Array, wantV)).toBeLessThan(1e-5);
      const L2 = tf.stack([L, L]);
      const B2x = tf.mul(B, 2);
      const B2 = tf.stack([B, B2x]);
      const x2 = await solveTriangular(tf, L2, B2, { blockSize: block });
      expect(x2.shape).toEqual([2, n, m]);
      const x2h = (await x2.data()) as Float32Array;
      expect(relErr(x2h.subarray(n * m), want.fwd.map((z) => 2 * z))).toBeLessThan(1e-5);
      tf.dispose([L, U, B, v, xv, L2, B2x, B2, x2]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('a matrix with a negative eigenvalue is not_psd, naming the failing row and the jitters tried', async () => {
      await useBackend(backend);
      const n = 40;
      const eigs = Array.from({ length: n }, (_, i) => (i === n - 1 ? -0.5 : 1 + i / n));
      const A = tf.tensor2d(Float32Array.from(spdMatrix(n, 1, 2, eigs)), [n, n]);
      const before = tf.memory().numTensors;
      const err = await choleskyFactor(tf, A, { blockSize: 16 }).catch((e) => e);
      expect(err).toBeInstanceOf(OperatorError);
      expect(err.code).toBe('not_psd');
      expect(err.details.jitterTried).toHaveLength(5);
      expect(err.details.jitterTried[0]).toBe(0);
      expect(err.details.row).toBeGreaterThanOrEqual(0);
      expect(err.details.row).toBeLessThan(n);
      expect(tf.memory().numTensors).toBe(before);
      // A diagonal matrix fails exactly at its negative entry (here in the second block).
      const d = new Float32Array(n * n);
      for (let i = 0; i < n; i++) d[i * n + i] = i === 23 ? -1 : 1;
      const D = tf.tensor2d(d, [n, n]);
      const err2 = await choleskyFactor(tf, D, { blockSize: 16, jitter: 1e-3 }).catch((e) => e);
      expect(err2.code).toBe('not_psd');
      expect(err2.details).toMatchObject({ row: 23, jitterTried: [1e-3] });
      tf.dispose([A, D]);
    });

    it('a nearly singular matrix succeeds with the jitter it needed, reported', async () => {
      await useBackend(backend);
      const n = 48;
      // Eigenvalues 1 … 2 and one at −3e-7: indefinite at float32 round-off scale, fixed by 1e-6·mean(diag).
      const eigs = Array.from({ length: n }, (_, i) => (i === 7 ? -3e-7 : 1 + i / n));
      const a = spdMatrix(n, 1, 6, eigs);
      const A = tf.tensor2d(Float32Array.from(a), [n, n]);
      const ctx = testContext();
      const { l, info } = (await cholesky.run({ a: A }, { jitter: 'auto', block_size: 16, inner_block: 32 }, ctx)) as {
        l: tf.Tensor;
        info: Record<string, unknown>;
      };
      const meanDiag = eigs.reduce((s, v) => s + v, 0) / n;
      console.log(`[linalg ${backend}] nearly singular: jitter_used=${info.jitter_used} tried=${JSON.stringify(info.jitter_tried)}`);
      expect(info.jitter_used as number).toBeGreaterThan(0);
      expect(info.jitter_used as number).toBeLessThanOrEqual(1e-5 * meanDiag * 1.0001);
      expect(ctx.notes.jitter_used).toBe(info.jitter_used);
      const lh = await l.data();
      expect(lh.every(Number.isFinite)).toBe(true);
      // A rank-deficient Gram matrix XXᵀ (rank 10 < 32) also factors, with jitter.
      const x = normals(32 * 10, 8);
      const g = new Float32Array(32 * 32);
      for (let i = 0; i < 32; i++) for (let j = 0; j < 32; j++) {
        let s = 0;
        for (let t = 0; t < 10; t++) s += x[i * 10 + t] * x[j * 10 + t];
        g[i * 32 + j] = s;
      }
      const G = tf.tensor2d(g, [32, 32]);
      const res = await choleskyFactor(tf, G);
      console.log(`[linalg ${backend}] rank-10 Gram 32×32: jitter_used=${res.jitterUsed}`);
      expect(res.jitterUsed).toBeGreaterThan(0);
      tf.dispose([A, l, G, res.l]);
    });

    it('non-finite input is non_finite_input', async () => {
      await useBackend(backend);
      const A = tf.tensor2d([[1, 0], [NaN, 1]]);
      const err = await choleskyFactor(tf, A).catch((e) => e);
      expect(err).toBeInstanceOf(OperatorError);
      expect(err.code).toBe('non_finite_input');
      const B = tf.tensor2d([[1], [Infinity]]);
      const L = tf.eye(2);
      const err2 = (await Promise.resolve(solveTriangularOp.run({ l: L, b: B }, { lower: true, transpose: false, block_size: 128 }, testContext())).catch((e) => e)) as OperatorError;
      expect(err2.code).toBe('non_finite_input');
      tf.dispose([A, B, L]);
    });

    it('operators: batched cholesky → cho_solve and logdet (from a or from l), with info, leaking nothing', async () => {
      await useBackend(backend);
      const n = 50;
      const mats = [spdMatrix(n, 1e3, 21), spdMatrix(n, 1e5, 22)].map(roundF32);
      const b64 = roundF32(normals(n, 23));
      const before = tf.memory().numTensors;
      const A = tf.tensor3d(Float32Array.from([...mats[0], ...mats[1]]), [2, n, n]);
      const B = tf.tensor2d(Float32Array.from([...b64, ...b64]), [2, n]);
      const ctx = testContext();
      const { l, info } = (await cholesky.run({ a: A }, { jitter: 'auto', block_size: 16, inner_block: 32 }, ctx)) as { l: tf.Tensor; info: any };
      expect(l.shape).toEqual([2, n, n]);
      expect(info).toMatchObject({ jitter_used: 0, n, block_size: 16, inner_block: 16, batch: 2, jitter_used_per_matrix: [0, 0] });
      const { x } = (await choSolveOp.run({ l, b: B }, { block_size: 16 }, ctx)) as { x: tf.Tensor };
      expect(x.shape).toEqual([2, n]);
      const xh = await x.data();
      const fromA = (await logdet.run({ a: A, l: undefined }, { jitter: 'auto', block_size: 16, inner_block: 32 }, ctx)) as { out: tf.Tensor; info: any };
      const fromL = (await logdet.run({ a: undefined, l }, { jitter: 'auto', block_size: 16, inner_block: 32 }, ctx)) as { out: tf.Tensor; info: any };
      expect(fromA.out.shape).toEqual([2]);
      for (let k = 0; k < 2; k++) {
        const lref = refCholesky(mats[k], n);
        const xref = refLowerSolve(lref, n, refLowerSolve(lref, n, b64, 1), 1, true);
        expect(relErr(xh.subarray(k * n, (k + 1) * n), xref)).toBeLessThan(k === 0 ? 1e-4 : 1e-2);
        const ldRef = refLogdet(lref, n);
        expect(Math.abs(fromA.info.logdet[k] - ldRef)).toBeLessThan(1e-5 * Math.abs(ldRef) + 1e-4);
        expect(fromL.info.logdet[k]).toBe(fromA.info.logdet[k]);
      }
      expect(fromA.info.method).toBe('cholesky');
      tf.dispose([A, B, l, x, fromA.out, fromL.out]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

function fmt(o: Record<string, number>): string {
  return Object.entries(o).map(([k, v]) => `${k}=${v.toExponential(2)}`).join(' ');
}
