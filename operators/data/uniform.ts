import { defineOperator, ParamError, tensor, Type } from '../../core/operator/index.js';

function expectRange(low: number, high: number): void {
  if (!(high > low)) throw new ParamError(`high (${high}) must exceed low (${low})`, '/params/high');
}

/** i.i.d. draws x ~ U[low, high), decided by the node seed. */
export const uniform = defineOperator({
  id: 'data.uniform',
  version: 1,
  summary: 'Uniform samples x ~ U[low, high), i.i.d., from the node seed',
  description: 'alea PRNG (tf.randomUniform), drawn in JS: identical on every backend for a seed.',
  stochastic: true,
  params: Type.Object(
    {
      shape: Type.Array(Type.Integer({ minimum: 0 }), { description: 'Shape of the output, e.g. [100, 3].' }),
      low: Type.Number({ default: 0, description: 'Lower bound (included).' }),
      high: Type.Number({ default: 1, description: 'Upper bound, excluded (though a draw just below it may round to it in float32); must exceed low.' }),
    },
    { additionalProperties: false },
  ),
  inputs: {},
  outputs: { out: tensor({ dtype: 'float32', doc: 'Samples in the requested shape' }) },
  examples: [{ params: { shape: [5], low: -1, high: 2 }, inputs: {} }],
  shape: (_inputs, p) => {
    expectRange(p.low, p.high);
    return { out: [...p.shape] };
  },
  run: (_inputs, p, { tf, seed }) => {
    expectRange(p.low, p.high);
    return { out: tf.randomUniform(p.shape, p.low, p.high, 'float32', seed) };
  },
});
