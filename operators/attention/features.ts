/**
 * attention/features — feature maps φ for kernelised (linear) attention and the linear-attention core
 * out_i = φ(q_i)ᵀ S_i / (φ(q_i)ᵀ z_i + eps), S_i = Σ_{j visible} φ(k_j) v_jᵀ, z_i = Σ_{j visible} φ(k_j).
 *  - elu:  φ(x) = elu(x) + 1 (Katharopoulos et al. 2020);  relu: φ(x) = max(x, 0).
 *  - favor+: x' = x/D^¼, φ(x) = exp(W x' − |x'|²/2)/√m (Choromanski et al. 2021, positive random
 *    features), so E[φ(q)·φ(k)] = exp(q·k/√D); W is drawn by ./orthogonal.ts when not given. For stability each query row is shifted by its own max and
 *    all keys of a (batch, head) by one common max: both factors cancel in the ratio (exact when eps = 0).
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { Type } from '../../core/operator/index.js';
import type { TF } from '../../core/operator/index.js';
import { dims4, safeDiv } from './common.js';

export const featureMapParam = Type.Union([Type.Literal('elu'), Type.Literal('relu'), Type.Literal('favor+')], {
  default: 'elu',
  description: 'φ: elu(x)+1, relu(x), or FAVOR+ positive random features.',
});
export const numFeaturesParam = Type.Integer({ minimum: 1, default: 256, description: 'FAVOR+ features m (ignored when proj is given, and for elu/relu).' });
export const epsParam = Type.Union([Type.Null(), Type.Number({ minimum: 0 })], {
  default: null,
  description: 'Added to the denominator; null = 1e-6 for elu/relu, 0 for favor+.',
});

export type FeatureMap = 'elu' | 'relu' | 'favor+';

export function resolveEps(eps: number | null, map: FeatureMap): number {
  return eps ?? (map === 'favor+' ? 0 : 1e-6);
}

/** φ(x) for x [B,H,N,D]; proj [m,D] for favor+; `query` picks the per-row (true) or per-head (false) shift. */
export function featureMap(tf: TF, x: Tensor, map: FeatureMap, proj: Tensor | undefined, query: boolean): Tensor {
  if (map === 'elu') return tf.add(tf.elu(x), 1);
  if (map === 'relu') return tf.relu(x);
  const [b, h, n, d] = dims4(x);
  const m = proj!.shape[0]!;
  const xs = tf.mul(x, d ** -0.25);
  const wx = tf.reshape(tf.matMul(tf.reshape(xs, [b * h * n, d]), proj!, false, true), [b, h, n, m]);
  const hx = tf.sub(wx, tf.mul(tf.sum(tf.square(xs), -1, true), 0.5));
  const shift = query ? tf.max(hx, -1, true) : tf.max(hx, [2, 3], true);
  return tf.mul(tf.exp(tf.sub(hx, shift)), 1 / Math.sqrt(m));
}

/** Rows of chunks for the causal prefix sums. */
export const CAUSAL_CHUNK = 128;

/**
 * Linear attention from features fq [B,H,Nq,m], fk [B,H,Nk,m] and v [B,H,Nk,Dv]. Causal
 * (bottom-right aligned) by chunked prefix sums: a running state (S, z) of the keys before the chunk,
 * plus a masked C×C block inside it. Memory O(B·H·(m·Dv + C²)) besides the inputs.
 */
export function linearCore(tf: TF, fq: Tensor, fk: Tensor, v: Tensor, causal: boolean, eps: number): Tensor {
  const [b, h, nq, m] = dims4(fq);
  const nk = dims4(fk)[2];
  const dv = dims4(v)[3];
  const finish = (num: Tensor, den: Tensor) => safeDiv(tf, num, eps > 0 ? tf.add(den, eps) : den);
  if (!causal) {
    const s = tf.matMul(fk, v, true, false); // [B,H,m,Dv]
    const z = tf.sum(fk, 2, true); // [B,H,1,m]
    return finish(tf.matMul(fq, s), tf.sum(tf.mul(fq, z), -1, true));
  }
  const o = nk - nq;
  let s = tf.zeros([b, h, m, dv]);
  let z = tf.zeros([b, h, 1, m]);
  let done = 0; // keys [0, done) are in (s, z)
  const outs: Tensor[] = [];
  const clampK = (x: number) => Math.min(Math.max(x, 0), nk);
  const absorb = (lo: number, hi: number) => {
    if (hi <= lo) return;
    const fkc = tf.slice(fk, [0, 0, lo, 0], [b, h, hi - lo, m]);
    const vc = tf.slice(v, [0, 0, lo, 0], [b, h, hi - lo, dv]);
    s = tf.add(s, tf.matMul(fkc, vc, true, false));
    z = tf.add(z, tf.sum(fkc, 2, true));
  };
  for (let i0 = 0; i0 < nq; i0 += CAUSAL_CHUNK) {
    const i1 = Math.min(i0 + CAUSAL_CHUNK, nq);
    const lo = clampK(i0 + o);
    const hi = clampK(i1 + o);
    absorb(done, lo);
    done = Math.max(done, lo);
    const fqc = tf.slice(fq, [0, 0, i0, 0], [b, h, i1 - i0, m]);
    let num = tf.matMul(fqc, s);
    let den = tf.sum(tf.mul(fqc, z), -1, true);
    if (hi > lo) {
      const fkc = tf.slice(fk, [0, 0, lo, 0], [b, h, hi - lo, m]);
      const vc = tf.slice(v, [0, 0, lo, 0], [b, h, hi - lo, dv]);
      // key lo + c is visible to query i0 + r iff lo + c ≤ i0 + r + o
      const rows = tf.reshape(tf.range(i0 + o - lo, i1 + o - lo, 1, 'int32'), [i1 - i0, 1]);
      const cols = tf.reshape(tf.range(0, hi - lo, 1, 'int32'), [1, hi - lo]);
      const a = tf.mul(tf.matMul(fqc, fkc, false, true), tf.cast(tf.lessEqual(cols, rows), 'float32'));
      num = tf.add(num, tf.matMul(a, vc));
      den = tf.add(den, tf.sum(a, -1, true));
      absorb(lo, hi);
      done = hi;
    }
    outs.push(finish(num, den));
  }
  return outs.length === 1 ? outs[0] : tf.concat(outs, 2);
}
