/**
 * features.favor with orthogonal random features (the default; Choromanski et al. 2021): the drawn w
 * has blocks of d mutually orthogonal columns on every backend; φ(x)·φ(y) stays an unbiased estimate
 * of exp(x·y) (mean over 1000 seeds within 4 standard errors, each below 1.5 %); and over a curve of m its mean
 * error is below that of i.i.d. features at every m (and ≤ 0.93× on average), both falling like m^−½.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { favor } from '../../operators/features/index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params, sequence } from '../helpers/dense-reference.js';

type Out = Record<string, tf.Tensor>;
const dotAt = (a: ArrayLike<number>, ia: number, b: ArrayLike<number>, ib: number, n: number) => {
  let s = 0;
  for (let t = 0; t < n; t++) s += a[ia + t] * b[ib + t];
  return s;
};

/** n inputs of dimension d with norms ≈ amp·√(d/3)·… (exact float32 values). */
function inputs(n: number, d: number, amp: number, seed: number): number[][] {
  const s = sequence([n, d], seed).data.map((v) => Math.fround(v * amp));
  return Array.from({ length: n }, (_, i) => s.slice(i * d, i * d + d));
}

async function features(x: tf.Tensor, m: number, orthogonal: boolean, seed: number): Promise<{ phi: Float32Array; w: Float32Array }> {
  const out = tf.tidy(() => favor.run({ x }, params(favor, { num_features: m, orthogonal }), testContext({ seed })) as Out);
  const r = { phi: (await out.out.data()) as Float32Array, w: (await out.w.data()) as Float32Array };
  tf.dispose(Object.values(out));
  return r;
}

for (const backend of testBackends()) {
  describe(`features.favor orthogonal draw on ${backend}`, () => {
    it('w [d, D] has blocks of d orthogonal columns (|cos| < 1e-5), columns across blocks are not; no leaks', async () => {
      await useBackend(backend);
      const [d, D] = [5, 13]; // blocks of 5, 5, 3 columns
      const x = tf.tensor2d(inputs(3, d, 0.2, 3));
      const before = tf.memory().numTensors;
      const { w } = await features(x, D, true, 7);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      const col = (j: number) => Array.from({ length: d }, (_, t) => w[t * D + j]);
      const cos = (a: number, b: number) => dotAt(col(a), 0, col(b), 0, d) / Math.sqrt(dotAt(col(a), 0, col(a), 0, d) * dotAt(col(b), 0, col(b), 0, d));
      let across = 0;
      for (let a = 0; a < D; a++)
        for (let b = a + 1; b < D; b++) {
          if (Math.floor(a / d) === Math.floor(b / d)) expect(Math.abs(cos(a, b))).toBeLessThan(1e-5);
          else across = Math.max(across, Math.abs(cos(a, b)));
        }
      expect(across).toBeGreaterThan(0.1);
      // norms are chi_d draws, not a constant √d
      const norms = Array.from({ length: D }, (_, j) => Math.hypot(...col(j)));
      expect(Math.max(...norms) - Math.min(...norms)).toBeGreaterThan(0.1);
    });
  });
}

describe('features.favor orthogonal features: unbiased, lower error than i.i.d. (wasm)', () => {
  it('mean of φ(x)·φ(y) over 1000 seeds (m = d = 8, one orthogonal block) is exp(x·y) within 4 SE (SE < 1.5 %)', async () => {
    await useBackend('wasm');
    const [n, d, S] = [4, 8, 1000];
    const X = inputs(n, d, 0.12, 21);
    const x = tf.tensor2d(X);
    const sum = new Float64Array(n * n);
    const sq = new Float64Array(n * n);
    for (let s = 0; s < S; s++) {
      const { phi } = await features(x, d, true, 500 + s);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          const g = dotAt(phi, i * d, phi, j * d, d);
          sum[i * n + j] += g;
          sq[i * n + j] += g * g;
        }
    }
    x.dispose();
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const exact = Math.exp(dotAt(X[i], 0, X[j], 0, d));
        const mean = sum[i * n + j] / S;
        const se = Math.sqrt((sq[i * n + j] / S - mean * mean) / (S - 1));
        expect(Math.abs(mean - exact), `pair ${i},${j}: mean ${mean}, exact ${exact}, se ${se}`).toBeLessThan(4 * se);
        expect(se / exact).toBeLessThan(0.015); // the 4-SE band is tight enough to mean something
      }
  });

  it('error curve over m: orthogonal below i.i.d. at every m (mean ratio ≤ 0.93), both falling like m^−½', async () => {
    await useBackend('wasm');
    const [n, d, S] = [12, 16, 64];
    const X = inputs(n, d, 0.15, 17); // norms ≈ 0.6–0.8: exp(x·y) estimates with tame tails
    const exact = X.map((a) => X.map((b) => Math.exp(dotAt(a, 0, b, 0, d))));
    const scale = Math.sqrt(exact.flat().reduce((a, v) => a + v * v, 0));
    const x = tf.tensor2d(X);
    const ms = [16, 32, 64, 128, 256];
    const curve = async (orthogonal: boolean) => {
      const c: number[] = [];
      for (const m of ms) {
        let e = 0;
        for (let s = 0; s < S; s++) {
          const { phi } = await features(x, m, orthogonal, 1000 + s);
          let sq = 0;
          for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sq += (dotAt(phi, i * m, phi, j * m, m) - exact[i][j]) ** 2;
          e += Math.sqrt(sq) / scale / S; // relative Frobenius error of the Gram matrix, mean over seeds
        }
        c.push(e);
      }
      return c;
    };
    const ort = await curve(true);
    const iid = await curve(false);
    x.dispose();
    const show = `orthogonal ${ort.map((v) => v.toExponential(2))} / iid ${iid.map((v) => v.toExponential(2))}`;
    console.log(`favor Gram error vs m = ${ms.join(',')}: ${show}`);
    ms.forEach((_, i) => expect(ort[i], show).toBeLessThan(iid[i]));
    expect(ort.reduce((a, v, i) => a + v / iid[i], 0) / ms.length, show).toBeLessThan(0.93);
    for (const c of [ort, iid]) {
      for (let i = 1; i < c.length; i++) expect(c[i], show).toBeLessThan(c[i - 1]);
      const slope = Math.log(c[c.length - 1] / c[0]) / Math.log(ms[ms.length - 1] / ms[0]);
      expect(slope, show).toBeLessThan(-0.35);
      expect(slope, show).toBeGreaterThan(-0.65);
    }
  });
});
