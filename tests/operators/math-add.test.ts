import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { add } from '../../operators/math/add.js';
import { ShapeError } from '../../core/operator/index.js';
import type { Dim, DType } from '../../core/operator/index.js';
import { testContext } from '../helpers/context.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { broadcastRef, denseOf, expectDenseClose, params, sequence } from '../helpers/dense-reference.js';

const meta = (shape: Dim[], dtype: DType = 'float32') => ({ kind: 'tensor' as const, dtype, shape });
const ctx = { node: 'n', op: 'math.add', resolvePath: (p: string) => p };
const p = params(add);

describe('math.add shape inference', () => {
  it('broadcasts a, b and the extra terms', () => {
    expect(add.shape!({ a: meta([2, 3]), b: meta([3]) }, p, ctx)).toEqual({ out: meta([2, 3]) });
    expect(add.shape!({ a: meta([2, 1]), b: meta([1, 3]), more: [meta([]), meta([4, 1, 1])] }, p, ctx)).toEqual({ out: meta([4, 2, 3]) });
    expect(add.shape!({ a: meta([2], 'int32'), b: meta([2], 'int32') }, p, ctx)).toEqual({ out: meta([2], 'int32') });
  });
  it('accepts unknown and symbolic dims', () => {
    expect(add.shape!({ a: meta([null, 3]), b: meta([4, 1]) }, p, ctx)).toEqual({ out: meta([4, 3]) });
    expect(add.shape!({ a: meta(['n', 3]), b: meta([1, 3]) }, p, ctx)).toEqual({ out: meta(['n', 3]) });
    expect(add.shape!({ a: meta(['n', 3]), b: meta([null, 3]) }, p, ctx)).toEqual({ out: meta(['n', 3]) });
  });
  it('rejects shapes that cannot broadcast, naming the operand', () => {
    expect(() => add.shape!({ a: meta([2, 3]), b: meta([4]) }, p, ctx)).toThrow(ShapeError);
    try {
      add.shape!({ a: meta([2, 3]), b: meta([3]), more: [meta([1]), meta([2, 2])] }, p, ctx);
      expect.fail('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(ShapeError);
      expect((e as ShapeError).pointer).toBe('/inputs/more/1');
    }
  });
  it('rejects mixed dtypes', () => {
    expect(() => add.shape!({ a: meta([2]), b: meta([2], 'int32') }, p, ctx)).toThrow(/dtypes differ/);
    expect(() => add.shape!({ a: meta([2]), b: meta([2]), more: [meta([2], 'int32')] }, p, ctx)).toThrow(ShapeError);
  });
  it('takes no params', () => {
    expect(() => params(add, { alpha: 1 })).toThrow(/additional/);
  });
});

for (const backend of testBackends()) {
  describe(`math.add on ${backend}`, () => {
    const cases: Array<[number[], number[], number[][]]> = [
      [[2, 3], [2, 3], []],
      [[2, 3], [3], []],
      [[2, 1, 4], [3, 1], []],
      [[], [2, 2], []],
      [[2, 3], [3], [[2, 1], [], [1, 2, 3]]],
    ];
    for (const [sa, sb, more] of cases) {
      it(`matches a float64 reference for ${JSON.stringify([sa, sb, ...more])} and leaks nothing`, async () => {
        await useBackend(backend);
        const before = tf.memory().numTensors;
        const refs = [sa, sb, ...more].map((s, i) => sequence(s, i + 1));
        const [ta, tb, ...tm] = refs.map((r) => tf.tensor(r.data, r.shape));
        const { out } = add.run({ a: ta, b: tb, more: more.length ? tm : undefined }, p, testContext()) as { out: tf.Tensor };
        const want = refs.slice(1).reduce((sum, r) => broadcastRef(sum, r, (x, y) => x + y), refs[0]);
        expectDenseClose(await denseOf(out), want);
        tf.dispose([ta, tb, ...tm, out]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
    it('adds int32 exactly and keeps int32', async () => {
      await useBackend(backend);
      const ta = tf.tensor2d([[1, -2], [3, 2 ** 30]], undefined, 'int32');
      const tb = tf.tensor1d([5, 7], 'int32');
      const { out } = add.run({ a: ta, b: tb }, p, testContext()) as { out: tf.Tensor };
      expect(out.dtype).toBe('int32');
      expect(await out.array()).toEqual([[6, 5], [8, 2 ** 30 + 7]]);
      tf.dispose([ta, tb, out]);
    });
    it('refuses mixed dtypes at run time too', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const ta = tf.tensor1d([1, 2]);
      const tb = tf.tensor1d([1, 2], 'int32');
      expect(() => add.run({ a: ta, b: tb }, p, testContext())).toThrow(ShapeError);
      tf.dispose([ta, tb]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
