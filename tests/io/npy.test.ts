import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy, readNpyHeader } from '../../core/io/npy.js';

// ---- hand-built files, following the format spec byte by byte ----

/** magic, version, header length (u16 LE for v1, u32 LE for v2/v3), header padded to 64 with '\n', data. */
function npyFile(dict: string, data: Uint8Array, version = 1): Uint8Array {
  const lenBytes = version === 1 ? 2 : 4;
  const pre = 6 + 2 + lenBytes;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const header = dict + ' '.repeat(total - pre - dict.length - 1) + '\n';
  const out = new Uint8Array(total + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const hl = total - pre;
  if (lenBytes === 2) out.set([hl & 0xff, hl >> 8], 8);
  else out.set([hl & 0xff, (hl >> 8) & 0xff, (hl >> 16) & 0xff, hl >>> 24], 8);
  for (let i = 0; i < header.length; i++) out[pre + i] = header.charCodeAt(i);
  out.set(data, total);
  return out;
}

/** Raw element bytes written with DataView, in the given byte order. */
function raw(kind: 'f2' | 'f4' | 'f8' | 'i1' | 'u1' | 'i2' | 'u2' | 'i4' | 'u4' | 'i8' | 'u8', values: number[], little = true): Uint8Array {
  const size = Number(kind.slice(1));
  const buf = new Uint8Array(values.length * size);
  const v = new DataView(buf.buffer);
  values.forEach((x, i) => {
    const o = i * size;
    switch (kind) {
      case 'f2': v.setUint16(o, x, little); break; // x is the raw binary16 pattern
      case 'f4': v.setFloat32(o, x, little); break;
      case 'f8': v.setFloat64(o, x, little); break;
      case 'i1': v.setInt8(o, x); break;
      case 'u1': v.setUint8(o, x); break;
      case 'i2': v.setInt16(o, x, little); break;
      case 'u2': v.setUint16(o, x, little); break;
      case 'i4': v.setInt32(o, x, little); break;
      case 'u4': v.setUint32(o, x, little); break;
      case 'i8': v.setBigInt64(o, BigInt(x), little); break;
      case 'u8': v.setBigUint64(o, BigInt(x), little); break;
    }
  });
  return buf;
}

const dictOf = (descr: string, shape: string, fortran = false) =>
  `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }`;

describe('encodeNpy', () => {
  it('writes the exact bytes of a v1.0 file', () => {
    const bytes = encodeNpy({ dtype: 'float32', shape: [2], data: new Float32Array([1, -2]) });
    const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    // 10 preamble bytes + 118 header bytes = 128, a multiple of 64.
    expect([...bytes.subarray(0, 10)]).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
    expect(Buffer.from(bytes.subarray(10, 128)).toString('latin1')).toBe(dict.padEnd(117, ' ') + '\n');
    // 1.0f = 0x3f800000, -2.0f = 0xc0000000, little-endian.
    expect([...bytes.subarray(128)]).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
  });
  it('writes int32 as <i4 and bool as |b1 with 0/1 bytes', () => {
    // These dicts are 60+ characters, so the data starts at byte 128.
    const i = encodeNpy({ dtype: 'int32', shape: [1, 2], data: new Int32Array([-1, 258]) });
    const iHeader = Buffer.from(i.subarray(10, 128)).toString('latin1');
    expect(iHeader).toBe("{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2), }".padEnd(117, ' ') + '\n');
    expect([...i.subarray(128)]).toEqual([0xff, 0xff, 0xff, 0xff, 2, 1, 0, 0]);
    const b = encodeNpy({ dtype: 'bool', shape: [3], data: new Uint8Array([0, 7, 1]) });
    expect(Buffer.from(b.subarray(10, 128)).toString('latin1')).toMatch(/^\{'descr': '\|b1', 'fortran_order': False, 'shape': \(3,\), \} +\n$/);
    expect([...b.subarray(128)]).toEqual([0, 1, 1]);
  });
  it('writes a scalar with shape ()', () => {
    const s = encodeNpy({ dtype: 'float32', shape: [], data: new Float32Array([5]) });
    expect(Buffer.from(s.subarray(10, 128)).toString('latin1')).toContain("'shape': ()");
    expect([...s.subarray(128)]).toEqual([0, 0, 0xa0, 0x40]);
  });
  it('aligns the data to 64 bytes for any shape', () => {
    for (const shape of [[], [1], [123456789 % 7], [3, 4, 5], [10, 20, 30, 40, 1, 1]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const bytes = encodeNpy({ dtype: 'int32', shape, data: new Int32Array(n) });
      expect((bytes.length - n * 4) % 64).toBe(0);
      expect(bytes[bytes.length - n * 4 - 1]).toBe(0x0a);
    }
  });
  it('switches to version 2.0 when the header needs more than 65535 bytes', () => {
    const shape = new Array<number>(30000).fill(1);
    const bytes = encodeNpy({ dtype: 'float32', shape, data: new Float32Array([2.5]) });
    expect(bytes[6]).toBe(2);
    const decoded = decodeNpy(bytes);
    expect(decoded.shape).toEqual(shape);
    expect([...decoded.data]).toEqual([2.5]);
  });
  it('refuses data that does not fill the shape', () => {
    expect(() => encodeNpy({ dtype: 'float32', shape: [2, 2], data: new Float32Array(3) })).toThrow('needs 4 elements, data has 3');
  });
});

describe('decodeNpy', () => {
  it('reads <f8 into float32', () => {
    const values = [1.5, -2.25, 1e-3, 3];
    const d = decodeNpy(npyFile(dictOf('<f8', '(2, 2)'), raw('f8', values)));
    expect(d.dtype).toBe('float32');
    expect(d.sourceDtype).toBe('<f8');
    expect(d.shape).toEqual([2, 2]);
    expect(d.data).toBeInstanceOf(Float32Array);
    expect([...d.data]).toEqual(values.map(Math.fround));
  });
  it('reads <f2 (half precision)', () => {
    // 0x3c00 = 1, 0xc000 = -2, 0x3555 = 1365/4096, 0x0001 = 2^-24 (subnormal), 0x7c00 = +inf
    const d = decodeNpy(npyFile(dictOf('<f2', '(5,)'), raw('f2', [0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00])));
    expect([...d.data]).toEqual([1, -2, Math.fround(1365 / 4096), Math.fround(2 ** -24), Infinity]);
  });
  it('reads every integer width into int32', () => {
    const cases: Array<[string, Parameters<typeof raw>[0], number[]]> = [
      ['|i1', 'i1', [-128, 0, 127]],
      ['|u1', 'u1', [0, 200, 255]],
      ['<u1', 'u1', [1, 2, 3]],
      ['<i2', 'i2', [-32768, 5, 32767]],
      ['<u2', 'u2', [0, 40000, 65535]],
      ['<i4', 'i4', [-2147483648, -1, 2147483647]],
      ['<u4', 'u4', [0, 1, 2147483647]],
      ['<i8', 'i8', [-2147483648, -7, 2147483647]],
      ['<u8', 'u8', [0, 9, 2147483647]],
    ];
    for (const [descr, kind, values] of cases) {
      const d = decodeNpy(npyFile(dictOf(descr, '(3,)'), raw(kind, values)));
      expect(d.dtype, descr).toBe('int32');
      expect(d.data, descr).toBeInstanceOf(Int32Array);
      expect([...d.data], descr).toEqual(values);
    }
  });
  it('refuses integers outside the int32 range', () => {
    expect(() => decodeNpy(npyFile(dictOf('<i8', '(2,)'), raw('i8', [1, 2147483648])))).toThrow(
      "value 2147483648 at flat index 1 of '<i8' data is outside the int32 range",
    );
    expect(() => decodeNpy(npyFile(dictOf('<u4', '(1,)'), raw('u4', [4000000000])))).toThrow(/outside the int32 range/);
  });
  it('reads |b1 as 0/1 bytes', () => {
    const d = decodeNpy(npyFile(dictOf('|b1', '(2, 2)'), new Uint8Array([0, 1, 2, 0])));
    expect(d.dtype).toBe('bool');
    expect(d.data).toBeInstanceOf(Uint8Array);
    expect([...d.data]).toEqual([0, 1, 1, 0]);
  });
  it('byte-swaps big-endian data', () => {
    expect([...decodeNpy(npyFile(dictOf('>f4', '(2,)'), raw('f4', [0.5, -8], false))).data]).toEqual([0.5, -8]);
    expect([...decodeNpy(npyFile(dictOf('>i4', '(2,)'), raw('i4', [-5, 70000], false))).data]).toEqual([-5, 70000]);
    expect([...decodeNpy(npyFile(dictOf('>f8', '(1,)'), raw('f8', [0.1], false))).data]).toEqual([Math.fround(0.1)]);
  });
  it('transposes Fortran-ordered 2-D data to C order', () => {
    // The 2x3 matrix [[1,2,3],[4,5,6]] stored column by column.
    const d = decodeNpy(npyFile(dictOf('<f4', '(2, 3)', true), raw('f4', [1, 4, 2, 5, 3, 6])));
    expect(d.shape).toEqual([2, 3]);
    expect([...d.data]).toEqual([1, 2, 3, 4, 5, 6]);
  });
  it('transposes Fortran-ordered 3-D data to C order', () => {
    const [A, B, C] = [2, 3, 4];
    // Element (i,j,k) has value 100i+10j+k; Fortran puts it at i + A*j + A*B*k.
    const fortran = new Array<number>(A * B * C);
    const want: number[] = [];
    for (let i = 0; i < A; i++) for (let j = 0; j < B; j++) for (let k = 0; k < C; k++) {
      fortran[i + A * j + A * B * k] = 100 * i + 10 * j + k;
      want.push(100 * i + 10 * j + k);
    }
    const d = decodeNpy(npyFile(dictOf('<i4', '(2, 3, 4)', true), raw('i4', fortran)));
    expect([...d.data]).toEqual(want);
  });
  it('reads version 2.0 and 3.0 headers', () => {
    for (const version of [2, 3]) {
      const d = decodeNpy(npyFile(dictOf('<f4', '(3,)'), raw('f4', [1, 2, 3]), version));
      expect([...d.data]).toEqual([1, 2, 3]);
    }
  });
  it('reads scalars, empty arrays, Python 2 long shapes and reordered keys', () => {
    expect(decodeNpy(npyFile(dictOf('<f4', '()'), raw('f4', [7]))).shape).toEqual([]);
    const empty = decodeNpy(npyFile(dictOf('<f4', '(0, 3)'), new Uint8Array(0)));
    expect(empty.shape).toEqual([0, 3]);
    expect(empty.data.length).toBe(0);
    expect(decodeNpy(npyFile(dictOf('<i4', '(2L,)'), raw('i4', [1, 2]))).shape).toEqual([2]);
    const reordered = `{"shape": (1,), "fortran_order": False, "descr": "<i4"}`;
    expect([...decodeNpy(npyFile(reordered, raw('i4', [9]))).data]).toEqual([9]);
  });
  it('says what is wrong with a malformed file', () => {
    const good = npyFile(dictOf('<f4', '(4,)'), raw('f4', [1, 2, 3, 4]));
    const badMagic = good.slice();
    badMagic[1] = 0x58;
    expect(() => decodeNpy(badMagic)).toThrow('bad magic');
    expect(() => decodeNpy(new TextEncoder().encode('1,2,3\n'))).toThrow('bad magic');
    expect(() => decodeNpy(good.subarray(0, good.length - 4))).toThrow('truncated data: expected 16 bytes for shape (4) of \'<f4\', got 12');
    expect(() => decodeNpy(good.subarray(0, 40))).toThrow(/truncated header/);
    const extra = new Uint8Array(good.length + 4);
    extra.set(good);
    expect(() => decodeNpy(extra)).toThrow(/trailing bytes after the data: expected 16 bytes .* got 20/);
    const v9 = good.slice();
    v9[6] = 9;
    expect(() => decodeNpy(v9)).toThrow('unsupported format version 9.0');
    expect(() => decodeNpy(npyFile(dictOf('<c8', '(1,)'), new Uint8Array(8)))).toThrow("unsupported dtype '<c8'");
    expect(() => decodeNpy(npyFile(dictOf('<U3', '(1,)'), new Uint8Array(12)))).toThrow("unsupported dtype '<U3'");
    expect(() => decodeNpy(npyFile(dictOf('<f16', '(1,)'), new Uint8Array(16)))).toThrow("unsupported dtype '<f16'");
    const structured = "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }";
    expect(() => decodeNpy(npyFile(structured, new Uint8Array(4)))).toThrow(/unsupported dtype.*structured/);
    expect(() => decodeNpy(npyFile("{'descr': '<f4', 'shape': (1,)}", raw('f4', [1])))).toThrow("missing 'fortran_order'");
    expect(() => decodeNpy(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1,", raw('f4', [1])))).toThrow(/malformed header/);
    expect(() => decodeNpy(npyFile(dictOf('<f4', '(-1,)'), raw('f4', [1])))).toThrow(/'shape' must be a tuple/);
  });
});

describe('encodeNpy/decodeNpy round trip', () => {
  it('gives back dtype, shape and data', () => {
    const cases = [
      { dtype: 'float32' as const, shape: [2, 3], data: new Float32Array([0.1, -1e30, 3.5, NaN, Infinity, -0]) },
      { dtype: 'int32' as const, shape: [4, 1, 1], data: new Int32Array([2147483647, -2147483648, 0, 42]) },
      { dtype: 'bool' as const, shape: [2], data: new Uint8Array([1, 0]) },
      { dtype: 'float32' as const, shape: [0], data: new Float32Array(0) },
    ];
    for (const c of cases) {
      const d = decodeNpy(encodeNpy(c));
      expect(d.dtype).toBe(c.dtype);
      expect(d.shape).toEqual(c.shape);
      expect(d.data).toEqual(c.data);
    }
  });
});

describe('readNpyHeader', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kf-npy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('reads the header without the data', () => {
    // Claims a million elements but holds none: only a header-only reader can succeed.
    const file = path.join(dir, 'big.npy');
    writeFileSync(file, npyFile(dictOf('<i8', '(1000, 1000)'), new Uint8Array(0)));
    expect(readNpyHeader(file)).toMatchObject({ dtype: 'int32', shape: [1000, 1000], sourceDtype: '<i8', fortranOrder: false, dataOffset: 128 });
    expect(() => decodeNpy(readFileSync(file))).toThrow(/truncated data/);
  });
  it('reads v2 headers and reports bad files', () => {
    const file = path.join(dir, 'v2.npy');
    writeFileSync(file, npyFile(dictOf('>f8', '(3, 2)', true), raw('f8', [1, 2, 3, 4, 5, 6], false), 2));
    expect(readNpyHeader(file)).toMatchObject({ dtype: 'float32', shape: [3, 2], fortranOrder: true });
    const bad = path.join(dir, 'bad.npy');
    writeFileSync(bad, 'hello');
    expect(() => readNpyHeader(bad)).toThrow('bad magic');
    const short = path.join(dir, 'short.npy');
    writeFileSync(short, npyFile(dictOf('<f4', '(3,)'), new Uint8Array(0)).subarray(0, 30));
    expect(() => readNpyHeader(short)).toThrow(/truncated header/);
    expect(() => readNpyHeader(path.join(dir, 'absent.npy'))).toThrow(/ENOENT/);
  });
});

// ---- cross-check against numpy itself, when this machine has it ----

function hasNumpy(): boolean {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const numpy = hasNumpy();
if (!numpy) console.warn('npy.test: python3 with numpy not found; skipping the numpy cross-check (the hand-built byte tests above still run)');

describe.skipIf(!numpy)('numpy cross-check (needs python3 with numpy)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kf-npy-numpy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const py = (code: string) => execFileSync('python3', ['-c', code], { cwd: dir, encoding: 'utf8' });

  it('decodes what numpy.save writes', () => {
    py(`
import numpy as np
a = np.arange(24, dtype='<f8').reshape(2, 3, 4) / 7
np.save('f8.npy', a)
np.save('f8_fortran.npy', np.asfortranarray(a))
np.save('f4_be.npy', a.astype('>f4'))
np.save('i8.npy', (np.arange(6, dtype=np.int64) - 3).reshape(3, 2) * 1000003)
np.save('u1.npy', np.array([[0, 128, 255]], dtype=np.uint8))
np.save('b1.npy', np.array([True, False, True]))
np.save('scalar.npy', np.float32(2.5))
`);
    const want = Array.from({ length: 24 }, (_, i) => Math.fround(i / 7));
    for (const name of ['f8', 'f8_fortran', 'f4_be']) {
      const d = decodeNpy(readFileSync(path.join(dir, `${name}.npy`)));
      expect(d.shape, name).toEqual([2, 3, 4]);
      expect([...d.data], name).toEqual(want);
    }
    expect(readNpyHeader(path.join(dir, 'f8_fortran.npy')).fortranOrder).toBe(true);
    expect([...decodeNpy(readFileSync(path.join(dir, 'i8.npy'))).data]).toEqual([-3, -2, -1, 0, 1, 2].map((v) => v * 1000003));
    expect([...decodeNpy(readFileSync(path.join(dir, 'u1.npy'))).data]).toEqual([0, 128, 255]);
    expect(decodeNpy(readFileSync(path.join(dir, 'b1.npy')))).toMatchObject({ dtype: 'bool', shape: [3], data: new Uint8Array([1, 0, 1]) });
    expect(decodeNpy(readFileSync(path.join(dir, 'scalar.npy')))).toMatchObject({ shape: [], data: new Float32Array([2.5]) });
  });

  it('writes what numpy.load reads', () => {
    writeFileSync(path.join(dir, 'ours_f4.npy'), encodeNpy({ dtype: 'float32', shape: [2, 2], data: new Float32Array([0.25, -1, 3, 1e-7]) }));
    writeFileSync(path.join(dir, 'ours_i4.npy'), encodeNpy({ dtype: 'int32', shape: [3], data: new Int32Array([-7, 0, 2147483647]) }));
    writeFileSync(path.join(dir, 'ours_b1.npy'), encodeNpy({ dtype: 'bool', shape: [1, 2], data: new Uint8Array([0, 1]) }));
    writeFileSync(path.join(dir, 'ours_scalar.npy'), encodeNpy({ dtype: 'float32', shape: [], data: new Float32Array([4]) }));
    const out = JSON.parse(
      py(`
import json, numpy as np
r = {}
for n in ['ours_f4', 'ours_i4', 'ours_b1', 'ours_scalar']:
    a = np.load(n + '.npy')
    r[n] = {'dtype': a.dtype.str, 'shape': list(a.shape), 'values': a.tolist(), 'c': bool(a.flags.c_contiguous)}
print(json.dumps(r))
`),
    );
    expect(out.ours_f4).toEqual({ dtype: '<f4', shape: [2, 2], values: [[0.25, -1], [3, Math.fround(1e-7)]], c: true });
    expect(out.ours_i4).toEqual({ dtype: '<i4', shape: [3], values: [-7, 0, 2147483647], c: true });
    expect(out.ours_b1).toEqual({ dtype: '|b1', shape: [1, 2], values: [[false, true]], c: true });
    expect(out.ours_scalar).toEqual({ dtype: '<f4', shape: [], values: 4, c: true });
  });
});
