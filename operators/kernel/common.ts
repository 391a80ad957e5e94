/**
 * kernel/common — shared pieces of the classic kernels (inputs x1 [n1,d], x2? [n2,d] → k [n1,n2]):
 * the lengthscale schema (scalar or ARD), static shape inference, stable squared distances, and
 * the tiled evaluation (x2 absent = symmetric: upper triangle computed, exact diagonal).
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import type { TF } from '../../core/operator/context.js';
import type { Shape, TensorMeta } from '../../core/operator/index.js';
import { expectDim, expectRank, ShapeError, tensor, Type } from '../../core/operator/index.js';
import { assembleTiled, DEFAULT_TILE_ENTRIES, diagonalMask, type TiledOptions } from './tiling.js';

export const classicInputs = {
  x1: tensor({ dtype: 'float32', rank: 2, doc: 'x1 [n1, d]' }),
  x2: tensor({ dtype: 'float32', rank: 2, optional: true, doc: 'x2 [n2, d]; absent = x1 (symmetric, exact diagonal)' }),
} as const;
export const classicOutputs = { k: tensor({ dtype: 'float32', doc: 'kernel matrix [n1, n2]' }) } as const;

export const lengthscaleSchema = Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Array(Type.Number({ exclusiveMinimum: 0 }), { minItems: 1 })], {
  default: 1,
  description: 'Lengthscale ℓ > 0: one number, or one per input dimension (ARD)',
});
export const varianceSchema = Type.Number({ minimum: 0, default: 1, description: 'Signal variance σ² (k(x, x) for stationary kernels)' });
export const tileSchema = Type.Integer({ minimum: 1, default: DEFAULT_TILE_ENTRIES, description: 'Entries per tile (bounds temporaries)' });

/** k [n1, n2] from x1, x2?; checks feature counts and an ARD lengthscale's length. */
export function classicShape(x1: TensorMeta, x2: TensorMeta | undefined, lengthscale?: number | number[]): { k: Shape } {
  const s1 = x1.shape!;
  expectRank(s1, 2, 'x1', '/inputs/x1');
  let n2 = s1[0];
  if (x2?.shape) {
    expectRank(x2.shape, 2, 'x2', '/inputs/x2');
    expectDim(x2.shape[1], s1[1], 'x2 and x1 must have the same number of features', '/inputs/x2');
    n2 = x2.shape[0];
  }
  if (Array.isArray(lengthscale) && typeof s1[1] === 'number' && lengthscale.length !== s1[1]) {
    throw new ShapeError(`an ARD lengthscale needs one value per feature: ${lengthscale.length} given, x1 has ${s1[1]}`, '/params/lengthscale');
  }
  return { k: [s1[0], n2] };
}

/** x / ℓ (ℓ scalar or [d]). */
export function scaleBy(tf: TF, x: Tensor, lengthscale: number | number[]): Tensor {
  return Array.isArray(lengthscale) ? tf.div(x, tf.tensor1d(lengthscale)) : tf.div(x, lengthscale);
}

/**
 * Row tiles of f(a, b, diag) with a = x1 rows, b = x2 rows (x2 undefined = symmetric), after the
 * same per-row transform of both. `diag` marks the diagonal entries of a symmetric diagonal tile.
 */
export async function tiledPairwise(
  tf: TF,
  x1: Tensor,
  x2: Tensor | undefined,
  f: (a: Tensor, b: Tensor, diag: Tensor | null) => Tensor,
  options: TiledOptions = {},
): Promise<Tensor> {
  const symmetric = x2 === undefined;
  const xb = x2 ?? x1;
  const [n1, d] = x1.shape;
  const n2 = xb.shape[0];
  const [out] = await assembleTiled(
    tf,
    n1,
    n2,
    symmetric,
    1,
    (t) => {
      const a = tf.slice(x1, [t.r0, 0], [t.r1 - t.r0, d]);
      const b = tf.slice(xb, [t.c0, 0], [t.c1 - t.c0, d]);
      return [f(a, b, t.diagonal ? diagonalMask(tf, t.r1 - t.r0) : null)];
    },
    options,
  );
  return out;
}

/**
 * Centred and scaled copies of x1 and x2 (translation does not change distances; centring on x1's
 * mean removes most of the cancellation in ‖x‖² + ‖y‖² − 2x·y). The caller disposes them.
 */
export function centredScaled(tf: TF, x1: Tensor, x2: Tensor | undefined, lengthscale: number | number[]): [Tensor, Tensor | undefined] {
  return tf.tidy(() => {
    const mu = tf.mean(x1, 0, true);
    const a = scaleBy(tf, tf.sub(x1, mu), lengthscale);
    return [a, x2 ? scaleBy(tf, tf.sub(x2, mu), lengthscale) : undefined] as [Tensor, Tensor | undefined];
  });
}

/** ‖a_i − b_j‖² = ‖a_i‖² + ‖b_j‖² − 2a_i·b_j, clamped at 0, exactly 0 where `diag`. */
export function sqDist(tf: TF, a: Tensor, b: Tensor, diag: Tensor | null): Tensor {
  const na = tf.sum(tf.square(a), 1, true);
  const nb = tf.reshape(tf.sum(tf.square(b), 1), [1, b.shape[0]]);
  const d2 = tf.relu(tf.sub(tf.add(na, nb), tf.mul(tf.matMul(a, b, false, true), 2)));
  return diag ? tf.where(diag, tf.zerosLike(d2), d2) : d2;
}

/** Runs a distance-based kernel k = g(d²) with d² of the centred, ℓ-scaled inputs. */
export async function stationaryKernel(
  tf: TF,
  x1: Tensor,
  x2: Tensor | undefined,
  lengthscale: number | number[],
  g: (d2: Tensor) => Tensor,
  options: TiledOptions,
): Promise<Tensor> {
  const [a, b] = centredScaled(tf, x1, x2, lengthscale);
  try {
    return await tiledPairwise(tf, a, b, (ta, tb, diag) => g(sqDist(tf, ta, tb, diag)), options);
  } finally {
    tf.dispose(b ? [a, b] : [a]);
  }
}
