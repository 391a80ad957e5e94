/**
 * Backends for tests: run one suite on every backend usable on this machine.
 * `KERNELFLOW_TEST_BACKENDS=cpu,wasm` narrows the list.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

export async function useBackend(name: string): Promise<void> {
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    wasm.setWasmPaths(path.join(dir, 'dist') + path.sep);
  }
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} is not usable`);
}

export function testBackends(): string[] {
  const env = process.env.KERNELFLOW_TEST_BACKENDS;
  return env ? env.split(',').map((s) => s.trim()) : ['wasm', 'cpu'];
}
