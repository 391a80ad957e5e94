/**
 * FAVOR+ orthogonal random features in the attention family: the host draw (float64) has orthogonal
 * rows within each block of D and chi_D row norms, so entries are marginally N(0, 1) (moments over 300
 * seeds); attention.linear / attention.rpe_fft without `proj` use exactly that draw (orthogonal: true)
 * or the i.i.d. one (false); and FAVOR+ attention with orthogonal features is closer to softmax
 * attention than with i.i.d. features over a curve of m (mean error ratio ≤ 0.95, 16 seeds).
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { iidGaussian, linearAttention, orthogonalGaussian, rpeFftAttention } from '../../operators/attention/index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';
import { call, dot, makeQkv, refAttention, tensorsOf } from './reference.js';

describe('orthogonalGaussian (host, float64)', () => {
  it('rows are orthogonal within each block of D (|cos| < 1e-12), not across blocks; m mod D rows in the last block', () => {
    const [m, d] = [20, 8]; // blocks of 8, 8, 4
    const w = Array.from(orthogonalGaussian(m, d, 3));
    const cos = (a: number, b: number) => dot(w, a * d, w, b * d, d) / Math.sqrt(dot(w, a * d, w, a * d, d) * dot(w, b * d, w, b * d, d));
    let across = 0;
    for (let a = 0; a < m; a++)
      for (let b = a + 1; b < m; b++) {
        if (Math.floor(a / d) === Math.floor(b / d)) expect(Math.abs(cos(a, b))).toBeLessThan(1e-12);
        else across = Math.max(across, Math.abs(cos(a, b)));
      }
    expect(across).toBeGreaterThan(0.1);
    expect(Array.from(orthogonalGaussian(m, d, 3))).toEqual(w); // reproducible from the seed
    expect(Array.from(orthogonalGaussian(m, d, 4))).not.toEqual(w);
  });

  it('entries are marginally N(0,1): over 300 seeds mean, variance, E|w|² = D and E[w_a w_b] = 0 within 4 standard errors', () => {
    const [m, d, S] = [6, 6, 300];
    const n = S * m * d;
    let s1 = 0;
    let s2 = 0;
    let s4 = 0;
    let cross = 0;
    const rowSq: number[] = [];
    for (let s = 0; s < S; s++) {
      const w = orthogonalGaussian(m, d, 1000 + s);
      for (let r = 0; r < m; r++) {
        rowSq.push(dot(Array.from(w), r * d, Array.from(w), r * d, d));
        cross += (w[r * d] * w[r * d + 1]) / (S * m);
      }
      for (const v of w) ((s1 += v), (s2 += v * v), (s4 += v ** 4));
    }
    const mean = s1 / n;
    const variance = s2 / n;
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(n)); // sd of the mean: 1/√n
    expect(Math.abs(variance - 1)).toBeLessThan(4 * Math.sqrt(2 / n)); // sd of the 2nd moment: √(2/n)
    expect(Math.abs(s4 / n - 3)).toBeLessThan(4 * Math.sqrt(96 / n)); // Gaussian kurtosis 3; Var(w⁴) = 96
    const rowMean = rowSq.reduce((a, b) => a + b) / rowSq.length; // chi²_D: mean D, variance 2D
    expect(Math.abs(rowMean - d)).toBeLessThan(4 * Math.sqrt((2 * d) / rowSq.length));
    expect(Math.abs(cross)).toBeLessThan(4 / Math.sqrt(S * m));
  });
});

for (const backend of testBackends()) {
  describe(`FAVOR+ projection draw on ${backend}`, () => {
    it('attention.linear without proj uses orthogonalGaussian (orthogonal: true) or iidGaussian (false) of the node seed', async () => {
      await useBackend(backend);
      const x = makeQkv(1, 2, 9, 11, 4, 3, 61, 0.5);
      const [m, d, seed] = [10, 4, 17];
      const t = tensorsOf(x);
      const before = tf.memory().numTensors;
      for (const [orthogonal, draw] of [[true, orthogonalGaussian], [false, iidGaussian]] as const) {
        const p = params(linearAttention, { feature_map: 'favor+', num_features: m, orthogonal, causal: true });
        const { out } = await call(linearAttention, t, p, testContext({ seed }));
        const proj = tf.tensor2d(Float32Array.from(draw(m, d, seed)), [m, d]);
        const { out: given } = await call(linearAttention, { ...t, proj }, p, testContext({ seed: seed + 1 }));
        expect(Array.from(await out.data())).toEqual(Array.from(await given.data()));
        tf.dispose([out, given, proj]);
      }
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([t.q, t.k, t.v]);
    });
  });
}

describe('FAVOR+ projection draw in attention.rpe_fft (cpu: FFT kernels)', () => {
  it('without proj it uses orthogonalGaussian (orthogonal: true) or iidGaussian (false) of the node seed', async () => {
    await useBackend('cpu');
    const x = makeQkv(1, 2, 8, 8, 4, 3, 62, 0.5);
    const [m, d, seed] = [6, 4, 23];
    const t = tensorsOf(x);
    const rpe = tf.tensor2d(Array.from({ length: 2 * 15 }, (_, i) => Math.sin(i) * 0.3), [2, 15]);
    const before = tf.memory().numTensors;
    for (const [orthogonal, draw] of [[true, orthogonalGaussian], [false, iidGaussian]] as const) {
      const p = params(rpeFftAttention, { feature_map: 'favor+', num_features: m, orthogonal });
      const { out } = await call(rpeFftAttention, { ...t, rpe }, p, testContext({ seed }));
      const proj = tf.tensor2d(Float32Array.from(draw(m, d, seed)), [m, d]);
      const { out: given } = await call(rpeFftAttention, { ...t, rpe, proj }, p, testContext({ seed: seed + 1 }));
      expect(Array.from(await out.data())).toEqual(Array.from(await given.data()));
      tf.dispose([out, given, proj]);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([t.q, t.k, t.v, rpe]);
  });
});

describe('attention.linear FAVOR+: orthogonal vs i.i.d. features (wasm)', () => {
  it('over m = 8…128 (16 seeds) orthogonal features are closer to softmax attention: mean error ratio ≤ 0.95, error falling with m', async () => {
    await useBackend('wasm');
    const x = makeQkv(1, 2, 64, 64, 8, 4, 41, 0.3);
    const exact = refAttention(x);
    const t = tensorsOf(x);
    const ms = [8, 16, 32, 64, 128];
    const curve = async (orthogonal: boolean) => {
      const c: number[] = [];
      for (const m of ms) {
        let e = 0;
        for (let s = 0; s < 16; s++) {
          const { out } = await call(linearAttention, t, params(linearAttention, { feature_map: 'favor+', num_features: m, orthogonal }), testContext({ seed: 100 + s }));
          const got = await out.data();
          out.dispose();
          let num = 0;
          let den = 0;
          exact.forEach((w, i) => ((num += (got[i] - w) ** 2), (den += w * w)));
          e += Math.sqrt(num / den) / 16;
        }
        c.push(e);
      }
      return c;
    };
    const ort = await curve(true);
    const iid = await curve(false);
    tf.dispose([t.q, t.k, t.v]);
    const show = `orthogonal ${ort.map((v) => v.toExponential(2))} / iid ${iid.map((v) => v.toExponential(2))}`;
    console.log(`FAVOR+ attention rel. error vs softmax, m = ${ms.join(',')}: ${show}`);
    expect(ort.reduce((a, v, i) => a + v / iid[i], 0) / ms.length, show).toBeLessThan(0.95);
    for (let i = 1; i < ms.length; i++) expect(ort[i], show).toBeLessThan(ort[i - 1]);
  });
});
