/**
 * Helpers for static shape inference. Unknown (null) and symbolic dims are accepted where a
 * number would be checked: only a proven mismatch is an error, never a guess.
 */
import { ShapeError } from './errors.js';
import type { Dim, Shape } from './ports.js';
import { formatShape } from './values.js';

/** false only when the two dims are provably different. */
export function dimsMayMatch(a: Dim, b: Dim): boolean {
  if (a === null || b === null) return true;
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  return true;
}

/** The better-known of two dims that may match (a number beats a symbol beats null). */
export function mergeDim(a: Dim, b: Dim): Dim {
  if (typeof a === 'number') return a;
  if (typeof b === 'number') return b;
  return a ?? b;
}

/** Throws a ShapeError naming both sides when `a` and `b` cannot be equal. */
export function expectDim(a: Dim, b: Dim, what: string, pointer = ''): Dim {
  if (!dimsMayMatch(a, b)) throw new ShapeError(`${what}: ${a} ≠ ${b}`, pointer);
  return mergeDim(a, b);
}

export function expectRank(shape: Shape, rank: number | number[], what: string, pointer = ''): void {
  const ranks = Array.isArray(rank) ? rank : [rank];
  if (!ranks.includes(shape.length)) {
    throw new ShapeError(`${what} must have rank ${ranks.join(' or ')}, got ${formatShape(shape)}`, pointer);
  }
}

/** numpy broadcasting of two shapes; throws ShapeError when they cannot broadcast. */
export function broadcastShapes(a: Shape, b: Shape, what = 'operands'): Shape {
  const rank = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else if (!dimsMayMatch(da, db)) {
      throw new ShapeError(`${what} cannot broadcast: ${formatShape(a)} and ${formatShape(b)}`);
    } else out.push(mergeDim(da, db));
  }
  return out;
}

/** Normalises possibly negative axes against a rank, rejecting out-of-range ones. */
export function normalizeAxes(axes: number[], rank: number, pointer = '/params/axes'): number[] {
  return axes.map((axis) => {
    const a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) throw new ShapeError(`axis ${axis} is out of range for rank ${rank}`, pointer);
    return a;
  });
}

/** Non-negative, distinct axes to reduce over; absent means all of them. */
export function reductionAxes(axes: number[] | undefined, rank: number, pointer = '/params/axes'): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const resolved = normalizeAxes(axes, rank, pointer);
  if (new Set(resolved).size !== resolved.length) {
    throw new ShapeError(`axes ${JSON.stringify(axes)} name an axis twice (rank ${rank})`, pointer);
  }
  return resolved;
}
