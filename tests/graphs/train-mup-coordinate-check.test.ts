/**
 * graphs/papers/mup-coordinate-check.json (Yang & Hu 2021): after 10 full-batch GD steps, the RMS change of
 * the hidden pre-activations of a one-hidden-layer tanh network falls like width^−½ under the NTK
 * parameterisation and does not depend on the width under muP. Checks: the run succeeds on wasm with
 * both claims passing and leaks nothing; the slopes, refitted here in float64 from the per-width
 * feature changes, equal the claims' values and lie in the claimed ranges; and the ratio of the
 * feature change under muP to that under NTK grows like √width (√(4096/64) = 8) — the NTK network's
 * features freeze while muP's keep moving.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { runGraph } from '../../core/index.js';
import { useBackend } from '../helpers/backends.js';

function slope(x: number[], y: number[]): number {
  const lx = x.map(Math.log);
  const ly = y.map(Math.log);
  const mx = lx.reduce((a, b) => a + b) / lx.length;
  const my = ly.reduce((a, b) => a + b) / ly.length;
  return lx.reduce((s, v, i) => s + (v - mx) * (ly[i] - my), 0) / lx.reduce((s, v) => s + (v - mx) ** 2, 0);
}

describe('graphs/papers/mup-coordinate-check.json (wasm)', () => {
  it('feature change ∝ width^−½ under ntk, flat under mup', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const result = await runGraph('graphs/papers/mup-coordinate-check.json', { backend: 'wasm', cache: false }).result;
    expect(result.status, JSON.stringify(result.manifest.nodes)).toBe('ok');
    const claims = Object.fromEntries(result.manifest.claims.map((c) => [c.node, c]));
    for (const c of result.manifest.claims) expect(c.pass, `${c.node}: ${c.message}`).toBe(true);
    const read = async (name: string) => {
      const v = result.outputs[name];
      if (v.kind !== 'tensor') throw new Error(`${name} is not a tensor`);
      return Array.from(await v.tensor.data());
    };
    const widths = await read('widths');
    const ntk = await read('feature_change_ntk');
    const mup = await read('feature_change_mup');
    result.dispose();
    expect(tf.memory().numTensors).toBe(before);

    expect(widths).toEqual([64, 256, 1024, 4096]);
    const s = { ntk: slope(widths, ntk), mup: slope(widths, mup) };
    const msg = `ntk ${ntk.map((v) => v.toExponential(3)).join(', ')}; mup ${mup.map((v) => v.toExponential(3)).join(', ')}; slopes ${JSON.stringify(s)}`;
    console.log('mup-coordinate-check:', msg);
    expect(claims.claim_ntk.value as number, msg).toBeCloseTo(s.ntk, 4);
    expect(claims.claim_mup.value as number, msg).toBeCloseTo(s.mup, 4);
    expect(s.ntk, msg).toBeGreaterThan(-0.65);
    expect(s.ntk, msg).toBeLessThan(-0.35);
    expect(Math.abs(s.mup), msg).toBeLessThan(0.1);
    // muP/NTK feature-change ratio grows by √(4096/64) = 8 across the widths (±30%).
    const growth = mup[3] / ntk[3] / (mup[0] / ntk[0]);
    expect(growth, msg).toBeGreaterThan(8 / 1.3);
    expect(growth, msg).toBeLessThan(8 * 1.3);
    // every feature change is positive and finite: the networks did train
    for (const v of [...ntk, ...mup]) expect(Number.isFinite(v) && v > 0).toBe(true);
  }, 60_000);
});
