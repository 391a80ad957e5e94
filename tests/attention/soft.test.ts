import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { OperatorError, ShapeError } from '../../core/operator/index.js';
import { softAttention } from '../../operators/attention/index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params, sequence } from '../helpers/dense-reference.js';
import { relErr } from './reference.js';
import { jacobiEigen } from '../helpers/jacobi.js';

type M = number[][];
const matmul = (a: M, b: M): M => a.map((r) => b[0].map((_, j) => r.reduce((s, x, t) => s + x * b[t][j], 0)));
const T = (a: M): M => a[0].map((_, j) => a.map((r) => r[j]));

/** A⁺ of a symmetric matrix (eigenvalues below 1e-10·max dropped), or (A + ridge·I)⁻¹. */
function pinvSym(a: M, ridge = 0): M {
  const { values: w, vectors: v } = jacobiEigen(a.map((r, i) => r.map((x, j) => x + (i === j ? ridge : 0))));
  const wmax = Math.max(...w.map(Math.abs));
  return a.map((_, i) => a.map((_, j) => w.reduce((s, l, t) => (Math.abs(l) > 1e-10 * wmax ? s + (v[i][t] * v[j][t]) / l : s), 0)));
}

const gauss = (a: M, b: M, d: number): M => a.map((x) => b.map((y) => Math.exp(-x.reduce((s, xi, t) => s + (xi - y[t]) ** 2, 0) / (2 * Math.sqrt(d)))));

/** SOFT in float64 for one (batch, head): dense S̃ = K(Q,L) A⁺ K(L,K), optional symmetric normalisation. */
function refSoft(q: M, k: M, v: M, l: M, sym: boolean, ridge = 0): M {
  const d = q[0].length;
  const s = matmul(matmul(gauss(q, l, d), pinvSym(gauss(l, l, d), ridge)), gauss(l, k, d));
  if (!sym) return matmul(s, v);
  const dq = s.map((r) => r.reduce((a, x) => a + x, 0));
  const dk = T(s).map((r) => r.reduce((a, x) => a + x, 0));
  return matmul(s.map((r, i) => r.map((x, j) => x / Math.sqrt(dq[i] * dk[j]))), v);
}

const rows = (data: number[], n: number, d: number, off = 0): M => Array.from({ length: n }, (_, i) => data.slice(off + i * d, off + (i + 1) * d));
const pool = (q: M, m: number): M => Array.from({ length: m }, (_, s) => {
  const lo = Math.floor((s * q.length) / m), hi = Math.floor(((s + 1) * q.length) / m);
  return q[0].map((_, c) => q.slice(lo, hi).reduce((a, r) => a + r[c], 0) / (hi - lo));
});

const meta = (shape: (number | null)[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape });
const sctx = { node: 'n', op: 'attention.soft', resolvePath: (p: string) => p };

describe('attention.soft shapes', () => {
  it('infers [B,H,N,Dv], ties k to q, and rejects more landmarks than tokens', () => {
    expect(softAttention.shape!({ q: meta([1, 2, 60, 4]), v: meta([1, 2, 60, 3]) }, params(softAttention), sctx)).toEqual({ out: [1, 2, 60, 3] });
    expect(() => softAttention.shape!({ q: meta([1, 2, 30, 4]), v: meta([1, 2, 30, 3]) }, params(softAttention), sctx)).toThrow(ShapeError);
    expect(() => softAttention.shape!({ q: meta([1, 2, 30, 4]), v: meta([1, 2, 31, 3]) }, params(softAttention, { num_landmarks: 4 }), sctx)).toThrow(ShapeError);
    expect(() => softAttention.shape!({ q: meta([1, 2, 30, 4]), v: meta([1, 2, 30, 3]), landmarks: meta([1, 2, 5, 3]) }, params(softAttention), sctx)).toThrow(ShapeError);
  });
});

for (const backend of testBackends()) {
  describe(`attention.soft on ${backend}`, () => {
    const [B, H, N, D, Dv] = [1, 2, 13, 4, 3];
    const qd = sequence([B, H, N, D], 51).data;
    const kd = sequence([B, H, N, D], 52).data;
    const vd = sequence([B, H, N, Dv], 53).data;
    // well-separated explicit landmarks (amplitude 2) and a duplicate one: K(L,L) is exactly singular
    const ld = sequence([B, H, 4, D], 54).data.map((x) => x * 1.5);
    const dup = [...Array(H)].flatMap((_, h) => [...ld.slice(h * 16, h * 16 + 16), ...ld.slice(h * 16, h * 16 + 4)]);

    it('pooled landmarks (unequal segments), k tied to q, none and sym: matches the float64 definition', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const q = tf.tensor(qd, [B, H, N, D]);
      const v = tf.tensor(vd, [B, H, N, Dv]);
      for (const normalize of ['none', 'sym'] as const) {
        const ctx = testContext();
        const { out } = (await softAttention.run({ q, v }, params(softAttention, { num_landmarks: 3, normalize }), ctx)) as { out: tf.Tensor };
        const want = [...Array(H)].flatMap((_, h) => {
          const qh = rows(qd, N, D, h * N * D);
          return refSoft(qh, qh, rows(vd, N, Dv, h * N * Dv), pool(qh, 3), normalize === 'sym').flat();
        });
        expect(relErr(await out.data(), want), normalize).toBeLessThan(1e-4);
        expect((ctx.notes.pinv as { iterations: number }).iterations).toBeGreaterThan(0);
        out.dispose();
      }
      tf.dispose([q, v]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('explicit k and a rank-deficient K(L,L): the pseudo-inverse, not SOFT-CUDA’s (A + 0.01 I)⁻¹', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const q = tf.tensor(qd, [B, H, N, D]);
      const k = tf.tensor(kd, [B, H, N, D]);
      const v = tf.tensor(vd, [B, H, N, Dv]);
      const landmarks = tf.tensor(dup, [B, H, 5, D]);
      for (const normalize of ['none', 'sym'] as const) {
        const { out } = (await softAttention.run({ q, k, v, landmarks }, params(softAttention, { normalize }), testContext())) as { out: tf.Tensor };
        const got = await out.data();
        const ref = (ridge: number) => [...Array(H)].flatMap((_, h) =>
          refSoft(rows(qd, N, D, h * N * D), rows(kd, N, D, h * N * D), rows(vd, N, Dv, h * N * Dv), rows(dup, 5, D, h * 5 * D), normalize === 'sym', ridge).flat());
        const errPinv = relErr(got, ref(0));
        const errRidge = relErr(got, ref(0.01));
        expect(errPinv, normalize).toBeLessThan(1e-4);
        expect(errRidge).toBeGreaterThan(30 * errPinv);
        out.dispose();
      }
      tf.dispose([q, k, v, landmarks]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('too few Newton iterations fail with not_converged and leak nothing', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const q = tf.tensor(qd, [B, H, N, D]);
      const v = tf.tensor(vd, [B, H, N, Dv]);
      const err = await Promise.resolve(softAttention.run({ q, v }, params(softAttention, { num_landmarks: 3, newton_iters: 2 }), testContext())).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(OperatorError);
      expect((err as OperatorError).code).toBe('not_converged');
      tf.dispose([q, v]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
