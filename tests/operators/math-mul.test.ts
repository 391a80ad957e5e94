import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { mul } from '../../operators/math/mul.js';
import { ShapeError } from '../../core/operator/index.js';
import type { Dim, DType } from '../../core/operator/index.js';
import { testContext } from '../helpers/context.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { broadcastRef, denseOf, expectDenseClose, params, sequence } from '../helpers/dense-reference.js';

const meta = (shape: Dim[], dtype: DType = 'float32') => ({ kind: 'tensor' as const, dtype, shape });
const ctx = { node: 'n', op: 'math.mul', resolvePath: (p: string) => p };
const p = params(mul);

describe('math.mul shape inference', () => {
  it('broadcasts a and b', () => {
    expect(mul.shape!({ a: meta([2, 3]), b: meta([3]) }, p, ctx)).toEqual({ out: meta([2, 3]) });
    expect(mul.shape!({ a: meta([2, 1]), b: meta([5, 1, 3], 'float32') }, p, ctx)).toEqual({ out: meta([5, 2, 3]) });
    expect(mul.shape!({ a: meta([], 'int32'), b: meta([4], 'int32') }, p, ctx)).toEqual({ out: meta([4], 'int32') });
  });
  it('accepts unknown and symbolic dims', () => {
    expect(mul.shape!({ a: meta([null, 3]), b: meta(['k', 1]) }, p, ctx)).toEqual({ out: meta(['k', 3]) });
  });
  it('rejects shapes that cannot broadcast and mixed dtypes', () => {
    expect(() => mul.shape!({ a: meta([2, 3]), b: meta([2]) }, p, ctx)).toThrow(ShapeError);
    expect(() => mul.shape!({ a: meta([2]), b: meta([2], 'int32') }, p, ctx)).toThrow(/dtypes differ/);
  });
});

for (const backend of testBackends()) {
  describe(`math.mul on ${backend}`, () => {
    const cases: Array<[number[], number[]]> = [[[2, 3], [2, 3]], [[2, 3], [3]], [[4, 1], [1, 5]], [[3, 1, 2], []]];
    for (const [sa, sb] of cases) {
      it(`matches a float64 reference (a ⊙ b) for ${JSON.stringify([sa, sb])} and leaks nothing`, async () => {
        await useBackend(backend);
        const before = tf.memory().numTensors;
        const [ra, rb] = [sequence(sa, 11), sequence(sb, 12)];
        const [ta, tb] = [tf.tensor(ra.data, ra.shape), tf.tensor(rb.data, rb.shape)];
        const { out } = mul.run({ a: ta, b: tb }, p, testContext()) as { out: tf.Tensor };
        expectDenseClose(await denseOf(out), broadcastRef(ra, rb, (x, y) => x * y));
        tf.dispose([ta, tb, out]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
    it('is exact on int32 and keeps int32', async () => {
      await useBackend(backend);
      const ta = tf.tensor2d([[1, -2], [3, 2 ** 20]], undefined, 'int32');
      const tb = tf.tensor1d([5, 7], 'int32');
      const { out } = mul.run({ a: ta, b: tb }, p, testContext()) as { out: tf.Tensor };
      expect(out.dtype).toBe('int32');
      expect(await out.array()).toEqual([[5, -14], [15, 7 * 2 ** 20]]);
      tf.dispose([ta, tb, out]);
    });
  });
}
