import type { Scalar, Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import { defineOperator, json, OperatorError, table, tensor, tensors, Type } from '../../core/operator/index.js';
import type { CheckpointState, JsonValue, RunContext, Static, Table } from '../../core/operator/index.js';
import { checkParams, mlpForward, mlpPredict, paramNames, parseMlpModel, type MlpModel } from '../model/mlp-lib.js';
import { mixSeed, Rng } from '../model/rng.js';
import { allFinite, divergedError, hessianTopEig, linearLossAndGrads, linearPredict, lossOf, mlpLossAndGrads, mlpNtk, sqNorm, targetsOf, type LossName } from './lib.js';

export const TRACKS = ['weight_norm', 'ntk_change', 'ntk_alignment', 'feature_change', 'sharpness'] as const;
export type Track = (typeof TRACKS)[number];

const nullable = <T extends ReturnType<typeof Type.Object>>(t: T, description: string) =>
  Type.Union([t, Type.Null()], { default: null, description });

export const fitParams = Type.Object(
  {
    optimizer: Type.Object(
      {
        type: Type.Union(['gd', 'sgd', 'momentum', 'adam', 'sam'].map((s) => Type.Literal(s)), {
          default: 'gd',
          description: 'gd (full batch) | sgd | momentum (heavy ball, buf = μ·buf + g) | adam | sam (SGD on the gradient at w + ρg/‖g‖).',
        }),
        lr: Type.Number({ exclusiveMinimum: 0, default: 0.1, description: 'Base learning rate η (times each group’s multiplier).' }),
        momentum: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.9, description: 'μ of the momentum optimiser.' }),
        betas: Type.Array(Type.Number({ minimum: 0, exclusiveMaximum: 1 }), { minItems: 2, maxItems: 2, default: [0.9, 0.999], description: 'Adam β₁, β₂.' }),
        eps: Type.Number({ exclusiveMinimum: 0, default: 1e-8, description: 'Adam ε.' }),
        rho: Type.Number({ minimum: 0, default: 0.05, description: 'SAM radius ρ.' }),
        weight_decay: Type.Number({ minimum: 0, default: 0, description: 'Decoupled weight decay λ: w ← w − η_g·λ·w each step.' }),
        batch_size: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { default: null, description: 'Minibatch size (null = full batch; gd always uses the full batch).' }),
      },
      { additionalProperties: false, default: {}, description: 'Optimiser settings.' },
    ),
    lr_multipliers: Type.Record(Type.String(), Type.Number({ minimum: 0 }), {
      default: {},
      description: 'Extra learning-rate multipliers per parameter ("W1") or per layer ("layer1"), on top of the parameterisation’s lr_mult.',
    }),
    frozen: Type.Array(Type.String(), { default: [], description: 'Parameters ("W0") or layers ("layer0") that are not trained.' }),
    steps: Type.Integer({ minimum: 0, default: 100, description: 'Number of optimiser steps (ignored when epochs is set).' }),
    epochs: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { default: null, description: 'Train for this many passes over the data instead of `steps`.' }),
    loss: Type.Union([Type.Literal('mse'), Type.Literal('cross_entropy')], {
      default: 'mse',
      description: 'mse: (1/2N)Σ‖f−y‖²; cross_entropy: −(1/N)Σ y·log softmax(f) (y one-hot, or int32 labels).',
    }),
    log_every: Type.Integer({ minimum: 1, default: 10, description: 'A metrics row every this many steps (and at steps 0 and the last).' }),
    checkpoint_every: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
      default: null,
      description: 'Save the training state (parameters, optimiser state, minibatch RNG, metrics, stopping state) to the disk cache every this many steps; a run interrupted and started again resumes from the last checkpoint and ends bit-identical on the same backend. Needs a disk cache (null: off).',
    }),
    early_stopping: nullable(
      Type.Object(
        {
          monitor: Type.String({ default: 'loss', description: 'A metrics column, e.g. val_loss.' }),
          patience: Type.Integer({ minimum: 1, default: 5, description: 'Logged rows without improvement before stopping.' }),
          min_delta: Type.Number({ minimum: 0, default: 0, description: 'Smallest decrease that counts as an improvement.' }),
        },
        { additionalProperties: false },
      ),
      'Stop when `monitor` has not improved for `patience` logged rows (null: off).',
    ),
    stop_when: nullable(
      Type.Object(
        {
          metric: Type.String({ default: 'loss', description: 'A metrics column.' }),
          below: Type.Number({ default: 0, description: 'Stop at the first logged row where metric < below.' }),
        },
        { additionalProperties: false },
      ),
      'Stop once a metric falls below a value (null: off).',
    ),
    track: Type.Array(Type.Union(TRACKS.map((t) => Type.Literal(t))), {
      default: [],
      description: 'Extra metrics per logged row: weight_norm, ntk_change, ntk_alignment, feature_change, sharpness.',
    }),
    probe_size: Type.Integer({ minimum: 1, default: 32, description: 'The first this-many training points are the probe set of ntk_* and feature_change.' }),
    sharpness_iters: Type.Integer({ minimum: 1, default: 20, description: 'Power iterations per sharpness estimate.' }),
    sharpness_eps: Type.Number({ exclusiveMinimum: 0, default: 1e-3, description: 'Central-difference step of Hv, relative to max(‖w‖, 1).' }),
  },
  { additionalProperties: false },
);
export type FitParams = Static<typeof fitParams>;

/** Gradient-based training of a model.mlp network. */
export const fit = defineOperator({
  id: 'train.fit',
  version: 1,
  summary: 'Trains an MLP: w ← w − η·lr_mult·update(∇L) for gd | sgd | momentum | adam | sam, with tracked metrics',
  description:
    'Loss mse = (1/2N)Σ‖f−y‖² or cross_entropy. Learning rate of a raw parameter: lr × the parameterisation’s ' +
    'lr_mult × lr_multipliers[name | layerL]. Momentum: buf ← μ·buf + g, w ← w − η·buf. Adam: bias-corrected ' +
    '(Kingma & Ba). SAM (Foret et al. 2021): ε = ρ·g/‖g‖ over all trained parameters, w ← w − η·∇L(w + ε) on the ' +
    'same batch. Weight decay is decoupled for every optimiser. Minibatch order: a seeded permutation per epoch ' +
    '(node seed; the last batch of an epoch may be smaller). Rows of `metrics` at step 0, every log_every steps and ' +
    'the last step: full-training-set loss (and accuracy for cross_entropy), val_loss/val_accuracy when x_val/y_val ' +
    'are connected, and the tracked metrics: weight_norm = ‖θ‖ (raw parameters); ntk_change = ‖Θ_t − Θ_0‖_F/‖Θ_0‖_F ' +
    'and ntk_alignment = Σ_k y_kᵀΘy_k/(‖Θ‖_F‖Y‖²_F) for the empirical NTK (trace over outputs) on the probe set; ' +
    'feature_change = RMS of z_l(t) − z_l(0) over all hidden pre-activations on the probe set (the muP coordinate ' +
    'check); sharpness = largest-|λ| eigenvalue of the Hessian of the training loss w.r.t. the trained parameters, by ' +
    'power iteration on Hessian-vector products from central differences of gradients (tfjs second-order gradients ' +
    'are unreliable). A non-finite loss stops training with OperatorError `diverged` naming the step, the last finite ' +
    'loss and the likely cause; non-finite parameters are never returned.',
  stochastic: true,
  params: fitParams,
  inputs: {
    params: tensors({ doc: 'initial parameters (from model.mlp)' }),
    model: json({ doc: 'model description (from model.mlp)' }),
    x: tensor({ dtype: 'float32', rank: 2, doc: 'training inputs [n, d]' }),
    y: tensor({ dtype: ['float32', 'int32'], rank: [1, 2], doc: 'targets [n, k] (or [n] floats, or int32 labels [n])' }),
    x_val: tensor({ dtype: 'float32', rank: 2, optional: true, doc: 'validation inputs' }),
    y_val: tensor({ dtype: ['float32', 'int32'], rank: [1, 2], optional: true, doc: 'validation targets' }),
  },
  outputs: {
    params: tensors({ doc: 'trained parameters' }),
    metrics: table({ doc: 'one row per logged step' }),
    info: json({ doc: '{steps_run, total_steps, stopped, batch_size, steps_per_epoch, …}' }),
  },
  examples: [{ params: { steps: 5, log_every: 1, optimizer: { type: 'gd', lr: 0.1 } }, inputs: { params: { from: { op: 'model.mlp', port: 'params', params: { widths: [3, 8, 2] }, key: 'net' } }, model: { from: { op: 'model.mlp', port: 'model', params: { widths: [3, 8, 2] }, key: 'net' } }, x: { shape: [6, 3] }, y: { shape: [6, 2] } } }],
  shape: ({ params }) => ({ params: { kind: 'tensors', entries: params.entries }, metrics: { kind: 'table' }, info: { kind: 'json' } }),
  run: async (inputs, p, ctx) => {
    const model = parseMlpModel(inputs.model);
    return trainMlp(ctx, model, inputs.params, inputs.x as Tensor2D, inputs.y, inputs.x_val as Tensor2D | undefined, inputs.y_val, p);
  },
});

/**
 * The trained parameters and their learning rates: lr × the parameterisation's lr_mult × the
 * multiplier named for the parameter ("W1") or else its layer ("layer1"); frozen names or layers
 * are left out. Unknown group names are errors.
 */
export function parameterGroups(
  model: MlpModel,
  lr: number,
  multipliers: Record<string, number>,
  frozenGroups: string[],
): { trainable: string[]; lrOf: (name: string) => number } {
  const names = paramNames(model);
  const layerOf = new Map<string, number>();
  model.layers.forEach((l, i) => {
    layerOf.set(l.weight, i);
    if (l.bias) layerOf.set(l.bias, i);
  });
  const groups = new Set([...names, ...model.layers.map((_, i) => `layer${i}`)]);
  for (const g of [...frozenGroups, ...Object.keys(multipliers)]) {
    if (!groups.has(g)) throw new OperatorError('bad_param', `unknown parameter group '${g}' (have ${[...groups].join(', ')})`);
  }
  const frozen = new Set(frozenGroups);
  const trainable = names.filter((nm) => !frozen.has(nm) && !frozen.has(`layer${layerOf.get(nm)}`));
  const lrOf = (nm: string): number => {
    const l = layerOf.get(nm)!;
    const layer = model.layers[l];
    const base = nm === layer.weight ? layer.lr_mult : layer.bias_lr_mult;
    return lr * base * (multipliers[nm] ?? multipliers[`layer${l}`] ?? 1);
  };
  return { trainable, lrOf };
}

interface Row {
  [column: string]: number;
}

/** The training loop behind train.fit (exported for train.linearized and tests). */
export async function trainMlp(
  ctx: RunContext,
  model: MlpModel,
  params0: Record<string, Tensor>,
  x: Tensor2D,
  y: Tensor,
  xVal: Tensor2D | undefined,
  yVal: Tensor | undefined,
  p: FitParams,
  mode: 'network' | 'linearized' = 'network',
): Promise<{ params: Record<string, Tensor>; metrics: Table; info: { [k: string]: number | string | null } }> {
  const { tf } = ctx;
  checkParams(model, params0);
  const names = paramNames(model);
  const k = model.widths[model.widths.length - 1];
  const n = x.shape[0];
  if (x.shape[1] !== model.widths[0]) throw new OperatorError('shape', `x has ${x.shape[1]} features, the model expects ${model.widths[0]}`);
  if (y.shape[0] !== n) throw new OperatorError('shape', `y has ${y.shape[0]} rows, x has ${n}`);
  if ((xVal === undefined) !== (yVal === undefined)) throw new OperatorError('shape', 'connect both x_val and y_val, or neither');
  const { trainable, lrOf } = parameterGroups(model, p.optimizer.lr, p.lr_multipliers, p.frozen);
  const lrs = trainable.map(lrOf);
  const opt = p.optimizer;
  const lossName = p.loss as LossName;
  const tracks = new Set(p.track);
  if (mode === 'linearized' && (tracks.has('feature_change') || tracks.has('ntk_change') || tracks.has('ntk_alignment'))) {
    throw new OperatorError('bad_param', 'the linearised twin has a fixed NTK and features: track only weight_norm or sharpness');
  }
  if (tracks.has('feature_change') && model.layers.length < 2) throw new OperatorError('bad_param', 'feature_change needs a hidden layer');

  const kept: Tensor[] = [];
  const keep = <T extends Tensor>(t: T): T => {
    kept.push(t);
    return t;
  };
  let w: Record<string, Tensor> = {};
  let state: Tensor[][] = [];
  try {
    if (!(await allFinite(tf, [x, y, ...(xVal ? [xVal, yVal!] : [])]))) throw new OperatorError('non_finite_input', 'x, y, x_val or y_val holds NaN or Inf');
    const Y = keep(tf.tidy(() => targetsOf(tf, y, k)));
    if (Y.shape[1] !== k) throw new OperatorError('shape', `y has ${Y.shape[1]} outputs, the model has ${k}`);
    const Yv = yVal ? keep(tf.tidy(() => targetsOf(tf, yVal, k))) : undefined;
    const init: Record<string, Tensor> = {};
    for (const nm of names) init[nm] = keep(params0[nm].clone());
    const centeredInit = model.centered ? init : undefined;
    for (const nm of names) w[nm] = params0[nm].clone();

    const m = Math.min(p.probe_size, n);
    const probeX = keep(tf.slice(x, [0, 0], [m, x.shape[1]]));
    const probeY = keep(tf.slice(Y, [0, 0], [m, k]));
    const trainSet = new Set(trainable);
    const K0 = tracks.has('ntk_change') ? keep(tf.tidy(() => mlpNtk(tf, model, init, probeX as Tensor2D, trainSet))) : undefined;
    const Z0 = tracks.has('feature_change') ? keep(tf.tidy(() => tf.concat(mlpForward(tf, model, init, probeX).hidden.map((z) => tf.reshape(z, [-1]))))) : undefined;

    const bs = opt.type === 'gd' || opt.batch_size === null ? n : Math.min(opt.batch_size, n);
    const stepsPerEpoch = Math.ceil(n / bs);
    const total = p.epochs !== null ? p.epochs * stepsPerEpoch : p.steps;
    const rng = new Rng(mixSeed(ctx.seed, 1));
    let perm: Int32Array | null = null;
    // The generator's state before it drew `perm`: a checkpoint redraws the current epoch's order from it.
    let rngBeforePerm = rng.snapshot();

    const withTrainable = (ts: Tensor[]): Record<string, Tensor> => {
      const all = { ...w };
      trainable.forEach((nm, i) => (all[nm] = ts[i]));
      return all;
    };
    const predict = (params: Record<string, Tensor>, xx: Tensor) =>
      mode === 'linearized' ? linearPredict(tf, model, init, params, xx).f : mlpPredict(tf, model, params, xx, centeredInit);
    const valueAndGrads = (ts: Tensor[], xb: Tensor, yb: Tensor) => {
      const r = mode === 'linearized'
        ? linearLossAndGrads(tf, model, init, withTrainable(ts), xb, yb, lossName)
        : mlpLossAndGrads(tf, model, withTrainable(ts), xb, yb, lossName, centeredInit);
      return { value: r.value, grads: trainable.map((nm) => r.grads[nm]) };
    };

    if (opt.type === 'momentum') state = [trainable.map((nm) => tf.zerosLike(w[nm]))];
    if (opt.type === 'adam') state = [trainable.map((nm) => tf.zerosLike(w[nm])), trainable.map((nm) => tf.zerosLike(w[nm]))];

    const rows: Row[] = [];
    const columns = ['step', 'epoch', 'loss'];
    if (lossName === 'cross_entropy') columns.push('accuracy');
    if (xVal) columns.push('val_loss', ...(lossName === 'cross_entropy' ? ['val_accuracy'] : []));
    for (const t of TRACKS) if (tracks.has(t)) columns.push(t);
    for (const cond of [p.early_stopping?.monitor, p.stop_when?.metric]) {
      if (cond !== undefined && !columns.includes(cond)) throw new OperatorError('bad_param', `no metrics column '${cond}' (have ${columns.join(', ')})`);
    }
    let sharpIters = 0;

    const logRow = async (step: number): Promise<Row> => {
      const ts = trainable.map((nm) => w[nm]);
      const vals = tf.tidy(() => {
        const out: Record<string, Tensor> = {};
        const f = predict(w, x);
        out.loss = lossOf(tf, lossName, f, Y);
        const acc = (ff: Tensor, yy: Tensor) => tf.mean(tf.cast(tf.equal(tf.argMax(ff, 1), tf.argMax(yy, 1)), 'float32'));
        if (lossName === 'cross_entropy') out.accuracy = acc(f, Y);
        if (xVal && Yv) {
          const fv = predict(w, xVal);
          out.val_loss = lossOf(tf, lossName, fv, Yv);
          if (lossName === 'cross_entropy') out.val_accuracy = acc(fv, Yv);
        }
        if (tracks.has('weight_norm')) out.weight_norm = tf.sqrt(sqNorm(tf, names.map((nm) => w[nm])));
        if (tracks.has('ntk_change') || tracks.has('ntk_alignment')) {
          const K = mlpNtk(tf, model, w, probeX as Tensor2D, trainSet);
          if (K0) out.ntk_change = tf.div(tf.norm(tf.sub(K, K0)), tf.norm(K0));
          if (tracks.has('ntk_alignment')) {
            out.ntk_alignment = tf.div(tf.sum(tf.mul(probeY, tf.matMul(K, probeY))), tf.mul(tf.norm(K), tf.sum(tf.square(probeY))));
          }
        }
        if (Z0) {
          const z = tf.concat(mlpForward(tf, model, w, probeX).hidden.map((zz) => tf.reshape(zz, [-1])));
          out.feature_change = tf.sqrt(tf.mean(tf.square(tf.sub(z, Z0))));
        }
        return out;
      });
      const row: Row = { step, epoch: step / stepsPerEpoch };
      for (const [key, t] of Object.entries(vals)) row[key] = (await t.data())[0];
      tf.dispose(Object.values(vals));
      if (tracks.has('sharpness')) {
        const res = await hessianTopEig(tf, (ws) => valueAndGrads(ws, x, Y).grads.slice(), ts, {
          iters: p.sharpness_iters,
          tol: 1e-5,
          epsRel: p.sharpness_eps,
          seed: mixSeed(ctx.seed, 2),
          signal: ctx.signal,
        });
        row.sharpness = res.value;
        sharpIters += res.iterations;
      }
      rows.push(row);
      return row;
    };

    let stopped = 'completed';
    let best = Infinity;
    let wait = 0;
    let lastFinite = NaN;
    const checkStop = (row: Row): boolean => {
      if (p.stop_when && row[p.stop_when.metric] < p.stop_when.below) {
        stopped = 'stop_when';
        return true;
      }
      if (p.early_stopping) {
        const v = row[p.early_stopping.monitor];
        if (v < best - p.early_stopping.min_delta) {
          best = v;
          wait = 0;
        } else if (++wait >= p.early_stopping.patience) {
          stopped = 'early_stopping';
          return true;
        }
      }
      return false;
    };

    // Everything that decides the rest of the run, so that a resumed run ends bit-identical.
    const checkpoint = p.checkpoint_every !== null ? ctx.checkpoint : undefined;
    if (p.checkpoint_every !== null && !checkpoint) ctx.warn('checkpoint_every is set but this run has no disk cache: not checkpointing');
    const format = `train.fit/1/${mode}/${opt.type}`;
    const saveCheckpoint = (step: number) => {
      const tensors: Record<string, Tensor> = {};
      trainable.forEach((nm) => (tensors[`w/${nm}`] = w[nm]));
      state.forEach((list, j) => list.forEach((t, i) => (tensors[`s${j}/${i}`] = t)));
      const meta = { format, total, trainable, rows, best, wait, lastFinite, sharpIters, rng: rngBeforePerm };
      return checkpoint!.save(step, { tensors, json: meta as unknown as JsonValue });
    };
    /** Adopts a loaded checkpoint (taking its tensors) and returns its step, or 0 when it does not fit this run. */
    const resume = (step: number, saved: CheckpointState): number => {
      const meta = saved.json as { format?: unknown; total?: unknown; trainable?: unknown; rows?: Row[]; best: number; wait: number; lastFinite: number; sharpIters: number; rng: [number, number | null] };
      const get = (name: string, like: Tensor) => {
        const t = saved.tensors[name];
        return t && t.dtype === like.dtype && t.shape.length === like.shape.length && t.shape.every((d, i) => d === like.shape[i]) ? t : undefined;
      };
      const fits = meta?.format === format && meta.total === total && JSON.stringify(meta.trainable) === JSON.stringify(trainable) &&
        Array.isArray(meta.rows) && meta.rows.length > 0 && Array.isArray(meta.rng) && step > 0 && step < total &&
        Object.keys(saved.tensors).length === trainable.length + state.flat().length &&
        trainable.every((nm) => get(`w/${nm}`, w[nm])) && state.every((list, j) => list.every((t, i) => get(`s${j}/${i}`, t)));
      if (!fits) {
        tf.dispose(Object.values(saved.tensors));
        ctx.warn(`the checkpoint at step ${step} does not match this training run: starting from step 0`);
        return 0;
      }
      trainable.forEach((nm) => {
        w[nm].dispose();
        w[nm] = saved.tensors[`w/${nm}`];
      });
      state = state.map((list, j) => list.map((t, i) => {
        t.dispose();
        return saved.tensors[`s${j}/${i}`];
      }));
      rows.push(...meta.rows!);
      ({ best, wait, lastFinite, sharpIters } = meta);
      rng.restore(meta.rng);
      rngBeforePerm = rng.snapshot();
      // Redraw the order of the epoch in progress; this also leaves the generator where it was.
      if (bs < n) perm = rng.permutation(n);
      return step;
    };

    const loaded = checkpoint ? await checkpoint.load() : undefined;
    const start = loaded ? resume(loaded.step, loaded.state) : 0;
    let row0: Row;
    let done = false;
    if (start === 0) {
      row0 = await logRow(0);
      lastFinite = Number.isFinite(row0.loss) ? row0.loss : NaN;
      done = checkStop(row0);
    } else {
      row0 = rows[0];
    }
    const initialLoss = row0.loss;
    let stepsRun = start;
    const progressEvery = Math.max(1, Math.floor(total / 200));
    ctx.progress({ step: start, total, fraction: start / Math.max(total, 1), metrics: { loss: rows[rows.length - 1].loss } });
    for (let t = start; t < total && !done; t++) {
      if (ctx.signal.aborted) throw new OperatorError('cancelled', `train.fit: cancelled at step ${t}`);
      const pos = t % stepsPerEpoch;
      let idx: Tensor | null = null;
      if (bs < n) {
        if (pos === 0) {
          rngBeforePerm = rng.snapshot();
          perm = rng.permutation(n);
        }
        idx = tf.tensor1d(perm!.subarray(pos * bs, Math.min(n, (pos + 1) * bs)), 'int32');
      }
      const ts = trainable.map((nm) => w[nm]);
      const res = tf.tidy(() => {
        const xb = idx ? tf.gather(x, idx) : x;
        const yb = idx ? tf.gather(Y, idx) : Y;
        const { value, grads } = valueAndGrads(ts, xb, yb);
        let upd: Tensor[];
        const st: Tensor[][] = [];
        if (opt.type === 'gd' || opt.type === 'sgd') upd = grads;
        else if (opt.type === 'momentum') {
          upd = grads.map((g, i) => tf.add(tf.mul(state[0][i], opt.momentum), g));
          st.push(upd);
        } else if (opt.type === 'adam') {
          const [b1, b2] = opt.betas;
          const m1 = grads.map((g, i) => tf.add(tf.mul(state[0][i], b1), tf.mul(g, 1 - b1)));
          const m2 = grads.map((g, i) => tf.add(tf.mul(state[1][i], b2), tf.mul(tf.square(g), 1 - b2)));
          const c1 = 1 - b1 ** (t + 1);
          const c2 = 1 - b2 ** (t + 1);
          upd = m1.map((mm, i) => tf.div(tf.div(mm, c1), tf.add(tf.sqrt(tf.div(m2[i], c2)), opt.eps)));
          st.push(m1, m2);
        } else {
          const scale = tf.div(opt.rho, tf.add(tf.sqrt(sqNorm(tf, grads)), 1e-12));
          const perturbed = ts.map((tt, i) => tf.add(tt, tf.mul(grads[i], scale)));
          upd = valueAndGrads(perturbed, xb, yb).grads;
        }
        const next = ts.map((tt, i) => {
          let u = tf.mul(upd[i], lrs[i]);
          if (opt.weight_decay > 0) u = tf.add(u, tf.mul(tt, lrs[i] * opt.weight_decay));
          return tf.sub(tt, u);
        });
        return { value, next, st };
      });
      idx?.dispose();
      const batchLoss = (await (res.value as Scalar).data())[0];
      res.value.dispose();
      if (!Number.isFinite(batchLoss)) {
        tf.dispose([...res.next, ...res.st.flat()]);
        throw divergence(t, batchLoss, lastFinite, initialLoss, model, p, trainable, lrs);
      }
      lastFinite = batchLoss;
      trainable.forEach((nm, i) => {
        w[nm].dispose();
        w[nm] = res.next[i];
      });
      tf.dispose(state.flat());
      state = res.st;
      stepsRun = t + 1;
      const logged = stepsRun % p.log_every === 0 || stepsRun === total;
      let metrics: Record<string, number> = { loss: batchLoss };
      if (logged) {
        const row = await logRow(stepsRun);
        if (!Number.isFinite(row.loss)) throw divergence(stepsRun, row.loss, lastFinite, initialLoss, model, p, trainable, lrs);
        metrics = Object.fromEntries(Object.entries(row).filter(([c]) => c !== 'step' && c !== 'epoch'));
        done = checkStop(row);
      }
      if (logged || stepsRun % progressEvery === 0) ctx.progress({ step: stepsRun, total, fraction: stepsRun / Math.max(total, 1), metrics });
      if (checkpoint && stepsRun % p.checkpoint_every! === 0 && stepsRun < total && !done) await saveCheckpoint(stepsRun);
    }
    if (!(await allFinite(tf, names.map((nm) => w[nm])))) throw divergence(stepsRun, NaN, lastFinite, initialLoss, model, p, trainable, lrs);
    if (rows[rows.length - 1].step !== stepsRun) await logRow(stepsRun);
    row0 = rows[rows.length - 1];
    if (tracks.has('sharpness')) ctx.note('sharpness_power_iterations', sharpIters);
    const out = w;
    w = {};
    return {
      params: out,
      metrics: { columns, rows },
      info: {
        steps_run: stepsRun,
        total_steps: total,
        stopped,
        batch_size: bs,
        steps_per_epoch: stepsPerEpoch,
        final_loss: row0.loss,
        optimizer: opt.type,
      },
    };
  } finally {
    tf.dispose(Object.values(w));
    tf.dispose(state.flat());
    tf.dispose(kept);
  }
}

function divergence(step: number, value: number, lastFinite: number, initial: number, model: MlpModel, p: FitParams, trainable: string[], lrs: number[]): OperatorError {
  const lrText = trainable.map((nm, i) => `${nm}: ${lrs[i].toPrecision(3)}`).join(', ');
  let cause: string;
  if (step === 0 || !Number.isFinite(initial)) {
    cause = 'the loss is not finite at initialisation: check the initialisation scale (W_std, output_scale) and the activation';
  } else if (Number.isFinite(lastFinite) && lastFinite > 2 * initial) {
    cause = `the learning rate is likely too large for the '${model.parameterization}' parameterisation (the loss grew from ${initial.toPrecision(4)} to ${lastFinite.toPrecision(4)} before overflowing); effective rates ${lrText} — try a smaller lr`;
  } else {
    cause = `an overflow in the forward pass or the optimiser (lr ${p.optimizer.lr} under '${model.parameterization}'; effective rates ${lrText}); try a smaller lr${model.activation === 'quadratic' ? ' or ε' : ''}`;
  }
  return divergedError(step, value, lastFinite, cause, { lr: p.optimizer.lr, parameterization: model.parameterization, cause });
}

