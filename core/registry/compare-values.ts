/**
 * Numeric comparison of two stored values (run A's and run B's). Values agree when
 * max|a−b| ≤ atol + rtol·scale, where scale is the largest magnitude in either value: float32
 * rounding grows with the size of what is summed, so elementwise relative error near zero says
 * nothing about agreement. NaN matches NaN; structure, shape or dtype changes never agree.
 */
import type { StoredTensor, StoredValue } from '../cache/stored.js';
import { canonicalJson } from '../io/hash.js';

export interface Tolerance {
  rtol: number;
  atol: number;
}

export interface Comparison {
  within: boolean;
  /** max|a−b| over all numbers; null when the values could not be lined up element by element. */
  maxAbs: number | null;
  /** maxAbs relative to the largest magnitude in either value. */
  maxRel: number | null;
  shape?: { a: number[]; b: number[] };
  dtype?: { a: string; b: string };
  /** What else differs, in words (shape, dtype, structure, NaNs). */
  notes: string[];
}

/** Numbers and layout extracted from a value, so every kind compares the same way. */
interface Flat {
  /** Everything but the numbers (kind, shapes, dtypes, keys, strings): must match exactly. */
  layout: string;
  numbers: ArrayLike<number>[];
  shape?: number[];
  dtype?: string;
}

export function compareValues(a: StoredValue, b: StoredValue, tol: Tolerance): Comparison {
  const fa = flatten(a);
  const fb = flatten(b);
  const notes: string[] = [];
  const result: Comparison = { within: true, maxAbs: null, maxRel: null, notes };
  if (fa.shape && fb.shape && canonicalJson(fa.shape) !== canonicalJson(fb.shape)) {
    result.shape = { a: fa.shape, b: fb.shape };
    notes.push(`shape [${fa.shape.join(',')}] → [${fb.shape.join(',')}]`);
  }
  if (fa.dtype && fb.dtype && fa.dtype !== fb.dtype) {
    result.dtype = { a: fa.dtype, b: fb.dtype };
    notes.push(`dtype ${fa.dtype} → ${fb.dtype}`);
  }
  if (fa.layout !== fb.layout) {
    if (!result.shape && !result.dtype) notes.push(a.kind !== b.kind ? `kind ${a.kind} → ${b.kind}` : 'structure differs (keys, columns or non-numeric entries)');
    return { ...result, within: false };
  }
  let maxAbs = 0;
  let scale = 0;
  let nanMismatches = 0;
  for (let part = 0; part < fa.numbers.length; part++) {
    const xs = fa.numbers[part];
    const ys = fb.numbers[part];
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i];
      const y = ys[i];
      if (Number.isNaN(x) || Number.isNaN(y)) {
        if (Number.isNaN(x) !== Number.isNaN(y)) nanMismatches++;
        continue;
      }
      if (x === y) {
        if (Number.isFinite(x)) scale = Math.max(scale, Math.abs(x));
        continue;
      }
      maxAbs = Math.max(maxAbs, Math.abs(x - y));
      scale = Math.max(scale, Math.abs(x), Math.abs(y));
    }
  }
  result.maxAbs = maxAbs;
  result.maxRel = maxAbs === 0 ? 0 : scale === 0 ? Infinity : maxAbs / scale;
  if (nanMismatches) notes.push(`NaN in only one run at ${nanMismatches} element(s)`);
  result.within = !result.dtype && nanMismatches === 0 && maxAbs <= tol.atol + tol.rtol * scale;
  return result;
}

function flatten(value: StoredValue): Flat {
  switch (value.kind) {
    case 'tensor':
      // dtype is compared on its own, so a dtype change still reports how far the values moved.
      return { layout: canonicalJson(['tensor', value.tensor.shape]), numbers: [value.tensor.data], shape: value.tensor.shape, dtype: value.tensor.dtype };
    case 'tensors': {
      const names = Object.keys(value.tensors).sort();
      return {
        layout: canonicalJson(['tensors', names.map((n) => [n, tensorLayout(value.tensors[n])])]),
        numbers: names.map((n) => value.tensors[n].data),
      };
    }
    case 'table':
    case 'json': {
      const numbers: number[] = [];
      const layout = canonicalJson([value.kind, skeleton(value.kind === 'table' ? value.table : value.json, numbers)]);
      return { layout, numbers: [numbers] };
    }
  }
}

function tensorLayout(t: StoredTensor): unknown {
  return { shape: t.shape, dtype: t.dtype };
}

// The value with each number replaced by a placeholder, collecting the numbers in order.
function skeleton(value: unknown, numbers: number[]): unknown {
  if (typeof value === 'number') {
    numbers.push(value);
    return '#';
  }
  if (Array.isArray(value)) return value.map((v) => skeleton(v, numbers));
  if (value && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return Object.fromEntries(keys.map((k) => [k, skeleton((value as Record<string, unknown>)[k], numbers)]));
  }
  return value;
}
