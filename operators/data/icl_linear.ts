import { defineOperator, tensor, Type } from '../../core/operator/index.js';
import { mixSeed, Rng } from '../model/rng.js';

/** Batches of in-context linear-regression prompts. */
export const iclLinear = defineOperator({
  id: 'data.icl_linear',
  version: 1,
  summary: 'In-context linear regression: per task w ~ N(0, I_d/d), x_i ~ N(0, I_d), y_i = w·x_i + noise; tokens [x_i, y_i] then [x_q, 0]',
  description:
    'Akyürek et al. (2023), "What learning algorithm is in-context learning?"; von Oswald et al. (2023), ' +
    '"Transformers learn in-context by gradient descent". Each of `tasks` prompts holds n_context tokens ' +
    '(x_i, y_i) and a query token (x_q, 0) whose y slot is zero: tokens[t, i] = [x_i, y_i] ∈ R^{d+1}. The query ' +
    'target is y_q = w·x_q + noise·ε (noise on every y alike). With w ~ N(0, I_d/d) the noise-free y has unit ' +
    'variance. `w` is returned so that predictors can be compared with the true task. Drawn in JavaScript from the ' +
    'node seed (identical on every backend); task t uses the same draws whatever `tasks` is.',
  stochastic: true,
  params: Type.Object(
    {
      tasks: Type.Integer({ minimum: 1, default: 64, description: 'Number of prompts (tasks).' }),
      n_context: Type.Integer({ minimum: 0, default: 20, description: 'Context pairs per prompt (N).' }),
      d: Type.Integer({ minimum: 1, default: 5, description: 'Input dimension.' }),
      noise: Type.Number({ minimum: 0, default: 0, description: 'Standard deviation of the noise on every y.' }),
    },
    { additionalProperties: false },
  ),
  inputs: {},
  outputs: {
    tokens: tensor({ dtype: 'float32', doc: 'prompts [tasks, n_context + 1, d + 1]; the last token is [x_q, 0]' }),
    y: tensor({ dtype: 'float32', doc: 'query targets w·x_q + noise [tasks]' }),
    w: tensor({ dtype: 'float32', doc: 'task weights [tasks, d]' }),
  },
  examples: [{ params: { tasks: 3, n_context: 4, d: 2, noise: 0.1 }, inputs: {} }],
  shape: (_i, p) => ({ tokens: [p.tasks, p.n_context + 1, p.d + 1], y: [p.tasks], w: [p.tasks, p.d] }),
  run: (_i, p, { tf, seed }) => {
    const { tasks, n_context: nc, d } = p;
    const len = nc + 1;
    const tokens = new Float32Array(tasks * len * (d + 1));
    const y = new Float32Array(tasks);
    const w = new Float32Array(tasks * d);
    const sw = 1 / Math.sqrt(d);
    for (let t = 0; t < tasks; t++) {
      // One stream per task: prompt t does not depend on how many tasks are drawn.
      const rng = new Rng(mixSeed(seed, t + 1));
      const wt = Float32Array.from({ length: d }, () => sw * rng.normal());
      w.set(wt, t * d);
      for (let i = 0; i < len; i++) {
        const at = (t * len + i) * (d + 1);
        let dot = 0;
        for (let j = 0; j < d; j++) {
          const v = rng.normal();
          tokens[at + j] = v;
          dot += wt[j] * Math.fround(v);
        }
        const yi = dot + (p.noise > 0 ? p.noise * rng.normal() : 0);
        if (i < nc) tokens[at + d] = yi;
        else y[t] = yi;
      }
    }
    return { tokens: tf.tensor3d(tokens, [tasks, len, d + 1]), y: tf.tensor1d(y), w: tf.tensor2d(w, [tasks, d]) };
  },
});
