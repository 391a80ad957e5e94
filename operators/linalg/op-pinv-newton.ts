import { defineOperator, json, tensor, Type } from '../../core/operator/index.js';
import type { JsonValue } from '../../core/operator/index.js';
import { pinvNewton } from './pinv-newton.js';

/** A⁺ by Newton–Schulz V ← V(2I − AV) from V₀ = Aᵀ/(‖A‖₁‖A‖∞); see operators/linalg/pinv-newton.ts. */
export const pinvNewtonOp = defineOperator({
  id: 'linalg.pinv_newton',
  version: 1,
  summary: 'Moore–Penrose pseudo-inverse A⁺ by Newton–Schulz V ← V(2I − AV), V₀ = Aᵀ/(‖A‖₁‖A‖∞); batched over leading dims',
  description:
    'Converges to A⁺ (also for rank-deficient A) since α = 1/(‖A‖₁‖A‖∞) < 2/σ_max². Stops when the relative step ' +
    '‖ΔV‖_F/‖V‖_F ≤ tol or has stopped shrinking below √tol (float32 round-off floor); otherwise throws `not_converged` ' +
    'after max_iter. Iterations ≈ log₂(κ²·‖A‖₁‖A‖∞/σ_max²) + 5, κ the ratio of the largest to the smallest nonzero ' +
    'singular value. info.residual is ‖I − AV‖_F (→ √(m − rank) for rank-deficient A, since AA⁺ is a projector); ' +
    'info.projector_residual is ‖AVA − A‖_F/‖A‖_F. Batched values are the largest over the batch. ' +
    'NaN/Inf input throws `non_finite_input`.',
  params: Type.Object(
    {
      max_iter: Type.Integer({ minimum: 1, maximum: 10000, default: 100, description: 'Most iterations.' }),
      tol: Type.Number({ exclusiveMinimum: 0, default: 1e-6, description: 'Relative-step tolerance ‖ΔV‖_F/‖V‖_F.' }),
    },
    { additionalProperties: false },
  ),
  inputs: { a: tensor({ dtype: 'float32', rank: [2, 3, 4], doc: 'A, [..., m, n]' }) },
  outputs: {
    out: tensor({ dtype: 'float32', doc: 'A⁺, [..., n, m]' }),
    info: json({ doc: '{iterations, residual, projector_residual, step, stopped_by}' }),
  },
  examples: [{ inputs: { a: { shape: [6, 4] } } }],
  shape: ({ a }) => {
    const s = a.shape!;
    const r = s.length;
    return { out: [...s.slice(0, -2), s[r - 1], s[r - 2]], info: { kind: 'json' } };
  },
  run: async ({ a }, p, ctx) => {
    const { out, info } = await pinvNewton(ctx.tf, a, { maxIter: p.max_iter, tol: p.tol });
    ctx.note('iterations', info.iterations);
    ctx.note('residual', info.residual);
    return { out, info: info as unknown as Record<string, JsonValue> };
  },
});
