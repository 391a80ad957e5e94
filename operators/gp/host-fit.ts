/**
 * The exact-GP LML and its gradient w.r.t. log hyperparameters in float64 on the host, for the small
 * problems gp.fit meets (n ≤ host_max_n): the same formulas as exact-core.ts/kernels.ts, but free of
 * float32 round-off and identical on every backend, so a fitted optimum does not depend on the backend.
 */
import { OperatorError } from '../../core/operator/index.js';
import { cholInPlace, invLower, jitterSchedule } from '../linalg/index.js';
import type { JitterSpec } from '../linalg/index.js';
import { lengthscalesOf } from './kernels.js';
import type { KernelSpec } from './kernels.js';
import { LOG_2PI } from './exact-core.js';

/** LML and ∂LML/∂log θ (lengthscale(s), outputscale, noise) for x [n, d] and y [n, c], row-major. */
export function hostLmlGrad(
  x: ArrayLike<number>,
  n: number,
  d: number,
  y: ArrayLike<number>,
  c: number,
  spec: KernelSpec,
  noise: number,
  jitter: JitterSpec,
): { lml: number; grad: number[]; jitterUsed: number } {
  const ls = lengthscalesOf(spec, d);
  const s = spec.outputscale;
  const ard = typeof spec.lengthscale !== 'number';
  const k = new Float64Array(n * n);
  const r = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let acc = 0;
      for (let t = 0; t < d; t++) {
        const a = x[i * d + t];
        const b = x[j * d + t];
        acc += spec.type === 'linear' ? (a * b) / (ls[t] * ls[t]) : ((a - b) / ls[t]) ** 2;
      }
      let v: number;
      const rr = Math.sqrt(acc);
      switch (spec.type) {
        case 'linear': v = s * acc; break;
        case 'rbf': v = s * Math.exp(-acc / 2); break;
        case 'matern12': v = s * Math.exp(-rr); break;
        case 'matern32': v = s * (1 + Math.sqrt(3) * rr) * Math.exp(-Math.sqrt(3) * rr); break;
        default: v = s * (1 + Math.sqrt(5) * rr + (5 / 3) * acc) * Math.exp(-Math.sqrt(5) * rr);
      }
      k[i * n + j] = k[j * n + i] = v;
      r[i * n + j] = r[j * n + i] = rr;
    }
  }
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += k[i * n + i] + noise;
  meanDiag /= n;
  let l: Float64Array | undefined;
  let jitterUsed = 0;
  const tried: number[] = [];
  for (const jit of jitterSchedule(jitter, meanDiag)) {
    tried.push(jit);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = k[i * n + j] + (i === j ? noise + jit : 0);
    if (cholInPlace(a, n) < 0) {
      l = a;
      jitterUsed = jit;
      break;
    }
  }
  if (!l) throw new OperatorError('not_psd', `gp.fit: K + σ²I is not positive definite (jitter tried ${tried.join(', ')})`, { jitterTried: tried });
  // α = Ky⁻¹y column by column; log|Ky| = 2Σ log Lᵢᵢ.
  const alpha = new Float64Array(n * c);
  let quad = 0;
  for (let col = 0; col < c; col++) {
    const z = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let v = y[i * c + col];
      for (let t = 0; t < i; t++) v -= l[i * n + t] * z[t];
      z[i] = v / l[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let v = z[i];
      for (let t = i + 1; t < n; t++) v -= l[t * n + i] * alpha[t * c + col];
      alpha[i * c + col] = v / l[i * n + i];
    }
    for (let i = 0; i < n; i++) quad += y[i * c + col] * alpha[i * c + col];
  }
  let logdet = 0;
  for (let i = 0; i < n; i++) logdet += 2 * Math.log(l[i * n + i]);
  const lml = -0.5 * quad - 0.5 * c * logdet - 0.5 * n * c * LOG_2PI;
  // W = ααᵀ − c·Ky⁻¹, Ky⁻¹ = L⁻ᵀL⁻¹.
  const li = invLower(l, n);
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let kinv = 0;
      for (let t = i; t < n; t++) kinv += li[t * n + i] * li[t * n + j];
      let aa = 0;
      for (let col = 0; col < c; col++) aa += alpha[i * c + col] * alpha[j * c + col];
      w[i * n + j] = w[j * n + i] = aa - c * kinv;
    }
  }
  const nl = ard ? d : 1;
  const grad = new Array<number>(nl + 2).fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const wij = w[i * n + j];
      const kij = k[i * n + j];
      const rr = r[i * n + j];
      let g: number;
      switch (spec.type) {
        case 'linear': g = -2 * s; break;
        case 'rbf': g = kij; break;
        case 'matern12': g = rr > 0 ? (s * Math.exp(-rr)) / rr : 0; break;
        case 'matern32': g = 3 * s * Math.exp(-Math.sqrt(3) * rr); break;
        default: g = (5 / 3) * s * (1 + Math.sqrt(5) * rr) * Math.exp(-Math.sqrt(5) * rr);
      }
      for (let t = 0; t < d; t++) {
        const a = x[i * d + t];
        const b = x[j * d + t];
        const dim = spec.type === 'linear' ? (a * b) / (ls[t] * ls[t]) : ((a - b) / ls[t]) ** 2;
        grad[ard ? t : 0] += 0.5 * wij * g * dim;
      }
      grad[nl] += 0.5 * wij * kij;
    }
    grad[nl + 1] += 0.5 * w[i * n + i] * noise;
  }
  return { lml, grad, jitterUsed };
}
