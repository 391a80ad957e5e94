/**
 * WebGPU in Node: installs Dawn (the `webgpu` npm package) as `navigator.gpu` and asks it for an
 * adapter. Nothing here loads tfjs; `backends.ts` imports the tfjs webgpu backend only after
 * `installDawn()` has run, because that backend registers itself only if `navigator.gpu` exists
 * at import time.
 */
import { createRequire } from 'node:module';

/** What a WebGPU adapter says about itself, plus whether it is a CPU rasterizer in disguise. */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for lavapipe/llvmpipe/SwiftShader or an adapter Dawn flags as a fallback. */
  software: boolean;
  /** The software rasterizer's name when `software` is true (e.g. 'llvmpipe'). */
  softwareName?: string;
}

/** The adapter found, or why there is none. */
export type AdapterProbe = { ok: true; info: AdapterInfo } | { ok: false; reason: string };

// Just the slice of the WebGPU API used here: keeps this file free of the DOM/@webgpu typings.
interface MinimalAdapter {
  info?: Partial<Record<'vendor' | 'architecture' | 'device' | 'description', string>> & { isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  requestDevice(descriptor?: object): Promise<{ destroy(): void }>;
}
interface MinimalGPU {
  requestAdapter(options?: object): Promise<MinimalAdapter | null>;
}
interface DawnModule {
  create(flags: string[]): MinimalGPU;
  globals: Record<string, unknown>;
}

const SOFTWARE = /lavapipe|llvmpipe|swiftshader/i;

let dawn: Promise<MinimalGPU> | undefined;
let adapter: Promise<AdapterProbe> | undefined;

/**
 * Installs Dawn's WebGPU globals and `globalThis.navigator = { gpu }`, once per process (later
 * calls return the same GPU object). `KERNELFLOW_DAWN_NODE` may point at a `dawn.node` file to
 * use instead of the `webgpu` package (for a bundle carried to a machine without node_modules).
 * Rejects when neither can be loaded.
 */
export function installDawn(): Promise<MinimalGPU> {
  dawn ??= (async () => {
    const g = globalThis as unknown as { navigator?: { gpu?: MinimalGPU } };
    // Someone (a browser-like host, or a previous copy of this module in a bundle) already did it.
    if (g.navigator?.gpu) return g.navigator.gpu;
    const explicit = process.env.KERNELFLOW_DAWN_NODE;
    const mod: DawnModule = explicit
      ? (createRequire(import.meta.url)(explicit) as DawnModule)
      : ((await import('webgpu')) as unknown as DawnModule);
    Object.assign(globalThis, mod.globals);
    const gpu = mod.create([]);
    // Node 20 has no navigator; Node 21+ has one (a getter), which we extend instead of replacing.
    if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    return gpu;
  })();
  return dawn;
}

/**
 * Requests a high-performance adapter and a device from it (then destroys the device), so that a
 * driver Dawn rejects at device creation reads as "no adapter" too. Cached for the process.
 */
export function probeAdapter(): Promise<AdapterProbe> {
  adapter ??= (async (): Promise<AdapterProbe> => {
    let gpu: MinimalGPU;
    try {
      gpu = await installDawn();
    } catch (err) {
      const missing = (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
      return { ok: false, reason: missing ? 'package webgpu (Dawn for Node) is not installed' : `Dawn failed to load: ${message(err)}` };
    }
    const a = await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
    if (!a) {
      return {
        ok: false,
        reason: 'Dawn found no WebGPU adapter (no Vulkan driver it accepts: install a GPU Vulkan driver, or Mesa >= 25 lavapipe)',
      };
    }
    const info = describeAdapter(a);
    try {
      (await a.requestDevice()).destroy();
    } catch (err) {
      return { ok: false, reason: `adapter ${info.description || info.device} refused a device: ${message(err)}` };
    }
    return { ok: true, info };
  })();
  return adapter;
}

function describeAdapter(a: MinimalAdapter): AdapterInfo {
  const i = a.info ?? {};
  const base = {
    vendor: i.vendor ?? '',
    architecture: i.architecture ?? '',
    device: i.device ?? '',
    description: i.description ?? '',
  };
  const match = SOFTWARE.exec(`${base.description} ${base.device}`);
  const fallback = i.isFallbackAdapter === true || a.isFallbackAdapter === true || base.architecture === 'software';
  return { ...base, software: !!match || fallback, ...(match || fallback ? { softwareName: match ? match[0].toLowerCase() : 'fallback adapter' } : {}) };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
