/**
 * Sweep grids: `--grid width=64,256,1024 --grid seed=0..4` → the cartesian product of values, in a
 * stable order (first axis slowest).
 */
import { UsageError } from '../document/resolve-params.js';
import type { JsonValue } from '../operator/values.js';

export type Grid = Record<string, JsonValue[]>;
export type Point = Record<string, JsonValue>;

/** Parses `name=v1,v2,…` (each value JSON, else a string) with `a..b` for an integer range. */
export function parseGridArg(text: string): { name: string; values: JsonValue[] } {
  const eq = text.indexOf('=');
  const name = eq < 0 ? '' : text.slice(0, eq).trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || eq === text.length - 1) {
    throw new UsageError(`malformed --grid '${text}': expected name=v1,v2,… or name=a..b`);
  }
  const spec = text.slice(eq + 1).trim();
  const range = /^(-?\d+)\.\.(-?\d+)$/.exec(spec);
  if (range) {
    const [lo, hi] = [Number(range[1]), Number(range[2])];
    if (hi < lo) throw new UsageError(`--grid ${name}: empty range ${spec}`);
    return { name, values: Array.from({ length: hi - lo + 1 }, (_, i) => lo + i) };
  }
  return {
    name,
    values: spec.split(',').map((raw) => {
      try {
        return JSON.parse(raw) as JsonValue;
      } catch {
        return raw;
      }
    }),
  };
}

export function gridPoints(grid: Grid): Point[] {
  let points: Point[] = [{}];
  for (const [name, values] of Object.entries(grid)) {
    points = points.flatMap((p) => values.map((v) => ({ ...p, [name]: v })));
  }
  return points;
}
