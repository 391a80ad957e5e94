import { defineOperator, OperatorError, ParamError, ShapeError, tensor, Type } from '../../core/operator/index.js';
import type { Tensor } from '@tensorflow/tfjs-core';
import { checkMeta, expectShape, seededNormal } from './random.js';

/**
 * Random Fourier features (Rahimi & Recht 2007) for the RBF kernel σ²·exp(−‖(x − x′)/ℓ‖²/2),
 * the sin/cos form: φ(x) = σ/√m · [cos(x̃w), sin(x̃w)], x̃ = x/ℓ, w ~ N(0,1)^{d×m}, m = D/2.
 */
export const rff = defineOperator({
  id: 'features.rff',
  version: 1,
  summary: 'Random Fourier features φ(x) = σ/√m·[cos((x/ℓ)w), sin((x/ℓ)w)], w ~ N(0, I): φ(x)·φ(x′) → σ²·exp(−‖(x−x′)/ℓ‖²/2)',
  description:
    'Rahimi & Recht, "Random features for large-scale kernel machines" (NeurIPS 2007), in the sin/cos form (no random phase; ' +
    'lower variance than cos(xw + b)). num_features D = 2m must be even; the columns are the m cosines then the m sines. ' +
    'E[φ(x)·φ(x′)] = σ²·exp(−‖(x − x′)/ℓ‖²/2) (the kernel.rbf convention: ℓ scales distances, scalar or one per input ' +
    'dimension); the Monte Carlo error falls like D^−½. The random matrix w [d, D/2] (standard normal) is an optional ' +
    'input; absent, it is drawn from the node seed. Output `w` is the matrix used: wire it into a second features.rff ' +
    'node to featurise test points with the same draw.',
  stochastic: true,
  params: Type.Object(
    {
      lengthscale: Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Array(Type.Number({ exclusiveMinimum: 0 }), { minItems: 1 })], {
        default: 1,
        description: 'ℓ > 0: a scalar, or one per input dimension (ARD).',
      }),
      variance: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'σ² > 0, the kernel value at x = x′.' }),
      num_features: Type.Integer({ minimum: 2, multipleOf: 2, default: 256, description: 'D: number of features (even; D/2 frequencies).' }),
    },
    { additionalProperties: false },
  ),
  inputs: {
    x: tensor({ dtype: 'float32', rank: 2, doc: 'Inputs, [n, d]' }),
    w: tensor({ dtype: 'float32', rank: 2, optional: true, doc: 'Frequencies w ~ N(0, 1), [d, D/2]; absent = drawn from the node seed' }),
  },
  outputs: {
    out: tensor({ dtype: 'float32', doc: 'Features φ(x), [n, D]' }),
    w: tensor({ dtype: 'float32', doc: 'The frequencies used, [d, D/2]' }),
  },
  examples: [{ params: { num_features: 8, lengthscale: [1, 2, 0.5] }, inputs: { x: { shape: [5, 3] } } }],
  shape: ({ x, w }, p) => {
    const [n, d] = x.shape!;
    if (p.num_features % 2 !== 0) throw new ParamError('num_features must be even', '/params/num_features');
    if (Array.isArray(p.lengthscale) && typeof d === 'number' && p.lengthscale.length !== d) {
      throw new ShapeError(`lengthscale has ${p.lengthscale.length} entries but x has d = ${d}`, '/params/lengthscale');
    }
    checkMeta(w, [d, p.num_features / 2], 'w', '/inputs/w');
    return { out: [n, p.num_features], w: [d, p.num_features / 2] };
  },
  run: ({ x, w }, p, { tf, seed }) => {
    const [, d] = x.shape;
    const m = p.num_features / 2;
    if (p.num_features % 2 !== 0) throw new OperatorError('bad_param', 'num_features must be even');
    const ls = Array.isArray(p.lengthscale) ? p.lengthscale : [p.lengthscale];
    if (ls.length !== 1 && ls.length !== d) throw new OperatorError('shape', `lengthscale has ${ls.length} entries but x has d = ${d}`);
    if (w) expectShape(w, [d, m], 'w');
    const omega: Tensor = w ? w.clone() : seededNormal(tf, [d, m], seed, 'w');
    const xs = ls.length === 1 ? tf.div(x, ls[0]) : tf.div(x, tf.tensor1d(ls));
    const z = tf.matMul(xs, omega);
    const scale = Math.sqrt(p.variance / m);
    return { out: tf.mul(tf.concat([tf.cos(z), tf.sin(z)], 1), scale), w: omega };
  },
});
