import type { Tensor } from '@tensorflow/tfjs-core';
import { defineOperator, expectDim, expectRank, ShapeError, tensor, Type } from '../../core/operator/index.js';
import { causalParam, dims4, qkvShapes, safeDiv } from './common.js';
import { epsParam, featureMap, featureMapParam, numFeaturesParam, resolveEps } from './features.js';
import { drawProjection, orthogonalParam } from './orthogonal.js';
import { toeplitzBias } from './rpe-bias.js';

/** Elements per block of features (block·(Dv+1)·L complex values are alive at once). */
const FFT_BLOCK_ELEMENTS = 1 << 22;

/** What the native backend's kernelflowFused offers this operator (NativeFused in core/run/native-backend.ts). */
interface RpeFftHook {
  rpeFft?(fq: Float32Array, fk: Float32Array, v: Float32Array, cexp: Float32Array, bh: number, heads: number, n: number, m: number, dv: number, causal: boolean, epsTerm: number): Float32Array;
}

/** Kernelised attention with relative positional encoding, the Toeplitz product by FFT (Luo et al., NeurIPS 2021). */
export const rpeFftAttention = defineOperator({
  id: 'attention.rpe_fft',
  version: 3,
  unsupportedBackends: { webgpu: 'tfjs-webgpu 4.22 mis-broadcasts complex tensors in the FFT path' },
  summary: 'out_i = Σ_j c_{i−j} φ(q_i)·φ(k_j) v_j / (Σ_j c_{i−j} φ(q_i)·φ(k_j) + eps), c_t = exp(b_t), the Toeplitz products by FFT',
  description:
    'Kernelised attention with RPE ("Stable, Fast and Accurate: Kernelized Attention with Relative Positional Encoding", ' +
    'Luo et al., NeurIPS 2021). φ as in attention.linear (elu+1, relu, FAVOR+ with `proj` [m,D] or a seeded draw, orthogonal by default). ' +
    'rpe [H, 2N−1] holds b with rpe[h,(i−j)+N−1] = b_{i−j}; c = exp(b − max b) (the shift cancels; eps is rescaled to ' +
    'match). For each feature l the Toeplitz product C·(φ(K)_{:,l} ⊙ [V,1]) is a circulant embedding of length ' +
    'L = 2^⌈log₂(2N−1)⌉ multiplied by tf.spectral.rfft/irfft: O(m·Dv·N log N) time, memory O(N·Dv) per feature (features ' +
    'in blocks); on the native backend one fused C call does the whole feature loop (double-precision FFTs, two real ' +
    'features per complex transform). Causal: c_t = 0 for t < 0. Needs Nq = Nk. The wasm backend has no FFT kernels: the engine runs this ' +
    'node on cpu there and records fallback "cpu" in the manifest. Float32 FFT round-off: ~1e-5 relative to the naive ' +
    'Toeplitz form in float64. method "direct" forms the N×N matrix (φ(Q)φ(K)ᵀ ⊙ C) instead: O(N²·m) time and ' +
    'memory, no FFT, the reference the FFT path is checked against.',
  stochastic: true,
  examples: [{ params: { feature_map: 'elu' }, inputs: { q: { shape: [1, 2, 8, 4] }, k: { shape: [1, 2, 8, 4] }, v: { shape: [1, 2, 8, 3] }, rpe: { shape: [2, 15] } } }],
  params: Type.Object(
    {
      feature_map: featureMapParam,
      num_features: numFeaturesParam,
      orthogonal: orthogonalParam,
      causal: causalParam,
      eps: epsParam,
      method: Type.Union([Type.Literal('fft'), Type.Literal('direct')], { default: 'fft', description: 'fft: Toeplitz products by FFT, O(N log N); direct: the dense O(N²) form.' }),
    },
    { additionalProperties: false },
  ),
  inputs: {
    q: tensor({ dtype: 'float32', rank: 4, doc: 'queries [B,H,N,D]' }),
    k: tensor({ dtype: 'float32', rank: 4, doc: 'keys [B,H,N,D]' }),
    v: tensor({ dtype: 'float32', rank: 4, doc: 'values [B,H,N,Dv]' }),
    rpe: tensor({ dtype: 'float32', rank: 2, doc: 'relative position logits [H, 2N−1], rpe[h,(i−j)+N−1] = b_{i−j}' }),
    proj: tensor({ dtype: 'float32', rank: 2, optional: true, doc: 'FAVOR+ projection [m,D]; drawn from the node seed when absent' }),
  },
  outputs: { out: tensor({ dtype: 'float32', doc: '[B,H,N,Dv]' }) },
  shape: ({ q, k, v, rpe, proj }) => {
    const d = qkvShapes(q, k, v);
    const n = expectDim(d.Nq, d.Nk, 'attention.rpe_fft needs as many queries as keys', '/inputs/k');
    const sr = rpe.shape!;
    expectRank(sr, 2, 'rpe [H, 2N−1]', '/inputs/rpe');
    expectDim(sr[0], d.H, 'rpe rows must equal the number of heads H', '/inputs/rpe');
    if (typeof n === 'number') expectDim(sr[1], 2 * n - 1, `rpe must have 2N−1 = ${2 * n - 1} columns`, '/inputs/rpe');
    if (proj?.shape) expectDim(proj.shape[1], d.D, 'proj [m,D] must match the head dimension D', '/inputs/proj');
    return { out: [d.B, d.H, d.Nq, d.Dv] };
  },
  run: ({ q, k, v, rpe, proj }, p, { tf, seed, note }) => {
    const [b, h, n, dim] = dims4(q);
    const dv = dims4(v)[3];
    if (dims4(k)[2] !== n || rpe.shape[1] !== 2 * n - 1) throw new ShapeError('attention.rpe_fft: needs Nq = Nk = N and rpe [H, 2N−1]', '/inputs/rpe');
    const map = p.feature_map;
    const w = map === 'favor+' ? proj ?? drawProjection(tf, p.num_features, dim, seed, p.orthogonal) : undefined;
    const fq = featureMap(tf, q, map, w, true); // [B,H,N,m]
    const fk = featureMap(tf, k, map, w, false);
    const m = fq.shape[3]!;
    const eps = resolveEps(p.eps, map);
    const bmax = tf.max(rpe);
    const hook = (tf.backend() as { kernelflowFused?: RpeFftHook }).kernelflowFused;
    if (p.method === 'fft' && hook?.rpeFft && b * h * n * m * dv > 0) {
      // native/fft.c: the whole feature loop in one call (double-precision FFTs), same c = exp(b − max b),
      // eps·e^{−max b} and safeDiv rule as below.
      note('kernel_path', 'native-fused');
      const read = (t: Tensor) => t.dataSync() as Float32Array;
      const epsTerm = eps > 0 ? read(tf.mul(tf.exp(tf.neg(bmax)), eps))[0] : 0;
      const out = hook.rpeFft(read(fq), read(fk), read(v), read(tf.exp(tf.sub(rpe, bmax))), b * h, h, n, m, dv, p.causal, epsTerm);
      return { out: tf.tensor(out, [b, h, n, dv], 'float32') };
    }
    note('kernel_path', 'generic');
    if (p.method === 'direct') {
      // (φ(Q)φ(K)ᵀ ⊙ C)·[V, 1] with C = exp(b − max b), zero above the diagonal when causal.
      let c = tf.exp(tf.sub(toeplitzBias(tf, rpe, n), bmax));
      if (p.causal) c = tf.mul(c, tf.linalg.bandPart(tf.ones([n, n]), -1, 0));
      const scores = tf.mul(tf.matMul(fq, fk, false, true), c);
      const num = tf.matMul(scores, v);
      let den = tf.sum(scores, 3, true);
      if (eps > 0) den = tf.add(den, tf.mul(tf.exp(tf.neg(bmax)), eps));
      return { out: safeDiv(tf, num, den) };
    }
    let len = 2; // (at least 2: rfft of length 1 would give len/2 + 1 = 1.5 bins below)
    while (len < 2 * n - 1) len *= 2;
    // circulant first column per head: [t_0 … t_{N−1}, 0 …, t_{−(N−1)} … t_{−1}], shifted by max b
    const pos = tf.exp(tf.sub(tf.slice(rpe, [0, n - 1], [h, n]), bmax));
    const neg = p.causal ? tf.zeros([h, n - 1]) : tf.exp(tf.sub(tf.slice(rpe, [0, 0], [h, n - 1]), bmax));
    const col = tf.concat([pos, tf.zeros([h, len - 2 * n + 1]), neg], 1);
    const cf = tf.reshape(tf.spectral.rfft(col), [1, h, 1, 1, len / 2 + 1]);
    const [cr, ci] = [tf.real(cf), tf.imag(cf)];
    const v1 = tf.concat([v, tf.ones([b, h, n, 1])], 3); // [B,H,N,Dv+1]
    const block = Math.max(1, Math.floor(FFT_BLOCK_ELEMENTS / (b * h * (dv + 1) * len)));
    let acc: Tensor = tf.zeros([b, h, n, dv + 1]);
    for (let l0 = 0; l0 < m; l0 += block) {
      const l1 = Math.min(m, l0 + block);
      const fkb = tf.slice(fk, [0, 0, 0, l0], [b, h, n, l1 - l0]);
      const x = tf.mul(tf.expandDims(fkb, -1), tf.expandDims(v1, 3)); // [B,H,N,mb,Dv+1]
      const xt = tf.pad(tf.transpose(x, [0, 1, 3, 4, 2]), [[0, 0], [0, 0], [0, 0], [0, 0], [0, len - n]]);
      const xf = tf.reshape(tf.spectral.rfft(xt), [b, h, l1 - l0, dv + 1, len / 2 + 1]);
      const [xr, xi] = [tf.real(xf), tf.imag(xf)];
      const prod = tf.complex(tf.sub(tf.mul(xr, cr), tf.mul(xi, ci)), tf.add(tf.mul(xr, ci), tf.mul(xi, cr)));
      // (irfft returns [batch, L] for inputs of rank > 2: reshape back)
      const y = tf.slice(tf.reshape(tf.spectral.irfft(prod), [b, h, l1 - l0, dv + 1, len]), [0, 0, 0, 0, 0], [b, h, l1 - l0, dv + 1, n]); // C·x per feature
      const fqb = tf.slice(fq, [0, 0, 0, l0], [b, h, n, l1 - l0]);
      // Σ_l φ(q_i)_l · y_l[:, i]
      acc = tf.add(acc, tf.sum(tf.mul(tf.transpose(y, [0, 1, 4, 2, 3]), tf.expandDims(fqb, -1)), 3));
    }
    const num = tf.slice(acc, [0, 0, 0, 0], [b, h, n, dv]);
    let den = tf.slice(acc, [0, 0, 0, dv], [b, h, n, 1]);
    if (eps > 0) den = tf.add(den, tf.mul(tf.exp(tf.neg(bmax)), eps));
    return { out: safeDiv(tf, num, den) };
  },
});
