/**
 * linalg/pinv_newton — Moore–Penrose pseudo-inverse by the Newton–Schulz iteration
 * V ← V(2I − AV) = 2V − VAV from V₀ = αAᵀ, α = 1/(‖A‖₁‖A‖∞) (Ben-Israel & Cohen 1966; Pan &
 * Schreiber 1991). It converges to A⁺ iff 0 < α < 2/σ_max²; σ_max² ≤ ‖A‖₁‖A‖∞ makes this α safe.
 * Every nonzero singular value follows s ← 2s − s² (s = σᵢ²·(scaled V)), so after a phase of
 * doubling, lasting ≈ log₂(1/(ασ_min²)) steps, convergence is quadratic; zero singular values stay
 * zero, so a rank-deficient A gives A⁺ itself (not a regularised inverse).
 *
 * Stopping: the relative step ‖V_{k+1} − V_k‖_F/‖V_{k+1}‖_F ≤ tol, or — in float32 — the step has
 * stopped shrinking once below √tol (round-off floor). Iterating far beyond convergence would let
 * round-off-sized singular values of a rank-deficient A grow towards 1/ε, so the floor rule matters.
 * Reported residual: ‖I − AV‖_F per matrix (largest over the batch). For a full-row-rank A it tends
 * to 0; for rank r < m it tends to √(m − r), since AA⁺ is then a projector — `projector_residual`
 * ‖AVA − A‖_F/‖A‖_F is the rank-independent check.
 * Cost: 4mn·min(m,n)-ish flops per iteration (two matmuls), all on the backend; batched over leading dims.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import type { TF } from '../../core/operator/context.js';
import { OperatorError } from '../../core/operator/errors.js';

export interface PinvNewtonOptions {
  /** Most iterations before `not_converged` (default 100). */
  maxIter?: number;
  /** Relative-step tolerance (default 1e-6). */
  tol?: number;
}

export interface PinvNewtonInfo {
  iterations: number;
  /** max over the batch of ‖I − AV‖_F. */
  residual: number;
  /** max over the batch of ‖AVA − A‖_F / ‖A‖_F. */
  projector_residual: number;
  /** Last relative step ‖ΔV‖_F/‖V‖_F (max over the batch). */
  step: number;
  /** 'tol' or 'round-off floor'. */
  stopped_by: string;
}

/** A⁺ of a [..., m, n] tensor as a [..., n, m] tensor, by Newton–Schulz (see file header). */
export async function pinvNewton(tf: TF, a: Tensor, options: PinvNewtonOptions = {}): Promise<{ out: Tensor; info: PinvNewtonInfo }> {
  const { maxIter = 100, tol = 1e-6 } = options;
  const r = a.rank;
  if (r < 2) throw new OperatorError('bad_shape', `linalg/pinv_newton: expected a [..., m, n] matrix, got [${a.shape.join(',')}]`);
  const m = a.shape[r - 2];
  const finiteT = tf.tidy(() => tf.all(tf.isFinite(a)));
  const finite = (await finiteT.data())[0];
  finiteT.dispose();
  if (!finite) throw new OperatorError('non_finite_input', 'linalg/pinv_newton: the matrix has a non-finite entry');
  const eye = tf.eye(m);
  let V = tf.tidy(() => {
    const abs = tf.abs(a);
    const norm1 = tf.max(tf.sum(abs, r - 2, true), r - 1, true); // max column sum, [..., 1, 1]
    const normInf = tf.max(tf.sum(abs, r - 1, true), r - 2, true); // max row sum
    // An all-zero matrix has A⁺ = 0: guard the division.
    const alpha = tf.div(1, tf.maximum(tf.mul(norm1, normInf), Number.MIN_VALUE));
    return tf.mul(tf.transpose(a, transposePerm(r)), alpha);
  });
  let step = Infinity;
  let prevStep = Infinity;
  let iterations = 0;
  let stoppedBy = '';
  try {
    while (iterations < maxIter) {
      iterations++;
      const [next, rel] = tf.tidy(() => {
        const av = tf.matMul(a, V); // [..., m, m]
        const nextV = tf.sub(tf.mul(V, 2), tf.matMul(V, av)); // 2V − V(AV)
        const diff = frobenius(tf, tf.sub(nextV, V), r);
        const size = frobenius(tf, nextV, r);
        const relStep = tf.max(tf.div(diff, tf.maximum(size, Number.MIN_VALUE)));
        return [nextV, relStep];
      });
      V.dispose();
      V = next;
      prevStep = step;
      step = (await rel.data())[0];
      rel.dispose();
      if (!Number.isFinite(step)) break;
      if (step <= tol) {
        stoppedBy = 'tol';
        break;
      }
      if (step < Math.sqrt(tol) && step >= prevStep) {
        stoppedBy = 'round-off floor';
        break;
      }
    }
    const final = tf.tidy(() => {
      const av = tf.matMul(a, V);
      const res = tf.max(frobenius(tf, tf.sub(eye, av), r));
      const proj = tf.max(tf.div(frobenius(tf, tf.sub(tf.matMul(av, a), a), r), tf.maximum(frobenius(tf, a, r), Number.MIN_VALUE)));
      return tf.stack([res, proj]);
    });
    const [residual, projector] = await final.data();
    final.dispose();
    const info: PinvNewtonInfo = { iterations, residual, projector_residual: projector, step, stopped_by: stoppedBy };
    if (!stoppedBy) {
      throw new OperatorError(
        'not_converged',
        `linalg/pinv_newton: no convergence in ${iterations} iterations (relative step ${step.toExponential(2)}, tol ${tol})`,
        { ...info },
      );
    }
    const out = V;
    V = undefined as unknown as Tensor; // ownership passes to the caller
    return { out, info };
  } finally {
    eye.dispose();
    V?.dispose();
  }
}

function transposePerm(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/** ‖X‖_F over the last two axes, one value per batch element. */
function frobenius(tf: TF, x: Tensor, rank: number): Tensor {
  return tf.sqrt(tf.sum(tf.square(x), [rank - 2, rank - 1]));
}
