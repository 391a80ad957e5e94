/**
 * The MLP library: the abc-parameterisation table (Yang & Hu 2021), the JSON model description
 * that model.apply and train.* read, seeded initialisation, and the forward pass.
 *
 * Conventions. Layer l (0…L) maps width n_l = widths[l] to n_{l+1}. The trained (raw) parameters
 * are w_l [n_l, n_{l+1}] and b_l [n_{l+1}], drawn w ~ N(0, init_std²), b ~ N(0, bias_init_std²).
 * The forward pass uses W_l = multiplier·w_l and b_l·bias_multiplier:
 *   z_0 = x·W_0 + b_0,  z_l = φ(z_{l−1})·W_l + b_l,  f = α·z_L   (centered: f − f(θ₀)).
 * The learning rate of a raw parameter is lr·lr_mult. In abc form (width exponent n, constants aside)
 * W = n^{−a}·w, w ~ N(0, n^{−2b}), lr ∝ n^{−c}.
 */
import type { Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import type { JsonValue, TF } from '../../core/operator/index.js';
import { OperatorError } from '../../core/operator/index.js';
import { mixSeed, Rng } from './rng.js';

export const ACTIVATIONS = ['relu', 'erf', 'tanh', 'gelu', 'identity', 'quadratic'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const PARAMETERIZATIONS = ['standard', 'ntk', 'mup'] as const;
export type Parameterization = (typeof PARAMETERIZATIONS)[number];

export interface MlpLayer {
  weight: string;
  bias: string | null;
  fan_in: number;
  fan_out: number;
  /** Which width the abc exponents refer to. */
  width: 'fan_in' | 'fan_out';
  a: number;
  b: number;
  c: number;
  init_std: number;
  multiplier: number;
  lr_mult: number;
  bias_init_std: number;
  bias_multiplier: number;
  bias_lr_mult: number;
}

export interface MlpOptions {
  widths: number[];
  activation: Activation;
  epsilon: number;
  parameterization: Parameterization;
  W_std: number;
  b_std: number;
  output_scale: number;
  centered: boolean;
  bias: boolean;
}

/** The model description model.mlp outputs: its options plus each layer's abc multipliers. */
export interface MlpModel extends MlpOptions {
  type: 'mlp';
  layers: MlpLayer[];
}

/**
 * The per-layer table.
 * - standard: W = w, w ~ N(0, σ_w²/n_in); b ~ N(0, σ_b²).
 * - ntk: W = (σ_w/√n_in)·w, w ~ N(0, 1); b = σ_b·β, β ~ N(0, 1)  (Jacot et al. 2018).
 * - mup (Yang & Hu, Table 3, SGD form, c = 0): input layer W = σ_w·√(n/d)·w, w ~ N(0, 1/n) with n its
 *   fan_out (a = −½, b = ½); hidden layers W = w, w ~ N(0, σ_w²/n_in) (a = 0, b = ½); output layer
 *   W = w/√n_in, w ~ N(0, σ_w²/n_in) (a = b = ½). Biases of hidden layers follow the input rule
 *   (multiplier σ_b·√n_out, init 1/√n_out); the output bias is standard. With no hidden layer
 *   (widths of length 2) mup equals standard.
 */
export function buildMlpModel(o: MlpOptions): MlpModel {
  const L = o.widths.length - 2;
  const layers: MlpLayer[] = [];
  for (let l = 0; l <= L; l++) {
    const nIn = o.widths[l];
    const nOut = o.widths[l + 1];
    const base = { weight: `W${l}`, bias: o.bias ? `b${l}` : null, fan_in: nIn, fan_out: nOut, c: 0, lr_mult: 1, bias_lr_mult: 1 };
    if (o.parameterization === 'standard' || (o.parameterization === 'mup' && L === 0)) {
      layers.push({ ...base, width: 'fan_in', a: 0, b: 0.5, init_std: o.W_std / Math.sqrt(nIn), multiplier: 1, bias_init_std: o.b_std, bias_multiplier: 1 });
    } else if (o.parameterization === 'ntk') {
      layers.push({ ...base, width: 'fan_in', a: 0.5, b: 0, init_std: 1, multiplier: o.W_std / Math.sqrt(nIn), bias_init_std: 1, bias_multiplier: o.b_std });
    } else if (l === 0) {
      layers.push({
        ...base, width: 'fan_out', a: -0.5, b: 0.5,
        init_std: 1 / Math.sqrt(nOut), multiplier: o.W_std * Math.sqrt(nOut / nIn),
        bias_init_std: 1 / Math.sqrt(nOut), bias_multiplier: o.b_std * Math.sqrt(nOut),
      });
    } else if (l < L) {
      layers.push({
        ...base, width: 'fan_in', a: 0, b: 0.5, init_std: o.W_std / Math.sqrt(nIn), multiplier: 1,
        bias_init_std: 1 / Math.sqrt(nOut), bias_multiplier: o.b_std * Math.sqrt(nOut),
      });
    } else {
      layers.push({ ...base, width: 'fan_in', a: 0.5, b: 0.5, init_std: o.W_std / Math.sqrt(nIn), multiplier: 1 / Math.sqrt(nIn), bias_init_std: o.b_std, bias_multiplier: 1 });
    }
  }
  return { type: 'mlp', ...o, widths: [...o.widths], layers };
}

/** Reads a model description coming through a json port, checking what the forward pass needs. */
export function parseMlpModel(value: JsonValue | undefined): MlpModel {
  const m = value as unknown as MlpModel | null;
  if (!m || typeof m !== 'object' || m.type !== 'mlp' || !Array.isArray(m.layers) || !Array.isArray(m.widths)) {
    throw new OperatorError('bad_model', 'model: expected the description written by model.mlp ({type: "mlp", widths, layers, …})');
  }
  if (!(ACTIVATIONS as readonly string[]).includes(m.activation)) throw new OperatorError('bad_model', `model: unknown activation '${String(m.activation)}'`);
  if (m.layers.length !== m.widths.length - 1) throw new OperatorError('bad_model', 'model: layers and widths disagree');
  return m;
}

export function toJson(model: MlpModel): JsonValue {
  return model as unknown as JsonValue;
}

/** Names of the parameters of a model, in layer order (W0, b0, W1, b1, …). */
export function paramNames(model: MlpModel): string[] {
  return model.layers.flatMap((l) => (l.bias ? [l.weight, l.bias] : [l.weight]));
}

/** Seeded init, drawn in JS (identical on every backend): layer l weights from stream 2l, biases 2l+1. */
export function initMlpParams(tf: TF, model: MlpModel, seed: number): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  model.layers.forEach((layer, l) => {
    out[layer.weight] = tf.tensor2d(new Rng(mixSeed(seed, 2 * l)).normals(layer.fan_in * layer.fan_out, layer.init_std), [layer.fan_in, layer.fan_out]);
    if (layer.bias) out[layer.bias] = tf.tensor1d(new Rng(mixSeed(seed, 2 * l + 1)).normals(layer.fan_out, layer.bias_init_std));
  });
  return out;
}

export function activate(tf: TF, name: Activation, z: Tensor, epsilon: number): Tensor {
  switch (name) {
    case 'relu':
      return tf.relu(z);
    case 'erf':
      return tf.erf(z);
    case 'tanh':
      return tf.tanh(z);
    case 'gelu':
      return tf.mul(tf.mul(z, 0.5), tf.add(1, tf.erf(tf.mul(z, Math.SQRT1_2))));
    case 'identity':
      return z;
    case 'quadratic':
      return tf.add(z, tf.mul(tf.square(z), epsilon / 2));
  }
}

/** Checks that `params` holds every tensor the model needs with the right shape. */
export function checkParams(model: MlpModel, params: Record<string, Tensor>): void {
  for (const layer of model.layers) {
    const w = params[layer.weight];
    if (!w || w.rank !== 2 || w.shape[0] !== layer.fan_in || w.shape[1] !== layer.fan_out) {
      throw new OperatorError('shape', `params.${layer.weight}: expected [${layer.fan_in}, ${layer.fan_out}], got ${w ? JSON.stringify(w.shape) : 'nothing'}`);
    }
    if (layer.bias) {
      const b = params[layer.bias];
      if (!b || b.rank !== 1 || b.shape[0] !== layer.fan_out) {
        throw new OperatorError('shape', `params.${layer.bias}: expected [${layer.fan_out}], got ${b ? JSON.stringify(b.shape) : 'nothing'}`);
      }
    }
  }
}

export interface ForwardResult {
  /** α·z_L, [n, widths[L+1]] (not centered). */
  out: Tensor2D;
  /** Pre-activations z_0 … z_{L−1} of the hidden layers. */
  hidden: Tensor2D[];
  /** Post-activations h_0 = x, h_1 = φ(z_0), …, h_L (the inputs of each layer). */
  inputs: Tensor2D[];
}

/** The forward pass (synchronous: call inside tf.tidy), keeping what backprop and the NTK need. */
export function mlpForward(tf: TF, model: MlpModel, params: Record<string, Tensor>, x: Tensor): ForwardResult {
  let h = x as Tensor2D;
  const hidden: Tensor2D[] = [];
  const inputs: Tensor2D[] = [];
  const L = model.layers.length - 1;
  model.layers.forEach((layer, l) => {
    inputs.push(h);
    const W = params[layer.weight];
    let z = tf.matMul(h, layer.multiplier === 1 ? W : tf.mul(W, layer.multiplier)) as Tensor2D;
    if (layer.bias) z = tf.add(z, tf.mul(params[layer.bias], layer.bias_multiplier));
    if (l < L) {
      hidden.push(z);
      h = activate(tf, model.activation, z, model.epsilon) as Tensor2D;
    } else {
      h = z;
    }
  });
  return { out: (model.output_scale === 1 ? h : tf.mul(h, model.output_scale)) as Tensor2D, hidden, inputs };
}

/** Predictions f(x) = α·z_L(x) − (centered ? α·z_L(x; θ₀) : 0). */
export function mlpPredict(tf: TF, model: MlpModel, params: Record<string, Tensor>, x: Tensor, init?: Record<string, Tensor>): Tensor2D {
  const f = mlpForward(tf, model, params, x).out;
  if (!model.centered) return f;
  if (!init) throw new OperatorError('missing_init', 'model is centered (f − f₀): connect the initial parameters to the `init` input');
  return tf.sub(f, mlpForward(tf, model, init, x).out);
}

/** φ′(z) for each activation. */
export function activationGrad(tf: TF, name: Activation, z: Tensor, epsilon: number): Tensor {
  switch (name) {
    case 'relu':
      return tf.cast(tf.greater(z, 0), 'float32');
    case 'erf':
      return tf.mul(tf.exp(tf.neg(tf.square(z))), 2 / Math.sqrt(Math.PI));
    case 'tanh':
      return tf.sub(1, tf.square(tf.tanh(z)));
    case 'gelu':
      return tf.add(
        tf.mul(tf.add(1, tf.erf(tf.mul(z, Math.SQRT1_2))), 0.5),
        tf.mul(tf.mul(z, tf.exp(tf.mul(tf.square(z), -0.5))), 1 / Math.sqrt(2 * Math.PI)),
      );
    case 'identity':
      return tf.onesLike(z);
    case 'quadratic':
      return tf.add(1, tf.mul(z, epsilon));
  }
}

/**
 * Backpropagation by hand (tfjs autodiff is not used: its gradient registry is not loaded by the
 * engine, and its second-order gradients are unreliable). Given the forward pass and dL/df for
 * f = α·z_L, returns dL/dθ for every raw parameter and the errors δ_l = dL/dz_l (l = 0…L):
 *   δ_L = α·dL/df,  ∂L/∂w_l = m_l·h_lᵀδ_l,  ∂L/∂b_l = m_b·Σ_rows δ_l,  δ_{l−1} = (δ_l·(m_l w_l)ᵀ) ⊙ φ′(z_{l−1}).
 * Synchronous; call inside tf.tidy.
 */
export function mlpBackward(
  tf: TF,
  model: MlpModel,
  params: Record<string, Tensor>,
  fwd: ForwardResult,
  dOut: Tensor,
): { grads: Record<string, Tensor>; deltas: Tensor2D[] } {
  const grads: Record<string, Tensor> = {};
  const deltas: Tensor2D[] = new Array(model.layers.length);
  let delta = (model.output_scale === 1 ? dOut : tf.mul(dOut, model.output_scale)) as Tensor2D;
  for (let l = model.layers.length - 1; l >= 0; l--) {
    const layer = model.layers[l];
    deltas[l] = delta;
    const gw = tf.matMul(fwd.inputs[l], delta, true, false);
    grads[layer.weight] = layer.multiplier === 1 ? gw : tf.mul(gw, layer.multiplier);
    if (layer.bias) grads[layer.bias] = tf.mul(tf.sum(delta, 0), layer.bias_multiplier);
    if (l > 0) {
      const back = tf.matMul(delta, params[layer.weight], false, true);
      const scaled = layer.multiplier === 1 ? back : tf.mul(back, layer.multiplier);
      delta = tf.mul(scaled, activationGrad(tf, model.activation, fwd.hidden[l - 1], model.epsilon)) as Tensor2D;
    }
  }
  return { grads, deltas };
}

/** erf in float64 (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7): for data generators. */
export function erfScalar(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

/** φ(z) in float64 (data generators). */
export function activationScalar(name: Activation, z: number, epsilon: number): number {
  switch (name) {
    case 'relu': return Math.max(z, 0);
    case 'erf': return erfScalar(z);
    case 'tanh': return Math.tanh(z);
    case 'gelu': return 0.5 * z * (1 + erfScalar(z / Math.SQRT2));
    case 'identity': return z;
    case 'quadratic': return z + (epsilon * z * z) / 2;
  }
}
