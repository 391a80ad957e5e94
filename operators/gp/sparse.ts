import type { Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs-core';
import { OperatorError, ParamError, ShapeError, defineOperator, expectDim, json, tensor, Type } from '../../core/operator/index.js';
import type { TF } from '../../core/operator/index.js';
import { choleskyFactor, logdetFromFactor, solveTriangular } from '../linalg/index.js';
import { assertFiniteInput, clampVariance, LOG_2PI } from './exact-core.js';
import { jitterParam } from './exact.js';
import { kernelDiag, kernelMatrix, kernelSpecSchema, lengthscalesOf } from './kernels.js';
import type { KernelSpec } from './kernels.js';
import { givenQ, optimalQ, svgpElbo, unwhitenQ } from './svgp.js';
import type { WhitenedQ } from './svgp.js';

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
  version: 2,
  summary: 'Sparse GP regression from m inducing points, O(n·m²): SGPR (Titsias 2009, collapsed ELBO) or SVGP (Hensman et al. 2013)',
  description:
    'Stable form (GPflow SGPR): L = chol(Kuu + εI), A = L⁻¹Kuf/σ, LB = chol(I + AAᵀ), c = LB⁻¹Ay/σ; ELBO = −(n/2)log 2π − Σlog LB_ii ' +
    '− (n/2)log σ² − yᵀy/2σ² + ½cᵀc − Σk_ff/2σ² + ½tr(AAᵀ) (summed over the columns of y). Prediction: T1 = L⁻¹Kus, T2 = LB⁻¹T1, ' +
    'μ = T2ᵀc, var = k** − ΣT1² + ΣT2² (latent, clamped ≥ 0, counted). Only m×m factorisations; training rows are streamed in ' +
    'chunks (AAᵀ, Ay, tr AAᵀ accumulated), so memory is O(chunk·m + m²). ε follows the jitter policy on Kuu (info.jitter_used). ' +
    'With z = x it equals the exact GP (tested, rtol 2e-3 against float64). method svgp (Hensman et al. 2013, GPflow SVGP with ' +
    'whiten = False, Gaussian likelihood): q(u) = N(q_mu, q_sqrt·q_sqrtᵀ) over u = f(z) (lower triangle of q_sqrt used); the ' +
    'uncollapsed bound Σᵢ E_q[log N(yᵢ | fᵢ, σ²)] − KL(q(u) ‖ p(u)) in closed form from the same streamed m×m statistics ' +
    '(info.ell, info.kl), predictions μ = K*uKuu⁻¹q_mu, var = k** − diag(K*uKuu⁻¹Ku*) + diag(K*uKuu⁻¹SKuu⁻¹Ku*). Without q_mu/q_sqrt ' +
    'q(u) is not optimised iteratively: for a Gaussian likelihood the optimum is closed-form (Titsias 2009: Σ = (Kuu + KufKfu/σ²)⁻¹, ' +
    'q_mu = KuuΣKufy/σ², S = KuuΣKuu; info.q = optimal), and there the bound and predictions equal SGPR\'s (tested, rtol 2e-3). ' +
    'The q used is output as q_mu and q_sqrt (the optimum\'s q_sqrt = chol(S) under the auto jitter policy, info.q_sqrt_jitter). ' +
    'One q_sqrt is shared by the columns of y; q_mu is [m] (shared) or [m, c]. No mini-batching, no iterative (natural-gradient) fit.',
  params: Type.Object(
    {
      method: Type.Union([Type.Literal('sgpr'), Type.Literal('svgp')], {
        default: 'sgpr',
        description: 'sgpr: Titsias collapsed bound. svgp: uncollapsed bound for q(u) = N(q_mu, q_sqrt·q_sqrtᵀ) (the closed-form optimum when q_mu/q_sqrt are absent).',
      }),
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
    q_mu: tensor({ dtype: 'float32', rank: [1, 2], optional: true, doc: 'svgp: variational mean of u = f(z), [m] or [m, c] (with q_sqrt)' }),
    q_sqrt: opt('svgp: lower-triangular square root of the variational covariance S, [m, m] (with q_mu)', 2),
  },
  outputs: {
    mean: tensor({ dtype: 'float32', optional: true, doc: 'posterior mean [n*] (or [n*, c])' }),
    var: tensor({ dtype: 'float32', optional: true, doc: 'latent posterior variance [n*]' }),
    elbo: tensor({ dtype: 'float32', doc: 'evidence lower bound (sgpr: collapsed; svgp: uncollapsed at q), a scalar' }),
    q_mu: tensor({ dtype: 'float32', optional: true, doc: 'svgp: the q_mu used, [m] (or [m, c]): the closed-form optimum when not given' }),
    q_sqrt: tensor({ dtype: 'float32', optional: true, doc: 'svgp: the lower-triangular q_sqrt used, [m, m] (optimum: chol(S) under the auto jitter policy)' }),
    info: json({ doc: '{method, m, n, jitter_used, var_clamped, elbo; svgp: q (optimal|given), ell, kl, q_sqrt_jitter}' }),
  },
  examples: [
    { params: { noise: 0.1 }, inputs: { x: { shape: [8, 2] }, z: { shape: [3, 2] }, x_test: { shape: [3, 2] }, y: { shape: [8] } } },
    {
      description: 'svgp at a given q(u)',
      params: { method: 'svgp', noise: 0.1 },
      inputs: { x: { shape: [8, 2] }, z: { shape: [3, 2] }, x_test: { shape: [3, 2] }, y: { shape: [8] }, q_mu: { shape: [3] }, q_sqrt: { shape: [3, 3], fill: 'spd' } },
    },
  ],
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
    if ((s.q_mu || s.q_sqrt) && p.method !== 'svgp') throw new ParamError('q_mu/q_sqrt need method svgp', '/params/method');
    if (!s.q_mu !== !s.q_sqrt) throw new ShapeError('give q_mu and q_sqrt together', s.q_mu ? '/inputs/q_sqrt' : '/inputs/q_mu');
    if (s.q_mu && s.q_sqrt) {
      const m = s.x ? s.z!.shape![0] : s.k_uu!.shape![0];
      expectDim(s.q_mu.shape![0], m, 'q_mu rows must match the inducing points', '/inputs/q_mu');
      expectDim(s.q_sqrt.shape![0], m, 'q_sqrt rows must match the inducing points', '/inputs/q_sqrt');
      expectDim(s.q_sqrt.shape![1], m, 'q_sqrt must be square', '/inputs/q_sqrt');
      if (s.q_mu.shape!.length === 2) expectDim(s.q_mu.shape![1], ys.length === 2 ? ys[1] : 1, 'q_mu columns must match y', '/inputs/q_mu');
    }
    const out: Record<string, unknown> = { elbo: [], info: { kind: 'json' } };
    if (p.method === 'svgp') {
      const m = s.x ? s.z!.shape![0] : s.k_uu!.shape![0];
      out.q_mu = s.q_mu ? s.q_mu.shape : ys.length === 1 ? [m] : [m, ys[1]];
      out.q_sqrt = [m, m];
    }
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
    const { x, z, x_test, k_uu, k_uf, k_ff_diag, k_us, k_ss_diag, y, q_mu, q_sqrt } = inputs;
    if ((q_mu || q_sqrt) && p.method !== 'svgp') throw new OperatorError('params', `${where}: q_mu/q_sqrt need method svgp`);
    if (!q_mu !== !q_sqrt) throw new OperatorError('shape', `${where}: give q_mu and q_sqrt together`);
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
      // With a given q, SVGP needs neither LB nor c.
      let lb: Tensor2D | undefined;
      let cSol: Tensor2D | undefined;
      let logdetB = 0;
      if (p.method === 'sgpr' || !q_mu) {
        const bmat = tf.tidy(() => tf.add(aat, tf.eye(m))) as Tensor2D;
        owned.push(bmat);
        lb = (await choleskyFactor(tf, bmat, { jitter: 0, signal: ctx.signal })).l as Tensor2D;
        owned.push(lb);
        const cvec = tf.tidy(() => tf.div(ay, sigma)) as Tensor2D;
        owned.push(cvec);
        cSol = (await solveTriangular(tf, lb, cvec, { lower: true })) as Tensor2D;
        owned.push(cSol);
        [logdetB] = await logdetFromFactor(tf, lb);
      }
      let elbo: number;
      let q: WhitenedQ | undefined;
      let qMuT: Tensor | undefined;
      let qSqrtT: Tensor | undefined;
      const extra: Record<string, number | string> = {};
      if (p.method === 'sgpr') {
        const cc = await total(tf, tf.square(cSol!));
        elbo =
          -0.5 * n * c * LOG_2PI - 0.5 * c * logdetB - 0.5 * n * c * Math.log(p.noise) - yy / (2 * p.noise) + 0.5 * cc -
          c * (kffSum / (2 * p.noise) - 0.5 * trAAt);
      } else {
        q = q_mu ? await givenQ(tf, l as Tensor2D, q_mu, q_sqrt as Tensor2D, c) : await optimalQ(tf, lb!, cSol!);
        owned.push({ dispose: () => q!.dispose() } as unknown as Tensor);
        const r = await svgpElbo(tf, { n, c, noise: p.noise, aat, ay, trAAt, kffSum, yy }, q);
        elbo = r.elbo;
        Object.assign(extra, { q: q_mu ? 'given' : 'optimal', ell: r.ell, kl: r.kl });
        if (q_mu) {
          made.push((qMuT = tf.clone(q_mu)));
          made.push((qSqrtT = tf.linalg.bandPart(q_sqrt!, -1, 0)));
        } else {
          const u = await unwhitenQ(tf, l as Tensor2D, q);
          made.push((qMuT = y.rank === 1 ? tf.reshape(u.qMu, [-1]) : u.qMu));
          if (y.rank === 1) u.qMu.dispose();
          if (u.qSqrt) {
            made.push((qSqrtT = u.qSqrt));
            extra.q_sqrt_jitter = u.jitterUsed!;
          } else ctx.warn(`${where}: the optimal S is not positive definite in float32 even with jitter; q_sqrt is not output`);
        }
      }
      if (!Number.isFinite(elbo)) throw new OperatorError('non_finite_output', `${where}: the ELBO is ${elbo}`);
      // Per test chunk, from T1 = L⁻¹Kus: the mean and T2 with var = k** − ΣT1² + ΣT2².
      // sgpr: T2 = LB⁻¹T1, μ = T2ᵀc. svgp: T2 = BᵀT1, μ = T1ᵀv (the same numbers at the optimal q).
      const project = async (t1: Tensor2D): Promise<[Tensor2D, Tensor2D]> => {
        if (q) return tf.tidy(() => [tf.matMul(t1, q!.v, true, false), tf.matMul(q!.bt, t1)]) as [Tensor2D, Tensor2D];
        const t2 = (await solveTriangular(tf, lb!, t1, { lower: true })) as Tensor2D;
        return [tf.matMul(t2, cSol!, true, false) as Tensor2D, t2];
      };
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
              let mu: Tensor2D;
              [mu, t2] = await project(t1);
              means.push(mu);
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
        q_mu: qMuT,
        q_sqrt: qSqrtT,
        info: { method: p.method, m, n, jitter_used: jitterUsed, var_clamped: clamped, elbo, ...extra },
      };
    } catch (err) {
      tf.dispose(made);
      throw err;
    } finally {
      for (const t of owned) t.dispose();
    }
  },
});
