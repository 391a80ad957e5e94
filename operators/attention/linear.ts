import { defineOperator, expectDim, expectRank, tensor, Type } from '../../core/operator/index.js';
import { causalParam, dims4, qkvShapes } from './common.js';
import { epsParam, featureMap, featureMapParam, linearCore, numFeaturesParam, resolveEps } from './features.js';
import { drawProjection, orthogonalParam } from './orthogonal.js';

/** Kernelised linear attention: elu+1 / relu (Katharopoulos et al. 2020) or FAVOR+ (Performer). */
export const linearAttention = defineOperator({
  id: 'attention.linear',
  version: 2,
  summary: 'out_i = φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ / (φ(q_i)ᵀ Σ_j φ(k_j) + eps), φ ∈ {elu+1, relu, FAVOR+}; causal by chunked prefix sums',
  description:
    'Linear attention ("Transformers are RNNs", Katharopoulos et al., ICML 2020) and FAVOR+ ("Rethinking Attention with ' +
    'Performers", Choromanski et al., ICLR 2021). FAVOR+: x′ = x/D^¼, φ(x) = exp(Wx′ − |x′|²/2)/√m with W [m,D] the `proj` ' +
    'input or, when absent, drawn from the node seed: orthogonal random features (orthogonal: true; blocks of D orthogonal ' +
    'rows with chi_D norms, rows marginally N(0,I), lower variance) or i.i.d. N(0,1) rows (false); an unbiased estimate of ' +
    'softmax attention at scale 1/√D; rows are max-shifted for stability (exact for eps = 0). Causal (bottom-right ' +
    'aligned) by prefix sums over chunks of 128 keys. Time O(N·m·(D+Dv)), state memory O(m·Dv). A zero denominator ' +
    '(relu, eps = 0) gives 0. Float32: ~1e-5 relative to a float64 evaluation of the same formula.',
  stochastic: true,
  examples: [{ params: { feature_map: 'favor+', num_features: 16, causal: true }, inputs: { q: { shape: [1, 2, 8, 4] }, k: { shape: [1, 2, 8, 4] }, v: { shape: [1, 2, 8, 3] } } }],
  params: Type.Object(
    { feature_map: featureMapParam, num_features: numFeaturesParam, orthogonal: orthogonalParam, causal: causalParam, eps: epsParam },
    { additionalProperties: false },
  ),
  inputs: {
    q: tensor({ dtype: 'float32', rank: 4, doc: 'queries [B,H,Nq,D]' }),
    k: tensor({ dtype: 'float32', rank: 4, doc: 'keys [B,H,Nk,D]' }),
    v: tensor({ dtype: 'float32', rank: 4, doc: 'values [B,H,Nk,Dv]' }),
    proj: tensor({ dtype: 'float32', rank: 2, optional: true, doc: 'FAVOR+ projection W [m,D]; drawn from the node seed when absent' }),
  },
  outputs: { out: tensor({ dtype: 'float32', doc: '[B,H,Nq,Dv]' }) },
  shape: ({ q, k, v, proj }) => {
    const d = qkvShapes(q, k, v);
    if (proj?.shape) {
      expectRank(proj.shape, 2, 'proj [m,D]', '/inputs/proj');
      expectDim(proj.shape[1], d.D, 'proj [m,D] must match the head dimension D', '/inputs/proj');
    }
    return { out: [d.B, d.H, d.Nq, d.Dv] };
  },
  run: ({ q, k, v, proj }, p, { tf, seed }) => {
    const map = p.feature_map;
    const w = map === 'favor+' ? proj ?? drawProjection(tf, p.num_features, dims4(q)[3], seed, p.orthogonal) : undefined;
    const fq = featureMap(tf, q, map, w, true);
    const fk = featureMap(tf, k, map, w, false);
    return { out: linearCore(tf, fq, fk, v, p.causal, resolveEps(p.eps, map)) };
  },
});
