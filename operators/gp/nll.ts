import { OperatorError, defineOperator, expectDim, json, tensor, Type } from '../../core/operator/index.js';
import { lgamma } from './special.js';

export const nll = defineOperator({
  id: 'gp.nll',
  version: 1,
  summary: 'Mean predictive negative log-likelihood of test targets: Gaussian N(y; μ, v + σ²) or Student-t t_ν(y; μ, s + σ²)',
  description:
    'Gaussian: ½log(2π(v+σ²)) + (y−μ)²/2(v+σ²), averaged over points. Student-t (give dof, e.g. gp.student_t\'s dof with its ' +
    'scale_y as var): −lgamma((ν+1)/2) + lgamma(ν/2) + ½log(νπs) + ((ν+1)/2)·log(1 + (y−μ)²/(νs)), s = var + σ². ' +
    'Summed on the host in float64.',
  params: Type.Object(
    { noise: Type.Number({ minimum: 0, default: 0, description: 'σ² added to var (latent variance → observation variance).' }) },
    { additionalProperties: false },
  ),
  inputs: {
    y: tensor({ dtype: 'float32', rank: 1, doc: 'test targets [n*]' }),
    mean: tensor({ dtype: 'float32', rank: 1, doc: 'predictive mean (location) [n*]' }),
    var: tensor({ dtype: 'float32', rank: 1, doc: 'predictive variance (Gaussian) or scale (Student-t) [n*]' }),
    dof: tensor({ dtype: 'float32', rank: 0, optional: true, doc: 'ν: use the Student-t density' }),
  },
  outputs: {
    nll: tensor({ dtype: 'float32', doc: 'mean NLL, a scalar' }),
    info: json({ doc: '{n, nll, likelihood}' }),
  },
  examples: [{ params: { noise: 0.01 }, inputs: { y: { shape: [5] }, mean: { shape: [5] }, var: { shape: [5], fill: 'positive' } } }],
  shape: ({ y, mean, var: v }) => {
    expectDim(mean.shape![0], y.shape![0], 'mean and y lengths differ', '/inputs/mean');
    expectDim(v.shape![0], y.shape![0], 'var and y lengths differ', '/inputs/var');
    return { nll: [], info: { kind: 'json' } };
  },
  run: async ({ y, mean, var: v, dof }, p, { tf }) => {
    const [yh, mh, vh] = await Promise.all([y.data(), mean.data(), v.data()]);
    const nu = dof ? (await dof.data())[0] : undefined;
    if (yh.length !== mh.length || yh.length !== vh.length) throw new OperatorError('shape', 'gp.nll: y, mean and var lengths differ');
    let total = 0;
    for (let i = 0; i < yh.length; i++) {
      const s = vh[i] + p.noise;
      if (!(s > 0)) throw new OperatorError('non_finite_output', `gp.nll: variance ${s} at point ${i} is not positive`, { index: i });
      const r2 = (yh[i] - mh[i]) ** 2;
      total +=
        nu === undefined
          ? 0.5 * Math.log(2 * Math.PI * s) + r2 / (2 * s)
          : -lgamma((nu + 1) / 2) + lgamma(nu / 2) + 0.5 * Math.log(nu * Math.PI * s) + ((nu + 1) / 2) * Math.log1p(r2 / (nu * s));
    }
    const value = total / yh.length;
    return { nll: tf.scalar(value), info: { n: yh.length, nll: value, likelihood: nu === undefined ? 'gaussian' : 'student_t' } };
  },
});
