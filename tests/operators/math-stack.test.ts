import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../core/operator/index.js';
import { stack } from '../../operators/math/stack.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';

const meta = (shape: number[], dtype: 'float32' | 'int32' = 'float32') => ({ kind: 'tensor' as const, dtype, shape });
const ctx = { node: 'n', op: 'math.stack', resolvePath: (p: string) => p };

describe('math.stack shape inference', () => {
  it('adds the new axis where asked', () => {
    expect(stack.shape!({ items: [meta([]), meta([]), meta([])] }, { axis: 0 }, ctx)).toEqual({ out: { kind: 'tensor', dtype: 'float32', shape: [3] } });
    expect(stack.shape!({ items: [meta([2, 3]), meta([2, 3])] }, { axis: -1 }, ctx)).toEqual({ out: { kind: 'tensor', dtype: 'float32', shape: [2, 3, 2] } });
  });
  it('rejects mismatched shapes, dtypes and axes', () => {
    expect(() => stack.shape!({ items: [meta([2]), meta([3])] }, { axis: 0 }, ctx)).toThrow(ShapeError);
    expect(() => stack.shape!({ items: [meta([2]), meta([2], 'int32')] }, { axis: 0 }, ctx)).toThrow(/int32/);
    expect(() => stack.shape!({ items: [meta([2])] }, { axis: 3 }, ctx)).toThrow(/out of range/);
  });
});

for (const backend of testBackends()) {
  describe(`math.stack on ${backend}`, () => {
    it('stacks values in order along the axis and leaks nothing', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const a = tf.tensor1d([1, 2]);
      const b = tf.tensor1d([3, 4]);
      const { out } = stack.run({ items: [a, b] }, { axis: 1 }, testContext()) as { out: tf.Tensor };
      expect(out.shape).toEqual([2, 2]);
      expect(Array.from(await out.data())).toEqual([1, 3, 2, 4]);
      tf.dispose([a, b, out]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
