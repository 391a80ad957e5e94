/**
 * The native backend's FFT and IFFT kernels (native/fft.c through core/run/native-fft.ts), reached
 * through tf.spectral.fft / ifft / rfft / irfft, against a float64 DFT computed here (plain O(n²)
 * loops, angles reduced mod n in integers) and against tfjs-backend-cpu's kernels on the same
 * inputs: radix-2 lengths (1, 2, 8, 64, 1024) and Bluestein lengths (3, 5, 12, 17, 100, 1000),
 * batch > 1 and rank 3, the round trip ifft(fft(x)), results independent of the thread count,
 * no leaked tensors; and attention.rpe_fft on native against its float64 Toeplitz reference
 * (tests/attention/rpe-fft.test.ts runs its FFT path on cpu only). Skipped, saying why, where the addon is not built.
 *
 * Tolerances, relative to max |X| of the float64 reference: the kernel works in double and rounds
 * once to float32, so the error is about one float32 rounding of the largest |X_k| (2^-24 ≈ 6e-8):
 * measured 2.7e-8–5.0e-8 for fft/ifft over all sizes, ≤ 4.8e-8 for rfft/irfft (irfft's extra
 * tfjs steps, slices, reverse and a multiply by −1, are exact); bound 2e-7. The round trip rounds
 * twice: measured 6.0e-8, bound 3e-7. tfjs-backend-cpu computes in float32 (its radix-2 recursion,
 * or an O(n²) DFT when n is not a power of two): native vs cpu measured ≤ 1.0e-7, bound 1e-6.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateBackend, probeBackend } from '../../core/run/backends.js';
import { loadNativeAddon } from '../../core/run/native-addon.js';
import { rpeFftAttention } from '../../operators/attention/index.js';
import { testContext } from '../helpers/context.js';
import { params, sequence } from '../helpers/dense-reference.js';
import { call, makeQkv, refKernelised, relErr as refRelErr, tensorsOf } from '../attention/reference.js';

const probe = await probeBackend('native');

const SIZES = [1, 2, 3, 5, 8, 12, 17, 64, 100, 1000, 1024];

/** Deterministic values in [−1, 1). */
function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Float64 DFT of each row of [batch, n]: Σ_j x_j exp(∓2πi jk/n), inverse scaled by 1/n. */
function dft(re: ArrayLike<number>, im: ArrayLike<number>, batch: number, n: number, inverse: boolean) {
  const outRe = new Float64Array(batch * n), outIm = new Float64Array(batch * n);
  const cos = new Float64Array(n), sin = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    cos[t] = Math.cos((2 * Math.PI * t) / n);
    sin[t] = (inverse ? 1 : -1) * Math.sin((2 * Math.PI * t) / n);
  }
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < n; k++) {
      let sr = 0, si = 0;
      for (let j = 0; j < n; j++) {
        const t = (j * k) % n;
        const xr = re[b * n + j], xi = im[b * n + j];
        sr += xr * cos[t] - xi * sin[t];
        si += xr * sin[t] + xi * cos[t];
      }
      outRe[b * n + k] = inverse ? sr / n : sr;
      outIm[b * n + k] = inverse ? si / n : si;
    }
  }
  return { re: outRe, im: outIm };
}

/** max |a − ref| / max |ref| over both parts (max |ref| = 0 → absolute). */
function relErr(aRe: ArrayLike<number>, aIm: ArrayLike<number> | undefined, refRe: ArrayLike<number>, refIm?: ArrayLike<number>): number {
  let err = 0, scale = 0;
  for (let i = 0; i < refRe.length; i++) {
    err = Math.max(err, Math.abs(aRe[i] - refRe[i]));
    scale = Math.max(scale, Math.abs(refRe[i]));
    if (aIm && refIm) {
      err = Math.max(err, Math.abs(aIm[i] - refIm[i]));
      scale = Math.max(scale, Math.abs(refIm[i]));
    }
  }
  return err / (scale || 1);
}

/** Runs `f` on the current backend; returns the real and imaginary data of its output and checks that nothing leaked. */
async function spectral(f: () => tf.Tensor): Promise<{ re: Float32Array; im?: Float32Array; shape: number[] }> {
  const before = tf.memory().numTensors;
  const out = f();
  const shape = out.shape.slice();
  let re: Float32Array, im: Float32Array | undefined;
  if (out.dtype === 'complex64') {
    const r = tf.real(out), i = tf.imag(out);
    re = (await r.data()) as Float32Array;
    im = (await i.data()) as Float32Array;
    tf.dispose([r, i]);
  } else {
    re = (await out.data()) as Float32Array;
  }
  out.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return { re, im, shape };
}

const complexOf = (re: Float32Array, im: Float32Array, shape: number[]) => tf.tidy(() => tf.complex(tf.tensor(re, shape), tf.tensor(im, shape)));

describe.skipIf(!probe.usable)(`FFT / IFFT on native${probe.usable ? '' : ` — skipped: ${probe.reason}`}`, () => {
  beforeAll(async () => {
    await activateBackend('native');
  });

  it('the addon has fft and the backend uses it', () => {
    const load = loadNativeAddon();
    if (!load.ok) throw new Error(load.reason);
    expect(typeof load.addon.fft).toBe('function');
    for (const name of ['FFT', 'IFFT']) expect(tf.getKernel(name, 'native')!.kernelFunc).not.toBe(tf.getKernel(name, 'cpu')!.kernelFunc);
  });

  for (const n of SIZES) {
    it(`fft and ifft, n = ${n}, batch 3: float64 DFT within 2e-7 of max |X|`, async () => {
      const B = 3;
      const re = values(B * n, 11 + n), im = values(B * n, 12 + n);
      for (const inverse of [false, true]) {
        const x = complexOf(re, im, [B, n]);
        const got = await spectral(() => (inverse ? tf.spectral.ifft(x) : tf.spectral.fft(x)));
        x.dispose();
        expect(got.shape).toEqual([B, n]);
        const ref = dft(re, im, B, n, inverse);
        expect(relErr(got.re, got.im, ref.re, ref.im)).toBeLessThan(2e-7);
      }
    });
  }

  it('rank 3 input [2, 3, 100]: every row transformed', async () => {
    const shape = [2, 3, 100];
    const re = values(600, 5), im = values(600, 6);
    const x = complexOf(re, im, shape);
    const got = await spectral(() => tf.spectral.fft(x));
    x.dispose();
    expect(got.shape).toEqual(shape);
    const ref = dft(re, im, 6, 100, false);
    expect(relErr(got.re, got.im, ref.re, ref.im)).toBeLessThan(2e-7);
  });

  for (const n of SIZES.filter((s) => s >= 2)) {
    it(`rfft and irfft, n = ${n}, batch 2: float64 reference within 2e-7`, async () => {
      const B = 2;
      const x = values(B * n, 21 + n);
      const xt = tf.tensor(x, [B, n]);
      const got = await spectral(() => tf.spectral.rfft(xt));
      xt.dispose();
      const half = Math.floor(n / 2) + 1;
      expect(got.shape).toEqual([B, half]);
      const full = dft(x, new Float32Array(B * n), B, n, false);
      const keep = (a: Float64Array) => Float64Array.from({ length: B * half }, (_, i) => a[Math.floor(i / half) * n + (i % half)]);
      expect(relErr(got.re, got.im, keep(full.re), keep(full.im))).toBeLessThan(2e-7);

      // irfft of a [B, m] spectrum: tfjs builds the length-2(m − 1) Hermitian extension (m ≤ 2: ifft as is) and keeps the real part.
      const m = half;
      const sr = values(B * m, 31 + n), si = values(B * m, 32 + n);
      const spec = complexOf(sr, si, [B, m]);
      const inv = await spectral(() => tf.spectral.irfft(spec));
      spec.dispose();
      const L = m <= 2 ? m : 2 * (m - 1);
      const er = new Float64Array(B * L), ei = new Float64Array(B * L);
      for (let b = 0; b < B; b++) {
        for (let k = 0; k < L; k++) {
          if (k < m) {
            er[b * L + k] = sr[b * m + k];
            ei[b * L + k] = si[b * m + k];
          } else {
            er[b * L + k] = sr[b * m + (L - k)];
            ei[b * L + k] = -si[b * m + (L - k)];
          }
        }
      }
      expect(inv.shape).toEqual([B, L]);
      const ref = dft(er, ei, B, L, true);
      expect(relErr(inv.re, undefined, ref.re)).toBeLessThan(2e-7);
    });
  }

  it('round trip ifft(fft(x)) ≈ x within 3e-7 (n = 17, 1000, 4096)', async () => {
    for (const n of [17, 1000, 4096]) {
      const B = 4;
      const re = values(B * n, 41 + n), im = values(B * n, 42 + n);
      const x = complexOf(re, im, [B, n]);
      const got = await spectral(() => tf.tidy(() => tf.spectral.ifft(tf.spectral.fft(x))));
      x.dispose();
      expect(relErr(got.re, got.im, re, im)).toBeLessThan(3e-7);
    }
  });

  it('native = cpu backend within 1e-6 of max |X| (cpu is float32)', async () => {
    const B = 3;
    for (const n of [3, 12, 64, 100, 1000, 1024]) {
      const re = values(B * n, 51 + n), im = values(B * n, 52 + n);
      const runBoth = async (backend: string) => {
        tf.setBackend(backend);
        const x = complexOf(re, im, [B, n]);
        const f = await spectral(() => tf.spectral.fft(x));
        const i = await spectral(() => tf.spectral.ifft(x));
        x.dispose();
        return { f, i };
      };
      const cpu = await runBoth('cpu');
      const nat = await runBoth('native');
      expect(relErr(nat.f.re, nat.f.im, cpu.f.re, cpu.f.im)).toBeLessThan(1e-6);
      expect(relErr(nat.i.re, nat.i.im, cpu.i.re, cpu.i.im)).toBeLessThan(1e-6);
    }
    expect(tf.getBackend()).toBe('native');
  });

  it('results do not depend on the thread count', async () => {
    const load = loadNativeAddon();
    if (!load.ok) throw new Error(load.reason);
    const threads = load.addon.info().ompThreads;
    const cases = [
      { B: 64, n: 1000 }, // Bluestein, m = 2048: B·m ≥ 32768, so parallel
      { B: 32, n: 4096 },
    ];
    const runs: Float32Array[][] = [];
    try {
      for (const t of [1, Math.max(2, threads)]) {
        load.addon.setThreads(t);
        const outs: Float32Array[] = [];
        for (const { B, n } of cases) {
          const x = complexOf(values(B * n, 61 + n), values(B * n, 62 + n), [B, n]);
          for (const f of [tf.spectral.fft, tf.spectral.ifft]) {
            const got = await spectral(() => f(x));
            outs.push(got.re, got.im!);
          }
          x.dispose();
        }
        runs.push(outs);
      }
    } finally {
      load.addon.setThreads(threads);
    }
    runs[0].forEach((r, i) => expect(Array.from(runs[1][i])).toEqual(Array.from(r)));
  });

  it('attention.rpe_fft on native (N = 37, circulant length 128) equals the naive Toeplitz form in float64 within 1e-5', async () => {
    const N = 37;
    const x = makeQkv(1, 2, N, N, 4, 3, 71, 0.5);
    const b = sequence([2, 2 * N - 1], 72).data;
    for (const causal of [false, true]) {
      const before = tf.memory().numTensors;
      const t = tensorsOf(x);
      const rpe = tf.tensor2d(b, [2, 2 * N - 1]);
      const { out } = await call(rpeFftAttention, { ...t, rpe }, params(rpeFftAttention, { feature_map: 'elu', causal }), testContext());
      const c = (h: number, i: number, j: number) => (causal && j > i ? 0 : Math.exp(b[h * (2 * N - 1) + (i - j) + N - 1]));
      expect(refRelErr(await out.data(), refKernelised(x, 'elu', { causal, eps: 1e-6, c }))).toBeLessThan(1e-5);
      tf.dispose([t.q, t.k, t.v, rpe, out]);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('the addon checks its arguments', () => {
    const load = loadNativeAddon();
    if (!load.ok || !load.addon.fft) throw new Error('no fft');
    const a = new Float32Array(8), b = new Float32Array(8), c = new Float32Array(8), d = new Float32Array(8);
    expect(() => load.addon.fft!(a, b, c, d, 3, 3, false)).toThrow(RangeError);
    expect(() => load.addon.fft!(a, b, a, d, 2, 4, false)).toThrow(RangeError);
    expect(() => load.addon.fft!(a, b, c, d, 0, 8, false)).toThrow(TypeError);
    expect(() => load.addon.fft!(a, b, c, new Float64Array(8) as unknown as Float32Array, 1, 8, false)).toThrow(TypeError);
  });
});
