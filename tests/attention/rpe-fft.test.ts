import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../core/operator/index.js';
import { createRegistry, runGraph } from '../../core/index.js';
import { rpeBias, rpeFftAttention, softmaxAttention } from '../../operators/attention/index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params, sequence } from '../helpers/dense-reference.js';
import { call, makeQkv, projOf, refAttention, refKernelised, relErr, tensorsOf } from './reference.js';

const meta = (shape: (number | null)[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape });
const sctx = { node: 'n', op: 'attention.rpe_fft', resolvePath: (p: string) => p };

describe('attention.rpe_fft shapes', () => {
  it('checks rpe [H, 2N−1] and Nq = Nk', () => {
    const p = params(rpeFftAttention);
    expect(rpeFftAttention.shape!({ q: meta([1, 2, 9, 4]), k: meta([1, 2, 9, 4]), v: meta([1, 2, 9, 3]), rpe: meta([2, 17]) }, p, sctx)).toEqual({ out: [1, 2, 9, 3] });
    expect(() => rpeFftAttention.shape!({ q: meta([1, 2, 9, 4]), k: meta([1, 2, 9, 4]), v: meta([1, 2, 9, 3]), rpe: meta([2, 16]) }, p, sctx)).toThrow(ShapeError);
    expect(() => rpeFftAttention.shape!({ q: meta([1, 2, 9, 4]), k: meta([1, 2, 9, 4]), v: meta([1, 2, 9, 3]), rpe: meta([3, 17]) }, p, sctx)).toThrow(ShapeError);
    expect(() => rpeFftAttention.shape!({ q: meta([1, 2, 8, 4]), k: meta([1, 2, 9, 4]), v: meta([1, 2, 9, 3]), rpe: meta([2, 17]) }, p, sctx)).toThrow(ShapeError);
  });
});

describe('attention.rpe_fft on cpu (wasm has no FFT kernels)', () => {
  const N = 11; // 2N − 1 = 21 → circulant length 32
  const x = makeQkv(2, 2, N, N, 4, 3, 61, 0.5);
  const b = sequence([2, 2 * N - 1], 62).data; // b ∈ [−2, 2): c = e^b spans a factor ≈ 50
  const c = (causal: boolean) => (h: number, i: number, j: number) => (causal && j > i ? 0 : Math.exp(b[h * (2 * N - 1) + (i - j) + N - 1]));
  for (const map of ['elu', 'favor+'] as const)
    for (const causal of [false, true]) {
      it(`${map}, causal ${causal}: equals the naive Toeplitz form (float64); leaks nothing`, async () => {
        await useBackend('cpu');
        const w = projOf(8, 4, 7);
        const before = tf.memory().numTensors;
        const t = tensorsOf(x);
        const rpe = tf.tensor2d(b, [2, 2 * N - 1]);
        const proj = tf.tensor2d(w);
        const { out } = await call(rpeFftAttention, { ...t, rpe, proj }, params(rpeFftAttention, { feature_map: map, causal }), testContext());
        const want = refKernelised(x, map, { w, causal, eps: map === 'favor+' ? 0 : 1e-6, c: c(causal) });
        expect(relErr(await out.data(), want)).toBeLessThan(1e-5);
        tf.dispose([t.q, t.k, t.v, rpe, proj, out]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  it('with b = 0 it is plain linear attention (non-causal)', async () => {
    await useBackend('cpu');
    const before = tf.memory().numTensors;
    const t = tensorsOf(x);
    const rpe = tf.zeros([2, 2 * N - 1]);
    const { out } = await call(rpeFftAttention, { ...t, rpe }, params(rpeFftAttention), testContext());
    expect(relErr(await out.data(), refKernelised(x, 'elu', { eps: 1e-6 }))).toBeLessThan(1e-5);
    tf.dispose([t.q, t.k, t.v, rpe, out]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('attention.rpe_fft end to end on wasm', () => {
  it('runs through the engine, which moves the node to cpu and records it', async () => {
    await useBackend('wasm');
    const registry = await createRegistry();
    registry.register(rpeFftAttention, 'test');
    const before = tf.memory().numTensors;
    const r = await runGraph(
      {
        kernelflow: '1',
        name: 'rpe-fft-wasm',
        seed: 1,
        nodes: {
          x: { op: 'data.normal', params: { shape: [1, 1, 16, 4] } },
          rpe: { op: 'data.normal', params: { shape: [1, 31], std: 0.5 } },
          att: { op: 'attention.rpe_fft', inputs: { q: 'x', k: 'x', v: 'x', rpe: 'rpe' }, params: { feature_map: 'favor+', num_features: 8 } },
        },
        outputs: { out: 'att' },
      },
      { backend: 'wasm', cache: false, registry },
    ).result;
    expect(r.status, JSON.stringify(r.manifest.nodes)).toBe('ok');
    expect(r.manifest.nodes.att.fallback).toBe('cpu');
    expect(tf.getBackend()).toBe('wasm');
    r.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

// The dense forms need no FFT kernels, so they run on every backend (webgpu runs rpe_fft on cpu).
for (const backend of testBackends().filter((b) => b !== 'webgpu')) {
  describe(`attention.rpe_fft method "direct" and attention.rpe_bias on ${backend}`, () => {
    const N = 9;
    const x = makeQkv(1, 2, N, N, 4, 3, 71, 0.5);
    const b = sequence([2, 2 * N - 1], 72).data;
    const bias = (_b: number, h: number, i: number, j: number) => b[h * (2 * N - 1) + (i - j) + N - 1];
    for (const causal of [false, true]) {
      it(`direct, favor+, causal ${causal}: equals the naive Toeplitz form (float64); leaks nothing`, async () => {
        await useBackend(backend);
        const w = projOf(8, 4, 9);
        const before = tf.memory().numTensors;
        const t = tensorsOf(x);
        const rpe = tf.tensor2d(b, [2, 2 * N - 1]);
        const proj = tf.tensor2d(w);
        const { out } = await call(rpeFftAttention, { ...t, rpe, proj }, params(rpeFftAttention, { feature_map: 'favor+', causal, method: 'direct' }), testContext());
        const c = (h: number, i: number, j: number) => (causal && j > i ? 0 : Math.exp(bias(0, h, i, j)));
        expect(relErr(await out.data(), refKernelised(x, 'favor+', { w, causal, eps: 0, c }))).toBeLessThan(1e-5);
        tf.dispose([t.q, t.k, t.v, rpe, proj, out]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
    it('rpe_bias is the Toeplitz matrix of rpe, and softmax with it is softmax attention with RPE (float64)', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const rpe = tf.tensor2d(b, [2, 2 * N - 1]);
      const { bias: biasT } = await call(rpeBias, { rpe }, {}, testContext());
      expect(biasT.shape).toEqual([1, 2, N, N]);
      const got = await biasT.data();
      for (let h = 0; h < 2; h++) for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) expect(got[(h * N + i) * N + j]).toBe(Math.fround(bias(0, h, i, j)));
      const t = tensorsOf(x);
      const { out } = await call(softmaxAttention, { ...t, bias: biasT }, params(softmaxAttention), testContext());
      expect(relErr(await out.data(), refAttention(x, { bias }))).toBeLessThan(1e-5);
      tf.dispose([t.q, t.k, t.v, rpe, biasT, out]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('attention.rpe_bias shapes', () => {
  it('needs an odd number 2N−1 of columns', () => {
    expect(rpeBias.shape!({ rpe: meta([3, 9]) }, {}, { ...sctx, op: 'attention.rpe_bias' })).toEqual({ bias: [1, 3, 5, 5] });
    expect(() => rpeBias.shape!({ rpe: meta([3, 8]) }, {}, { ...sctx, op: 'attention.rpe_bias' })).toThrow(ShapeError);
  });
});
