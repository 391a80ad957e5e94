import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../core/operator/index.js';
import { linearAttention } from '../../operators/attention/index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';
import { call, makeQkv, projOf, refAttention, refKernelised, relErr, tensorsOf } from './reference.js';

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
    it('causal with Nq > Nk: the first Nq − Nk queries see no key and return 0', async () => {
      await useBackend(backend);
      const y = makeQkv(1, 2, 9, 5, 3, 2, 33);
      const before = tf.memory().numTensors;
      const t = tensorsOf(y);
      const { out } = await call(linearAttention, t, params(linearAttention, { causal: true, eps: 0 }), testContext());
      const got = await out.data();
      expect(relErr(got, refKernelised(y, 'elu', { causal: true, eps: 0 }))).toBeLessThan(1e-5);
      expect(Array.from(got.slice(0, 8))).toEqual(new Array(8).fill(0));
      tf.dispose([t.q, t.k, t.v, out]);
      expect(tf.memory().numTensors).toBe(before);
    });
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
