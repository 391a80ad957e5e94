import { defineOperator, expectDim, json, tensor, Type } from '../../core/operator/index.js';
import type { Tensor2D } from '@tensorflow/tfjs-core';
import { assertFinite } from './host.js';
import { precondShiftParam } from './op-cg.js';
import { logdetSlq as slq } from './slq.js';

/** Stochastic Lanczos quadrature estimate of log|A| (GPyTorch's BBMM); an estimate, never exact. */
export const logdetSlqOp = defineOperator({
  id: 'linalg.logdet_slq',
  version: 1,
  summary: 'Estimate of log|A| for SPD A by stochastic Lanczos quadrature on preconditioned CG (seeded probes)',
  description:
    'log|A| ≈ log|P| + (1/t)·Σᵢ ‖zᵢ‖²_{P⁻¹}·e₁ᵀ log(Tᵢ) e₁ with zᵢ ~ N(0, P) drawn from the node seed and Tᵢ the ' +
    'Lanczos tridiagonal rebuilt from probe i’s CG coefficients (Gardner et al. 2018). The output is an estimate: ' +
    'info.estimate is true and info.stderr is the standard error over probes. Typical error in float32: 0.2–3% ' +
    '(shared/reference/gp.md). Use linalg.logdet for the exact value when a Cholesky fits.',
  params: Type.Object(
    {
      num_probes: Type.Integer({ minimum: 1, default: 10 }),
      max_iter: Type.Integer({ minimum: 1, default: 50, description: 'Lanczos (CG) steps per probe.' }),
      tol: Type.Number({ exclusiveMinimum: 0, default: 1e-5, description: 'CG stops a probe early at this relative residual.' }),
      precond_rank: Type.Integer({ minimum: 0, default: 15 }),
      precond_shift: precondShiftParam,
    },
    { additionalProperties: false },
  ),
  inputs: { a: tensor({ dtype: 'float32', rank: 2, doc: 'A, [n, n] symmetric positive definite' }) },
  outputs: {
    out: tensor({ dtype: 'float32', doc: 'estimate of log|A|, scalar' }),
    info: json({ doc: '{estimate: true, logdet, stderr, num_probes, seed, iterations[], precond_rank, precond_shift, logdet_precond}' }),
  },
  examples: [{ params: { num_probes: 4, precond_rank: 0 }, inputs: { a: { shape: [16, 16], fill: 'spd' } } }],
  stochastic: true,
  shape: ({ a }) => {
    const s = a.shape!;
    expectDim(s[0], s[1], 'a must be square', '/inputs/a');
    return { out: [], info: { kind: 'json' } };
  },
  run: async ({ a }, p, ctx) => {
    const { tf } = ctx;
    await assertFinite(tf, a, 'a', 'linalg.logdet_slq');
    const res = await slq(tf, a as Tensor2D, {
      numProbes: p.num_probes,
      maxIter: p.max_iter,
      tol: p.tol,
      precondRank: p.precond_rank,
      precondShift: p.precond_shift,
      seed: ctx.seed,
      signal: ctx.signal,
    });
    ctx.note('logdet_estimate', true);
    ctx.note('logdet_stderr', res.stderr);
    return {
      out: tf.scalar(res.logdet),
      info: {
        estimate: true,
        logdet: res.logdet,
        stderr: Number.isFinite(res.stderr) ? res.stderr : null,
        num_probes: p.num_probes,
        seed: ctx.seed,
        iterations: res.iterations,
        precond_rank: res.precondRank,
        precond_shift: res.precondShift,
        logdet_precond: res.logdetPrecond,
        non_positive_ritz: res.nonPositiveRitz,
      },
    };
  },
});
