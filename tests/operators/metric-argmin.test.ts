/**
 * metric.argmin: the first smallest finite entry along the last axis (NaN/±Inf never win), its
 * index, its value, and the matching grid value; checked against hand-worked expectations.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { argmin } from '../../operators/metric/argmin.js';
import { OperatorError, ShapeError } from '../../core/operator/index.js';
import { testContext } from '../helpers/context.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { params } from '../helpers/dense-reference.js';

const ctx = { node: 'n', op: 'metric.argmin', resolvePath: (p: string) => p };
type Out = { index: tf.Tensor; value: tf.Tensor; min: tf.Tensor };

describe('metric.argmin shape inference', () => {
  it('drops the last axis; a grid of the wrong length is a ShapeError', () => {
    const f32 = (shape: (number | null)[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape });
    expect(argmin.shape!({ x: f32([3, 5]), grid: f32([5]) }, params(argmin), ctx)).toEqual({
      index: { kind: 'tensor', dtype: 'int32', shape: [3] },
      value: [3],
      min: [3],
    });
    expect(argmin.shape!({ x: f32([5]) }, params(argmin), ctx)).toMatchObject({ value: [], min: [] });
    expect(argmin.shape!({ x: f32([3, null]), grid: f32([4]) }, params(argmin), ctx)).toMatchObject({ value: [3] });
    expect(() => argmin.shape!({ x: f32([3, 5]), grid: f32([4]) }, params(argmin), ctx)).toThrow(ShapeError);
    expect(() => params(argmin, { axis: 0 })).toThrow();
  });
});

for (const backend of testBackends()) {
  describe(`metric.argmin on ${backend}`, () => {
    it('picks the first smallest finite entry per row, skipping NaN and ±Inf, and leaks nothing', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      // Row 0: a diverged run (Inf, NaN) beside finite losses; row 1: a tie (first wins) and −Inf;
      // row 2: an ordinary minimum at the end.
      const x = tf.tensor2d([
        [0.5, 0.25, Infinity, NaN],
        [-Infinity, 0.125, 0.125, 1],
        [3, 2, 1, 0.75],
      ]);
      const grid = tf.tensor1d([0.1, 0.2, 0.4, 0.8]);
      const out = (await argmin.run({ x, grid }, params(argmin), testContext())) as Out;
      expect(out.index.dtype).toBe('int32');
      expect(out.index.shape).toEqual([3]);
      expect(Array.from(await out.index.data())).toEqual([1, 1, 3]);
      expect(Array.from(await out.value.data())).toEqual([0.2, 0.2, 0.8].map(Math.fround));
      expect(Array.from(await out.min.data())).toEqual([0.25, 0.125, 0.75]);
      tf.dispose([x, grid, out.index, out.value, out.min]);

      // A vector without a grid: scalars, and `value` is the index.
      const v = tf.tensor1d([4, NaN, -1, -1]);
      const o2 = (await argmin.run({ x: v }, params(argmin), testContext())) as Out;
      expect(o2.index.shape).toEqual([]);
      expect((await o2.index.data())[0]).toBe(2);
      expect((await o2.value.data())[0]).toBe(2);
      expect((await o2.min.data())[0]).toBe(-1);
      tf.dispose([v, o2.index, o2.value, o2.min]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('a row with no finite entry is OperatorError empty; a grid of the wrong length is an error', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const x = tf.tensor2d([[1, 2], [NaN, Infinity]]);
      const err = await Promise.resolve(argmin.run({ x }, params(argmin), testContext())).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OperatorError);
      expect((err as OperatorError).code).toBe('empty');
      expect((err as Error).message).toMatch(/row 1/);
      const grid = tf.tensor1d([1, 2, 3]);
      const err2 = await Promise.resolve(argmin.run({ x, grid }, params(argmin), testContext())).catch((e: unknown) => e);
      expect(err2).toBeInstanceOf(OperatorError);
      expect((err2 as Error).message).toMatch(/grid has 3 values/);
      tf.dispose([x, grid]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
