import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { normal } from '../../operators/data/normal.js';
import { testContext } from '../helpers/context.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { params } from '../helpers/dense-reference.js';

const ctx = { node: 'n', op: 'data.normal', resolvePath: (p: string) => p };

async function draw(backend: string, given: Record<string, unknown>, seed: number): Promise<Float32Array> {
  await useBackend(backend);
  const { out } = normal.run({}, params(normal, given), testContext({ seed })) as { out: tf.Tensor };
  const values = (await out.data()) as Float32Array;
  out.dispose();
  return values;
}

describe('data.normal params and shape inference', () => {
  it('is stochastic, with defaults N(0, 1) in float32', () => {
    expect(normal.stochastic).toBe(true);
    expect(params(normal, { shape: [2] })).toEqual({ shape: [2], mean: 0, std: 1, dtype: 'float32' });
  });
  it('outputs the requested shape', () => {
    expect(normal.shape!({}, params(normal, { shape: [3, 0, 2] }), ctx)).toEqual({ out: [3, 0, 2] });
    expect(normal.shape!({}, params(normal, { shape: [] }), ctx)).toEqual({ out: [] });
  });
  it('rejects std ≤ 0, bad shapes and other dtypes', () => {
    expect(() => params(normal, { shape: [2], std: 0 })).toThrow(/std/);
    expect(() => params(normal, { shape: [2], std: -1 })).toThrow(/std/);
    expect(() => params(normal, { shape: [2, -1] })).toThrow(/shape/);
    expect(() => params(normal, { shape: [2.5] })).toThrow(/shape/);
    expect(() => params(normal, {})).toThrow(/shape/);
    expect(() => params(normal, { shape: [2], dtype: 'int32' })).toThrow(/dtype/);
  });
});

for (const backend of testBackends()) {
  describe(`data.normal on ${backend}`, () => {
    it('is decided by the seed (0 included) and leaks nothing', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      for (const seed of [0, 1, 123456789]) {
        expect(await draw(backend, { shape: [4, 5] }, seed)).toEqual(await draw(backend, { shape: [4, 5] }, seed));
      }
      const [x0, x1, x2] = await Promise.all([0, 1, 2].map((seed) => draw(backend, { shape: [50] }, seed)));
      expect(x0).not.toEqual(x1);
      expect(x1).not.toEqual(x2);
      expect(tf.memory().numTensors).toBe(before);
    });
    it('has the requested mean and std over 100k draws', async () => {
      const [mu, sigma, n] = [3, 2, 100_000];
      const x = await draw(backend, { shape: [n], mean: mu, std: sigma }, 7);
      expect(x.length).toBe(n);
      let sum = 0;
      for (const v of x) sum += v;
      const mean = sum / n;
      let ss = 0;
      for (const v of x) ss += (v - mean) ** 2;
      const std = Math.sqrt(ss / (n - 1));
      // For i.i.d. normal draws SE(mean) = σ/√n and SE(std) ≈ σ/√(2n); 5 standard errors is a
      // two-sided false-alarm rate under 1e-6 for any seed.
      expect(Math.abs(mean - mu)).toBeLessThan((5 * sigma) / Math.sqrt(n));
      expect(Math.abs(std - sigma)).toBeLessThan((5 * sigma) / Math.sqrt(2 * n));
    });
  });
}

describe('data.normal across backends', () => {
  // Drawn in JS by tfjs-core, so every backend gives the same numbers for a seed.
  it.skipIf(testBackends().length < 2)(`gives identical draws on ${testBackends().join(', ')}`, async () => {
    const [first, ...rest] = testBackends();
    const want = await draw(first, { shape: [1000], mean: -1, std: 0.5 }, 99);
    for (const backend of rest) expect(await draw(backend, { shape: [1000], mean: -1, std: 0.5 }, 99)).toEqual(want);
  });
});
