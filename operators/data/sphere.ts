import { defineOperator, tensor, Type } from '../../core/operator/index.js';
import { ACTIVATIONS, activationScalar } from '../model/mlp-lib.js';
import { mixSeed, Rng } from '../model/rng.js';

/** Points uniform on the sphere, optionally labelled by a random teacher. */
export const sphere = defineOperator({
  id: 'data.sphere',
  version: 1,
  summary: 'x uniform on the sphere S^{d−1} of radius 1 (or √d); y = teacher(z), z = √d·(u·x)/(‖u‖‖x‖) ≈ N(0, 1)',
  description:
    'x = r·g/‖g‖ with g ~ N(0, I_d): uniform on the sphere of radius r = 1 (radius "unit") or r = √d (radius ' +
    '"sqrt_d", so that ‖x‖² = d as for x ~ N(0, I_d), the convention of kernel and learning-curve papers). Targets ' +
    'use the scale-free projection z = √d·cos∠(u, x) for a random teacher direction u (E z = 0, E z² = 1): ' +
    '"none": y = 0; "linear": y = z; "quadratic": y = (z² − 1)·√((d+2)/(2(d−1))) (zero mean, unit variance on the ' +
    'sphere: the degree-2 Gegenbauer polynomial); "single_index": y = φ(z); "mlp": y = (1/√h)·Σ_j a_j φ(√d·cos∠(u_j, x)) ' +
    'with u_j ~ N(0, I_d), a_j ~ N(0, 1). Noise N(0, noise²) is added to y. Drawn in JavaScript (float64, then ' +
    'float32) from the node seed: identical on every backend.',
  stochastic: true,
  params: Type.Object(
    {
      n: Type.Integer({ minimum: 1, default: 100, description: 'Number of points.' }),
      d: Type.Integer({ minimum: 2, default: 8, description: 'Ambient dimension (the sphere is S^{d−1}).' }),
      radius: Type.Union([Type.Literal('unit'), Type.Literal('sqrt_d')], { default: 'unit', description: 'unit: ‖x‖ = 1; sqrt_d: ‖x‖ = √d.' }),
      target: Type.Union(['none', 'linear', 'quadratic', 'single_index', 'mlp'].map((t) => Type.Literal(t)), { default: 'none', description: 'Teacher kind (see description).' }),
      teacher_width: Type.Integer({ minimum: 1, default: 32, description: 'h, the hidden width of the mlp teacher.' }),
      activation: Type.Union(ACTIVATIONS.map((a) => Type.Literal(a)), { default: 'tanh', description: 'φ of the single_index and mlp teachers.' }),
      epsilon: Type.Number({ default: 1, description: 'ε of the quadratic activation.' }),
      noise: Type.Number({ minimum: 0, default: 0, description: 'Standard deviation of the label noise.' }),
    },
    { additionalProperties: false },
  ),
  inputs: {},
  outputs: {
    x: tensor({ dtype: 'float32', doc: 'points [n, d]' }),
    y: tensor({ dtype: 'float32', doc: 'targets [n, 1] (zeros for target "none")' }),
    u: tensor({ dtype: 'float32', doc: 'the unit teacher direction [d] (of the first teacher neuron for "mlp")' }),
  },
  examples: [
    { params: { n: 6, d: 3 }, inputs: {} },
    { params: { n: 6, d: 4, radius: 'sqrt_d', target: 'quadratic', noise: 0.1 }, inputs: {} },
  ],
  shape: (_i, p) => ({ x: [p.n, p.d], y: [p.n, 1], u: [p.d] }),
  run: (_i, p, { tf, seed }) => {
    const { n, d } = p;
    const r = p.radius === 'unit' ? 1 : Math.sqrt(d);
    const gx = new Rng(mixSeed(seed, 1));
    const tr = new Rng(mixSeed(seed, 2));
    const rn = new Rng(mixSeed(seed, 3));
    const h = p.target === 'mlp' ? p.teacher_width : 1;
    const U = Array.from({ length: h }, () => {
      const u = Array.from({ length: d }, () => tr.normal());
      const norm = Math.sqrt(u.reduce((s, v) => s + v * v, 0)) || 1;
      return u.map((v) => v / norm);
    });
    const a = Array.from({ length: h }, () => tr.normal());
    // On the sphere cos²∠ ~ Beta(½, (d−1)/2), so Var(z²) = 2(d−1)/(d+2): this scale gives unit variance.
    const quadScale = Math.sqrt((d + 2) / (2 * (d - 1)));
    const x = new Float32Array(n * d);
    const y = new Float32Array(n);
    const g = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      let s = 0;
      // Redraw the (probability-zero) all-zero vector rather than divide by 0.
      while (s === 0) {
        for (let j = 0; j < d; j++) s += (g[j] = gx.normal()) ** 2;
      }
      const inv = 1 / Math.sqrt(s);
      for (let j = 0; j < d; j++) x[i * d + j] = r * g[j] * inv;
      if (p.target === 'none') continue;
      const z = U.map((u) => Math.sqrt(d) * u.reduce((acc, v, j) => acc + v * g[j] * inv, 0));
      let v: number;
      if (p.target === 'linear') v = z[0];
      else if (p.target === 'quadratic') v = (z[0] * z[0] - 1) * quadScale;
      else if (p.target === 'single_index') v = activationScalar(p.activation, z[0], p.epsilon);
      else v = z.reduce((acc, zj, j) => acc + a[j] * activationScalar(p.activation, zj, p.epsilon), 0) / Math.sqrt(h);
      y[i] = v + (p.noise > 0 ? p.noise * rn.normal() : 0);
    }
    return { x: tf.tensor2d(x, [n, d]), y: tf.tensor2d(y, [n, 1]), u: tf.tensor1d(Float32Array.from(U[0])) };
  },
});
