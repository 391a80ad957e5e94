import { defineOperator, json, tensor, Type } from '../../core/operator/index.js';
import type { JsonValue } from '../../core/operator/index.js';
import type { Tensor2D } from '@tensorflow/tfjs-core';
import { cg as runCg } from './cg.js';
import { assertFinite } from './host.js';
import { solveShape } from './op-solve-triangular.js';
import { pivotedCholeskyPreconditioner } from './pivoted-cholesky.js';

export const precondShiftParam = Type.Union([Type.Literal('auto'), Type.Number({ exclusiveMinimum: 0 })], {
  default: 'auto',
  description:
    "s in P = Lk·Lkᵀ + s·I. A number (the known noise σ² of K + σ²I) factors A − s·I; 'auto' factors A and uses the " +
    'smallest residual diagonal left after k pivots.',
});

/** X = A⁻¹B by batched preconditioned conjugate gradients (all columns at once). */
export const cgOp = defineOperator({
  id: 'linalg.cg',
  version: 1,
  summary: 'Solves A·X = B for SPD A by batched preconditioned conjugate gradients (rank-k pivoted-Cholesky preconditioner)',
  description:
    'mBCG (Gardner et al. 2018): every column of B runs its own CG recurrence, one A·P product per iteration. ' +
    'Preconditioner P = Lk·Lkᵀ + s·I from a rank-`precond_rank` pivoted Cholesky, applied by Woodbury (0 = none). ' +
    'A column stops at recursive relative residual ≤ tol; info reports per column the iterations and the true final ' +
    'relative residual ‖b − Ax‖/‖b‖. A column above tol is reported (info.all_converged false, a warning), and is the ' +
    'error `cg_not_converged` when `strict`. A is [n, n]; B is [n, m] or [n].',
  params: Type.Object(
    {
      tol: Type.Number({ exclusiveMinimum: 0, default: 1e-4, description: 'Relative residual to stop at.' }),
      max_iter: Type.Integer({ minimum: 1, default: 1000 }),
      precond_rank: Type.Integer({ minimum: 0, default: 15, description: 'Pivoted-Cholesky rank k (0: no preconditioner).' }),
      precond_shift: precondShiftParam,
      strict: Type.Boolean({ default: false, description: 'Throw cg_not_converged instead of reporting.' }),
    },
    { additionalProperties: false },
  ),
  inputs: {
    a: tensor({ dtype: 'float32', rank: 2, doc: 'A, [n, n] symmetric positive definite' }),
    b: tensor({ dtype: 'float32', rank: [1, 2], doc: 'B, [n, m] or [n]' }),
  },
  outputs: {
    x: tensor({ dtype: 'float32', doc: "X, B's shape" }),
    info: json({ doc: '{iterations[], residual[], converged[], all_converged, max_iterations, precond_rank, precond_shift}' }),
  },
  examples: [{ params: { tol: 1e-5, precond_rank: 3 }, inputs: { a: { shape: [16, 16], fill: 'spd' }, b: { shape: [16, 2] } } }],
  shape: ({ a, b }) => ({ x: solveShape(a.shape!, b.shape!, 'a'), info: { kind: 'json' } }),
  run: async ({ a, b }, p, ctx) => {
    const { tf } = ctx;
    await assertFinite(tf, a, 'a', 'linalg.cg');
    await assertFinite(tf, b, 'b', 'linalg.cg');
    const n = a.shape[0];
    const b2 = tf.reshape(b, [n, -1]) as Tensor2D;
    const precond = p.precond_rank > 0
      ? await pivotedCholeskyPreconditioner(tf, a as Tensor2D, p.precond_rank, { shift: p.precond_shift })
      : undefined;
    try {
      const res = await runCg(tf, a as Tensor2D, b2, {
        tol: p.tol,
        maxIter: p.max_iter,
        precond,
        strict: p.strict,
        signal: ctx.signal,
      });
      const info: Record<string, JsonValue> = {
        iterations: res.iterations,
        residual: res.residual,
        converged: res.converged,
        all_converged: res.converged.every(Boolean),
        max_iterations: Math.max(0, ...res.iterations),
        precond_rank: precond?.rank ?? 0,
        precond_shift: precond?.shift ?? null,
      };
      ctx.note('cg_iterations', info.max_iterations);
      ctx.note('cg_residual', Math.max(0, ...res.residual));
      if (!info.all_converged) {
        ctx.note('cg_not_converged', true);
        ctx.warn(`linalg.cg: not converged to tol ${p.tol} in ${p.max_iter} iterations (worst residual ${Math.max(...res.residual).toExponential(2)})`);
      }
      const x = tf.reshape(res.x, b.shape);
      res.x.dispose();
      return { x, info };
    } finally {
      precond?.dispose();
      b2.dispose();
    }
  },
});
