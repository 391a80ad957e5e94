import { defineOperator, expectDim, expectRank, tensor, Type } from '../../core/operator/index.js';
import { allowedOf, dims4, MASKED, qkvShapes, resolveScale, safeDiv, scaledLogits, scaleParam } from './common.js';

/** NTK-Attention: softmax attention plus a linear-attention summary of an unboundedly long prefix. */
export const ntkPrefixAttention = defineOperator({
  id: 'attention.ntk_prefix',
  version: 1,
  summary: 'out = (exp(S)V + φ(Q)Z) / (exp(S)1 + φ(Q)|k|), S = QKᵀ·scale (causal-masked), φ(x) = elu(x/D^¼) + 1',
  description:
    'NTK-Attention ("Toward Infinite-Long Prefix in Transformer", Liang et al., 2024): the prefix tokens (P_K, P_V) of ' +
    'prefix attention are replaced by Z ≈ Σ_p φ(p_k)p_vᵀ (prefix_z [H,D,Dv]) and k ≈ Σ_p φ(p_k) (prefix_k [H,D]), D·Dv + D ' +
    'parameters per head. |k| is the elementwise absolute value (as in the reference demo). Rows are shifted by ' +
    'm_i = max(max_j S_ij, ln φ(q_i)·|k|), which is exact; a row with no visible key and a zero prefix gives 0. With a ' +
    'zero prefix it is (causal) softmax attention. causal is bottom-right aligned. Dense O(Nq·Nk) memory. Float32: ' +
    '~1e-6 relative to a float64 reference.',
  examples: [{ inputs: { q: { shape: [1, 2, 8, 4] }, k: { shape: [1, 2, 8, 4] }, v: { shape: [1, 2, 8, 3] }, prefix_k: { shape: [2, 4] }, prefix_z: { shape: [2, 4, 3] } } }],
  params: Type.Object(
    {
      causal: Type.Boolean({ default: true, description: 'Bottom-right aligned causal mask over the (non-prefix) keys.' }),
      scale: scaleParam,
    },
    { additionalProperties: false },
  ),
  inputs: {
    q: tensor({ dtype: 'float32', rank: 4, doc: 'queries [B,H,Nq,D]' }),
    k: tensor({ dtype: 'float32', rank: 4, doc: 'keys [B,H,Nk,D]' }),
    v: tensor({ dtype: 'float32', rank: 4, doc: 'values [B,H,Nk,Dv]' }),
    prefix_k: tensor({ dtype: 'float32', rank: 2, doc: 'prefix key summary k [H,D]' }),
    prefix_z: tensor({ dtype: 'float32', rank: 3, doc: 'prefix value summary Z [H,D,Dv]' }),
  },
  outputs: { out: tensor({ dtype: 'float32', doc: '[B,H,Nq,Dv]' }) },
  shape: ({ q, k, v, prefix_k, prefix_z }) => {
    const d = qkvShapes(q, k, v);
    const pk = prefix_k.shape!;
    const pz = prefix_z.shape!;
    expectRank(pk, 2, 'prefix_k [H,D]', '/inputs/prefix_k');
    expectRank(pz, 3, 'prefix_z [H,D,Dv]', '/inputs/prefix_z');
    expectDim(pk[0], d.H, 'prefix_k rows must equal H', '/inputs/prefix_k');
    expectDim(pk[1], d.D, 'prefix_k columns must equal D', '/inputs/prefix_k');
    expectDim(pz[0], d.H, 'prefix_z must be [H,D,Dv]', '/inputs/prefix_z');
    expectDim(pz[1], d.D, 'prefix_z must be [H,D,Dv]', '/inputs/prefix_z');
    expectDim(pz[2], d.Dv, 'prefix_z must be [H,D,Dv]', '/inputs/prefix_z');
    return { out: [d.B, d.H, d.Nq, d.Dv] };
  },
  run: ({ q, k, v, prefix_k, prefix_z }, p, { tf }) => {
    const [b, h, nq, dim] = dims4(q);
    const [, , nk, dv] = dims4(v);
    const s = scaledLogits(tf, q, k, resolveScale(p.scale, dim));
    const allowed = allowedOf(tf, nq, nk, p.causal, undefined);
    const sm = allowed ? tf.add(tf.mul(s, allowed), tf.mul(tf.sub(1, allowed), MASKED)) : s;
    const phiQ = tf.add(tf.elu(tf.mul(q, dim ** -0.25)), 1); // [B,H,Nq,D]
    const pre = tf.sum(tf.mul(phiQ, tf.reshape(tf.abs(prefix_k), [1, h, 1, dim])), -1, true); // φ(Q)|k| [B,H,Nq,1]
    const pz = tf.matMul(phiQ, tf.broadcastTo(tf.reshape(prefix_z, [1, h, dim, dv]), [b, h, dim, dv])); // φ(Q)Z
    // m_i = max(row max, ln pre_i): every exponent below is ≤ 0
    const m = tf.maximum(tf.max(sm, -1, true), tf.log(tf.maximum(pre, 1e-30)));
    let e = tf.exp(tf.sub(sm, m));
    if (allowed) e = tf.mul(e, allowed);
    const scalePre = tf.exp(tf.neg(m));
    const num = tf.add(tf.matMul(e, v), tf.mul(pz, scalePre));
    const den = tf.add(tf.sum(e, -1, true), tf.mul(pre, scalePre));
    return { out: safeDiv(tf, num, den) };
  },
});
