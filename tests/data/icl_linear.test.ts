/**
 * data.icl_linear: token layout [x_i, y_i] with a zero y slot on the query, y_i = w·x_i (+ noise)
 * with the returned w, w ~ N(0, I/d) and x ~ N(0, I) in distribution, seeded and prefix-stable.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { iclLinear } from '../../operators/train-data-index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { draw, same } from './helpers.js';

for (const backend of testBackends()) {
  describe(`data.icl_linear on ${backend}`, () => {
    it('noise-free: every context y and the query target equal w·x; query y slot is 0; no leak', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const [tasks, nc, d] = [5, 4, 3];
      const o = await draw(iclLinear, { tasks, n_context: nc, d });
      expect(o.tokens.shape).toEqual([tasks, nc + 1, d + 1]);
      expect(o.y.shape).toEqual([tasks]);
      expect(o.w.shape).toEqual([tasks, d]);
      for (let t = 0; t < tasks; t++) {
        const w = o.w.data.subarray(t * d, t * d + d);
        for (let i = 0; i <= nc; i++) {
          const tok = o.tokens.data.subarray((t * (nc + 1) + i) * (d + 1), (t * (nc + 1) + i + 1) * (d + 1));
          const dot = w.reduce((s, v, j) => s + v * tok[j], 0);
          if (i < nc) expect(tok[d]).toBeCloseTo(dot, 5);
          else {
            expect(tok[d]).toBe(0);
            expect(o.y.data[t]).toBeCloseTo(dot, 5);
          }
        }
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('data.icl_linear statistics (wasm)', () => {
  it('w ~ N(0, I/d), x ~ N(0, I), noisy targets = w·x_q + N(0, σ²); seeded; task t independent of `tasks`', async () => {
    await useBackend('wasm');
    const [tasks, nc, d, sigma] = [4000, 3, 4, 0.5];
    const o = await draw(iclLinear, { tasks, n_context: nc, d, noise: sigma }, 21);
    const len = nc + 1;
    let w2 = 0;
    let x2 = 0;
    let xm = 0;
    let r2 = 0;
    let rm = 0;
    for (let t = 0; t < tasks; t++) {
      const w = o.w.data.subarray(t * d, t * d + d);
      w2 += w.reduce((s, v) => s + v * v, 0) / (tasks * d);
      const q = o.tokens.data.subarray((t * len + nc) * (d + 1), (t * len + nc) * (d + 1) + d);
      for (let i = 0; i < len; i++) for (let j = 0; j < d; j++) {
        const v = o.tokens.data[(t * len + i) * (d + 1) + j];
        x2 += (v * v) / (tasks * len * d);
        xm += v / (tasks * len * d);
      }
      const r = o.y.data[t] - w.reduce((s, v, j) => s + v * q[j], 0);
      r2 += (r * r) / tasks;
      rm += r / tasks;
    }
    // E w_j² = 1/d (sd of the average √2/(d·√(tasks·d))); E x² = 1; the residual is N(0, σ²).
    expect(Math.abs(w2 - 1 / d)).toBeLessThan((5 * Math.SQRT2) / (d * Math.sqrt(tasks * d)));
    expect(Math.abs(x2 - 1)).toBeLessThan(5 * Math.sqrt(2 / (tasks * len * d)));
    expect(Math.abs(xm)).toBeLessThan(5 / Math.sqrt(tasks * len * d));
    expect(Math.abs(rm)).toBeLessThan((5 * sigma) / Math.sqrt(tasks));
    expect(Math.abs(r2 - sigma ** 2)).toBeLessThan(5 * sigma ** 2 * Math.sqrt(2 / tasks));
    // Fewer tasks from the same seed are a prefix; another seed differs.
    const few = await draw(iclLinear, { tasks: 10, n_context: nc, d, noise: sigma }, 21);
    expect(same(few.tokens.data, o.tokens.data.subarray(0, few.tokens.data.length))).toBe(true);
    expect(same(few.y.data, o.y.data.subarray(0, 10))).toBe(true);
    const other = await draw(iclLinear, { tasks: 10, n_context: nc, d, noise: sigma }, 22);
    expect(same(few.w.data, other.w.data)).toBe(false);
  });
});
