import { defineOperator, tensor, Type } from '../../core/operator/index.js';

/** out = α·x + β, element-wise; int32 input is promoted to float32. */
export const scale = defineOperator({
  id: 'math.scale',
  version: 1,
  summary: 'Affine map out = alpha·x + beta, element-wise',
  params: Type.Object(
    {
      alpha: Type.Number({ default: 1, description: 'Factor α multiplying every element.' }),
      beta: Type.Number({ default: 0, description: 'Offset β added after scaling.' }),
    },
    { additionalProperties: false },
  ),
  inputs: { x: tensor({ dtype: ['float32', 'int32'], doc: 'Input of any shape' }) },
  outputs: { out: tensor({ dtype: 'float32', doc: 'alpha·x + beta, the shape of x' }) },
  examples: [{ params: { alpha: 2, beta: -1 }, inputs: { x: { shape: [5] } } }],
  shape: ({ x }) => ({ out: x.shape! }),
  run: ({ x }, p, { tf }) => ({
    out: tf.tidy(() => tf.add(tf.mul(tf.cast(x, 'float32'), p.alpha), p.beta)),
  }),
});
