import { defineOperator, Type } from '../../core/operator/index.js';
import { allowedOf, dims4, causalParam, maskedSoftmax, resolveScale, scaledLogits, scaleParam, denseInputs, denseOutputs, denseShape } from './common.js';

/** The native backend's fused kernel (NativeFused.flashAttention in core/run/native-backend.ts), when active. */
interface FlashHook {
  flashAttention?(q: Float32Array, k: Float32Array, v: Float32Array, bh: number, nq: number, nk: number, d: number, dv: number, scale: number, causal: boolean): Float32Array;
}

/** Scaled dot-product attention (Vaswani et al. 2017), dense, with mask, bias and causal options. */
export const softmaxAttention = defineOperator({
  id: 'attention.softmax',
  version: 1,
  summary: 'out = softmax_row(q kᵀ·scale + bias, masked) v; rows with no allowed key give 0',
  description:
    'Scaled dot-product attention (Vaswani et al., 2017). Heads-first q [B,H,Nq,D], k [B,H,Nk,D], v [B,H,Nk,Dv]. ' +
    'scale defaults to 1/√D; causal is bottom-right aligned (j ≤ i + Nk − Nq); mask (1 = attend) and bias broadcast ' +
    'to [B,H,Nq,Nk]. Dense: O(Nq·Nk) memory; on the native backend without mask, bias and return_weights, a fused ' +
    'kernel (query blocks × key tiles, online softmax) never forms the Nq×Nk matrix. Masked logits are set to −1e30 (finite) and masked weights to exactly 0, ' +
    'so a fully masked row returns 0. Float32: agrees with a float64 reference to ~1e-6 relative.',
  examples: [{ params: { causal: true }, inputs: { q: { shape: [1, 2, 8, 4] }, k: { shape: [1, 2, 8, 4] }, v: { shape: [1, 2, 8, 3] } } }],
  params: Type.Object(
    {
      scale: scaleParam,
      causal: causalParam,
      return_weights: Type.Boolean({ default: false, description: 'Also output the [B,H,Nq,Nk] attention weights.' }),
    },
    { additionalProperties: false },
  ),
  inputs: denseInputs,
  outputs: denseOutputs,
  shape: denseShape,
  run: ({ q, k, v, mask, bias }, p, { tf, note }) => {
    const [b, h, nq, dim] = dims4(q);
    const [, , nk, dv] = dims4(v);
    const hook = (tf.backend() as { kernelflowFused?: FlashHook }).kernelflowFused;
    // The fused kernel covers plain and causal attention; it never forms the weights, and needs no empty axis.
    if (hook?.flashAttention && !mask && !bias && !p.return_weights && b * h * nq * nk * dim * dv > 0) {
      note('kernel_path', 'native-fused');
      const read = (t: typeof q) => t.dataSync() as Float32Array;
      const out = hook.flashAttention(read(q), read(k), read(v), b * h, nq, nk, dim, dv, resolveScale(p.scale, dim), p.causal);
      return { out: tf.tensor(out, [b, h, nq, dv], 'float32') };
    }
    note('kernel_path', 'generic');
    const allowed = allowedOf(tf, nq, nk, p.causal, mask);
    const w = maskedSoftmax(tf, scaledLogits(tf, q, k, resolveScale(p.scale, dim), bias), allowed);
    const out = tf.matMul(w, v);
    return p.return_weights ? { out, weights: w } : { out };
  },
});
