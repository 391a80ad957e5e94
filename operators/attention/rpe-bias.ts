import type { Tensor } from '@tensorflow/tfjs-core';
import { defineOperator, expectRank, ShapeError, tensor, Type } from '../../core/operator/index.js';
import type { TF } from '../../core/operator/index.js';

/** The Toeplitz matrix of relative-position logits: b[h, i, j] = rpe[h, (i − j) + N − 1], as [H, N, N]. */
export function toeplitzBias(tf: TF, rpe: Tensor, n: number): Tensor {
  const h = rpe.shape[0];
  const index = new Int32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) index[i * n + j] = i - j + n - 1;
  return tf.tidy(() => tf.reshape(tf.gather(rpe, tf.tensor1d(index, 'int32'), 1), [h, n, n]));
}

/** Relative-position logits as an additive attention bias, so softmax attention can use the same RPE. */
export const rpeBias = defineOperator({
  id: 'attention.rpe_bias',
  version: 1,
  summary: 'bias[0, h, i, j] = rpe[h, (i − j) + N − 1]: relative-position logits as an additive [1,H,N,N] attention bias',
  description:
    'The dense form of the relative positional encoding that attention.rpe_fft applies in O(N log N): feed it to ' +
    'attention.softmax (input `bias`) for exact softmax attention with RPE, the reference kernelised RPE attention approximates.',
  params: Type.Object({}, { additionalProperties: false }),
  inputs: { rpe: tensor({ dtype: 'float32', rank: 2, doc: 'relative position logits [H, 2N−1]' }) },
  outputs: { bias: tensor({ dtype: 'float32', rank: 4, doc: '[1,H,N,N]' }) },
  examples: [{ inputs: { rpe: { shape: [2, 7] } } }],
  shape: ({ rpe }) => {
    const [h, width] = rpe.shape!;
    expectRank(rpe.shape!, 2, 'rpe [H, 2N−1]', '/inputs/rpe');
    if (typeof width === 'number' && width % 2 !== 1) throw new ShapeError(`rpe must have 2N−1 (an odd number of) columns, got ${width}`, '/inputs/rpe');
    const n = typeof width === 'number' ? (width + 1) / 2 : null;
    return { bias: [1, h, n, n] };
  },
  run: ({ rpe }, _p, { tf }) => {
    const width = rpe.shape[1]!;
    if (width % 2 !== 1) throw new ShapeError(`rpe must have 2N−1 (an odd number of) columns, got ${width}`, '/inputs/rpe');
    const n = (width + 1) / 2;
    return { bias: tf.expandDims(toeplitzBias(tf, rpe, n), 0) };
  },
});
