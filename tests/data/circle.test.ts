/**
 * data.circle: points on the circle of radius r at the angles returned, evenly spaced or uniform,
 * targets sin(kθ + φ) and their signs, seeded draws.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { circle } from '../../operators/train-data-index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { draw, same } from './helpers.js';

for (const backend of testBackends()) {
  describe(`data.circle on ${backend}`, () => {
    it('even angles: x = r(cos θ, sin θ) at θ_i = 2πi/n, y = sin(kθ + φ), labels its sign; no leak', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const n = 12;
      const o = await draw(circle, { n, frequency: 3, phase: 0.2, radius: 2 });
      expect(o.x.shape).toEqual([n, 2]);
      expect(o.y.shape).toEqual([n, 1]);
      expect(o.labels.shape).toEqual([n, 1]);
      expect(o.theta.shape).toEqual([n]);
      for (let i = 0; i < n; i++) {
        const t = (2 * Math.PI * i) / n;
        expect(o.theta.data[i]).toBeCloseTo(t, 5);
        expect(o.x.data[2 * i]).toBeCloseTo(2 * Math.cos(t), 5);
        expect(o.x.data[2 * i + 1]).toBeCloseTo(2 * Math.sin(t), 5);
        expect(o.y.data[i]).toBeCloseTo(Math.sin(3 * t + 0.2), 5);
        expect(o.labels.data[i]).toBe(Math.sin(3 * t + 0.2) >= 0 ? 1 : -1);
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('data.circle (wasm)', () => {
  it('random angles: uniform on [0, 2π) (mean of cos, sin ≈ 0; mean θ ≈ π), seeded; noise has its variance', async () => {
    await useBackend('wasm');
    const n = 20000;
    const a = await draw(circle, { n, angles: 'random', frequency: 2, noise: 0.3 }, 9);
    const b = await draw(circle, { n, angles: 'random', frequency: 2, noise: 0.3 }, 9);
    const c = await draw(circle, { n, angles: 'random', frequency: 2, noise: 0.3 }, 10);
    expect(same(a.x.data, b.x.data) && same(a.y.data, b.y.data)).toBe(true);
    expect(same(a.theta.data, c.theta.data)).toBe(false);
    const th = Array.from(a.theta.data);
    expect(Math.min(...th)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...th)).toBeLessThan(2 * Math.PI);
    // cos θ and sin θ have variance ½; θ has variance π²/3.
    const mean = (f: (i: number) => number) => th.reduce((s, _, i) => s + f(i), 0) / n;
    expect(Math.abs(mean((i) => a.x.data[2 * i]))).toBeLessThan(5 * Math.sqrt(0.5 / n));
    expect(Math.abs(mean((i) => a.x.data[2 * i + 1]))).toBeLessThan(5 * Math.sqrt(0.5 / n));
    expect(Math.abs(mean((i) => th[i]) - Math.PI)).toBeLessThan(5 * Math.sqrt((Math.PI ** 2 / 3) / n));
    const r = th.map((t, i) => a.y.data[i] - Math.sin(2 * t));
    const rv = r.reduce((s, v) => s + v * v, 0) / n;
    expect(Math.abs(rv - 0.09)).toBeLessThan(5 * 0.09 * Math.sqrt(2 / n));
  });

  it('offset rotates the even grid by less than one step, keeping the spacing', async () => {
    await useBackend('wasm');
    const n = 8;
    const o = await draw(circle, { n, offset: true }, 2);
    const shift = o.theta.data[0];
    expect(shift).toBeGreaterThan(0);
    expect(shift).toBeLessThan((2 * Math.PI) / n);
    for (let i = 1; i < n; i++) expect(o.theta.data[i] - o.theta.data[i - 1]).toBeCloseTo((2 * Math.PI) / n, 5);
  });
});
