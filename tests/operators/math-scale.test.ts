import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { scale } from '../../operators/math/scale.js';
import type { Dim, DType } from '../../core/operator/index.js';
import { testContext } from '../helpers/context.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { denseOf, expectDenseClose, params, sequence } from '../helpers/dense-reference.js';

const meta = (shape: Dim[], dtype: DType = 'float32') => ({ kind: 'tensor' as const, dtype, shape });
const ctx = { node: 'n', op: 'math.scale', resolvePath: (p: string) => p };

describe('math.scale params and shape inference', () => {
  it('defaults to the identity map', () => {
    expect(params(scale)).toEqual({ alpha: 1, beta: 0 });
  });
  it('rejects non-numbers and unknown params', () => {
    expect(() => params(scale, { alpha: '2' })).toThrow(/alpha/);
    expect(() => params(scale, { gamma: 1 })).toThrow(/additional/);
  });
  it('keeps the shape of x, unknown dims included', () => {
    expect(scale.shape!({ x: meta([null, 'n', 3], 'int32') }, params(scale), ctx)).toEqual({ out: [null, 'n', 3] });
    expect(scale.shape!({ x: meta([]) }, params(scale), ctx)).toEqual({ out: [] });
  });
});

for (const backend of testBackends()) {
  describe(`math.scale on ${backend}`, () => {
    it('matches alpha·x + beta in float64 and leaks nothing', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const r = sequence([3, 4], 5);
      const x = tf.tensor(r.data, r.shape);
      const p = params(scale, { alpha: -2.5, beta: 0.75 });
      const { out } = scale.run({ x }, p, testContext()) as { out: tf.Tensor };
      expectDenseClose(await denseOf(out), { shape: r.shape, data: r.data.map((v) => -2.5 * v + 0.75) });
      tf.dispose([x, out]);
      expect(tf.memory().numTensors).toBe(before);
    });
    it('promotes int32 input to float32', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const x = tf.tensor1d([1, -3, 7], 'int32');
      const { out } = scale.run({ x }, params(scale, { alpha: 0.5 }), testContext()) as { out: tf.Tensor };
      expect(out.dtype).toBe('float32');
      expect(await out.array()).toEqual([0.5, -1.5, 3.5]);
      tf.dispose([x, out]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
