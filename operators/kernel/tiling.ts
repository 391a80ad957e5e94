/**
 * kernel/tiling — assembles an [n1, n2] kernel matrix (or several of the same shape) from tiles so
 * that memory is bounded by the outputs, not by temporaries: any N works (no batch size that must
 * divide N). A symmetric call (x2 absent) computes only the blocks on and above the diagonal and
 * mirrors them, and marks the diagonal blocks so that callers can make the diagonal exact.
 *
 * Peak memory: the outputs (host Float32Arrays), their final tensors, and one tile's temporaries
 * (`tileEntries` entries per temporary). When one tile covers the whole matrix it is returned as is.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import type { TF } from '../../core/operator/context.js';
import { OperatorError } from '../../core/operator/errors.js';

/** Default entries per tile: 2¹⁸ (1 MiB per float32 temporary, cache-friendly on wasm/cpu). */
export const DEFAULT_TILE_ENTRIES = 1 << 18;

export interface Tile {
  /** Rows r0 ≤ i < r1 of x1 and columns c0 ≤ j < c1 of x2. */
  r0: number;
  r1: number;
  c0: number;
  c1: number;
  /** A diagonal block of a symmetric call: entry (i, i) of the tile is a diagonal entry. */
  diagonal: boolean;
}

export interface TiledOptions {
  /** Entries per tile (default DEFAULT_TILE_ENTRIES). */
  tileEntries?: number;
  signal?: AbortSignal;
  /** Called after each tile with the fraction done. */
  onTile?: (done: number, total: number) => void;
}

/** The tiles of an [n1, n2] matrix: square blocks (upper triangle) when symmetric, row strips otherwise. */
export function planTiles(n1: number, n2: number, symmetric: boolean, tileEntries = DEFAULT_TILE_ENTRIES): Tile[] {
  const tiles: Tile[] = [];
  if (symmetric) {
    const b = Math.max(1, Math.floor(Math.sqrt(tileEntries)));
    for (let r0 = 0; r0 < n1; r0 += b) {
      for (let c0 = r0; c0 < n1; c0 += b) {
        tiles.push({ r0, r1: Math.min(n1, r0 + b), c0, c1: Math.min(n1, c0 + b), diagonal: r0 === c0 });
      }
    }
  } else {
    const rows = Math.max(1, Math.floor(tileEntries / Math.max(1, n2)));
    for (let r0 = 0; r0 < n1; r0 += rows) tiles.push({ r0, r1: Math.min(n1, r0 + rows), c0: 0, c1: n2, diagonal: false });
  }
  return tiles;
}

/** A bool [n, n] mask of the diagonal (for a diagonal tile). */
export function diagonalMask(tf: TF, n: number): Tensor {
  return tf.tidy(() => tf.cast(tf.eye(n), 'bool'));
}

/**
 * Computes `count` [n1, n2] matrices tile by tile. `compute` is synchronous, runs inside a tidy and
 * returns `count` tensors of shape [r1 − r0, c1 − c0]; the caller owns the returned tensors.
 */
export async function assembleTiled(
  tf: TF,
  n1: number,
  n2: number,
  symmetric: boolean,
  count: number,
  compute: (tile: Tile) => Tensor[],
  options: TiledOptions = {},
): Promise<Tensor[]> {
  if (symmetric && n1 !== n2) throw new Error('kernel/tiling: a symmetric matrix must be square');
  const tiles = planTiles(n1, n2, symmetric, options.tileEntries);
  if (tiles.length === 0) return Array.from({ length: count }, () => tf.zeros([n1, n2]));
  if (tiles.length === 1) {
    const out = tf.tidy(() => compute(tiles[0]));
    options.onTile?.(1, 1);
    return out;
  }
  const hosts = Array.from({ length: count }, () => new Float32Array(n1 * n2));
  for (let t = 0; t < tiles.length; t++) {
    if (options.signal?.aborted) throw new OperatorError('aborted', 'kernel computation cancelled');
    const tile = tiles[t];
    const parts = tf.tidy(() => compute(tile));
    let datas: Float32Array[];
    try {
      datas = (await Promise.all(parts.map((p) => p.data()))) as Float32Array[];
    } finally {
      tf.dispose(parts);
    }
    const rows = tile.r1 - tile.r0;
    const cols = tile.c1 - tile.c0;
    for (let o = 0; o < count; o++) {
      const host = hosts[o];
      const src = datas[o];
      for (let i = 0; i < rows; i++) host.set(src.subarray(i * cols, (i + 1) * cols), (tile.r0 + i) * n2 + tile.c0);
      if (symmetric && !tile.diagonal) {
        // Mirror: entry (i, j) of the tile is (r0 + i, c0 + j); write it at (c0 + j, r0 + i).
        for (let i = 0; i < rows; i++) {
          const base = i * cols;
          const col = tile.r0 + i;
          for (let j = 0; j < cols; j++) host[(tile.c0 + j) * n2 + col] = src[base + j];
        }
      }
    }
    options.onTile?.(t + 1, tiles.length);
  }
  return hosts.map((h) => tf.tensor2d(h, [n1, n2]));
}

/** Which of kernel.nn's two outputs a call wants (both unless told). */
export interface KernelOutputs {
  nngp: boolean;
  ntk: boolean;
}

/** The wanted tiles of one step's result, in the order `namedOutputs` reads them back. */
export function tileOutputs(tf: TF, want: KernelOutputs, s: { K: Tensor; T: Tensor | null }): Tensor[] {
  const out: Tensor[] = [];
  if (want.nngp) out.push(s.K);
  if (want.ntk) out.push(s.T ?? tf.zerosLike(s.K));
  return out;
}

/** The assembled outputs of `assembleTiled` named again. */
export function namedOutputs(want: KernelOutputs, outs: Tensor[]): { nngp?: Tensor; ntk?: Tensor } {
  let i = 0;
  return { ...(want.nngp ? { nngp: outs[i++] } : {}), ...(want.ntk ? { ntk: outs[i++] } : {}) };
}
