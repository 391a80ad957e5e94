/**
 * features/random — seeded draws shared by the random-feature operators and the empirical NTK.
 *
 * tfjs seeds its generator with `alea(String(seed))` and treats a falsy seed as "unseeded", so a
 * tag string (`"<seed>/<tag>"`) gives each random matrix of a node its own reproducible stream,
 * identical on every backend (the normals are drawn in JS).
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import type { TF } from '../../core/operator/index.js';
import { OperatorError, ShapeError } from '../../core/operator/index.js';
import type { Dim, TensorMeta } from '../../core/operator/index.js';

/** N(0, std²) draws of `shape` from the node seed and a tag naming the matrix (e.g. "w", "W0"). */
export function seededNormal(tf: TF, shape: number[], seed: number, tag: string, std = 1): Tensor {
  return tf.randomNormal(shape, 0, std, 'float32', `${seed}/${tag}` as unknown as number);
}

/** U[lo, hi) draws of `shape` from the node seed and a tag. */
export function seededUniform(tf: TF, shape: number[], seed: number, tag: string, lo: number, hi: number): Tensor {
  return tf.randomUniform(shape, lo, hi, 'float32', `${seed}/${tag}`);
}

/** Checks a given tensor's shape at run time (the shape function checks what it can statically). */
export function expectShape(t: Tensor, want: number[], what: string): void {
  if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
    throw new OperatorError('shape', `${what} must be [${want.join(',')}], got [${t.shape.join(',')}]`);
  }
}

/** Static check of an optional input's dims against expected ones (unknown dims pass). */
export function checkMeta(meta: TensorMeta | undefined, want: Dim[], what: string, pointer: string): void {
  if (!meta?.shape) return;
  if (meta.shape.length !== want.length) {
    throw new ShapeError(`${what} must have rank ${want.length}, got [${meta.shape.join(',')}]`, pointer);
  }
  meta.shape.forEach((d, i) => {
    const w = want[i];
    if (typeof d === 'number' && typeof w === 'number' && d !== w) {
      throw new ShapeError(`${what}: dim ${i} is ${d}, expected ${w}`, pointer);
    }
  });
}
