/**
 * data.sphere: points lie on the sphere of the chosen radius, are uniform (mean ≈ 0, second moment
 * I/d), the targets follow their closed forms from the returned teacher direction, and draws are
 * determined by the seed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { sphere } from '../../operators/train-data-index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { draw, same } from './helpers.js';

for (const backend of testBackends()) {
  describe(`data.sphere on ${backend}`, () => {
    it('shapes, unit norms, seeded draws; no leak', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const a = await draw(sphere, { n: 7, d: 3 });
      expect(a.x.shape).toEqual([7, 3]);
      expect(a.y.shape).toEqual([7, 1]);
      expect(a.u.shape).toEqual([3]);
      for (let i = 0; i < 7; i++) expect(Math.hypot(...a.x.data.slice(3 * i, 3 * i + 3))).toBeCloseTo(1, 6);
      expect(a.y.data.every((v) => v === 0)).toBe(true);
      const b = await draw(sphere, { n: 7, d: 3 });
      const c = await draw(sphere, { n: 7, d: 3 }, 5);
      expect(same(a.x.data, b.x.data)).toBe(true);
      expect(same(a.x.data, c.x.data)).toBe(false);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('data.sphere statistics (wasm)', () => {
  it('radius √d: ‖x‖ = √d; mean ≈ 0 and E[xxᵀ] ≈ I within 5 standard errors', async () => {
    await useBackend('wasm');
    const n = 20000;
    const d = 5;
    const { x } = await draw(sphere, { n, d, radius: 'sqrt_d' }, 11);
    const mean = new Float64Array(d);
    const second = new Float64Array(d * d);
    for (let i = 0; i < n; i++) {
      const row = x.data.subarray(i * d, i * d + d);
      expect(Math.hypot(...row)).toBeCloseTo(Math.sqrt(d), 4);
      for (let j = 0; j < d; j++) {
        mean[j] += row[j] / n;
        for (let k = 0; k < d; k++) second[j * d + k] += (row[j] * row[k]) / n;
      }
    }
    // Each coordinate has variance 1 (‖x‖² = d spread over d coordinates), so the mean's sd is 1/√n;
    // x_j² and x_j x_k have variance ≤ 2 here, so their averages' sd is ≤ √(2/n).
    for (let j = 0; j < d; j++) {
      expect(Math.abs(mean[j])).toBeLessThan(5 / Math.sqrt(n));
      for (let k = 0; k < d; k++) expect(Math.abs(second[j * d + k] - (j === k ? 1 : 0))).toBeLessThan(5 * Math.sqrt(2 / n));
    }
  });

  it('targets: linear = √d·u·x/‖x‖ exactly; quadratic has mean 0 and variance 1; noise adds its variance', async () => {
    await useBackend('wasm');
    const n = 20000;
    const d = 6;
    const lin = await draw(sphere, { n: 50, d, target: 'linear' }, 3);
    const u = lin.u.data;
    expect(Math.hypot(...u)).toBeCloseTo(1, 6);
    for (let i = 0; i < 50; i++) {
      const z = Math.sqrt(d) * u.reduce((s, v, j) => s + v * lin.x.data[i * d + j], 0);
      expect(lin.y.data[i]).toBeCloseTo(z, 5);
    }
    const q = await draw(sphere, { n, d, target: 'quadratic' }, 3);
    const ys = Array.from(q.y.data);
    const m = ys.reduce((s, v) => s + v, 0) / n;
    const v = ys.reduce((s, y) => s + (y - m) ** 2, 0) / n;
    // The degree-2 Gegenbauer polynomial on S^5 has fourth moment ≈ 3.6, so Var(y²)/n gives the sd of v ≈ 0.02.
    expect(Math.abs(m)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(v - 1)).toBeLessThan(0.06);
    // The same seed draws the same points and teacher: noise changes only y, by N(0, 0.5²).
    const qn = await draw(sphere, { n, d, target: 'quadratic', noise: 0.5 }, 3);
    expect(same(qn.x.data, q.x.data)).toBe(true);
    const resid = ys.map((y, i) => qn.y.data[i] - y);
    const rv = resid.reduce((s, r) => s + r * r, 0) / n;
    expect(Math.abs(rv - 0.25)).toBeLessThan(5 * 0.25 * Math.sqrt(2 / n));
  });
});
