/**
 * attention/common — shared pieces of the attention family: param schemas, q/k/v shape checks,
 * bottom-right-aligned causal masks, and a masked softmax whose fully masked rows give 0 (not NaN).
 * Layout is heads-first: q [B,H,Nq,D], k [B,H,Nk,D], v [B,H,Nk,Dv], out [B,H,Nq,Dv].
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { broadcastShapes, expectDim, expectRank, formatShape, ShapeError, tensor, Type } from '../../core/operator/index.js';
import type { Dim, Shape, TensorMeta, TF } from '../../core/operator/index.js';

export const scaleParam = Type.Union([Type.Null(), Type.Number({ exclusiveMinimum: 0 })], {
  default: null,
  description: 'Logit scale; null = 1/√D.',
});
export const causalParam = Type.Boolean({
  default: false,
  description: 'Bottom-right aligned causal mask: query i sees key j iff j ≤ i + (Nk − Nq).',
});

/** Large negative logit for masked entries: finite, so fully masked rows never give NaN. */
export const MASKED = -1e30;

export interface QkvDims { B: Dim; H: Dim; Nq: Dim; Nk: Dim; D: Dim; Dv: Dim }

/** Checks q [B,H,Nq,D], k [B,H,Nk,D], v [B,H,Nk,Dv]; k may be absent (tied to q). */
export function qkvShapes(q: TensorMeta, k: TensorMeta | undefined, v: TensorMeta): QkvDims {
  const sq = q.shape!;
  const sv = v.shape!;
  expectRank(sq, 4, 'q [B,H,Nq,D]', '/inputs/q');
  expectRank(sv, 4, 'v [B,H,Nk,Dv]', '/inputs/v');
  let B = sq[0];
  let H = sq[1];
  let Nk: Dim = sv[2];
  let D = sq[3];
  if (k?.shape) {
    const sk = k.shape;
    expectRank(sk, 4, 'k [B,H,Nk,D]', '/inputs/k');
    B = expectDim(B, sk[0], 'batch of q and k differs', '/inputs/k');
    H = expectDim(H, sk[1], 'heads of q and k differ', '/inputs/k');
    D = expectDim(D, sk[3], 'head dimension D of q and k differs', '/inputs/k');
    Nk = expectDim(sk[2], Nk, 'keys of k and values of v differ in number', '/inputs/v');
  } else {
    Nk = expectDim(sq[2], Nk, 'k is tied to q: q and v must have the same length', '/inputs/v');
  }
  B = expectDim(B, sv[0], 'batch of q and v differs', '/inputs/v');
  H = expectDim(H, sv[1], 'heads of q and v differ', '/inputs/v');
  return { B, H, Nq: sq[2], Nk, D, Dv: sv[3] };
}

/** A mask/bias meta must broadcast to [B,H,Nq,Nk] without growing it. */
export function checkBroadcastTo(meta: TensorMeta | undefined, target: Shape, name: string): void {
  if (!meta?.shape) return;
  if (meta.shape.length > 4) throw new ShapeError(`${name} must broadcast to [B,H,Nq,Nk], got ${formatShape(meta.shape)}`, `/inputs/${name}`);
  let joint: Shape;
  try {
    joint = broadcastShapes(meta.shape, target, name);
  } catch {
    throw new ShapeError(`${name} ${formatShape(meta.shape)} does not broadcast to [B,H,Nq,Nk] = ${formatShape(target)}`, `/inputs/${name}`);
  }
  joint.forEach((d, i) => {
    if (typeof d === 'number' && typeof target[i] === 'number' && d !== target[i]) {
      throw new ShapeError(`${name} ${formatShape(meta.shape)} does not broadcast to [B,H,Nq,Nk] = ${formatShape(target)}`, `/inputs/${name}`);
    }
  });
}

export function resolveScale(scale: number | null, D: number): number {
  return scale ?? 1 / Math.sqrt(D);
}

/** [Nq, Nk] float 0/1: key j is visible to query i iff j ≤ i + (Nk − Nq). */
export function causalMask(tf: TF, nq: number, nk: number): Tensor {
  return tf.tidy(() => {
    const rows = tf.reshape(tf.add(tf.range(0, nq, 1, 'int32'), nk - nq), [nq, 1]);
    const cols = tf.reshape(tf.range(0, nk, 1, 'int32'), [1, nk]);
    return tf.cast(tf.lessEqual(cols, rows), 'float32');
  });
}

/** The 0/1 float "allowed" tensor (broadcastable to [B,H,Nq,Nk]) from causal and mask, or null = all. */
export function allowedOf(tf: TF, nq: number, nk: number, causal: boolean, mask: Tensor | undefined): Tensor | null {
  const m = mask ? tf.cast(tf.notEqual(mask, 0), 'float32') : null;
  if (!causal) return m;
  const c = causalMask(tf, nq, nk);
  return m ? tf.mul(m, c) : c;
}

/** Row softmax over the last axis restricted to allowed entries; rows with none allowed give 0. */
export function maskedSoftmax(tf: TF, logits: Tensor, allowed: Tensor | null): Tensor {
  if (!allowed) return tf.softmax(logits);
  const shifted = tf.add(tf.mul(logits, allowed), tf.mul(tf.sub(1, allowed), MASKED));
  const m = tf.max(shifted, -1, true);
  const e = tf.mul(tf.exp(tf.sub(shifted, m)), allowed);
  const s = tf.sum(e, -1, true);
  return tf.div(e, tf.maximum(s, 1e-30));
}

/** q kᵀ·scale (+ bias). */
export function scaledLogits(tf: TF, q: Tensor, k: Tensor, scale: number, bias?: Tensor): Tensor {
  const l = tf.mul(tf.matMul(q, k, false, true), scale);
  return bias ? tf.add(l, bias) : l;
}

/** a / b where b ≠ 0, and 0 where b = 0 (then a is 0 too for every caller). */
export function safeDiv(tf: TF, a: Tensor, b: Tensor): Tensor {
  const zero = tf.equal(b, 0);
  return tf.div(a, tf.where(zero, tf.onesLike(b), b));
}

/** Number of a known dim, or undefined. */
export function known(d: Dim): number | undefined {
  return typeof d === 'number' ? d : undefined;
}

/** Ports shared by the dense (softmax-like) operators. */
export const maskDoc = 'optional 0/1 mask broadcastable to [B,H,Nq,Nk], 1 = attend';
export const biasDoc = 'optional additive logit bias broadcastable to [B,H,Nq,Nk]';

/** The four dims of a rank-4 tensor (checked statically by the ports). */
export function dims4(t: Tensor): [number, number, number, number] {
  return t.shape as [number, number, number, number];
}

/** Ports of the dense (full Nq×Nk weight matrix) variants, softmax and sigmoid. */
export const denseInputs = {
  q: tensor({ dtype: 'float32', rank: 4, doc: 'queries [B,H,Nq,D]' }),
  k: tensor({ dtype: 'float32', rank: 4, doc: 'keys [B,H,Nk,D]' }),
  v: tensor({ dtype: 'float32', rank: 4, doc: 'values [B,H,Nk,Dv]' }),
  mask: tensor({ dtype: ['float32', 'int32', 'bool'], optional: true, doc: maskDoc }),
  bias: tensor({ dtype: 'float32', optional: true, doc: biasDoc }),
};
export const denseOutputs = {
  out: tensor({ dtype: 'float32', doc: '[B,H,Nq,Dv]' }),
  weights: tensor({ dtype: 'float32', optional: true, doc: '[B,H,Nq,Nk], only with return_weights' }),
};

/** Shape inference of the dense variants: out [B,H,Nq,Dv], and the weights when asked for. */
export function denseShape(
  { q, k, v, mask, bias }: { q: TensorMeta; k: TensorMeta; v: TensorMeta; mask?: TensorMeta; bias?: TensorMeta },
  p: { return_weights: boolean },
): { out: Shape; weights?: Shape } {
  const d = qkvShapes(q, k, v);
  const full = [d.B, d.H, d.Nq, d.Nk];
  checkBroadcastTo(mask, full, 'mask');
  checkBroadcastTo(bias, full, 'bias');
  return p.return_weights ? { out: [d.B, d.H, d.Nq, d.Dv], weights: full } : { out: [d.B, d.H, d.Nq, d.Dv] };
}
