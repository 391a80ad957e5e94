import type { Tensor2D, Tensor3D } from '@tensorflow/tfjs-core';
import { defineOperator, OperatorError, tensor, Type } from '../../core/operator/index.js';
import { constructLsa, expectWeightShape, lsaDims, lsaForward, tokenDims } from './lsa-icl-lib.js';

/** One linear self-attention layer on in-context regression prompts (given or constructed weights). */
export const lsaIcl = defineOperator({
  id: 'model.lsa_icl',
  version: 1,
  summary: 'Linear self-attention e_j ← e_j + W_PV·M·W_KQ·e_j, M = (1/N)Σ_{i≤N} e_i e_iᵀ; ŷ = query y slot; constructed: W_KQ = [[γI,0],[0,0]], W_PV = e_D e_Dᵀ',
  description:
    'von Oswald et al. (2023), "Transformers learn in-context by gradient descent", eq. 1 and Prop. 1; Akyürek et al. (2023). ' +
    'Tokens e_j = [x_j, y_j] ∈ R^{d+1} from data.icl_linear, the query [x_q, 0] last; the N context tokens are the keys and ' +
    'values (the query attends to them, not to itself), every token is updated and the prediction is the query token’s y ' +
    'slot after the layer, ŷ = p·M·W_KQ·e_q with p the last row of W_PV. Weights: the `w_kq` and `w_pv` inputs (e.g. ' +
    'trained by train.lsa_icl), or, when neither is connected, the construction W_KQ = [[γI, 0], [0, 0]], W_PV = e_D e_Dᵀ ' +
    '(the sign convention that makes ŷ positive), for which ŷ = γ·x_q·(1/N)Σ y_i x_i is exactly the prediction of one ' +
    'gradient-descent step of size γ from w = 0 on (1/2N)Σ(w·x_i − y_i)² (predict.gd_icl). Float32: relative to a float64 ' +
    'evaluation ≈ 1e-6 for unit-scale tokens and N ≤ 100.',
  params: Type.Object(
    {
      gamma: Type.Number({ default: 1, description: 'γ of the constructed layer (used only when w_kq and w_pv are not connected).' }),
    },
    { additionalProperties: false },
  ),
  inputs: {
    tokens: tensor({ dtype: 'float32', rank: 3, doc: 'prompts [tasks, n_context + 1, d + 1], query token last (data.icl_linear)' }),
    w_kq: tensor({ dtype: 'float32', rank: 2, optional: true, doc: 'W_KQ = W_Kᵀ W_Q [d + 1, d + 1]; with w_pv, or neither (construction)' }),
    w_pv: tensor({ dtype: 'float32', rank: 2, optional: true, doc: 'W_PV = P·W_V [d + 1, d + 1]; with w_kq, or neither' }),
  },
  outputs: {
    pred: tensor({ dtype: 'float32', doc: 'query predictions ŷ [tasks]' }),
    out: tensor({ dtype: 'float32', doc: 'every token after the layer [tasks, n_context + 1, d + 1]' }),
  },
  examples: [
    { params: { gamma: 0.7 }, inputs: { tokens: { from: { op: 'data.icl_linear', port: 'tokens', params: { tasks: 4, n_context: 6, d: 3 } } } } },
    { inputs: { tokens: { shape: [3, 5, 3] }, w_kq: { shape: [3, 3] }, w_pv: { shape: [3, 3] } } },
  ],
  shape: ({ tokens, w_kq, w_pv }) => {
    const { T, L, D } = tokenDims(tokens.shape, '/inputs/tokens');
    expectWeightShape(w_kq?.shape, D, '/inputs/w_kq');
    expectWeightShape(w_pv?.shape, D, '/inputs/w_pv');
    return { pred: [T], out: [T, L, D] };
  },
  run: ({ tokens, w_kq, w_pv }, p, { tf }) => {
    if (!w_kq !== !w_pv) throw new OperatorError('missing_input', 'connect both w_kq and w_pv, or neither (then the layer is constructed from gamma)');
    const t3 = tokens as Tensor3D;
    const w = w_kq && w_pv ? { wkq: w_kq as Tensor2D, wpv: w_pv as Tensor2D } : constructLsa(tf, lsaDims(t3).D - 1, p.gamma);
    return lsaForward(tf, t3, w.wkq, w.wpv);
  },
});
