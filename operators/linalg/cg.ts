/**
 * Batched preconditioned conjugate gradients: solves A·X = B for many right-hand sides at once
 * (GPyTorch's mBCG, Gardner et al. 2018). Every column runs its own CG recurrence; one A·P product
 * per iteration serves all columns. The per-column scalars α, β are computed on the host in float64
 * (two small downloads per iteration) and recorded, so the Lanczos tridiagonal of each column can
 * be rebuilt afterwards (see slq.ts). A column stops when its recursive relative residual ‖r‖/‖b‖
 * reaches `tol`; since that recursion drifts in float32, the true residual ‖b − A·x‖/‖b‖ is then
 * computed and a column still above tol restarts from it (residual replacement, ≤ 3 times, within
 * `maxIter` iterations in all, and only while restarts halve the true residual: below the float32
 * floor ≈ u·‖A‖‖x‖/‖b‖ no iteration helps). The residual reported is always the true one.
 */
import type { Tensor2D } from '@tensorflow/tfjs-core';
import { OperatorError } from '../../core/operator/index.js';
import type { TF } from '../../core/operator/index.js';
import { checkAbort } from './host.js';
import type { Preconditioner } from './pivoted-cholesky.js';

/** A·V for V [n, m]; must return a new tensor. */
export type MatVec = (v: Tensor2D) => Tensor2D;

export interface CgOptions {
  /** Relative residual ‖b − Ax‖/‖b‖ to stop at, per column (default 1e-4). */
  tol?: number;
  /** Iteration cap (default 1000). */
  maxIter?: number;
  /** P ≈ A; omitted: none. */
  precond?: Preconditioner;
  /** Throw `cg_not_converged` when a column ends above tol (default false: report only). */
  strict?: boolean;
  /** Keep α, β per column for Lanczos (default false). */
  recordLanczos?: boolean;
  signal?: AbortSignal;
}

export interface CgResult {
  x: Tensor2D;
  /** Iterations each column ran. */
  iterations: number[];
  /** True final relative residual ‖b − Ax‖/‖b‖ per column (0 for a zero column). */
  residual: number[];
  /** residual ≤ tol, per column. */
  converged: boolean[];
  /** bᵀP⁻¹b per column (the P⁻¹-norm² of the start residual; SLQ's probe weight). */
  rz0: number[];
  /** Per column, the CG step sizes α_j and β_j (β_j = r_{j+1}ᵀz_{j+1}/r_jᵀz_j). */
  lanczos?: { alpha: number[][]; beta: number[][] };
}

/** Batched PCG for A [n, n] (or a matvec) and B [n, m]. */
export async function cg(tf: TF, a: Tensor2D | MatVec, b: Tensor2D, opts: CgOptions = {}): Promise<CgResult> {
  const tol = opts.tol ?? 1e-4;
  const maxIter = opts.maxIter ?? 1000;
  const [n, m] = b.shape;
  const matvec: MatVec = typeof a === 'function' ? a : (v) => tf.matMul(a, v);
  const precond = (r: Tensor2D): Tensor2D => (opts.precond ? opts.precond.apply(r) : (tf.clone(r) as Tensor2D));
  const colDot = (u: Tensor2D, v: Tensor2D) => tf.sum(tf.mul(u, v), 0);
  const download = async (t: ReturnType<typeof colDot>): Promise<Float64Array> => {
    const d = Float64Array.from(await t.data());
    t.dispose();
    return d;
  };

  let x = tf.zeros([n, m]) as Tensor2D;
  let r = tf.clone(b) as Tensor2D;
  let z = precond(r);
  let p = tf.clone(z) as Tensor2D;
  let returned = false;
  try {
    const bnorm = (await download(tf.tidy(() => colDot(b, b)))).map(Math.sqrt);
    let rz = await download(tf.tidy(() => colDot(r, z)));
    const rz0 = Array.from(rz);
    const iterations = new Array<number>(m).fill(0);
    let active = Array.from({ length: m }, (_, j) => bnorm[j] > 0);
    const alphas: number[][] = Array.from({ length: m }, () => []);
    const betas: number[][] = Array.from({ length: m }, () => []);
    const alpha = new Float32Array(m);
    const beta = new Float32Array(m);
    // Residual replacement: in float32 the recursive residual drifts below the true one, so a
    // column that reached tol is checked against ‖b − Ax‖ and restarted from the true residual
    // (at most `maxRestarts` times; never when Lanczos coefficients are recorded).
    const maxRestarts = opts.recordLanczos ? 0 : 3;
    let residual: number[] = [];
    let lastResidual: number[] = [];
    for (let restart = 0; ; restart++) {
      const reachedTol = new Array<boolean>(m).fill(false);
      while (active.some(Boolean)) {
        checkAbort(opts.signal, 'linalg/cg');
        const [ap, pApT] = tf.tidy(() => {
          const ap = matvec(p);
          return [ap, colDot(p, ap)];
        });
        const pAp = await download(pApT);
        for (let j = 0; j < m; j++) {
          const aj = rz[j] / pAp[j];
          // pᵀAp ≤ 0 or a non-finite step: A is not SPD in float32 along p — stop this column.
          if (active[j] && !(aj > 0 && Number.isFinite(aj))) active[j] = false;
          alpha[j] = active[j] ? aj : 0;
          if (active[j]) alphas[j].push(aj);
        }
        const alphaT = tf.tensor2d(alpha, [1, m]);
        const [x2, r2] = tf.tidy(() => [tf.add(x, tf.mul(p, alphaT)), tf.sub(r, tf.mul(ap, alphaT))]) as Tensor2D[];
        tf.dispose([alphaT, ap, x, r, z]);
        x = x2;
        r = r2;
        z = precond(r);
        const [rrT, rzT] = tf.tidy(() => [colDot(r, r), colDot(r, z)]);
        const rr = await download(rrT);
        const rzNew = await download(rzT);
        for (let j = 0; j < m; j++) {
          if (!active[j]) {
            beta[j] = 0;
            continue;
          }
          iterations[j]++;
          const bj = rzNew[j] / rz[j];
          beta[j] = Number.isFinite(bj) ? bj : 0;
          betas[j].push(beta[j]);
          if (Math.sqrt(rr[j]) <= tol * bnorm[j]) {
            reachedTol[j] = true;
            active[j] = false;
          } else if (!Number.isFinite(bj) || iterations[j] >= maxIter) active[j] = false;
        }
        rz = rzNew;
        const betaT = tf.tensor2d(beta, [1, m]);
        const p2 = tf.tidy(() => tf.add(z, tf.mul(p, betaT))) as Tensor2D;
        tf.dispose([betaT, p]);
        p = p2;
      }
      const trueR = tf.tidy(() => tf.sub(b, matvec(x))) as Tensor2D;
      const res2 = await download(tf.tidy(() => colDot(trueR, trueR)));
      residual = Array.from(res2, (v, j) => (bnorm[j] > 0 ? Math.sqrt(v) / bnorm[j] : 0));
      // Restart only while restarts pay: a column whose true residual did not halve since the last
      // check has hit the float32 floor (≈ u·‖A‖‖x‖/‖b‖) and further iterations are wasted.
      const again = residual.map(
        (v, j) => reachedTol[j] && v > tol && iterations[j] < maxIter && !(restart > 0 && v > 0.5 * lastResidual[j]),
      );
      lastResidual = residual;
      if (restart >= maxRestarts || !again.some(Boolean)) {
        trueR.dispose();
        break;
      }
      tf.dispose([r, z, p]);
      r = trueR;
      z = precond(r);
      p = tf.clone(z) as Tensor2D;
      rz = await download(tf.tidy(() => colDot(r, z)));
      active = again;
    }
    const converged = residual.map((v) => v <= tol);
    if (opts.strict && converged.some((c) => !c)) {
      const bad = converged.flatMap((c, j) => (c ? [] : [j]));
      throw new OperatorError(
        'cg_not_converged',
        `linalg/cg: ${bad.length} of ${m} columns did not reach relative residual ${tol} in ${maxIter} iterations ` +
          `(worst ${Math.max(...bad.map((j) => residual[j])).toExponential(2)})`,
        { columns: bad, iterations: bad.map((j) => iterations[j]), residual: bad.map((j) => residual[j]), tol, maxIter },
      );
    }
    returned = true;
    return {
      x,
      iterations,
      residual,
      converged,
      rz0,
      ...(opts.recordLanczos ? { lanczos: { alpha: alphas, beta: betas } } : {}),
    };
  } finally {
    if (!returned) x.dispose();
    r.dispose();
    z.dispose();
    p.dispose();
  }
}
