import { defineOperator, expectDim, ShapeError, tensor, Type } from '../../core/operator/index.js';

/** C = op(A)·op(B) with op = transpose when asked; leading (batch) dims broadcast as in tf.matMul. */
export const matmul = defineOperator({
  id: 'math.matmul',
  version: 1,
  summary: "Matrix product C = op(A)·op(B), op(X) = Xᵀ when transpose_a/transpose_b is set; batched over leading dims",
  params: Type.Object(
    {
      transpose_a: Type.Boolean({ default: false, description: 'Use Aᵀ (last two axes swapped).' }),
      transpose_b: Type.Boolean({ default: false, description: 'Use Bᵀ (last two axes swapped).' }),
    },
    { additionalProperties: false },
  ),
  inputs: {
    a: tensor({ dtype: 'float32', rank: [2, 3, 4], doc: 'A, [..., m, k] (or [..., k, m] transposed)' }),
    b: tensor({ dtype: 'float32', rank: [2, 3, 4], doc: 'B, [..., k, n] (or [..., n, k] transposed)' }),
  },
  outputs: { out: tensor({ dtype: 'float32', doc: 'C, [..., m, n]' }) },
  examples: [{ params: { transpose_b: true }, inputs: { a: { shape: [3, 4] }, b: { shape: [5, 4] } } }],
  shape: ({ a, b }, p) => {
    const sa = a.shape!;
    const sb = b.shape!;
    if (sa.length !== sb.length) {
      throw new ShapeError(`a and b must have the same rank, got ${sa.length} and ${sb.length}`);
    }
    const r = sa.length;
    const [m, ka] = p.transpose_a ? [sa[r - 1], sa[r - 2]] : [sa[r - 2], sa[r - 1]];
    const [kb, n] = p.transpose_b ? [sb[r - 1], sb[r - 2]] : [sb[r - 2], sb[r - 1]];
    expectDim(ka, kb, `inner dimensions differ: a ${JSON.stringify(sa)} by b ${JSON.stringify(sb)}`, '/inputs');
    const batch = sa.slice(0, r - 2).map((d, i) => expectDim(d, sb[i], `batch dimension ${i} differs`, '/inputs'));
    return { out: [...batch, m, n] };
  },
  run: ({ a, b }, p, { tf }) => ({ out: tf.matMul(a, b, p.transpose_a, p.transpose_b) }),
});
