import type { Tensor2D } from '@tensorflow/tfjs-core';
import { defineOperator, json, OperatorError, tensor, tensors, Type } from '../../core/operator/index.js';
import { eigh } from '../linalg/index.js';
import { checkParams, mlpPredict, parseMlpModel } from '../model/mlp-lib.js';
import { parameterGroups } from './fit.js';
import { mlpNtk } from './lib.js';

/** The closed-form gradient-flow predictor of a network's linearisation (mse loss). */
export const ntkFlow = defineOperator({
  id: 'train.ntk_flow',
  version: 1,
  summary: 'f_t(x*) = f₀(x*) + Θ(x*, X)·Θ⁻¹(I − e^{−Θt/N})(y − f₀(X)), Θ the empirical NTK weighted by learning rates',
  description:
    'Gradient flow of the linearised network on L = (1/2N)Σ(f − y)² for time t (= steps of GD with the base rate ' +
    'folded into Θ: Θ = Σ_θ η_θ J_θJ_θᵀ with η_θ the per-parameter rates of train.fit). Discrete GD follows ' +
    '(I − Θ/N)^t instead of e^{−Θt/N}; they agree when ηλ_max/N ≪ 1. Θ⁻¹(I − e^{−Θt/N}) is formed from the ' +
    'eigendecomposition (linalg eigh) in float64 on the host, with its limit t/N for λ → 0. One output only ' +
    '(k = 1: the multi-output NTK has cross-output blocks). A centered model has f₀ ≡ 0.',
  params: Type.Object(
    {
      lr: Type.Number({ exclusiveMinimum: 0, default: 0.1, description: 'Base learning rate η.' }),
      steps: Type.Number({ minimum: 0, default: 100, description: 'Time t in GD steps.' }),
      lr_multipliers: Type.Record(Type.String(), Type.Number({ minimum: 0 }), { default: {}, description: 'As in train.fit.' }),
      frozen: Type.Array(Type.String(), { default: [], description: 'As in train.fit.' }),
    },
    { additionalProperties: false },
  ),
  inputs: {
    params: tensors({ doc: 'initial parameters θ₀' }),
    model: json({ doc: 'model description (from model.mlp)' }),
    x: tensor({ dtype: 'float32', rank: 2, doc: 'training inputs X [n, d]' }),
    y: tensor({ dtype: 'float32', rank: [1, 2], doc: 'targets [n, 1] or [n]' }),
    x_test: tensor({ dtype: 'float32', rank: 2, optional: true, doc: 'prediction inputs x* (default X)' }),
  },
  outputs: {
    pred: tensor({ dtype: 'float32', doc: 'f_t(x*) [m, 1]' }),
    info: json({ doc: '{lambda_min, lambda_max, t}' }),
  },
  examples: [{ params: { steps: 10 }, inputs: { params: { from: { op: 'model.mlp', port: 'params', params: { widths: [3, 8, 1] }, key: 'net' } }, model: { from: { op: 'model.mlp', port: 'model', params: { widths: [3, 8, 1] }, key: 'net' } }, x: { shape: [6, 3] }, y: { shape: [6, 1] } } }],
  shape: ({ x, x_test }) => ({ pred: [(x_test ?? x).shape![0], 1], info: { kind: 'json' } }),
  run: async ({ params, model: modelJson, x, y, x_test }, p, ctx) => {
    const { tf } = ctx;
    const model = parseMlpModel(modelJson);
    checkParams(model, params);
    if (model.widths[model.widths.length - 1] !== 1) throw new OperatorError('bad_model', 'train.ntk_flow needs a single-output network');
    const { trainable, lrOf } = parameterGroups(model, p.lr, p.lr_multipliers, p.frozen);
    const weights = Object.fromEntries(trainable.map((nm) => [nm, lrOf(nm)]));
    const xs = (x_test ?? x) as Tensor2D;
    const n = x.shape[0];
    const m = xs.shape[0];
    const [theta, cross, f0, f0s] = tf.tidy(() => {
      const set = new Set(trainable);
      const zero = (t: Tensor2D) => (model.centered ? tf.zerosLike(t) : t);
      return [
        mlpNtk(tf, model, params, x as Tensor2D, set, { weights }),
        mlpNtk(tf, model, params, xs, set, { x2: x as Tensor2D, weights }),
        zero(mlpPredict(tf, model, params, x, params)),
        zero(mlpPredict(tf, model, params, xs, params)),
      ];
    });
    try {
      const { values, vectors } = await eigh(tf, theta);
      const [lam, V, C, F0, F0s, Y] = await Promise.all([values.data(), vectors.data(), cross.data(), f0.data(), f0s.data(), y.data()]);
      tf.dispose([values, vectors]);
      const t = p.steps;
      // u = V·diag((1 − e^{−λt/N})/λ)·Vᵀ·(y − f₀)
      const coef = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += V[i * n + j] * (Y[i] - F0[i]);
        const l = Math.max(lam[j], 0);
        const a = (l * t) / n;
        coef[j] = s * (a < 1e-8 ? t / n : -Math.expm1(-a) / l);
      }
      const u = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += V[i * n + j] * coef[j];
        u[i] = s;
      }
      const out = new Float32Array(m);
      for (let r = 0; r < m; r++) {
        let s = F0s[r];
        for (let i = 0; i < n; i++) s += C[r * n + i] * u[i];
        out[r] = s;
      }
      const info = { lambda_min: lam[0], lambda_max: lam[n - 1], t };
      ctx.note('ntk_lambda_max', lam[n - 1]);
      return { pred: tf.tensor2d(out, [m, 1]), info };
    } finally {
      tf.dispose([theta, cross, f0, f0s]);
    }
  },
});
