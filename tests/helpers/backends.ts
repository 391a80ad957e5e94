/**
 * Backends for tests: run one suite on every backend usable on this machine — wasm and cpu
 * always, native when its addon is built and loads, webgpu when Dawn finds an adapter.
 * `KERNELFLOW_TEST_BACKENDS=cpu,wasm` narrows the list.
 */
import { activateBackend, isBackendName, probeBackend } from '../../core/run/backends.js';

const listed = process.env.KERNELFLOW_TEST_BACKENDS?.split(',').map((s) => s.trim()).filter(Boolean);
const narrowed = listed?.length ? listed : undefined;

// Top-level await: `testBackends()` is called while vitest collects suites, so it must be sync.
// Skip the Dawn probe (≈0.2 s per test file) when the list is narrowed without webgpu.
const webgpuProbe = narrowed && !narrowed.includes('webgpu') ? undefined : await probeBackend('webgpu');

/** True when webgpu suites should run: Dawn found an adapter here (hardware or software). */
export const hasWebgpu = webgpuProbe?.usable ?? false;

/** Why webgpu suites skip here ('' when they run): put it in the skipped suite's title. */
export const webgpuSkipReason = hasWebgpu
  ? ''
  : webgpuProbe
    ? `no WebGPU adapter: ${webgpuProbe.reason}`
    : 'webgpu not in KERNELFLOW_TEST_BACKENDS';

// Loading the addon is cheap (no tfjs); skip it when the list is narrowed without native.
const nativeProbe = narrowed && !narrowed.includes('native') ? undefined : await probeBackend('native');

/** True when native suites should run: the addon (native/) is built and loads here. */
export const hasNative = nativeProbe?.usable ?? false;

/** Why native suites skip here ('' when they run): put it in the skipped suite's title. */
export const nativeSkipReason = hasNative
  ? ''
  : nativeProbe
    ? `native addon unavailable: ${nativeProbe.reason}`
    : 'native not in KERNELFLOW_TEST_BACKENDS';

/** Makes `name` the active tfjs backend (throws BackendError when it is not usable here). */
export async function useBackend(name: string): Promise<void> {
  if (!isBackendName(name)) throw new Error(`unknown backend '${name}'`);
  await activateBackend(name);
}

/** The backends a cross-backend suite should loop over on this machine. */
export function testBackends(): string[] {
  return narrowed ?? ['wasm', 'cpu', ...(hasNative ? ['native'] : []), ...(hasWebgpu ? ['webgpu'] : [])];
}
