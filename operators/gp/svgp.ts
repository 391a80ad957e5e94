/**
 * SVGP (Hensman et al. 2013; GPflow's SVGP with whiten = False) for a Gaussian likelihood, on the
 * statistics gp.sparse streams for SGPR. q(u) = N(μ_u, S), S = L_S·L_Sᵀ, over u = f(Z); L = chol(Kuu),
 * A = L⁻¹Kuf. Everything is carried in whitened form:
 *   v = L⁻¹μ_u [m, c],   B = L⁻¹L_S (any square root of L⁻¹SL⁻ᵀ will do),
 *   marginals  μ = Aᵀv,   var_f = k_ff − colsum(A²) + colsum((BᵀA)²),
 *   ELBO = Σᵢ E_q[log N(yᵢ | fᵢ, σ²)] − KL(q(u) ‖ p(u)) with, summed over the c columns of y,
 *     Σᵢ E_q[…] = −(nc/2)log 2πσ² − (1/2σ²)[yᵀy − 2Σ_c y_cᵀAᵀv_c + Σ_c v_cᵀGv_c + c(Σk_ff − tr G + tr(BᵀGB))],  G = AAᵀ,
 *     KL = ½Σ_c[tr(BBᵀ) + v_cᵀv_c − m − log|BBᵀ|]     (log|BBᵀ| = log|S| − log|Kuu|).
 * So the bound needs only G, Ay, yᵀy, Σk_ff (one streamed pass, m×m) and m×m products.
 * Optimal q for a Gaussian likelihood (Titsias 2009): Σ = (Kuu + KufKfu/σ²)⁻¹, μ_u = KuuΣKufy/σ²,
 * S = KuuΣKuu, i.e. with LB = chol(I + G/σ²): v = LB⁻ᵀLB⁻¹Ay/σ², B = LB⁻ᵀ, log|BBᵀ| = −log|LB LBᵀ|;
 * at this q the bound equals SGPR's collapsed one.
 */
import type { Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import { OperatorError } from '../../core/operator/index.js';
import type { TF } from '../../core/operator/index.js';
import { choleskyFactor, logdetFromFactor, solveTriangular } from '../linalg/index.js';
import { diagOf, LOG_2PI } from './exact-core.js';

/** q(u) in whitened form. */
export interface WhitenedQ {
  /** L⁻¹μ_u [m, c]. */
  v: Tensor2D;
  /** Bᵀ [m, m] with BBᵀ = L⁻¹SL⁻ᵀ. */
  bt: Tensor2D;
  /** log|BBᵀ| = log|S| − log|Kuu|, float64. */
  logdetBBt: number;
  dispose(): void;
}

/** Streamed statistics, in gp.sparse's scaling (A/σ). */
export interface SparseStats {
  n: number;
  c: number;
  noise: number;
  /** G/σ² [m, m]. */
  aat: Tensor2D;
  /** Ay/σ [m, c]. */
  ay: Tensor2D;
  /** tr G/σ². */
  trAAt: number;
  kffSum: number;
  yy: number;
}

async function total(tf: TF, t: Tensor): Promise<number> {
  const s = tf.sum(t);
  const v = (await s.data())[0];
  tf.dispose([s, t]);
  return v;
}

const wrap = (v: Tensor2D, bt: Tensor2D, logdetBBt: number): WhitenedQ => ({ v, bt, logdetBBt, dispose: () => tf2dispose(v, bt) });
const tf2dispose = (...ts: Tensor[]) => ts.forEach((t) => t.dispose());

/** Titsias' optimal q from LB = chol(I + G/σ²) and cSol = LB⁻¹Ay/σ². */
export async function optimalQ(tf: TF, lb: Tensor2D, cSol: Tensor2D): Promise<WhitenedQ> {
  const m = lb.shape[0];
  const v = (await solveTriangular(tf, lb, cSol, { lower: true, transpose: true })) as Tensor2D;
  const eye = tf.eye(m) as Tensor2D;
  let bt: Tensor2D;
  try {
    bt = (await solveTriangular(tf, lb, eye, { lower: true })) as Tensor2D;
  } catch (err) {
    v.dispose();
    throw err;
  } finally {
    eye.dispose();
  }
  const [logdetB] = await logdetFromFactor(tf, lb);
  return wrap(v, bt, -logdetB);
}

/**
 * A given q: μ_u [m] or [m, c] and L_S [m, m] (its lower triangle is used, as GPflow's q_sqrt);
 * L = chol(Kuu + εI). A zero on L_S's diagonal makes S singular and the KL infinite: not_psd.
 */
export async function givenQ(tf: TF, l: Tensor2D, qMu: Tensor, qSqrt: Tensor2D, c: number): Promise<WhitenedQ> {
  const m = l.shape[0];
  const lsq = tf.tidy(() => tf.linalg.bandPart(qSqrt, -1, 0)) as Tensor2D;
  try {
    const d = await diagOf(tf, lsq);
    let logdetS = 0;
    for (let i = 0; i < m; i++) {
      if (!(Math.abs(d[i]) > 0)) throw new OperatorError('not_psd', `gp.sparse: q_sqrt has a zero on its diagonal (row ${i}): S is singular`, { row: i });
      logdetS += 2 * Math.log(Math.abs(d[i]));
    }
    const [logdetKuu] = await logdetFromFactor(tf, l);
    const mu = tf.tidy(() => (qMu.rank === 1 ? tf.tile(tf.reshape(qMu, [-1, 1]), [1, c]) : tf.clone(qMu))) as Tensor2D;
    let v: Tensor2D;
    try {
      v = (await solveTriangular(tf, l, mu, { lower: true })) as Tensor2D;
    } finally {
      mu.dispose();
    }
    let b: Tensor2D;
    try {
      b = (await solveTriangular(tf, l, lsq, { lower: true })) as Tensor2D;
    } catch (err) {
      v.dispose();
      throw err;
    }
    const bt = tf.transpose(b) as Tensor2D;
    b.dispose();
    return wrap(v, bt, logdetS - logdetKuu);
  } finally {
    lsq.dispose();
  }
}

/** The uncollapsed SVGP bound and its two parts, float64 host sums of float32 m×m products. */
export async function svgpElbo(tf: TF, s: SparseStats, q: WhitenedQ): Promise<{ elbo: number; ell: number; kl: number }> {
  const { n, c, noise } = s;
  const m = q.bt.shape[0];
  const sigma = Math.sqrt(noise);
  const yAv = sigma * (await total(tf, tf.mul(s.ay, q.v)));
  const vGv = noise * (await total(tf, tf.tidy(() => tf.mul(q.v, tf.matMul(s.aat, q.v)))));
  const trBGB = noise * (await total(tf, tf.tidy(() => tf.mul(tf.matMul(q.bt, s.aat), q.bt))));
  const trG = noise * s.trAAt;
  const trBBt = await total(tf, tf.square(q.bt));
  const vv = await total(tf, tf.square(q.v));
  const ell = -0.5 * n * c * (LOG_2PI + Math.log(noise)) - (s.yy - 2 * yAv + vGv + c * (s.kffSum - trG + trBGB)) / (2 * noise);
  const kl = 0.5 * (c * trBBt + vv - c * m - c * q.logdetBBt);
  return { elbo: ell - kl, ell, kl };
}

/**
 * q(u) back in GPflow's (whiten = False) parameters: q_mu = L·v and q_sqrt = chol(S) with
 * S = (L·B)(L·B)ᵀ, symmetrised and factored under the 'auto' jitter policy (S can be ill-conditioned
 * in float32, e.g. for z = x). Returns q_sqrt = undefined when even the largest jitter fails.
 */
export async function unwhitenQ(
  tf: TF,
  l: Tensor2D,
  q: WhitenedQ,
): Promise<{ qMu: Tensor2D; qSqrt?: Tensor2D; jitterUsed?: number }> {
  const qMu = tf.matMul(l, q.v) as Tensor2D;
  const s = tf.tidy(() => {
    const root = tf.matMul(l, q.bt, false, true);
    const sm = tf.matMul(root, root, false, true);
    return tf.mul(tf.add(sm, tf.transpose(sm)), 0.5) as Tensor2D;
  });
  try {
    const f = await choleskyFactor(tf, s, { jitter: 'auto' });
    return { qMu, qSqrt: f.l as Tensor2D, jitterUsed: f.jitterUsed };
  } catch (err) {
    if (err instanceof OperatorError && err.code === 'not_psd') return { qMu };
    qMu.dispose();
    throw err;
  } finally {
    s.dispose();
  }
}
