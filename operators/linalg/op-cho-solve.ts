import { defineOperator, tensor, Type } from '../../core/operator/index.js';
import { assertFinite } from './host.js';
import { blockSizeParam } from './op-cholesky.js';
import { solveShape } from './op-solve-triangular.js';
import { choSolve as solve } from './triangular.js';

/** X = A⁻¹B = L⁻ᵀ(L⁻¹B) from the Cholesky factor L of A, batched over leading dims. */
export const choSolveOp = defineOperator({
  id: 'linalg.cho_solve',
  version: 1,
  summary: 'Solves A·X = B given the lower Cholesky factor L of A (A = L·Lᵀ): X = L⁻ᵀ·L⁻¹·B',
  description:
    'Two blocked triangular solves (see linalg.solve_triangular). Pair with linalg.cholesky, whose info reports ' +
    'the jitter that was added to A.',
  params: Type.Object({ block_size: blockSizeParam }, { additionalProperties: false }),
  inputs: {
    l: tensor({ dtype: 'float32', rank: [2, 3, 4], doc: 'L, [..., n, n] lower Cholesky factor' }),
    b: tensor({ dtype: 'float32', rank: [1, 2, 3, 4], doc: 'B, [..., n, m] or [..., n]' }),
  },
  outputs: { x: tensor({ dtype: 'float32', doc: "X, B's shape" }) },
  examples: [{ inputs: { l: { shape: [8, 8], fill: 'spd' }, b: { shape: [8, 2] } } }],
  shape: ({ l, b }) => ({ x: solveShape(l.shape!, b.shape!, 'l') }),
  run: async ({ l, b }, p, { tf }) => {
    await assertFinite(tf, l, 'l', 'linalg.cho_solve');
    await assertFinite(tf, b, 'b', 'linalg.cho_solve');
    return { x: await solve(tf, l, b, { blockSize: p.block_size }) };
  },
});
