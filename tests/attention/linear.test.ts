import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../core/operator/index.js';
import { linearAttention } from '../../operators/attention/index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params, sequence } from '../helpers/dense-reference.js';
import { call, causalAllowed, dot, makeQkv, refAttention, relErr, tensorsOf, type Qkv } from './reference.js';

/** φ in float64 for one row x (length D), from the formulas. */
export function phi64(x: number[], map: string, w?: number[][]): number[] {
  if (map === 'elu') return x.map((z) => (z > 0 ? z + 1 : Math.exp(z)));
  if (map === 'relu') return x.map((z) => Math.max(z, 0));
  const d = x.length;
  const xs = x.map((z) => z / d ** 0.25);
  const sq = xs.reduce((s, z) => s + z * z, 0) / 2;
  return w!.map((row) => Math.exp(dot(row, 0, xs, 0, d) - sq) / Math.sqrt(w!.length));
}

/** Kernelised attention by the O(n²) definition: weights φ(q_i)·φ(k_j) (times c(i,j) when given). */
export function refKernelised(x: Qkv, map: string, opts: { w?: number[][]; causal?: boolean; eps?: number; c?: (h: number, i: number, j: number) => number } = {}): number[] {
  const { B, H, Nq, Nk, D, Dv } = x;
  const out = new Array<number>(B * H * Nq * Dv).fill(0);
  const row = (a: number[], n: number, b: number, h: number, i: number) => a.slice(((b * H + h) * n + i) * D, ((b * H + h) * n + i + 1) * D);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const fk = Array.from({ length: Nk }, (_, j) => phi64(row(x.k, Nk, b, h, j), map, opts.w));
      for (let i = 0; i < Nq; i++) {
        const fq = phi64(row(x.q, Nq, b, h, i), map, opts.w);
        let den = 0;
        const num = new Array<number>(Dv).fill(0);
        for (let j = 0; j < Nk; j++) {
          if (opts.causal && j > i + Nk - Nq) continue;
          const a = dot(fq, 0, fk[j], 0, fq.length) * (opts.c ? opts.c(h, i, j) : 1);
          den += a;
          for (let c = 0; c < Dv; c++) num[c] += a * x.v[((b * H + h) * Nk + j) * Dv + c];
        }
        den += opts.eps ?? 0;
        for (let c = 0; c < Dv; c++) out[((b * H + h) * Nq + i) * Dv + c] = den === 0 ? 0 : num[c] / den;
      }
    }
  return out;
}

export function projOf(m: number, d: number, seed: number): number[][] {
  const s = sequence([m, d], seed).data;
  // Box–Muller from the uniform sequence gives Gaussian rows (exact float32 values)
  return Array.from({ length: m }, (_, r) => Array.from({ length: d }, (_, c) => {
    const u1 = (s[r * d + c] + 2) / 4 + 1e-7;
    const u2 = (s[(r * d + c + 1) % s.length] + 2) / 4;
    return Math.fround(Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
  }));
}

const meta = (shape: (number | null)[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape });
const sctx = { node: 'n', op: 'attention.linear', resolvePath: (p: string) => p };

describe('attention.linear shapes', () => {
  it('infers the output and checks proj against D', () => {
    const p = params(linearAttention);
    expect(linearAttention.shape!({ q: meta([1, 2, 5, 4]), k: meta([1, 2, 6, 4]), v: meta([1, 2, 6, 3]) }, p, sctx)).toEqual({ out: [1, 2, 5, 3] });
    expect(() => linearAttention.shape!({ q: meta([1, 2, 5, 4]), k: meta([1, 2, 6, 4]), v: meta([1, 2, 6, 3]), proj: meta([8, 5]) }, p, sctx)).toThrow(ShapeError);
  });
});

for (const backend of testBackends()) {
  describe(`attention.linear on ${backend}`, () => {
    // Nq < Nk tests bottom-right alignment; wasm also runs Nk > 2 chunks (128) so the prefix state is crossed
    const x = backend === 'wasm' ? makeQkv(1, 2, 290, 300, 4, 3, 31, 0.5) : makeQkv(1, 2, 20, 23, 4, 3, 31, 0.5);
    for (const map of ['elu', 'relu', 'favor+'] as const)
      for (const causal of [false, true]) {
        it(`${map}, causal ${causal}: matches the float64 O(n²) definition; leaks nothing`, async () => {
          await useBackend(backend);
          const w = projOf(16, 4, 9);
          const before = tf.memory().numTensors;
          const t = tensorsOf(x);
          const proj = tf.tensor2d(w);
          const { out } = await call(linearAttention, { ...t, proj }, params(linearAttention, { feature_map: map, causal }), testContext());
          const want = refKernelised(x, map, { w, causal, eps: map === 'favor+' ? 0 : 1e-6 });
          expect(relErr(await out.data(), want)).toBeLessThan(1e-5);
          tf.dispose([t.q, t.k, t.v, proj, out]);
          expect(tf.memory().numTensors).toBe(before);
        });
      }
    it('relu with eps = 0 and an all-negative query row returns 0, not NaN', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const q = tf.fill([1, 1, 3, 2], -1);
      const k = tf.ones([1, 1, 3, 2]);
      const { out } = await call(linearAttention, { q, k, v: k }, params(linearAttention, { feature_map: 'relu', eps: 0, causal: true }), testContext());
      expect(Array.from(await out.data())).toEqual([0, 0, 0, 0, 0, 0]);
      tf.dispose([q, k, out]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('attention.linear FAVOR+ approximates softmax (wasm)', () => {
  it('the error against softmax attention falls as the number of features grows (a curve over m and 6 seeds)', async () => {
    await useBackend('wasm');
    const x = makeQkv(1, 2, 64, 64, 8, 4, 41, 0.3);
    const exact = refAttention(x);
    const t = tensorsOf(x);
    const ms = [8, 32, 128, 512, 2048];
    const curve: number[] = [];
    for (const m of ms) {
      let e = 0;
      for (let s = 0; s < 6; s++) {
        const { out } = await call(linearAttention, t, params(linearAttention, { feature_map: 'favor+', num_features: m }), testContext({ seed: 100 + s }));
        const got = await out.data();
        out.dispose();
        let num = 0;
        let den = 0;
        exact.forEach((w, i) => ((num += (got[i] - w) ** 2), (den += w * w)));
        e += Math.sqrt(num / den) / 6;
      }
      curve.push(e);
    }
    tf.dispose([t.q, t.k, t.v]);
    // monotone, and the Monte-Carlo rate ≈ m^(−1/2): 256× more features, ≈16× less error (accept ≥ 8×)
    for (let i = 1; i < curve.length; i++) expect(curve[i], `curve ${curve.map((c) => c.toFixed(4))}`).toBeLessThan(curve[i - 1]);
    expect(curve[0] / curve[curve.length - 1]).toBeGreaterThan(8);
    const slope = Math.log(curve[curve.length - 1] / curve[0]) / Math.log(ms[ms.length - 1] / ms[0]);
    expect(slope).toBeLessThan(-0.35);
    expect(slope).toBeGreaterThan(-0.75);
    console.log(`FAVOR+ rel. error vs softmax, m = ${ms.join(',')}: ${curve.map((c) => c.toExponential(2)).join(', ')} (log-log slope ${slope.toFixed(2)})`);
  });
});
