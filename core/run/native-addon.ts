/**
 * Finding and loading the optional native addon (native/, built by scripts/build-native.mjs).
 * No tfjs here: `kernelflow doctor` probes the addon through this module alone.
 *
 * Before the addon (and with it libopenblas) loads, two environment variables are set when the
 * user has not set them: `OPENBLAS_CORETYPE=SKYLAKEX` on a CPU with AVX-512 (Debian's OpenBLAS
 * 0.3.21 otherwise picks its Haswell kernels there, at a quarter of the speed), and
 * `OMP_WAIT_POLICY=PASSIVE` (idle OpenMP threads sleep instead of spinning on cores that OpenBLAS
 * and other processes need). `KERNELFLOW_NATIVE_THREADS=n` sets both libraries' thread count;
 * `KERNELFLOW_NATIVE_ADDON=path` loads another build; `KERNELFLOW_DISABLE_NATIVE=1` turns it off.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the addon reports about its libraries. */
export interface NativeInfo {
  /** `openblas_get_config()`, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64". */
  blasConfig: string;
  /** The OpenBLAS kernel family in use, e.g. "SkylakeX" or "Haswell". */
  blasCore: string;
  blasThreads: number;
  ompThreads: number;
}

type F32 = Float32Array;
type I32 = Int32Array;

/** The addon's functions (native/kernelflow_native.c). Each writes into `out`, which the caller allocates. */
export interface NativeAddon {
  matmul(a: F32, b: F32, out: F32, m: number, n: number, k: number, transA: boolean, transB: boolean, aIndex: I32, bIndex: I32): void;
  binary(op: number, a: F32, b: F32, out: F32, shape: I32, aStrides: I32, bStrides: I32): void;
  unary(op: number, x: F32, out: F32, p1: number, p2: number): void;
  reduce(op: number, x: F32, out: F32, outer: number, r: number, inner: number): void;
  transpose(x: F32 | I32, out: F32 | I32, shape: I32, perm: I32): void;
  select(cond: Uint8Array, t: F32, e: F32, out: F32): void;
  /** Cholesky of A + jitter·I (lower triangle read, widened to float64, blocked on dgemm); returns LAPACK's info (0, or the order of the failing minor). */
  potrf(a: F32, out: F32, n: number, jitter?: number): number;
  trsm(t: F32, b: F32, out: F32, n: number, m: number, lower: boolean, transpose: boolean): number;
  syevd(a: F32, values: F32, vectors: F32, n: number): number;
  /** Fused: out[i·n2 + j] = variance·g(‖x1_i − x2_j‖²) for g = STATIONARY_KINDS[kind]; x2 null = x1 (symmetric, exact 0 distance on the diagonal). */
  stationary(x1: F32, x2: F32 | null, n1: number, n2: number, d: number, kind: number, variance: number, out: F32): void;
  /** Fused: the NNGP (into nngp) and NTK (into ntk, null = not wanted) of a dense stack encoded as in native/fused.h. */
  nnDense(x1: F32, x2: F32 | null, n1: number, n2: number, d: number, steps: Float64Array, nngp: F32, ntk: F32 | null): void;
  /** Batched complex FFT over the innermost axis of [batch, n] (native/fft.c), any n ≥ 1, double inside; inverse scaled by 1/n. Absent in addons built before it. */
  fft?(re: F32, im: F32, outRe: F32, outIm: F32, batch: number, n: number, inverse: boolean): void;
  /** Fused kernelised attention with a Toeplitz (RPE) bias by FFT (native/fft.c kf_rpe_fft): fq, fk [bh·n·m], v, out [bh·n·dv], cexp [heads·(2n−1)]. Absent in addons built before it. */
  rpeFft?(fq: F32, fk: F32, v: F32, cexp: F32, out: F32, bh: number, heads: number, n: number, m: number, dv: number, causal: boolean, epsTerm: number): void;
  info(): NativeInfo;
  setThreads(n: number): void;
}

/** Operation codes shared with the C source; the order must match its enums. */
export const BINARY_OPS = ['Add', 'Sub', 'Multiply', 'RealDiv', 'Maximum', 'Minimum', 'Pow', 'SquaredDifference', 'Atan2'] as const;
export const UNARY_OPS = [
  'Exp', 'Log', 'Sqrt', 'Rsqrt', 'Square', 'Abs', 'Neg', 'Sin', 'Cos', 'Acos', 'Erf', 'Tanh', 'Sigmoid',
  'Relu', 'Elu', 'Relu6', 'LeakyRelu', 'ClipByValue', 'Reciprocal', 'Log1p', 'Expm1', 'Asin', 'Atan',
] as const;
export const REDUCE_OPS = ['Sum', 'Mean', 'Max', 'Min'] as const;
/** The fused stationary kernels (native/fused.h KF_RBF…), in the C enum's order. */
export const STATIONARY_KINDS = ['rbf', 'matern12', 'matern32', 'matern52'] as const;

/** How OPENBLAS_CORETYPE came to be what it is. */
export interface CoreTypeChoice {
  value?: string;
  source: 'user' | 'avx512' | 'unset';
}

export type NativeLoad =
  | { ok: true; addon: NativeAddon; path: string; info: NativeInfo; coreType: CoreTypeChoice }
  | { ok: false; reason: string; path?: string; built: boolean };

const ADDON = path.join('native', 'build', 'Release', 'kernelflow_native.node');
const STATUS = path.join('native', 'build', 'status.json');

/** The project root holding native/: searched upwards from this file (source tree or dist/ bundle). */
function projectRoot(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (fs.existsSync(path.join(dir, 'native', 'binding.gyp'))) return dir;
    dir = path.dirname(dir);
  }
  return undefined;
}

/** The path the addon would load from (it may not exist). */
export function nativeAddonPath(): string | undefined {
  if (process.env.KERNELFLOW_NATIVE_ADDON) return path.resolve(process.env.KERNELFLOW_NATIVE_ADDON);
  const root = projectRoot();
  return root && path.join(root, ADDON);
}

/** Why the last build did not produce the addon, from native/build/status.json. */
export function nativeBuildStatus(): { ok: boolean; reason: string } | undefined {
  const root = projectRoot();
  if (!root) return undefined;
  try {
    const s = JSON.parse(fs.readFileSync(path.join(root, STATUS), 'utf8')) as { ok?: unknown; reason?: unknown };
    return { ok: s.ok === true, reason: String(s.reason ?? '') };
  } catch {
    return undefined;
  }
}

/** Whether this CPU has the AVX-512 subsets OpenBLAS's SkylakeX kernels use (Linux: /proc/cpuinfo). */
export function cpuHasAvx512(): boolean {
  try {
    const flags = /^flags\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1].split(/\s+/) ?? [];
    return ['avx512f', 'avx512bw', 'avx512dq', 'avx512vl', 'avx512cd'].every((f) => flags.includes(f));
  } catch {
    return false;
  }
}

/** Sets OPENBLAS_CORETYPE (AVX-512 CPUs, unless the user set it) and OMP_WAIT_POLICY before loading. */
function prepareEnvironment(): CoreTypeChoice {
  if (!process.env.OMP_WAIT_POLICY) process.env.OMP_WAIT_POLICY = 'PASSIVE';
  if (process.env.OPENBLAS_CORETYPE) return { value: process.env.OPENBLAS_CORETYPE, source: 'user' };
  if (cpuHasAvx512()) {
    process.env.OPENBLAS_CORETYPE = 'SKYLAKEX';
    return { value: 'SKYLAKEX', source: 'avx512' };
  }
  return { source: 'unset' };
}

let loaded: NativeLoad | undefined;

/** Loads the addon once per process; never throws. The result says why when it cannot. */
export function loadNativeAddon(): NativeLoad {
  loaded ??= tryLoad();
  return loaded;
}

function tryLoad(): NativeLoad {
  if (process.env.KERNELFLOW_DISABLE_NATIVE) return { ok: false, built: false, reason: 'disabled by KERNELFLOW_DISABLE_NATIVE' };
  const file = nativeAddonPath();
  if (!file) return { ok: false, built: false, reason: 'native/ (the addon\'s sources) not found beside this installation' };
  if (!fs.existsSync(file)) {
    const status = nativeBuildStatus();
    const why = status && !status.ok ? `native addon not built: ${status.reason}` : `native addon not found at ${file}`;
    return { ok: false, built: false, path: file, reason: `${why}; run \`npm run build:native\` after installing a C compiler and libopenblas-dev` };
  }
  const coreType = prepareEnvironment();
  try {
    const addon = createRequire(import.meta.url)(file) as NativeAddon;
    const threads = Number(process.env.KERNELFLOW_NATIVE_THREADS);
    if (Number.isInteger(threads) && threads > 0) addon.setThreads(threads);
    return { ok: true, addon, path: file, info: addon.info(), coreType };
  } catch (err) {
    return { ok: false, built: true, path: file, reason: `native addon fails to load: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/**
 * The native configuration a run manifest records (`backend.detail` when the backend is `native`):
 * OpenBLAS's build and kernel family, the thread counts now in force, OPENBLAS_CORETYPE and
 * whether the fused kernels were allowed. Empty when the addon is not loaded.
 */
export function nativeManifestDetail(): Record<string, string> {
  const load = loadNativeAddon();
  if (!load.ok) return {};
  const info = load.addon.info();
  return {
    blas: info.blasConfig,
    blasCore: info.blasCore,
    blasThreads: String(info.blasThreads),
    ompThreads: String(info.ompThreads),
    OPENBLAS_CORETYPE: load.coreType.value ? `${load.coreType.value} (${load.coreType.source})` : 'unset',
    fusedKernels: process.env.KERNELFLOW_DISABLE_FUSED ? 'off (KERNELFLOW_DISABLE_FUSED)' : 'on',
  };
}
