/**
 * graphs/papers/rf-more-is-better.json (Simon et al. 2023): ReLU random-feature ridge regression with a tuned
 * ridge has test error non-increasing in the number of features. The graph's claim must pass;
 * independently, the infinite-feature limit is computed here in float64 — kernel ridge regression with
 * the ReLU NNGP kernel that φφᵀ converges to (arc-cosine form, tests/kernel/ref.ts), λ tuned over the
 * same grid — and the 2048-feature error must approach it while the 8-feature error stays well above it.
 * With a near-zero ridge the error must peak at D = n (double descent).
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runGraph } from '../../core/index.js';
import { addNoise, chol, choSolve, dot } from '../gp/ref.js';
import { matOf, refNn } from '../kernel/ref.js';
import { useBackend } from '../helpers/backends.js';

const FILE = 'graphs/papers/rf-more-is-better.json';

describe(`${FILE} on wasm`, () => {
  it('more features is better, approaching the kernel limit', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const result = await runGraph(FILE, { backend: 'wasm', cache: false }).result;
    expect(result.status, JSON.stringify(result.manifest.nodes)).toBe('ok');
    const claims = result.manifest.claims;
    expect(claims.map((c) => c.node).sort()).toEqual(['claim_more_is_better', 'claim_peak_above_fewer', 'claim_peak_above_more']);
    for (const c of claims) expect(c.pass, `${c.node}: ${c.message}`).toBe(true);

    const read = async (name: string) => {
      const v = result.outputs[name];
      if (v.kind !== 'tensor') throw new Error(`${name} is not a tensor`);
      return { shape: v.tensor.shape, data: Array.from(await v.tensor.data()) };
    };
    const features = (await read('features')).data;
    const tuned = (await read('errors_tuned')).data;
    const all = await read('errors_all');
    const xTrain = await read('x_train');
    const xTest = await read('x_test');
    const yTrain = (await read('y_train')).data;
    const yTest = (await read('y_test')).data;
    expect(features).toEqual([8, 16, 32, 64, 128, 256, 512, 1024, 2048]);
    // errors_tuned is the minimum over the λ axis of errors_all [λ, D].
    const [nl, nd] = all.shape as [number, number];
    for (let j = 0; j < nd; j++) expect(tuned[j]).toBeCloseTo(Math.min(...Array.from({ length: nl }, (_, i) => all.data[i * nd + j])), 6);

    const g = JSON.parse(readFileSync(FILE, 'utf8'));
    const fp = g.nodes.phi_8_s0.params;
    const bStd = fp.b_std.$param ? g.params[fp.b_std.$param] : fp.b_std;
    const layers = [{ type: 'dense', W_std: fp.W_std, b_std: bStd }, { type: 'relu' }];
    const lambdas: number[] = [...new Set<number>(Object.values(g.nodes as Record<string, any>).filter((n) => n.op === 'gp.krr').map((n) => n.params.lambda).filter((lam) => lam >= 0.01))];
    const X = matOf(xTrain.data, xTrain.shape[1]!);
    const Xt = matOf(xTest.data, xTest.shape[1]!);
    const K = refNn(layers, X, undefined).nngp;
    const Kc = refNn(layers, Xt, X).nngp;
    const limitErrors = lambdas.map((lam) => {
      const alpha = choSolve(chol(addNoise(K, lam)), yTrain);
      return Kc.reduce((s, r, i) => s + (dot(r, alpha) - yTest[i]) ** 2, 0) / yTest.length;
    });
    const limit = Math.min(...limitErrors);
    const msg = `tuned errors ${tuned.map((e) => e.toFixed(4)).join(', ')}; kernel limit ${limit.toFixed(4)} (λ grid ${lambdas.join(', ')})`;
    // Measured: 2048 features at ≈1.0× the limit, 8 features at ≈1.8×.
    expect(tuned[nd - 1], msg).toBeGreaterThan(0.95 * limit);
    expect(tuned[nd - 1], msg).toBeLessThan(1.15 * limit);
    expect(tuned[0], msg).toBeGreaterThan(1.3 * limit);
    // Every model beats predicting the mean of the test targets.
    const mean = yTest.reduce((a, b) => a + b, 0) / yTest.length;
    const variance = yTest.reduce((s, v) => s + (v - mean) ** 2, 0) / yTest.length;
    expect(Math.max(...tuned), msg).toBeLessThan(variance);

    // Double descent: with a near-zero ridge the error is largest where the features just suffice
    // to interpolate the n training points (D = n), as in Simon et al.'s Fig. 1.
    const ridgeless = (await read('errors_ridgeless')).data;
    const n = xTrain.shape[0]!;
    expect(features[ridgeless.indexOf(Math.max(...ridgeless))]).toBe(n);

    result.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);
});
