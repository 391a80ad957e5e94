/**
 * The training library: losses, per-layer empirical NTK of an MLP, Hessian power iteration by central
 * differences of gradients, and small helpers over lists of tensors. Every function takes `tf`.
 */
import type { Scalar, Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import type { TF } from '../../core/operator/index.js';
import { OperatorError } from '../../core/operator/index.js';
import { mlpForward, type MlpModel } from '../model/mlp-lib.js';
import { Rng } from '../model/rng.js';

export type LossName = 'mse' | 'cross_entropy';

/**
 * mse: L = (1/2N)·Σ_i Σ_k (f_ik − y_ik)²   (the ½ makes ∇_f L = (f − y)/N).
 * cross_entropy: L = −(1/N)·Σ_i Σ_k y_ik·log softmax(f_i)_k   (y one-hot or probabilities).
 */
export function lossOf(tf: TF, loss: LossName, f: Tensor, y: Tensor): Scalar {
  if (loss === 'mse') return tf.mul(0.5, tf.mean(tf.sum(tf.square(tf.sub(f, y)), 1))) as Scalar;
  return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(f)), 1))) as Scalar;
}

/** Labels as float targets: int32 [n] class labels become one-hot [n, k]; float [n] becomes [n, 1]. */
export function targetsOf(tf: TF, y: Tensor, k: number): Tensor2D {
  if (y.dtype === 'int32') {
    if (y.rank !== 1) throw new OperatorError('shape', `integer labels must be [n], got ${JSON.stringify(y.shape)}`);
    return tf.cast(tf.oneHot(y, k), 'float32') as Tensor2D;
  }
  if (y.rank === 1) return tf.reshape(y, [y.shape[0], 1]);
  return y.clone() as Tensor2D;
}

/** Σ‖t‖² over a list, as a scalar tensor. */
export function sqNorm(tf: TF, ts: Tensor[]): Scalar {
  return tf.addN(ts.map((t) => tf.sum(tf.square(t)))) as Scalar;
}

export function dot(tf: TF, a: Tensor[], b: Tensor[]): Scalar {
  return tf.addN(a.map((t, i) => tf.sum(tf.mul(t, b[i])))) as Scalar;
}

/** a + s·b, elementwise over lists. */
export function axpy(tf: TF, a: Tensor[], s: number | Scalar, b: Tensor[]): Tensor[] {
  return a.map((t, i) => tf.add(t, tf.mul(b[i], s)));
}

/** True when every tensor is finite (one read). */
export async function allFinite(tf: TF, ts: Tensor[]): Promise<boolean> {
  if (!ts.length) return true;
  const flag = tf.tidy(() => tf.addN(ts.map((t) => tf.sum(tf.cast(tf.logicalNot(tf.isFinite(t)), 'float32')))));
  const v = (await flag.data())[0];
  flag.dispose();
  return v === 0;
}

/**
 * Empirical NTK of an MLP on x (trace over outputs), Θ_ij = Σ_k Σ_θ ∂f_ik/∂θ·∂f_jk/∂θ over the
 * `trainable` raw parameters, from per-layer factors: ∂f/∂w_l = m_l·h_l ⊗ δ_l and ∂f/∂b_l = m_b·δ_l,
 * δ_l = ∂f/∂z_l obtained as gradients with respect to zero shifts of the pre-activations (one
 * backward pass per output, all points at once). Synchronous; call inside tf.tidy.
 */
export function mlpNtk(tf: TF, model: MlpModel, params: Record<string, Tensor>, x: Tensor2D, trainable: Set<string>): Tensor2D {
  const n = x.shape[0];
  const k = model.widths[model.widths.length - 1];
  const shifts = model.layers.map((l) => tf.zeros([n, l.fan_out]));
  const fwd = mlpForward(tf, model, params, x);
  const grams = fwd.inputs.map((h) => tf.matMul(h, h, false, true));
  let theta: Tensor = tf.zeros([n, n]);
  for (let o = 0; o < k; o++) {
    const deltas = tf.grads((...s: Tensor[]) => tf.sum(tf.slice(mlpForward(tf, model, params, x, s).out, [0, o], [n, 1])))(shifts);
    model.layers.forEach((layer, l) => {
      const dd = tf.matMul(deltas[l], deltas[l], false, true);
      if (trainable.has(layer.weight)) theta = tf.add(theta, tf.mul(tf.mul(grams[l], dd), layer.multiplier ** 2));
      if (layer.bias && trainable.has(layer.bias)) theta = tf.add(theta, tf.mul(dd, layer.bias_multiplier ** 2));
    });
  }
  return theta as Tensor2D;
}

export interface PowerIterationOptions {
  iters: number;
  /** Relative change of the eigenvalue estimate that stops early. */
  tol: number;
  /** Finite-difference step ε = eps_rel·max(‖w‖, 1). */
  epsRel: number;
  seed: number;
  signal?: AbortSignal;
}

export interface PowerIterationResult {
  value: number;
  iterations: number;
  eps: number;
}

/**
 * Largest-magnitude eigenvalue of the Hessian of a loss at w by power iteration, with Hessian-vector
 * products as central differences of gradients: Hv ≈ (g(w + εv) − g(w − εv)) / 2ε (exact for a
 * quadratic up to rounding). `grad` returns new tensors and is called inside tf.tidy. Returns the
 * Rayleigh quotient vᵀHv of the last unit vector.
 */
export async function hessianTopEig(
  tf: TF,
  grad: (w: Tensor[]) => Tensor[],
  w: Tensor[],
  opts: PowerIterationOptions,
): Promise<PowerIterationResult> {
  const rng = new Rng(opts.seed);
  const wNorm = Math.sqrt(await readScalar(tf, () => sqNorm(tf, w)));
  const eps = opts.epsRel * Math.max(wNorm, 1);
  let v = tf.tidy(() => {
    const raw = w.map((t) => tf.tensor(rng.normals(t.size), t.shape));
    const s = tf.rsqrt(sqNorm(tf, raw));
    return raw.map((t) => tf.mul(t, s));
  });
  let value = NaN;
  let it = 0;
  try {
    for (it = 1; it <= opts.iters; it++) {
      if (opts.signal?.aborted) throw new OperatorError('cancelled', 'sharpness: cancelled');
      const [hv, ray, norm] = tf.tidy(() => {
        const gp = grad(axpy(tf, w, eps, v));
        const gm = grad(axpy(tf, w, -eps, v));
        const hvs = gp.map((g, i) => tf.div(tf.sub(g, gm[i]), 2 * eps));
        return [hvs, dot(tf, v, hvs), tf.sqrt(sqNorm(tf, hvs))] as const;
      });
      const [r, nrm] = [(await ray.data())[0], (await norm.data())[0]];
      ray.dispose();
      const prev = value;
      value = r;
      const next = tf.tidy(() => hv.map((t) => tf.div(t, Math.max(nrm, 1e-30))));
      tf.dispose([...hv, norm, ...v]);
      v = next;
      if (!Number.isFinite(value) || nrm === 0) break;
      if (Number.isFinite(prev) && Math.abs(value - prev) <= opts.tol * Math.abs(value)) break;
    }
  } finally {
    tf.dispose(v);
  }
  return { value, iterations: Math.min(it, opts.iters), eps };
}

export async function readScalar(tf: TF, f: () => Tensor): Promise<number> {
  const t = tf.tidy(f);
  const v = (await t.data())[0];
  t.dispose();
  return v;
}
