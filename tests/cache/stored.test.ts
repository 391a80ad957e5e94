import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  decodeResult,
  encodeResult,
  fingerprintTensor,
  fromStored,
  storedBytes,
  toStored,
  type StoredResult,
  type StoredTensor,
} from '../../core/cache/stored.js';
import { sha256Hex } from '../../core/io/hash.js';
import { testBackends, useBackend } from '../helpers/backends.js';

const f32 = (shape: number[], values: number[]): StoredTensor => ({ dtype: 'float32', shape, data: new Float32Array(values) });

for (const backend of testBackends()) {
  describe(`toStored/fromStored on ${backend}`, () => {
    it('round-trips every value kind and leaks nothing', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const a = tf.tensor2d([[1.5, -2], [3, 4]]);
      const b = tf.tensor1d([7, -8, 2147483647], 'int32');
      const c = tf.tensor1d([true, false, true], 'bool');
      const tensorValue = await toStored({ kind: 'tensor', tensor: a });
      const tensorsValue = await toStored({ kind: 'tensors', tensors: { b, c } });
      tf.dispose([a, b, c]);
      expect(tensorValue).toEqual({ kind: 'tensor', tensor: f32([2, 2], [1.5, -2, 3, 4]) });
      expect(tensorsValue).toEqual({
        kind: 'tensors',
        tensors: {
          b: { dtype: 'int32', shape: [3], data: new Int32Array([7, -8, 2147483647]) },
          c: { dtype: 'bool', shape: [3], data: new Uint8Array([1, 0, 1]) },
        },
      });
      expect(tf.memory().numTensors).toBe(before);

      const back = fromStored(tensorValue, tf);
      const backs = fromStored(tensorsValue, tf);
      if (back.kind !== 'tensor' || backs.kind !== 'tensors') throw new Error('wrong kind');
      expect(back.tensor.dtype).toBe('float32');
      expect(await back.tensor.array()).toEqual([[1.5, -2], [3, 4]]);
      expect(backs.tensors.b.dtype).toBe('int32');
      expect(await backs.tensors.b.array()).toEqual([7, -8, 2147483647]);
      expect(backs.tensors.c.dtype).toBe('bool');
      expect(await backs.tensors.c.array()).toEqual([1, 0, 1]);
      tf.dispose([back.tensor, ...Object.values(backs.tensors)]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('never shares buffers between the stored form and tensors', async () => {
      await useBackend(backend);
      const t = tf.tensor1d([1, 2, 3]);
      const stored = await toStored({ kind: 'tensor', tensor: t });
      if (stored.kind !== 'tensor') throw new Error('wrong kind');
      stored.tensor.data[0] = 100;
      expect((await t.data())[0]).toBe(1);
      const made = fromStored(stored, tf);
      if (made.kind !== 'tensor') throw new Error('wrong kind');
      stored.tensor.data[1] = 200;
      expect([...(await made.tensor.data())]).toEqual([100, 2, 3]);
      tf.dispose([t, made.tensor]);
    });
  });
}

describe('toStored/fromStored of tables and json', () => {
  it('copies tables and json values', async () => {
    const table = { columns: ['step', 'loss'], rows: [{ step: 1, loss: 0.5 }] };
    const stored = await toStored({ kind: 'table', table });
    table.rows[0].loss = 9;
    expect(stored).toEqual({ kind: 'table', table: { columns: ['step', 'loss'], rows: [{ step: 1, loss: 0.5 }] } });
    const json = { a: [1, 2] };
    const storedJson = await toStored({ kind: 'json', json });
    expect(fromStored(storedJson, tf)).toEqual({ kind: 'json', json: { a: [1, 2] } });
  });
});

describe('storedBytes', () => {
  it('counts tensor bytes and the JSON size of tables and json', () => {
    const result: StoredResult = {
      a: { kind: 'tensor', tensor: f32([3], [1, 2, 3]) },
      b: { kind: 'tensors', tensors: { x: { dtype: 'bool', shape: [5], data: new Uint8Array(5) }, y: { dtype: 'int32', shape: [2], data: new Int32Array(2) } } },
      c: { kind: 'json', json: { k: 'é' } },
    };
    // 12 + 5 + 8 bytes of tensors; {"k":"é"} is 10 bytes of UTF-8.
    expect(storedBytes(result)).toBe(12 + 5 + 8 + 10);
    expect(storedBytes({})).toBe(0);
  });
});

describe('encodeResult/decodeResult', () => {
  const sample = (): StoredResult => ({
    out: { kind: 'tensor', tensor: f32([2, 3], [0.1, -1, NaN, Infinity, 5, 6]) },
    parts: {
      kind: 'tensors',
      tensors: {
        mask: { dtype: 'bool', shape: [3], data: new Uint8Array([1, 0, 1]) },
        idx: { dtype: 'int32', shape: [1, 1], data: new Int32Array([-42]) },
        empty: { dtype: 'float32', shape: [0, 4], data: new Float32Array(0) },
      },
    },
    metrics: { kind: 'table', table: { columns: ['step', 'loss', 'tag'], rows: [{ step: 1, loss: NaN, tag: '\u0000odd' }, { step: 2, loss: -Infinity, tag: null }] } },
    info: { kind: 'json', json: { best: Infinity, name: '\u0000NaN', list: [1, 'two', null, true] } },
  });

  it('round-trips tensors, tables and json, non-finite numbers included', () => {
    expect(decodeResult(encodeResult(sample()))).toEqual(sample());
    expect(decodeResult(encodeResult({}))).toEqual({});
  });

  it('lays out a JSON header then 8-byte-aligned little-endian tensor bytes', () => {
    const bytes = encodeResult({
      a: { kind: 'tensor', tensor: { dtype: 'bool', shape: [3], data: new Uint8Array([1, 0, 1]) } },
      b: { kind: 'tensor', tensor: f32([1], [-2]) },
    });
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const headerLength = view.getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength)));
    const dataStart = Math.ceil((4 + headerLength) / 8) * 8;
    expect(header.ports.a.tensor).toEqual({ dtype: 'bool', shape: [3], offset: 0, length: 3 });
    expect(header.ports.b.tensor).toEqual({ dtype: 'float32', shape: [1], offset: 8, length: 4 });
    expect([...bytes.subarray(dataStart, dataStart + 3)]).toEqual([1, 0, 1]);
    // -2.0f = 0xc0000000
    expect([...bytes.subarray(dataStart + 8, dataStart + 12)]).toEqual([0, 0, 0, 0xc0]);
    expect(bytes.length).toBe(dataStart + 16);
  });

  it('decodes from a Node Buffer that is a view into a larger pool', () => {
    // Buffer.from copies small arrays into a shared pool, so byteOffset is usually not 0.
    const pooled = Buffer.concat([Buffer.alloc(3), Buffer.from(encodeResult(sample()))]).subarray(3);
    expect(decodeResult(pooled)).toEqual(sample());
  });

  it('copies tensor data out of the container', () => {
    const bytes = encodeResult({ a: { kind: 'tensor', tensor: f32([2], [1, 2]) } });
    const decoded = decodeResult(bytes);
    bytes.fill(0);
    expect(decoded.a).toEqual({ kind: 'tensor', tensor: f32([2], [1, 2]) });
  });

  it('says what is wrong with a malformed container', () => {
    const bytes = encodeResult(sample());
    expect(() => decodeResult(bytes.subarray(0, 2))).toThrow('stored: container too short (2 bytes)');
    expect(() => decodeResult(bytes.subarray(0, bytes.length - 8))).toThrow(/stored: tensor .* needs bytes/);
    const badLength = bytes.slice();
    new DataView(badLength.buffer).setUint32(0, 1e9, true);
    expect(() => decodeResult(badLength)).toThrow(/header length 1000000000 exceeds/);
    const badJson = bytes.slice();
    badJson[4] = 0x7d; // '}' where '{' was
    expect(() => decodeResult(badJson)).toThrow(/stored: unreadable header/);
    const lying = new TextEncoder().encode(JSON.stringify({ ports: { a: { kind: 'tensor', tensor: { dtype: 'float32', shape: [2], offset: 0, length: 4 } } } }));
    const container = new Uint8Array(8 + Math.ceil(lying.length / 8) * 8 + 8);
    new DataView(container.buffer).setUint32(0, lying.length, true);
    container.set(lying, 4);
    expect(() => decodeResult(container)).toThrow(/tensor a has an inconsistent entry/);
  });
});

describe('fingerprintTensor', () => {
  it('hashes dtype, shape and bytes', () => {
    const t = f32([2, 2], [1, 2, 3, 4]);
    const fp = fingerprintTensor(t);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprintTensor(f32([2, 2], [1, 2, 3, 4]))).toBe(fp);
    expect(fingerprintTensor(f32([4], [1, 2, 3, 4]))).not.toBe(fp);
    expect(fingerprintTensor(f32([2, 2], [1, 2, 3, 4.000001]))).not.toBe(fp);
    // Same 16 bytes read as int32.
    expect(fingerprintTensor({ dtype: 'int32', shape: [2, 2], data: new Int32Array(t.data.buffer) })).not.toBe(fp);
    // Whole-buffer vs. a view: only the view's bytes count.
    const big = new Float32Array([9, 1, 2, 3, 4, 9]);
    expect(fingerprintTensor({ dtype: 'float32', shape: [2, 2], data: big.subarray(1, 5) })).toBe(fp);
    expect(fp).not.toBe(sha256Hex(new Uint8Array(t.data.buffer)));
  });
});
