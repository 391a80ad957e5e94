import { defineOperator, Type } from '../../core/operator/index.js';
import { allowedOf, dims4, causalParam, resolveScale, scaledLogits, scaleParam, denseInputs, denseOutputs, denseShape } from './common.js';

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
  inputs: denseInputs,
  outputs: denseOutputs,
  shape: denseShape,
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
