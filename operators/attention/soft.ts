import type { Tensor } from '@tensorflow/tfjs-core';
import { defineOperator, expectDim, expectRank, OperatorError, ShapeError, tensor, Type } from '../../core/operator/index.js';
import type { TF } from '../../core/operator/index.js';
import { pinvNewton } from '../linalg/index.js';
import { dims4, qkvShapes } from './common.js';

/** exp(−|a_i − b_j|²/2) for rows a [..,n,D], b [..,m,D] (inputs already scaled by D^(−1/4)). */
function gaussian(tf: TF, a: Tensor, b: Tensor): Tensor {
  return tf.tidy(() => {
    const aa = tf.sum(tf.square(a), -1, true);
    const bb = tf.transpose(tf.sum(tf.square(b), -1, true), [0, 1, 3, 2]);
    const d2 = tf.relu(tf.sub(tf.add(aa, bb), tf.mul(tf.matMul(a, b, false, true), 2)));
    return tf.exp(tf.mul(d2, -0.5));
  });
}

/** [m, n] mean-pooling matrix over m contiguous segments [⌊s·n/m⌋, ⌊(s+1)·n/m⌋). */
function poolingMatrix(m: number, n: number): Float32Array {
  const p = new Float32Array(m * n);
  for (let s = 0; s < m; s++) {
    const lo = Math.floor((s * n) / m);
    const hi = Math.floor(((s + 1) * n) / m);
    for (let i = lo; i < hi; i++) p[s * n + i] = 1 / (hi - lo);
  }
  return p;
}

/** SOFT: softmax-free Gaussian-kernel attention with a Nyström low-rank form (Lu et al., NeurIPS 2021). */
export const softAttention = defineOperator({
  id: 'attention.soft',
  version: 1,
  unsupportedBackends: { webgpu: 'its Newton–Schulz pseudo-inverse returns NaN on tfjs-webgpu 4.22' },
  summary: 'out = K(Q,L)·K(L,L)⁺·K(L,K)·V, K(a,b) = exp(−|a−b|²/(2√D)), K(L,L)⁺ by Newton–Schulz; optional symmetric normalisation',
  description:
    'SOFT ("SOFT: Softmax-free Transformer with Linear Complexity", Lu et al., NeurIPS 2021; fudan-zvg/SOFT) and the ' +
    'symmetric normalisation of SOFT++. k is tied to q unless given. Landmarks L [B,H,m,D]: the `landmarks` input, else ' +
    'means of m contiguous segments of q (segment s = rows ⌊s·N/m⌋ … ⌊(s+1)·N/m⌋−1). K(L,L)⁺ is the Moore–Penrose ' +
    'pseudo-inverse by Newton–Schulz from V₀ = αAᵀ, α = 1/(‖A‖₁‖A‖∞) (linalg pinvNewton; at most newton_iters steps, ' +
    'stopping at its tolerance or round-off floor; fails with not_converged otherwise) — a pseudo-inverse, not ' +
    'SOFT-CUDA’s (A + 0.01 I)⁻¹. normalize "sym": d = S̃1 computed as K(Q,L)(P(K(L,K)1)) in linear time (and d′ = S̃ᵀ1 for ' +
    'the keys, equal to d when k is tied), out = D^(−1/2) S̃ D′^(−1/2) V; a non-positive degree fails with ' +
    'non_positive_degree. Time O(N·m·(D+Dv) + iters·m³), memory O(N·m). Float32 accuracy is bounded by the ' +
    'conditioning of K(L,L): ~1e-5 relative for well-separated landmarks.',
  examples: [{ params: { num_landmarks: 4, newton_iters: 60 }, inputs: { q: { shape: [1, 2, 16, 8] }, v: { shape: [1, 2, 16, 3] } } }],
  params: Type.Object(
    {
      num_landmarks: Type.Integer({ minimum: 1, default: 49, description: 'm, when landmarks are pooled from q.' }),
      newton_iters: Type.Integer({ minimum: 1, default: 20, description: 'Most Newton–Schulz iterations for K(L,L)⁺.' }),
      normalize: Type.Union([Type.Literal('none'), Type.Literal('sym')], { default: 'none', description: '"sym": SOFT++ symmetric normalisation.' }),
    },
    { additionalProperties: false },
  ),
  inputs: {
    q: tensor({ dtype: 'float32', rank: 4, doc: 'queries [B,H,N,D]' }),
    v: tensor({ dtype: 'float32', rank: 4, doc: 'values [B,H,Nk,Dv]' }),
    k: tensor({ dtype: 'float32', rank: 4, optional: true, doc: 'keys [B,H,Nk,D]; tied to q when absent' }),
    landmarks: tensor({ dtype: 'float32', rank: 4, optional: true, doc: 'landmarks [B,H,m,D]; pooled from q when absent' }),
  },
  outputs: { out: tensor({ dtype: 'float32', doc: '[B,H,N,Dv]' }) },
  shape: ({ q, v, k, landmarks }, p) => {
    const d = qkvShapes(q, k, v);
    if (landmarks?.shape) {
      const sl = landmarks.shape;
      expectRank(sl, 4, 'landmarks [B,H,m,D]', '/inputs/landmarks');
      expectDim(sl[0], d.B, 'batch of landmarks and q differs', '/inputs/landmarks');
      expectDim(sl[1], d.H, 'heads of landmarks and q differ', '/inputs/landmarks');
      expectDim(sl[3], d.D, 'landmarks and q differ in D', '/inputs/landmarks');
    } else if (typeof d.Nq === 'number' && p.num_landmarks > d.Nq) {
      throw new ShapeError(`num_landmarks ${p.num_landmarks} exceeds the sequence length ${d.Nq}`, '/params/num_landmarks');
    }
    return { out: [d.B, d.H, d.Nq, d.Dv] };
  },
  run: async ({ q, v, k, landmarks }, p, { tf, note }) => {
    const [b, h, n, dim] = dims4(q);
    if (!landmarks && p.num_landmarks > n) throw new OperatorError('shape', `num_landmarks ${p.num_landmarks} exceeds the sequence length ${n}`);
    const c = dim ** -0.25;
    const [k1, a, k3] = tf.tidy(() => {
      const qs = tf.mul(q, c);
      const ks = k ? tf.mul(k, c) : qs;
      let ls: Tensor;
      if (landmarks) ls = tf.mul(landmarks, c);
      else {
        const m = p.num_landmarks;
        const pool = tf.broadcastTo(tf.tensor2d(poolingMatrix(m, n), [m, n]), [b * h, m, n]);
        ls = tf.reshape(tf.matMul(pool, tf.reshape(qs, [b * h, n, dim])), [b, h, m, dim]);
      }
      return [gaussian(tf, qs, ls), gaussian(tf, ls, ls), gaussian(tf, ls, ks)];
    });
    let pinv: Tensor | undefined;
    try {
      const r = await pinvNewton(tf, a, { maxIter: p.newton_iters }).catch((e: unknown) => {
        if (e instanceof OperatorError && e.code === 'not_converged') {
          throw new OperatorError('not_converged', `attention.soft: K(L,L)⁺ did not converge in newton_iters = ${p.newton_iters} (ill-conditioned landmarks; raise newton_iters): ${e.message}`, e.details);
        }
        throw e;
      });
      pinv = r.out;
      note('pinv', { ...r.info });
      if (p.normalize === 'none') {
        const pk = pinv;
        return { out: tf.tidy(() => tf.matMul(k1, tf.matMul(pk, tf.matMul(k3, v)))) };
      }
      const pk = pinv;
      const [dq, dk] = tf.tidy(() => [
        tf.matMul(k1, tf.matMul(pk, tf.sum(k3, -1, true))), // S̃1 [B,H,N,1]
        tf.matMul(k3, tf.matMul(pk, tf.sum(k1, 2, true), true, true), true, false), // S̃ᵀ1 [B,H,Nk,1]
      ]);
      try {
        const minT = tf.tidy(() => tf.minimum(tf.min(dq), tf.min(dk)));
        const min = (await minT.data())[0];
        minT.dispose();
        if (!(min > 0)) throw new OperatorError('non_positive_degree', `attention.soft: normalize "sym" needs positive degrees S̃1, got min ${min}`, { min });
        return { out: tf.tidy(() => tf.mul(tf.rsqrt(dq), tf.matMul(k1, tf.matMul(pk, tf.matMul(k3, tf.mul(tf.rsqrt(dk), v)))))) };
      } finally {
        tf.dispose([dq, dk]);
      }
    } finally {
      tf.dispose([k1, a, k3]);
      pinv?.dispose();
    }
  },
});
