import { defineOperator, tensor, Type } from '../../core/operator/index.js';
import { mixSeed, Rng } from '../model/rng.js';

/** Points on the unit circle with a periodic target of frequency k. */
export const circle = defineOperator({
  id: 'data.circle',
  version: 1,
  summary: 'x = r·(cos θ, sin θ), θ evenly spaced or uniform in [0, 2π); y = sin(kθ + φ) + noise, labels = sign(sin(kθ + φ))',
  description:
    'The simplest input manifold on which kernel spectra are known in closed form: a dot-product kernel on the circle ' +
    'is diagonalised by the Fourier modes cos(kθ), sin(kθ), so the frequency k of the target sets how hard it is to ' +
    'learn (spectral bias). angles "even": θ_i = 2π·i/n (+ a seeded random offset when `offset` is true); ' +
    '"random": θ_i ~ U[0, 2π) from the node seed (JavaScript PRNG: identical on every backend). y gets N(0, noise²) ' +
    'noise; labels are the noise-free sign (+1 at sin = 0), as float ±1 for metric.accuracy on one output.',
  stochastic: true,
  params: Type.Object(
    {
      n: Type.Integer({ minimum: 1, default: 64, description: 'Number of points.' }),
      angles: Type.Union([Type.Literal('even'), Type.Literal('random')], { default: 'even', description: 'even: θ_i = 2π·i/n; random: θ_i ~ U[0, 2π).' }),
      offset: Type.Boolean({ default: false, description: 'even only: rotate the grid by a seeded uniform angle in [0, 2π/n).' }),
      radius: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'r.' }),
      frequency: Type.Integer({ minimum: 0, default: 1, description: 'k, the target frequency.' }),
      phase: Type.Number({ default: 0, description: 'φ, radians.' }),
      noise: Type.Number({ minimum: 0, default: 0, description: 'Standard deviation of the noise on y.' }),
    },
    { additionalProperties: false },
  ),
  inputs: {},
  outputs: {
    x: tensor({ dtype: 'float32', doc: 'points [n, 2]' }),
    y: tensor({ dtype: 'float32', doc: 'targets sin(kθ + φ) + noise [n, 1]' }),
    labels: tensor({ dtype: 'float32', doc: '±1 classes sign(sin(kθ + φ)) [n, 1]' }),
    theta: tensor({ dtype: 'float32', doc: 'angles θ in [0, 2π) [n]' }),
  },
  examples: [
    { params: { n: 8, frequency: 2 }, inputs: {} },
    { params: { n: 6, angles: 'random', noise: 0.1 }, inputs: {} },
  ],
  shape: (_i, p) => ({ x: [p.n, 2], y: [p.n, 1], labels: [p.n, 1], theta: [p.n] }),
  run: (_i, p, { tf, seed }) => {
    const { n } = p;
    const ra = new Rng(mixSeed(seed, 1));
    const rn = new Rng(mixSeed(seed, 2));
    const step = (2 * Math.PI) / n;
    const shift = p.offset ? step * ra.uniform() : 0;
    const theta = Float64Array.from({ length: n }, (_, i) => (p.angles === 'even' ? shift + i * step : 2 * Math.PI * ra.uniform()));
    const x = new Float32Array(2 * n);
    const y = new Float32Array(n);
    const labels = new Float32Array(n);
    theta.forEach((t, i) => {
      x[2 * i] = p.radius * Math.cos(t);
      x[2 * i + 1] = p.radius * Math.sin(t);
      const s = Math.sin(p.frequency * t + p.phase);
      y[i] = s + (p.noise > 0 ? p.noise * rn.normal() : 0);
      labels[i] = s >= 0 ? 1 : -1;
    });
    return { x: tf.tensor2d(x, [n, 2]), y: tf.tensor2d(y, [n, 1]), labels: tf.tensor2d(labels, [n, 1]), theta: tf.tensor1d(Float32Array.from(theta)) };
  },
});
