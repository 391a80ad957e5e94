import type { Tensor } from '@tensorflow/tfjs-core';
import { defineOperator, ParamError, tensor, Type } from '../../core/operator/index.js';
import type { TF } from '../../core/operator/index.js';
import { dims4, maskedSoftmax, qkvShapes, resolveScale, scaledLogits, scaleParam } from './common.js';

export interface S2Pattern {
  block_size: number;
  local_blocks: number;
  vert_stride: number;
  head_step: number | null;
  head_offset: number;
  dense_heads: number;
}

/** head_step null = max(1, ⌊vert_stride/H⌋) (dkernel's heterogeneous default). */
export function headStep(p: S2Pattern, heads: number): number {
  return p.head_step ?? Math.max(1, Math.floor(p.vert_stride / heads));
}

/**
 * The S2 mask [H, Nq, Nk] as 0/1 floats (host): query i (absolute position i + Nk − Nq) sees key j iff
 * j ≤ i + Nk − Nq and, for a sparse head h, with qb, kb their blocks: qb − kb < local_blocks or
 * (kb + h·head_step + head_offset) mod vert_stride = 0. The last dense_heads heads are dense-causal.
 */
export function s2Mask(p: S2Pattern, heads: number, nq: number, nk: number): Float32Array {
  const step = headStep(p, heads);
  const out = new Float32Array(heads * nq * nk);
  for (let h = 0; h < heads; h++) {
    const dense = h >= heads - p.dense_heads;
    for (let i = 0; i < nq; i++) {
      const pos = i + nk - nq;
      const qb = Math.floor(pos / p.block_size);
      for (let j = 0; j <= Math.min(pos, nk - 1); j++) {
        const kb = Math.floor(j / p.block_size);
        const ok = dense || qb - kb < p.local_blocks || (kb + h * step + p.head_offset) % p.vert_stride === 0;
        if (ok) out[(h * nq + i) * nk + j] = 1;
      }
    }
  }
  return out;
}

function maskTensor(tf: TF, p: S2Pattern, heads: number, nq: number, nk: number): Tensor {
  return tf.tensor(s2Mask(p, heads, nq, nk), [1, heads, nq, nk]);
}

/** S2-Attention: per-head strided block-sparse causal attention (heterogeneous context sharding). */
export const s2Attention = defineOperator({
  id: 'attention.s2',
  version: 1,
  summary: 'softmax attention under the S2 block-sparse causal mask: local blocks plus a per-head vertical stride (heads shard the context)',
  description:
    'S2-Attention ("S2-Attention: Hardware-Aware Context Sharding Among Attention Heads", Lin et al., 2024; ' +
    'linxihui/dkernel, Phi-3-small). Causal only (bottom-right aligned). Blocks of block_size tokens; head h’s query ' +
    'block qb sees key block kb ≤ qb iff qb − kb < local_blocks or (kb + h·head_step + head_offset) mod vert_stride = 0 ' +
    '(head_step null = max(1, ⌊vert_stride/H⌋)); the token-level causal mask applies on top and the last dense_heads ' +
    'heads are dense-causal. The union over heads covers the whole causal context when the offsets h·head_step + ' +
    'head_offset hit every residue mod vert_stride (e.g. head_step 1 and H ≥ vert_stride). ' +
    'Implemented as masked dense softmax: it equals attention.softmax under the same explicit mask, but costs ' +
    'O(Nq·Nk) time and memory (no block-sparse kernel). Float32: ~1e-6 relative.',
  examples: [{ params: { block_size: 4, local_blocks: 2, vert_stride: 2 }, inputs: { q: { shape: [1, 2, 16, 4] }, k: { shape: [1, 2, 16, 4] }, v: { shape: [1, 2, 16, 3] } } }],
  params: Type.Object(
    {
      block_size: Type.Integer({ minimum: 1, default: 64, description: 'Tokens per block.' }),
      local_blocks: Type.Integer({ minimum: 1, default: 4, description: 'Local (sliding) blocks seen, the own block included.' }),
      vert_stride: Type.Integer({ minimum: 1, default: 8, description: 'Vertical stride in blocks.' }),
      head_step: Type.Union([Type.Null(), Type.Integer({ minimum: 0 })], { default: null, description: 'Stride offset per head; null = max(1, ⌊vert_stride/H⌋).' }),
      head_offset: Type.Integer({ minimum: 0, default: 0, description: 'Constant stride offset (Phi-3-small: 1).' }),
      dense_heads: Type.Integer({ minimum: 0, default: 0, description: 'The last dense_heads heads are dense-causal.' }),
      scale: scaleParam,
    },
    { additionalProperties: false },
  ),
  inputs: {
    q: tensor({ dtype: 'float32', rank: 4, doc: 'queries [B,H,Nq,D]' }),
    k: tensor({ dtype: 'float32', rank: 4, doc: 'keys [B,H,Nk,D]' }),
    v: tensor({ dtype: 'float32', rank: 4, doc: 'values [B,H,Nk,Dv]' }),
  },
  outputs: { out: tensor({ dtype: 'float32', doc: '[B,H,Nq,Dv]' }) },
  shape: ({ q, k, v }, p) => {
    const d = qkvShapes(q, k, v);
    if (typeof d.H === 'number' && p.dense_heads > d.H) throw new ParamError(`dense_heads ${p.dense_heads} exceeds the number of heads ${d.H}`, '/params/dense_heads');
    return { out: [d.B, d.H, d.Nq, d.Dv] };
  },
  run: ({ q, k, v }, p, { tf }) => {
    const [, h, nq, dim] = dims4(q);
    const nk = dims4(k)[2];
    const mask = maskTensor(tf, p, h, nq, nk);
    return { out: tf.matMul(maskedSoftmax(tf, scaledLogits(tf, q, k, resolveScale(p.scale, dim)), mask), v) };
  },
});
