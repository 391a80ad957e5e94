import { defineOperator, reductionAxes, tensor, Type } from '../../core/operator/index.js';

/**
 * Excess kurtosis m₄/m₂² − 3 of x over `axes` (central moments): 0 for a Gaussian, so it measures
 * how far a finite network's preactivations are from the infinite-width Gaussian process.
 */
export const kurtosis = defineOperator({
  id: 'metric.kurtosis',
  version: 1,
  summary: 'Excess kurtosis out = m₄/m₂² − 3 over axes, m_k = mean((x − mean x)^k); 0 for a Gaussian',
  description:
    'The moments are population moments (divided by the count, no small-sample correction). Over the reduced ' +
    'axes the mean is removed first. A constant slice has m₂ = 0 and gives NaN (kurtosis is undefined there).',
  params: Type.Object(
    {
      axes: Type.Optional(Type.Array(Type.Integer(), { description: 'Axes to reduce; negative counts from the end. Absent: all axes.' })),
      excess: Type.Boolean({ default: true, description: 'Subtract 3 (the Gaussian value).' }),
    },
    { additionalProperties: false },
  ),
  inputs: { x: tensor({ dtype: ['float32'], doc: 'samples of any shape' }) },
  outputs: { out: tensor({ dtype: ['float32'], doc: 'kurtosis per slice of the axes kept' }) },
  examples: [{ params: { axes: [1] }, inputs: { x: { shape: [3, 50] } } }],
  shape: ({ x }, p) => {
    const s = x.shape!;
    const axes = new Set(reductionAxes(p.axes, s.length));
    return { out: { kind: 'tensor', dtype: 'float32', shape: s.filter((_, i) => !axes.has(i)) } };
  },
  run: ({ x }, p, { tf }) => {
    const axes = reductionAxes(p.axes, x.rank);
    const centered = tf.sub(x, tf.mean(x, axes, true));
    const squares = tf.square(centered);
    const m2 = tf.mean(squares, axes);
    const m4 = tf.mean(tf.square(squares), axes);
    const ratio = tf.div(m4, tf.square(m2));
    return { out: p.excess ? tf.sub(ratio, 3) : ratio };
  },
});
