import { defineOperator, tensor, Type } from '../../core/operator/index.js';
import type { Tensor } from '@tensorflow/tfjs-core';
import { checkMeta, expectShape, seededNormal } from './random.js';

/** Random ReLU features: one random dense layer (NTK parameterisation) followed by ReLU, scaled by 1/√D. */
export const reluFeatures = defineOperator({
  id: 'features.relu',
  version: 1,
  summary: 'Random ReLU features φ(x) = relu(W_std/√d·xw + b_std·b)/√D, w, b ~ N(0, 1): φ(x)·φ(x′) → NNGP of dense+relu',
  description:
    'A width-D random dense layer in the NTK parameterisation followed by ReLU (Rahimi & Recht 2008; Cho & Saul 2009). ' +
    'E[φ(x)·φ(x′)] is the NNGP kernel of kernel.nn layers [dense {W_std, b_std}, relu] — the arc-cosine form ' +
    '√(q q′)(sin θ + (π − θ) cos θ)/2π with K = W_std²·x·x′/d + b_std², q = K(x, x), θ = angle of (K, q, q′) — ' +
    'and the Monte Carlo error falls like D^−½. b_std = 0 means no bias. The random matrices w [d, D] and b [D] ' +
    '(standard normal) are optional inputs; absent, they are drawn from the node seed. Outputs `w` and `b` are the draws ' +
    'used (wire them into the node featurising the other side).',
  stochastic: true,
  params: Type.Object(
    {
      W_std: Type.Number({ minimum: 0, default: 1, description: 'Weight scale σ_w ≥ 0 (the weights are σ_w/√d·w).' }),
      b_std: Type.Number({ minimum: 0, default: 0, description: 'Bias scale σ_b ≥ 0 (the bias is σ_b·b); 0 = no bias.' }),
      num_features: Type.Integer({ minimum: 1, default: 256, description: 'D: number of random features (the layer width).' }),
    },
    { additionalProperties: false },
  ),
  inputs: {
    x: tensor({ dtype: 'float32', rank: 2, doc: 'Inputs, [n, d]' }),
    w: tensor({ dtype: 'float32', rank: 2, optional: true, doc: 'Weights w ~ N(0, 1), [d, D]; absent = drawn from the node seed' }),
    b: tensor({ dtype: 'float32', rank: 1, optional: true, doc: 'Biases b ~ N(0, 1), [D]; absent = drawn from the node seed' }),
  },
  outputs: {
    out: tensor({ dtype: 'float32', doc: 'Features φ(x), [n, D]' }),
    w: tensor({ dtype: 'float32', doc: 'The weights used, [d, D]' }),
    b: tensor({ dtype: 'float32', doc: 'The biases used, [D]' }),
  },
  examples: [{ params: { num_features: 16, b_std: 0.5 }, inputs: { x: { shape: [5, 3] } } }],
  shape: ({ x, w, b }, p) => {
    const [n, d] = x.shape!;
    checkMeta(w, [d, p.num_features], 'w', '/inputs/w');
    checkMeta(b, [p.num_features], 'b', '/inputs/b');
    return { out: [n, p.num_features], w: [d, p.num_features], b: [p.num_features] };
  },
  run: ({ x, w, b }, p, { tf, seed }) => {
    const [, d] = x.shape;
    const D = p.num_features;
    if (w) expectShape(w, [d, D], 'w');
    if (b) expectShape(b, [D], 'b');
    const wt: Tensor = w ? w.clone() : seededNormal(tf, [d, D], seed, 'w');
    const bt: Tensor = b ? b.clone() : seededNormal(tf, [D], seed, 'b');
    let z = tf.mul(tf.matMul(x, wt), p.W_std / Math.sqrt(d));
    if (p.b_std !== 0) z = tf.add(z, tf.mul(bt, p.b_std));
    return { out: tf.div(tf.relu(z), Math.sqrt(D)), w: wt, b: bt };
  },
});
