import { defineOperator, tensor, Type } from '../../core/operator/index.js';

/** i.i.d. draws x ~ N(mean, std²), decided by the node seed. */
export const normal = defineOperator({
  id: 'data.normal',
  version: 1,
  summary: 'Gaussian samples x ~ N(mean, std²), i.i.d., from the node seed',
  description: 'Marsaglia polar method over the alea PRNG (tf.randomNormal), drawn in JS: identical on every backend for a seed.',
  stochastic: true,
  params: Type.Object(
    {
      shape: Type.Array(Type.Integer({ minimum: 0 }), { description: 'Shape of the output, e.g. [100, 3].' }),
      mean: Type.Number({ default: 0, description: 'Mean of the distribution.' }),
      std: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'Standard deviation, > 0.' }),
      dtype: Type.Literal('float32', { default: 'float32', description: 'Element type (float32 only).' }),
    },
    { additionalProperties: false },
  ),
  inputs: {},
  outputs: { out: tensor({ dtype: 'float32', doc: 'Samples in the requested shape' }) },
  examples: [{ params: { shape: [4, 3], std: 0.5 }, inputs: {} }],
  shape: (_inputs, p) => ({ out: [...p.shape] }),
  run: (_inputs, p, { tf, seed }) => ({
    // tf.randomNormal treats a falsy seed as "unseeded" (Math.random), so seed 0 would not be
    // reproducible; its generator seeds alea with String(seed), so passing '0' is exactly the
    // seeded draw for 0 (as tf.randomUniform already does for 0).
    out: tf.randomNormal(p.shape, p.mean, p.std, p.dtype, seed === 0 ? ('0' as unknown as number) : seed),
  }),
});
