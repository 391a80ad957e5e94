import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activateBackend,
  BACKEND_PREFERENCE,
  copyToBackend,
  BackendError,
  chooseAuto,
  isMissingKernelError,
  probeAll,
  probeBackend,
  withBackend,
  WEBGPU_SYNC_READ_MESSAGE,
  type BackendName,
  type BackendProbe,
} from '../../core/run/backends.js';
import { checkRequested, doctorReport, formatDoctor } from '../../core/run/doctor.js';
import { hasNative, hasWebgpu, nativeSkipReason, webgpuSkipReason } from '../helpers/backends.js';

const require = createRequire(import.meta.url);
function installed(pkg: string): boolean {
  try {
    require.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}
const TFJS_NODE = { tensorflow: '@tensorflow/tfjs-node', 'tensorflow-gpu': '@tensorflow/tfjs-node-gpu' } as const;

/** Deterministic uniform(-1, 1) values already rounded to float32, so the float64 reference sees the same inputs. */
function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** float64 C = A·B for row-major A (m×k) and B (k×n). */
function refMatmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) {
    const aip = a[i * k + p];
    for (let j = 0; j < n; j++) c[i * n + j] += aip * b[p * n + j];
  }
  return c;
}

/** Normwise relative error max|got − want| / max|want|: float32 rounding, not cancellation near 0, sets its size. */
function maxRelErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let diff = 0, scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / scale;
}

// The pipeline each backend must agree on: rows of exp(A·B / 4), summed.
const M = 48, K = 40, N = 32;
const A = seeded(M * K, 1), B = seeded(K * N, 2);
const C64 = refMatmul(A, B, M, K, N);
const ROWSUM64 = Array.from({ length: M }, (_, i) => {
  let s = 0;
  for (let j = 0; j < N; j++) s += Math.exp(C64[i * N + j] / 4);
  return s;
});

async function pipelineOn(name: BackendName): Promise<{ c: Float32Array; rowsum: Float32Array }> {
  const { tf: t } = await activateBackend(name);
  expect(t.getBackend()).toBe(name);
  const [c, r] = t.tidy(() => {
    const c = t.matMul(t.tensor2d(A, [M, K]), t.tensor2d(B, [K, N]));
    return [c, t.sum(t.exp(t.mul(c, 0.25)), 1)];
  });
  const out = { c: (await c.data()) as Float32Array, rowsum: (await r.data()) as Float32Array };
  t.dispose([c, r]);
  return out;
}

let tensorsAtStart = 0;
beforeAll(async () => {
  await activateBackend('cpu'); // tf.memory() needs some backend
  tensorsAtStart = tf.memory().numTensors;
});
afterAll(() => {
  expect(tf.memory().numTensors).toBe(tensorsAtStart);
});

describe('probing', () => {
  it('lists every backend; cpu and wasm are usable, with the wasm files found', async () => {
    const all = await probeAll();
    expect(all.map((p) => p.name)).toEqual([...BACKEND_PREFERENCE]);
    const cpu = all.find((p) => p.name === 'cpu')!;
    const wasm = all.find((p) => p.name === 'wasm')!;
    expect(cpu).toMatchObject({ installed: true, usable: true });
    expect(wasm).toMatchObject({ installed: true, usable: true });
    expect(fs.existsSync(path.join(wasm.detail!.wasmDir, 'tfjs-backend-wasm-simd.wasm'))).toBe(true);
  });

  it('reports tfjs-node / tfjs-node-gpu as not installed, saying why, and the CUDA libraries -gpu needs', async () => {
    for (const name of ['tensorflow', 'tensorflow-gpu'] as const) {
      const p = await probeBackend(name);
      if (installed(TFJS_NODE[name])) {
        expect(p.installed).toBe(true); // a machine where the libtensorflow download worked
      } else {
        expect(p).toMatchObject({ name, installed: false, usable: false });
        expect(p.reason).toBe(
          `package ${TFJS_NODE[name]} is not installed (its install downloads libtensorflow; where that download is blocked npm skips it)`,
        );
      }
    }
    const gpu = await probeBackend('tensorflow-gpu');
    expect(Object.keys(gpu.detail ?? {}).sort()).toEqual(['libcudart.so.11.0', 'libcudnn.so.8']);
    for (const v of Object.values(gpu.detail!)) expect(v === 'missing' || v.startsWith('/')).toBe(true);
  });
});

describe('activation', () => {
  it.skipIf(installed(TFJS_NODE.tensorflow))('an explicit tensorflow request throws BackendError naming the package, and changes nothing', async () => {
    await activateBackend('wasm');
    const err = await activateBackend('tensorflow').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).backend).toBe('tensorflow');
    expect((err as BackendError).reason).toContain('package @tensorflow/tfjs-node is not installed');
    expect((err as BackendError).message).toContain("backend 'tensorflow' is not usable");
    expect(tf.getBackend()).toBe('wasm'); // no silent fallback, no half switch
  });

  it('rejects an unknown backend name', async () => {
    await expect(activateBackend('cuda' as BackendName)).rejects.toThrow(/unknown backend; expected 'auto' or one of/);
  });

  it('auto picks webgpu on a hardware adapter, else (without libtensorflow) native when its addon loads, else wasm, and says why it skipped the others', async () => {
    const webgpu = await probeBackend('webgpu');
    const native = await probeBackend('native');
    const tfjsNode = installed(TFJS_NODE.tensorflow) || installed(TFJS_NODE['tensorflow-gpu']);
    const hardwareGpu = webgpu.usable && webgpu.detail?.software === 'false';
    const active = await activateBackend('auto');
    expect(tf.getBackend()).toBe(active.name === 'tensorflow-gpu' ? 'tensorflow' : active.name);
    if (!tfjsNode) {
      expect(active.reason).toContain('tensorflow-gpu skipped: package @tensorflow/tfjs-node-gpu is not installed');
      if (hardwareGpu) {
        expect(active.name).toBe('webgpu');
        expect(active.adapter?.software).toBe(false);
      } else {
        const want = native.usable ? 'native' : 'wasm';
        expect(active.name).toBe(want);
        expect(active.reason).toMatch(new RegExp(`^auto chose ${want};`));
        if (!native.usable) expect(active.reason).toContain(`native skipped: ${native.reason}`);
        expect(active.reason).toContain('tensorflow skipped: package @tensorflow/tfjs-node is not installed');
        expect(active.reason).toMatch(
          webgpu.usable ? /webgpu skipped: adapter is (lavapipe|llvmpipe|swiftshader|fallback adapter) \(software\)/ : /webgpu skipped: .+/,
        );
      }
    }
  });

  it('auto orders a hardware GPU before libtensorflow on the CPU, and passes over a software adapter', () => {
    const probe = (name: BackendName, usable: boolean, software?: boolean): BackendProbe => ({
      name,
      installed: usable,
      usable,
      ...(software === undefined ? {} : { detail: { software: String(software), softwareName: 'lavapipe', device: 'x' } }),
    });
    const base = [probe('tensorflow-gpu', false), probe('tensorflow', true), probe('wasm', true), probe('cpu', true)];
    expect(chooseAuto([...base, probe('webgpu', true, false)])).toBe('webgpu');
    expect(chooseAuto([...base, probe('webgpu', true, true)])).toBe('tensorflow');
    expect(chooseAuto([probe('tensorflow-gpu', true), ...base.slice(1), probe('webgpu', true, false)])).toBe('tensorflow-gpu');
    expect(chooseAuto([probe('wasm', false), probe('cpu', true)])).toBe('cpu');
    // native (the addon) goes before wasm, and after libtensorflow and a hardware GPU.
    expect(chooseAuto([...base.slice(2), probe('native', true)])).toBe('native');
    expect(chooseAuto([...base.slice(2), probe('native', false)])).toBe('wasm');
    expect(chooseAuto([...base, probe('native', true), probe('webgpu', true, false)])).toBe('webgpu');
    expect(chooseAuto([...base, probe('native', true)])).toBe('tensorflow');
  });

  it('switches back and forth cleanly; the test file\'s own tfjs import sees the same engine', async () => {
    const a = await activateBackend('cpu');
    expect(a.tf.engine()).toBe(tf.engine());
    const x = tf.tensor1d([1, 2, 3]); // made on cpu
    await activateBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const y = tf.add(x, 1); // cpu data moves to wasm on use
    expect(Array.from(await y.data())).toEqual([2, 3, 4]);
    await activateBackend('cpu');
    expect(tf.getBackend()).toBe('cpu');
    tf.dispose([x, y]);
  });
});

describe('cross-backend agreement: rowsum(exp(A·B / 4)) against a float64 reference', () => {
  for (const name of ['cpu', 'wasm', 'native'] as const) {
    it.skipIf(name === 'native' && !hasNative)(`${name} matches to float32 tolerance${name === 'native' && !hasNative ? ` — skipped: ${nativeSkipReason}` : ''}`, async () => {
      const got = await pipelineOn(name);
      expect(maxRelErr(got.c, C64)).toBeLessThan(1e-5);
      expect(maxRelErr(got.rowsum, ROWSUM64)).toBeLessThan(1e-5);
    });
  }
});

describe('cpu fallback helpers', () => {
  it('withBackend runs on the named backend and restores the previous one, also when fn throws', async () => {
    await activateBackend('wasm');
    await expect(
      withBackend(tf, 'cpu', () => {
        expect(tf.getBackend()).toBe('cpu');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(tf.getBackend()).toBe('wasm');
    await expect(
      withBackend(tf, 'cpu', async () => {
        await Promise.resolve();
        throw new Error('async boom');
      }),
    ).rejects.toThrow('async boom');
    expect(tf.getBackend()).toBe('wasm');
    expect(await withBackend(tf, 'cpu', () => tf.getBackend())).toBe('cpu');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('recognises the real missing-kernel error from rfft on wasm, and the cpu fallback computes it', async () => {
    await activateBackend('wasm');
    const before = tf.memory().numTensors;
    const signal = Array.from(seeded(16, 3));
    let caught: unknown;
    try {
      tf.tidy(() => tf.spectral.rfft(tf.tensor1d(signal)));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(Error);
    expect(isMissingKernelError(caught)).toBe('Complex');
    expect(tf.memory().numTensors).toBe(before); // tidy released what the failed op made

    const [re, im] = await withBackend(tf, 'cpu', () =>
      tf.tidy(() => {
        const z = tf.spectral.rfft(tf.tensor1d(signal));
        return [tf.real(z), tf.imag(z)];
      }),
    );
    expect(tf.getBackend()).toBe('wasm');
    // Direct DFT in float64: X_k = Σ x_n e^{-2πikn/N}, k = 0..N/2.
    const n = signal.length;
    const wantRe: number[] = [], wantIm: number[] = [];
    for (let k = 0; k <= n / 2; k++) {
      let sr = 0, si = 0;
      signal.forEach((x, t) => {
        sr += x * Math.cos((2 * Math.PI * k * t) / n);
        si -= x * Math.sin((2 * Math.PI * k * t) / n);
      });
      wantRe.push(sr);
      wantIm.push(si);
    }
    expect(maxRelErr(await re.data(), wantRe)).toBeLessThan(1e-5);
    expect(maxRelErr(await im.data(), wantIm)).toBeLessThan(1e-5);
    tf.dispose([re, im]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('isMissingKernelError ignores other errors', () => {
    expect(isMissingKernelError(new Error('Error in matMul: inner shapes (3) and (4) of Tensors with shapes 2,3 and 4,2 must match'))).toBeUndefined();
    expect(isMissingKernelError(undefined)).toBeUndefined();
    expect(isMissingKernelError("Kernel 'FFT' not registered for backend 'webgpu'")).toBe('FFT');
  });
});

describe('doctor', () => {
  it('reports every backend, the auto choice, the runtime, and fails a GPU request that cannot run', async () => {
    const report = await doctorReport();
    expect(report.backends.map((b) => b.name)).toEqual([...BACKEND_PREFERENCE]);
    expect(report.auto).toBe((await activateBackend('auto')).name);
    expect(report.env).toMatchObject({ node: process.version, platform: process.platform, arch: process.arch, tfjs: tf.version_core });
    const text = formatDoctor(report);
    for (const name of BACKEND_PREFERENCE) expect(text).toMatch(new RegExp(`^${name}\\s+(yes|no)\\s+(yes|NO)`, 'm'));
    expect(text).toContain(`auto → ${report.auto}`);
    expect(checkRequested(report, 'cpu').ok).toBe(true);
    expect(formatDoctor(report, 'cpu')).toMatch(/^PASS: cpu is usable$/m);
    if (!installed(TFJS_NODE['tensorflow-gpu'])) {
      const verdict = checkRequested(report, 'tensorflow-gpu');
      expect(verdict.ok).toBe(false);
      const failText = formatDoctor(report, 'tensorflow-gpu');
      expect(failText).toContain('FAIL: requested backend tensorflow-gpu is not usable: package @tensorflow/tfjs-node-gpu is not installed');
      expect(failText).toContain('to fix: npm install @tensorflow/tfjs-node-gpu');
      expect(failText).toContain('libcudnn.so.8');
    }
  });
});

// Runs wherever Dawn finds an adapter (Mesa >= 25 lavapipe counts); skipped, with the reason, where none exists.
describe.skipIf(!hasWebgpu)(`webgpu${hasWebgpu ? '' : ` — skipped: ${webgpuSkipReason}`}`, () => {
  it('activates, reporting the adapter', async () => {
    const active = await activateBackend('webgpu');
    expect(active.name).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(active.reason).toBe('webgpu requested');
    expect(active.adapter?.description ?? active.adapter?.device).toBeTruthy();
    const looksSoftware = /lavapipe|llvmpipe|swiftshader/i.test(`${active.adapter!.description} ${active.adapter!.device}`);
    if (looksSoftware) expect(active.adapter!.software).toBe(true);
  });

  it('matches the float64 reference on rowsum(exp(A·B / 4))', async () => {
    const got = await pipelineOn('webgpu');
    expect(maxRelErr(got.c, C64)).toBeLessThan(1e-5);
    expect(maxRelErr(got.rowsum, ROWSUM64)).toBeLessThan(2e-5);
  });

  it('a 256×256 matmul matches cpu and the float64 reference', async () => {
    const n = 256;
    const a = seeded(n * n, 4), b = seeded(n * n, 5);
    await activateBackend('webgpu');
    const run = () => tf.tidy(() => tf.matMul(tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n])));
    const onGpu = run();
    const gpuData = await onGpu.data();
    const onCpu = await withBackend(tf, 'cpu', run);
    expect(tf.getBackend()).toBe('webgpu');
    const cpuData = await onCpu.data();
    const want = refMatmul(a, b, n, n, n);
    expect(maxRelErr(gpuData, cpuData)).toBeLessThan(1e-5);
    expect(maxRelErr(gpuData, want)).toBeLessThan(1e-5);
    tf.dispose([onGpu, onCpu]);
  });

  it('switches webgpu → wasm → webgpu with tensors readable across the switch', async () => {
    await activateBackend('webgpu');
    const x = tf.tensor1d([1, -2, 3]);
    const y = tf.abs(x);
    await activateBackend('wasm');
    const z = tf.mul(y, 2);
    expect(Array.from(await z.data())).toEqual([2, 4, 6]);
    await activateBackend('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    const w = tf.neg(z);
    expect(Array.from(await w.data())).toEqual([-2, -4, -6]);
    tf.dispose([x, y, z, w]);
  });

  it('a GPU-resident tensor refuses sync reads with a clear error; copyToBackend feeds a cpu fallback and brings complex results back', async () => {
    await activateBackend('webgpu');
    const before = tf.memory().numTensors;
    const n = 64;
    const a = tf.tensor2d(seeded(n * n, 6), [n, n]);
    const g = tf.matMul(a, a); // large enough to live in a GPU buffer, not on the CPU side
    expect(() => g.dataSync()).toThrow(WEBGPU_SYNC_READ_MESSAGE);
    await expect(withBackend(tf, 'cpu', () => tf.neg(g))).rejects.toThrow(WEBGPU_SYNC_READ_MESSAGE);
    expect(tf.getBackend()).toBe('webgpu');

    const want = Array.from(await g.data());
    const [onCpu] = await copyToBackend(tf, [g], 'cpu');
    const z = await withBackend(tf, 'cpu', () => tf.spectral.rfft(onCpu));
    const [back] = await copyToBackend(tf, [z], 'webgpu');
    expect(back.dtype).toBe('complex64');
    expect(back.shape).toEqual([n, n / 2 + 1]);
    const re = tf.real(back); // runs on webgpu
    const got = await re.data();
    // Bin 0 of each row's rfft is the row sum.
    const rowSums = Array.from({ length: n }, (_, i) => want.slice(i * n, (i + 1) * n).reduce((s, v) => s + v, 0));
    expect(maxRelErr(Array.from({ length: n }, (_, i) => got[i * (n / 2 + 1)]), rowSums)).toBeLessThan(1e-5);
    tf.dispose([a, g, onCpu, z, back, re]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
