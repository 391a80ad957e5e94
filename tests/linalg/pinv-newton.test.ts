import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { OperatorError } from '../../core/operator/index.js';
import { pinvNewton } from '../../operators/linalg/pinv-newton.js';
import { pinvNewtonOp } from '../../operators/linalg/op-pinv-newton.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';

type M = number[][];
const mm = (a: M, b: M): M => a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
const tr = (a: M): M => a[0].map((_, j) => a.map((row) => row[j]));
/** Gauss–Jordan inverse, float64 (small SPD matrices only). */
function inv(a: M): M {
  const n = a.length;
  const w = a.map((row, i) => [...row, ...row.map((_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(w[r][c]) > Math.abs(w[p][c])) p = r;
    [w[c], w[p]] = [w[p], w[c]];
    const d = w[c][c];
    w[c] = w[c].map((v) => v / d);
    for (let r = 0; r < n; r++) if (r !== c) w[r] = w[r].map((v, j) => v - w[r][c] * w[c][j]);
  }
  return w.map((row) => row.slice(n));
}
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}
const rand = (m: number, n: number, r: () => number): M => Array.from({ length: m }, () => Array.from({ length: n }, r));
const relErr = (x: M, y: M) => {
  let num = 0;
  let den = 0;
  x.forEach((row, i) => row.forEach((v, j) => ((num += (v - y[i][j]) ** 2), (den += y[i][j] ** 2))));
  return Math.sqrt(num / den);
};

/** A = B·Cᵀ of rank r, and its pseudo-inverse A⁺ = C(CᵀC)⁻¹(BᵀB)⁻¹Bᵀ in float64. */
function lowRank(m: number, n: number, r: number, seed: number): { a: M; pinv: M } {
  const g = rng(seed);
  const B = rand(m, r, g);
  const C = rand(n, r, g);
  const a = mm(B, tr(C));
  const pinv = mm(mm(mm(C, inv(mm(tr(C), C))), inv(mm(tr(B), B))), tr(B));
  return { a, pinv };
}

describe('linalg.pinv_newton shape inference', () => {
  const meta = (shape: (number | string | null)[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape });
  const ctx = { node: 'n', op: 'linalg.pinv_newton', resolvePath: (p: string) => p };
  it('infers [..., n, m] from [..., m, n]', () => {
    expect(pinvNewtonOp.shape!({ a: meta([2, 7, 3]) }, { max_iter: 100, tol: 1e-6 }, ctx)).toEqual({ out: [2, 3, 7], info: { kind: 'json' } });
    expect(pinvNewtonOp.shape!({ a: meta(['m', null]) }, { max_iter: 100, tol: 1e-6 }, ctx)).toMatchObject({ out: [null, 'm'] });
  });
});

for (const backend of testBackends()) {
  describe(`linalg.pinv_newton on ${backend}`, () => {
    it('converges to the pseudo-inverse of a rank-deficient matrix (20×12, rank 4)', async () => {
      await useBackend(backend);
      const { a, pinv } = lowRank(20, 12, 4, 1);
      const before = tf.memory().numTensors;
      const ta = tf.tensor2d(a);
      const { out, info } = await pinvNewton(tf, ta, { tol: 1e-6 });
      const got = (await out.array()) as M;
      tf.dispose([ta, out]);
      expect(tf.memory().numTensors).toBe(before);
      expect(relErr(got, pinv)).toBeLessThan(1e-4);
      // AA⁺ is a rank-4 projector in R²⁰: ‖I − AV‖_F → √(20 − 4) = 4.
      expect(info.residual).toBeCloseTo(4, 3);
      expect(info.projector_residual).toBeLessThan(1e-5);
      expect(info.iterations).toBeLessThan(60);
      // Penrose conditions, checked in float64 on the returned float32 V.
      expect(relErr(mm(mm(got, a), got), got)).toBeLessThan(1e-4);
      const av = mm(a, got);
      expect(relErr(av, tr(av))).toBeLessThan(1e-4);
    });

    it('gives the inverse of a well-conditioned square matrix, batched, through the operator', async () => {
      await useBackend(backend);
      const g = rng(2);
      const n = 10;
      const mats = [0, 1].map(() => rand(n, n, g).map((row, i) => row.map((v, j) => v + (i === j ? 4 : 0))));
      const before = tf.memory().numTensors;
      const ta = tf.tensor3d(mats);
      const ctx = testContext({ op: 'linalg.pinv_newton' });
      const res = (await pinvNewtonOp.run({ a: ta }, { max_iter: 100, tol: 1e-6 }, ctx)) as { out: tf.Tensor; info: Record<string, number> };
      expect(res.out.shape).toEqual([2, n, n]);
      const got = (await res.out.array()) as M[];
      tf.dispose([ta, res.out]);
      expect(tf.memory().numTensors).toBe(before);
      got.forEach((v, b) => expect(relErr(v, inv(mats[b]))).toBeLessThan(1e-5));
      expect(res.info.residual).toBeLessThan(1e-4);
      expect(ctx.notes.iterations).toBe(res.info.iterations);
    });

    it('a wide matrix (rank-deficient, 6×15) gives A⁺ of shape [15, 6]', async () => {
      await useBackend(backend);
      const { a, pinv } = lowRank(6, 15, 3, 3);
      const ta = tf.tensor2d(a);
      const { out } = await pinvNewton(tf, ta);
      expect(out.shape).toEqual([15, 6]);
      expect(relErr((await out.array()) as M, pinv)).toBeLessThan(1e-4);
      tf.dispose([ta, out]);
    });

    it('throws not_converged when max_iter is too small and non_finite_input on NaN, leaking nothing', async () => {
      await useBackend(backend);
      const { a } = lowRank(20, 12, 4, 1);
      const before = tf.memory().numTensors;
      const ta = tf.tensor2d(a);
      await expect(pinvNewton(tf, ta, { maxIter: 3 })).rejects.toMatchObject({ code: 'not_converged', details: { iterations: 3 } });
      const bad = tf.tensor2d([[1, NaN], [0, 1]]);
      const err = await pinvNewton(tf, bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OperatorError);
      expect((err as OperatorError).code).toBe('non_finite_input');
      tf.dispose([ta, bad]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
