import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { relError } from '../../operators/metric/rel_error.js';
import { OperatorError, ShapeError } from '../../core/operator/index.js';
import type { Dim, DType } from '../../core/operator/index.js';
import { testContext } from '../helpers/context.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { params, sequence } from '../helpers/dense-reference.js';

const meta = (shape: Dim[], dtype: DType = 'float32') => ({ kind: 'tensor' as const, dtype, shape });
const ctx = { node: 'n', op: 'metric.rel_error', resolvePath: (p: string) => p };
const p = params(relError);

/** float64 reference ‖a − b‖ / ‖b‖, from the float32-rounded inputs the tensors hold. */
function refRelError(a: number[], b: number[]): number {
  const fa = a.map(Math.fround);
  const fb = b.map(Math.fround);
  const num = Math.sqrt(fa.reduce((s, x, i) => s + (x - fb[i]) ** 2, 0));
  return num / Math.sqrt(fb.reduce((s, x) => s + x * x, 0));
}

async function relErrorOf(backend: string, a: number[], b: number[], shape = [a.length]): Promise<number> {
  await useBackend(backend);
  const [ta, tb] = [tf.tensor(a, shape), tf.tensor(b, shape)];
  try {
    const { out } = (await relError.run({ a: ta, b: tb }, p, testContext())) as { out: tf.Tensor };
    expect(out.shape).toEqual([]);
    const value = (await out.data())[0];
    out.dispose();
    return value;
  } finally {
    tf.dispose([ta, tb]);
  }
}

describe('metric.rel_error shape inference', () => {
  it('gives a scalar for equal shapes and accepts unknown dims', () => {
    expect(relError.shape!({ a: meta([4, 3]), b: meta([4, 3]) }, p, ctx)).toEqual({ out: [] });
    expect(relError.shape!({ a: meta([null, 3]), b: meta([4, null]) }, p, ctx)).toEqual({ out: [] });
  });
  it('does not broadcast', () => {
    expect(() => relError.shape!({ a: meta([4, 3]), b: meta([1, 3]) }, p, ctx)).toThrow(ShapeError);
    expect(() => relError.shape!({ a: meta([3]), b: meta([3, 1]) }, p, ctx)).toThrow(ShapeError);
  });
});

for (const backend of testBackends()) {
  describe(`metric.rel_error on ${backend}`, () => {
    it('matches a float64 reference and leaks nothing', async () => {
      const [ra, rb] = [sequence([6, 5], 21), sequence([6, 5], 22)];
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const got = await relErrorOf(backend, ra.data, rb.data, ra.shape);
      const want = refRelError(ra.data, rb.data);
      expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-6 * want);
      expect(tf.memory().numTensors).toBe(before);
    });

    // Naively, (1e30)² overflows float32 and (1e-30)² underflows it: both need the rescaling.
    for (const magnitude of [1e30, 1e-30, 1e-36]) {
      it(`stays accurate at values ~${magnitude}`, async () => {
        const b = sequence([200], 31).data.map((v) => (v + 3) * magnitude);
        const a = b.map((v, i) => v * (1 + 1e-3 * Math.sin(i)));
        const want = refRelError(a, b);
        expect(want).toBeGreaterThan(1e-4);
        const got = await relErrorOf(backend, a, b);
        expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-4 * want);
      });
    }
    it('is exactly 0 for a = b, and overflows to Infinity rather than NaN when a ≫ b', async () => {
      expect(await relErrorOf(backend, [1e-30, -2e30], [1e-30, -2e30])).toBe(0);
      expect(await relErrorOf(backend, [3e30, 0], [1e-30, 0])).toBe(Infinity);
      expect(await relErrorOf(backend, [1e38, 0], [0, 1e-10])).toBe(Infinity);
    });
    it('takes int32', async () => {
      await useBackend(backend);
      const ta = tf.tensor1d([3, 4], 'int32');
      const tb = tf.tensor1d([0, 4], 'int32');
      const { out } = (await relError.run({ a: ta, b: tb }, p, testContext())) as { out: tf.Tensor };
      expect((await out.data())[0]).toBeCloseTo(0.75, 6);
      tf.dispose([ta, tb, out]);
    });
    it('fails with zero_reference and non_finite_input, leaking nothing', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const code = async (a: number[], b: number[]) => {
        try {
          await relErrorOf(backend, a, b);
        } catch (e) {
          expect(e).toBeInstanceOf(OperatorError);
          return [(e as OperatorError).code, (e as OperatorError).details?.input];
        }
        return ['no error'];
      };
      expect(await code([1, 2], [0, 0])).toEqual(['zero_reference', undefined]);
      expect(await code([], [])).toEqual(['zero_reference', undefined]);
      expect(await code([1, NaN], [1, 1])).toEqual(['non_finite_input', 'a']);
      expect(await code([1, 1], [Infinity, 1])).toEqual(['non_finite_input', 'b']);
      expect(await code([1, 1], [-Infinity, 0])).toEqual(['non_finite_input', 'b']);
      expect(tf.memory().numTensors).toBe(before);
    });
    it('refuses shapes that would broadcast', async () => {
      await useBackend(backend);
      const ta = tf.zeros([2, 3]);
      const tb = tf.ones([3]);
      await expect(async () => relError.run({ a: ta, b: tb }, p, testContext())).rejects.toThrow(ShapeError);
      tf.dispose([ta, tb]);
    });
  });
}
