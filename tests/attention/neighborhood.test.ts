import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ParamError, ShapeError } from '../../core/operator/index.js';
import { neighborhoodAttention, softmaxAttention } from '../../operators/attention/index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';
import { call, makeQkv, refAttention, refWindow, relErr, tensorsOf } from './reference.js';

const meta = (shape: (number | null)[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape });
const sctx = { node: 'n', op: 'attention.neighborhood', resolvePath: (p: string) => p };

describe('attention.neighborhood windows and shapes', () => {
  it('the independent window rule agrees with NATTEN’s closed form for d = 1, odd k', () => {
    for (let n = 7; n <= 20; n++)
      for (const k of [1, 3, 5, 7]) {
        const r = (k - 1) / 2;
        const w = refWindow(n, k, 1, false);
        for (let i = 0; i < n; i++) {
          const start = Math.max(i - r, 0) + (i + r >= n ? n - i - r - 1 : 0);
          expect([...w[i]]).toEqual(Array.from({ length: k }, (_, t) => start + t));
        }
      }
  });
  it('rejects kernel_size·dilation > axis length, and per-axis params of the wrong length', () => {
    expect(() => neighborhoodAttention.shape!({ q: meta([1, 1, 10, 4]), k: meta([1, 1, 10, 4]), v: meta([1, 1, 10, 4]) }, params(neighborhoodAttention, { kernel_size: 4, dilation: 3 }), sctx)).toThrow(ShapeError);
    expect(() => neighborhoodAttention.shape!({ q: meta([1, 1, 6, 9, 4]), k: meta([1, 1, 6, 9, 4]), v: meta([1, 1, 6, 9, 4]) }, params(neighborhoodAttention, { rank: 2, kernel_size: [3, 5], dilation: [2, 2] }), sctx)).toThrow(ShapeError);
    expect(() => neighborhoodAttention.shape!({ q: meta([1, 1, 10, 4]), k: meta([1, 1, 10, 4]), v: meta([1, 1, 10, 4]) }, params(neighborhoodAttention, { kernel_size: [3, 3] }), sctx)).toThrow(ParamError);
    expect(() => neighborhoodAttention.shape!({ q: meta([1, 1, 10, 4]), k: meta([1, 1, 10, 4]), v: meta([1, 1, 10, 4]) }, params(neighborhoodAttention, { rank: 2 }), sctx)).toThrow(ShapeError);
    expect(neighborhoodAttention.shape!({ q: meta([1, 2, 6, 9, 4]), k: meta([1, 2, 6, 9, 4]), v: meta([1, 2, 6, 9, 3]) }, params(neighborhoodAttention, { rank: 2, kernel_size: [3, 4], dilation: [2, 2] }), sctx)).toEqual({ out: [1, 2, 6, 9, 3] });
    expect(neighborhoodAttention.shape!({ q: meta([1, 2, null, 4]), k: meta([1, 2, null, 4]), v: meta([1, 2, null, 3]) }, params(neighborhoodAttention), sctx)).toEqual({ out: [1, 2, null, 3] });
  });
});

for (const backend of testBackends()) {
  describe(`attention.neighborhood on ${backend}`, () => {
    it('1-D: matches masked softmax attention for odd/even k, dilation 1–3, causal or not; non-causal rows see exactly k keys', async () => {
      await useBackend(backend);
      const n = 13;
      const x = makeQkv(1, 2, n, n, 4, 3, 21);
      const before = tf.memory().numTensors;
      const t = tensorsOf(x);
      for (const [k, d] of [[3, 1], [4, 1], [5, 2], [4, 3], [2, 2]] as const)
        for (const causal of [false, true]) {
          const w = refWindow(n, k, d, causal);
          if (!causal) expect(w.every((s) => s.size === k)).toBe(true);
          else expect(w[0].size).toBe(1);
          const { out } = await call(neighborhoodAttention, t, params(neighborhoodAttention, { kernel_size: k, dilation: d, causal }), testContext());
          const err = relErr(await out.data(), refAttention(x, { allowed: (_b, _h, i, j) => w[i].has(j) }));
          expect(err, `k ${k} d ${d} causal ${causal}`).toBeLessThan(2e-6);
          out.dispose();
        }
      tf.dispose([t.q, t.k, t.v]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('2-D: the product of per-axis windows, per-axis kernel/dilation/causal', async () => {
      await useBackend(backend);
      const [X, Y, D, Dv] = [5, 7, 4, 2];
      const x = makeQkv(2, 1, X * Y, X * Y, D, Dv, 5);
      const before = tf.memory().numTensors;
      const q = tf.tensor(x.q, [2, 1, X, Y, D]);
      const k = tf.tensor(x.k, [2, 1, X, Y, D]);
      const v = tf.tensor(x.v, [2, 1, X, Y, Dv]);
      for (const causal of [false, [true, false]] as const) {
        const wx = refWindow(X, 3, 1, Array.isArray(causal) ? causal[0] : causal);
        const wy = refWindow(Y, 2, 3, false);
        const { out } = await call(neighborhoodAttention, { q, k, v }, params(neighborhoodAttention, { rank: 2, kernel_size: [3, 2], dilation: [1, 3], causal }), testContext());
        expect(out.shape).toEqual([2, 1, X, Y, Dv]);
        const allowed = (_b: number, _h: number, i: number, j: number) => wx[Math.floor(i / Y)].has(Math.floor(j / Y)) && wy[i % Y].has(j % Y);
        expect(relErr(await out.data(), refAttention(x, { allowed }))).toBeLessThan(2e-6);
        out.dispose();
      }
      tf.dispose([q, k, v]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('kernel_size = n equals softmax attention (1-D and 2-D)', async () => {
      await useBackend(backend);
      const x = makeQkv(1, 2, 12, 12, 4, 3, 8);
      const before = tf.memory().numTensors;
      const t = tensorsOf(x);
      const { out } = await call(neighborhoodAttention, t, params(neighborhoodAttention, { kernel_size: 12 }), testContext());
      const { out: full } = await call(softmaxAttention, t, params(softmaxAttention), testContext());
      expect(relErr(await out.data(), Array.from(await full.data()))).toBeLessThan(1e-6);
      const q2 = tf.reshape(t.q, [1, 2, 3, 4, 4]);
      const k2 = tf.reshape(t.k, [1, 2, 3, 4, 4]);
      const v2 = tf.reshape(t.v, [1, 2, 3, 4, 3]);
      const { out: o2 } = await call(neighborhoodAttention, { q: q2, k: k2, v: v2 }, params(neighborhoodAttention, { rank: 2, kernel_size: [3, 4] }), testContext());
      expect(relErr(await o2.data(), Array.from(await full.data()))).toBeLessThan(1e-6);
      tf.dispose([t.q, t.k, t.v, out, full, q2, k2, v2, o2]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('attention.neighborhood cost (wasm)', () => {
  it('at N = 4096, k = 7 its peak memory is far below one N×N matrix', async () => {
    await useBackend('wasm');
    const [n, d] = [4096, 16];
    const q = tf.randomNormal([1, 1, n, d], 0, 1, 'float32', 1);
    const before = tf.memory().numTensors;
    const info = await tf.profile(async () => {
      const { out } = await call(neighborhoodAttention, { q, k: q, v: q }, params(neighborhoodAttention), testContext());
      await out.data();
      out.dispose();
    });
    expect(info.peakBytes).toBeLessThan((n * n * 4) / 4);
    q.dispose();
    expect(tf.memory().numTensors).toBe(before - 1);
  });
});
