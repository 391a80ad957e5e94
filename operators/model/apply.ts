import { defineOperator, json, tensor, tensors, Type } from '../../core/operator/index.js';
import { checkParams, mlpPredict, parseMlpModel } from './mlp-lib.js';

/** Forward pass of a model.mlp network. */
export const apply = defineOperator({
  id: 'model.apply',
  version: 1,
  summary: 'Predictions f(x) = α·z_L(x; θ) (− α·z_L(x; θ₀) when the model is centered)',
  description: 'Reads the description written by model.mlp; `init` (the initial parameters) is required for centered models.',
  params: Type.Object({}, { additionalProperties: false }),
  inputs: {
    params: tensors({ doc: 'parameters {W0, b0, …}' }),
    model: json({ doc: 'description from model.mlp' }),
    x: tensor({ dtype: 'float32', rank: 2, doc: 'inputs [n, d]' }),
    init: tensors({ optional: true, doc: 'initial parameters θ₀ (centered models only)' }),
  },
  outputs: { out: tensor({ dtype: 'float32', doc: 'predictions [n, k]' }) },
  examples: [{ inputs: { params: { from: { op: 'model.mlp', port: 'params', params: { widths: [3, 8, 2] }, key: 'net' } }, model: { from: { op: 'model.mlp', port: 'model', params: { widths: [3, 8, 2] }, key: 'net' } }, x: { shape: [5, 3] } } }],
  shape: ({ x, model }) => {
    const m = model.value as { widths?: number[] } | undefined;
    const k = m && Array.isArray(m.widths) ? m.widths[m.widths.length - 1] : null;
    return { out: [x.shape![0], k] };
  },
  run: ({ params, model, x, init }, _p, { tf }) => {
    const m = parseMlpModel(model);
    checkParams(m, params);
    if (init) checkParams(m, init);
    return { out: mlpPredict(tf, m, params, x, init) };
  },
});
