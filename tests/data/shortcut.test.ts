/**
 * data.shortcut: the latents agree with the label at the set predictivities (measured on a large
 * sample), the embedding puts each feature at its availability along fixed orthonormal directions
 * (checked through inner products, which do not need the directions), the cue-conflict split has
 * z_core = y and z_shortcut = −y, xor features carry no linear signal, draws are seeded. Gaussian
 * latents: z_f | y ~ N(Φ⁻¹(p_f)·y, 1) (class means and variances measured), the cue-conflict split
 * draws the shortcut from the other class; the default (discrete) output is unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { normalQuantile } from '../../operators/data/shortcut.js';
import { shortcut } from '../../operators/train-data-index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { params } from '../helpers/dense-reference.js';
import { draw, same } from './helpers.js';

const dot = (a: Float64Array, i: number, b: Float64Array, j: number, d: number) => {
  let s = 0;
  for (let k = 0; k < d; k++) s += a[i * d + k] * b[j * d + k];
  return s;
};

for (const backend of testBackends()) {
  describe(`data.shortcut on ${backend}`, () => {
    it('shapes, labels = (y+1)/2, seeded draws, a clear error for too small d; no leak', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const a = await draw(shortcut, { n: 9, n_test: 4, d: 5 });
      expect([a.x.shape, a.y.shape, a.labels.shape, a.z.shape]).toEqual([[9, 5], [9, 1], [9], [9, 2]]);
      expect([a.x_test.shape, a.y_test.shape, a.x_conflict.shape, a.y_conflict.shape]).toEqual([[4, 5], [4, 1], [4, 5], [4, 1]]);
      a.y.data.forEach((v, i) => expect(a.labels.data[i]).toBe((v + 1) / 2));
      const b = await draw(shortcut, { n: 9, n_test: 4, d: 5 });
      const c = await draw(shortcut, { n: 9, n_test: 4, d: 5 }, 5);
      expect(same(a.x.data, b.x.data) && same(a.x_conflict.data, b.x_conflict.data)).toBe(true);
      expect(same(a.x.data, c.x.data)).toBe(false);
      expect(tf.memory().numTensors).toBe(before);
      const tooSmall = params(shortcut as never, { d: 3, core_embedding: 'xor', shortcut_embedding: 'xor' });
      expect(() => shortcut.shape!({} as never, tooSmall as never, {} as never)).toThrow(/d = 3 is too small: the embeddings need 4 orthogonal directions/);
    });
  });
}

describe('data.shortcut statistics (wasm)', () => {
  it('P(z_f = y) matches each predictivity within 5 standard errors; the label is balanced', async () => {
    await useBackend('wasm');
    const n = 20000;
    const o = await draw(shortcut, { n, n_test: 10, d: 4, core_predictivity: 0.9, shortcut_predictivity: 0.7 }, 8);
    let core = 0;
    let short = 0;
    let pos = 0;
    for (let i = 0; i < n; i++) {
      core += o.z.data[2 * i] === o.y.data[i] ? 1 / n : 0;
      short += o.z.data[2 * i + 1] === o.y.data[i] ? 1 / n : 0;
      pos += o.y.data[i] > 0 ? 1 / n : 0;
    }
    expect(Math.abs(core - 0.9)).toBeLessThan(5 * Math.sqrt((0.9 * 0.1) / n));
    expect(Math.abs(short - 0.7)).toBeLessThan(5 * Math.sqrt((0.7 * 0.3) / n));
    expect(Math.abs(pos - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / n));
  });

  it('noise-free linear embeddings: x·x′ = a_c²·z_c z_c′ + a_s²·z_s z_s′; conflict points have z_c = y, z_s = −y', async () => {
    await useBackend('wasm');
    const [n, m, d, ac, as] = [40, 30, 7, 0.3, 1.2];
    const o = await draw(shortcut, { n, n_test: m, d, noise: 0, core_availability: ac, shortcut_availability: as }, 2);
    const z = o.z.data;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      expect(dot(o.x.data, i, o.x.data, j, d)).toBeCloseTo(ac * ac * z[2 * i] * z[2 * j] + as * as * z[2 * i + 1] * z[2 * j + 1], 5);
    }
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      const y = o.y_conflict.data[i];
      expect(dot(o.x_conflict.data, i, o.x.data, j, d)).toBeCloseTo(ac * ac * y * z[2 * j] - as * as * y * z[2 * j + 1], 5);
    }
  });

  it('isotropic noise of the given std; a linear feature shifts the class means by 2a(2p−1), an xor feature by 0', async () => {
    await useBackend('wasm');
    const [n, d] = [20000, 4];
    const noiseOnly = await draw(shortcut, { n, n_test: 10, d, core_availability: 0, shortcut_availability: 0, noise: 0.5 }, 6);
    const v = noiseOnly.x.data.reduce((s, x) => s + x * x, 0) / (n * d);
    expect(Math.abs(v - 0.25)).toBeLessThan(5 * 0.25 * Math.sqrt(2 / (n * d)));
    // Mean difference between the classes, as a vector: its norm.
    const gap = (o: Awaited<ReturnType<typeof draw>>) => {
      const diff = new Float64Array(d);
      const count = [0, 0];
      for (let i = 0; i < n; i++) count[o.y.data[i] > 0 ? 1 : 0]++;
      for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) diff[k] += (o.y.data[i] > 0 ? 1 / count[1] : -1 / count[0]) * o.x.data[i * d + k];
      return Math.hypot(...diff);
    };
    const given = { n, n_test: 10, d, shortcut_availability: 0, core_availability: 1, core_predictivity: 0.8, noise: 0.5 };
    const lin = await draw(shortcut, given, 6);
    const xor = await draw(shortcut, { ...given, core_embedding: 'xor' }, 6);
    // Each coordinate of a class mean has sd ≤ √((a² + noise²)/(n/2)); over d coordinates ≈ √d times that.
    const tol = 5 * Math.sqrt(d) * Math.sqrt((1 + 0.25) / (n / 2)) * Math.SQRT2;
    expect(Math.abs(gap(lin) - 2 * 1 * (2 * 0.8 - 1))).toBeLessThan(tol);
    expect(gap(xor)).toBeLessThan(tol);
    // The xor feature is still fully there: without noise every point has norm a.
    const clean = await draw(shortcut, { ...given, core_embedding: 'xor', noise: 0 }, 6);
    for (let i = 0; i < 20; i++) expect(Math.hypot(...clean.x.data.subarray(i * d, i * d + d))).toBeCloseTo(1, 5);
  });
});

describe('data.shortcut gaussian latents (wasm)', () => {
  it('normalQuantile matches tabulated Φ⁻¹ values (float64 references) to 1e-8', () => {
    const table: [number, number][] = [[0.5, 0], [0.975, 1.959963984540054], [0.999, 3.090232306167813], [0.01, -2.326347874040841], [0.8, 0.8416212335729143], [1e-6, -4.753424308822899]];
    for (const [p, q] of table) expect(Math.abs(normalQuantile(p) - q)).toBeLessThan(1e-8 * Math.max(1, Math.abs(q)));
  });

  it('z_f | y ~ N(Φ⁻¹(p_f)·y, 1): P(sign z_f = y) = p_f, mean and variance of y·z_f, within 5 standard errors', async () => {
    await useBackend('wasm');
    const n = 20000;
    const [pc, ps] = [0.95, 0.7];
    const o = await draw(shortcut, { n, n_test: 10, d: 4, latent: 'gaussian', core_predictivity: pc, shortcut_predictivity: ps }, 8);
    [pc, ps].forEach((p, f) => {
      const yz = Array.from({ length: n }, (_, i) => o.y.data[i] * o.z.data[2 * i + f]);
      const agree = yz.filter((v) => v > 0).length / n;
      const mean = yz.reduce((s, v) => s + v, 0) / n;
      const variance = yz.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
      expect(Math.abs(agree - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
      // Φ⁻¹(0.95) = 1.6449, Φ⁻¹(0.7) = 0.5244 (tables); the sample variance of N(·, 1) has sd √(2/n).
      expect(Math.abs(mean - [1.6448536269514722, 0.5244005127080407][f])).toBeLessThan(5 / Math.sqrt(n));
      expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    });
  });

  it('noise-free embedding at the set amplitudes; cue-conflict points draw the shortcut from the other class', async () => {
    await useBackend('wasm');
    const [n, m, d] = [40, 4000, 6];
    const given = { n, n_test: m, d, latent: 'gaussian', noise: 0, core_predictivity: 0.9, shortcut_predictivity: 0.8 };
    const both = await draw(shortcut, { ...given, core_availability: 0.3, shortcut_availability: 1.5 }, 3);
    const z = both.z.data;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      expect(dot(both.x.data, i, both.x.data, j, d)).toBeCloseTo(0.09 * z[2 * i] * z[2 * j] + 2.25 * z[2 * i + 1] * z[2 * j + 1], 4);
    }
    // With one feature switched off, x = z_f·u_f: a conflict point's latent is (x_c·x_i)/z_f,i.
    for (const [f, avail, expected] of [[0, 'core', 1.2815515655446004], [1, 'shortcut', -0.8416212335729143]] as const) {
      const o = await draw(shortcut, { ...given, core_availability: f === 0 ? 1 : 0, shortcut_availability: f === 1 ? 1 : 0 }, 3);
      const zi = o.z.data[f];
      const yz = Array.from({ length: m }, (_, c) => (o.y_conflict.data[c] * dot(o.x_conflict.data, c, o.x.data, 0, d)) / zi);
      const mean = yz.reduce((s, v) => s + v, 0) / m;
      expect(Math.abs(mean - expected), avail).toBeLessThan(5 / Math.sqrt(m));
    }
  });

  it('latent "discrete" is the default output; predictivity 0 or 1 is refused for gaussian latents', async () => {
    await useBackend('wasm');
    const a = await draw(shortcut, { n: 9, n_test: 4, d: 5 });
    const b = await draw(shortcut, { n: 9, n_test: 4, d: 5, latent: 'discrete' });
    for (const k of Object.keys(a)) expect(same(a[k].data, b[k].data)).toBe(true);
    const bad = params(shortcut as never, { latent: 'gaussian', core_predictivity: 1 });
    expect(() => shortcut.shape!({} as never, bad as never, {} as never)).toThrow(/core_predictivity = 1: gaussian latents need a predictivity strictly between 0 and 1/);
  });
});
