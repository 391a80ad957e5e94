import { defineOperator, ParamError, tensor, Type } from '../../core/operator/index.js';
import { activate, ACTIVATIONS } from './mlp-lib.js';
import { Rng } from './rng.js';

/**
 * The preactivations of many independently initialised finite networks at every layer: the raw
 * material of finite-width statistics (Roberts, Yaida & Hanin, "The Principles of Deep Learning
 * Theory"): the layer-ℓ second moment tracks the NNGP kernel and the excess kurtosis measures the
 * 1/width interactions that the infinite-width limit drops.
 */
export const samplePreactivations = defineOperator({
  id: 'model.sample_preactivations',
  version: 1,
  summary: 'z_ℓ = W_ℓ φ(z_{ℓ−1}) + b_ℓ of num_networks seeded random MLPs at every layer ℓ = 1…depth: z [depth, networks, n, width]',
  description:
    'Weights W_ℓ ~ N(0, C_W/fan_in) with C_W = W_std², biases ~ N(0, b_std²), z_0 = x (no activation on the input). ' +
    'All hidden layers have the same width so the layers stack. Weights are drawn in JavaScript from the node ' +
    'seed (identical on every backend); the forward passes are batched over networks.',
  stochastic: true,
  params: Type.Object(
    {
      depth: Type.Integer({ minimum: 1, description: 'Number of layers L whose preactivations are returned.' }),
      width: Type.Integer({ minimum: 1, description: 'Width of every hidden layer.' }),
      num_networks: Type.Integer({ minimum: 1, description: 'How many independently initialised networks.' }),
      activation: Type.Union(ACTIVATIONS.map((a) => Type.Literal(a)), { default: 'relu', description: 'Nonlinearity φ between layers.' }),
      epsilon: Type.Number({ default: 1, description: 'ε of the quadratic activation (ignored otherwise).' }),
      W_std: Type.Number({ minimum: 0, default: Math.SQRT2, description: 'σ_w, so C_W = σ_w² (2 is ReLU criticality).' }),
      b_std: Type.Number({ minimum: 0, default: 0, description: 'σ_b (C_b = σ_b²).' }),
    },
    { additionalProperties: false },
  ),
  inputs: { x: tensor({ rank: 2, doc: 'inputs [n, d]' }) },
  outputs: { z: tensor({ rank: 4, doc: 'preactivations [depth, num_networks, n, width]' }) },
  examples: [{ params: { depth: 3, width: 8, num_networks: 4 }, inputs: { x: { shape: [2, 5] } } }],
  shape: ({ x }, p) => {
    const d = x.shape![1];
    // Weights are drawn on the host: keep the draw within what a run does in seconds.
    const weights = p.num_networks * p.width * (typeof d === 'number' ? d : p.width) + (p.depth - 1) * p.num_networks * p.width ** 2;
    if (weights > 2e8) throw new ParamError(`${weights} random weights to draw exceed 2e8; use fewer or narrower networks`, '/params/num_networks');
    return { z: { kind: 'tensor', dtype: 'float32', shape: [p.depth, p.num_networks, x.shape![0], p.width] } };
  },
  run: ({ x }, p, { tf, seed }) => {
    const rng = new Rng(seed);
    const d = x.shape[1]!;
    let h = tf.tile(tf.expandDims(tf.cast(x, 'float32'), 0), [p.num_networks, 1, 1]);
    const layers = [];
    let fanIn: number = d;
    for (let l = 0; l < p.depth; l++) {
      const w = tf.tensor3d(rng.normals(p.num_networks * fanIn * p.width, p.W_std / Math.sqrt(fanIn)), [p.num_networks, fanIn, p.width]);
      let z = tf.matMul(h, w);
      if (p.b_std > 0) z = tf.add(z, tf.tensor3d(rng.normals(p.num_networks * p.width, p.b_std), [p.num_networks, 1, p.width]));
      layers.push(z);
      h = activate(tf, p.activation, z, p.epsilon);
      fanIn = p.width;
    }
    return { z: tf.stack(layers) };
  },
});
