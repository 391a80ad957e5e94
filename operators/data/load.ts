import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  defineOperator,
  formatShape,
  OperatorError,
  ParamError,
  tensor,
  Type,
  type DType,
  type Shape,
  type Static,
  type TensorMeta,
} from '../../core/operator/index.js';
import { parseCsv } from '../../core/io/csv.js';
import { sha256FileSync } from '../../core/io/hash.js';
import { decodeNpy, readNpyHeader } from '../../core/io/npy.js';

const params = Type.Object(
  {
    path: Type.String({ minLength: 1, description: "File to read, relative to the graph's folder (or a --data-dir)." }),
    format: Type.Union([Type.Literal('auto'), Type.Literal('npy'), Type.Literal('json'), Type.Literal('csv')], {
      default: 'auto',
      description: "'auto' picks by extension: .npy, .json, .csv.",
    }),
    dtype: Type.Optional(
      Type.Union([Type.Literal('float32'), Type.Literal('int32')], {
        description: "Convert to this dtype. Default: the .npy file's own (integers → int32, bool stays bool), else float32.",
      }),
    ),
    shape: Type.Optional(
      Type.Array(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]), {
        description: 'Expected shape; null is any size. A file of another shape is an error.',
      }),
    ),
    header: Type.Union([Type.Literal('auto'), Type.Boolean()], {
      default: 'auto',
      description: "CSV only: whether the first row names the columns; 'auto' = when it is not all numbers.",
    }),
  },
  { additionalProperties: false },
);
type Params = Static<typeof params>;
type Format = 'npy' | 'json' | 'csv';
type Data = Float32Array | Int32Array | Uint8Array;

/** Loads a tensor from a .npy, .json or .csv file; the file's bytes are part of the cache key. */
export const load = defineOperator({
  id: 'data.load',
  version: 1,
  summary: 'Tensor read from a .npy (any numeric dtype, C or Fortran order), .json (nested array) or .csv (numeric table) file',
  description:
    'JSON files hold a (nested, rectangular) array of numbers, or {"data": [...]}. CSV files become a ' +
    '[rows, columns] matrix; quoting follows RFC 4180. .npy floats load as float32 and integers as int32 ' +
    '(an int64 value outside the int32 range is an error). Converting to int32 requires integral values.',
  params,
  inputs: {},
  outputs: { out: tensor({ dtype: ['float32', 'int32', 'bool'], doc: 'the array in the file' }) },
  examples: [{ description: 'a .npy file, from the repository root', params: { path: 'graphs/data/targets.npy' }, inputs: {} }],
  shape: (_inputs, p, ctx) => {
    const format = formatOf(p);
    const full = ctx.resolvePath(p.path, '/params/path');
    let fileDtype: DType | undefined;
    let fileShape: Shape | undefined;
    try {
      if (format === 'npy') {
        const header = readNpyHeader(full);
        fileDtype = header.dtype;
        fileShape = header.shape;
      } else if (!p.shape) {
        // json/csv have no header to peek at: parse the file (files read this way are small).
        fileShape = parse(format, readFileSync(full), p).shape;
      }
    } catch {
      // Unreadable at plan time (perhaps written by an earlier step): unknown here, reported by run.
    }
    const dtype = p.dtype ?? (format === 'npy' ? fileDtype : 'float32');
    const shape = p.shape ?? fileShape;
    if (!shape) return {};
    // Without a dtype (an unreadable .npy file) the port's default applies.
    return { out: dtype ? ({ kind: 'tensor', dtype, shape } satisfies TensorMeta) : shape };
  },
  fingerprint: (p, ctx) => {
    const full = ctx.resolvePath(p.path, '/params/path');
    try {
      return sha256FileSync(full);
    } catch (e) {
      // Let run report the problem; a fingerprint that names it keeps the key honest meanwhile.
      return `unreadable:${(e as NodeJS.ErrnoException).code ?? 'error'}`;
    }
  },
  run: async (_inputs, p, ctx) => {
    const format = formatOf(p);
    const full = ctx.resolvePath(p.path, '/params/path');
    let bytes: Uint8Array;
    try {
      bytes = await readFile(full);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'ENOENT' ? 'no such file' : err.message;
      throw new OperatorError('io', `data.load: cannot read ${p.path}: ${why}`, { path: full, code: err.code ?? null });
    }
    let loaded: { dtype: DType; shape: number[]; data: Data };
    try {
      loaded = parse(format, bytes, p);
    } catch (e) {
      throw new OperatorError('io', `data.load: ${p.path} is not a valid ${format} file: ${(e as Error).message}`, { path: full });
    }
    if (p.shape && !shapeMatches(loaded.shape, p.shape)) {
      throw new OperatorError('shape', `data.load: ${p.path} holds an array of shape ${formatShape(loaded.shape)}, expected ${formatShape(p.shape)}`, {
        path: full,
        shape: loaded.shape,
        expected: p.shape,
      });
    }
    const dtype = p.dtype ?? loaded.dtype;
    const data = convert(loaded.data, loaded.dtype, dtype, p.path);
    return { out: ctx.tf.tensor(data, loaded.shape, dtype) };
  },
});

function formatOf(p: Params): Format {
  if (p.format !== 'auto') return p.format;
  const ext = path.extname(p.path).toLowerCase();
  if (ext === '.npy' || ext === '.json' || ext === '.csv') return ext.slice(1) as Format;
  throw new ParamError(`cannot tell the format of ${p.path} from its extension: set format to npy, json or csv`, '/params/format');
}

/** Decodes a file's bytes into its natural dtype (json/csv: float32). Throws on malformed content. */
function parse(format: Format, bytes: Uint8Array, p: Params): { dtype: DType; shape: number[]; data: Data } {
  if (format === 'npy') return decodeNpy(bytes);
  const text = new TextDecoder('utf-8').decode(bytes);
  if (format === 'csv') {
    const { columns, rows } = parseCsv(text, { header: p.header });
    if (rows.length === 0 && !columns) throw new Error('the file holds no data');
    const width = columns?.length ?? rows[0].length;
    return { dtype: 'float32', shape: [rows.length, width], data: Float32Array.from(rows.flat()) };
  }
  const value: unknown = JSON.parse(text);
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  if (isObject && !('data' in value)) throw new Error('expected an array of numbers or an object with a "data" array');
  const root = isObject ? '/data' : '';
  const { shape, values } = nestedArray(isObject ? (value as { data: unknown }).data : value, root);
  return { dtype: 'float32', shape, data: Float32Array.from(values) };
}

/** Shape and C-order values of a rectangular nested array of numbers; errors name a JSON pointer. */
function nestedArray(value: unknown, root: string): { shape: number[]; values: number[] } {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) {
    shape.push(v.length);
    if (v.length === 0) break;
  }
  const values: number[] = [];
  const walk = (v: unknown, depth: number, pointer: string): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number') {
        throw new Error(Array.isArray(v) ? `ragged array: ${pointer || '/'} is an array where a number was expected` : `${pointer || '/'} is ${JSON.stringify(v)}, not a number`);
      }
      values.push(v);
      return;
    }
    if (!Array.isArray(v)) throw new Error(`ragged array: ${pointer || '/'} should be an array of length ${shape[depth]}, got ${JSON.stringify(v)}`);
    if (v.length !== shape[depth]) throw new Error(`ragged array: ${pointer || '/'} has length ${v.length}, expected ${shape[depth]}`);
    v.forEach((item, i) => walk(item, depth + 1, `${pointer}/${i}`));
  };
  walk(value, 0, root);
  return { shape, values };
}

function shapeMatches(actual: number[], expected: Array<number | null>): boolean {
  return actual.length === expected.length && expected.every((d, i) => d === null || d === actual[i]);
}

/** Converts to the requested dtype; to int32 only exactly (an integral value in the int32 range). */
function convert(data: Data, from: DType, to: DType, file: string): Data {
  if (from === to) return data;
  if (to === 'float32') return Float32Array.from(data);
  if (to === 'int32') {
    const out = new Int32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
        throw new OperatorError('dtype', `data.load: ${file}: element ${i} is ${v}, which is not an int32; cannot load as int32`, { index: i });
      }
      out[i] = v;
    }
    return out;
  }
  return Uint8Array.from(data, (v) => (v ? 1 : 0));
}
