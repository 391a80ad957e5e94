import { defineOperator, formatShape, ParamError, tensor, Type } from '../../core/operator/index.js';
import type { Static } from '../../core/operator/index.js';

const NestedNumbers = Type.Recursive((Self) => Type.Union([Type.Number(), Type.Array(Self)]), {
  description: 'A number (a scalar) or a rectangular nested array of numbers, e.g. [[1, 2], [3, 4]].',
});
type Nested = Static<typeof NestedNumbers>;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * The shape of a nested array, checking that it is rectangular and that every number fits the
 * dtype; ParamError at the JSON pointer of the first offending element.
 */
function constantShape(value: Nested, dtype: 'float32' | 'int32', pointer = '/params/value'): number[] {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ParamError(`${value} is not a finite number`, pointer);
    if (dtype === 'int32' && !(Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX)) {
      throw new ParamError(`${value} is not an int32 (dtype is int32)`, pointer);
    }
    return [];
  }
  if (value.length === 0) return [0];
  const inner = constantShape(value[0], dtype, `${pointer}/0`);
  for (let i = 1; i < value.length; i++) {
    const shape = constantShape(value[i], dtype, `${pointer}/${i}`);
    if (shape.length !== inner.length || shape.some((d, k) => d !== inner[k])) {
      throw new ParamError(
        `ragged array: ${pointer}/${i} has shape ${formatShape(shape)} but ${pointer}/0 has ${formatShape(inner)}`,
        `${pointer}/${i}`,
      );
    }
  }
  return [value.length, ...inner];
}

/** A tensor written in the graph: a number (a scalar) or a rectangular nested array. */
export const constant = defineOperator({
  id: 'data.constant',
  version: 1,
  summary: 'A literal tensor; its shape is the nesting of `value`',
  params: Type.Object(
    {
      value: NestedNumbers,
      dtype: Type.Union([Type.Literal('float32'), Type.Literal('int32')], {
        default: 'float32',
        description: 'Element type; int32 requires integers in the int32 range.',
      }),
    },
    { additionalProperties: false },
  ),
  inputs: {},
  outputs: { out: tensor({ dtype: ['float32', 'int32'], doc: 'The value, in the shape of its nesting' }) },
  examples: [{ params: { value: [[1, 2], [3, 4.5]] }, inputs: {} }],
  shape: (_inputs, p) => ({ out: { kind: 'tensor', dtype: p.dtype, shape: constantShape(p.value, p.dtype) } }),
  run: (_inputs, p, { tf }) => ({ out: tf.tensor(p.value, constantShape(p.value, p.dtype), p.dtype) }),
});
