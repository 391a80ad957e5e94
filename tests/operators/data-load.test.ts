import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpyHeader } from '../../core/io/npy.js';
import { OperatorError, ParamError } from '../../core/operator/index.js';
import { load } from '../../operators/data/load.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'data');
// ints.npy, fortran.npy and mask.npy were written by numpy.save:
//   ints.npy    int64 [[1, -2], [3, 4]]
//   fortran.npy float64 Fortran order [[0.5, 1.5, 2.5], [-1, -2, 1e-3]]
//   mask.npy    bool [True, False, False, True]

type P = Parameters<typeof load.run>[1];
const params = (p: Partial<P> & { path: string }): P => ({ format: 'auto', header: 'auto', ...p });
const staticCtx = (dir = FIXTURES) => {
  const { node, op, resolvePath } = testContext({ dir, op: 'data.load' });
  return { node, op, resolvePath };
};

describe('data.load shape inference', () => {
  const shape = (p: Partial<P> & { path: string }, dir?: string) => load.shape!({}, params(p), staticCtx(dir));
  it('reads the .npy header for dtype and shape', () => {
    expect(shape({ path: 'ints.npy' })).toEqual({ out: { kind: 'tensor', dtype: 'int32', shape: [2, 2] } });
    expect(shape({ path: 'fortran.npy' })).toEqual({ out: { kind: 'tensor', dtype: 'float32', shape: [2, 3] } });
    expect(shape({ path: 'mask.npy' })).toEqual({ out: { kind: 'tensor', dtype: 'bool', shape: [4] } });
    expect(shape({ path: 'ints.npy', dtype: 'float32' })).toEqual({ out: { kind: 'tensor', dtype: 'float32', shape: [2, 2] } });
  });
  it('parses json and csv files for their shape', () => {
    expect(shape({ path: 'matrix.json' })).toEqual({ out: { kind: 'tensor', dtype: 'float32', shape: [2, 3] } });
    expect(shape({ path: 'wrapped.json', dtype: 'int32' })).toEqual({ out: { kind: 'tensor', dtype: 'int32', shape: [3] } });
    expect(shape({ path: 'table.csv' })).toEqual({ out: { kind: 'tensor', dtype: 'float32', shape: [2, 2] } });
    expect(shape({ path: 'matrix.txt', format: 'csv' })).toEqual({ out: { kind: 'tensor', dtype: 'float32', shape: [2, 2] } });
  });
  it('returns the expected shape when given, without needing the file', () => {
    expect(shape({ path: 'matrix.json', shape: [null, 3] })).toEqual({ out: { kind: 'tensor', dtype: 'float32', shape: [null, 3] } });
    expect(shape({ path: 'later.csv', shape: [10, 2] })).toEqual({ out: { kind: 'tensor', dtype: 'float32', shape: [10, 2] } });
    // An unreadable .npy file leaves the dtype to the port.
    expect(shape({ path: 'later.npy', shape: [5] })).toEqual({ out: [5] });
  });
  it('leaves the shape unknown when the file cannot be read at plan time', () => {
    expect(shape({ path: 'missing.npy' })).toEqual({});
    expect(shape({ path: 'missing.json' })).toEqual({});
    expect(shape({ path: 'broken.json' })).toEqual({});
    expect(shape({ path: 'notnpy.npy' })).toEqual({});
  });
  it('refuses an extension it cannot place, and paths outside the allowed folders', () => {
    expect(() => shape({ path: 'data.bin' })).toThrow(ParamError);
    expect(() => shape({ path: 'data.bin' })).toThrow('cannot tell the format of data.bin from its extension');
    expect(() => shape({ path: '../../operators/math-matmul.test.ts', format: 'csv' })).toThrow(/path escapes/);
  });
});

describe('data.load fingerprint', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kf-load-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('is the sha256 of the file bytes and changes when the file does', () => {
    const file = path.join(dir, 'x.json');
    writeFileSync(file, '[1, 2, 3]');
    const p = params({ path: 'x.json' });
    const first = load.fingerprint!(p, staticCtx(dir));
    expect(first).toBe(createHash('sha256').update('[1, 2, 3]').digest('hex'));
    expect(load.fingerprint!(p, staticCtx(dir))).toBe(first);
    writeFileSync(file, '[1, 2, 4]');
    expect(load.fingerprint!(p, staticCtx(dir))).not.toBe(first);
  });
  it('names the problem for a file it cannot read, leaving the error to run', () => {
    expect(load.fingerprint!(params({ path: 'nope.npy' }), staticCtx(dir))).toBe('unreadable:ENOENT');
  });
});

for (const backend of testBackends()) {
  describe(`data.load on ${backend}`, () => {
    const ctx = () => testContext({ dir: FIXTURES, op: 'data.load' });
    /** Runs the operator and returns dtype, shape and values, disposing the tensor. */
    const run = async (p: Partial<P> & { path: string }) => {
      await useBackend(backend);
      const { out } = (await load.run({}, params(p), ctx())) as { out: tf.Tensor };
      const got = { dtype: out.dtype, shape: out.shape, values: await out.array() };
      out.dispose();
      return got;
    };
    /** The OperatorError a run throws. */
    const failure = async (p: Partial<P> & { path: string }) => {
      await useBackend(backend);
      const e = await Promise.resolve()
        .then(() => load.run({}, params(p), ctx()))
        .then(() => undefined, (err: unknown) => err);
      expect(e).toBeInstanceOf(OperatorError);
      return e as OperatorError;
    };

    it('loads .npy files written by numpy in their own dtype', async () => {
      expect(await run({ path: 'ints.npy' })).toEqual({ dtype: 'int32', shape: [2, 2], values: [[1, -2], [3, 4]] });
      expect(await run({ path: 'fortran.npy' })).toEqual({
        dtype: 'float32',
        shape: [2, 3],
        values: [[0.5, 1.5, 2.5], [-1, -2, Math.fround(1e-3)]],
      });
      expect(await run({ path: 'mask.npy' })).toEqual({ dtype: 'bool', shape: [4], values: [1, 0, 0, 1] });
    });
    it('converts dtypes on request', async () => {
      expect(await run({ path: 'ints.npy', dtype: 'float32' })).toEqual({ dtype: 'float32', shape: [2, 2], values: [[1, -2], [3, 4]] });
      expect(await run({ path: 'mask.npy', dtype: 'int32' })).toEqual({ dtype: 'int32', shape: [4], values: [1, 0, 0, 1] });
      expect(await run({ path: 'plain.csv', dtype: 'int32' })).toEqual({ dtype: 'int32', shape: [2, 3], values: [[1, 2, 3], [4, 5, 6]] });
      const e = await failure({ path: 'matrix.json', dtype: 'int32' });
      expect(e.code).toBe('dtype');
      expect(e.message).toBe('data.load: matrix.json: element 5 is 6.5, which is not an int32; cannot load as int32');
    });
    it('loads json: nested arrays and {"data": ...}', async () => {
      expect(await run({ path: 'matrix.json' })).toEqual({ dtype: 'float32', shape: [2, 3], values: [[1, 2, 3], [4, 5, 6.5]] });
      expect(await run({ path: 'wrapped.json' })).toEqual({ dtype: 'float32', shape: [3], values: [0.25, -1, 1000] });
    });
    it('loads csv with and without a header, and by explicit format', async () => {
      expect(await run({ path: 'table.csv' })).toEqual({ dtype: 'float32', shape: [2, 2], values: [[1, 2], [3.5, -4]] });
      expect(await run({ path: 'plain.csv' })).toEqual({ dtype: 'float32', shape: [2, 3], values: [[1, 2, 3], [4, 5, 6]] });
      expect(await run({ path: 'plain.csv', header: true })).toEqual({ dtype: 'float32', shape: [1, 3], values: [[4, 5, 6]] });
      expect(await run({ path: 'matrix.txt', format: 'csv' })).toEqual({ dtype: 'float32', shape: [2, 2], values: [[1, 2], [3, 4]] });
    });
    it('checks the expected shape, null matching any size', async () => {
      expect((await run({ path: 'matrix.json', shape: [null, 3] })).shape).toEqual([2, 3]);
      const e = await failure({ path: 'matrix.json', shape: [3, null] });
      expect(e.code).toBe('shape');
      expect(e.message).toBe('data.load: matrix.json holds an array of shape [2,3], expected [3,?]');
      expect((await failure({ path: 'wrapped.json', shape: [3, 1] })).code).toBe('shape');
    });
    it('reports missing and malformed files as io errors naming the path', async () => {
      const cases: Array<[Partial<P> & { path: string }, RegExp]> = [
        [{ path: 'missing.npy' }, /^data\.load: cannot read missing\.npy: no such file$/],
        [{ path: 'notnpy.npy' }, /^data\.load: notnpy\.npy is not a valid npy file: npy: bad magic/],
        [{ path: 'broken.json' }, /^data\.load: broken\.json is not a valid json file: .*JSON/],
        [{ path: 'ragged.json' }, /^data\.load: ragged\.json is not a valid json file: ragged array: \/1 has length 1, expected 2$/],
        [{ path: 'strings.json' }, /^data\.load: strings\.json is not a valid json file: \/1\/1 is "4", not a number$/],
        [{ path: 'bad.csv' }, /^data\.load: bad\.csv is not a valid csv file: csv: line 3, column 2 \("b"\): "n\/a" is not a number$/],
        [{ path: 'table.csv', header: false }, /^data\.load: table\.csv is not a valid csv file: csv: line 1, column 1: "x" is not a number$/],
        [{ path: 'plain.csv', format: 'npy' }, /^data\.load: plain\.csv is not a valid npy file: npy: bad magic/],
      ];
      for (const [p, message] of cases) {
        const e = await failure(p);
        expect(e.code, p.path).toBe('io');
        expect(e.message, p.path).toMatch(message);
      }
    });
    it('creates exactly one tensor and leaks nothing, also when it fails', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const { out } = (await load.run({}, params({ path: 'fortran.npy' }), ctx())) as { out: tf.Tensor };
      expect(tf.memory().numTensors).toBe(before + 1);
      out.dispose();
      await failure({ path: 'matrix.json', shape: [9] });
      await failure({ path: 'matrix.json', dtype: 'int32' });
      await failure({ path: 'bad.csv' });
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('data.load fixtures', () => {
  it('exercise int64 conversion and Fortran-order transposition', () => {
    expect(readNpyHeader(path.join(FIXTURES, 'ints.npy'))).toMatchObject({ sourceDtype: '<i8', fortranOrder: false });
    expect(readNpyHeader(path.join(FIXTURES, 'fortran.npy'))).toMatchObject({ sourceDtype: '<f8', fortranOrder: true });
    expect(readNpyHeader(path.join(FIXTURES, 'mask.npy'))).toMatchObject({ sourceDtype: '|b1' });
  });
});
