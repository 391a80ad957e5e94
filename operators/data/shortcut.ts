import { defineOperator, ParamError, tensor, Type } from '../../core/operator/index.js';
import { mixSeed, Rng } from '../model/rng.js';

const EMBEDDINGS = ['linear', 'xor'] as const;
type Embedding = (typeof EMBEDDINGS)[number];
const directionsOf = (e: Embedding) => (e === 'linear' ? 1 : 2);
const LATENTS = ['discrete', 'gaussian'] as const;

/**
 * Φ⁻¹(p), the standard normal quantile, by Acklam's rational approximation (relative error
 * < 1.2e-9, far below what any sample of this operator can resolve).
 */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const dd = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((dd[0] * q + dd[1]) * q + dd[2]) * q + dd[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Gram–Schmidt on Gaussian vectors: k orthonormal random directions in R^d (k ≤ d). */
function orthonormal(rng: Rng, k: number, d: number): Float64Array[] {
  const out: Float64Array[] = [];
  while (out.length < k) {
    const v = Float64Array.from({ length: d }, () => rng.normal());
    for (const u of out) {
      const c = u.reduce((s, ui, j) => s + ui * v[j], 0);
      for (let j = 0; j < d; j++) v[j] -= c * u[j];
    }
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    // A draw (almost) inside the span of the others is redrawn.
    if (norm > 1e-6) out.push(v.map((x) => x / norm));
  }
  return out;
}

/** Φ⁻¹(0) and Φ⁻¹(1) are infinite: gaussian class means would be too. */
function checkLatent(p: { latent: string; core_predictivity: number; shortcut_predictivity: number }): void {
  if (p.latent !== 'gaussian') return;
  for (const f of ['core', 'shortcut'] as const) {
    const v = p[`${f}_predictivity`];
    if (!(v > 0 && v < 1)) throw new ParamError(`${f}_predictivity = ${v}: gaussian latents need a predictivity strictly between 0 and 1`, `/params/${f}_predictivity`);
  }
}

/** A two-feature classification task: a predictive core feature and a more available shortcut. */
export const shortcut = defineOperator({
  id: 'data.shortcut',
  version: 2,
  summary: 'Hermann et al. shortcut task: y = ±1; latent z_f = y w.p. predictivity_f else −y (or z_f ~ N(Φ⁻¹(predictivity_f)·y, 1)); x = Σ_f availability_f·e_f(z_f) + noise·ε',
  description:
    'Hermann, Mobahi, Fel & Mozer (2024), "On the foundations of shortcut learning". Two latent features f ∈ ' +
    '{core, shortcut}: z_f ∈ {±1} agrees with the label y (uniform ±1) with probability `predictivity_f`, ' +
    'independently (latent "discrete"); with latent "gaussian" z_f ~ N(m_f·y, 1) with m_f = Φ⁻¹(predictivity_f), so that ' +
    'P(sign z_f = y) = predictivity_f, the class-conditional Gaussians of Hermann et al. (there a linear model\'s best decision ' +
    'does not depend on a feature\'s amplitude, only on m_f, so availability and predictivity separate; predictivity must then ' +
    'lie strictly between 0 and 1). Each is embedded in R^d along its own random orthonormal directions (shared by every split) ' +
    'with amplitude `availability_f` (how easily the feature is extracted): "linear" e(z) = z·u; "xor" ' +
    'e(z) = (s·u₁ + z·s·u₂)/√2 with a random sign s per point, so z = sign(u₁·x)·sign(u₂·x) is not linearly ' +
    'decodable (low availability to a linear model). Isotropic Gaussian noise of std `noise` is added. Outputs: the ' +
    'training split (x, y, integer labels = (y+1)/2, latents z = [z_core, z_shortcut]), a test split from the ' +
    'same distribution, and a cue-conflict split where z_core = y and z_shortcut = −y (gaussian: z_core ~ N(m_core·y, 1) and ' +
    'z_shortcut ~ N(−m_shortcut·y, 1), the two features drawn from opposite classes): the fraction of its points a ' +
    'predictor classifies as −y (1 − accuracy) is its shortcut reliance. Drawn in JavaScript from the node seed ' +
    '(identical on every backend).',
  stochastic: true,
  params: Type.Object(
    {
      n: Type.Integer({ minimum: 1, default: 1000, description: 'Training points.' }),
      n_test: Type.Integer({ minimum: 1, default: 500, description: 'Points in each of the test and cue-conflict splits.' }),
      d: Type.Integer({ minimum: 2, default: 50, description: 'Input dimension.' }),
      core_predictivity: Type.Number({ minimum: 0, maximum: 1, default: 0.95, description: 'P(z_core = y).' }),
      shortcut_predictivity: Type.Number({ minimum: 0, maximum: 1, default: 0.8, description: 'P(z_shortcut = y).' }),
      core_availability: Type.Number({ minimum: 0, default: 0.3, description: 'Amplitude of the core feature’s embedding.' }),
      shortcut_availability: Type.Number({ minimum: 0, default: 1, description: 'Amplitude of the shortcut feature’s embedding.' }),
      core_embedding: Type.Union(EMBEDDINGS.map((e) => Type.Literal(e)), { default: 'linear', description: 'linear | xor (see description).' }),
      shortcut_embedding: Type.Union(EMBEDDINGS.map((e) => Type.Literal(e)), { default: 'linear', description: 'linear | xor (see description).' }),
      noise: Type.Number({ minimum: 0, default: 1, description: 'Standard deviation of the isotropic input noise.' }),
      latent: Type.Union(LATENTS.map((l) => Type.Literal(l)), { default: 'discrete', description: 'discrete: z_f ∈ {±1}; gaussian: z_f ~ N(Φ⁻¹(predictivity_f)·y, 1) (see description).' }),
    },
    { additionalProperties: false },
  ),
  inputs: {},
  outputs: {
    x: tensor({ dtype: 'float32', doc: 'training inputs [n, d]' }),
    y: tensor({ dtype: 'float32', doc: 'training targets ±1 [n, 1]' }),
    labels: tensor({ dtype: 'int32', doc: 'training classes (y+1)/2 ∈ {0, 1} [n]' }),
    z: tensor({ dtype: 'float32', doc: 'training latents [z_core, z_shortcut] [n, 2] (∈ {±1} for discrete latents)' }),
    x_test: tensor({ dtype: 'float32', doc: 'test inputs from the training distribution [n_test, d]' }),
    y_test: tensor({ dtype: 'float32', doc: 'test targets ±1 [n_test, 1]' }),
    x_conflict: tensor({ dtype: 'float32', doc: 'cue-conflict inputs (z_core = y, z_shortcut = −y; gaussian: drawn from opposite classes) [n_test, d]' }),
    y_conflict: tensor({ dtype: 'float32', doc: 'cue-conflict targets ±1 (the core feature’s answer) [n_test, 1]' }),
  },
  examples: [
    { params: { n: 8, n_test: 4, d: 5 }, inputs: {} },
    { params: { n: 8, n_test: 4, d: 4, core_embedding: 'xor', noise: 0.1 }, inputs: {} },
    { params: { n: 8, n_test: 4, d: 5, latent: 'gaussian', core_predictivity: 0.99, noise: 0.05 }, inputs: {} },
  ],
  shape: (_i, p) => {
    const k = directionsOf(p.core_embedding) + directionsOf(p.shortcut_embedding);
    if (p.d < k) throw new ParamError(`d = ${p.d} is too small: the embeddings need ${k} orthogonal directions`, '/params/d');
    checkLatent(p);
    return { x: [p.n, p.d], y: [p.n, 1], labels: [p.n], z: [p.n, 2], x_test: [p.n_test, p.d], y_test: [p.n_test, 1], x_conflict: [p.n_test, p.d], y_conflict: [p.n_test, 1] };
  },
  run: (_i, p, { tf, seed }) => {
    checkLatent(p);
    const { d } = p;
    const kc = directionsOf(p.core_embedding);
    const dirs = orthonormal(new Rng(mixSeed(seed, 1)), kc + directionsOf(p.shortcut_embedding), d);
    const features = [
      { dirs: dirs.slice(0, kc), embedding: p.core_embedding, amp: p.core_availability, pred: p.core_predictivity },
      { dirs: dirs.slice(kc), embedding: p.shortcut_embedding, amp: p.shortcut_availability, pred: p.shortcut_predictivity },
    ].map((f) => ({ ...f, mean: p.latent === 'gaussian' ? normalQuantile(f.pred) : 0 }));
    const gaussian = p.latent === 'gaussian';
    // One stream per split, so that changing n_test leaves the training split unchanged.
    const draw = (m: number, stream: number, conflict: boolean) => {
      const rng = new Rng(mixSeed(seed, stream));
      const x = new Float32Array(m * d);
      const y = new Float32Array(m);
      const z = new Float32Array(2 * m);
      const row = new Float64Array(d);
      for (let i = 0; i < m; i++) {
        const yi = rng.uniform() < 0.5 ? -1 : 1;
        for (let j = 0; j < d; j++) row[j] = p.noise * rng.normal();
        features.forEach((f, fi) => {
          // In the cue-conflict split the core agrees with y and the shortcut disagrees (for
          // gaussian latents: is drawn from the other class).
          const cls = conflict && fi === 1 ? -yi : yi;
          const zf = gaussian ? f.mean * cls + rng.normal() : conflict ? cls : rng.uniform() < f.pred ? yi : -yi;
          z[2 * i + fi] = zf;
          if (f.embedding === 'linear') {
            for (let j = 0; j < d; j++) row[j] += f.amp * zf * f.dirs[0][j];
          } else {
            const s = rng.uniform() < 0.5 ? -1 : 1;
            for (let j = 0; j < d; j++) row[j] += (f.amp * (s * f.dirs[0][j] + zf * s * f.dirs[1][j])) / Math.SQRT2;
          }
        });
        x.set(row, i * d);
        y[i] = yi;
      }
      return { x, y, z };
    };
    const train = draw(p.n, 2, false);
    const test = draw(p.n_test, 3, false);
    const conf = draw(p.n_test, 4, true);
    return {
      x: tf.tensor2d(train.x, [p.n, d]),
      y: tf.tensor2d(train.y, [p.n, 1]),
      labels: tf.tensor1d(Int32Array.from(train.y, (v) => (v + 1) / 2), 'int32'),
      z: tf.tensor2d(train.z, [p.n, 2]),
      x_test: tf.tensor2d(test.x, [p.n_test, d]),
      y_test: tf.tensor2d(test.y, [p.n_test, 1]),
      x_conflict: tf.tensor2d(conf.x, [p.n_test, d]),
      y_conflict: tf.tensor2d(conf.y, [p.n_test, 1]),
    };
  },
});
