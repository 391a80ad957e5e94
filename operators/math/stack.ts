import { defineOperator, expectDim, ShapeError, tensor, Type } from '../../core/operator/index.js';

/** Joins same-shaped tensors along a new axis: scalars → a vector, vectors → a matrix, … */
export const stack = defineOperator({
  id: 'math.stack',
  version: 1,
  summary: 'Stack same-shaped tensors along a new axis: out = [x₀, x₁, …] (scalars become a vector)',
  params: Type.Object(
    { axis: Type.Integer({ default: 0, description: 'Position of the new axis (negative counts from the end).' }) },
    { additionalProperties: false },
  ),
  inputs: { items: tensor({ dtype: ['float32', 'int32'], variadic: true, doc: 'tensors of one shape and dtype' }) },
  outputs: { out: tensor({ dtype: ['float32', 'int32'], doc: 'the items along the new axis' }) },
  examples: [{ params: { axis: 1 }, inputs: { items: [{ shape: [2, 3] }, { shape: [2, 3] }, { shape: [2, 3] }] } }],
  shape: ({ items }, p) => {
    if (items.length === 0) throw new ShapeError('needs at least one item', '/inputs/items');
    const first = items[0];
    const shape = [...first.shape!];
    items.forEach((item, i) => {
      if (item.dtype !== first.dtype) throw new ShapeError(`item ${i} is ${item.dtype}, item 0 is ${first.dtype}`, `/inputs/items/${i}`);
      if (item.shape!.length !== shape.length) throw new ShapeError(`item ${i} has rank ${item.shape!.length}, item 0 has rank ${shape.length}`, `/inputs/items/${i}`);
      item.shape!.forEach((d, j) => (shape[j] = expectDim(shape[j], d, `item ${i}, axis ${j}`, `/inputs/items/${i}`)));
    });
    const axis = p.axis < 0 ? p.axis + shape.length + 1 : p.axis;
    if (axis < 0 || axis > shape.length) throw new ShapeError(`axis ${p.axis} is out of range for rank ${shape.length + 1}`, '/params/axis');
    shape.splice(axis, 0, items.length);
    return { out: { kind: 'tensor', dtype: first.dtype, shape } };
  },
  run: ({ items }, p, { tf }) => ({ out: tf.stack(items, p.axis < 0 ? p.axis + items[0].rank + 1 : p.axis) }),
});
