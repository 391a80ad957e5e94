/**
 * compareValues: the scale-aware tolerance, and the changes it reports instead of numbers
 * (shape, dtype, NaNs, structure of json and tables).
 */
import { describe, expect, it } from 'vitest';
import type { StoredValue } from '../../core/cache/stored.js';
import { compareValues } from '../../core/registry/compare-values.js';

const tensor = (data: number[], shape = [data.length], dtype: 'float32' | 'int32' = 'float32'): StoredValue => ({
  kind: 'tensor', tensor: { dtype, shape, data: dtype === 'float32' ? Float32Array.from(data) : Int32Array.from(data) },
});
const tol = { rtol: 1e-3, atol: 1e-6 };

describe('compareValues', () => {
  it('measures max abs and max abs relative to the largest magnitude', () => {
    const c = compareValues(tensor([100, 0.001, -2]), tensor([100.05, 0.002, -2]), tol);
    expect(c.maxAbs).toBeCloseTo(0.05, 4);
    expect(c.maxRel).toBeCloseTo(0.05 / 100.05, 6);
    // 0.05 ≤ 1e-6 + 1e-3·100.05: near-zero entries' relative error (100% here) does not matter.
    expect(c.within).toBe(true);
    expect(compareValues(tensor([1, 2]), tensor([1, 2.01]), tol).within).toBe(false);
  });

  it('reports a shape change without numbers, and a dtype change with them', () => {
    const shape = compareValues(tensor([1, 2, 3, 4], [2, 2]), tensor([1, 2, 3, 4], [4]), tol);
    expect(shape).toMatchObject({ within: false, maxAbs: null, shape: { a: [2, 2], b: [4] }, notes: ['shape [2,2] → [4]'] });
    const dtype = compareValues(tensor([1, 2]), tensor([1, 2], [2], 'int32'), tol);
    expect(dtype).toMatchObject({ within: false, maxAbs: 0, dtype: { a: 'float32', b: 'int32' }, notes: ['dtype float32 → int32'] });
  });

  it('matches NaN with NaN and counts NaNs present in one run only', () => {
    expect(compareValues(tensor([NaN, 1]), tensor([NaN, 1]), tol).within).toBe(true);
    const c = compareValues(tensor([NaN, 1, 2]), tensor([0, 1, NaN]), tol);
    expect(c).toMatchObject({ within: false, maxAbs: 0, notes: ['NaN in only one run at 2 element(s)'] });
  });

  it('compares json and tables by their numbers, and their text and keys exactly', () => {
    const json = (v: unknown): StoredValue => ({ kind: 'json', json: v as never });
    expect(compareValues(json({ pass: true, value: 0.5 }), json({ pass: true, value: 0.5000001 }), tol).within).toBe(true);
    expect(compareValues(json({ pass: true, value: 0.5 }), json({ pass: false, value: 0.5 }), tol)).toMatchObject({ within: false, notes: ['structure differs (keys, columns or non-numeric entries)'] });
    const table = (loss: number): StoredValue => ({ kind: 'table', table: { columns: ['step', 'loss'], rows: [{ step: 1, loss }] } });
    expect(compareValues(table(1), table(1.5), tol)).toMatchObject({ within: false, maxAbs: 0.5 });
    expect(compareValues(table(1), json({ columns: ['step', 'loss'], rows: [{ step: 1, loss: 1 }] }), tol).notes).toEqual(['kind table → json']);
  });
});
