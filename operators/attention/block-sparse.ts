/**
 * attention/block-sparse — causal softmax attention that computes only listed (query block, key block)
 * pairs. Per query-block chunk it gathers the active K/V blocks of every head into
 * [B, H, T, A·bs, ·] (A = most active blocks of a query block in the chunk; shorter lists are padded
 * with a masked dummy block), makes one batched matMul for the logits, masks, softmaxes over the
 * A·bs keys and makes one batched matMul with V. Time O(B·H·Nq·A·bs·(D+Dv)), memory per chunk
 * bounded by CHUNK_ELEMENTS logits: no Nq×Nk tensor ever exists.
 *
 * Blocks are in absolute positions (bottom-right aligned causal): query i sits at i + Nk − Nq, and its
 * block qb sees keys j ≤ i + Nk − Nq of the listed blocks kb ≤ qb (the diagonal block qb is token-causal).
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import type { TF } from '../../core/operator/index.js';
import { dims4, MASKED } from './common.js';

/** Logit elements per chunk: keeps a chunk's temporaries to a few MB whatever N is. */
export const CHUNK_ELEMENTS = 1 << 18;

/**
 * out [B,H,Nq,Dv] for q [B,H,Nq,D], k [B,H,Nk,D], v [B,H,Nk,Dv]. `blocks(h, qb)` lists the key blocks
 * (each ≤ qb, qb included) that head h's query block qb sees. Queries before the first key (Nq > Nk)
 * see nothing and return 0.
 */
export function blockSparseCausal(
  tf: TF,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  o: { blockSize: number; scale: number; blocks: (h: number, qb: number) => number[] },
): Tensor {
  const [b, h, nq, d] = dims4(q);
  const nk = dims4(k)[2];
  const dv = dims4(v)[3];
  const bs = o.blockSize;
  const blind = Math.max(0, nq - nk); // leading queries at negative positions
  const nq1 = nq - blind;
  if (nq1 === 0 || h === 0) return tf.zeros([b, h, nq, dv]);
  const off = nk - nq1; // ≥ 0: the remaining query i sits at position i + off
  const nkb = Math.ceil(nk / bs);
  const qb0 = Math.floor(off / bs); // first query block
  const nqb = nkb - qb0;
  const front = off - qb0 * bs; // padding rows so that row r of block t sits at (qb0 + t)·bs + r

  // keys/values padded to whole blocks, heads and blocks flattened for one gather per chunk
  const padK = (x: Tensor, c: number) => tf.reshape(tf.pad(x, [[0, 0], [0, 0], [0, nkb * bs - nk], [0, 0]]), [b, h * nkb, bs, c]);
  const kp = padK(k, d);
  const vp = padK(v, dv);
  const qs = blind > 0 ? tf.slice(q, [0, 0, blind, 0], [b, h, nq1, d]) : q;
  const qp = tf.reshape(tf.pad(tf.mul(qs, o.scale), [[0, 0], [0, 0], [front, nqb * bs - front - nq1], [0, 0]]), [b, h, nqb, bs, d]);
  // inside the diagonal block key c is visible to row r iff c ≤ r
  const triBias = tf.tidy(() => {
    const r = tf.reshape(tf.range(0, bs, 1, 'int32'), [1, 1, 1, bs, 1, 1]);
    const c = tf.reshape(tf.range(0, bs, 1, 'int32'), [1, 1, 1, 1, 1, bs]);
    return tf.mul(tf.cast(tf.greater(c, r), 'float32'), MASKED);
  });

  const lists = Array.from({ length: h }, (_, hh) => Array.from({ length: nqb }, (_, t) => o.blocks(hh, qb0 + t)));
  const widest = Math.max(...lists.flat().map((l) => l.length));
  const tc = Math.max(1, Math.floor(CHUNK_ELEMENTS / (b * h * bs * widest * bs)));
  const outs: Tensor[] = [];
  for (let t0 = 0; t0 < nqb; t0 += tc) {
    const t1 = Math.min(nqb, t0 + tc);
    const n = t1 - t0;
    let a = 0;
    for (let hh = 0; hh < h; hh++) for (let t = t0; t < t1; t++) a = Math.max(a, lists[hh][t].length);
    const idx = new Int32Array(h * n * a);
    const slotBias = new Float32Array(h * n * a).fill(MASKED); // 0 = active block, MASKED = dummy
    const diag = new Float32Array(h * n * a);
    for (let hh = 0; hh < h; hh++)
      for (let t = t0; t < t1; t++) {
        const l = lists[hh][t];
        const base = (hh * n + (t - t0)) * a;
        for (let s = 0; s < a; s++) idx[base + s] = hh * nkb + (s < l.length ? l[s] : 0);
        for (let s = 0; s < l.length; s++) {
          slotBias[base + s] = 0;
          if (l[s] === qb0 + t) diag[base + s] = 1;
        }
      }
    outs.push(
      tf.tidy(() => {
        const ix = tf.tensor1d(idx, 'int32');
        const kg = tf.reshape(tf.gather(kp, ix, 1), [b, h, n, a * bs, d]);
        const vg = tf.reshape(tf.gather(vp, ix, 1), [b, h, n, a * bs, dv]);
        const qc = n === nqb ? qp : tf.slice(qp, [0, 0, t0, 0, 0], [b, h, n, bs, d]);
        // inner dimension D: clear of the webgpu transpose_b bug (inner ≥ 2048)
        const logits = tf.matMul(qc, kg, false, true); // [B,H,n,bs,A·bs]
        const sb = tf.tensor(slotBias, [1, h, n, 1, a, 1]);
        const db = tf.tensor(diag, [1, h, n, 1, a, 1]);
        const bias = tf.reshape(tf.add(sb, tf.mul(db, triBias)), [1, h, n, bs, a * bs]);
        // every real row keeps its own key (diagonal, c = 0 ≤ r): softmax never sees an empty row
        return tf.matMul(tf.softmax(tf.add(logits, bias)), vg); // [B,H,n,bs,Dv]
      }),
    );
  }
  const all = tf.reshape(outs.length === 1 ? outs[0] : tf.concat(outs, 2), [b, h, nqb * bs, dv]);
  const out = tf.slice(all, [0, 0, front, 0], [b, h, nq1, dv]);
  return blind > 0 ? tf.concat([tf.zeros([b, h, blind, dv]), out], 2) : out;
}
