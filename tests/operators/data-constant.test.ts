import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { constant } from '../../operators/data/constant.js';
import { ParamError } from '../../core/operator/index.js';
import { testContext } from '../helpers/context.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { params } from '../helpers/dense-reference.js';

const ctx = { node: 'n', op: 'data.constant', resolvePath: (p: string) => p };
const infer = (given: Record<string, unknown>) => constant.shape!({}, params(constant, given), ctx);

function paramError(f: () => unknown): ParamError {
  try {
    f();
  } catch (e) {
    if (e instanceof ParamError) return e;
    throw e;
  }
  throw new Error('no ParamError');
}

describe('data.constant params and shape inference', () => {
  it('infers the shape from the nesting; dtype defaults to float32', () => {
    expect(infer({ value: 2.5 })).toEqual({ out: { kind: 'tensor', dtype: 'float32', shape: [] } });
    expect(infer({ value: [1, 2, 3] })).toEqual({ out: { kind: 'tensor', dtype: 'float32', shape: [3] } });
    expect(infer({ value: [[[1], [2]], [[3], [4]], [[5], [6]]], dtype: 'int32' })).toEqual({ out: { kind: 'tensor', dtype: 'int32', shape: [3, 2, 1] } });
    expect(infer({ value: [] })).toEqual({ out: { kind: 'tensor', dtype: 'float32', shape: [0] } });
    expect(infer({ value: [[], []] })).toEqual({ out: { kind: 'tensor', dtype: 'float32', shape: [2, 0] } });
  });
  it('points at the first ragged row', () => {
    const ragged = paramError(() => infer({ value: [[1, 2], [3, 4], [5]] }));
    expect(ragged.pointer).toBe('/params/value/2');
    expect(ragged.message).toMatch(/ragged.*\[1\].*\[2\]/);
    expect(paramError(() => infer({ value: [[[1, 2]], [[3]]] })).pointer).toBe('/params/value/1');
    expect(paramError(() => infer({ value: [1, [2]] })).pointer).toBe('/params/value/1');
    expect(paramError(() => infer({ value: [[1], 2] })).pointer).toBe('/params/value/1');
  });
  it('requires int32 values to be integers in range', () => {
    expect(paramError(() => infer({ value: [[1, 2.5]], dtype: 'int32' })).pointer).toBe('/params/value/0/1');
    expect(paramError(() => infer({ value: 2 ** 31, dtype: 'int32' })).pointer).toBe('/params/value');
    expect(infer({ value: [-(2 ** 31), 2 ** 31 - 1], dtype: 'int32' }).out).toMatchObject({ shape: [2] });
  });
  it('rejects non-numbers, a missing value and unknown dtypes in the schema', () => {
    expect(() => params(constant, { value: [1, 'two'] })).toThrow(/value/);
    expect(() => params(constant, {})).toThrow(/value/);
    expect(() => params(constant, { value: 1, dtype: 'bool' })).toThrow(/dtype/);
  });
});

for (const backend of testBackends()) {
  describe(`data.constant on ${backend}`, () => {
    const cases: Array<[unknown, 'float32' | 'int32']> = [[-1.25, 'float32'], [[[1, 2, 3], [4.5, 5, 6]], 'float32'], [[[[7]], [[-8]]], 'int32'], [[], 'float32']];
    for (const [value, dtype] of cases) {
      it(`holds ${JSON.stringify(value)} as ${dtype} and leaks nothing`, async () => {
        await useBackend(backend);
        const before = tf.memory().numTensors;
        const p = params(constant, { value, dtype });
        const { out } = constant.run({}, p, testContext()) as { out: tf.Tensor };
        expect(out.dtype).toBe(dtype);
        expect(out.shape).toEqual((constant.shape!({}, p, ctx).out as { shape: number[] }).shape);
        expect(await out.array()).toEqual(value);
        out.dispose();
        expect(tf.memory().numTensors).toBe(before);
      });
    }
    it('refuses a ragged value at run time too', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      expect(() => constant.run({}, params(constant, { value: [[1, 2], [3]] }), testContext())).toThrow(ParamError);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
