import type { Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs-core';
import { OperatorError, ShapeError, defineOperator, expectDim, json, tensor, Type } from '../../core/operator/index.js';
import type { TF } from '../../core/operator/index.js';
import { choleskyFactor, logdetFromFactor, solveTriangular } from '../linalg/index.js';
import { assertFiniteInput, clampVariance, LOG_2PI } from './exact-core.js';
import { jitterParam } from './exact.js';
import { kernelDiag, kernelMatrix, kernelSpecSchema, lengthscalesOf } from './kernels.js';
import type { KernelSpec } from './kernels.js';

const opt = (doc: string, rank: number) => tensor({ dtype: 'float32', rank, optional: true, doc });

/** Sum of a tensor, read as a float64 number (and the tensor disposed). */
async function total(tf: TF, t: Tensor): Promise<number> {
  const s = tf.sum(t);
  const v = (await s.data())[0];
  tf.dispose([s, t]);
  return v;
}

export const sparse = defineOperator({
  id: 'gp.sparse',
  version: 1,
  summary: 'Sparse GP regression (SGPR, Titsias 2009): collapsed ELBO and predictions from m inducing points, O(n·m²)',
  description:
    'Stable form (GPflow SGPR): L = chol(Kuu + εI), A = L⁻¹Kuf/σ, LB = chol(I + AAᵀ), c = LB⁻¹Ay/σ; ELBO = −(n/2)log 2π − Σlog LB_ii ' +
    '− (n/2)log σ² − yᵀy/2σ² + ½cᵀc − Σk_ff/2σ² + ½tr(AAᵀ) (summed over the columns of y). Prediction: T1 = L⁻¹Kus, T2 = LB⁻¹T1, ' +
    'μ = T2ᵀc, var = k** − ΣT1² + ΣT2² (latent, clamped ≥ 0, counted). Only m×m factorisations; training rows are streamed in ' +
    'chunks (AAᵀ, Ay, tr AAᵀ accumulated), so memory is O(chunk·m + m²). ε follows the jitter policy on Kuu (info.jitter_used). ' +
    'With z = x it equals the exact GP (tested, rtol 2e-3 against float64). method svgp is not implemented.',
  params: Type.Object(
    {
      method: Type.Literal('sgpr', { default: 'sgpr', description: 'sgpr (Titsias collapsed bound). svgp is not implemented yet.' }),
      kernel: kernelSpecSchema,
      noise: Type.Number({ exclusiveMinimum: 0, default: 0.01, description: 'Observation noise variance σ².' }),
      jitter: jitterParam,
      chunk: Type.Integer({ minimum: 1, default: 4096, description: 'Training / test rows per streamed chunk.' }),
    },
    { additionalProperties: false },
  ),
  inputs: {
    x: opt('training inputs [n, d] (with z and params.kernel)', 2),
    z: opt('inducing inputs [m, d]', 2),
    x_test: opt('test inputs [n*, d]', 2),
    k_uu: opt('K(Z, Z) [m, m] (instead of x/z)', 2),
    k_uf: opt('K(Z, X) [m, n]', 2),
    k_ff_diag: opt('diag K(X, X) [n]', 1),
    k_us: opt('K(Z, X*) [m, n*]', 2),
    k_ss_diag: opt('diag K(X*, X*) [n*] (for var)', 1),
    y: tensor({ dtype: 'float32', rank: [1, 2], doc: 'targets [n] or [n, c]' }),
  },
  outputs: {
    mean: tensor({ dtype: 'float32', optional: true, doc: 'posterior mean [n*] (or [n*, c])' }),
    var: tensor({ dtype: 'float32', optional: true, doc: 'latent posterior variance [n*]' }),
    elbo: tensor({ dtype: 'float32', doc: 'collapsed evidence lower bound, a scalar' }),
    info: json({ doc: '{method, m, n, jitter_used, var_clamped}' }),
  },
  examples: [{ params: { noise: 0.1 }, inputs: { x: { shape: [8, 2] }, z: { shape: [3, 2] }, x_test: { shape: [3, 2] }, y: { shape: [8] } } }],
  shape: (s, p) => {
    const ys = s.y.shape!;
    let n;
    let nTest;
    if (s.x) {
      if (!s.z) throw new ShapeError('x needs z (inducing inputs)', '/inputs/z');
      if (s.k_uu || s.k_uf || s.k_ff_diag || s.k_us || s.k_ss_diag) throw new ShapeError('give either x/z/x_test or the k_* matrices', '/inputs');
      expectDim(s.z.shape![1], s.x.shape![1], 'z and x must have the same number of columns', '/inputs/z');
      if (typeof s.x.shape![1] === 'number') lengthscalesOf(p.kernel, s.x.shape![1]);
      n = s.x.shape![0];
      if (s.x_test) nTest = s.x_test.shape![0];
      if (s.x_test) expectDim(s.x_test.shape![1], s.x.shape![1], 'x_test and x must have the same number of columns', '/inputs/x_test');
    } else {
      if (!s.k_uu || !s.k_uf || !s.k_ff_diag) throw new ShapeError('give x and z, or k_uu, k_uf and k_ff_diag', '/inputs');
      const m = expectDim(s.k_uu.shape![0], s.k_uu.shape![1], 'k_uu must be square', '/inputs/k_uu');
      expectDim(s.k_uf.shape![0], m, 'k_uf rows must match k_uu', '/inputs/k_uf');
      n = expectDim(s.k_ff_diag.shape![0], s.k_uf.shape![1], 'k_ff_diag length must match k_uf columns', '/inputs/k_ff_diag');
      if (s.k_us) {
        expectDim(s.k_us.shape![0], m, 'k_us rows must match k_uu', '/inputs/k_us');
        nTest = s.k_us.shape![1];
        if (s.k_ss_diag) expectDim(s.k_ss_diag.shape![0], nTest, 'k_ss_diag length must match k_us columns', '/inputs/k_ss_diag');
      }
    }
    expectDim(ys[0], n, 'y rows must match the training set', '/inputs/y');
    const out: Record<string, unknown> = { elbo: [], info: { kind: 'json' } };
    if (nTest !== undefined) {
      out.mean = ys.length === 1 ? [nTest] : [nTest, ys[1]];
      if (s.x || s.k_ss_diag) out.var = [nTest];
    }
    return out;
  },
  run: async (inputs, p, ctx) => {
    const { tf } = ctx;
    const where = 'gp.sparse';
    for (const [name, t] of Object.entries(inputs)) if (t) await assertFiniteInput(tf, t, name, where);
    const spec: KernelSpec = p.kernel;
    const { x, z, x_test, k_uu, k_uf, k_ff_diag, k_us, k_ss_diag, y } = inputs;
    const viaX = !!x;
    if (viaX ? !z : !(k_uu && k_uf && k_ff_diag)) throw new OperatorError('shape', `${where}: give x and z, or k_uu, k_uf and k_ff_diag`);
    const n = viaX ? x!.shape[0] : k_uf!.shape[1];
    const m = viaX ? z!.shape[0] : k_uu!.shape[0];
    if (y.shape[0] !== n) throw new OperatorError('shape', `${where}: y has ${y.shape[0]} rows, the training set ${n}`);
    const nTest: number = viaX ? (x_test ? x_test.shape[0] : 0) : k_us ? (k_us.shape[1] as number) : 0;
    const hasVar = nTest > 0 && (viaX || !!k_ss_diag);
    const sigma = Math.sqrt(p.noise);
    const y2 = tf.tidy(() => (y.rank === 1 ? tf.reshape(y, [-1, 1]) : tf.clone(y))) as Tensor2D;
    const c = y2.shape[1];
    const owned: Tensor[] = [y2];
    const made: Tensor[] = [];
    try {
      const kuu = viaX ? kernelMatrix(tf, z as Tensor2D, null, spec) : (tf.clone(k_uu!) as Tensor2D);
      owned.push(kuu);
      const { l, jitterUsed } = await choleskyFactor(tf, kuu, { jitter: p.jitter, signal: ctx.signal });
      owned.push(l);
      ctx.note('jitter_used', jitterUsed);
      // Stream the training rows: AAᵀ, Ay, tr(AAᵀ), Σk_ff, yᵀy.
      let aat = tf.zeros([m, m]) as Tensor2D;
      let ay = tf.zeros([m, c]) as Tensor2D;
      owned.push({ dispose: () => tf.dispose([aat, ay]) } as unknown as Tensor);
      let trAAt = 0;
      let kffSum = 0;
      let yy = 0;
      for (let i0 = 0; i0 < n; i0 += p.chunk) {
        if (ctx.signal.aborted) throw new OperatorError('aborted', `${where}: aborted`);
        const i1 = Math.min(n, i0 + p.chunk);
        const kuf = viaX
          ? tf.tidy(() => kernelMatrix(tf, z as Tensor2D, tf.slice(x!, [i0, 0], [i1 - i0, -1]) as Tensor2D, spec))
          : (tf.slice(k_uf!, [0, i0], [-1, i1 - i0]) as Tensor2D);
        let a: Tensor2D;
        try {
          a = (await solveTriangular(tf, l, kuf, { lower: true })) as Tensor2D;
        } finally {
          kuf.dispose();
        }
        const yc = tf.slice(y2, [i0, 0], [i1 - i0, -1]);
        const [aat2, ay2] = tf.tidy(() => {
          const as = tf.div(a, sigma);
          return [tf.add(aat, tf.matMul(as, as, false, true)), tf.add(ay, tf.matMul(as, yc))] as Tensor2D[];
        });
        tf.dispose([aat, ay]);
        aat = aat2;
        ay = ay2;
        trAAt += (await total(tf, tf.square(a))) / p.noise;
        kffSum += await total(tf, tf.tidy(() => (viaX ? kernelDiag(tf, tf.slice(x!, [i0, 0], [i1 - i0, -1]) as Tensor2D, spec) : tf.slice(k_ff_diag!, [i0], [i1 - i0]))));
        yy += await total(tf, tf.square(yc));
        tf.dispose([a, yc]);
        ctx.progress({ fraction: (0.8 * i1) / n, step: i1, total: n });
      }
      const bmat = tf.tidy(() => tf.add(aat, tf.eye(m))) as Tensor2D;
      owned.push(bmat);
      const lbRes = await choleskyFactor(tf, bmat, { jitter: 0, signal: ctx.signal });
      const lb = lbRes.l as Tensor2D;
      owned.push(lb);
      const cvec = tf.tidy(() => tf.div(ay, sigma)) as Tensor2D;
      owned.push(cvec);
      const cSol = (await solveTriangular(tf, lb, cvec, { lower: true })) as Tensor2D;
      owned.push(cSol);
      const cc = await total(tf, tf.square(cSol));
      const [logdetB] = await logdetFromFactor(tf, lb);
      const elbo =
        -0.5 * n * c * LOG_2PI - 0.5 * c * logdetB - 0.5 * n * c * Math.log(p.noise) - yy / (2 * p.noise) + 0.5 * cc -
        c * (kffSum / (2 * p.noise) - 0.5 * trAAt);
      if (!Number.isFinite(elbo)) throw new OperatorError('non_finite_output', `${where}: the ELBO is ${elbo}`);
      let meanT: Tensor | undefined;
      let varT: Tensor | undefined;
      let clamped = 0;
      if (nTest > 0) {
        const means: Tensor[] = [];
        const vars: Tensor[] = [];
        try {
          for (let i0 = 0; i0 < nTest; i0 += p.chunk) {
            const i1 = Math.min(nTest, i0 + p.chunk);
            const kus = viaX
              ? tf.tidy(() => kernelMatrix(tf, z as Tensor2D, tf.slice(x_test!, [i0, 0], [i1 - i0, -1]) as Tensor2D, spec))
              : (tf.slice(k_us!, [0, i0], [-1, i1 - i0]) as Tensor2D);
            let t1: Tensor2D | undefined;
            let t2: Tensor2D | undefined;
            try {
              t1 = (await solveTriangular(tf, l, kus, { lower: true })) as Tensor2D;
              t2 = (await solveTriangular(tf, lb, t1, { lower: true })) as Tensor2D;
              means.push(tf.matMul(t2, cSol, true, false));
              if (hasVar) {
                const kd = tf.tidy(() => (viaX ? kernelDiag(tf, tf.slice(x_test!, [i0, 0], [i1 - i0, -1]) as Tensor2D, spec) : tf.slice(k_ss_diag!, [i0], [i1 - i0]))) as Tensor1D;
                const raw = tf.tidy(() => tf.add(tf.sub(kd, tf.sum(tf.square(t1!), 0)), tf.sum(tf.square(t2!), 0))) as Tensor1D;
                kd.dispose();
                const r = await clampVariance(tf, raw);
                clamped += r.clamped;
                vars.push(r.v);
              }
            } finally {
              tf.dispose([kus, t1, t2].filter(Boolean) as Tensor[]);
            }
          }
          made.push((meanT = tf.tidy(() => {
            const all = means.length === 1 ? means[0] : tf.concat(means, 0);
            return y.rank === 1 ? tf.reshape(all, [-1]) : tf.clone(all);
          })));
          if (vars.length) made.push((varT = vars.length === 1 ? tf.clone(vars[0]) : tf.concat(vars, 0)));
        } finally {
          tf.dispose([...means, ...vars]);
        }
      }
      if (clamped) ctx.note('var_clamped', clamped);
      return {
        mean: meanT,
        var: varT,
        elbo: tf.scalar(elbo),
        info: { method: 'sgpr', m, n, jitter_used: jitterUsed, var_clamped: clamped, elbo },
      };
    } catch (err) {
      tf.dispose(made);
      throw err;
    } finally {
      for (const t of owned) t.dispose();
    }
  },
});
