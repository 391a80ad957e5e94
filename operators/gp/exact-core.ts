/**
 * Exact GP building blocks (Rasmussen & Williams 2006, alg. 2.1), float32 tensors with float64
 * host reductions:
 *   Ky = K + diag(σ²) (+ jitter), L = chol(Ky), α = Ky⁻¹(y − m),
 *   LML = −½ Σ_c (y_c − m)ᵀα_c − (c/2)·log|Ky| − (n·c/2)·log 2π   (c columns of y),
 *   ∂LML/∂log θ = ½ tr(W ∂Ky/∂log θ), W = ααᵀ − c·Ky⁻¹.
 */
import type { Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs-core';
import { OperatorError } from '../../core/operator/index.js';
import type { TF } from '../../core/operator/index.js';
import { choSolve, choleskyFactor, logdetFromFactor, solveTriangular } from '../linalg/index.js';
import type { JitterSpec } from '../linalg/index.js';
import { kernelGradContractions, kernelParamNames } from './kernels.js';
import type { KernelSpec } from './kernels.js';

export const LOG_2PI = Math.log(2 * Math.PI);

/** Rejects NaN/Inf in a tensor with `non_finite_input`. */
export async function assertFiniteInput(tf: TF, t: Tensor, name: string, where: string): Promise<void> {
  const bad = tf.tidy(() => tf.logicalNot(tf.all(tf.isFinite(t))));
  const v = (await bad.data())[0];
  bad.dispose();
  if (v) throw new OperatorError('non_finite_input', `${where}: input '${name}' holds NaN or Inf`, { input: name });
}

/** σ² as a tensor to add to a diagonal: a scalar or [n]. */
export function noiseVector(noise: number | number[], n: number): number[] {
  if (typeof noise === 'number') return new Array<number>(n).fill(noise);
  if (noise.length !== n) throw new OperatorError('shape', `noise has ${noise.length} entries, y has ${n} rows`);
  return noise;
}

/** K + diag(σ²). */
export function addDiag(tf: TF, k: Tensor2D, diag: number[]): Tensor2D {
  return tf.tidy(() => tf.add(k, tf.diag(tf.tensor1d(diag))) as Tensor2D);
}

export interface ExactFit {
  l: Tensor2D;
  alpha: Tensor2D;
  jitterUsed: number;
  jitterTried: number[];
  /** Σ_c (y_c − m)ᵀα_c, float64. */
  quad: number;
  logdet: number;
  lml: number;
}

/** Factor Ky and solve for α; y2 [n, c] already has the prior mean removed. Frees all on error. */
export async function exactFit(
  tf: TF,
  ky: Tensor2D,
  y2: Tensor2D,
  jitter: JitterSpec,
  signal?: AbortSignal,
): Promise<ExactFit> {
  const [n, c] = y2.shape;
  const { l, infos } = await choleskyFactor(tf, ky, { jitter, signal });
  try {
    const alpha = (await choSolve(tf, l, y2)) as Tensor2D;
    const [yh, ah] = await Promise.all([y2.data(), alpha.data()]);
    let quad = 0;
    for (let i = 0; i < n * c; i++) quad += yh[i] * ah[i];
    const [logdet] = await logdetFromFactor(tf, l);
    const lml = -0.5 * quad - 0.5 * c * logdet - 0.5 * n * c * LOG_2PI;
    return { l: l as Tensor2D, alpha, jitterUsed: infos[0].jitter_used, jitterTried: infos[0].jitter_tried, quad, logdet, lml };
  } catch (err) {
    l.dispose();
    throw err;
  }
}

/** W = ααᵀ − c·Ky⁻¹ from the factor. */
export async function gradWeight(tf: TF, fit: ExactFit): Promise<Tensor2D> {
  const n = fit.l.shape[0];
  const c = fit.alpha.shape[1];
  const eye = tf.eye(n) as Tensor2D;
  let kinv: Tensor;
  try {
    kinv = await choSolve(tf, fit.l, eye);
  } finally {
    eye.dispose();
  }
  const w = tf.tidy(() => {
    const sym = tf.mul(tf.add(kinv, tf.transpose(kinv)), 0.5);
    return tf.sub(tf.matMul(fit.alpha, fit.alpha, false, true), tf.mul(sym, c)) as Tensor2D;
  });
  kinv.dispose();
  return w;
}

/**
 * ∂LML/∂log θ for the kernel's log-hyperparameters (kernelParamNames order) and log σ² (last),
 * given x and K(x, x) without noise. σ² may be per row (then the gradient is w.r.t. a common log factor).
 */
export async function lmlGrad(
  tf: TF,
  fit: ExactFit,
  x: Tensor2D,
  k: Tensor2D,
  spec: KernelSpec,
  noise: number[],
): Promise<{ names: string[]; grad: number[] }> {
  const w = await gradWeight(tf, fit);
  try {
    const kg = await kernelGradContractions(tf, x, k, w, spec);
    const wd = await diagOf(tf, w);
    let gn = 0;
    for (let i = 0; i < noise.length; i++) gn += 0.5 * wd[i] * noise[i];
    return { names: [...kernelParamNames(spec, x.shape[1]), 'noise'], grad: [...kg, gn] };
  } finally {
    w.dispose();
  }
}

/** The diagonal of a square matrix, read to the host. */
export async function diagOf(tf: TF, a: Tensor2D): Promise<Float64Array> {
  const n = a.shape[0];
  const d = tf.tidy(() => tf.gather(tf.reshape(a, [n * n]), tf.tensor1d(Array.from({ length: n }, (_, i) => i * (n + 1)), 'int32')));
  const v = Float64Array.from(await d.data());
  d.dispose();
  return v;
}

/**
 * Latent predictive variance diag(K**) − colsum((L⁻¹K*ᵀ)²), clamped at 0; returns the clamp count.
 * kCross [n*, n], kssDiag [n*].
 */
export async function cholVariance(
  tf: TF,
  l: Tensor2D,
  kCross: Tensor2D,
  kssDiag: Tensor1D,
): Promise<{ v: Tensor1D; clamped: number }> {
  const kt = tf.transpose(kCross) as Tensor2D;
  let sol: Tensor;
  try {
    sol = await solveTriangular(tf, l, kt, { lower: true });
  } finally {
    kt.dispose();
  }
  const raw = tf.tidy(() => tf.sub(kssDiag, tf.sum(tf.square(sol), 0)) as Tensor1D);
  sol.dispose();
  return clampVariance(tf, raw);
}

/** max(v, 0), counting the negatives; disposes `raw`. */
export async function clampVariance(tf: TF, raw: Tensor1D): Promise<{ v: Tensor1D; clamped: number }> {
  const negT = tf.tidy(() => tf.sum(tf.cast(tf.less(raw, 0), 'int32')));
  const clamped = (await negT.data())[0];
  negT.dispose();
  const v = tf.relu(raw) as Tensor1D;
  raw.dispose();
  return { v, clamped };
}
