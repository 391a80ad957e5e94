import { defineOperator, tensor, Type } from '../../core/operator/index.js';
import { ACTIVATIONS, activationScalar } from '../model/mlp-lib.js';
import { mixSeed, Rng } from '../model/rng.js';

/** Gaussian inputs labelled by a random teacher. */
export const teacherStudent = defineOperator({
  id: 'data.teacher_student',
  version: 1,
  summary: 'x ~ N(0, I_d); y = teacher(x) + noise: random MLP, single-index φ(u·x/√d), or quadratic He₂(u·x/‖u‖)',
  description:
    'target "mlp": y = (1/√h)·Σ_j a_j φ(u_j·x/√d) with u_j ~ N(0, I_d), a_j ~ N(0, 1) (a width-h one-hidden-layer ' +
    'teacher); "single_index": y = φ(u·x/√d); "quadratic": y = ((u·x/‖u‖)² − 1)/√2 (unit variance, the target of the ' +
    'lazy-vs-rich grokking experiments). Noise N(0, noise²) is added to y. Drawn in JavaScript (float64, then float32) ' +
    'from the node seed: identical on every backend. erf/gelu use a 1.5e-7-accurate erf.',
  stochastic: true,
  params: Type.Object(
    {
      n: Type.Integer({ minimum: 1, default: 100, description: 'Number of points.' }),
      d: Type.Integer({ minimum: 1, default: 8, description: 'Input dimension.' }),
      target: Type.Union([Type.Literal('mlp'), Type.Literal('single_index'), Type.Literal('quadratic')], { default: 'mlp', description: 'Teacher kind.' }),
      teacher_width: Type.Integer({ minimum: 1, default: 32, description: 'h, the hidden width of the mlp teacher.' }),
      activation: Type.Union(ACTIVATIONS.map((a) => Type.Literal(a)), { default: 'tanh', description: 'φ of the mlp and single_index teachers.' }),
      epsilon: Type.Number({ default: 1, description: 'ε of the quadratic activation.' }),
      noise: Type.Number({ minimum: 0, default: 0, description: 'Standard deviation of the label noise.' }),
    },
    { additionalProperties: false },
  ),
  inputs: {},
  outputs: {
    x: tensor({ dtype: 'float32', doc: 'inputs [n, d]' }),
    y: tensor({ dtype: 'float32', doc: 'targets [n, 1]' }),
  },
  examples: [{ params: { n: 6, d: 3, teacher_width: 8, noise: 0.1 }, inputs: {} }],
  shape: (_i, p) => ({ x: [p.n, p.d], y: [p.n, 1] }),
  run: (_i, p, { tf, seed }) => {
    const { n, d } = p;
    const xs = new Rng(mixSeed(seed, 1)).normals(n * d);
    const tr = new Rng(mixSeed(seed, 2));
    const noise = new Rng(mixSeed(seed, 3));
    const h = p.target === 'mlp' ? p.teacher_width : 1;
    const U = Array.from({ length: h }, () => Array.from({ length: d }, () => tr.normal()));
    const a = Array.from({ length: h }, () => tr.normal());
    const uNorm = Math.sqrt(U[0].reduce((s, v) => s + v * v, 0)) || 1;
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const proj = U.map((u) => u.reduce((s, v, j) => s + v * xs[i * d + j], 0));
      let v: number;
      if (p.target === 'mlp') v = proj.reduce((s, z, j) => s + a[j] * activationScalar(p.activation, z / Math.sqrt(d), p.epsilon), 0) / Math.sqrt(h);
      else if (p.target === 'single_index') v = activationScalar(p.activation, proj[0] / Math.sqrt(d), p.epsilon);
      else v = ((proj[0] / uNorm) ** 2 - 1) / Math.SQRT2;
      y[i] = v + (p.noise > 0 ? p.noise * noise.normal() : 0);
    }
    return { x: tf.tensor2d(xs, [n, d]), y: tf.tensor2d(y, [n, 1]) };
  },
});
