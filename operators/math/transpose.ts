import { defineOperator, ShapeError, tensor, Type } from '../../core/operator/index.js';

/** Checks that `perm` is a permutation of 0..rank−1; absent means the reversed axes. */
function resolvePerm(perm: number[] | undefined, rank: number): number[] {
  if (perm === undefined) return Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const sorted = [...perm].sort((x, y) => x - y);
  if (perm.length !== rank || sorted.some((axis, i) => axis !== i)) {
    throw new ShapeError(`perm ${JSON.stringify(perm)} is not a permutation of the ${rank} axes 0..${rank - 1}`, '/params/perm');
  }
  return perm;
}

/** out[i₀…] with axes reordered: out.shape[k] = x.shape[perm[k]] (numpy.transpose). */
export const transpose = defineOperator({
  id: 'math.transpose',
  version: 1,
  summary: 'Axis permutation out.shape[k] = x.shape[perm[k]]; default reverses the axes',
  params: Type.Object(
    {
      perm: Type.Optional(
        Type.Array(Type.Integer({ minimum: 0 }), {
          description: 'New order of the axes, a permutation of 0..rank−1. Absent: reverse the axes (matrix transpose for rank 2).',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  inputs: { x: tensor({ doc: 'Input of any rank and dtype' }) },
  outputs: { out: tensor({ dtype: ['float32', 'int32', 'bool'], doc: 'x with permuted axes, the dtype of x' }) },
  examples: [{ params: { perm: [1, 2, 0] }, inputs: { x: { shape: [2, 3, 4] } } }],
  shape: ({ x }, p) => {
    const s = x.shape!;
    const perm = resolvePerm(p.perm, s.length);
    return { out: { kind: 'tensor', dtype: x.dtype, shape: perm.map((axis) => s[axis]) } };
  },
  run: ({ x }, p, { tf }) => ({ out: tf.transpose(x, resolvePerm(p.perm, x.rank)) }),
});
