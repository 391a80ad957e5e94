/**
 * attention/s2-pattern — the S2-Attention sparsity pattern (Lin et al. 2024; linxihui/dkernel
 * `get_sparse_attn_mask`): per head, which key blocks each query block sees. Two views of one rule:
 * `s2Blocks` lists the active key blocks (what the block-sparse kernel computes), `s2Mask` expands
 * them to the token-level 0/1 mask (what the dense definition and the tests compare against).
 */

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

/** True for the last dense_heads heads, which are dense-causal. */
export function isDenseHead(p: S2Pattern, heads: number, h: number): boolean {
  return h >= heads - p.dense_heads;
}

/**
 * The key blocks kb ≤ qb that head h's query block qb sees, ascending (qb itself, the diagonal block,
 * always last): qb − kb < local_blocks or (kb + h·head_step + head_offset) mod vert_stride = 0; all of
 * them for a dense head.
 */
export function s2Blocks(p: S2Pattern, heads: number, h: number, qb: number): number[] {
  const dense = isDenseHead(p, heads, h);
  const shift = h * headStep(p, heads) + p.head_offset;
  const out: number[] = [];
  for (let kb = 0; kb <= qb; kb++) {
    if (dense || qb - kb < p.local_blocks || (kb + shift) % p.vert_stride === 0) out.push(kb);
  }
  return out;
}

/**
 * The S2 mask [H, Nq, Nk] as 0/1 floats (host): query i (absolute position i + Nk − Nq) sees key j iff
 * j ≤ i + Nk − Nq and j's block is in s2Blocks of i's block. O(H·Nq·Nk): for tests and small inputs.
 */
export function s2Mask(p: S2Pattern, heads: number, nq: number, nk: number): Float32Array {
  const out = new Float32Array(heads * nq * nk);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < nq; i++) {
      const pos = i + nk - nq;
      if (pos < 0) continue;
      const seen = new Set(s2Blocks(p, heads, h, Math.floor(pos / p.block_size)));
      for (let j = 0; j <= Math.min(pos, nk - 1); j++) {
        if (seen.has(Math.floor(j / p.block_size))) out[(h * nq + i) * nk + j] = 1;
      }
    }
  }
  return out;
}
