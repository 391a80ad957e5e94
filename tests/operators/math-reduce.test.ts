import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { reduce } from '../../operators/math/reduce.js';
import { ShapeError } from '../../core/operator/index.js';
import type { Dim, DType } from '../../core/operator/index.js';
import { testContext } from '../helpers/context.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { denseOf, expectDenseClose, params, sequence, sizeOfShape, stridesOf, unravel } from '../helpers/dense-reference.js';
import type { Dense } from '../helpers/dense-reference.js';

const meta = (shape: Dim[], dtype: DType = 'float32') => ({ kind: 'tensor' as const, dtype, shape });
const ctx = { node: 'n', op: 'math.reduce', resolvePath: (p: string) => p };
type Op = 'sum' | 'mean' | 'max' | 'min';

/** Reference: visit every element of x once, folding it into its output cell, in float64. */
function refReduce(x: Dense, op: Op, axes: number[] | undefined, keepdims: boolean): Dense {
  const rank = x.shape.length;
  const reduced = new Set((axes ?? x.shape.map((_, i) => i)).map((a) => (a < 0 ? a + rank : a)));
  const kept = x.shape.map((d, i) => (reduced.has(i) ? 1 : d));
  const outStrides = stridesOf(kept);
  const n = sizeOfShape(x.shape) / sizeOfShape(kept);
  const init = { sum: 0, mean: 0, max: -Infinity, min: Infinity }[op];
  const acc = new Array<number>(sizeOfShape(kept)).fill(init);
  for (let i = 0; i < x.data.length; i++) {
    const o = unravel(i, x.shape).reduce((flat, k, j) => flat + (reduced.has(j) ? 0 : k * outStrides[j]), 0);
    const v = x.data[i];
    acc[o] = op === 'max' ? Math.max(acc[o], v) : op === 'min' ? Math.min(acc[o], v) : acc[o] + v;
  }
  const data = op === 'mean' ? acc.map((s) => s / n) : acc;
  return { shape: keepdims ? kept : x.shape.filter((_, i) => !reduced.has(i)), data };
}

function shapeError(f: () => unknown): ShapeError {
  try {
    f();
  } catch (e) {
    if (e instanceof ShapeError) return e;
    throw e;
  }
  throw new Error('no ShapeError');
}

describe('math.reduce params and shape inference', () => {
  it('defaults to a sum over all axes', () => {
    expect(params(reduce)).toEqual({ op: 'sum', keepdims: false });
    expect(reduce.shape!({ x: meta([2, 3]) }, params(reduce), ctx)).toEqual({ out: meta([]) });
  });
  it('drops or keeps the reduced axes; negative axes count from the end', () => {
    expect(reduce.shape!({ x: meta([2, 3, 4]) }, params(reduce, { axes: [-1, 0] }), ctx)).toEqual({ out: meta([3]) });
    expect(reduce.shape!({ x: meta([2, 3, 4]) }, params(reduce, { axes: [1], keepdims: true }), ctx)).toEqual({ out: meta([2, 1, 4]) });
    expect(reduce.shape!({ x: meta([2, 3]) }, params(reduce, { axes: [] }), ctx)).toEqual({ out: meta([2, 3]) });
  });
  it('yields float32 for mean and the input dtype otherwise', () => {
    expect(reduce.shape!({ x: meta([2], 'int32') }, params(reduce, { op: 'mean' }), ctx)).toEqual({ out: meta([]) });
    expect(reduce.shape!({ x: meta([2], 'int32') }, params(reduce, { op: 'max' }), ctx)).toEqual({ out: meta([], 'int32') });
  });
  it('carries unknown and symbolic dims', () => {
    expect(reduce.shape!({ x: meta([null, 'n', 4]) }, params(reduce, { axes: [2] }), ctx)).toEqual({ out: meta([null, 'n']) });
  });
  it('rejects out-of-range and repeated axes at /params/axes', () => {
    for (const axes of [[2], [-3], [0, -2]]) {
      expect(shapeError(() => reduce.shape!({ x: meta([2, 3]) }, params(reduce, { axes }), ctx)).pointer).toBe('/params/axes');
    }
  });
  it('rejects an unknown op', () => {
    expect(() => params(reduce, { op: 'prod' })).toThrow(/op/);
  });
});

for (const backend of testBackends()) {
  describe(`math.reduce on ${backend}`, () => {
    const x = sequence([2, 3, 4], 9);
    for (const op of ['sum', 'mean', 'max', 'min'] as const) {
      for (const axes of [undefined, [1], [-1, 0], []]) {
        for (const keepdims of [false, true]) {
          it(`${op} over ${JSON.stringify(axes)} keepdims=${keepdims} matches float64 and leaks nothing`, async () => {
            await useBackend(backend);
            const before = tf.memory().numTensors;
            const t = tf.tensor(x.data, x.shape);
            const { out } = reduce.run({ x: t }, params(reduce, { op, axes, keepdims }), testContext()) as { out: tf.Tensor };
            expectDenseClose(await denseOf(out), refReduce(x, op, axes, keepdims), 1e-5);
            tf.dispose([t, out]);
            expect(tf.memory().numTensors).toBe(before);
          });
        }
      }
    }
    // tfjs-backend-webgpu 4.22 accumulates int32 sums in float32, so past 2^24 it rounds there.
    const big = backend === 'webgpu' ? 2 ** 20 + 1 : 2 ** 24 + 1;
    it(`sums int32 exactly as int32 (up to ${big}); mean of int32 is float32`, async () => {
      await useBackend(backend);
      const t = tf.tensor2d([[1, 2], [3, big]], undefined, 'int32');
      const { out: s } = reduce.run({ x: t }, params(reduce, { axes: [0] }), testContext()) as { out: tf.Tensor };
      const { out: m } = reduce.run({ x: t }, params(reduce, { op: 'mean', axes: [1] }), testContext()) as { out: tf.Tensor };
      expect(s.dtype).toBe('int32');
      expect(await s.array()).toEqual([4, big + 2]);
      expect(m.dtype).toBe('float32');
      expect(((await m.array()) as number[])[0]).toBe(1.5);
      tf.dispose([t, s, m]);
    });
  });
}
