/**
 * The tensor-free form of node results, and its binary container. The cache holds and moves only
 * these: plain typed arrays, so it never owns a tfjs tensor and never needs a backend.
 *
 * Container layout: `u32 LE header length`, the header as UTF-8 JSON (kinds, dtypes, shapes,
 * offsets and lengths, and the table/json values themselves), zero padding to a multiple of 8, then
 * each tensor's raw little-endian bytes, each starting at a multiple of 8 from the data start.
 */
import { createHash } from 'node:crypto';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { DType, JsonValue, Table, TF, Value } from '../operator/index.js';

/** A tensor's dtype, shape and a private copy of its elements in C order (bool as 0/1 bytes). */
export interface StoredTensor {
  dtype: DType;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

/** A port value in stored form; mirrors `Value` with tensors replaced by StoredTensor. */
export type StoredValue =
  | { kind: 'tensor'; tensor: StoredTensor }
  | { kind: 'tensors'; tensors: Record<string, StoredTensor> }
  | { kind: 'table'; table: Table }
  | { kind: 'json'; json: JsonValue };

/** A node's results by output port name. */
export type StoredResult = Record<string, StoredValue>;

/** Reads a value's tensors into private typed arrays (copied: a backend may reuse its own buffer). */
export async function toStored(value: Value): Promise<StoredValue> {
  switch (value.kind) {
    case 'tensor':
      return { kind: 'tensor', tensor: await storeTensor(value.tensor) };
    case 'tensors': {
      const tensors: Record<string, StoredTensor> = {};
      for (const [name, t] of Object.entries(value.tensors)) tensors[name] = await storeTensor(t);
      return { kind: 'tensors', tensors };
    }
    case 'table':
      return { kind: 'table', table: structuredClone(value.table) };
    case 'json':
      return { kind: 'json', json: structuredClone(value.json) };
  }
}

async function storeTensor(t: Tensor): Promise<StoredTensor> {
  const dtype = t.dtype;
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') {
    throw new Error(`stored: cannot store a ${dtype} tensor (only float32, int32 and bool)`);
  }
  const data = (await t.data()) as Float32Array | Int32Array | Uint8Array;
  return { dtype, shape: [...t.shape], data: copyData(data) };
}

/** Makes tfjs tensors from a stored value with the given tfjs namespace; the caller owns them. */
export function fromStored(stored: StoredValue, tf: TF): Value {
  switch (stored.kind) {
    case 'tensor':
      return { kind: 'tensor', tensor: makeTensor(stored.tensor, tf) };
    case 'tensors': {
      const tensors: Record<string, Tensor> = {};
      try {
        for (const [name, t] of Object.entries(stored.tensors)) tensors[name] = makeTensor(t, tf);
      } catch (e) {
        tf.dispose(Object.values(tensors));
        throw e;
      }
      return { kind: 'tensors', tensors };
    }
    case 'table':
      return { kind: 'table', table: structuredClone(stored.table) };
    case 'json':
      return { kind: 'json', json: structuredClone(stored.json) };
  }
}

function makeTensor(t: StoredTensor, tf: TF): Tensor {
  // Copy: the CPU backend keeps the array it is given, and the cache keeps serving this one.
  return tf.tensor(copyData(t.data), t.shape, t.dtype);
}

/** A fresh typed array of the same type (never a Buffer, whose slice() would be a view). */
function copyData(data: StoredTensor['data']): StoredTensor['data'] {
  if (data instanceof Float32Array) return new Float32Array(data);
  if (data instanceof Int32Array) return new Int32Array(data);
  return new Uint8Array(data);
}

/** Payload size in bytes: tensor bytes plus the UTF-8 JSON size of tables and json values. */
export function storedBytes(result: StoredResult): number {
  let bytes = 0;
  for (const v of Object.values(result)) {
    if (v.kind === 'tensor') bytes += v.tensor.data.byteLength;
    else if (v.kind === 'tensors') for (const t of Object.values(v.tensors)) bytes += t.data.byteLength;
    else bytes += Buffer.byteLength(encodeJson(v.kind === 'table' ? v.table : v.json));
  }
  return bytes;
}

/** sha256 hex over the dtype, the shape and every byte of the data. */
export function fingerprintTensor(t: StoredTensor): string {
  const h = createHash('sha256');
  h.update(`${t.dtype}[${t.shape.join(',')}]\n`);
  h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return h.digest('hex');
}

// ---- binary container ----

interface TensorEntry {
  dtype: DType;
  shape: number[];
  offset: number;
  length: number;
}
type HeaderValue =
  | { kind: 'tensor'; tensor: TensorEntry }
  | { kind: 'tensors'; tensors: Record<string, TensorEntry> }
  | { kind: 'table'; table: Table }
  | { kind: 'json'; json: JsonValue };
interface Header {
  ports: Record<string, HeaderValue>;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const align8 = (n: number) => (n + 7) & ~7;

/** Serialises a result to the binary container described at the top of this file. */
export function encodeResult(result: StoredResult): Uint8Array {
  assertLittleEndianHost();
  const chunks: Array<{ offset: number; bytes: Uint8Array }> = [];
  let dataLength = 0;
  const entry = (t: StoredTensor): TensorEntry => {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const e = { dtype: t.dtype, shape: t.shape, offset: dataLength, length: bytes.length };
    chunks.push({ offset: dataLength, bytes });
    dataLength = align8(dataLength + bytes.length);
    return e;
  };
  const ports: Record<string, HeaderValue> = {};
  for (const [port, v] of Object.entries(result)) {
    if (v.kind === 'tensor') ports[port] = { kind: 'tensor', tensor: entry(v.tensor) };
    else if (v.kind === 'tensors') {
      const tensors: Record<string, TensorEntry> = {};
      for (const [name, t] of Object.entries(v.tensors)) tensors[name] = entry(t);
      ports[port] = { kind: 'tensors', tensors };
    } else ports[port] = v;
  }
  const header = new TextEncoder().encode(encodeJson({ ports } satisfies Header));
  const dataStart = align8(4 + header.length);
  const out = new Uint8Array(dataStart + dataLength);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  for (const c of chunks) out.set(c.bytes, dataStart + c.offset);
  return out;
}

/** Parses the binary container; throws an Error saying what is inconsistent in a malformed one. */
export function decodeResult(bytes: Uint8Array): StoredResult {
  assertLittleEndianHost();
  if (bytes.length < 4) throw new Error(`stored: container too short (${bytes.length} bytes)`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  if (4 + headerLength > bytes.length) throw new Error(`stored: header length ${headerLength} exceeds the ${bytes.length}-byte container`);
  let header: Header;
  try {
    header = decodeJson(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(4, 4 + headerLength))) as unknown as Header;
  } catch (e) {
    throw new Error(`stored: unreadable header: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || typeof header.ports !== 'object' || header.ports === null) {
    throw new Error('stored: header has no ports');
  }
  const dataStart = align8(4 + headerLength);
  const tensor = (e: TensorEntry, where: string): StoredTensor => {
    const validShape = Array.isArray(e?.shape) && e.shape.every((d) => Number.isSafeInteger(d) && d >= 0);
    const size = validShape ? e.shape.reduce((n, d) => n * d, 1) : NaN;
    const per = e?.dtype === 'bool' ? 1 : e?.dtype === 'float32' || e?.dtype === 'int32' ? 4 : NaN;
    if (!(size * per === e?.length) || !Number.isSafeInteger(e.offset) || e.offset < 0) {
      throw new Error(`stored: tensor ${where} has an inconsistent entry ${JSON.stringify(e)}`);
    }
    const start = dataStart + e.offset;
    if (start + e.length > bytes.length) {
      throw new Error(`stored: tensor ${where} needs bytes ${start}..${start + e.length}, container has ${bytes.length}`);
    }
    // Copy into a fresh, aligned buffer that does not pin the whole container. (Not slice(): on a
    // Node Buffer, which is what readFile gives, slice() is a view.)
    const raw = new Uint8Array(e.length);
    raw.set(bytes.subarray(start, start + e.length));
    const data = e.dtype === 'float32' ? new Float32Array(raw.buffer) : e.dtype === 'int32' ? new Int32Array(raw.buffer) : raw;
    return { dtype: e.dtype, shape: e.shape, data };
  };
  const result: StoredResult = {};
  for (const [port, v] of Object.entries(header.ports)) {
    if (v.kind === 'tensor') result[port] = { kind: 'tensor', tensor: tensor(v.tensor, port) };
    else if (v.kind === 'tensors') {
      const tensors: Record<string, StoredTensor> = {};
      for (const [name, e] of Object.entries(v.tensors)) tensors[name] = tensor(e, `${port}.${name}`);
      result[port] = { kind: 'tensors', tensors };
    } else if (v.kind === 'table' || v.kind === 'json') result[port] = v;
    else throw new Error(`stored: port ${port} has unknown kind ${JSON.stringify((v as { kind: unknown }).kind)}`);
  }
  return result;
}

function assertLittleEndianHost(): void {
  if (!HOST_LITTLE_ENDIAN) throw new Error('stored: big-endian hosts are not supported');
}

// JSON cannot hold NaN or ±Infinity, which metrics tables do hold (a diverged loss). They are written
// as strings marked by a leading NUL; a real string that starts with NUL gets one more NUL.
const MARK = '\u0000';
const NON_FINITE: Record<string, number> = { [`${MARK}NaN`]: NaN, [`${MARK}Infinity`]: Infinity, [`${MARK}-Infinity`]: -Infinity };

function encodeJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return MARK + String(v);
    if (typeof v === 'string' && v.startsWith(MARK)) return MARK + v;
    return v;
  });
}

function decodeJson(text: string): JsonValue {
  return JSON.parse(text, (_key, v: unknown) => {
    if (typeof v === 'string' && v.startsWith(MARK)) return v in NON_FINITE ? NON_FINITE[v] : v.slice(1);
    return v;
  }) as JsonValue;
}
