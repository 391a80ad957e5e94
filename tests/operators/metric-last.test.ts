/**
 * metric.last: the value of a column in the last row of a metrics table that holds a finite number,
 * as a float32 scalar; shape inference checks the column when the table's columns are known.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { last } from '../../operators/metric/last.js';
import { OperatorError, ParamError } from '../../core/operator/index.js';
import { testContext } from '../helpers/context.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { params } from '../helpers/dense-reference.js';

const ctx = { node: 'n', op: 'metric.last', resolvePath: (p: string) => p };
const metrics = {
  columns: ['step', 'loss', 'feature_change', 'val_loss'],
  rows: [
    { step: 0, loss: 1, feature_change: 0, val_loss: 2 },
    { step: 10, loss: 0.5, feature_change: 0.125, val_loss: 1.5 },
    { step: 20, loss: 0.25, feature_change: 0.1875, val_loss: Number.NaN },
  ],
};

describe('metric.last shape inference and params', () => {
  it('gives a scalar; an unknown column is a ParamError when the columns are known', () => {
    expect(last.shape!({ metrics: { kind: 'table', columns: metrics.columns } }, params(last, { column: 'loss' }), ctx)).toEqual({ out: [] });
    expect(last.shape!({ metrics: { kind: 'table' } }, params(last, { column: 'anything' }), ctx)).toEqual({ out: [] });
    expect(() => last.shape!({ metrics: { kind: 'table', columns: metrics.columns } }, params(last, { column: 'nope' }), ctx)).toThrow(ParamError);
  });
  it('defaults to the loss column and rejects unknown params', () => {
    expect(params(last)).toEqual({ column: 'loss' });
    expect(() => params(last, { colum: 'loss' })).toThrow();
  });
});

for (const backend of testBackends()) {
  describe(`metric.last on ${backend}`, () => {
    it('reads the last finite value of the column and leaks nothing', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const read = async (column: string) => {
        const { out } = last.run({ metrics }, params(last, { column }), testContext()) as { out: tf.Tensor };
        expect(out.shape).toEqual([]);
        expect(out.dtype).toBe('float32');
        const v = (await out.data())[0];
        out.dispose();
        return v;
      };
      expect(await read('feature_change')).toBe(0.1875);
      expect(await read('loss')).toBe(0.25);
      expect(await read('step')).toBe(20);
      // the last row's NaN is skipped: the value of the row before
      expect(await read('val_loss')).toBe(1.5);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('metric.last errors', () => {
  it('an unknown column, or a column without a finite number, is an OperatorError', () => {
    const run = (m: typeof metrics, column: string) => last.run({ metrics: m }, params(last, { column }), testContext());
    expect(() => run(metrics, 'nope')).toThrow(/no column 'nope'/);
    const empty = { columns: ['step', 'loss'], rows: [{ step: 0, loss: Number.NaN }] } as unknown as typeof metrics;
    let err: unknown;
    try {
      run(empty, 'loss');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OperatorError);
    expect((err as OperatorError).code).toBe('empty');
  });
});
