/**
 * The training library: losses, per-layer empirical NTK of an MLP, Hessian power iteration by central
 * differences of gradients, and small helpers over lists of tensors. Every function takes `tf`.
 */
import type { Scalar, Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import type { TF } from '../../core/operator/index.js';
import { OperatorError } from '../../core/operator/index.js';
import { activationGrad, mlpBackward, mlpForward, type ForwardResult, type MlpModel } from '../model/mlp-lib.js';
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

/**
 * The loss and its gradient dL/df (by hand): mse (f − y)/N; cross_entropy ((Σ_k y_k)·softmax(f) − y)/N.
 */
export function lossAndGradF(tf: TF, loss: LossName, f: Tensor, y: Tensor): { value: Scalar; dF: Tensor2D } {
  const n = f.shape[0];
  if (loss === 'mse') {
    const r = tf.sub(f, y);
    return { value: tf.mul(0.5, tf.mean(tf.sum(tf.square(r), 1))) as Scalar, dF: tf.div(r, n) as Tensor2D };
  }
  const ls = tf.logSoftmax(f);
  return {
    value: tf.neg(tf.mean(tf.sum(tf.mul(y, ls), 1))) as Scalar,
    dF: tf.div(tf.sub(tf.mul(tf.exp(ls), tf.sum(y, 1, true)), y), n) as Tensor2D,
  };
}

/**
 * Loss of an MLP on (x, y) and its gradient with respect to every raw parameter (hand backprop).
 * `init` are the initial parameters of a centered model. Synchronous; call inside tf.tidy.
 */
export function mlpLossAndGrads(
  tf: TF,
  model: MlpModel,
  params: Record<string, Tensor>,
  x: Tensor,
  y: Tensor,
  loss: LossName,
  init?: Record<string, Tensor>,
): { value: Scalar; grads: Record<string, Tensor> } {
  const fwd = mlpForward(tf, model, params, x);
  let f: Tensor = fwd.out;
  if (model.centered) {
    if (!init) throw new OperatorError('missing_init', 'a centered model needs its initial parameters');
    f = tf.sub(f, mlpForward(tf, model, init, x).out);
  }
  const { value, dF } = lossAndGradF(tf, loss, f, y);
  return { value, grads: mlpBackward(tf, model, params, fwd, dF).grads };
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
 * The `diverged` error every trainer throws when the loss stops being finite: the step, the value,
 * the last finite loss and the trainer's own `cause`, with `details` for the error's data.
 */
export function divergedError(step: number, value: number, lastFinite: number, cause: string, details: Record<string, unknown> = {}): OperatorError {
  const last = Number.isFinite(lastFinite) ? lastFinite : null;
  return new OperatorError(
    'diverged',
    `training diverged at step ${step}: loss ${String(value)} (last finite loss ${last === null ? 'none' : lastFinite.toPrecision(6)}); likely cause: ${cause}`,
    { step, last_finite_loss: last, ...details },
  );
}

/**
 * Empirical NTK of an MLP (trace over outputs), Θ(x, x2)_ij = Σ_k Σ_θ c_θ·∂f_k(x_i)/∂θ·∂f_k(x2_j)/∂θ over the
 * `trainable` raw parameters with weights c_θ (default 1; learning rates give the NTK that governs GD), from
 * per-layer factors: ∂f/∂w_l = m_l·h_l ⊗ δ_l and ∂f/∂b_l = m_b·δ_l, δ_l = ∂f/∂z_l by one hand backward pass
 * per output for all points at once. x2 defaults to x. Synchronous; call inside tf.tidy.
 */
export function mlpNtk(
  tf: TF,
  model: MlpModel,
  params: Record<string, Tensor>,
  x: Tensor2D,
  trainable: Set<string>,
  opts: { x2?: Tensor2D; weights?: Record<string, number> } = {},
): Tensor2D {
  const k = model.widths[model.widths.length - 1];
  const sides = [x, opts.x2 ?? x].map((xx) => {
    const n = xx.shape[0];
    const fwd = mlpForward(tf, model, params, xx);
    const deltas: Tensor2D[][] = [];
    for (let o = 0; o < k; o++) {
      const e = new Float32Array(n * k);
      for (let i = 0; i < n; i++) e[i * k + o] = 1;
      deltas.push(mlpBackward(tf, model, params, fwd, tf.tensor2d(e, [n, k])).deltas);
    }
    return { fwd, deltas };
  });
  const [a, b] = sides;
  const c = (nm: string) => opts.weights?.[nm] ?? 1;
  let theta: Tensor = tf.zeros([x.shape[0], (opts.x2 ?? x).shape[0]]);
  model.layers.forEach((layer, l) => {
    const gram = tf.matMul(a.fwd.inputs[l], b.fwd.inputs[l], false, true);
    for (let o = 0; o < k; o++) {
      const dd = tf.matMul(a.deltas[o][l], b.deltas[o][l], false, true);
      if (trainable.has(layer.weight)) theta = tf.add(theta, tf.mul(tf.mul(gram, dd), layer.multiplier ** 2 * c(layer.weight)));
      if (layer.bias && trainable.has(layer.bias)) theta = tf.add(theta, tf.mul(dd, layer.bias_multiplier ** 2 * c(layer.bias)));
    }
  });
  return theta as Tensor2D;
}

/**
 * Jacobian-vector product of an MLP at the parameters of `fwd` (forward mode): the tangent of
 * f = α·z_L along parameter directions `dParams` (missing names: zero), by
 * ż_l = ḣ_l·(m_l w_l) + h_l·(m_l ẇ_l) + m_b·ḃ_l,  ḣ_{l+1} = φ′(z_l) ⊙ ż_l,  ḣ_0 = 0.
 */
export function mlpJvp(tf: TF, model: MlpModel, params: Record<string, Tensor>, fwd: ForwardResult, dParams: Record<string, Tensor>): Tensor2D {
  let hdot: Tensor | null = null;
  let zdot: Tensor = tf.zeros([fwd.out.shape[0], model.widths[model.widths.length - 1]]);
  model.layers.forEach((layer, l) => {
    const terms: Tensor[] = [];
    if (hdot) terms.push(tf.mul(tf.matMul(hdot, params[layer.weight]), layer.multiplier));
    if (dParams[layer.weight]) terms.push(tf.mul(tf.matMul(fwd.inputs[l], dParams[layer.weight]), layer.multiplier));
    if (layer.bias && dParams[layer.bias]) terms.push(tf.mul(dParams[layer.bias], layer.bias_multiplier));
    const shape = [fwd.out.shape[0], layer.fan_out];
    zdot = terms.length ? tf.addN(terms.map((t) => tf.broadcastTo(t, shape))) : tf.zeros(shape);
    if (l < model.layers.length - 1) hdot = tf.mul(activationGrad(tf, model.activation, fwd.hidden[l], model.epsilon), zdot);
  });
  return tf.mul(zdot, model.output_scale) as Tensor2D;
}

/**
 * The first-order Taylor twin around θ₀: f_lin(x; θ) = f(x; θ₀) + J(x; θ₀)(θ − θ₀) (centered: without
 * f(x; θ₀)); its loss and gradient Jᵀ·dL/df (a backward pass at θ₀). Synchronous; call inside tf.tidy.
 */
export function linearPredict(tf: TF, model: MlpModel, init: Record<string, Tensor>, params: Record<string, Tensor>, x: Tensor): { f: Tensor2D; fwd0: ForwardResult } {
  const fwd0 = mlpForward(tf, model, init, x);
  const d: Record<string, Tensor> = {};
  for (const nm of Object.keys(init)) if (params[nm] !== init[nm]) d[nm] = tf.sub(params[nm], init[nm]);
  const t = mlpJvp(tf, model, init, fwd0, d);
  return { f: model.centered ? t : (tf.add(fwd0.out, t) as Tensor2D), fwd0 };
}

export function linearLossAndGrads(
  tf: TF,
  model: MlpModel,
  init: Record<string, Tensor>,
  params: Record<string, Tensor>,
  x: Tensor,
  y: Tensor,
  loss: LossName,
): { value: Scalar; grads: Record<string, Tensor> } {
  const { f, fwd0 } = linearPredict(tf, model, init, params, x);
  const { value, dF } = lossAndGradF(tf, loss, f, y);
  return { value, grads: mlpBackward(tf, model, init, fwd0, dF).grads };
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
