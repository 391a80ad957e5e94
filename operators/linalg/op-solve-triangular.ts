import { defineOperator, expectDim, ShapeError, tensor, Type } from '../../core/operator/index.js';
import type { Shape } from '../../core/operator/index.js';
import { assertFinite } from './host.js';
import { blockSizeParam } from './op-cholesky.js';
import { solveTriangular as solve } from './triangular.js';

/**
 * Checks T [..., n, n] against B [..., n, m] or [..., n] (one vector per matrix) and returns B's
 * shape with known dims merged in. Shared by the solve operators.
 */
export function solveShape(t: Shape, b: Shape, tName: string): Shape {
  const r = t.length;
  const n = expectDim(t[r - 2], t[r - 1], `${tName} must be square`, `/inputs/${tName}`);
  if (b.length !== r && b.length !== r - 1) {
    throw new ShapeError(`b must have rank ${r} ([..., n, m]) or ${r - 1} ([..., n]), got rank ${b.length}`, '/inputs/b');
  }
  const out = [...b];
  for (let i = 0; i < r - 2; i++) out[i] = expectDim(t[i], b[i], `batch dimension ${i} differs`, '/inputs');
  out[r - 2] = expectDim(n, b[r - 2], `rows of b must equal n`, '/inputs/b');
  return out;
}

/** X = op(T)⁻¹·B for triangular T (op = identity or transpose), blocked, batched over leading dims. */
export const solveTriangularOp = defineOperator({
  id: 'linalg.solve_triangular',
  version: 1,
  summary: 'Solves op(L)·X = B for triangular L (lower or upper, op = identity or transpose), many right-hand sides',
  description:
    'Blocked substitution: the b×b diagonal blocks are inverted on the host in float64, the block steps and updates ' +
    'are tf.matMul on the backend. Only the triangle named by `lower` is read. A zero diagonal entry throws ' +
    '`singular`; NaN/Inf input throws `non_finite_input`.',
  params: Type.Object(
    {
      lower: Type.Boolean({ default: true, description: 'L is lower triangular (else upper).' }),
      transpose: Type.Boolean({ default: false, description: 'Solve with Lᵀ.' }),
      block_size: blockSizeParam,
    },
    { additionalProperties: false },
  ),
  inputs: {
    l: tensor({ dtype: 'float32', rank: [2, 3, 4], doc: 'L, [..., n, n] triangular' }),
    b: tensor({ dtype: 'float32', rank: [1, 2, 3, 4], doc: 'B, [..., n, m] or [..., n]' }),
  },
  outputs: { x: tensor({ dtype: 'float32', doc: "X, B's shape" }) },
  examples: [{ inputs: { l: { shape: [8, 8], fill: 'spd' }, b: { shape: [8, 3] } } }],
  shape: ({ l, b }) => ({ x: solveShape(l.shape!, b.shape!, 'l') }),
  run: async ({ l, b }, p, { tf }) => {
    await assertFinite(tf, l, 'l', 'linalg.solve_triangular');
    await assertFinite(tf, b, 'b', 'linalg.solve_triangular');
    return { x: await solve(tf, l, b, { lower: p.lower, transpose: p.transpose, blockSize: p.block_size }) };
  },
});
