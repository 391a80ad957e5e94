/**
 * Where a gp.* node's kernel matrices come from: precomputed inputs (k_train, k_cross, k_test_diag)
 * or x / x_test with the inline kernel spec. Every accessor returns a new tensor the caller owns.
 */
import type { Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs-core';
import { OperatorError, ParamError, ShapeError, expectDim, json, tensor } from '../../core/operator/index.js';
import type { Shape, TensorMeta, TF } from '../../core/operator/index.js';
import { assertFiniteInput } from './exact-core.js';
import { kernelDiag, kernelMatrix, lengthscalesOf } from './kernels.js';
import type { KernelSpec } from './kernels.js';

/** The input ports shared by gp.exact, gp.krr and gp.student_t. */
export const kernelInputPorts = {
  k_train: tensor({ dtype: 'float32', rank: 2, optional: true, doc: 'K(X, X) [n, n] (instead of x)' }),
  x: tensor({ dtype: 'float32', rank: 2, optional: true, doc: 'training inputs [n, d] (with params.kernel)' }),
  k_cross: tensor({ dtype: 'float32', rank: 2, optional: true, doc: 'K(X*, X) [n*, n] (with k_train)' }),
  k_test_diag: tensor({ dtype: 'float32', rank: 1, optional: true, doc: 'diag K(X*, X*) [n*] (with k_train; needed for var)' }),
  x_test: tensor({ dtype: 'float32', rank: 2, optional: true, doc: 'test inputs [n*, d] (with x)' }),
} as const;

export const hyperPort = json({
  optional: true,
  doc: "{kernel?: {type, lengthscale, outputscale}, noise?, mean?}: overrides params (wire gp.fit's 'hyper' output here)",
});

export interface SourceMetas {
  k_train?: TensorMeta;
  x?: TensorMeta;
  k_cross?: TensorMeta;
  k_test_diag?: TensorMeta;
  x_test?: TensorMeta;
}

/** Static checks shared by the operators; returns n and n* (null when unknown, undefined when no test set). */
export function sourceShapes(m: SourceMetas, spec: KernelSpec | undefined): { n: Shape[number]; nTest: Shape[number] | undefined } {
  if (!!m.k_train === !!m.x) throw new ShapeError('connect exactly one of k_train and x', '/inputs');
  if (m.k_train) {
    const s = m.k_train.shape!;
    const n = expectDim(s[0], s[1], 'k_train must be square', '/inputs/k_train');
    if (m.x_test) throw new ShapeError('x_test needs x (with k_train, give k_cross)', '/inputs/x_test');
    if (m.k_test_diag && !m.k_cross) throw new ShapeError('k_test_diag needs k_cross', '/inputs/k_test_diag');
    if (!m.k_cross) return { n, nTest: undefined };
    const c = m.k_cross.shape!;
    expectDim(c[1], n, 'k_cross columns must match k_train', '/inputs/k_cross');
    if (m.k_test_diag) expectDim(m.k_test_diag.shape![0], c[0], 'k_test_diag length must match k_cross rows', '/inputs/k_test_diag');
    return { n, nTest: c[0] };
  }
  if (m.k_cross || m.k_test_diag) throw new ShapeError('k_cross/k_test_diag go with k_train; with x give x_test', '/inputs');
  const s = m.x!.shape!;
  if (spec && typeof spec.lengthscale !== 'number' && typeof s[1] === 'number' && spec.lengthscale.length !== s[1]) {
    throw new ParamError(`ARD lengthscale has ${spec.lengthscale.length} entries but x has ${s[1]} dimensions`, '/params/kernel/lengthscale');
  }
  if (!m.x_test) return { n: s[0], nTest: undefined };
  expectDim(m.x_test.shape![1], s[1], 'x_test and x must have the same number of columns', '/inputs/x_test');
  return { n: s[0], nTest: m.x_test.shape![0] };
}

export class KernelSource {
  readonly n: number;
  readonly nTest: number;
  /** Test diagonal available (always with x; with k_train only when k_test_diag is given). */
  readonly hasVar: boolean;
  private readonly inputs: { k_train?: Tensor; x?: Tensor; k_cross?: Tensor; k_test_diag?: Tensor; x_test?: Tensor };
  constructor(
    private readonly tf: TF,
    all: { k_train?: Tensor; x?: Tensor; k_cross?: Tensor; k_test_diag?: Tensor; x_test?: Tensor },
    readonly spec: KernelSpec,
  ) {
    const { k_train, x, k_cross, k_test_diag, x_test } = all;
    this.inputs = { k_train, x, k_cross, k_test_diag, x_test };
    if (!!k_train === !!x) throw new OperatorError('shape', 'connect exactly one of k_train and x');
    if (x) lengthscalesOf(spec, x.shape[1] as number);
    this.n = (k_train ?? x)!.shape[0];
    const test = x ? x_test : k_cross;
    this.nTest = test ? test.shape[0] : 0;
    this.hasVar = this.nTest > 0 && (x ? true : !!k_test_diag);
  }

  async check(where: string): Promise<void> {
    for (const [name, t] of Object.entries(this.inputs)) if (t) await assertFiniteInput(this.tf, t, name, where);
  }

  get x(): Tensor2D | undefined {
    return this.inputs.x as Tensor2D | undefined;
  }

  train(): Tensor2D {
    const { k_train, x } = this.inputs;
    return k_train ? (this.tf.clone(k_train) as Tensor2D) : kernelMatrix(this.tf, x as Tensor2D, null, this.spec);
  }

  cross(i0: number, i1: number): Tensor2D {
    const { tf } = this;
    const { k_cross, x, x_test } = this.inputs;
    if (k_cross) return tf.slice(k_cross, [i0, 0], [i1 - i0, -1]) as Tensor2D;
    return tf.tidy(() => kernelMatrix(tf, tf.slice(x_test!, [i0, 0], [i1 - i0, -1]) as Tensor2D, x as Tensor2D, this.spec));
  }

  testDiag(i0: number, i1: number): Tensor1D {
    const { tf } = this;
    const { k_test_diag, x_test } = this.inputs;
    if (k_test_diag) return tf.slice(k_test_diag, [i0], [i1 - i0]) as Tensor1D;
    return tf.tidy(() => kernelDiag(tf, tf.slice(x_test!, [i0, 0], [i1 - i0, -1]) as Tensor2D, this.spec));
  }
}

/** y as [n, c] (a view for [n]); `mean` subtracted. */
export function yMatrix(tf: TF, y: Tensor, mean: number): Tensor2D {
  return tf.tidy(() => tf.sub(y.rank === 1 ? tf.reshape(y, [-1, 1]) : y, mean) as Tensor2D);
}

/** params.kernel / noise / mean, overridden by a `hyper` json input ({kernel?, noise?, mean?}). */
export function withHyper(
  p: { kernel: KernelSpec; noise: number | number[]; mean: number },
  hyper: unknown,
): { spec: KernelSpec; noise: number | number[]; mean: number } {
  if (hyper === undefined || hyper === null) return { spec: p.kernel, noise: p.noise, mean: p.mean };
  if (typeof hyper !== 'object' || Array.isArray(hyper)) throw new OperatorError('params', 'hyper must be an object');
  const h = hyper as { kernel?: Partial<KernelSpec>; noise?: unknown; mean?: unknown };
  const pos = (v: unknown) => typeof v === 'number' && v > 0 && Number.isFinite(v);
  const spec = { ...p.kernel, ...(h.kernel ?? {}) } as KernelSpec;
  const ls = spec.lengthscale;
  if (!(Array.isArray(ls) ? ls.length > 0 && ls.every(pos) : pos(ls)) || !pos(spec.outputscale)) {
    throw new OperatorError('params', `hyper.kernel is invalid: ${JSON.stringify(h.kernel)}`);
  }
  const noise = h.noise === undefined ? p.noise : h.noise;
  if (!(typeof noise === 'number' ? noise >= 0 : Array.isArray(noise) && noise.every((v) => typeof v === 'number' && v >= 0))) {
    throw new OperatorError('params', `hyper.noise is invalid: ${JSON.stringify(h.noise)}`);
  }
  const mean = h.mean === undefined ? p.mean : h.mean;
  if (typeof mean !== 'number' || !Number.isFinite(mean)) throw new OperatorError('params', 'hyper.mean must be a finite number');
  return { spec, noise: noise as number | number[], mean };
}
