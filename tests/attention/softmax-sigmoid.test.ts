import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../core/operator/index.js';
import { sigmoidAttention, softmaxAttention } from '../../operators/attention/index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';
import { call, causalAllowed, makeQkv, refAttention, relErr, tensorsOf } from './reference.js';

type Out = { out: tf.Tensor; weights?: tf.Tensor };
const meta = (shape: (number | null)[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape });
const sctx = { node: 'n', op: 'attention.softmax', resolvePath: (p: string) => p };

describe('attention.softmax / sigmoid shape inference', () => {
  it('infers [B,H,Nq,Dv] and the weights shape', () => {
    const s = softmaxAttention.shape!({ q: meta([2, 3, 5, 4]), k: meta([2, 3, 7, 4]), v: meta([2, 3, 7, 6]) }, params(softmaxAttention, { return_weights: true }), sctx);
    expect(s).toEqual({ out: [2, 3, 5, 6], weights: [2, 3, 5, 7] });
    expect(sigmoidAttention.shape!({ q: meta([null, 3, 5, 4]), k: meta([2, 3, 7, 4]), v: meta([2, 3, 7, 6]) }, params(sigmoidAttention), sctx)).toEqual({ out: [2, 3, 5, 6] });
  });
  it('rejects mismatched D, Nk and a mask that does not broadcast', () => {
    const p = params(softmaxAttention);
    expect(() => softmaxAttention.shape!({ q: meta([1, 1, 5, 4]), k: meta([1, 1, 7, 3]), v: meta([1, 1, 7, 6]) }, p, sctx)).toThrow(ShapeError);
    expect(() => softmaxAttention.shape!({ q: meta([1, 1, 5, 4]), k: meta([1, 1, 7, 4]), v: meta([1, 1, 8, 6]) }, p, sctx)).toThrow(ShapeError);
    expect(() => softmaxAttention.shape!({ q: meta([1, 1, 5, 4]), k: meta([1, 1, 7, 4]), v: meta([1, 1, 7, 6]), mask: meta([5, 6]) }, p, sctx)).toThrow(ShapeError);
    expect(() => sigmoidAttention.shape!({ q: meta([1, 1, 5, 4]), k: meta([1, 1, 7, 4]), v: meta([1, 1, 7, 6]), bias: meta([2, 1, 5, 7]) }, params(sigmoidAttention), sctx)).toThrow(ShapeError);
  });
});

for (const backend of testBackends()) {
  describe(`attention.softmax / sigmoid on ${backend}`, () => {
    const x = makeQkv(2, 2, 5, 7, 4, 3, 11);
    // mask [Nq,Nk] with an empty row (query 1) and a bias broadcast over heads
    const maskRows = [[1, 0, 1, 1, 0, 1, 1], [0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1], [0, 1, 0, 1, 0, 1, 0], [1, 1, 0, 0, 1, 1, 0]];
    const biasData = Array.from({ length: 2 * 5 * 7 }, (_, t) => Math.fround(Math.sin(t) * 0.5));
    const allowedMask = (_b: number, _h: number, i: number, j: number) => maskRows[i][j] === 1;
    const biasF = (b: number, _h: number, i: number, j: number) => biasData[(b * 5 + i) * 7 + j];

    for (const causal of [false, true]) {
      it(`softmax matches the float64 reference (causal ${causal}, mask, bias) and leaks nothing`, async () => {
        await useBackend(backend);
        const before = tf.memory().numTensors;
        const t = tensorsOf(x);
        const mask = tf.tensor2d(maskRows);
        const bias = tf.tensor(biasData, [2, 1, 5, 7]);
        const r = (await call(softmaxAttention, { ...t, mask, bias }, params(softmaxAttention, { causal, return_weights: true }), testContext())) as Out;
        const allowed = (b: number, h: number, i: number, j: number) => allowedMask(b, h, i, j) && (!causal || causalAllowed(5, 7)(b, h, i, j));
        const want = refAttention(x, { allowed, bias: biasF });
        const got = await r.out.data();
        expect(relErr(got, want)).toBeLessThan(2e-6);
        // the empty row is exactly 0, not NaN
        for (let c = 0; c < 3; c++) expect(got[(0 * 5 + 1) * 3 + c]).toBe(0);
        const w = await r.weights!.data();
        expect(r.weights!.shape).toEqual([2, 2, 5, 7]);
        expect(w.every((z) => Number.isFinite(z))).toBe(true);
        tf.dispose([t.q, t.k, t.v, mask, bias, r.out, r.weights!]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }

    it('softmax: causal is bottom-right aligned, and scale is honoured', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const t = tensorsOf(x);
      const r = (await call(softmaxAttention, t, params(softmaxAttention, { causal: true, scale: 0.7 }), testContext())) as Out;
      expect(relErr(await r.out.data(), refAttention(x, { allowed: causalAllowed(5, 7), scale: 0.7 }))).toBeLessThan(2e-6);
      // Nq > Nk: the first Nq − Nk queries see nothing and return 0
      const y = makeQkv(1, 1, 6, 4, 4, 2, 3);
      const ty = tensorsOf(y);
      const r2 = (await call(softmaxAttention, ty, params(softmaxAttention, { causal: true }), testContext())) as Out;
      const got2 = await r2.out.data();
      expect(relErr(got2, refAttention(y, { allowed: causalAllowed(6, 4) }))).toBeLessThan(2e-6);
      expect(Array.from(got2.slice(0, 4))).toEqual([0, 0, 0, 0]);
      tf.dispose([t.q, t.k, t.v, r.out, ty.q, ty.k, ty.v, r2.out]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('sigmoid: out = (σ(qkᵀ·scale + bias + b) ⊙ mask) v without row normalisation; b = −ln Nk by default', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const t = tensorsOf(x);
      const mask = tf.tensor2d(maskRows, undefined, 'int32');
      const bias = tf.tensor(biasData, [2, 1, 5, 7]);
      for (const [offset, b] of [['auto', -Math.log(7)], [0.3, 0.3]] as const) {
        const r = (await call(sigmoidAttention, { ...t, mask, bias }, params(sigmoidAttention, { causal: true, logit_offset: offset, return_weights: true }), testContext())) as Out;
        const allowed = (bb: number, h: number, i: number, j: number) => allowedMask(bb, h, i, j) && causalAllowed(5, 7)(bb, h, i, j);
        const got = await r.out.data();
        expect(relErr(got, refAttention(x, { allowed, bias: biasF, kind: 'sigmoid', offset: b }))).toBeLessThan(2e-6);
        for (let c = 0; c < 3; c++) expect(got[(0 * 5 + 1) * 3 + c]).toBe(0);
        // no row normalisation: an unmasked row of weights does not sum to 1
        const w = await r.weights!.data();
        const row2 = Array.from(w.slice((0 * 5 + 2) * 7, (0 * 5 + 3) * 7)).reduce((s, z) => s + z, 0);
        expect(Math.abs(row2 - 1)).toBeGreaterThan(1e-3);
        tf.dispose([r.out, r.weights!]);
      }
      tf.dispose([t.q, t.k, t.v, mask, bias]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
