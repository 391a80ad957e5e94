import { defineOperator, reductionAxes, tensor, Type } from '../../core/operator/index.js';

/** Reduction of x over `axes` by sum, mean, max or min (numpy semantics, incl. keepdims). */
export const reduce = defineOperator({
  id: 'math.reduce',
  version: 1,
  summary: 'Reduction out = op over axes of x, op ∈ {sum, mean, max, min}',
  description:
    'mean always yields float32; sum, max and min keep the dtype of x (the webgpu backend accumulates int32 sums in ' +
    'float32, exact only below 2^24). An empty `axes` list reduces nothing.',
  params: Type.Object(
    {
      op: Type.Union([Type.Literal('sum'), Type.Literal('mean'), Type.Literal('max'), Type.Literal('min')], {
        default: 'sum',
        description: 'The reduction.',
      }),
      axes: Type.Optional(
        Type.Array(Type.Integer(), { description: 'Axes to reduce; negative counts from the end. Absent: all axes.' }),
      ),
      keepdims: Type.Boolean({ default: false, description: 'Keep reduced axes as size 1.' }),
    },
    { additionalProperties: false },
  ),
  inputs: { x: tensor({ dtype: ['float32', 'int32'], doc: 'Input of any shape' }) },
  outputs: { out: tensor({ dtype: ['float32', 'int32'], doc: 'x reduced; float32 for mean, else the dtype of x' }) },
  examples: [{ params: { op: 'mean', axes: [0], keepdims: true }, inputs: { x: { shape: [4, 3] } } }],
  shape: ({ x }, p) => {
    const s = x.shape!;
    const axes = new Set(reductionAxes(p.axes, s.length));
    const shape = p.keepdims ? s.map((d, i) => (axes.has(i) ? 1 : d)) : s.filter((_, i) => !axes.has(i));
    return { out: { kind: 'tensor', dtype: p.op === 'mean' ? 'float32' : x.dtype, shape } };
  },
  run: ({ x }, p, { tf }) => {
    const axes = reductionAxes(p.axes, x.rank);
    const fn = { sum: tf.sum, mean: tf.mean, max: tf.max, min: tf.min }[p.op];
    return { out: fn(x, axes, p.keepdims) };
  },
});
