import { defineOperator, tensor, Type } from '../../core/operator/index.js';
import { allowedOf, dims4, biasDoc, causalParam, checkBroadcastTo, maskDoc, qkvShapes, resolveScale, scaledLogits, scaleParam } from './common.js';

/** Sigmoid attention (Ramapuram et al., ICLR 2025): elementwise σ instead of a row softmax. */
export const sigmoidAttention = defineOperator({
  id: 'attention.sigmoid',
  version: 1,
  summary: 'out = (σ(q kᵀ·scale + bias + b) ⊙ mask) v, b = logit_offset ("auto" = −ln Nk); no row normalisation',
  description:
    'Sigmoid self-attention (Ramapuram et al., "Theory, Analysis, and Best Practices for Sigmoid Self-Attention", ' +
    'ICLR 2025; apple/ml-sigmoid-attention). The default offset −ln Nk makes each weight ≈ 1/Nk at initialisation. ' +
    'Masked (and causally hidden) weights are exactly 0; a fully masked row returns 0. Heads-first layout, scale 1/√D ' +
    'by default, bottom-right-aligned causal. Dense O(Nq·Nk) memory. Float32: ~1e-6 relative to a float64 reference.',
  examples: [{ inputs: { q: { shape: [1, 2, 8, 4] }, k: { shape: [1, 2, 8, 4] }, v: { shape: [1, 2, 8, 3] } } }],
  params: Type.Object(
    {
      scale: scaleParam,
      causal: causalParam,
      logit_offset: Type.Union([Type.Literal('auto'), Type.Number()], {
        default: 'auto',
        description: 'Additive logit offset b; "auto" = −ln Nk.',
      }),
      return_weights: Type.Boolean({ default: false, description: 'Also output the [B,H,Nq,Nk] weights σ(·)⊙mask.' }),
    },
    { additionalProperties: false },
  ),
  inputs: {
    q: tensor({ dtype: 'float32', rank: 4, doc: 'queries [B,H,Nq,D]' }),
    k: tensor({ dtype: 'float32', rank: 4, doc: 'keys [B,H,Nk,D]' }),
    v: tensor({ dtype: 'float32', rank: 4, doc: 'values [B,H,Nk,Dv]' }),
    mask: tensor({ dtype: ['float32', 'int32', 'bool'], optional: true, doc: maskDoc }),
    bias: tensor({ dtype: 'float32', optional: true, doc: biasDoc }),
  },
  outputs: {
    out: tensor({ dtype: 'float32', doc: '[B,H,Nq,Dv]' }),
    weights: tensor({ dtype: 'float32', optional: true, doc: '[B,H,Nq,Nk], only with return_weights' }),
  },
  shape: ({ q, k, v, mask, bias }, p) => {
    const d = qkvShapes(q, k, v);
    const full = [d.B, d.H, d.Nq, d.Nk];
    checkBroadcastTo(mask, full, 'mask');
    checkBroadcastTo(bias, full, 'bias');
    return p.return_weights ? { out: [d.B, d.H, d.Nq, d.Dv], weights: full } : { out: [d.B, d.H, d.Nq, d.Dv] };
  },
  run: ({ q, k, v, mask, bias }, p, { tf }) => {
    const [, , nq, dim] = dims4(q);
    const nk = dims4(k)[2];
    const offset = p.logit_offset === 'auto' ? -Math.log(nk) : p.logit_offset;
    const allowed = allowedOf(tf, nq, nk, p.causal, mask);
    const s = tf.sigmoid(tf.add(scaledLogits(tf, q, k, resolveScale(p.scale, dim), bias), offset));
    const w = allowed ? tf.mul(s, allowed) : s;
    const out = tf.matMul(w, v);
    return p.return_weights ? { out, weights: w } : { out };
  },
});
