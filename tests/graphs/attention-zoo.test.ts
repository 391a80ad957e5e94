/**
 * graphs/attention-zoo.json: every attention variant on one input and its error against softmax
 * attention. Checks: the run succeeds on wasm (rpe_fft falls back to cpu, and the manifest says so),
 * leaks nothing, softmax matches a float64 reference computed here from x, every reported error
 * equals ‖out − ref‖/‖ref‖ recomputed here in float64, and the claims: FAVOR+ (an unbiased softmax
 * estimate, 256 features) is closer to softmax than elu/relu linear attention and than rpe_fft's
 * 16-feature FAVOR+ (b = 0); sigmoid attention with the −ln N offset is close to softmax at small logits.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { StoredValue } from '../../core/cache/stored.js';
import { createRegistry, isOperator, runGraph } from '../../core/index.js';
import * as attention from '../../operators/attention/index.js';
import { useBackend } from '../helpers/backends.js';

function data(v: StoredValue | undefined): number[] {
  if (!v || v.kind !== 'tensor') throw new Error('expected a tensor output');
  return Array.from(v.tensor.data);
}

describe('graphs/attention-zoo.json', () => {
  it('runs on wasm and shows each variant’s distance to softmax attention', async () => {
    await useBackend('wasm');
    const registry = await createRegistry();
    for (const op of Object.values(attention).filter(isOperator)) registry.register(op, 'attention');
    const before = tf.memory().numTensors;
    const r = await runGraph('graphs/attention-zoo.json', { backend: 'wasm', cache: false, registry }).result;
    expect(r.status, JSON.stringify(r.manifest.nodes)).toBe('ok');
    expect(r.manifest.nodes.rpe_fft.fallback).toBe('cpu');
    const s = r.stored;
    r.dispose();
    expect(tf.memory().numTensors).toBe(before);

    // softmax against a float64 reference from x
    const [H, N, D] = [2, 32, 8];
    const x = data(s.x);
    const ref = new Array<number>(H * N * D).fill(0);
    for (let h = 0; h < H; h++)
      for (let i = 0; i < N; i++) {
        const l = Array.from({ length: N }, (_, j) => {
          let d = 0;
          for (let c = 0; c < D; c++) d += x[(h * N + i) * D + c] * x[(h * N + j) * D + c];
          return d / Math.sqrt(D);
        });
        const m = Math.max(...l);
        const e = l.map((z) => Math.exp(z - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j < N; j++) for (let c = 0; c < D; c++) ref[(h * N + i) * D + c] += (e[j] / z) * x[(h * N + j) * D + c];
      }
    const softmax = data(s.softmax);
    expect(Math.max(...softmax.map((v, i) => Math.abs(v - ref[i])))).toBeLessThan(1e-5);

    const rel = (a: number[], b: number[]) => Math.sqrt(a.reduce((t, v, i) => t + (v - b[i]) ** 2, 0) / b.reduce((t, v) => t + v * v, 0));
    const err: Record<string, number> = {};
    for (const name of ['sigmoid', 'neighborhood', 'linear_elu', 'linear_relu', 'favor', 'soft', 'rpe_fft', 'ntk_prefix', 's2']) {
      const base = name === 'ntk_prefix' || name === 's2' ? data(s.softmax_causal) : softmax;
      err[name] = data(s[`err_${name}`])[0];
      expect(err[name], name).toBeCloseTo(rel(data(s[name]), base), 4);
      expect(Number.isFinite(err[name])).toBe(true);
    }
    console.log('attention-zoo errors vs softmax:', JSON.stringify(Object.fromEntries(Object.entries(err).map(([k, v]) => [k, +v.toPrecision(3)]))));
    // FAVOR+ estimates softmax attention (better with more features); elu/relu linear attention does not
    expect(err.favor).toBeLessThan(err.linear_elu);
    expect(err.favor).toBeLessThan(err.linear_relu);
    expect(err.favor).toBeLessThan(err.rpe_fft); // 256 vs 16 features, b = 0
    // with the −ln N offset and small logits, sigmoid weights ≈ e^l/N ≈ softmax weights
    expect(err.sigmoid).toBeLessThan(0.15);
  });
});
