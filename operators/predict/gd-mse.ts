import type { Tensor } from '@tensorflow/tfjs-core';
import type { Dim, Shape } from '../../core/operator/index.js';
import { defineOperator, expectDim, OperatorError, ShapeError, tensor, Type } from '../../core/operator/index.js';
import { choleskyFactor, choSolve, eigh } from '../linalg/index.js';

/**
 * Outputs of a network trained by gradient flow on the MSE loss in its linearised (kernel) regime,
 * at times t — neural-tangents `predict.gradient_descent_mse` semantics.
 */
export const gdMse = defineOperator({
  id: 'predict.gd_mse',
  version: 1,
  summary: 'Gradient-flow MSE predictions f_tr(t) = f₀ + V(e^{−ηΛt/N} − 1)Vᵀ(f₀ − y), f_te(t) = f_te0 + K_te,tr·V[(e^{−ηΛt/N} − 1)/Λ]Vᵀ(f₀ − y), K̃ = VΛVᵀ',
  description:
    'neural-tangents `predict.gradient_descent_mse` (Lee et al. 2019, "Wide neural networks of any depth evolve as linear ' +
    'models under gradient descent"): the solution of df/dt = −(η/N)·K̃·(f − y) on the training set, with the loss ½·mean(f − y)² ' +
    'and N = y_train.size (samples × outputs), and the test outputs carried along by df_te/dt = −(η/N)·K_te,tr·(f_tr − y). ' +
    'K̃ = K + r·I with r = diag_reg·trace(K)/n (or r = diag_reg when diag_reg_absolute_scale). Finite t: eigendecomposition ' +
    'K̃ = VΛVᵀ (linalg eigh: host float64 tridiagonalisation + divide and conquer), Λ clamped ≥ 0, the factors e^{−ηλt/N} − 1 ' +
    'and (e^{−ηλt/N} − 1)/λ formed in float64 with expm1 (limit −ηt/N at λ = 0). t = null means t = ∞: fx_train = y_train ' +
    'exactly (even with diag_reg) and fx_test = fx_test_0 + K_te,tr·K̃⁻¹(y − fx_train_0) by Cholesky (linalg, automatic jitter ' +
    'noted as `jitter_used` when K̃ is singular in float32). t may be a list: the outputs then get a leading time axis. ' +
    'fx_train_0 and fx_test_0 default to 0. Accuracy (float32 storage and matmuls): against a float64 RK4 integration of the ' +
    'flow on an 8-point RBF kernel, max abs error ≤ 2.6e-6 for |y| ≤ 2 at t from 0 to 10⁷ and t = ∞ (tests assert 2e-5); the ' +
    'test outputs at large t go through K̃⁻¹ and so degrade with its conditioning. Cost: one eigh (≈ (4/3 + 3)n³) plus ' +
    'O(n²·(k·T + m)) matmuls.',
  params: Type.Object(
    {
      t: Type.Union([Type.Number({ minimum: 0 }), Type.Array(Type.Number({ minimum: 0 }), { minItems: 1 }), Type.Null()], {
        default: null,
        description: 'Training time(s) t ≥ 0 (in steps of learning_rate); a list adds a leading time axis; null = ∞.',
      }),
      learning_rate: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'η > 0: time enters as η·t/N.' }),
      diag_reg: Type.Number({ minimum: 0, default: 0, description: 'Ridge r ≥ 0 added to the diagonal of K (relative to trace(K)/n unless absolute).' }),
      diag_reg_absolute_scale: Type.Boolean({ default: false, description: 'Use diag_reg as given instead of diag_reg·trace(K)/n.' }),
    },
    { additionalProperties: false },
  ),
  inputs: {
    k_train_train: tensor({ dtype: 'float32', rank: 2, doc: 'K (NTK of the training inputs), [n, n], symmetric PSD' }),
    y_train: tensor({ dtype: 'float32', rank: [1, 2], doc: 'Targets, [n, k] or [n]' }),
    k_test_train: tensor({ dtype: 'float32', rank: 2, optional: true, doc: 'K_te,tr, [m, n]; absent = no test predictions' }),
    fx_train_0: tensor({ dtype: 'float32', rank: [1, 2], optional: true, doc: 'Outputs at t = 0 on the training set, shape of y_train; absent = 0' }),
    fx_test_0: tensor({ dtype: 'float32', rank: [1, 2], optional: true, doc: 'Outputs at t = 0 on the test set, [m, k] or [m]; absent = 0' }),
  },
  outputs: {
    fx_train: tensor({ dtype: 'float32', doc: 'f_tr(t), shape of y_train ([T, …] for a list of times)' }),
    fx_test: tensor({ dtype: 'float32', optional: true, doc: 'f_te(t), [m, k] or [m] ([T, …] for a list); only with k_test_train' }),
  },
  examples: [{ params: { t: [1, 10] }, inputs: { k_train_train: { shape: [6, 6], fill: 'spd' }, y_train: { shape: [6, 2] }, k_test_train: { shape: [3, 6] } } }],
  shape: ({ k_train_train: kk, y_train: y, k_test_train: kt, fx_train_0: f0, fx_test_0: ft0 }, p) => {
    const [r0, c0] = kk.shape!;
    const n = expectDim(r0, c0, 'k_train_train must be square', '/inputs/k_train_train');
    const ys = y.shape!;
    expectDim(ys[0], n, 'y_train rows differ from k_train_train', '/inputs/y_train');
    const rest = ys.slice(1);
    if (f0?.shape) {
      if (f0.shape.length !== ys.length) throw new ShapeError('fx_train_0 must have the shape of y_train', '/inputs/fx_train_0');
      f0.shape.forEach((d, i) => expectDim(d, ys[i], 'fx_train_0 must have the shape of y_train', '/inputs/fx_train_0'));
    }
    const times: Dim[] = Array.isArray(p.t) ? [p.t.length] : [];
    const out: { fx_train: Shape; fx_test?: Shape } = { fx_train: [...times, ...ys] };
    if (ft0 && !kt) throw new ShapeError('fx_test_0 needs k_test_train', '/inputs/fx_test_0');
    if (kt?.shape) {
      const [m, nn] = kt.shape;
      expectDim(nn, n, 'k_test_train columns differ from k_train_train', '/inputs/k_test_train');
      if (ft0?.shape) {
        if (ft0.shape.length !== ys.length) throw new ShapeError('fx_test_0 must be [m, k] like y_train', '/inputs/fx_test_0');
        expectDim(ft0.shape[0], m, 'fx_test_0 rows differ from k_test_train', '/inputs/fx_test_0');
        ft0.shape.slice(1).forEach((d, i) => expectDim(d, rest[i], 'fx_test_0 outputs differ from y_train', '/inputs/fx_test_0'));
      }
      out.fx_test = [...times, m, ...rest];
    }
    return out;
  },
  run: async ({ k_train_train: kk, y_train: y, k_test_train: kt, fx_train_0: f0, fx_test_0: ft0 }, p, ctx) => {
    const { tf } = ctx;
    const n = kk.shape[0];
    const N = y.size;
    const k = N / n;
    const m = kt ? kt.shape[0] : 0;
    const check = (ok: boolean, what: string) => {
      if (!ok) throw new OperatorError('shape', what);
    };
    check(kk.shape[1] === n && y.shape[0] === n, `k_train_train [${kk.shape}] and y_train [${y.shape}] disagree`);
    check(!f0 || (f0.shape.length === y.shape.length && f0.shape.every((d, i) => d === y.shape[i])), 'fx_train_0 must have the shape of y_train');
    check(!kt || kt.shape[1] === n, 'k_test_train columns differ from k_train_train');
    check(!ft0 || (!!kt && ft0.size === m * k && ft0.shape[0] === m), 'fx_test_0 must be [m, k] (needs k_test_train)');
    const outShape = (rows: number, times: number | null) => [...(times === null ? [] : [times]), rows, ...y.shape.slice(1)];

    const temps: Tensor[] = [];
    const keep = <T extends Tensor>(t: T): T => (temps.push(t), t);
    try {
      const kh = await kk.data();
      let trace = 0;
      for (let i = 0; i < n; i++) trace += kh[i * n + i];
      const r = p.diag_reg === 0 ? 0 : p.diag_reg_absolute_scale ? p.diag_reg : (p.diag_reg * trace) / n;
      ctx.note('diag_reg_used', r);
      const kreg = r === 0 ? kk : keep(tf.tidy(() => tf.add(kk, tf.mul(tf.eye(n), r))));
      const y2 = keep(tf.reshape(y, [n, k]));
      const f02 = f0 ? keep(tf.reshape(f0, [n, k])) : keep(tf.zeros([n, k]));
      const ft02 = kt ? (ft0 ? keep(tf.reshape(ft0, [m, k])) : keep(tf.zeros([m, k]))) : undefined;

      if (p.t === null) {
        const fxTrain = y.clone();
        if (!kt) return { fx_train: fxTrain };
        const { l, jitterUsed } = await choleskyFactor(tf, kreg, { jitter: 'auto', signal: ctx.signal });
        keep(l);
        if (jitterUsed > 0) {
          ctx.note('jitter_used', jitterUsed);
          ctx.warn(`K̃ needed a jitter of ${jitterUsed} to factor`);
        }
        const resid = keep(tf.sub(y2, f02));
        const alpha = keep(await choSolve(tf, l, resid));
        const fxTest = tf.tidy(() => tf.reshape(tf.add(ft02!, tf.matMul(kt, alpha)), outShape(m, null)));
        return { fx_train: fxTrain, fx_test: fxTest };
      }

      const times = Array.isArray(p.t) ? p.t : [p.t];
      const T = times.length;
      const { values, vectors } = await eigh(tf, kreg);
      keep(values);
      const V = keep(vectors);
      const lam = Array.from(await values.data(), (v) => Math.max(v, 0));
      // Factors per (time, eigenvalue), float64 then stored as float32.
      const eTrain = new Float32Array(T * n);
      const eTest = new Float32Array(T * n);
      times.forEach((t, ti) => {
        const s = (p.learning_rate * t) / N;
        lam.forEach((l, i) => {
          const e = Math.expm1(-l * s);
          eTrain[ti * n + i] = e;
          eTest[ti * n + i] = l > 0 ? e / l : -s;
        });
      });
      const c = keep(tf.tidy(() => tf.matMul(V, tf.sub(f02, y2), true, false))); // Vᵀ(f₀ − y), [n, k]
      // Σ over the eigenbasis for every time at once: [n, T·k] columns.
      const scaled = (factors: Float32Array) =>
        tf.reshape(tf.transpose(tf.mul(tf.reshape(tf.tensor(factors, [T, n]), [T, n, 1]), tf.reshape(c, [1, n, k])), [1, 0, 2]), [n, T * k]);
      const fxTrain = tf.tidy(() => {
        const delta = tf.transpose(tf.reshape(tf.matMul(V, scaled(eTrain)), [n, T, k]), [1, 0, 2]);
        return tf.reshape(tf.add(delta, f02), outShape(n, Array.isArray(p.t) ? T : null));
      });
      if (!kt) return { fx_train: fxTrain };
      const fxTest = tf.tidy(() => {
        const kv = tf.matMul(kt, V); // [m, n]
        const delta = tf.transpose(tf.reshape(tf.matMul(kv, scaled(eTest)), [m, T, k]), [1, 0, 2]);
        return tf.reshape(tf.add(delta, ft02!), outShape(m, Array.isArray(p.t) ? T : null));
      });
      return { fx_train: fxTrain, fx_test: fxTest };
    } finally {
      tf.dispose(temps);
    }
  },
});
