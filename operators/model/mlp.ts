import { defineOperator, json, ParamError, tensors, Type } from '../../core/operator/index.js';
import type { TensorMeta } from '../../core/operator/index.js';
import { ACTIVATIONS, buildMlpModel, initMlpParams, PARAMETERIZATIONS, toJson } from './mlp-lib.js';

/** A fully connected network: its seeded initial parameters and its description. */
export const mlp = defineOperator({
  id: 'model.mlp',
  version: 1,
  summary: 'MLP f(x) = α·z_L, z_l = φ(z_{l−1})·(m_l w_l) + m_b b_l, abc-parameterised (standard | ntk | mup); seeded init',
  description:
    'Parameterisations as explicit abc multipliers (Yang & Hu 2021, "Feature learning in infinite-width networks", ' +
    'Table 3; the NTK form of Jacot et al. 2018): each layer of the `model` output lists init_std, multiplier, ' +
    'lr_mult and the exponents a, b, c. standard: W = w ~ N(0, σ_w²/n_in). ntk: W = σ_w/√n_in·w, w ~ N(0,1), ' +
    'b = σ_b·β. mup: input layer W = σ_w√(n/d)·w, w ~ N(0,1/n); hidden standard; output W = w/√n_in, ' +
    'w ~ N(0,σ_w²/n_in) (the 1/n output multiplier of mean-field for one hidden layer). ' +
    'Activations: relu, erf, tanh, gelu (exact, via erf), identity, quadratic φ(z) = z + εz²/2. ' +
    'centered: predictions are f − f(θ₀) (model.apply then needs the initial parameters as `init`). ' +
    'Initial parameters are drawn in JavaScript from the node seed (same values on every backend).',
  stochastic: true,
  params: Type.Object(
    {
      widths: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 2, default: [1, 64, 1], description: 'Layer widths [d, n_1, …, n_L, k] (input, hidden…, output).' }),
      activation: Type.Union(ACTIVATIONS.map((a) => Type.Literal(a)), { default: 'relu', description: 'Nonlinearity φ of the hidden layers.' }),
      epsilon: Type.Number({ default: 1, description: 'ε of the quadratic activation φ(z) = z + εz²/2 (ignored otherwise).' }),
      parameterization: Type.Union(PARAMETERIZATIONS.map((a) => Type.Literal(a)), { default: 'standard', description: 'standard | ntk | mup (abc multipliers, see description).' }),
      W_std: Type.Number({ minimum: 0, default: 1, description: 'σ_w: weight scale (variance σ_w²/fan_in in effect).' }),
      b_std: Type.Number({ minimum: 0, default: 0, description: 'σ_b: bias scale (0: biases start at 0; under ntk they then have multiplier 0).' }),
      output_scale: Type.Number({ default: 1, description: 'α: the output multiplier f = α·z_L (the lazy/rich knob).' }),
      centered: Type.Boolean({ default: false, description: 'Predict f − f(θ₀) (train the difference from initialisation).' }),
      bias: Type.Boolean({ default: true, description: 'Give every layer a bias.' }),
    },
    { additionalProperties: false },
  ),
  inputs: {},
  outputs: {
    params: tensors({ doc: 'initial parameters {W0: [d, n_1], b0: [n_1], …}' }),
    model: json({ doc: 'model description read by model.apply and train.fit' }),
  },
  examples: [{ params: { widths: [3, 16, 2], b_std: 0.1 }, inputs: {} }],
  shape: (_i, p) => {
    if (p.widths.length < 2) throw new ParamError('widths needs at least [d, k]', '/params/widths');
    const entries: Record<string, TensorMeta> = {};
    for (let l = 0; l + 1 < p.widths.length; l++) {
      entries[`W${l}`] = { kind: 'tensor', dtype: 'float32', shape: [p.widths[l], p.widths[l + 1]] };
      if (p.bias) entries[`b${l}`] = { kind: 'tensor', dtype: 'float32', shape: [p.widths[l + 1]] };
    }
    return { params: { kind: 'tensors', entries }, model: { kind: 'json', value: toJson(buildMlpModel(p)) } };
  },
  run: (_i, p, { tf, seed }) => {
    const model = buildMlpModel(p);
    return { params: initMlpParams(tf, model, seed), model: toJson(model) };
  },
});
