import { defineOperator, tensor, Type } from '../../core/operator/index.js';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { TF } from '../../core/operator/index.js';
import { orthogonalGaussian, orthogonalParam } from '../attention/index.js';
import { checkMeta, expectShape, seededNormal } from './random.js';

/** FAVOR+ positive random features (Performer) for the exponential kernel exp(x·x′). */
export const favor = defineOperator({
  id: 'features.favor',
  version: 2,
  summary: 'Positive random features φ(x) = exp(xw − ‖x‖²/2)/√D, w columns ~ N(0, I) (orthogonal blocks by default): φ(x)·φ(x′) → exp(x·x′)',
  description:
    'Choromanski et al., "Rethinking attention with Performers" (ICLR 2021), the positive (FAVOR+) features. Frequencies: ' +
    'orthogonal (default; the D columns of w come in blocks of d mutually orthogonal columns, each rescaled by an independent ' +
    'chi_d norm, so each column is marginally N(0, I) and the estimate has lower variance) or i.i.d. N(0, 1) (orthogonal: ' +
    'false). Either way E[φ(x)·φ(x′)] = exp(x·x′) exactly, every feature is positive, and the Monte ' +
    'Carlo error falls like D^−½ with a constant that grows like exp(‖x + x′‖²) — keep ‖x‖ of order 1 (for softmax ' +
    'attention exp(q·k/√d) feed q/d^¼ and k/d^¼). Computed as exp(xw − ‖x‖²/2) in float32: an entry of xw − ‖x‖²/2 above ' +
    '≈ 88 overflows and fails the node (non_finite_output). The random matrix w [d, D] is an optional input; absent, it is ' +
    'drawn from the node seed. Output `w` is the matrix used (wire it into the node featurising the other side).',
  stochastic: true,
  params: Type.Object(
    {
      num_features: Type.Integer({ minimum: 1, default: 256, description: 'D: number of random features.' }),
      orthogonal: orthogonalParam,
    },
    { additionalProperties: false },
  ),
  inputs: {
    x: tensor({ dtype: 'float32', rank: 2, doc: 'Inputs, [n, d]' }),
    w: tensor({ dtype: 'float32', rank: 2, optional: true, doc: 'Frequencies w, columns ~ N(0, I), [d, D]; absent = drawn from the node seed' }),
  },
  outputs: {
    out: tensor({ dtype: 'float32', doc: 'Features φ(x), [n, D], all positive' }),
    w: tensor({ dtype: 'float32', doc: 'The frequencies used, [d, D]' }),
  },
  examples: [{ params: { num_features: 8 }, inputs: { x: { shape: [5, 3], fill: 'uniform' } } }],
  shape: ({ x, w }, p) => {
    const [n, d] = x.shape!;
    checkMeta(w, [d, p.num_features], 'w', '/inputs/w');
    return { out: [n, p.num_features], w: [d, p.num_features] };
  },
  run: ({ x, w }, p, { tf, seed }) => {
    const [, d] = x.shape;
    const D = p.num_features;
    if (w) expectShape(w, [d, D], 'w');
    const omega: Tensor = w ? w.clone() : p.orthogonal ? orthogonalColumns(tf, d, D, seed) : seededNormal(tf, [d, D], seed, 'w');
    const halfNorm = tf.mul(tf.sum(tf.square(x), 1, true), 0.5);
    const out = tf.div(tf.exp(tf.sub(tf.matMul(x, omega), halfNorm)), Math.sqrt(D));
    return { out, w: omega };
  },
});

/** w [d, D] whose columns are the rows of an orthogonal-block [D, d] draw. */
function orthogonalColumns(tf: TF, d: number, D: number, seed: number): Tensor {
  const rows = orthogonalGaussian(D, d, seed);
  const w = new Float32Array(d * D);
  for (let j = 0; j < D; j++) for (let t = 0; t < d; t++) w[t * D + j] = rows[j * d + t];
  return tf.tensor2d(w, [d, D]);
}
