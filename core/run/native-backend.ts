/**
 * The tfjs backend `native`: the cpu backend's tensor storage (plain TypedArrays, a
 * `MathBackendCPU` instance of its own) with its hot kernels computed by the native addon
 * (OpenBLAS sgemm, OpenMP loops in C). Every other kernel is the cpu backend's own, registered
 * again under 'native'. A native kernel hands anything it does not cover (other dtypes, empty
 * tensors, unusual layouts) to the cpu kernel of the same name, so the results and errors there
 * are exactly cpu's.
 *
 * Native kernels: BatchMatMul and _FusedMatMul (sgemm, batched with broadcasting, transposes),
 * binary ops with broadcasting (BINARY_OPS), unary ops (UNARY_OPS), Sum/Mean/Max/Min over any
 * axes, Transpose, Select, Softmax — float32 (Transpose also int32); FFT and IFFT on complex64
 * (./native-fft.ts). The backend instance also carries `kernelflowLinalg` (LAPACK Cholesky,
 * triangular solve, symmetric eigendecomposition): see `NativeLinalg`; and `kernelflowFused`
 * (fused kernel matrices: one Gram sgemm, then the whole per-entry map in one C pass; fused
 * neighbourhood and softmax attention): see `NativeFused`.
 */
import type * as TFCore from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { BINARY_OPS, REDUCE_OPS, STATIONARY_KINDS, UNARY_OPS, type NativeAddon } from './native-addon.js';
import { nativeFftKernels } from './native-fft.js';

type TF = typeof TFCore;

/** What the native backend's kernels need of `MathBackendCPU`. */
interface CpuLike {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: TFCore.DataType, values?: Float32Array | Int32Array): TensorInfo;
  disposeIntermediateTensorInfo(t: TensorInfo): void;
}

interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: CpuLike;
  attrs?: NamedAttrMap;
}

/** Kernels the addon computes (the rest are cpu's). */
export const NATIVE_KERNELS: readonly string[] = [
  'BatchMatMul', '_FusedMatMul', ...BINARY_OPS, ...UNARY_OPS, ...REDUCE_OPS, 'Transpose', 'Select', 'Softmax', 'FFT', 'IFFT',
];

/** Registers backend 'native' and its kernels (once). Needs tfjs-backend-cpu and a loaded addon. */
export async function registerNativeBackend(tf: TF, addon: NativeAddon): Promise<void> {
  if (tf.findBackendFactory('native')) return;
  const cpu = await import('@tensorflow/tfjs-backend-cpu');
  const cpuKernels = new Map(tf.getKernelsForBackend('cpu').map((k) => [k.kernelName, k] as const));
  const fallback = (name: string): KernelFunc => {
    const k = cpuKernels.get(name);
    if (!k) throw new Error(`native backend: cpu has no kernel '${name}' to fall back to`);
    return k.kernelFunc;
  };
  const own = nativeKernels(tf, addon, fallback);
  for (const k of cpuKernels.values()) {
    if (!own.has(k.kernelName)) tf.registerKernel({ ...k, backendName: 'native' } as KernelConfig);
  }
  for (const [kernelName, kernelFunc] of own) {
    if (cpuKernels.has(kernelName)) tf.registerKernel({ kernelName, backendName: 'native', kernelFunc });
  }
  const linalg = nativeLinalg(addon);
  const fused = nativeFused(addon);
  class NativeBackend extends cpu.MathBackendCPU {
    readonly kernelflowLinalg: NativeLinalg = linalg;
    get kernelflowFused(): NativeFused | undefined {
      return fusedEnabled ? fused : undefined;
    }
  }
  // Priority 0: never chosen by tfjs on its own; kernelflow selects it explicitly.
  tf.registerBackend('native', () => new NativeBackend(), 0);
}

/**
 * The linear-algebra hook: LAPACK through the addon, float64 inside, float32 in and out, one
 * row-major n×n matrix per call (loop over batches). Operators reach it without importing the
 * engine: `(ctx.tf.backend() as { kernelflowLinalg?: NativeLinalg }).kernelflowLinalg` is defined
 * only while `native` is the active backend; read inputs with `await t.data()` and build the
 * results with `ctx.tf.tensor(...)`. The generic tfjs implementation stays the reference.
 */
export interface NativeLinalg {
  /** L·Lᵀ = A + jitter·I for symmetric A (its lower triangle is read; jitter added in float64, default 0). `info` > 0: the leading minor of that order is not positive definite (then `l` is meaningless: report `not_psd`). */
  cholesky(a: Float32Array, n: number, jitter?: number): { l: Float32Array; info: number };
  /** X with op(T)·X = B: T n×n lower (or upper) triangular, op = transpose when asked, B n×m. */
  solveTriangular(t: Float32Array, b: Float32Array, n: number, m: number, options: { lower: boolean; transpose?: boolean }): Float32Array;
  /** A = V·diag(values)·Vᵀ for symmetric A (its lower triangle is read): values ascending, eigenvectors in V's columns. `info` > 0: no convergence. */
  eigh(a: Float32Array, n: number): { values: Float32Array; vectors: Float32Array; info: number };
}

function nativeLinalg(addon: NativeAddon): NativeLinalg {
  return {
    cholesky(a, n, jitter = 0) {
      const l = new Float32Array(n * n);
      return { l, info: addon.potrf(a, l, n, jitter) };
    },
    solveTriangular(t, b, n, m, { lower, transpose = false }) {
      const out = new Float32Array(n * m);
      addon.trsm(t, b, out, n, m, lower, transpose);
      return out;
    },
    eigh(a, n) {
      const values = new Float32Array(n), vectors = new Float32Array(n * n);
      return { values, vectors, info: addon.syevd(a, values, vectors, n) };
    },
  };
}

/**
 * The fused-kernel hook: an operator's fast path for `native`, reached like `kernelflowLinalg`
 * (`(tf.backend() as { kernelflowFused?: NativeFused }).kernelflowFused`, defined only while
 * `native` is active and fused kernels are on). Inputs are row-major float32 [n, d] arrays; each
 * call returns new arrays for `ctx.tf.tensor` (the addon keeps nothing). The operator's generic
 * tfjs code stays the reference: tests/native/fused.test.ts compares the two.
 */
export interface NativeFused {
  /** variance·g(‖a_i − b_j‖²) [n1·n2], g: rbf e^{−d²/2}, matern12 e^{−r}, matern32 (1+√3r)e^{−√3r}, matern52 (1+√5r+5d²/3)e^{−√5r}; b null = a (symmetric, exact diagonal). */
  stationary(kind: (typeof STATIONARY_KINDS)[number], a: Float32Array, b: Float32Array | null, n1: number, n2: number, d: number, variance: number): Float32Array;
  /** NNGP and NTK [n1·n2] of a dense stack, `steps` encoded as in native/fused.h (5 numbers per step); x2 null = x1. */
  nnDense(x1: Float32Array, x2: Float32Array | null, n1: number, n2: number, d: number, steps: Float64Array, ntk: boolean): { nngp: Float32Array; ntk?: Float32Array };
  /** Neighbourhood attention over precomputed windows (operators/attention/windows.ts): q, k [bh, n, d], v [bh, n, dv], index [n·kw], valid [n·kw] (null: no padding) → out [bh, n, dv]; a query with no valid key gives 0. Absent from an addon built before it. */
  neighborhood?(q: Float32Array, k: Float32Array, v: Float32Array, index: Int32Array, valid: Float32Array | null, bh: number, n: number, d: number, dv: number, kw: number, scale: number): Float32Array;
  /** softmax(scale·q·kᵀ)·v without the nq×nk matrix (query blocks × key tiles, online softmax): q [bh, nq, d], k [bh, nk, d], v [bh, nk, dv] → out [bh, nq, dv]; causal: query i sees key j iff j ≤ i + nk − nq, a query with none gives 0. Absent from an addon built before it. */
  flashAttention?(q: Float32Array, k: Float32Array, v: Float32Array, bh: number, nq: number, nk: number, d: number, dv: number, scale: number, causal: boolean): Float32Array;
  /** Kernelised attention with a Toeplitz bias (attention.rpe_fft 'fft'): fq, fk [bh, n, m], v [bh, n, dv], cexp [heads, 2n−1] = c_{i−j} at (i−j)+n−1 (causal: c_t = 0 for t < 0) → out [bh, n, dv] = num/(den + epsTerm), a zero denominator dividing by 1 (safeDiv); double-precision FFTs of length 2^⌈log2(2n−1)⌉. Absent from an addon built before it. */
  rpeFft?(fq: Float32Array, fk: Float32Array, v: Float32Array, cexp: Float32Array, bh: number, heads: number, n: number, m: number, dv: number, causal: boolean, epsTerm: number): Float32Array;
}

let fusedEnabled = !process.env.KERNELFLOW_DISABLE_FUSED;

/** Turns the fused kernels on or off (off: operators take their generic tfjs path); returns the previous setting. Starts off under KERNELFLOW_DISABLE_FUSED=1. */
export function setFusedKernels(enabled: boolean): boolean {
  const was = fusedEnabled;
  fusedEnabled = enabled;
  return was;
}

function nativeFused(addon: NativeAddon): NativeFused {
  // The attention kernels (native/attention.c) are optional: an addon built before them lacks them.
  type F32 = Float32Array;
  const attention = addon as NativeAddon & {
    neighborhood?(q: F32, k: F32, v: F32, index: Int32Array, valid: F32 | null, out: F32, bh: number, n: number, d: number, dv: number, kw: number, scale: number): void;
    flashAttention?(q: F32, k: F32, v: F32, out: F32, bh: number, nq: number, nk: number, d: number, dv: number, scale: number, causal: boolean): void;
  };
  const fused: NativeFused = {
    stationary(kind, a, b, n1, n2, d, variance) {
      const k = STATIONARY_KINDS.indexOf(kind);
      if (k < 0) throw new Error(`native backend: no fused stationary kernel '${kind}'`);
      const out = new Float32Array(n1 * n2);
      addon.stationary(a, b, n1, n2, d, k, variance, out);
      return out;
    },
    nnDense(x1, x2, n1, n2, d, steps, ntk) {
      const nngp = new Float32Array(n1 * n2);
      const t = ntk ? new Float32Array(n1 * n2) : null;
      addon.nnDense(x1, x2, n1, n2, d, steps, nngp, t);
      return t ? { nngp, ntk: t } : { nngp };
    },
  };
  if (attention.neighborhood) {
    fused.neighborhood = (q, k, v, index, valid, bh, n, d, dv, kw, scale) => {
      const out = new Float32Array(bh * n * dv);
      attention.neighborhood!(q, k, v, index, valid, out, bh, n, d, dv, kw, scale);
      return out;
    };
  }
  if (attention.flashAttention) {
    fused.flashAttention = (q, k, v, bh, nq, nk, d, dv, scale, causal) => {
      const out = new Float32Array(bh * nq * dv);
      attention.flashAttention!(q, k, v, out, bh, nq, nk, d, dv, scale, causal);
      return out;
    };
  }
  if (addon.rpeFft) {
    fused.rpeFft = (fq, fk, v, cexp, bh, heads, n, m, dv, causal, epsTerm) => {
      const out = new Float32Array(bh * n * dv);
      addon.rpeFft!(fq, fk, v, cexp, out, bh, heads, n, m, dv, causal, epsTerm);
      return out;
    };
  }
  return fused;
}

function nativeKernels(tf: TF, addon: NativeAddon, fallback: (name: string) => KernelFunc): Map<string, KernelFunc> {
  const { util, backend_util } = tf;
  const kernels = new Map<string, KernelFunc>();
  const f32 = (b: CpuLike, t: TensorInfo): Float32Array | undefined => {
    const v = t.dtype === 'float32' ? b.data.get(t.dataId).values : undefined;
    return v instanceof Float32Array ? v : undefined;
  };
  const call = (name: string, args: KernelArgs) => fallback(name)(args as never) as TensorInfo;
  const def = (name: string, fn: (args: KernelArgs) => TensorInfo | undefined) => {
    // `undefined` from a native kernel means "not covered here": cpu computes it.
    kernels.set(name, ((args: KernelArgs) => fn(args) ?? call(name, args)) as unknown as KernelFunc);
  };

  // ---- matmul ----------------------------------------------------------------------------
  const batchMatMul = ({ inputs, backend, attrs }: KernelArgs): TensorInfo | undefined => {
    const a = inputs.a as TensorInfo, b = inputs.b as TensorInfo;
    const ta = !!attrs?.transposeA, tb = !!attrs?.transposeB;
    const va = f32(backend, a), vb = f32(backend, b);
    if (!va || !vb || a.shape.length < 2 || b.shape.length < 2) return undefined;
    const ra = a.shape.length, rb = b.shape.length;
    const m = ta ? a.shape[ra - 1] : a.shape[ra - 2], k = ta ? a.shape[ra - 2] : a.shape[ra - 1];
    const kb = tb ? b.shape[rb - 1] : b.shape[rb - 2], n = tb ? b.shape[rb - 2] : b.shape[rb - 1];
    if (k !== kb || m * n * k === 0) return undefined; // cpu throws the shape error / handles empties
    const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
    let outer: number[];
    try {
      outer = backend_util.assertAndGetBroadcastShape(outerA, outerB);
    } catch {
      return undefined;
    }
    const batch = util.sizeFromShape(outer);
    const aIndex = broadcastIndex(outer, outerA), bIndex = broadcastIndex(outer, outerB);
    const out = new Float32Array(batch * m * n);
    addon.matmul(va, vb, out, m, n, k, ta, tb, aIndex, bIndex);
    return backend.makeTensorInfo([...outer, m, n], 'float32', out);
  };
  def('BatchMatMul', batchMatMul);

  const ACTIVATIONS: Record<string, string> = { relu: 'Relu', relu6: 'Relu6', elu: 'Elu', sigmoid: 'Sigmoid', leakyrelu: 'LeakyRelu', prelu: 'Prelu' };
  def('_FusedMatMul', (args) => {
    const { inputs, backend, attrs } = args;
    const activation = (attrs?.activation as string | undefined) ?? 'linear';
    if (activation !== 'linear' && !ACTIVATIONS[activation]) return undefined;
    let cur = batchMatMul(args);
    if (!cur) return undefined;
    const step = (name: string, inputs2: NamedTensorInfoMap, attrs2: NamedAttrMap = {}) => {
      const next = run(name, { inputs: inputs2, backend, attrs: attrs2 });
      backend.disposeIntermediateTensorInfo(cur!);
      cur = next;
    };
    if (inputs.bias) step('Add', { a: cur, b: inputs.bias });
    if (activation === 'prelu') step('Prelu', { x: cur, alpha: inputs.preluActivationWeights as TensorInfo });
    else if (activation === 'leakyrelu') step('LeakyRelu', { x: cur }, { alpha: (attrs?.leakyreluAlpha as number | undefined) ?? 0.2 });
    else if (activation !== 'linear') step(ACTIVATIONS[activation], { x: cur });
    return cur;
  });

  /** Runs the 'native' kernel `name` (native or cpu). */
  const run = (name: string, args: KernelArgs): TensorInfo => (kernels.get(name) ?? fallback(name))(args as never) as TensorInfo;

  // ---- elementwise -----------------------------------------------------------------------
  BINARY_OPS.forEach((name, op) =>
    def(name, ({ inputs, backend }) => {
      const a = inputs.a as TensorInfo, b = inputs.b as TensorInfo;
      const va = f32(backend, a), vb = f32(backend, b);
      if (!va || !vb) return undefined;
      let outShape: number[];
      try {
        outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
      } catch {
        return undefined;
      }
      const size = util.sizeFromShape(outShape);
      if (size === 0) return undefined;
      const plan = broadcastPlan(a.shape, b.shape, outShape);
      const out = new Float32Array(size);
      addon.binary(op, va, vb, out, plan.shape, plan.aStrides, plan.bStrides);
      return backend.makeTensorInfo(outShape, 'float32', out);
    }),
  );

  UNARY_OPS.forEach((name, op) =>
    def(name, ({ inputs, backend, attrs }) => {
      const x = inputs.x as TensorInfo;
      const vx = f32(backend, x);
      if (!vx || vx.length === 0) return undefined;
      let p1 = 0, p2 = 0;
      if (name === 'LeakyRelu') p1 = (attrs?.alpha as number | undefined) ?? 0.2;
      if (name === 'ClipByValue') [p1, p2] = [attrs?.clipValueMin as number, attrs?.clipValueMax as number];
      const out = new Float32Array(vx.length);
      addon.unary(op, vx, out, p1, p2);
      return backend.makeTensorInfo(x.shape.slice(), 'float32', out);
    }),
  );

  def('Select', ({ inputs, backend }) => {
    const c = inputs.condition as TensorInfo, t = inputs.t as TensorInfo, e = inputs.e as TensorInfo;
    const vc = c.dtype === 'bool' ? backend.data.get(c.dataId).values : undefined;
    const vt = f32(backend, t), ve = f32(backend, e);
    if (!(vc instanceof Uint8Array) || !vt || !ve || vt.length === 0) return undefined;
    // tf.where broadcasts all three to one shape first; anything else (a rank-1 condition picking
    // rows, where tfjs's cpu kernel has its own reading) stays with cpu, so results match it.
    if (!util.arraysEqual(t.shape, e.shape) || !util.arraysEqual(c.shape, t.shape)) return undefined;
    const out = new Float32Array(vt.length);
    addon.select(vc, vt, ve, out);
    return backend.makeTensorInfo(t.shape.slice(), 'float32', out);
  });

  // ---- reductions and transpose ------------------------------------------------------------
  REDUCE_OPS.forEach((name, op) =>
    def(name, ({ inputs, backend, attrs }) => {
      const x = inputs.x as TensorInfo;
      const vx = f32(backend, x);
      if (!vx || vx.length === 0) return undefined;
      const axisAttr = (name === 'Max' ? attrs?.reductionIndices : attrs?.axis) as number | number[] | undefined;
      const axes = [...new Set(util.parseAxisParam((axisAttr ?? null) as number | number[], x.shape))].sort((p, q) => p - q);
      if (axes.length === 0) return undefined;
      const [outShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
      const shape = (attrs?.keepDims as boolean | undefined) ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
      const out = new Float32Array(util.sizeFromShape(outShape));
      const layout = reduceLayout(x.shape, axes);
      if (layout) {
        addon.reduce(op, vx, out, layout.outer, layout.r, layout.inner);
      } else {
        // Reduced axes not one block: move them last, then reduce rows.
        const kept = x.shape.map((_, d) => d).filter((d) => !axes.includes(d));
        const moved = new Float32Array(vx.length);
        addon.transpose(vx, moved, Int32Array.from(x.shape), Int32Array.from([...kept, ...axes]));
        const r = axes.reduce((p, d) => p * x.shape[d], 1);
        addon.reduce(op, moved, out, vx.length / r, r, 1);
      }
      return backend.makeTensorInfo(shape, 'float32', out);
    }),
  );

  def('Transpose', ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo;
    const v = backend.data.get(x.dataId).values;
    const perm = attrs?.perm as number[] | undefined;
    const ok = (x.dtype === 'float32' && v instanceof Float32Array) || (x.dtype === 'int32' && v instanceof Int32Array);
    if (!ok || !perm || perm.length !== x.shape.length || v.length === 0 || x.shape.length === 0) return undefined;
    const out = v instanceof Float32Array ? new Float32Array(v.length) : new Int32Array(v.length);
    addon.transpose(v, out, Int32Array.from(x.shape), Int32Array.from(perm));
    return backend.makeTensorInfo(perm.map((p) => x.shape[p]), x.dtype, out);
  });

  // ---- softmax ------------------------------------------------------------------------------
  // tfjs's cpu Softmax runs JavaScript loops (1 s for 4M logits, 30× wasm): over the last axis it is
  // max, subtract, exp, sum and divide, each a native kernel above.
  def('Softmax', ({ inputs, backend, attrs }) => {
    const logits = inputs.logits as TensorInfo;
    const last = logits.shape.length - 1;
    const dim = (attrs?.dim as number | undefined) ?? -1;
    if (!f32(backend, logits) || last < 0 || (dim !== -1 && dim !== last) || util.sizeFromShape(logits.shape) === 0) return undefined;
    const max = run('Max', { inputs: { x: logits }, backend, attrs: { reductionIndices: [last], keepDims: true } });
    const shifted = run('Sub', { inputs: { a: logits, b: max }, backend });
    const e = run('Exp', { inputs: { x: shifted }, backend });
    const sum = run('Sum', { inputs: { x: e }, backend, attrs: { axis: [last], keepDims: true } });
    const out = run('RealDiv', { inputs: { a: e, b: sum }, backend });
    for (const t of [max, shifted, e, sum]) backend.disposeIntermediateTensorInfo(t);
    return out;
  });

  // ---- FFT / IFFT (native/fft.c via core/run/native-fft.ts; cpu's when the addon predates fft) ----
  for (const [name, fn] of nativeFftKernels(addon, (real, imag, backend) => call('Complex', { inputs: { real, imag }, backend }))) def(name, fn);

  return kernels;
}

/** For each batch of the broadcast batch shape `outer`, the index of the matching batch of an input with batch shape `own`. */
function broadcastIndex(outer: number[], own: number[]): Int32Array {
  const total = outer.reduce((p, d) => p * d, 1);
  const idx = new Int32Array(total);
  const offset = outer.length - own.length;
  const strides = new Array<number>(own.length);
  let s = 1;
  for (let d = own.length - 1; d >= 0; d--) {
    strides[d] = own[d] === 1 ? 0 : s;
    s *= own[d];
  }
  for (let i = 0; i < total; i++) {
    let rest = i, at = 0;
    for (let d = outer.length - 1; d >= 0; d--) {
      const coord = rest % outer[d];
      rest = Math.floor(rest / outer[d]);
      const od = d - offset;
      if (od >= 0) at += coord * strides[od];
    }
    idx[i] = at;
  }
  return idx;
}

/**
 * The broadcast of `a` and `b` to `out`, reduced to as few dims as possible: size-1 output dims
 * dropped, neighbouring dims merged where both inputs either span or broadcast them alike. Each
 * input's stride per merged dim is 0 where it broadcasts.
 */
export function broadcastPlan(aShape: readonly number[], bShape: readonly number[], out: readonly number[]): { shape: Int32Array; aStrides: Int32Array; bStrides: Int32Array } {
  const r = out.length;
  const pad = (s: readonly number[]) => [...new Array<number>(r - s.length).fill(1), ...s];
  const a = pad(aShape), b = pad(bShape);
  const dims: { size: number; fa: boolean; fb: boolean }[] = [];
  for (let d = 0; d < r; d++) {
    if (out[d] === 1) continue;
    const fa = a[d] !== 1, fb = b[d] !== 1;
    const last = dims.at(-1);
    if (last && last.fa === fa && last.fb === fb) last.size *= out[d];
    else dims.push({ size: out[d], fa, fb });
  }
  if (dims.length === 0) dims.push({ size: 1, fa: false, fb: false });
  const shape = Int32Array.from(dims.map((d) => d.size));
  const strides = (flag: 'fa' | 'fb') => {
    const st = new Int32Array(dims.length);
    let s = 1;
    for (let d = dims.length - 1; d >= 0; d--) {
      st[d] = dims[d][flag] ? s : 0;
      if (dims[d][flag]) s *= dims[d].size;
    }
    return st;
  };
  return { shape, aStrides: strides('fa'), bStrides: strides('fb') };
}

/** `shape` viewed as [outer, r, inner] with the reduced `axes` as the middle block, or undefined when they are not one block. */
export function reduceLayout(shape: readonly number[], axes: readonly number[]): { outer: number; r: number; inner: number } | undefined {
  // Ignore size-1 dims; then the reduced dims must be contiguous.
  const dims = shape.map((size, d) => ({ size, reduced: axes.includes(d) })).filter((d) => d.size !== 1);
  const first = dims.findIndex((d) => d.reduced);
  if (first < 0) return { outer: dims.reduce((p, d) => p * d.size, 1), r: 1, inner: 1 };
  let end = first;
  while (end < dims.length && dims[end].reduced) end++;
  if (dims.slice(end).some((d) => d.reduced)) return undefined;
  const prod = (list: typeof dims) => list.reduce((p, d) => p * d.size, 1);
  return { outer: prod(dims.slice(0, first)), r: prod(dims.slice(first, end)), inner: prod(dims.slice(end)) };
}
