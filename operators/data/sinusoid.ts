import { defineOperator, ParamError, tensor, Type } from '../../core/operator/index.js';
import { mixSeed, Rng } from '../model/rng.js';

/** A noisy 1-D sinusoid with an out-of-range test grid. */
export const sinusoid = defineOperator({
  id: 'data.sinusoid',
  version: 1,
  summary: 'y = A·sin(2π·f·x + φ) + noise, x ~ U(range); test points on an even grid over test_range (noise-free)',
  description:
    'Training inputs are drawn uniformly in `range` from the node seed (JavaScript PRNG: identical on every ' +
    'backend) with N(0, noise²) label noise; the test split is a deterministic grid over `test_range`, which by ' +
    'default extends past the training range on both sides (out-of-distribution extrapolation).',
  stochastic: true,
  params: Type.Object(
    {
      n: Type.Integer({ minimum: 1, default: 30, description: 'Training points.' }),
      range: Type.Array(Type.Number(), { minItems: 2, maxItems: 2, default: [-1, 1], description: 'Training interval [lo, hi].' }),
      test_n: Type.Integer({ minimum: 2, default: 100, description: 'Test grid size.' }),
      test_range: Type.Array(Type.Number(), { minItems: 2, maxItems: 2, default: [-2, 2], description: 'Test interval [lo, hi] (grid, endpoints included).' }),
      amplitude: Type.Number({ default: 1, description: 'A.' }),
      frequency: Type.Number({ default: 0.5, description: 'f, in cycles per unit of x.' }),
      phase: Type.Number({ default: 0, description: 'φ, radians.' }),
      noise: Type.Number({ minimum: 0, default: 0, description: 'Standard deviation of the training label noise.' }),
    },
    { additionalProperties: false },
  ),
  inputs: {},
  outputs: {
    x: tensor({ dtype: 'float32', doc: 'training inputs [n, 1]' }),
    y: tensor({ dtype: 'float32', doc: 'training targets [n, 1]' }),
    x_test: tensor({ dtype: 'float32', doc: 'test grid [test_n, 1]' }),
    y_test: tensor({ dtype: 'float32', doc: 'noise-free test targets [test_n, 1]' }),
  },
  examples: [{ params: { n: 6, test_n: 5, noise: 0.1 }, inputs: {} }],
  shape: (_i, p) => {
    if (!(p.range[1] > p.range[0])) throw new ParamError('range must be [lo, hi] with lo < hi', '/params/range');
    if (!(p.test_range[1] > p.test_range[0])) throw new ParamError('test_range must be [lo, hi] with lo < hi', '/params/test_range');
    return { x: [p.n, 1], y: [p.n, 1], x_test: [p.test_n, 1], y_test: [p.test_n, 1] };
  },
  run: (_i, p, { tf, seed }) => {
    const f = (x: number) => p.amplitude * Math.sin(2 * Math.PI * p.frequency * x + p.phase);
    const rx = new Rng(mixSeed(seed, 1));
    const rn = new Rng(mixSeed(seed, 2));
    const x = Float32Array.from({ length: p.n }, () => p.range[0] + (p.range[1] - p.range[0]) * rx.uniform());
    const y = Float32Array.from(x, (v) => f(v) + (p.noise > 0 ? p.noise * rn.normal() : 0));
    const [lo, hi] = p.test_range;
    const xt = Float32Array.from({ length: p.test_n }, (_, i) => lo + ((hi - lo) * i) / (p.test_n - 1));
    const yt = Float32Array.from(xt, f);
    return { x: tf.tensor2d(x, [p.n, 1]), y: tf.tensor2d(y, [p.n, 1]), x_test: tf.tensor2d(xt, [p.test_n, 1]), y_test: tf.tensor2d(yt, [p.test_n, 1]) };
  },
});
