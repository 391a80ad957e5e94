/**
 * NumPy `.npy` files, format versions 1.0, 2.0 and 3.0
 * (reference: numpy/lib/format.py, https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
 *
 * Layout: magic `\x93NUMPY`, major and minor version bytes, header length (uint16 LE in v1, uint32
 * LE in v2/v3), then a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`
 * padded with spaces and ended by `\n` so that the data starts at a multiple of 64 bytes; then the
 * raw array bytes. No tfjs here.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** The engine's dtypes, which every .npy dtype we accept is converted to. */
export type NpyDType = 'float32' | 'int32' | 'bool';
/** Element storage per NpyDType: float32, int32, and bool as 0/1 bytes. */
export type NpyData = Float32Array | Int32Array | Uint8Array;

/** An array to write: C order, `data.length` = product of `shape`. Bool data holds 0/1 bytes. */
export interface NpyArray {
  dtype: NpyDType;
  shape: number[];
  data: NpyData;
}

/** A decoded array, converted to an engine dtype; `sourceDtype` is the file's descr, e.g. '<f8'. */
export interface DecodedNpy extends NpyArray {
  sourceDtype: string;
}

/** What the header says, without the data. `dtype` is what decoding will convert to. */
export interface NpyHeader {
  dtype: NpyDType;
  shape: number[];
  sourceDtype: string;
  fortranOrder: boolean;
  /** Byte offset of the array data in the file. */
  dataOffset: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const PREAMBLE = 10; // magic(6) + version(2) + v1 header length(2); v2/v3 have 2 more length bytes.
const ALIGN = 64;
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const DESCR: Record<NpyDType, string> = { float32: '<f4', int32: '<i4', bool: '|b1' };

/**
 * Encodes an array as .npy bytes: little-endian, C order, version 1.0 unless the header needs
 * more than 65535 bytes (then 2.0), header padded so the data starts at a multiple of 64 bytes.
 */
export function encodeNpy(array: NpyArray): Uint8Array {
  const { dtype, shape, data } = array;
  const count = shape.reduce((n, d) => n * d, 1);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`encodeNpy: invalid shape [${shape.join(',')}]`);
  if (data.length !== count) throw new Error(`encodeNpy: shape [${shape.join(',')}] needs ${count} elements, data has ${data.length}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let version = 1;
  let lengthBytes = 2;
  // +1 for the closing newline; numpy pads with at least one space as well.
  let total = roundUp(6 + 2 + lengthBytes + dict.length + 1, ALIGN);
  if (total - 6 - 2 - lengthBytes > 0xffff) {
    version = 2;
    lengthBytes = 4;
    total = roundUp(6 + 2 + lengthBytes + dict.length + 1, ALIGN);
  }
  const headerLength = total - 6 - 2 - lengthBytes;
  const header = dict.padEnd(headerLength - 1, ' ') + '\n';
  const itemSize = dtype === 'bool' ? 1 : 4;
  const out = new Uint8Array(total + count * itemSize);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (lengthBytes === 2) view.setUint16(8, headerLength, true);
  else view.setUint32(8, headerLength, true);
  for (let i = 0; i < header.length; i++) out[6 + 2 + lengthBytes + i] = header.charCodeAt(i);
  writeLittleEndian(data, dtype, out, total);
  return out;
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function writeLittleEndian(data: NpyData, dtype: NpyDType, out: Uint8Array, offset: number): void {
  if (dtype === 'bool') {
    // Normalise to 0/1: numpy reads any other byte as True but writes only 0/1.
    for (let i = 0; i < data.length; i++) out[offset + i] = data[i] ? 1 : 0;
    return;
  }
  if (HOST_LITTLE_ENDIAN) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset + offset);
  for (let i = 0; i < data.length; i++) {
    if (dtype === 'float32') view.setFloat32(i * 4, data[i], true);
    else view.setInt32(i * 4, data[i], true);
  }
}

/** Parses the preamble and header dict of .npy bytes (which may hold only the file's first bytes). */
export function parseNpyHeader(bytes: Uint8Array): NpyHeader {
  if (bytes.length < 6 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new Error('npy: bad magic: not a .npy file (expected the bytes \\x93NUMPY at the start)');
  }
  if (bytes.length < PREAMBLE) throw new Error(`npy: truncated header: file has only ${bytes.length} bytes`);
  const major = bytes[6];
  const minor = bytes[7];
  if (major < 1 || major > 3) throw new Error(`npy: unsupported format version ${major}.${minor} (1.0, 2.0 and 3.0 are supported)`);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) throw new Error(`npy: truncated header: file has only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = lengthBytes === 2 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lengthBytes;
  const dataOffset = start + headerLength;
  if (bytes.length < dataOffset) {
    throw new Error(`npy: truncated header: expected ${headerLength} header bytes, got ${bytes.length - start}`);
  }
  // v1/v2 headers are latin1; v3 allows UTF-8 (only for structured field names, which we refuse anyway).
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, dataOffset));
  let dict: unknown;
  try {
    dict = parsePythonLiteral(text);
  } catch (e) {
    throw new Error(`npy: malformed header ${JSON.stringify(text.trim())}: ${(e as Error).message}`);
  }
  if (typeof dict !== 'object' || dict === null || Array.isArray(dict)) {
    throw new Error(`npy: malformed header: expected a dict, got ${JSON.stringify(text.trim())}`);
  }
  const d = dict as Record<string, unknown>;
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!(key in d)) throw new Error(`npy: malformed header: missing '${key}'`);
  }
  if (typeof d.descr !== 'string') throw new Error(`npy: unsupported dtype ${JSON.stringify(d.descr)} (structured arrays are not supported)`);
  if (typeof d.fortran_order !== 'boolean') throw new Error(`npy: malformed header: 'fortran_order' must be True or False`);
  if (!Array.isArray(d.shape) || !d.shape.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)) {
    throw new Error(`npy: malformed header: 'shape' must be a tuple of non-negative integers`);
  }
  const { target } = describeDtype(d.descr);
  return { dtype: target, shape: d.shape as number[], sourceDtype: d.descr, fortranOrder: d.fortran_order, dataOffset };
}

interface DtypeInfo {
  target: NpyDType;
  kind: 'f' | 'i' | 'u' | 'b';
  size: number;
  little: boolean;
}

/** Maps a numpy descr ('<f8', '|u1', '>i2', ...) to how to read it; throws for anything else. */
function describeDtype(descr: string): DtypeInfo {
  const m = /^([<>|=]?)([fiub])(\d+)$/.exec(descr);
  const supported = "float ('<f2','<f4','<f8'), signed and unsigned integers of 1, 2, 4 or 8 bytes, bool ('|b1')";
  if (!m) throw new Error(`npy: unsupported dtype '${descr}' (supported: ${supported})`);
  const [, order, kind, sizeText] = m;
  const size = Number(sizeText);
  const ok =
    (kind === 'f' && [2, 4, 8].includes(size)) ||
    ((kind === 'i' || kind === 'u') && [1, 2, 4, 8].includes(size)) ||
    (kind === 'b' && size === 1);
  if (!ok) throw new Error(`npy: unsupported dtype '${descr}' (supported: ${supported})`);
  // '=' is the writer's native order; every platform numpy writes from today is little-endian.
  const little = order !== '>';
  const target: NpyDType = kind === 'f' ? 'float32' : kind === 'b' ? 'bool' : 'int32';
  return { target, kind: kind as DtypeInfo['kind'], size, little };
}

/**
 * Decodes .npy bytes into an engine dtype: floats to float32, integers to int32 (a value outside
 * the int32 range is an error), bool to 0/1 bytes. Fortran-ordered data is transposed to C order;
 * big-endian data is byte-swapped. Throws an Error that says what is wrong with a malformed file.
 */
export function decodeNpy(bytes: Uint8Array): DecodedNpy {
  const header = parseNpyHeader(bytes);
  const info = describeDtype(header.sourceDtype);
  const count = header.shape.reduce((n, d) => n * d, 1);
  const expected = count * info.size;
  const got = bytes.length - header.dataOffset;
  if (got !== expected) {
    const what = got < expected ? 'truncated data' : 'trailing bytes after the data';
    throw new Error(`npy: ${what}: expected ${expected} bytes for shape (${header.shape.join(', ')}) of '${header.sourceDtype}', got ${got}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + header.dataOffset, expected);
  let data = convert(view, info, count, header.sourceDtype);
  if (header.fortranOrder && header.shape.length > 1) data = fortranToC(data, header.shape);
  return { dtype: header.dtype, shape: header.shape, data, sourceDtype: header.sourceDtype };
}

function convert(view: DataView, info: DtypeInfo, count: number, descr: string): NpyData {
  const { kind, size, little } = info;
  if (little && HOST_LITTLE_ENDIAN && size === 4 && kind !== 'u') {
    // Fast path for the common '<f4'/'<i4': one copy into a fresh, aligned buffer.
    const raw = new Uint8Array(count * 4);
    raw.set(new Uint8Array(view.buffer, view.byteOffset, count * 4));
    return kind === 'f' ? new Float32Array(raw.buffer) : new Int32Array(raw.buffer);
  }
  if (kind === 'b') {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getUint8(i) ? 1 : 0;
    return out;
  }
  if (kind === 'f') {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      out[i] = size === 4 ? view.getFloat32(i * 4, little) : size === 8 ? view.getFloat64(i * 8, little) : halfToFloat(view.getUint16(i * 2, little));
    }
    return out;
  }
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const o = i * size;
    let v: number | bigint;
    if (size === 1) v = kind === 'i' ? view.getInt8(o) : view.getUint8(o);
    else if (size === 2) v = kind === 'i' ? view.getInt16(o, little) : view.getUint16(o, little);
    else if (size === 4) v = kind === 'i' ? view.getInt32(o, little) : view.getUint32(o, little);
    else v = kind === 'i' ? view.getBigInt64(o, little) : view.getBigUint64(o, little);
    if (v < -2147483648 || v > 2147483647) {
      throw new Error(`npy: value ${v} at flat index ${i} of '${descr}' data is outside the int32 range`);
    }
    out[i] = Number(v);
  }
  return out;
}

/** IEEE 754 binary16 to a JS number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Reorders column-major data to row-major for the same shape. */
function fortranToC<T extends NpyData>(data: T, shape: number[]): T {
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const rank = shape.length;
  const fStride: number[] = [];
  let s = 1;
  for (let k = 0; k < rank; k++) {
    fStride.push(s);
    s *= shape[k];
  }
  // Walk C order with an odometer over the multi-index, tracking the Fortran offset.
  const index = new Array<number>(rank).fill(0);
  let f = 0;
  for (let c = 0; c < data.length; c++) {
    out[c] = data[f];
    for (let k = rank - 1; k >= 0; k--) {
      index[k]++;
      f += fStride[k];
      if (index[k] < shape[k]) break;
      f -= fStride[k] * shape[k];
      index[k] = 0;
    }
  }
  return out;
}

/**
 * Reads only the header of a .npy file (synchronously: plan-time shape inference is synchronous).
 * Throws if the file cannot be read or is not a valid .npy file.
 */
export function readNpyHeader(path: string): NpyHeader {
  const fd = openSync(path, 'r');
  try {
    const pre = readUpTo(fd, 12, 0);
    // Let parseNpyHeader report bad magic / versions on the short read, then read the whole header.
    const major = pre[6];
    const lengthBytes = major === 1 ? 2 : 4;
    if (pre.length < 8 + lengthBytes || MAGIC.some((b, i) => pre[i] !== b) || major < 1 || major > 3) return parseNpyHeader(pre);
    const dv = new DataView(pre.buffer, pre.byteOffset, pre.byteLength);
    const headerLength = lengthBytes === 2 ? dv.getUint16(8, true) : dv.getUint32(8, true);
    return parseNpyHeader(readUpTo(fd, 8 + lengthBytes + headerLength, 0));
  } finally {
    closeSync(fd);
  }
}

function readUpTo(fd: number, length: number, position: number): Uint8Array {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}

/**
 * Parses the Python literal subset .npy headers use: dicts, tuples, lists, single- or double-quoted
 * strings, integers (with Python 2's `L` suffix), True, False and None. Tuples and lists become arrays.
 */
function parsePythonLiteral(text: string): unknown {
  let i = 0;
  const skip = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`${what} at character ${i}`);
  };
  const value = (): unknown => {
    skip();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      for (;;) {
        skip();
        if (text[i] === '}') { i++; return obj; }
        const key = value();
        if (typeof key !== 'string') fail('expected a string key');
        skip();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        obj[key as string] = value();
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail("expected ',' or '}'");
      }
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const items: unknown[] = [];
      for (;;) {
        skip();
        if (text[i] === close) { i++; return items; }
        items.push(value());
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(`expected ',' or '${close}'`);
      }
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail('unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    const m = /^(-?\d+)L?|^(True|False|None)\b/.exec(text.slice(i));
    if (!m) return fail(i >= text.length ? 'unexpected end' : `unexpected '${c}'`);
    i += m[0].length;
    if (m[1] !== undefined) return Number(m[1]);
    return m[2] === 'True' ? true : m[2] === 'False' ? false : null;
  };
  const result = value();
  skip();
  if (i < text.length) fail('unexpected text after the dict');
  return result;
}
