import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { transpose } from '../../operators/math/transpose.js';
import { ShapeError } from '../../core/operator/index.js';
import type { Dim, DType } from '../../core/operator/index.js';
import { testContext } from '../helpers/context.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { denseOf, expectDenseClose, params, sequence, sizeOfShape, stridesOf, unravel } from '../helpers/dense-reference.js';
import type { Dense } from '../helpers/dense-reference.js';

const meta = (shape: Dim[], dtype: DType = 'float32') => ({ kind: 'tensor' as const, dtype, shape });
const ctx = { node: 'n', op: 'math.transpose', resolvePath: (p: string) => p };

/** Reference: out[i₀…i_{r−1}] = x[j] with j[perm[k]] = i_k. */
function refTranspose(x: Dense, perm: number[]): Dense {
  const shape = perm.map((axis) => x.shape[axis]);
  const strides = stridesOf(x.shape);
  const data: number[] = [];
  for (let i = 0; i < sizeOfShape(shape); i++) {
    const idx = unravel(i, shape);
    data.push(x.data[idx.reduce((flat, k, j) => flat + k * strides[perm[j]], 0)]);
  }
  return { shape, data };
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

describe('math.transpose shape inference', () => {
  it('reverses the axes by default and follows perm', () => {
    expect(transpose.shape!({ x: meta([2, 3, 4]) }, params(transpose), ctx)).toEqual({ out: meta([4, 3, 2]) });
    expect(transpose.shape!({ x: meta([2, 3, 4], 'int32') }, params(transpose, { perm: [1, 0, 2] }), ctx)).toEqual({ out: meta([3, 2, 4], 'int32') });
    expect(transpose.shape!({ x: meta([]) }, params(transpose), ctx)).toEqual({ out: meta([]) });
  });
  it('carries unknown and symbolic dims', () => {
    expect(transpose.shape!({ x: meta([null, 'n', 5], 'bool') }, params(transpose, { perm: [2, 0, 1] }), ctx)).toEqual({ out: meta([5, null, 'n'], 'bool') });
  });
  it('rejects a perm that is not a permutation of the axes, at /params/perm', () => {
    for (const perm of [[0, 0, 1], [0, 1], [0, 1, 3], [0, 1, 2, 3]]) {
      const e = shapeError(() => transpose.shape!({ x: meta([2, 3, 4]) }, params(transpose, { perm }), ctx));
      expect(e.pointer).toBe('/params/perm');
      expect(e.message).toMatch(/not a permutation/);
    }
  });
  it('rejects negative or fractional axes in the schema', () => {
    expect(() => params(transpose, { perm: [1, -1] })).toThrow(/perm/);
    expect(() => params(transpose, { perm: [0.5, 1] })).toThrow(/perm/);
  });
});

for (const backend of testBackends()) {
  describe(`math.transpose on ${backend}`, () => {
    const cases: Array<[number[], number[] | undefined]> = [[[3, 4], undefined], [[2, 3, 4], undefined], [[2, 3, 4], [1, 0, 2]], [[2, 3, 4, 5], [3, 1, 0, 2]], [[7], [0]]];
    for (const [shape, perm] of cases) {
      it(`matches the reference for ${JSON.stringify(shape)} perm ${JSON.stringify(perm)} and leaks nothing`, async () => {
        await useBackend(backend);
        const before = tf.memory().numTensors;
        const r = sequence(shape, 3);
        const x = tf.tensor(r.data, r.shape);
        const p = params(transpose, perm ? { perm } : {});
        const { out } = transpose.run({ x }, p, testContext()) as { out: tf.Tensor };
        expectDenseClose(await denseOf(out), refTranspose(r, perm ?? shape.map((_, i) => shape.length - 1 - i)), 0);
        tf.dispose([x, out]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
    it('keeps int32 and bool dtypes', async () => {
      await useBackend(backend);
      const xi = tf.tensor2d([[1, 2, 3]], undefined, 'int32');
      const xb = tf.tensor2d([[true, false]], undefined, 'bool');
      const { out: oi } = transpose.run({ x: xi }, params(transpose), testContext()) as { out: tf.Tensor };
      const { out: ob } = transpose.run({ x: xb }, params(transpose), testContext()) as { out: tf.Tensor };
      expect([oi.dtype, ob.dtype]).toEqual(['int32', 'bool']);
      expect(await oi.array()).toEqual([[1], [2], [3]]);
      expect(await ob.array()).toEqual([[1], [0]]);
      tf.dispose([xi, xb, oi, ob]);
    });
  });
}
