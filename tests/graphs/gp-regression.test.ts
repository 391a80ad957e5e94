/**
 * graphs/gp-regression.json: gp.fit → gp.exact through `$from` params, run end to end with a
 * registry holding the gp operators. Claims: the fitted noise is near the true 0.01, the mean
 * tracks sin(2x) inside the data range, the variance grows outside it, and the run leaks nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runGraph } from '../../core/index.js';
import { createRegistry } from '../../core/prepare.js';
import { isOperator } from '../../core/operator/index.js';
import * as gp from '../../operators/gp/index.js';
import { useBackend } from '../helpers/backends.js';

async function gpRegistry() {
  const r = await createRegistry();
  for (const op of Object.values(gp)) if (isOperator(op) && !r.get(op.id)) r.register(op, 'test');
  return r;
}

describe('graphs/gp-regression.json on wasm', () => {
  it('fits and predicts a sinusoid; uncertainty grows off the data', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const registry = await gpRegistry();
    const result = await runGraph('graphs/gp-regression.json', { backend: 'wasm', cache: false, registry }).result;
    expect(result.status, JSON.stringify(result.manifest.nodes)).toBe('ok');
    const read = async (name: string) => {
      const value = result.outputs[name];
      if (value.kind !== 'tensor') throw new Error(`${name} is not a tensor`);
      return Array.from(await value.tensor.data());
    };
    const xt = await read('x_test');
    const mean = await read('mean');
    const v = await read('var');
    const graph = JSON.parse(readFileSync('graphs/gp-regression.json', 'utf8'));
    const xs: number[] = graph.nodes.x.params.value.map((r: number[]) => r[0]);
    const inside = xt.map((x, i) => ({ x, i })).filter(({ x }) => x > Math.min(...xs) && x < Math.max(...xs));
    const outside = xt.map((x, i) => ({ x, i })).filter(({ x }) => x < -3.6 || x > 3.6);
    // 40 noisy points (σ = 0.1): the posterior mean tracks sin(2x) inside the data (RMS below the noise).
    const err = inside.map(({ x, i }) => mean[i] - Math.sin(2 * x));
    expect(Math.sqrt(err.reduce((s, e) => s + e * e, 0) / err.length)).toBeLessThan(0.08);
    expect(Math.max(...err.map(Math.abs))).toBeLessThan(0.2);
    const maxIn = Math.max(...inside.map(({ i }) => v[i]));
    const minOut = Math.min(...outside.map(({ i }) => v[i]));
    expect(minOut).toBeGreaterThan(5 * maxIn);
    expect(Number.isFinite((await read('lml'))[0])).toBe(true);
    result.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});
