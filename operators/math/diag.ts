import { defineOperator, expectDim, ShapeError, tensor, Type } from '../../core/operator/index.js';

/** The diagonal of (a batch of) square matrices, e.g. a kernel matrix's variances k(x, x). */
export const diag = defineOperator({
  id: 'math.diag',
  version: 1,
  summary: 'Diagonal out[..., i] = x[..., i, i] of square matrices x [..., n, n]',
  params: Type.Object({}, { additionalProperties: false }),
  inputs: { x: tensor({ dtype: ['float32', 'int32'], doc: 'square matrices [..., n, n]' }) },
  outputs: { out: tensor({ dtype: ['float32', 'int32'], doc: 'their diagonals [..., n]' }) },
  examples: [{ inputs: { x: { shape: [2, 3, 3] } } }],
  shape: ({ x }) => {
    const s = x.shape!;
    if (s.length < 2) throw new ShapeError(`x must be [..., n, n], got rank ${s.length}`, '/inputs/x');
    expectDim(s[s.length - 2], s[s.length - 1], 'x must be square in its last two axes', '/inputs/x');
    return { out: { kind: 'tensor', dtype: x.dtype, shape: s.slice(0, -1) } };
  },
  // A gather of the n·(batch) diagonal entries from the flattened matrices: exact for any values
  // (a product with the identity would turn ±Infinity off the diagonal into NaN).
  run: ({ x }, _p, { tf }) => {
    const n = x.shape[x.rank - 1];
    const batch = x.size / (n * n);
    const index = new Int32Array(batch * n);
    for (let b = 0; b < batch; b++) for (let i = 0; i < n; i++) index[b * n + i] = b * n * n + i * n + i;
    return { out: tf.reshape(tf.gather(tf.reshape(x, [-1]), tf.tensor1d(index, 'int32')), x.shape.slice(0, -1)) };
  },
});
