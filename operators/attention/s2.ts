import type { Tensor } from '@tensorflow/tfjs-core';
import { defineOperator, ParamError, tensor, Type } from '../../core/operator/index.js';
import { blockSparseCausal } from './block-sparse.js';
import { dims4, qkvShapes, resolveScale, scaleParam } from './common.js';
import { s2Blocks } from './s2-pattern.js';

export { headStep, s2Blocks, s2Mask } from './s2-pattern.js';
export type { S2Pattern } from './s2-pattern.js';

/** S2-Attention: per-head strided block-sparse causal attention (heterogeneous context sharding). */
export const s2Attention = defineOperator({
  id: 'attention.s2',
  version: 2,
  summary: 'softmax attention under the S2 block-sparse causal mask: local blocks plus a per-head vertical stride (heads shard the context)',
  description:
    'S2-Attention ("S2-Attention: Hardware-Aware Context Sharding Among Attention Heads", Lin et al., 2024; ' +
    'linxihui/dkernel, Phi-3-small). Causal only (bottom-right aligned). Blocks of block_size tokens; head h’s query ' +
    'block qb sees key block kb ≤ qb iff qb − kb < local_blocks or (kb + h·head_step + head_offset) mod vert_stride = 0 ' +
    '(head_step null = max(1, ⌊vert_stride/H⌋)); the token-level causal mask applies on top and the last dense_heads ' +
    'heads are dense-causal. The union over heads covers the whole causal context when the offsets h·head_step + ' +
    'head_offset hit every residue mod vert_stride (e.g. head_step 1 and H ≥ vert_stride). ' +
    'Block-sparse: only the active (query block, key block) pairs are computed (per chunk of query blocks, the active ' +
    'K/V blocks are gathered and multiplied in one batched matMul), so time is O(B·H·Nq·A·block_size·(D+Dv)) with ' +
    'A ≈ local_blocks + Nk/(block_size·vert_stride) active blocks per query block, and no Nq×Nk tensor is allocated ' +
    '(dense heads cost O(Nq·Nk) time, but are chunked the same way). It equals attention.softmax under the explicit ' +
    'S2 mask; queries before the first key (Nq > Nk) return 0. Float32: ~1e-6 relative.',
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
    const [b, h, nq, dim] = dims4(q);
    const nk = dims4(k)[2];
    const dv = dims4(v)[3];
    const scale = resolveScale(p.scale, dim);
    // sparse heads and the (last) dense heads separately: a dense head's A would widen every head's gather
    const groups: Tensor[] = [];
    const split = Math.max(0, h - p.dense_heads);
    for (const [h0, h1] of [[0, split], [split, h]]) {
      if (h1 <= h0) continue;
      const part = (x: Tensor, c: number, n: number) => (h1 - h0 === h ? x : tf.slice(x, [0, h0, 0, 0], [b, h1 - h0, n, c]));
      groups.push(
        blockSparseCausal(tf, part(q, dim, nq), part(k, dim, nk), part(v, dv, nk), {
          blockSize: p.block_size,
          scale,
          blocks: (hh, qb) => s2Blocks(p, h, h0 + hh, qb),
        }),
      );
    }
    return { out: groups.length === 1 ? groups[0] : tf.concat(groups, 1) };
  },
});
