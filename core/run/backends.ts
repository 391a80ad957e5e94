/**
 * Backend detection and activation. Everything tfjs is loaded with dynamic `import()` on first
 * use, so validating and planning a graph (which import this module's types) never load tfjs.
 *
 * Probing answers "is it installed, could it run here, and if not why"; activation switches the
 * process-wide tfjs engine to one backend. An explicitly requested backend that cannot run is an
 * error (`BackendError`), never a silent fallback; only `'auto'` falls back, and says why.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as TFCore from '@tensorflow/tfjs-core';
import { loadNativeAddon } from './native-addon.js';
import { fixWebgpuTransposeB } from './webgpu-matmul-fix.js';
import { installDawn, probeAdapter, type AdapterInfo } from './webgpu-node.js';

export type { AdapterInfo } from './webgpu-node.js';

/** The tfjs-core module, as handed to operators. */
export type TF = typeof TFCore;

/**
 * Backends kernelflow knows; `tensorflow-gpu` and `tensorflow` are tfjs-node(-gpu), i.e.
 * libtensorflow; `native` is the cpu backend with its hot kernels in kernelflow's own optional
 * addon (native/: OpenBLAS + OpenMP, see core/run/native-backend.ts).
 */
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'webgpu' | 'native' | 'wasm' | 'cpu';

/** All backends, fastest kind first; the order reports list them in. */
export const BACKEND_PREFERENCE: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'webgpu', 'native', 'wasm', 'cpu'];

/**
 * The order `'auto'` tries. It differs from `BACKEND_PREFERENCE` in one place: webgpu on a real
 * (hardware) adapter goes before libtensorflow on the CPU, since a GPU wins at the sizes we run.
 */
export const AUTO_ORDER: readonly BackendName[] = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'native', 'wasm', 'cpu'];

/** What probing one backend found. `detail` holds facts worth printing (adapter, libraries, paths). */
export interface BackendProbe {
  name: BackendName;
  installed: boolean;
  usable: boolean;
  reason?: string;
  detail?: Record<string, string>;
}

/** The backend now active in the tfjs engine, and why it was chosen. */
export interface ActiveBackend {
  name: BackendName;
  tf: TF;
  reason: string;
  adapter?: AdapterInfo;
}

/** A requested backend cannot be used here. `reason` says why (and usually what to install). */
export class BackendError extends Error {
  override name = 'BackendError';
  readonly code = 'backend_unavailable';
  constructor(readonly backend: string, readonly reason: string) {
    super(`backend '${backend}' is not usable: ${reason}`);
  }
}

/** The npm package behind each libtensorflow backend. */
export const NODE_PACKAGES = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
} as const;

/** Shared libraries libtensorflow 2.9.1's GPU build (what tfjs-node-gpu 4.22 downloads) loads. */
export const CUDA_LIBRARIES: readonly { file: string; what: string }[] = [
  { file: 'libcudart.so.11.0', what: 'CUDA 11.2 runtime' },
  { file: 'libcudnn.so.8', what: 'cuDNN 8' },
];

const require = createRequire(import.meta.url);

/** tfjs's own name for a backend: both tfjs-node packages register `'tensorflow'`. */
export function tfBackendName(name: BackendName): string {
  return name === 'tensorflow-gpu' ? 'tensorflow' : name;
}

/** Narrows a string (from a CLI flag or a document) to a `BackendName`. */
export function isBackendName(name: string): name is BackendName {
  return (BACKEND_PREFERENCE as readonly string[]).includes(name);
}

// ---------------------------------------------------------------------------------------------
// Probing

const probes = new Map<BackendName, Promise<BackendProbe>>();

/**
 * Finds out whether `name` is installed and can run on this machine. Cached per process (packages
 * and drivers do not change under a running process). Never throws; never switches backends.
 * Probing a libtensorflow backend loads its native addon, which is the only honest test.
 */
export function probeBackend(name: BackendName): Promise<BackendProbe> {
  if (!isBackendName(name)) return Promise.resolve({ name, installed: false, usable: false, reason: `unknown backend '${name}'` });
  let p = probes.get(name);
  if (!p) {
    p = PROBES[name]().catch((err: unknown): BackendProbe => ({ name, installed: true, usable: false, reason: `probe failed: ${message(err)}` }));
    probes.set(name, p);
  }
  return p;
}

/** Probes every backend, in `BACKEND_PREFERENCE` order. */
export async function probeAll(): Promise<BackendProbe[]> {
  const out: BackendProbe[] = [];
  for (const name of BACKEND_PREFERENCE) out.push(await probeBackend(name));
  return out;
}

const PROBES: Record<BackendName, () => Promise<BackendProbe>> = {
  'tensorflow-gpu': () => probeNode('tensorflow-gpu'),
  tensorflow: () => probeNode('tensorflow'),
  webgpu: probeWebgpu,
  native: probeNative,
  wasm: probeWasm,
  cpu: async () => {
    const installed = resolvePackage('@tensorflow/tfjs-backend-cpu') !== undefined;
    return installed
      ? { name: 'cpu', installed, usable: true }
      : { name: 'cpu', installed, usable: false, reason: 'package @tensorflow/tfjs-backend-cpu is not installed' };
  },
};

/** Which tfjs-node package this process has loaded; both register 'tensorflow', so only one may. */
let loadedNodePackage: keyof typeof NODE_PACKAGES | undefined;

async function probeNode(name: 'tensorflow-gpu' | 'tensorflow'): Promise<BackendProbe> {
  const pkg = NODE_PACKAGES[name];
  const detail = name === 'tensorflow-gpu' ? cudaDetail() : undefined;
  const base = { name, ...(detail ? { detail } : {}) };
  if (resolvePackage(pkg) === undefined) {
    return {
      ...base,
      installed: false,
      usable: false,
      reason: `package ${pkg} is not installed (its install downloads libtensorflow; where that download is blocked npm skips it)`,
    };
  }
  if (detail) {
    const missing = CUDA_LIBRARIES.filter((l) => detail[l.file] === 'missing');
    if (missing.length) {
      // Loading the addon without them would fail anyway, and may print a wall of dlopen errors.
      const list = missing.map((l) => `${l.file} (${l.what})`).join(', ');
      return { ...base, installed: true, usable: false, reason: `libtensorflow 2.9.1 GPU needs ${list}; ldconfig -p does not list it` };
    }
  }
  if (loadedNodePackage && loadedNodePackage !== name) {
    const other = NODE_PACKAGES[loadedNodePackage];
    return { ...base, installed: true, usable: false, reason: `${other} is already loaded in this process and provides the same 'tensorflow' backend` };
  }
  try {
    await import(pkg); // a variable specifier: bundlers leave optional native packages alone
    loadedNodePackage = name;
    return { ...base, installed: true, usable: true };
  } catch (err) {
    return { ...base, installed: true, usable: false, reason: `package ${pkg} is installed but fails to load: ${message(err)}` };
  }
}

/** For each CUDA library: its path per `ldconfig -p` (or LD_LIBRARY_PATH), or 'missing'. */
function cudaDetail(): Record<string, string> {
  const found = findSharedLibraries(CUDA_LIBRARIES.map((l) => l.file));
  return Object.fromEntries(CUDA_LIBRARIES.map((l) => [l.file, found.get(l.file) ?? 'missing']));
}

function findSharedLibraries(files: string[]): Map<string, string> {
  const found = new Map<string, string>();
  let listing = '';
  for (const ldconfig of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      listing = execFileSync(ldconfig, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      break;
    } catch {
      // not on PATH, or not Linux: try the next spelling, then LD_LIBRARY_PATH alone
    }
  }
  for (const line of listing.split('\n')) {
    const m = /^\s*(\S+)\s.*=>\s*(\S+)\s*$/.exec(line);
    if (m && files.includes(m[1]) && !found.has(m[1])) found.set(m[1], m[2]);
  }
  // ldconfig's cache does not see LD_LIBRARY_PATH, which is where CUDA often lives.
  for (const dir of (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)) {
    for (const f of files) if (!found.has(f) && fs.existsSync(path.join(dir, f))) found.set(f, path.join(dir, f));
  }
  return found;
}

async function probeWebgpu(): Promise<BackendProbe> {
  const tfjsPkg = '@tensorflow/tfjs-backend-webgpu';
  if (resolvePackage(tfjsPkg) === undefined) {
    return { name: 'webgpu', installed: false, usable: false, reason: `package ${tfjsPkg} is not installed` };
  }
  const a = await probeAdapter();
  if (!a.ok) {
    const installed = !a.reason.startsWith('package webgpu');
    return { name: 'webgpu', installed, usable: false, reason: a.reason };
  }
  const { vendor, architecture, device, description, software, softwareName } = a.info;
  const detail: Record<string, string> = { vendor, architecture, device, description, software: String(software) };
  if (softwareName) detail.softwareName = softwareName;
  return { name: 'webgpu', installed: true, usable: true, detail };
}

/** `native` is usable when its addon loads (which also loads OpenBLAS); the reason says why not. */
async function probeNative(): Promise<BackendProbe> {
  if (resolvePackage('@tensorflow/tfjs-backend-cpu') === undefined) {
    return { name: 'native', installed: false, usable: false, reason: 'package @tensorflow/tfjs-backend-cpu (whose storage native reuses) is not installed' };
  }
  const load = loadNativeAddon();
  if (!load.ok) return { name: 'native', installed: load.built, usable: false, reason: load.reason, ...(load.path ? { detail: { addon: load.path } } : {}) };
  const { info, coreType } = load;
  const detail: Record<string, string> = {
    addon: load.path,
    blas: info.blasConfig,
    blasCore: info.blasCore,
    blasThreads: String(info.blasThreads),
    ompThreads: String(info.ompThreads),
    OPENBLAS_CORETYPE: coreType.value ? `${coreType.value} (${coreType.source === 'user' ? 'set by the user' : 'set by kernelflow: the CPU has AVX-512'})` : 'unset',
  };
  return { name: 'native', installed: true, usable: true, detail };
}

async function probeWasm(): Promise<BackendProbe> {
  if (resolvePackage('@tensorflow/tfjs-backend-wasm') === undefined) {
    return { name: 'wasm', installed: false, usable: false, reason: 'package @tensorflow/tfjs-backend-wasm is not installed' };
  }
  const dir = wasmDir();
  if (!dir) {
    return { name: 'wasm', installed: true, usable: false, reason: 'tfjs-backend-wasm*.wasm files not found (set KERNELFLOW_WASM_DIR to their folder)' };
  }
  return { name: 'wasm', installed: true, usable: true, detail: { wasmDir: dir } };
}

/**
 * The folder holding `tfjs-backend-wasm*.wasm`: `KERNELFLOW_WASM_DIR`, else the installed
 * package's `dist/` (resolved from this file, so it also works from a bundle next to
 * node_modules), else this file's own folder (a bundle that ships the .wasm files beside it).
 */
export function wasmDir(): string | undefined {
  const pkgJson = resolvePackage('@tensorflow/tfjs-backend-wasm');
  const candidates = [
    process.env.KERNELFLOW_WASM_DIR,
    pkgJson && path.join(path.dirname(pkgJson), 'dist'),
    path.dirname(fileURLToPath(import.meta.url)),
  ];
  return candidates.find((d): d is string => !!d && fs.existsSync(path.join(d, 'tfjs-backend-wasm.wasm')));
}

/** The path of `pkg`'s package.json (or main), or undefined when it is not installed. */
function resolvePackage(pkg: string): string | undefined {
  for (const id of [`${pkg}/package.json`, pkg]) {
    try {
      return require.resolve(id);
    } catch {
      // not resolvable this way; an `exports` map may still allow the other
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Loading and activation

let wasmConfigured = false;

/**
 * Imports tfjs-core and registers (without selecting) the tfjs backend behind `name`, doing the
 * set-up each needs first: Dawn before the webgpu backend, wasm paths before the wasm backend.
 * Throws `BackendError` when it cannot.
 */
export async function loadBackend(name: BackendName): Promise<TF> {
  const tf = await import('@tensorflow/tfjs-core');
  switch (name) {
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      break;
    case 'native': {
      const load = loadNativeAddon();
      if (!load.ok) throw new BackendError(name, load.reason);
      const { registerNativeBackend } = await import('./native-backend.js');
      await registerNativeBackend(tf, load.addon);
      break;
    }
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      if (!wasmConfigured) {
        const dir = wasmDir();
        if (!dir) throw new BackendError(name, 'tfjs-backend-wasm*.wasm files not found (set KERNELFLOW_WASM_DIR to their folder)');
        wasm.setWasmPaths(dir + path.sep); // tfjs would otherwise fetch() them relative to a page URL
        wasmConfigured = true;
      }
      break;
    }
    case 'webgpu':
      // The tfjs webgpu backend registers itself at import time only if navigator.gpu exists.
      await installDawn();
      explainSyncReads(await import('@tensorflow/tfjs-backend-webgpu'));
      if (!tf.findBackendFactory('webgpu')) {
        throw new BackendError(name, '@tensorflow/tfjs-backend-webgpu was imported before navigator.gpu was set up, so it never registered');
      }
      fixWebgpuTransposeB(tf);
      break;
    case 'tensorflow':
    case 'tensorflow-gpu': {
      const p = await probeBackend(name); // loads the package, once
      if (!p.usable) throw new BackendError(name, p.reason ?? 'not usable');
      break;
    }
  }
  return tf;
}

/** The error a synchronous read of a GPU-resident webgpu tensor raises in Node. */
export const WEBGPU_SYNC_READ_MESSAGE =
  'synchronous read of a webgpu tensor (dataSync/arraySync/bufferSync, or using it on another backend): ' +
  'WebGPU has no synchronous read-back and tfjs\'s workaround needs OffscreenCanvas, which Node lacks. ' +
  'Use `await t.data()` / `await t.array()`, and copyToBackend() before a cpu fallback';

let syncReadsExplained = false;

/**
 * tfjs's webgpu `readSync` reads back through an OffscreenCanvas, which Node lacks, and fails with
 * a bare "OffscreenCanvas is not defined". Rethrow that as an error that says what to do instead.
 */
function explainSyncReads(mod: { WebGPUBackend: { prototype: { readSync(dataId: object): unknown } } }): void {
  if (syncReadsExplained || typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas !== 'undefined') return;
  syncReadsExplained = true;
  const proto = mod.WebGPUBackend.prototype;
  const readSync = proto.readSync;
  proto.readSync = function (this: unknown, dataId: object) {
    try {
      return readSync.call(this, dataId);
    } catch (err) {
      // It throws before touching the GPU, so nothing is left half done.
      if (err instanceof ReferenceError && err.message.includes('OffscreenCanvas')) throw new Error(WEBGPU_SYNC_READ_MESSAGE, { cause: err });
      throw err;
    }
  };
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Makes `request` the active tfjs backend and returns tfjs-core with it selected.
 * `'auto'` tries tensorflow-gpu, webgpu on a hardware adapter, tensorflow, native, wasm, cpu, and its
 * `reason` lists why each earlier one was skipped. A named backend that is not installed or not
 * usable throws `BackendError`. Calls are serialised; a later call switches cleanly.
 */
export function activateBackend(request: 'auto' | BackendName): Promise<ActiveBackend> {
  const run = queue.then(() => activate(request));
  queue = run.catch(() => undefined);
  return run;
}

async function activate(request: 'auto' | BackendName): Promise<ActiveBackend> {
  if (request !== 'auto') {
    if (!isBackendName(request)) {
      throw new BackendError(request, `unknown backend; expected 'auto' or one of ${BACKEND_PREFERENCE.join(', ')}`);
    }
    const p = await probeBackend(request);
    if (!p.usable) throw new BackendError(request, p.reason ?? 'not usable');
    return select(request, `${request} requested`);
  }
  const skipped: string[] = [];
  for (const name of AUTO_ORDER) {
    const why = autoSkipReason(await probeBackend(name));
    if (why) {
      skipped.push(`${name} skipped: ${why}`);
      continue;
    }
    try {
      return await select(name, [`auto chose ${name}`, ...skipped].join('; '));
    } catch (err) {
      // Probed fine but failed to initialise: auto may move on, and says so.
      skipped.push(`${name} skipped: ${err instanceof BackendError ? err.reason : message(err)}`);
    }
  }
  throw new BackendError('auto', `no backend is usable: ${skipped.join('; ')}`);
}

/** Why `'auto'` passes over a probed backend, or undefined when it would take it. */
export function autoSkipReason(p: BackendProbe): string | undefined {
  if (!p.usable) return p.reason ?? 'not usable';
  if (p.name === 'webgpu' && p.detail?.software === 'true') {
    return `adapter is ${p.detail.softwareName ?? p.detail.device} (software)`;
  }
  return undefined;
}

/** What `'auto'` would pick given these probes (all of AUTO_ORDER), without activating anything. */
export function chooseAuto(all: readonly BackendProbe[]): BackendName {
  for (const name of AUTO_ORDER) {
    const p = all.find((q) => q.name === name);
    if (p && !autoSkipReason(p)) return name;
  }
  return 'cpu';
}

async function select(name: BackendName, reason: string): Promise<ActiveBackend> {
  const tf = await loadBackend(name);
  // setBackend returns false (and tfjs warns with the cause) when the backend's factory throws.
  if (!(await tf.setBackend(tfBackendName(name)))) {
    throw new BackendError(name, `tf.setBackend('${tfBackendName(name)}') failed: the backend did not initialise (tfjs printed the cause)`);
  }
  await tf.ready();
  let adapter: AdapterInfo | undefined;
  if (name === 'webgpu') {
    const a = await probeAdapter();
    if (a.ok) adapter = a.info;
  }
  return { name, tf, reason, ...(adapter ? { adapter } : {}) };
}

// ---------------------------------------------------------------------------------------------
// CPU fallback for kernels a backend lacks

/**
 * Runs `fn` with the global tfjs backend switched to `name`, then switches back (also when `fn`
 * throws). Tensors made inside stay on `name`'s backend and remain readable afterwards. The
 * backend is process-wide, so anything else running tfjs ops meanwhile would land on `name` too:
 * the engine serialises its calls (one operator at a time while a fallback runs).
 */
export async function withBackend<T>(tf: TF, name: BackendName | string, fn: () => T | Promise<T>): Promise<T> {
  const target = isBackendName(name) ? tfBackendName(name) : name;
  const previous = tf.getBackend();
  if (previous === target) return await fn();
  if (isBackendName(name)) await loadBackend(name);
  if (!(await tf.setBackend(target))) throw new BackendError(name, `tf.setBackend('${target}') failed`);
  try {
    return await fn();
  } finally {
    await tf.setBackend(previous);
  }
}

/**
 * Copies `tensors` onto backend `name`, reading each with `await t.data()` (the one read webgpu
 * supports in Node) and re-creating it there. Use it before running a kernel on a cpu fallback:
 * a webgpu tensor handed straight to the cpu backend needs a synchronous read, which fails. Use it
 * again to bring complex64 results back (tfjs cannot move complex data between backends itself).
 * The copies belong to the caller (dispose them); the originals are untouched.
 */
export async function copyToBackend<T extends TFCore.Tensor>(tf: TF, tensors: readonly T[], name: BackendName | string): Promise<T[]> {
  const values = await Promise.all(tensors.map((t) => t.data()));
  return withBackend(tf, name, () =>
    tensors.map((t, i) => {
      if (t.dtype !== 'complex64') return tf.tensor(values[i], t.shape, t.dtype) as T;
      // complex64 reads back interleaved (re, im, re, im, …) and can only be built from two halves.
      const v = values[i] as Float32Array;
      return tf.tidy(() => tf.reshape(tf.complex(v.filter((_, j) => j % 2 === 0), v.filter((_, j) => j % 2 === 1)), t.shape)) as T;
    }),
  );
}

/**
 * Recognises tfjs's "Kernel 'X' not registered for backend 'Y'" error and returns the kernel
 * name X (e.g. 'Complex' from `tf.spectral.rfft` on wasm); undefined for any other error.
 */
export function isMissingKernelError(err: unknown): string | undefined {
  const text = err instanceof Error ? err.message : typeof err === 'string' ? err : undefined;
  return text ? /Kernel '([^']+)' not registered for backend '[^']*'/.exec(text)?.[1] : undefined;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
