import type { Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import { defineOperator, json, table, tensor, tensors } from '../../core/operator/index.js';
import { parseMlpModel } from '../model/mlp-lib.js';
import { fitParams, trainMlp } from './fit.js';
import { linearPredict } from './lib.js';

/** The first-order Taylor twin of a network around its initial parameters, trained like train.fit. */
export const linearized = defineOperator({
  id: 'train.linearized',
  version: 1,
  summary: 'Trains f_lin(x; θ) = f(x; θ₀) + J(x; θ₀)(θ − θ₀) with train.fit’s optimisers; predictions on x_test',
  description:
    'The linearised network of Lee et al. 2019 ("Wide neural networks of any depth evolve as linear models under ' +
    'gradient descent"): J·Δθ by a forward-mode Jacobian-vector product and the gradient Jᵀ·dL/df by a backward pass, ' +
    'both at θ₀. Same params, minibatch order (node seed) and metrics as train.fit; ntk_* and feature_change tracks ' +
    'are refused (the twin’s NTK and features are fixed). `pred` is the trained twin on x_test (or x when absent). ' +
    'For a centered model f_lin = J(θ − θ₀).',
  stochastic: true,
  params: fitParams,
  inputs: {
    params: tensors({ doc: 'initial parameters θ₀ (from model.mlp)' }),
    model: json({ doc: 'model description (from model.mlp)' }),
    x: tensor({ dtype: 'float32', rank: 2, doc: 'training inputs [n, d]' }),
    y: tensor({ dtype: ['float32', 'int32'], rank: [1, 2], doc: 'targets [n, k] (or [n] floats, or int32 labels)' }),
    x_val: tensor({ dtype: 'float32', rank: 2, optional: true, doc: 'validation inputs' }),
    y_val: tensor({ dtype: ['float32', 'int32'], rank: [1, 2], optional: true, doc: 'validation targets' }),
    x_test: tensor({ dtype: 'float32', rank: 2, optional: true, doc: 'inputs of `pred` (default x)' }),
  },
  outputs: {
    params: tensors({ doc: 'trained twin parameters θ' }),
    metrics: table({ doc: 'one row per logged step' }),
    info: json({ doc: 'as train.fit' }),
    pred: tensor({ dtype: 'float32', doc: 'f_lin on x_test (or x) [m, k]' }),
  },
  examples: [{ params: { steps: 3, log_every: 1, optimizer: { type: 'gd', lr: 0.1 } }, inputs: { params: { from: { op: 'model.mlp', port: 'params', params: { widths: [3, 8, 2] }, key: 'net' } }, model: { from: { op: 'model.mlp', port: 'model', params: { widths: [3, 8, 2] }, key: 'net' } }, x: { shape: [6, 3] }, y: { shape: [6, 2] } } }],
  shape: ({ params, x, x_test, model }) => {
    const m = model.value as { widths?: number[] } | undefined;
    const k = m && Array.isArray(m.widths) ? m.widths[m.widths.length - 1] : null;
    return { params: { kind: 'tensors', entries: params.entries }, metrics: { kind: 'table' }, info: { kind: 'json' }, pred: [(x_test ?? x).shape![0], k] };
  },
  run: async (inputs, p, ctx) => {
    const { tf } = ctx;
    const model = parseMlpModel(inputs.model);
    const res = await trainMlp(ctx, model, inputs.params, inputs.x as Tensor2D, inputs.y, inputs.x_val as Tensor2D | undefined, inputs.y_val, p, 'linearized');
    const pred = tf.tidy(() => linearPredict(tf, model, inputs.params, res.params, (inputs.x_test ?? inputs.x) as Tensor).f);
    return { ...res, pred };
  },
});
