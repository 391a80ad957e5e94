/**
 * graphs/papers/ntk-convergence.json: the empirical NTK of one-hidden-layer ReLU networks approaches the
 * analytic NTK (kernel.nn) with an error ∝ width^−½ — the slope of log(RMS error over 4 seeds)
 * against log(width), fitted over widths 64…4096, lies in [−0.65, −0.35]. The analytic kernel itself
 * is checked against a float64 evaluation of the ReLU NTK recursion on the graph's inputs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { collectOperators } from '../../core/operator/plugins.js';
import { createRegistry } from '../../core/prepare.js';
import { runGraph } from '../../core/index.js';
import * as kernel from '../../operators/kernel/index.js';
import { useBackend } from '../helpers/backends.js';

const WIDTHS = [64, 128, 256, 512, 1024, 2048, 4096];

/** One hidden ReLU layer, NTK parameterisation, float64: K₁ = W²·x·x′/d + b², then relu, then dense. */
function reluNtk(x: number[][], W: number, b: number): number[][] {
  const d = x[0].length;
  const K1 = x.map((u) => x.map((v) => (W * W * u.reduce((s, ui, i) => s + ui * v[i], 0)) / d + b * b));
  return K1.map((row, i) =>
    row.map((k, j) => {
      const q = Math.sqrt(K1[i][i] * K1[j][j]);
      const th = i === j ? 0 : Math.atan2(Math.sqrt(Math.max(K1[i][i] * K1[j][j] - k * k, 0)), k);
      const K2 = (q * (Math.sin(th) + (Math.PI - th) * Math.cos(th))) / (2 * Math.PI);
      const dot = (Math.PI - th) / (2 * Math.PI);
      // Θ₁ = K₁; Θ₂ = (W²K₂ + b²) + W²·Θ₁·K̇.
      return W * W * K2 + b * b + W * W * k * dot;
    }),
  );
}

describe('graphs/papers/ntk-convergence.json (wasm)', () => {
  it('the empirical NTK error falls like width^−½', async () => {
    await useBackend('wasm');
    const registry = await createRegistry();
    for (const op of collectOperators(kernel as unknown as Record<string, unknown>)) registry.register(op, 'kernel family');
    const before = tf.memory().numTensors;
    const result = await runGraph('graphs/papers/ntk-convergence.json', { backend: 'wasm', cache: false, registry }).result;
    expect(result.status, JSON.stringify(result.manifest.nodes)).toBe('ok');
    const read = async (name: string) => {
      const v = result.outputs[name];
      if (v.kind !== 'tensor') throw new Error('expected a tensor');
      return { shape: v.tensor.shape, data: Array.from(await v.tensor.data()) };
    };
    const x = await read('x');
    const [n, d] = x.shape as [number, number];
    const rows = Array.from({ length: n }, (_, i) => x.data.slice(i * d, (i + 1) * d));
    const want = reluNtk(rows, 1.5, 0.1).flat();
    const analytic = (await read('analytic')).data;
    const scale = Math.max(...want.map(Math.abs));
    analytic.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(2e-4 * scale));
    const rms: number[] = [];
    for (const w of WIDTHS) {
      let sq = 0;
      for (let s = 0; s < 4; s++) sq += (await read(`err_w${w}_s${s}`)).data[0] ** 2;
      rms.push(Math.sqrt(sq / 4));
    }
    const lx = WIDTHS.map(Math.log);
    const ly = rms.map(Math.log);
    const mx = lx.reduce((a, b) => a + b) / lx.length;
    const my = ly.reduce((a, b) => a + b) / ly.length;
    const slope = lx.reduce((s, v, i) => s + (v - mx) * (ly[i] - my), 0) / lx.reduce((s, v) => s + (v - mx) ** 2, 0);
    const msg = `RMS errors ${rms.map((e) => e.toExponential(2)).join(', ')}; slope ${slope.toFixed(3)}`;
    expect(slope, msg).toBeGreaterThan(-0.65);
    expect(slope, msg).toBeLessThan(-0.35);
    expect(rms[rms.length - 1], msg).toBeLessThan(0.05);
    result.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
