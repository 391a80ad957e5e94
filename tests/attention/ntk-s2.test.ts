import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ParamError, ShapeError } from '../../core/operator/index.js';
import { ntkPrefixAttention, s2Attention, s2Mask, softmaxAttention } from '../../operators/attention/index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params, sequence } from '../helpers/dense-reference.js';
import { call, dot, makeQkv, refAttention, refS2Allowed, relErr, tensorsOf, type Qkv } from './reference.js';

/** NTK-Attention in float64: (Σ_vis e^{S} v + φ(q)Z) / (Σ_vis e^{S} + φ(q)|k|), by log-sum-exp. */
function refNtk(x: Qkv, pk: number[], pz: number[], causal: boolean): number[] {
  const { B, H, Nq, Nk, D, Dv } = x;
  const out = new Array<number>(B * H * Nq * Dv).fill(0);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < Nq; i++) {
        const qi = ((b * H + h) * Nq + i) * D;
        const phi = Array.from({ length: D }, (_, t) => {
          const z = x.q[qi + t] / D ** 0.25;
          return z > 0 ? z + 1 : Math.exp(z);
        });
        const s: number[] = [];
        const js: number[] = [];
        for (let j = 0; j < Nk; j++) {
          if (causal && j > i + Nk - Nq) continue;
          s.push(dot(x.q, qi, x.k, ((b * H + h) * Nk + j) * D, D) / Math.sqrt(D));
          js.push(j);
        }
        const pre = phi.reduce((a, f, t) => a + f * Math.abs(pk[h * D + t]), 0);
        const m = Math.max(...s, pre > 0 ? Math.log(pre) : -Infinity);
        if (!Number.isFinite(m)) continue; // nothing visible, zero prefix → 0
        let den = pre * Math.exp(-m);
        const num = Array.from({ length: Dv }, (_, c) => phi.reduce((a, f, t) => a + f * pz[(h * D + t) * Dv + c], 0) * Math.exp(-m));
        s.forEach((l, t) => {
          const e = Math.exp(l - m);
          den += e;
          for (let c = 0; c < Dv; c++) num[c] += e * x.v[((b * H + h) * Nk + js[t]) * Dv + c];
        });
        for (let c = 0; c < Dv; c++) out[((b * H + h) * Nq + i) * Dv + c] = num[c] / den;
      }
  return out;
}

const meta = (shape: (number | null)[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape });
const sctx = { node: 'n', op: 'attention.x', resolvePath: (p: string) => p };

describe('attention.ntk_prefix / s2 shapes and patterns', () => {
  it('ntk_prefix checks prefix_k [H,D] and prefix_z [H,D,Dv]', () => {
    const base = { q: meta([1, 2, 5, 4]), k: meta([1, 2, 6, 4]), v: meta([1, 2, 6, 3]) };
    const p = params(ntkPrefixAttention);
    expect(ntkPrefixAttention.shape!({ ...base, prefix_k: meta([2, 4]), prefix_z: meta([2, 4, 3]) }, p, sctx)).toEqual({ out: [1, 2, 5, 3] });
    expect(() => ntkPrefixAttention.shape!({ ...base, prefix_k: meta([2, 5]), prefix_z: meta([2, 4, 3]) }, p, sctx)).toThrow(ShapeError);
    expect(() => ntkPrefixAttention.shape!({ ...base, prefix_k: meta([2, 4]), prefix_z: meta([2, 4, 2]) }, p, sctx)).toThrow(ShapeError);
  });
  it('s2 rejects dense_heads > H', () => {
    expect(() => s2Attention.shape!({ q: meta([1, 2, 8, 4]), k: meta([1, 2, 8, 4]), v: meta([1, 2, 8, 4]) }, params(s2Attention, { dense_heads: 3 }), sctx)).toThrow(ParamError);
  });
  it('s2: the union over heads covers the causal context iff the offsets h·head_step hit every residue mod vert_stride', () => {
    const n = 128;
    const cover = (H: number, vert_stride: number, head_step: number | null) => {
      const m = s2Mask({ block_size: 8, local_blocks: 1, vert_stride, head_step, head_offset: 0, dense_heads: 0 }, H, n, n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j <= i; j++) {
          let any = false;
          for (let h = 0; h < H; h++) any ||= m[(h * n + i) * n + j] === 1;
          if (!any) return false;
        }
      return true;
    };
    expect(cover(4, 4, null)).toBe(true); // head_step = 1, 4·1 ≥ 4
    expect(cover(6, 4, null)).toBe(true); // head_step = 1, 6 heads
    expect(cover(2, 4, 1)).toBe(false); // offsets {0, 1}: blocks ≡ 1, 2 mod 4 far away are seen by nobody
    // H·head_step ≥ vert_stride is not enough: head_step 4, offsets {0, 4} mod 8 leave gaps
    expect(cover(2, 8, null)).toBe(false);
  });
});

for (const backend of testBackends()) {
  describe(`attention.ntk_prefix on ${backend}`, () => {
    const x = makeQkv(1, 2, 6, 9, 4, 3, 71);
    const pk = sequence([2, 4], 72).data; // signs mixed: |k| matters
    const pz = sequence([2, 4, 3], 73).data;
    for (const causal of [true, false]) {
      it(`matches the float64 definition (causal ${causal}), leaks nothing`, async () => {
        await useBackend(backend);
        const before = tf.memory().numTensors;
        const t = tensorsOf(x);
        const prefix_k = tf.tensor2d(pk, [2, 4]);
        const prefix_z = tf.tensor3d(pz, [2, 4, 3]);
        const { out } = await call(ntkPrefixAttention, { ...t, prefix_k, prefix_z }, params(ntkPrefixAttention, { causal }), testContext());
        expect(relErr(await out.data(), refNtk(x, pk, pz, causal))).toBeLessThan(2e-6);
        tf.dispose([t.q, t.k, t.v, prefix_k, prefix_z, out]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
    it('large logits stay finite and exact; a zero prefix gives causal softmax, empty rows 0', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const big = makeQkv(1, 2, 6, 9, 4, 3, 74, 30); // logits up to ≈ 1800: exp overflows without the shift
      const tb = tensorsOf(big);
      const prefix_k = tf.tensor2d(pk, [2, 4]);
      const prefix_z = tf.tensor3d(pz, [2, 4, 3]);
      const { out } = await call(ntkPrefixAttention, { ...tb, prefix_k, prefix_z }, params(ntkPrefixAttention), testContext());
      expect(relErr(await out.data(), refNtk(big, pk, pz, true))).toBeLessThan(1e-5);
      // zero prefix, Nq > Nk: the first 2 rows see nothing → 0; the rest equal causal softmax
      const y = makeQkv(1, 2, 8, 6, 4, 3, 75);
      const ty = tensorsOf(y);
      const zk = tf.zeros([2, 4]);
      const zz = tf.zeros([2, 4, 3]);
      const { out: o2 } = await call(ntkPrefixAttention, { ...ty, prefix_k: zk, prefix_z: zz }, params(ntkPrefixAttention), testContext());
      const { out: sm } = await call(softmaxAttention, ty, params(softmaxAttention, { causal: true }), testContext());
      const got = await o2.data();
      expect(relErr(got, Array.from(await sm.data()))).toBeLessThan(1e-6);
      expect(Array.from(got.slice(0, 6))).toEqual([0, 0, 0, 0, 0, 0]);
      tf.dispose([tb.q, tb.k, tb.v, prefix_k, prefix_z, out, ty.q, ty.k, ty.v, zk, zz, o2, sm]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  describe(`attention.s2 on ${backend}`, () => {
    it('matches float64 softmax under an independently built S2 mask (dense head, offset, Nq < Nk)', async () => {
      await useBackend(backend);
      const o = { H: 4, Nq: 20, Nk: 26, bs: 3, local: 2, vs: 3, step: 1, off: 1, dense: 1 };
      const x = makeQkv(1, 4, 20, 26, 4, 3, 81);
      const before = tf.memory().numTensors;
      const t = tensorsOf(x);
      const p = params(s2Attention, { block_size: 3, local_blocks: 2, vert_stride: 3, head_offset: 1, dense_heads: 1 });
      const { out } = await call(s2Attention, t, p, testContext());
      const want = refAttention(x, { allowed: (_b, h, i, j) => refS2Allowed(h, i, j, o) });
      expect(relErr(await out.data(), want)).toBeLessThan(2e-6);
      // equals attention.softmax given the same explicit mask
      const mask = tf.tensor(s2Mask(p, 4, 20, 26), [1, 4, 20, 26]);
      const { out: sm } = await call(softmaxAttention, { ...t, mask }, params(softmaxAttention), testContext());
      expect(relErr(await out.data(), Array.from(await sm.data()))).toBeLessThan(1e-6);
      tf.dispose([t.q, t.k, t.v, out, mask, sm]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
