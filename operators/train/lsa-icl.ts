import type { Scalar, Tensor, Tensor1D, Tensor2D, Tensor3D } from '@tensorflow/tfjs-core';
import { defineOperator, expectDim, json, OperatorError, table, tensor, Type } from '../../core/operator/index.js';
import type { Table } from '../../core/operator/index.js';
import { expectWeightShape, gammaToLsa, lsaDims, lsaFeatures, lsaLossAndGrads, tokenDims } from '../model/lsa-icl-lib.js';
import { Rng } from '../model/rng.js';
import { allFinite, divergedError } from './lib.js';

/** Trains one linear self-attention layer (W_KQ, W_PV) on in-context regression prompts. */
export const lsaIclTrain = defineOperator({
  id: 'train.lsa_icl',
  version: 1,
  summary: 'Trains model.lsa_icl’s W_KQ, W_PV by full-batch Adam | GD on L = mean_t (p·M_t·W_KQ·e_q,t − y_t)², hand-written gradients',
  description:
    'von Oswald et al. (2023) train one LSA layer on in-context regression and find it matches one gradient-descent step ' +
    'with a tuned step size; Akyürek et al. (2023). The prediction is model.lsa_icl’s ŷ = p·M·W_KQ·e_q (p the last row of ' +
    'W_PV, M = (1/N)Σ_{i≤N} e_i e_iᵀ), the loss the mean squared error over the training prompts (no ½), and the gradients ' +
    'are by hand: ∂L/∂W_KQ = Σ_t r_t (M_t p) e_qᵀ and ∂L/∂p = Σ_t r_t M_t W_KQ e_q with r_t = 2(ŷ_t − y_t)/T (the other ' +
    'rows of W_PV do not reach the prediction: zero gradient, they keep their initial values). parameterization "gamma" ' +
    'trains only Γ of the reduced layer ŷ = x_qᵀ Γ (1/N)Σ y_i x_i (a convex least-squares problem, ∂L/∂Γ = Σ_t r_t x_q g_tᵀ) ' +
    'and returns W_KQ = [[Γᵀ, 0], [0, 0]], W_PV = e_D e_Dᵀ. Both are computed from per-prompt features that make ŷ linear ' +
    'in the weights (D³ = (d+1)³ numbers per prompt for full, d² for gamma), formed once. Full batch; Adam is ' +
    'bias-corrected (Kingma & Ba). Initial weights: the w_kq / w_pv inputs, or i.i.d. N(0, init_std²) drawn in JavaScript ' +
    'from the node seed (not zero: W = 0 is a saddle of the bilinear full model). Rows of `metrics` at step 0, every ' +
    'log_every steps and the last: loss, and val_loss when tokens_val/y_val are connected (monitoring only). A non-finite ' +
    'loss stops training with OperatorError `diverged` naming the step and the last finite loss. No checkpoints (it runs ' +
    'in seconds).',
  stochastic: true,
  params: Type.Object(
    {
      parameterization: Type.Union([Type.Literal('full'), Type.Literal('gamma')], {
        default: 'full',
        description: 'full: train W_KQ and W_PV (all of the layer); gamma: train Γ [d, d] of the reduced layer ŷ = x_qᵀ Γ (1/N)Σ y_i x_i (W_KQ = [[Γᵀ, 0], [0, 0]], W_PV = e_D e_Dᵀ).',
      }),
      optimizer: Type.Union([Type.Literal('adam'), Type.Literal('gd')], { default: 'adam', description: 'adam (bias-corrected) | gd (full batch).' }),
      lr: Type.Number({ exclusiveMinimum: 0, default: 0.01, description: 'Learning rate η.' }),
      betas: Type.Array(Type.Number({ minimum: 0, exclusiveMaximum: 1 }), { minItems: 2, maxItems: 2, default: [0.9, 0.999], description: 'Adam β₁, β₂.' }),
      eps: Type.Number({ exclusiveMinimum: 0, default: 1e-8, description: 'Adam ε.' }),
      steps: Type.Integer({ minimum: 0, default: 1000, description: 'Number of optimiser steps.' }),
      init_std: Type.Number({ exclusiveMinimum: 0, default: 0.1, description: 'Standard deviation of the seeded initial weights (when w_kq / w_pv are not connected).' }),
      log_every: Type.Integer({ minimum: 1, default: 50, description: 'A metrics row every this many steps (and at steps 0 and the last).' }),
    },
    { additionalProperties: false },
  ),
  inputs: {
    tokens: tensor({ dtype: 'float32', rank: 3, doc: 'training prompts [tasks, n_context + 1, d + 1] (data.icl_linear)' }),
    y: tensor({ dtype: 'float32', rank: 1, doc: 'training query targets [tasks]' }),
    tokens_val: tensor({ dtype: 'float32', rank: 3, optional: true, doc: 'validation prompts (same N and d)' }),
    y_val: tensor({ dtype: 'float32', rank: 1, optional: true, doc: 'validation targets' }),
    w_kq: tensor({ dtype: 'float32', rank: 2, optional: true, doc: 'initial W_KQ [d + 1, d + 1]; with w_pv, or neither (seeded)' }),
    w_pv: tensor({ dtype: 'float32', rank: 2, optional: true, doc: 'initial W_PV [d + 1, d + 1]' }),
  },
  outputs: {
    w_kq: tensor({ dtype: 'float32', doc: 'trained W_KQ [d + 1, d + 1]' }),
    w_pv: tensor({ dtype: 'float32', doc: 'trained W_PV [d + 1, d + 1]' }),
    metrics: table({ doc: 'step, loss (and val_loss) per logged step' }),
    info: json({ doc: '{steps_run, final_loss, optimizer}' }),
  },
  examples: [
    {
      params: { steps: 5, log_every: 1, lr: 0.05 },
      inputs: {
        tokens: { from: { op: 'data.icl_linear', port: 'tokens', params: { tasks: 16, n_context: 8, d: 3 }, key: 'icl' } },
        y: { from: { op: 'data.icl_linear', port: 'y', params: { tasks: 16, n_context: 8, d: 3 }, key: 'icl' } },
      },
    },
  ],
  shape: ({ tokens, y, tokens_val, y_val, w_kq, w_pv }) => {
    const { T, D } = tokenDims(tokens.shape, '/inputs/tokens');
    if (y.shape) expectDim(y.shape[0], T, 'y must have one target per prompt', '/inputs/y');
    if (tokens_val?.shape) {
      const v = tokenDims(tokens_val.shape, '/inputs/tokens_val');
      expectDim(v.D, D, 'tokens_val must have the token width of tokens', '/inputs/tokens_val');
      if (y_val?.shape) expectDim(y_val.shape[0], v.T, 'y_val must have one target per validation prompt', '/inputs/y_val');
    }
    expectWeightShape(w_kq?.shape, D, '/inputs/w_kq');
    expectWeightShape(w_pv?.shape, D, '/inputs/w_pv');
    return { w_kq: [D, D], w_pv: [D, D], metrics: { kind: 'table', columns: tokens_val ? ['step', 'loss', 'val_loss'] : ['step', 'loss'] }, info: { kind: 'json' } };
  },
  run: async (inputs, p, ctx) => {
    const { tf } = ctx;
    const tokens = inputs.tokens as Tensor3D;
    const y = inputs.y as Tensor1D;
    const { T, D } = lsaDims(tokens);
    if (y.shape[0] !== T) throw new OperatorError('shape', `y has ${y.shape[0]} targets for ${T} prompts`);
    const tv = inputs.tokens_val as Tensor3D | undefined;
    const yv = inputs.y_val as Tensor1D | undefined;
    if (!tv !== !yv) throw new OperatorError('missing_input', 'connect both tokens_val and y_val, or neither');
    if (tv && yv) {
      const v = lsaDims(tv);
      if (v.D !== D) throw new OperatorError('shape', `tokens_val has width ${v.D}, tokens ${D}`);
      if (yv.shape[0] !== v.T) throw new OperatorError('shape', `y_val has ${yv.shape[0]} targets for ${v.T} prompts`);
    }
    if (!inputs.w_kq !== !inputs.w_pv) throw new OperatorError('missing_input', 'connect both initial w_kq and w_pv, or neither (seeded init)');

    const full = p.parameterization === 'full';
    const d = D - 1;
    const owned: Tensor[] = [];
    // The trained weights: [W_KQ, W_PV] (full) or [Γ] (gamma).
    let w: Tensor2D[];
    if (inputs.w_kq && inputs.w_pv) {
      w = full ? [(inputs.w_kq as Tensor2D).clone(), (inputs.w_pv as Tensor2D).clone()] : [tf.tidy(() => tf.transpose(tf.slice(inputs.w_kq!, [0, 0], [d, d])) as Tensor2D)];
      if (!full) ctx.note('init_from', 'Γ = the top-left [d, d] block of w_kq, transposed (w_pv ignored)');
    } else {
      const rng = new Rng(ctx.seed);
      w = full ? [tf.tensor2d(rng.normals(D * D, p.init_std), [D, D]), tf.tensor2d(rng.normals(D * D, p.init_std), [D, D])] : [tf.tensor2d(rng.normals(d * d, p.init_std), [d, d])];
    }
    let state: Tensor[] = p.optimizer === 'adam' ? [...w.map((t) => tf.zerosLike(t)), ...w.map((t) => tf.zerosLike(t))] : [];
    const K = w.length;
    try {
      const feats = tf.tidy(() => lsaFeatures(tf, tokens, p.parameterization));
      owned.push(feats);
      const featsVal = tv ? tf.tidy(() => lsaFeatures(tf, tv, p.parameterization)) : undefined;
      if (featsVal) owned.push(featsVal);

      const rows: Table['rows'] = [];
      const columns = tv ? ['step', 'loss', 'val_loss'] : ['step', 'loss'];
      const logRow = async (step: number, loss: number) => {
        const row: Record<string, number> = { step, loss };
        if (yv && featsVal) {
          const l = tf.tidy(() => lsaLossAndGrads(tf, featsVal, yv, w).loss);
          row.val_loss = (await l.data())[0];
          l.dispose();
        }
        rows.push(row);
        return row;
      };
      const divergence = (step: number, value: number, lastFinite: number, initial: number) =>
        divergedError(
          step,
          value,
          lastFinite,
          step === 0 ? 'non-finite tokens, targets or initial weights' : `the learning rate ${p.lr} is too large for ${p.optimizer} (the loss went from ${initial.toPrecision(4)} to ${lastFinite.toPrecision(4)}) — try a smaller lr or init_std`,
          { lr: p.lr },
        );

      const [b1, b2] = p.betas;
      const progressEvery = Math.max(1, Math.floor(p.steps / 200));
      let initial = NaN;
      let lastFinite = NaN;
      let loss = NaN;
      for (let t = 0; t <= p.steps; t++) {
        if (ctx.signal.aborted) throw new OperatorError('cancelled', `train.lsa_icl: cancelled at step ${t}`);
        // The loss at the current weights and, before the last step, the update; one read per step.
        const res = tf.tidy(() => {
          const { loss: l, grads: g } = lsaLossAndGrads(tf, feats, y, w);
          if (t === p.steps) return { l, next: [] as Tensor[], st: [] as Tensor[] };
          if (p.optimizer === 'gd') return { l, next: w.map((wi, i) => tf.sub(wi, tf.mul(g[i], p.lr))), st: [] };
          const m1 = g.map((gi, i) => tf.add(tf.mul(state[i], b1), tf.mul(gi, 1 - b1)));
          const m2 = g.map((gi, i) => tf.add(tf.mul(state[K + i], b2), tf.mul(tf.square(gi), 1 - b2)));
          const c1 = 1 - b1 ** (t + 1);
          const c2 = 1 - b2 ** (t + 1);
          const next = m1.map((mm, i) => tf.sub(w[i], tf.mul(tf.div(tf.div(mm, c1), tf.add(tf.sqrt(tf.div(m2[i], c2)), p.eps)), p.lr)));
          return { l, next, st: [...m1, ...m2] };
        });
        loss = (await (res.l as Scalar).data())[0];
        res.l.dispose();
        if (!Number.isFinite(loss)) {
          tf.dispose([...res.next, ...res.st]);
          throw divergence(t, loss, lastFinite, initial);
        }
        if (t === 0) initial = loss;
        lastFinite = loss;
        if (t % p.log_every === 0 || t === p.steps) await logRow(t, loss);
        if (t % progressEvery === 0 || t === p.steps) ctx.progress({ step: t, total: p.steps, fraction: t / Math.max(p.steps, 1), metrics: { loss } });
        if (t === p.steps) break;
        tf.dispose(w);
        w = res.next as Tensor2D[];
        if (res.st.length) {
          tf.dispose(state);
          state = res.st;
        }
      }
      if (!(await allFinite(tf, w))) throw divergence(p.steps, NaN, lastFinite, initial);
      ctx.note('final_loss', loss);
      const { wkq, wpv } = full ? { wkq: w[0].clone(), wpv: w[1].clone() } : tf.tidy(() => gammaToLsa(tf, w[0]));
      return { w_kq: wkq, w_pv: wpv, metrics: { columns, rows }, info: { steps_run: p.steps, final_loss: loss, optimizer: p.optimizer, parameterization: p.parameterization } };
    } finally {
      tf.dispose([...owned, ...state, ...w]);
    }
  },
});

