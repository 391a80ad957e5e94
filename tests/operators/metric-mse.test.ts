import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { mse } from '../../operators/metric/mse.js';
import { OperatorError, ShapeError } from '../../core/operator/index.js';
import type { Dim, DType } from '../../core/operator/index.js';
import { testContext } from '../helpers/context.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { params, sequence } from '../helpers/dense-reference.js';

const meta = (shape: Dim[], dtype: DType = 'float32') => ({ kind: 'tensor' as const, dtype, shape });
const ctx = { node: 'n', op: 'metric.mse', resolvePath: (p: string) => p };
const p = params(mse);

describe('metric.mse shape inference', () => {
  it('gives a scalar for equal shapes, unknown and symbolic dims included', () => {
    expect(mse.shape!({ a: meta([4, 3]), b: meta([4, 3]) }, p, ctx)).toEqual({ out: [] });
    expect(mse.shape!({ a: meta([null, 3]), b: meta(['n', 3], 'int32') }, p, ctx)).toEqual({ out: [] });
  });
  it('does not broadcast: any proven difference is a ShapeError', () => {
    expect(() => mse.shape!({ a: meta([4, 3]), b: meta([3]) }, p, ctx)).toThrow(ShapeError);
    expect(() => mse.shape!({ a: meta([4, 3]), b: meta([4, 1]) }, p, ctx)).toThrow(ShapeError);
    expect(() => mse.shape!({ a: meta([null, 3]), b: meta([4, 2]) }, p, ctx)).toThrow(/dimension 1/);
  });
});

for (const backend of testBackends()) {
  describe(`metric.mse on ${backend}`, () => {
    it('matches mean((a − b)²) in float64 and leaks nothing', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const [ra, rb] = [sequence([5, 7], 1), sequence([5, 7], 2)];
      const [ta, tb] = [tf.tensor(ra.data, ra.shape), tf.tensor(rb.data, rb.shape)];
      const { out } = mse.run({ a: ta, b: tb }, p, testContext()) as { out: tf.Tensor };
      const want = ra.data.reduce((s, x, i) => s + (x - rb.data[i]) ** 2, 0) / ra.data.length;
      expect(out.shape).toEqual([]);
      expect(out.dtype).toBe('float32');
      expect(Math.abs((await out.data())[0] - want)).toBeLessThanOrEqual(1e-6 * want);
      tf.dispose([ta, tb, out]);
      expect(tf.memory().numTensors).toBe(before);
    });
    it('is 0 for equal inputs and takes int32', async () => {
      await useBackend(backend);
      const ta = tf.tensor1d([1, 2, 3], 'int32');
      const tb = tf.tensor1d([1, 2, 5]);
      const { out: zero } = mse.run({ a: ta, b: ta }, p, testContext()) as { out: tf.Tensor };
      const { out } = mse.run({ a: ta, b: tb }, p, testContext()) as { out: tf.Tensor };
      expect((await zero.data())[0]).toBe(0);
      expect((await out.data())[0]).toBeCloseTo(4 / 3, 6);
      tf.dispose([ta, tb, zero, out]);
    });
    it('refuses shapes that would broadcast, and empty inputs, without leaking', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const ta = tf.zeros([4, 3]);
      const tb = tf.zeros([3]);
      const te = tf.zeros([0, 3]);
      expect(() => mse.run({ a: ta, b: tb }, p, testContext())).toThrow(ShapeError);
      expect(() => mse.run({ a: te, b: te }, p, testContext())).toThrow(expect.objectContaining({ code: 'empty_input' }));
      expect(() => mse.run({ a: te, b: te }, p, testContext())).toThrow(OperatorError);
      tf.dispose([ta, tb, te]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
