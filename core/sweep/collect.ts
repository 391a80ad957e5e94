/**
 * What a sweep keeps of each point's outputs: scalars as numbers, larger tensors as summaries
 * (shape, mean, std, min, max, Frobenius norm), json values as they are, claims as pass/value.
 */
import type { StoredValue } from '../cache/stored.js';
import type { JsonValue } from '../operator/values.js';

export type Collected = number | JsonValue | { shape: number[]; mean: number; std: number; min: number; max: number; norm: number };

export function collectValue(v: StoredValue): Collected {
  switch (v.kind) {
    case 'tensor': {
      const { data, shape } = v.tensor;
      if (data.length === 1) return data[0];
      let sum = 0;
      let sq = 0;
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < data.length; i++) {
        sum += data[i];
        sq += data[i] * data[i];
        min = Math.min(min, data[i]);
        max = Math.max(max, data[i]);
      }
      const mean = sum / data.length;
      return { shape, mean, std: Math.sqrt(Math.max(0, sq / data.length - mean * mean)), min, max, norm: Math.sqrt(sq) };
    }
    case 'json':
      return v.json;
    case 'table':
      return { rows: v.table.rows.length, last: (v.table.rows.at(-1) ?? null) as JsonValue };
    case 'tensors':
      return Object.fromEntries(Object.entries(v.tensors).map(([k, t]) => [k, t.shape])) as JsonValue;
  }
}

/** The number a CSV column shows for a collected value (a summary's mean; a claim's value). */
export function scalarOf(c: Collected | undefined): number | string {
  if (typeof c === 'number') return c;
  if (c && typeof c === 'object' && !Array.isArray(c)) {
    const o = c as Record<string, JsonValue>;
    if (typeof o.mean === 'number') return o.mean;
    if (typeof o.value === 'number') return o.value;
    if (typeof o.pass === 'boolean') return o.pass ? 1 : 0;
  }
  return c === undefined || c === null ? '' : JSON.stringify(c);
}
