import { defineOperator, expectDim, json, tensor, Type } from '../../core/operator/index.js';
import type { JsonValue } from '../../core/operator/index.js';
import { choleskyFactor } from './cholesky.js';

/** Jitter param shared by the factorising operators. */
export const jitterParam = Type.Union([Type.Literal('auto'), Type.Number({ minimum: 0 })], {
  default: 'auto',
  description:
    "'auto': try none, then 1e-6·mean(diag), ×10 per retry up to 1e-3·mean(diag); a number: add it once.",
});
export const blockSizeParam = Type.Integer({ minimum: 8, maximum: 1024, default: 128, description: 'Block size of the blocked algorithm.' });
export const innerBlockParam = Type.Integer({
  minimum: 1,
  maximum: 1024,
  default: 32,
  description:
    'Columns per float32 matmul in the trailing update, summed in float64 on the host (≤ block_size). Smaller is ' +
    'more accurate and slower: RBF GP mean error at n = 2000, σ² = 1e-4 was 4.0e-3 / 1.9e-3 / 8e-4 with 128 / 32 / 8.',
});

/**
 * A = L·Lᵀ, blocked right-looking Cholesky: trailing updates are tf.matMul on the backend, diagonal
 * blocks and panels are computed on the host in float64. Reads the lower triangle of A.
 */
export const choleskyOp = defineOperator({
  id: 'linalg.cholesky',
  version: 1,
  summary: 'Cholesky factor L of a symmetric positive definite A = L·Lᵀ, batched over leading dims, with a jitter policy',
  description:
    'Right-looking blocked Cholesky (block_size, default 128): each b×b diagonal block and its panel L21 = A21·L11⁻ᵀ ' +
    'are computed on the host in float64; the trailing update A22 −= L21·L21ᵀ (the O(n³) part) runs as tf.matMul, ' +
    'inner_block columns at a time, into a float64 trailing matrix. Only the lower triangle of A is read. ' +
    'Failure throws `not_psd` {row, jitterTried}; NaN/Inf input throws `non_finite_input`. ' +
    'info: {jitter_used, jitter_tried, n, block_size, inner_block, batch} (jitter_used is the largest over the batch; ' +
    'jitter_used_per_matrix is added for batched input).',
  params: Type.Object(
    { jitter: jitterParam, block_size: blockSizeParam, inner_block: innerBlockParam },
    { additionalProperties: false },
  ),
  inputs: { a: tensor({ dtype: 'float32', rank: [2, 3, 4], doc: 'A, [..., n, n] symmetric positive definite' }) },
  outputs: {
    l: tensor({ dtype: 'float32', doc: 'L, [..., n, n] lower triangular' }),
    info: json({ doc: '{jitter_used, jitter_tried, n, block_size, inner_block, batch, jitter_used_per_matrix?}' }),
  },
  examples: [{ inputs: { a: { shape: [12, 12], fill: 'spd' } } }],
  shape: ({ a }) => {
    const s = a.shape!;
    const n = expectDim(s[s.length - 2], s[s.length - 1], 'a must be square', '/inputs/a');
    return { l: [...s.slice(0, -2), n, n], info: { kind: 'json' } };
  },
  run: async ({ a }, p, ctx) => {
    const { l, infos, jitterUsed } = await choleskyFactor(ctx.tf, a, {
      jitter: p.jitter,
      blockSize: p.block_size,
      innerBlock: p.inner_block,
      signal: ctx.signal,
    });
    const worst = infos.reduce((x, y) => (y.jitter_used > x.jitter_used ? y : x));
    const info: Record<string, JsonValue> = {
      jitter_used: jitterUsed,
      jitter_tried: worst.jitter_tried,
      n: infos[0].n,
      block_size: p.block_size,
      inner_block: worst.inner_block,
      batch: infos.length,
    };
    if (infos.length > 1) info.jitter_used_per_matrix = infos.map((i) => i.jitter_used);
    ctx.note('jitter_used', jitterUsed);
    return { l, info };
  },
});
