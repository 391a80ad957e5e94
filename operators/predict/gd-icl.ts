import type { Tensor } from '@tensorflow/tfjs-core';
import { defineOperator, expectDim, OperatorError, ShapeError, tensor, Type } from '../../core/operator/index.js';
import { lsaDims, tokenDims } from '../model/lsa-icl-lib.js';

/** One gradient-descent step on each prompt's in-context least squares, from w₀ = 0. */
export const gdIcl = defineOperator({
  id: 'predict.gd_icl',
  version: 1,
  summary: 'One GD step per prompt: w₁ = η·(1/N)Σ_i y_i x_i (from w₀ = 0 on (1/2N)Σ(w·x_i − y_i)²), ŷ = w₁·x_q; η given or η* = Σ s_t y_t / Σ s_t²',
  description:
    'The in-context learner that one linear self-attention layer implements (von Oswald et al. 2023, Prop. 1; Akyürek et al. ' +
    '2023): for each prompt of data.icl_linear (context [x_i, y_i], i ≤ N, query [x_q, 0] last), one step of gradient ' +
    'descent of size η from w₀ = 0 on L(w) = (1/2N)Σ_i (w·x_i − y_i)², so w₁ = −η∇L(0) = η·(1/N)Σ_i y_i x_i and ŷ = w₁·x_q. ' +
    'eta = "optimal": with s_t = x_q·(1/N)Σ y_i x_i the predictions are η·s_t and the mean squared error over the given ' +
    'tasks is a quadratic in η, minimised at η* = Σ_t s_t y_t / Σ_t s_t² (s read back and summed in float64; needs the ' +
    'targets `y`). This is an oracle step for these tasks. For w ~ N(0, I/d), x ~ N(0, I) its expectation is ' +
    'N/(N + d + 1) (the Wishart moment E[(XᵀX)²] = N(N + d + 1)I). The step used is the `eta` output and the note `eta`.',
  params: Type.Object(
    {
      eta: Type.Union([Type.Number(), Type.Literal('optimal')], {
        default: 'optimal',
        description: 'Step size η, or "optimal": the η that minimises the mean squared error against `y` on these tasks.',
      }),
    },
    { additionalProperties: false },
  ),
  inputs: {
    tokens: tensor({ dtype: 'float32', rank: 3, doc: 'prompts [tasks, n_context + 1, d + 1], query token last (data.icl_linear)' }),
    y: tensor({ dtype: 'float32', rank: 1, optional: true, doc: 'query targets [tasks]; needed for eta = "optimal"' }),
  },
  outputs: {
    pred: tensor({ dtype: 'float32', doc: 'predictions ŷ = w₁·x_q [tasks]' }),
    w: tensor({ dtype: 'float32', doc: 'the weights after the step, w₁ [tasks, d]' }),
    eta: tensor({ dtype: 'float32', doc: 'the step size used (scalar)' }),
  },
  examples: [
    { params: { eta: 'optimal' }, inputs: { tokens: { from: { op: 'data.icl_linear', port: 'tokens', params: { tasks: 5, n_context: 6, d: 3 }, key: 'icl' } }, y: { from: { op: 'data.icl_linear', port: 'y', params: { tasks: 5, n_context: 6, d: 3 }, key: 'icl' } } } },
    { params: { eta: 0.7 }, inputs: { tokens: { shape: [3, 5, 3] } } },
  ],
  shape: ({ tokens, y }, p) => {
    const { T, D } = tokenDims(tokens.shape, '/inputs/tokens');
    if (y?.shape) expectDim(y.shape[0], T, 'y must have one target per prompt', '/inputs/y');
    if (p.eta === 'optimal' && !y) throw new ShapeError('eta = "optimal" needs the targets y', '/inputs/y');
    return { pred: [T], w: [T, typeof D === 'number' ? D - 1 : null], eta: [] };
  },
  // Async: the optimal step reads s back (webgpu in Node has no synchronous read), so it frees its own temporaries.
  run: async ({ tokens, y }, p, ctx) => {
    const { tf } = ctx;
    const { T, N, D } = lsaDims(tokens);
    const d = D - 1;
    if (y && (y.rank !== 1 || y.shape[0] !== T)) throw new OperatorError('shape', `y must be [${T}], got [${y.shape}]`);
    // g_t = (1/N)Σ_i y_i x_i = −∇L(0) and s_t = g_t·x_q.
    const [g, s] = tf.tidy(() => {
      const x = tf.slice(tokens, [0, 0, 0], [T, N, d]);
      const yc = tf.slice(tokens, [0, 0, d], [T, N, 1]);
      // A broadcast sum rather than a batched matMul of T tiny matrices (slow on every backend).
      const gg = tf.div(tf.sum(tf.mul(yc, x), 1), N);
      const xq = tf.reshape(tf.slice(tokens, [0, N, 0], [T, 1, d]), [T, d]);
      return [gg, tf.sum(tf.mul(gg, xq), 1)];
    });
    const temps: Tensor[] = [g, s];
    try {
      let eta: number;
      if (p.eta === 'optimal') {
        if (!y) throw new OperatorError('missing_input', 'eta = "optimal" needs the targets y');
        const [sv, yv] = [await s.data(), await y.data()];
        let sy = 0;
        let ss = 0;
        for (let t = 0; t < T; t++) {
          sy += sv[t] * yv[t];
          ss += sv[t] * sv[t];
        }
        if (!(ss > 0) || !Number.isFinite(sy / ss)) {
          throw new OperatorError('degenerate', `the optimal step is undefined: Σ s_t² = ${ss} (every prompt's (1/N)Σ y_i x_i is orthogonal to its query)`);
        }
        eta = sy / ss;
      } else eta = p.eta;
      ctx.note('eta', eta);
      return { pred: tf.mul(s, eta), w: tf.mul(g, eta), eta: tf.scalar(eta, 'float32') };
    } finally {
      tf.dispose(temps);
    }
  },
});
