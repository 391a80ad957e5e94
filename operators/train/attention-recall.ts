import type { Scalar, Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import { defineOperator, json, OperatorError, ParamError, table, tensor, tensors, Type } from '../../core/operator/index.js';
import type { TensorMeta } from '../../core/operator/index.js';
import { mixSeed, Rng } from '../model/rng.js';
import { recallAccuracy, recallLossAndGrads, type RecallData, type RecallModel, type RecallParamName, type RecallParams } from './attention-recall-lib.js';
import { allFinite, divergedError } from './lib.js';
import { noiseFloor, sampleRecall, tokenWidth, type RecallBatch, type RecallSpec } from './recall-task.js';

// Independent random streams of the seed: the same seed gives the same initial weights whatever
// the attention kind, and the same batches and evaluation set.
const STREAM_INIT = 1;
const STREAM_TRAIN = 2;
const STREAM_EVAL = 3;

/** Trains one single-head attention layer (softmax or sigmoid) on associative recall. */
export const attentionRecall = defineOperator({
  id: 'train.attention_recall',
  version: 1,
  summary: 'Trains q = x_q W_Q, k = x W_K, v = x W_V, z = (Σ_j a_j v_j) W_O with a = softmax(s) | σ(s), s = q·k/√d + b, on associative recall; Adam, hand-written gradients',
  description:
    'A one-layer, single-head attention model on a synthetic associative-recall task, to compare softmax with sigmoid ' +
    'attention (Ramapuram et al., "Theory, Analysis, and Best Practices for Sigmoid Self-Attention", ICLR 2025). Each ' +
    'sequence is n_pairs key→value pairs, one token per pair = [onehot(key); onehot(value)] (width E = n_keys + n_values; ' +
    'keys distinct within a sequence, values uniform), and a query token [onehot(key); 0]; the target is the value paired ' +
    'with the query key. The query attends over the n pair tokens: s_j = q·k_j/√d_qk + b, a = softmax(s) or a_j = σ(s_j) ' +
    '(no row normalisation), o = Σ_j a_j v_j, logits z = o W_O [n_values], loss = mean cross-entropy. b is logit_offset ' +
    '("auto" = −ln n_pairs; a constant cancels in softmax, so softmax ignores it), learned as a scalar parameter when ' +
    'learn_offset. With label_noise p a training label is replaced, with probability p, by a uniform value: irreducible ' +
    'noise, so the best expected loss is the label entropy (info.floor_loss) instead of 0 and losses of converged models ' +
    'can be compared as ratios. Gradients of every parameter are written by hand (checked against central finite differences of a ' +
    'float64 loss in the tests). Adam, bias-corrected (Kingma & Ba), on a fresh batch of batch_size sequences per step. ' +
    'Everything random comes from `seed` (null: the node seed) in separate streams: W_Q, W_K, W_V ~ N(0, init_std²) (they ' +
    'act as embedding tables of the one-hot tokens), W_O ~ N(0, 1/d_v), the training batches and a fixed evaluation set ' +
    'of eval_size sequences. Two nodes given the same seed therefore start from the same weights and see the same batches ' +
    'whatever their attention kind (node seeds differ between nodes, hence the param). Rows of `metrics` at step 0, every ' +
    'log_every steps and the last: loss and accuracy on the evaluation set (the loss is the expectation over the label ' +
    'noise, i.e. cross-entropy against (1 − p)·onehot(value) + p/n_values; accuracy against the true value); ' +
    '`final_loss` is the last row’s loss. A ' +
    'non-finite minibatch loss stops training with OperatorError `diverged` naming the step. No checkpoints (seconds).',
  stochastic: true,
  params: Type.Object(
    {
      attention: Type.Union([Type.Literal('softmax'), Type.Literal('sigmoid')], { default: 'softmax', description: 'softmax: a = softmax_row(s); sigmoid: a_j = σ(s_j).' }),
      logit_offset: Type.Union([Type.Literal('auto'), Type.Number()], { default: 'auto', description: 'Sigmoid offset b (initial value when learned); "auto" = −ln n_pairs. Ignored by softmax.' }),
      learn_offset: Type.Boolean({ default: false, description: 'Train b as a scalar parameter (sigmoid only: under softmax its gradient is identically 0).' }),
      n_pairs: Type.Integer({ minimum: 1, default: 16, description: 'Key→value pairs per sequence n (the attention length).' }),
      n_keys: Type.Integer({ minimum: 1, default: 32, description: 'Key vocabulary size (≥ n_pairs: keys are distinct within a sequence).' }),
      n_values: Type.Integer({ minimum: 2, default: 16, description: 'Value vocabulary size (the number of classes).' }),
      d_qk: Type.Integer({ minimum: 1, default: 16, description: 'Query/key width d_qk (scale 1/√d_qk).' }),
      d_v: Type.Integer({ minimum: 1, default: 16, description: 'Value width d_v.' }),
      label_noise: Type.Number({
        minimum: 0,
        exclusiveMaximum: 1,
        default: 0,
        description: 'Probability p that a training label is replaced by a uniform value: irreducible noise, so the best expected loss is the label entropy (info.floor_loss) instead of 0.',
      }),
      init_std: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'Standard deviation of the initial W_Q, W_K, W_V entries.' }),
      steps: Type.Integer({ minimum: 0, default: 500, description: 'Number of Adam steps.' }),
      batch_size: Type.Integer({ minimum: 1, default: 32, description: 'Fresh sequences per step.' }),
      lr: Type.Number({ exclusiveMinimum: 0, default: 0.01, description: 'Learning rate η.' }),
      betas: Type.Array(Type.Number({ minimum: 0, exclusiveMaximum: 1 }), { minItems: 2, maxItems: 2, default: [0.9, 0.999], description: 'Adam β₁, β₂.' }),
      eps: Type.Number({ exclusiveMinimum: 0, default: 1e-8, description: 'Adam ε.' }),
      eval_size: Type.Integer({ minimum: 1, default: 256, description: 'Sequences in the fixed evaluation set behind the metrics and final_loss.' }),
      log_every: Type.Integer({ minimum: 1, default: 50, description: 'A metrics row every this many steps (and at steps 0 and the last).' }),
      seed: Type.Union([Type.Integer({ minimum: 0, maximum: 4294967295 }), Type.Null()], {
        default: null,
        description: 'Seed of the initial weights, batches and evaluation set (null: the node seed). Give two nodes the same seed for a controlled comparison.',
      }),
    },
    { additionalProperties: false },
  ),
  inputs: {},
  outputs: {
    params: tensors({ doc: 'trained parameters {W_Q [E, d_qk], W_K [E, d_qk], W_V [E, d_v], W_O [d_v, n_values], b [] when learned}' }),
    metrics: table({ doc: 'step, loss, accuracy (evaluation set) per logged step' }),
    final_loss: tensor({ dtype: 'float32', doc: 'evaluation-set loss after training (scalar)' }),
    info: json({ doc: '{steps_run, final_loss, final_accuracy, initial_loss, floor_loss, offset, seed}' }),
  },
  examples: [{ params: { attention: 'sigmoid', n_pairs: 3, n_keys: 4, n_values: 3, d_qk: 4, d_v: 4, steps: 3, batch_size: 4, eval_size: 4, log_every: 1 }, inputs: {} }],
  shape: (_i, p) => {
    if (p.n_pairs > p.n_keys) throw new ParamError(`n_pairs (${p.n_pairs}) must not exceed n_keys (${p.n_keys}): keys are distinct within a sequence`, '/params/n_pairs');
    if (p.learn_offset && p.attention === 'softmax') throw new ParamError('learn_offset needs attention "sigmoid" (a constant offset cancels in softmax)', '/params/learn_offset');
    const E = p.n_keys + p.n_values;
    const meta = (shape: number[]): TensorMeta => ({ kind: 'tensor', dtype: 'float32', shape });
    const entries: Record<string, TensorMeta> = { W_Q: meta([E, p.d_qk]), W_K: meta([E, p.d_qk]), W_V: meta([E, p.d_v]), W_O: meta([p.d_v, p.n_values]) };
    if (p.learn_offset) entries.b = meta([]);
    return { params: { kind: 'tensors', entries }, metrics: { kind: 'table', columns: ['step', 'loss', 'accuracy'] }, final_loss: [], info: { kind: 'json' } };
  },
  run: async (_inputs, p, ctx) => {
    const { tf } = ctx;
    if (p.n_pairs > p.n_keys) throw new OperatorError('bad_param', `n_pairs (${p.n_pairs}) must not exceed n_keys (${p.n_keys})`);
    if (p.learn_offset && p.attention === 'softmax') throw new OperatorError('bad_param', 'learn_offset needs attention "sigmoid"');
    const seed = p.seed ?? ctx.seed;
    const spec: RecallSpec = { nPairs: p.n_pairs, nKeys: p.n_keys, nValues: p.n_values };
    const E = tokenWidth(spec);
    const offset = p.attention === 'softmax' ? 0 : p.logit_offset === 'auto' ? -Math.log(p.n_pairs) : p.logit_offset;
    const model: RecallModel = { attention: p.attention, n: p.n_pairs, scale: 1 / Math.sqrt(p.d_qk), offset };

    const initRng = new Rng(mixSeed(seed, STREAM_INIT));
    const names: RecallParamName[] = ['W_Q', 'W_K', 'W_V', 'W_O'];
    let w: Record<string, Tensor> = {
      W_Q: tf.tensor2d(initRng.normals(E * p.d_qk, p.init_std), [E, p.d_qk]),
      W_K: tf.tensor2d(initRng.normals(E * p.d_qk, p.init_std), [E, p.d_qk]),
      W_V: tf.tensor2d(initRng.normals(E * p.d_v, p.init_std), [E, p.d_v]),
      W_O: tf.tensor2d(initRng.normals(p.d_v * p.n_values, 1 / Math.sqrt(p.d_v)), [p.d_v, p.n_values]),
    };
    if (p.learn_offset) {
      w.b = tf.scalar(offset);
      names.push('b');
    }
    // Training targets: one-hot observed labels. Evaluation targets: the label distribution given
    // the true value, (1 − p)·onehot + p/V, so the evaluation loss is the expected loss under the
    // label noise (no sampling noise from the evaluation labels) and its floor is noiseFloor.
    const oneHot = (idx: Int32Array) => tf.cast(tf.oneHot(tf.tensor1d(idx, 'int32'), p.n_values), 'float32') as Tensor2D;
    const toData = (batch: RecallBatch, soft: boolean): RecallData => ({
      context: tf.tensor2d(batch.context, [batch.batch * p.n_pairs, E]),
      query: tf.tensor2d(batch.query, [batch.batch, E]),
      target: soft ? (tf.add(tf.mul(oneHot(batch.target), 1 - p.label_noise), p.label_noise / p.n_values) as Tensor2D) : oneHot(batch.label),
    });
    let m1: Tensor[] = names.map((nm) => tf.zerosLike(w[nm]));
    let m2: Tensor[] = names.map((nm) => tf.zerosLike(w[nm]));
    const evalData = tf.tidy(() => toData(sampleRecall(new Rng(mixSeed(seed, STREAM_EVAL)), spec, p.eval_size), true));
    const trainRng = new Rng(mixSeed(seed, STREAM_TRAIN));
    try {
      const rows: Array<Record<string, number>> = [];
      const logRow = async (step: number) => {
        const [l, acc] = tf.tidy(() => {
          const r = recallLossAndGrads(tf, model, w as RecallParams, evalData, false);
          return [r.loss, recallAccuracy(tf, r.logits, evalData.target)];
        });
        const row: Record<string, number> = { step, loss: (await l.data())[0], accuracy: (await acc.data())[0] };
        tf.dispose([l, acc]);
        rows.push(row);
        return row;
      };
      const divergence = (step: number, value: number, lastFinite: number, initial: number) =>
        divergedError(
          step,
          value,
          lastFinite,
          step === 0
            ? 'the loss is not finite at initialisation: check init_std and logit_offset'
            : `the learning rate ${p.lr} is too large for ${p.attention} attention (the loss went from ${initial.toPrecision(4)} to ${lastFinite.toPrecision(4)}) — try a smaller lr or init_std`,
          { lr: p.lr, attention: p.attention },
        );

      const first = await logRow(0);
      if (!Number.isFinite(first.loss)) throw divergence(0, first.loss, NaN, NaN);
      const [b1, b2] = p.betas;
      const progressEvery = Math.max(1, Math.floor(p.steps / 200));
      let initial = NaN;
      let lastFinite = NaN;
      for (let t = 0; t < p.steps; t++) {
        if (ctx.signal.aborted) throw new OperatorError('cancelled', `train.attention_recall: cancelled at step ${t}`);
        const batch = sampleRecall(trainRng, spec, p.batch_size, p.label_noise);
        // One Adam step on a fresh batch; the batch loss is read once per step (divergence check).
        const res = tf.tidy(() => {
          const { loss, grads } = recallLossAndGrads(tf, model, w as RecallParams, toData(batch, false));
          const c1 = 1 - b1 ** (t + 1);
          const c2 = 1 - b2 ** (t + 1);
          const nm1 = names.map((nm, i) => tf.add(tf.mul(m1[i], b1), tf.mul(grads[nm]!, 1 - b1)));
          const nm2 = names.map((nm, i) => tf.add(tf.mul(m2[i], b2), tf.mul(tf.square(grads[nm]!), 1 - b2)));
          const next = names.map((nm, i) => tf.sub(w[nm], tf.mul(tf.div(tf.div(nm1[i], c1), tf.add(tf.sqrt(tf.div(nm2[i], c2)), p.eps)), p.lr)));
          return { loss, next, nm1, nm2 };
        });
        const batchLoss = (await (res.loss as Scalar).data())[0];
        res.loss.dispose();
        if (!Number.isFinite(batchLoss)) {
          tf.dispose([...res.next, ...res.nm1, ...res.nm2]);
          throw divergence(t, batchLoss, lastFinite, initial);
        }
        if (t === 0) initial = batchLoss;
        lastFinite = batchLoss;
        tf.dispose([...Object.values(w), ...m1, ...m2]);
        w = Object.fromEntries(names.map((nm, i) => [nm, res.next[i]]));
        m1 = res.nm1;
        m2 = res.nm2;
        const step = t + 1;
        let metrics: Record<string, number> = { batch_loss: batchLoss };
        if (step % p.log_every === 0 || step === p.steps) {
          const row = await logRow(step);
          if (!Number.isFinite(row.loss)) throw divergence(step, row.loss, lastFinite, initial);
          metrics = { ...metrics, loss: row.loss, accuracy: row.accuracy };
        }
        if (step % progressEvery === 0 || step === p.steps) ctx.progress({ step, total: p.steps, fraction: step / Math.max(p.steps, 1), metrics });
      }
      if (!(await allFinite(tf, Object.values(w)))) throw divergence(p.steps, NaN, lastFinite, initial);
      const last = rows[rows.length - 1];
      ctx.note('final_loss', last.loss);
      const out = w;
      w = {};
      return {
        params: out,
        metrics: { columns: ['step', 'loss', 'accuracy'], rows },
        final_loss: tf.scalar(last.loss),
        info: { steps_run: p.steps, final_loss: last.loss, final_accuracy: last.accuracy, initial_loss: first.loss, floor_loss: noiseFloor(p.label_noise, p.n_values), offset: p.attention === 'softmax' ? null : offset, seed },
      };
    } finally {
      tf.dispose([...Object.values(w), ...m1, ...m2, evalData.context, evalData.query, evalData.target]);
    }
  },
});
