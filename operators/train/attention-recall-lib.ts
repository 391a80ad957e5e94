/**
 * The one-layer, single-head attention model of train.attention_recall: forward pass, cross-entropy
 * loss and its gradient with respect to every parameter, written by hand (tfjs-core's Node build
 * registers no gradients).
 *
 *   q = x_q W_Q,  k_j = x_j W_K,  v_j = x_j W_V                      (x one-hot tokens, width E)
 *   s_j = scale·q·k_j + b                                             (b: the logit offset)
 *   a = softmax(s)   or   a_j = σ(s_j)                                (sigmoid: no row normalisation)
 *   o = Σ_j a_j v_j,  z = o W_O,  L = −(1/B) Σ_batch log softmax(z)_target
 */
import type { Scalar, Tensor, Tensor2D, Tensor3D } from '@tensorflow/tfjs-core';
import type { TF } from '../../core/operator/index.js';

export type AttentionKind = 'softmax' | 'sigmoid';

/** The trained parameters, in a fixed order (b only when the offset is learned). */
export const RECALL_PARAM_NAMES = ['W_Q', 'W_K', 'W_V', 'W_O', 'b'] as const;
export type RecallParamName = (typeof RECALL_PARAM_NAMES)[number];
export type RecallParams = Partial<Record<RecallParamName, Tensor>> & { W_Q: Tensor2D; W_K: Tensor2D; W_V: Tensor2D; W_O: Tensor2D };

export interface RecallModel {
  attention: AttentionKind;
  /** Number of context pairs n (the attention length). */
  n: number;
  /** 1/√d_qk. */
  scale: number;
  /** The fixed offset when b is not a parameter (softmax: any constant cancels, 0 is used). */
  offset: number;
}

export interface RecallData {
  [key: string]: Tensor2D;
  /** [B·n, E] */
  context: Tensor2D;
  /** [B, E] */
  query: Tensor2D;
  /** one-hot targets [B, n_values] */
  target: Tensor2D;
}

/** The loss, the logits and the gradients of the parameters present in `w`. Call inside tf.tidy. */
export function recallLossAndGrads(
  tf: TF,
  m: RecallModel,
  w: RecallParams,
  d: RecallData,
  withGrads = true,
): { loss: Scalar; logits: Tensor2D; grads: Partial<Record<RecallParamName, Tensor>> } {
  const B = d.query.shape[0];
  const n = m.n;
  const dqk = w.W_Q.shape[1];
  const dv = w.W_V.shape[1];
  const q = tf.matMul(d.query, w.W_Q); // [B, d]
  const k = tf.reshape(tf.matMul(d.context, w.W_K), [B, n, dqk]) as Tensor3D;
  const v = tf.reshape(tf.matMul(d.context, w.W_V), [B, n, dv]) as Tensor3D;
  const raw = tf.mul(tf.sum(tf.mul(k, tf.expandDims(q, 1)), 2), m.scale); // [B, n]
  const s = w.b ? tf.add(raw, w.b) : m.offset ? tf.add(raw, m.offset) : raw;
  const a = m.attention === 'softmax' ? tf.softmax(s) : tf.sigmoid(s);
  const o = tf.sum(tf.mul(tf.expandDims(a, 2), v), 1) as Tensor2D; // [B, dv]
  const z = tf.matMul(o, w.W_O) as Tensor2D; // [B, V]
  const ls = tf.logSoftmax(z);
  const loss = tf.neg(tf.mean(tf.sum(tf.mul(d.target, ls), 1))) as Scalar;
  if (!withGrads) return { loss, logits: z, grads: {} };

  const dz = tf.div(tf.sub(tf.exp(ls), d.target), B); // [B, V]
  const dWO = tf.matMul(o, dz, true, false);
  const dO = tf.matMul(dz, w.W_O, false, true); // [B, dv]
  const da = tf.sum(tf.mul(v, tf.expandDims(dO, 1)), 2); // [B, n]
  const dV = tf.mul(tf.expandDims(a, 2), tf.expandDims(dO, 1)); // [B, n, dv]
  // Softmax Jacobian: a ⊙ (da − Σ a·da); sigmoid: elementwise σ' = a(1 − a).
  const ds = m.attention === 'softmax' ? tf.mul(a, tf.sub(da, tf.sum(tf.mul(a, da), 1, true))) : tf.mul(da, tf.mul(a, tf.sub(1, a)));
  const dsScaled = tf.expandDims(tf.mul(ds, m.scale), 2); // [B, n, 1]
  const dQ = tf.sum(tf.mul(dsScaled, k), 1); // [B, d]
  const dK = tf.mul(dsScaled, tf.expandDims(q, 1)); // [B, n, d]
  const grads: Partial<Record<RecallParamName, Tensor>> = {
    W_Q: tf.matMul(d.query, dQ, true, false),
    W_K: tf.matMul(d.context, tf.reshape(dK, [B * n, dqk]), true, false),
    W_V: tf.matMul(d.context, tf.reshape(dV, [B * n, dv]), true, false),
    W_O: dWO,
  };
  if (w.b) grads.b = tf.sum(ds);
  return { loss, logits: z, grads };
}

/** Fraction of sequences whose arg-max logit is the target. Call inside tf.tidy. */
export function recallAccuracy(tf: TF, logits: Tensor2D, target: Tensor2D): Scalar {
  return tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(target, 1)), 'float32')) as Scalar;
}
