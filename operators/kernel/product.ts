import { defineOperator, ShapeError, tensor, Type } from '../../core/operator/index.js';
import { sameShapes } from './combinators.js';

export const product = defineOperator({
  id: 'kernel.product',
  version: 1,
  summary: 'Product of kernels k = k₁ ⊙ k₂ ⊙ … (elementwise, same shape; PSD by the Schur product theorem)',
  params: Type.Object({}, { additionalProperties: false }),
  inputs: { k: tensor({ dtype: 'float32', rank: 2, variadic: true, doc: 'kernel matrices [n1, n2], one or more' }) },
  outputs: { k: tensor({ dtype: 'float32', doc: 'Π kᵢ [n1, n2]' }) },
  examples: [{ inputs: { k: [{ shape: [4, 3] }, { shape: [4, 3] }, { shape: [4, 3] }] } }],
  shape: ({ k }) => {
    if (k.length === 0) throw new ShapeError('kernel.product needs at least one term', '/inputs/k');
    const s = sameShapes(k);
    return s ? { k: s } : {};
  },
  run: ({ k }, _p, { tf }) => ({ k: tf.tidy(() => (k.length === 1 ? tf.clone(k[0]) : k.reduce((acc, t) => tf.mul(acc, t)))) }),
});
