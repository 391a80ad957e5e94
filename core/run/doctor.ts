/**
 * `kernelflow doctor`: what each backend needs, what this machine has, and what `'auto'` would
 * pick. Probing loads no tfjs backend except the libtensorflow addons (the only honest test).
 */
import { createRequire } from 'node:module';
import {
  BACKEND_PREFERENCE,
  chooseAuto,
  CUDA_LIBRARIES,
  NODE_PACKAGES,
  probeAll,
  type BackendName,
  type BackendProbe,
} from './backends.js';

/** Every backend's probe, the backend `'auto'` would choose, and the runtime it was taken on. */
export interface DoctorReport {
  backends: BackendProbe[];
  auto: BackendName;
  env: { node: string; platform: string; arch: string; tfjs: string };
}

/** Probes every backend (in `BACKEND_PREFERENCE` order) and describes the runtime. */
export async function doctorReport(): Promise<DoctorReport> {
  const backends = await probeAll();
  return {
    backends,
    auto: chooseAuto(backends),
    env: { node: process.version, platform: process.platform, arch: process.arch, tfjs: tfjsVersion() },
  };
}

/** What to install so that `name` becomes usable. */
export function installHint(name: BackendName): string {
  switch (name) {
    case 'tensorflow-gpu':
      return (
        `npm install ${NODE_PACKAGES['tensorflow-gpu']} where its libtensorflow 2.9.1 download can reach storage.googleapis.com, ` +
        `plus ${CUDA_LIBRARIES.map((l) => `${l.what} (${l.file})`).join(' and ')} on the library path`
      );
    case 'tensorflow':
      return `npm install ${NODE_PACKAGES.tensorflow} where its libtensorflow 2.9.1 download can reach storage.googleapis.com`;
    case 'webgpu':
      return (
        'a Vulkan driver Dawn accepts: the GPU vendor\'s (NVIDIA: its driver\'s Vulkan ICD) plus libvulkan1, or for a software ' +
        'adapter on Debian bookworm `apt-get install -t bookworm-backports mesa-vulkan-drivers` (Mesa >= 25; bookworm\'s own 22.3 is rejected)'
      );
    case 'native':
      return 'a C compiler and OpenBLAS (Debian/Ubuntu: `apt-get install build-essential libopenblas-dev`), then `npm run build:native`';
    case 'wasm':
      return 'npm ci (reinstall @tensorflow/tfjs-backend-wasm with its dist/*.wasm files)';
    case 'cpu':
      return 'npm ci (reinstall @tensorflow/tfjs-backend-cpu)';
  }
}

/**
 * Whether a requested backend can run here. A GPU request (or any explicit one) that cannot is a
 * failure, with the reason and what to install; `'auto'` always succeeds (cpu is always there).
 */
export function checkRequested(report: DoctorReport, request: 'auto' | BackendName): { ok: boolean; message: string } {
  if (request === 'auto') return { ok: true, message: `auto would use ${report.auto}` };
  const p = report.backends.find((b) => b.name === request);
  if (p?.usable) return { ok: true, message: `${request} is usable` };
  return {
    ok: false,
    message: `FAIL: requested backend ${request} is not usable: ${p?.reason ?? 'unknown backend'}\n  to fix: ${installHint(request)}`,
  };
}

/**
 * A readable table of the report. With `request`, ends with a PASS/FAIL line for it; a GPU
 * backend that was asked for and cannot run reads as a failure with what to install.
 */
export function formatDoctor(report: DoctorReport, request: 'auto' | BackendName = 'auto'): string {
  const rows = BACKEND_PREFERENCE.map((name) => {
    const p = report.backends.find((b) => b.name === name) ?? { name, installed: false, usable: false, reason: 'not probed' };
    return [name, p.installed ? 'yes' : 'no', p.usable ? 'yes' : 'NO', notes(p)];
  });
  const header = ['backend', 'installed', 'usable', 'notes'];
  const widths = header.slice(0, 3).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c)).join('  ').trimEnd();
  const { env } = report;
  const out = [
    `kernelflow doctor — node ${env.node} ${env.platform}/${env.arch}, tfjs ${env.tfjs}`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w)).concat('-----')),
    ...rows.map(line),
    '',
    `auto → ${report.auto}`,
  ];
  const verdict = checkRequested(report, request);
  if (request !== 'auto') out.push(verdict.ok ? `PASS: ${verdict.message}` : verdict.message);
  return out.join('\n');
}

function notes(p: BackendProbe): string {
  const d = p.detail ?? {};
  const parts: string[] = [];
  if (p.name === 'webgpu' && d.description !== undefined) {
    parts.push(`adapter: ${d.description || d.device} (vendor ${d.vendor || '?'}, ${d.architecture || '?'})`);
    if (d.software === 'true') parts.push('software rasterizer: auto skips it');
  } else if (p.name === 'tensorflow-gpu') {
    parts.push(CUDA_LIBRARIES.map((l) => `${l.file}: ${d[l.file] ?? '?'}`).join(', '));
  } else if (p.name === 'native' && p.usable) {
    parts.push(`${d.blas} (core ${d.blasCore}, ${d.blasThreads} BLAS threads, ${d.ompThreads} OpenMP threads; OPENBLAS_CORETYPE ${d.OPENBLAS_CORETYPE})`);
    // Fused kernels: kernel.rbf and dense kernel.nn stacks in one C pass (operators/kernel/fused-hook.ts).
    parts.push(`fused kernels ${process.env.KERNELFLOW_DISABLE_FUSED ? 'off (KERNELFLOW_DISABLE_FUSED)' : 'on (kernel.rbf, dense kernel.nn)'}`);
  } else if (d.wasmDir) {
    parts.push(`wasm files: ${d.wasmDir}`);
  }
  if (!p.usable && p.reason) parts.unshift(p.reason);
  return parts.join('; ');
}

function tfjsVersion(): string {
  try {
    // Read the package.json rather than importing tfjs: the doctor should not need it to load.
    return (createRequire(import.meta.url)('@tensorflow/tfjs-core/package.json') as { version: string }).version;
  } catch {
    return 'not installed';
  }
}
