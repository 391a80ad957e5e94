import type { Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs-core';
import { OperatorError, ParamError, defineOperator, expectDim, json, tensor, Type } from '../../core/operator/index.js';
import { addDiag, assertFiniteInput, cholVariance, exactFit, LOG_2PI, noiseVector } from './exact-core.js';
import { chunkParam, jitterParam } from './exact.js';
import { kernelSpecSchema } from './kernels.js';
import { lgamma } from './special.js';
import { KernelSource, kernelInputPorts, sourceShapes, yMatrix } from './source.js';

export const studentT = defineOperator({
  id: 'gp.student_t',
  version: 1,
  summary: 'Student-t process / scale mixture of NNGPs: σ² ~ IG(a, b), y | σ² ~ N(m, σ²(K + λI)); posterior MVT with ν = 2a + n',
  description:
    'Shah, Wilson & Ghahramani (2014); Lee et al. (2022), inverse-gamma prior on the output scale. With A = K + λI and ' +
    'β = (y−m)ᵀA⁻¹(y−m): mean = m + K*A⁻¹(y−m) (the GP mean), scale = (2b+β)/(2a+n)·(k** − k*ᵀA⁻¹k*), ' +
    'var = scale·ν/(ν−2) (needs ν > 2), dof ν = 2a + n, log p(y) = lgamma(a+n/2) − lgamma(a) − (n/2)log(2πb) − ½log|A| − ' +
    '(a+n/2)log(1 + β/2b). y must be [n]. Blocked float32 Cholesky with gp.exact\'s jitter policy; reductions in float64. ' +
    'Measured against float64 on n ≤ 64: rtol 2e-3.',
  params: Type.Object(
    {
      kernel: kernelSpecSchema,
      noise: Type.Number({ minimum: 0, default: 0.01, description: 'λ: noise variance relative to the (random) output scale σ².' }),
      a: Type.Number({ exclusiveMinimum: 0, default: 2, description: 'Inverse-gamma shape a of the prior on σ².' }),
      b: Type.Number({ exclusiveMinimum: 0, default: 2, description: 'Inverse-gamma scale b of the prior on σ².' }),
      mean: Type.Number({ default: 0, description: 'Constant prior mean m.' }),
      jitter: jitterParam,
      chunk: chunkParam,
    },
    { additionalProperties: false },
  ),
  inputs: { ...kernelInputPorts, y: tensor({ dtype: 'float32', rank: 1, doc: 'targets [n]' }) },
  outputs: {
    mean: tensor({ dtype: 'float32', optional: true, doc: 'posterior location [n*]' }),
    scale: tensor({ dtype: 'float32', optional: true, doc: 'posterior MVT scale diagonal [n*] (latent f)' }),
    var: tensor({ dtype: 'float32', optional: true, doc: 'posterior variance scale·ν/(ν−2) [n*]' }),
    scale_y: tensor({ dtype: 'float32', optional: true, doc: 'MVT scale of a noisy observation y*: (2b+β)/(2a+n)·(k** − q + λ) [n*]' }),
    dof: tensor({ dtype: 'float32', doc: 'ν = 2a + n, a scalar' }),
    lml: tensor({ dtype: 'float32', doc: 'log p(y), a scalar (closed form)' }),
    info: json({ doc: '{jitter_used, beta, posterior_a, posterior_b, var_clamped}' }),
  },
  examples: [{ params: { noise: 0.1 }, inputs: { x: { shape: [8, 2] }, y: { shape: [8] }, x_test: { shape: [3, 2] } } }],
  shape: (m, p) => {
    const { n, nTest } = sourceShapes(m, p.kernel);
    expectDim(m.y.shape![0], n, 'y rows must match the training set', '/inputs/y');
    const out: Record<string, unknown> = { dof: [], lml: [], info: { kind: 'json' } };
    if (nTest !== undefined) {
      out.mean = [nTest];
      if (m.x || m.k_test_diag) out.scale = out.var = out.scale_y = [nTest];
    }
    if (typeof n === 'number' && 2 * p.a + n <= 2) throw new ParamError('var needs ν = 2a + n > 2', '/params/a');
    return out;
  },
  run: async (inputs, p, ctx) => {
    const { tf } = ctx;
    const where = 'gp.student_t';
    const src = new KernelSource(tf, inputs, p.kernel);
    const n = src.n;
    if (inputs.y.shape[0] !== n) throw new OperatorError('shape', `${where}: y has ${inputs.y.shape[0]} rows, the training set ${n}`);
    await src.check(where);
    await assertFiniteInput(tf, inputs.y, 'y', where);
    const owned: Tensor[] = [];
    const made: Tensor[] = [];
    try {
      const k = src.train();
      owned.push(k);
      const ky = addDiag(tf, k, noiseVector(p.noise, n));
      owned.push(ky);
      const y2 = yMatrix(tf, inputs.y, p.mean);
      owned.push(y2);
      const fit = await exactFit(tf, ky, y2, p.jitter, ctx.signal);
      owned.push(fit.l, fit.alpha);
      ctx.note('jitter_used', fit.jitterUsed);
      const beta = fit.quad;
      const nu = 2 * p.a + n;
      const lml =
        lgamma(p.a + n / 2) - lgamma(p.a) - (n / 2) * (LOG_2PI + Math.log(p.b)) - 0.5 * fit.logdet -
        (p.a + n / 2) * Math.log1p(beta / (2 * p.b));
      const scaleF = (2 * p.b + beta) / nu;
      const varF = (2 * p.b + beta) / (nu - 2);
      let clamped = 0;
      const means: Tensor[] = [];
      const qs: Tensor[] = [];
      let meanT: Tensor | undefined;
      let scaleT: Tensor | undefined;
      let varT: Tensor | undefined;
      let scaleYT: Tensor | undefined;
      try {
        for (let i0 = 0; i0 < src.nTest; i0 += p.chunk) {
          const i1 = Math.min(src.nTest, i0 + p.chunk);
          const kc = src.cross(i0, i1);
          try {
            means.push(tf.tidy(() => tf.add(tf.reshape(tf.matMul(kc, fit.alpha), [-1]), p.mean)));
            if (src.hasVar) {
              const kd = src.testDiag(i0, i1);
              try {
                const r = await cholVariance(tf, fit.l as Tensor2D, kc, kd as Tensor1D);
                clamped += r.clamped;
                qs.push(r.v);
              } finally {
                kd.dispose();
              }
            }
          } finally {
            kc.dispose();
          }
        }
        if (means.length) made.push((meanT = means.length === 1 ? tf.clone(means[0]) : tf.concat(means)));
        if (qs.length) {
          const q = qs.length === 1 ? tf.clone(qs[0]) : tf.concat(qs);
          made.push((scaleT = tf.mul(q, scaleF)), (varT = tf.mul(q, varF)), (scaleYT = tf.tidy(() => tf.mul(tf.add(q, p.noise), scaleF))));
          q.dispose();
        }
      } finally {
        tf.dispose([...means, ...qs]);
      }
      if (!Number.isFinite(lml)) throw new OperatorError('non_finite_output', `${where}: log p(y) is ${lml}`);
      const dof = tf.scalar(nu);
      const lmlT = tf.scalar(lml);
      return {
        mean: meanT,
        scale: scaleT,
        var: varT,
        scale_y: scaleYT,
        dof,
        lml: lmlT,
        info: { jitter_used: fit.jitterUsed, beta, posterior_a: p.a + n / 2, posterior_b: p.b + beta / 2, var_clamped: clamped, lml },
      };
    } catch (err) {
      tf.dispose(made);
      throw err;
    } finally {
      tf.dispose(owned);
    }
  },
});
