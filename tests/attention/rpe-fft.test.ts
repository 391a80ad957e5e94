import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../core/operator/index.js';
import { createRegistry, runGraph } from '../../core/index.js';
import { rpeFftAttention } from '../../operators/attention/index.js';
import { useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params, sequence } from '../helpers/dense-reference.js';
import { call, makeQkv, projOf, refKernelised, relErr, tensorsOf } from './reference.js';

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
