/**
 * The small kernel set gp.* nodes accept inline (`params.kernel`), so the GP family does not
 * depend on the kernel family: rbf, matern12/32/52 and linear, isotropic or ARD.
 *
 *   r² = Σⱼ (xⱼ − x'ⱼ)²/ℓⱼ²            (ARD: one ℓⱼ per input dimension)
 *   rbf       k = s·exp(−r²/2)
 *   matern12  k = s·exp(−r)
 *   matern32  k = s·(1 + √3r)·exp(−√3r)
 *   matern52  k = s·(1 + √5r + 5r²/3)·exp(−√5r)
 *   linear    k = s·Σⱼ xⱼx'ⱼ/ℓⱼ²
 *
 * Squared distances in float32: inputs are centred on the mean of x1 and scaled by 1/ℓ first, then
 * r² = |a|² + |b|² − 2abᵀ is clamped at 0 and the symmetric diagonal is set to exactly 0.
 * Gradients are w.r.t. log hyperparameters: for a stationary kernel with k = κ(r),
 * ∂K/∂log ℓⱼ = g(r)·(xⱼ − x'ⱼ)²/ℓⱼ² with g = −κ'(r)/r (rbf: g = k; matern32: 3s·e^{−√3r};
 * matern52: (5/3)s(1+√5r)e^{−√5r}; matern12: s·e^{−r}/r, 0 at r = 0), and ∂K/∂log s = K.
 */
import type { Tensor1D, Tensor2D } from '@tensorflow/tfjs-core';
import { ParamError, Type } from '../../core/operator/index.js';
import type { Static, TF } from '../../core/operator/index.js';

export const kernelTypes = ['rbf', 'matern12', 'matern32', 'matern52', 'linear'] as const;
export type KernelType = (typeof kernelTypes)[number];

export const kernelTypeSchema = Type.Union(kernelTypes.map((t) => Type.Literal(t)), {
  default: 'rbf',
  description: 'Kernel family: rbf, matern12, matern32, matern52 or linear.',
});

export const kernelSpecSchema = Type.Object(
  {
    type: kernelTypeSchema,
    lengthscale: Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Array(Type.Number({ exclusiveMinimum: 0 }), { minItems: 1 })], {
      default: 1,
      description: 'ℓ: one number (isotropic) or one per input dimension (ARD).',
    }),
    outputscale: Type.Number({ exclusiveMinimum: 0, default: 1, description: 's: the kernel variance k(x, x) of stationary kernels.' }),
  },
  { additionalProperties: false, default: { type: 'rbf', lengthscale: 1, outputscale: 1 }, description: 'Inline kernel used when x is given.' },
);
export type KernelSpec = Static<typeof kernelSpecSchema>;

/** ℓ as a vector of length d (isotropic broadcast); ParamError when an ARD vector has the wrong length. */
export function lengthscalesOf(spec: KernelSpec, d: number, pointer = '/params/kernel/lengthscale'): number[] {
  if (typeof spec.lengthscale === 'number') return new Array<number>(d).fill(spec.lengthscale);
  if (spec.lengthscale.length !== d) {
    throw new ParamError(`ARD lengthscale has ${spec.lengthscale.length} entries but x has ${d} dimensions`, pointer);
  }
  return spec.lengthscale;
}

/** Names of the log-hyperparameters of a kernel, in gradient order (lengthscale(s), then outputscale). */
export function kernelParamNames(spec: KernelSpec, d: number): string[] {
  const ls = typeof spec.lengthscale === 'number' ? ['lengthscale'] : Array.from({ length: d }, (_, j) => `lengthscale[${j}]`);
  return [...ls, 'outputscale'];
}

/** Scaled squared distances r² [n1, n2] (clamped ≥ 0; exact 0 on the diagonal when x2 is null). */
function scaledSqDist(tf: TF, a: Tensor2D, b: Tensor2D | null): Tensor2D {
  return tf.tidy(() => {
    const bb = b ?? a;
    const na = tf.reshape(tf.sum(tf.square(a), 1), [-1, 1]);
    const nb = tf.reshape(tf.sum(tf.square(bb), 1), [1, -1]);
    let r2 = tf.relu(tf.sub(tf.add(na, nb), tf.mul(tf.matMul(a, bb, false, true), 2))) as Tensor2D;
    if (!b) {
      const n = a.shape[0];
      r2 = tf.mul(r2, tf.sub(1, tf.eye(n))) as Tensor2D;
      r2 = tf.mul(tf.add(r2, tf.transpose(r2)), 0.5) as Tensor2D; // exactly symmetric
    }
    return r2;
  });
}

/** Inputs centred on x1's mean and divided by ℓ (for linear: divided by ℓ, not centred). */
function scaled(tf: TF, x1: Tensor2D, x2: Tensor2D | null, spec: KernelSpec): [Tensor2D, Tensor2D | null] {
  const d = x1.shape[1];
  const inv = tf.tensor1d(lengthscalesOf(spec, d).map((l) => 1 / l));
  if (spec.type === 'linear') return [tf.mul(x1, inv) as Tensor2D, x2 ? (tf.mul(x2, inv) as Tensor2D) : null];
  const mu = tf.mean(x1, 0, true);
  return [tf.mul(tf.sub(x1, mu), inv) as Tensor2D, x2 ? (tf.mul(tf.sub(x2, mu), inv) as Tensor2D) : null];
}

function profile(tf: TF, type: KernelType, r2: Tensor2D, s: number): Tensor2D {
  switch (type) {
    case 'rbf':
      return tf.mul(tf.exp(tf.mul(r2, -0.5)), s) as Tensor2D;
    case 'matern12':
      return tf.mul(tf.exp(tf.neg(tf.sqrt(r2))), s) as Tensor2D;
    case 'matern32': {
      const u = tf.mul(tf.sqrt(r2), Math.sqrt(3));
      return tf.mul(tf.mul(tf.add(1, u), tf.exp(tf.neg(u))), s) as Tensor2D;
    }
    case 'matern52': {
      const u = tf.mul(tf.sqrt(r2), Math.sqrt(5));
      return tf.mul(tf.mul(tf.add(tf.add(1, u), tf.mul(r2, 5 / 3)), tf.exp(tf.neg(u))), s) as Tensor2D;
    }
    default:
      throw new Error(`not a stationary kernel: ${type}`);
  }
}

/** K(x1, x2) [n1, n2]; x2 null means the symmetric K(x1, x1). */
export function kernelMatrix(tf: TF, x1: Tensor2D, x2: Tensor2D | null, spec: KernelSpec): Tensor2D {
  return tf.tidy(() => {
    const [a, b] = scaled(tf, x1, x2, spec);
    if (spec.type === 'linear') {
      const k = tf.mul(tf.matMul(a, b ?? a, false, true), spec.outputscale) as Tensor2D;
      return b ? k : (tf.mul(tf.add(k, tf.transpose(k)), 0.5) as Tensor2D);
    }
    return profile(tf, spec.type, scaledSqDist(tf, a, b), spec.outputscale);
  });
}

/** diag K(x, x) [n]. */
export function kernelDiag(tf: TF, x: Tensor2D, spec: KernelSpec): Tensor1D {
  return tf.tidy(() => {
    if (spec.type === 'linear') {
      const [a] = scaled(tf, x, null, spec);
      return tf.mul(tf.sum(tf.square(a), 1), spec.outputscale) as Tensor1D;
    }
    return tf.fill([x.shape[0]], spec.outputscale) as Tensor1D;
  });
}

/**
 * ½·Σᵢⱼ Wᵢⱼ·∂Kᵢⱼ/∂log θ for every kernel log-hyperparameter (kernelParamNames order), given the
 * symmetric weight W [n, n] and K = K(x, x) without noise. One n×n temporary per parameter.
 */
export async function kernelGradContractions(tf: TF, x: Tensor2D, k: Tensor2D, w: Tensor2D, spec: KernelSpec): Promise<number[]> {
  const d = x.shape[1];
  const ls = lengthscalesOf(spec, d);
  const ard = typeof spec.lengthscale !== 'number';
  const s = spec.outputscale;
  const parts = tf.tidy(() => {
    const out: Tensor1D[] = [];
    // Per-dimension (xⱼ − x'ⱼ)²/ℓⱼ² (stationary) or xⱼx'ⱼ/ℓⱼ² (linear), formed directly (no cancellation).
    const dim = (j: number): Tensor2D => {
      const c = tf.slice(x, [0, j], [-1, 1]);
      if (spec.type === 'linear') return tf.div(tf.matMul(c, c, false, true), ls[j] * ls[j]) as Tensor2D;
      return tf.div(tf.square(tf.sub(c, tf.transpose(c))), ls[j] * ls[j]) as Tensor2D;
    };
    let g: Tensor2D; // ∂K/∂log ℓⱼ = g ⊙ dim(j)   (linear: g = −2s)
    if (spec.type === 'linear') g = tf.fill(k.shape, -2 * s) as Tensor2D;
    else if (spec.type === 'rbf') g = k;
    else {
      const [a] = scaled(tf, x, null, spec);
      const r = tf.sqrt(scaledSqDist(tf, a, null));
      if (spec.type === 'matern32') g = tf.mul(tf.exp(tf.mul(r, -Math.sqrt(3))), 3 * s) as Tensor2D;
      else if (spec.type === 'matern52') {
        const u = tf.mul(r, Math.sqrt(5));
        g = tf.mul(tf.mul(tf.add(1, u), tf.exp(tf.neg(u))), (5 / 3) * s) as Tensor2D;
      } else {
        const pos = tf.greater(r, 0);
        const safe = tf.where(pos, r, tf.onesLike(r));
        g = tf.where(pos, tf.div(tf.mul(tf.exp(tf.neg(r)), s), safe), tf.zerosLike(r)) as Tensor2D;
      }
    }
    const gw = tf.mul(g, w);
    if (ard) for (let j = 0; j < d; j++) out.push(tf.reshape(tf.mul(tf.sum(tf.mul(gw, dim(j))), 0.5), [1]) as Tensor1D);
    else {
      let total: Tensor2D = dim(0);
      for (let j = 1; j < d; j++) total = tf.add(total, dim(j)) as Tensor2D;
      out.push(tf.reshape(tf.mul(tf.sum(tf.mul(gw, total)), 0.5), [1]) as Tensor1D);
    }
    out.push(tf.reshape(tf.mul(tf.sum(tf.mul(w, k)), 0.5), [1]) as Tensor1D);
    return tf.concat(out);
  });
  const v = Array.from(await parts.data());
  parts.dispose();
  return v;
}
