import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { uniform } from '../../operators/data/uniform.js';
import { ParamError } from '../../core/operator/index.js';
import { testContext } from '../helpers/context.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { params } from '../helpers/dense-reference.js';

const ctx = { node: 'n', op: 'data.uniform', resolvePath: (p: string) => p };

async function draw(backend: string, given: Record<string, unknown>, seed: number): Promise<Float32Array> {
  await useBackend(backend);
  const { out } = uniform.run({}, params(uniform, given), testContext({ seed })) as { out: tf.Tensor };
  const values = (await out.data()) as Float32Array;
  out.dispose();
  return values;
}

describe('data.uniform params and shape inference', () => {
  it('is stochastic, with defaults U[0, 1)', () => {
    expect(uniform.stochastic).toBe(true);
    expect(params(uniform, { shape: [2] })).toEqual({ shape: [2], low: 0, high: 1 });
    expect(uniform.shape!({}, params(uniform, { shape: [4, 1] }), ctx)).toEqual({ out: [4, 1] });
  });
  it('says clearly when high does not exceed low, at /params/high', () => {
    for (const [low, high] of [[1, 1], [2, -2]]) {
      const p = params(uniform, { shape: [2], low, high });
      for (const f of [() => uniform.shape!({}, p, ctx), () => uniform.run({}, p, testContext())]) {
        expect(f).toThrow(ParamError);
        expect(f).toThrow(`high (${high}) must exceed low (${low})`);
        expect(f).toThrow(expect.objectContaining({ pointer: '/params/high' }));
      }
    }
  });
  it('rejects bad shapes', () => {
    expect(() => params(uniform, { shape: [-1] })).toThrow(/shape/);
    expect(() => params(uniform, { shape: 3 })).toThrow(/shape/);
  });
});

for (const backend of testBackends()) {
  describe(`data.uniform on ${backend}`, () => {
    it('is decided by the seed (0 included) and leaks nothing', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      for (const seed of [0, 5]) {
        expect(await draw(backend, { shape: [3, 7] }, seed)).toEqual(await draw(backend, { shape: [3, 7] }, seed));
      }
      expect(await draw(backend, { shape: [50] }, 1)).not.toEqual(await draw(backend, { shape: [50] }, 2));
      expect(tf.memory().numTensors).toBe(before);
    });
    it('has the mean and std of U[low, high) over 100k draws, all within bounds', async () => {
      const [low, high, n] = [-3, 5, 100_000];
      const x = await draw(backend, { shape: [n], low, high }, 11);
      let [sum, min, max] = [0, Infinity, -Infinity];
      for (const v of x) {
        sum += v;
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      // ≤ high, not < high: a draw just below high may round up to it in float32.
      expect(min).toBeGreaterThanOrEqual(low);
      expect(max).toBeLessThanOrEqual(high);
      const mean = sum / n;
      let ss = 0;
      for (const v of x) ss += (v - mean) ** 2;
      const std = Math.sqrt(ss / (n - 1));
      const w = high - low;
      const sigma = w / Math.sqrt(12);
      // SE(mean) = σ/√n. SE(var) = √((μ₄ − σ⁴)/n) with μ₄ = w⁴/80, and SE(std) ≈ SE(var)/(2σ).
      // 5 standard errors: a two-sided false-alarm rate under 1e-6 for any seed.
      const seStd = Math.sqrt((w ** 4 / 80 - sigma ** 4) / n) / (2 * sigma);
      expect(Math.abs(mean - (low + high) / 2)).toBeLessThan((5 * sigma) / Math.sqrt(n));
      expect(Math.abs(std - sigma)).toBeLessThan(5 * seStd);
    });
  });
}

describe('data.uniform across backends', () => {
  it.skipIf(testBackends().length < 2)(`gives identical draws on ${testBackends().join(', ')}`, async () => {
    const [first, ...rest] = testBackends();
    const want = await draw(first, { shape: [1000], low: 2, high: 3 }, 99);
    for (const backend of rest) expect(await draw(backend, { shape: [1000], low: 2, high: 3 }, 99)).toEqual(want);
  });
});
