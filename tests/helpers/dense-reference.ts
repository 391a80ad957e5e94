/**
 * Float64 references for operator tests: dense row-major arrays computed with plain loops, a
 * deterministic input generator, a tolerance check, and the params validation the engine does
 * (the engine's ajv over the operator's TypeBox schema, filling defaults).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import type { Operator } from '../../core/operator/index.js';
import { createAjv } from '../../core/document/ajv.js';

export interface Dense {
  shape: number[];
  data: number[];
}

export function sizeOfShape(shape: number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** Row-major strides. */
export function stridesOf(shape: number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Flat index → multi-index. */
export function unravel(index: number, shape: number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = index % shape[i];
    index = Math.floor(index / shape[i]);
  }
  return out;
}

/** Values in [-2, 2) that are exact float32 numbers (so the reference sees the tensor's inputs). */
export function sequence(shape: number[], seed: number): Dense {
  let state = seed >>> 0 || 1;
  const data = Array.from({ length: sizeOfShape(shape) }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0; // Numerical Recipes LCG
    return Math.fround((state / 2 ** 32) * 4 - 2);
  });
  return { shape, data };
}

/** numpy broadcasting of a binary function, element by element. */
export function broadcastRef(x: Dense, y: Dense, f: (p: number, q: number) => number): Dense {
  const rank = Math.max(x.shape.length, y.shape.length);
  const pad = (s: number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const sx = pad(x.shape);
  const sy = pad(y.shape);
  const shape = sx.map((d, i) => {
    if (d !== sy[i] && d !== 1 && sy[i] !== 1) throw new Error(`reference: cannot broadcast ${sx} and ${sy}`);
    return d === 1 ? sy[i] : d;
  });
  const tx = stridesOf(sx);
  const ty = stridesOf(sy);
  const data: number[] = [];
  for (let i = 0; i < sizeOfShape(shape); i++) {
    const idx = unravel(i, shape);
    let ix = 0;
    let iy = 0;
    idx.forEach((k, j) => {
      ix += (sx[j] === 1 ? 0 : k) * tx[j];
      iy += (sy[j] === 1 ? 0 : k) * ty[j];
    });
    data.push(f(x.data[ix], y.data[iy]));
  }
  return { shape, data };
}

/** Reads a tensor asynchronously: webgpu in Node cannot read synchronously (no OffscreenCanvas). */
export async function denseOf(t: tf.Tensor): Promise<Dense> {
  return { shape: t.shape, data: Array.from(await t.data()) };
}

/** Same shape, and every element within rtol·max(1, |want|) (exact when rtol = 0). */
export function expectDenseClose(got: Dense, want: Dense, rtol = 1e-6): void {
  expect(got.shape).toEqual(want.shape);
  expect(got.data.length).toBe(want.data.length);
  got.data.forEach((g, i) => {
    const w = want.data[i];
    if (Math.abs(g - w) > rtol * Math.max(1, Math.abs(w))) {
      expect.fail(`element ${i}: got ${g}, want ${w} (rtol ${rtol})`);
    }
  });
}

const ajv = createAjv();
const validators = new WeakMap<object, ReturnType<typeof ajv.compile>>();

/** Validates params as the engine does, defaults filled in; throws listing ajv's errors. */
export function params<P = any>(op: Operator, given: Record<string, unknown> = {}): P {
  let validate = validators.get(op.params);
  if (!validate) {
    validate = ajv.compile(op.params);
    validators.set(op.params, validate);
  }
  const copy = structuredClone(given);
  if (!validate(copy)) throw new Error(`invalid params: ${ajv.errorsText(validate.errors)}`);
  return copy as P;
}
