/**
 * attention.rpe_fft's fused native path (native/fft.c kf_rpe_fft through NativeFused.rpeFft)
 * against a float64 reference (the O(N²) Toeplitz-biased kernelised attention of
 * tests/attention/reference.ts) and against the operator's generic tfjs path (tf.spectral
 * rfft/irfft) on the same backend: causal or not, N = 1, 2, 7, 37, 300, m = 1, 3, 16, Dv = 1, 5,
 * B·H > 1, elu and FAVOR+, eps > 0 and 0; thread-count independence; no tensor leaks. Skipped,
 * saying why, where the addon is not built.
 *
 * Tolerances, relative to max(1, max |out|) (relErr): the fused path runs its FFTs in double, so
 * its error is the float32 rounding of φ (computed by tfjs in float32 on both paths) and of the
 * output: measured ≤ 1.1e-7, bound 1e-6. The generic path's float32 FFTs: measured ≤ 1.3e-5,
 * bound 3e-5 (fused vs generic likewise). Printed as "fused-rpe worst relErr" after the run.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activateBackend, probeBackend } from '../../core/run/backends.js';
import { setFusedKernels, type NativeFused } from '../../core/run/native-backend.js';
import { loadNativeAddon } from '../../core/run/native-addon.js';
import { rpeFftAttention } from '../../operators/attention/index.js';
import { testContext } from '../helpers/context.js';
import { params, sequence } from '../helpers/dense-reference.js';
import { call, makeQkv, projOf, refKernelised, relErr, type Qkv } from '../attention/reference.js';

const probe = await probeBackend('native');

/** Runs attention.rpe_fft on native with the fused kernels on or off; returns out, the path noted; checks for leaks. */
async function runOp(x: Qkv, b: number[], w: number[][] | undefined, given: Record<string, unknown>, fused: boolean) {
  const was = setFusedKernels(fused);
  try {
    const before = tf.memory().numTensors;
    const q = tf.tensor(x.q, [x.B, x.H, x.Nq, x.D]);
    const k = tf.tensor(x.k, [x.B, x.H, x.Nk, x.D]);
    const v = tf.tensor(x.v, [x.B, x.H, x.Nk, x.Dv]);
    const rpe = tf.tensor2d(b, [x.H, 2 * x.Nq - 1]);
    const proj = w ? tf.tensor2d(w) : undefined;
    const ctx = testContext();
    const { out } = await call(rpeFftAttention, { q, k, v, rpe, ...(proj ? { proj } : {}) }, params(rpeFftAttention, given), ctx);
    const data = (await out.data()) as Float32Array;
    const shape = out.shape;
    tf.dispose([out, q, k, v, rpe, ...(proj ? [proj] : [])]);
    expect(tf.memory().numTensors).toBe(before);
    return { data, shape, path: ctx.notes.kernel_path };
  } finally {
    setFusedKernels(was);
  }
}

const worst = { fusedRef: 0, genericRef: 0, fusedGeneric: 0 };

describe.skipIf(!probe.usable)(`fused attention.rpe_fft on native${probe.usable ? '' : ` — skipped: ${probe.reason}`}`, () => {
  beforeAll(async () => {
    await activateBackend('native');
  });
  afterAll(() => {
    setFusedKernels(true);
    console.log(`fused-rpe worst relErr: ${JSON.stringify(worst)}`);
  });

  it('the hook offers rpeFft', () => {
    const hook = (tf.backend() as { kernelflowFused?: NativeFused }).kernelflowFused;
    expect(typeof hook?.rpeFft).toBe('function');
  });

  // [B, H, N, D, Dv, map, m (favor+ features; elu: m = D), eps]
  const cases = [
    [1, 1, 1, 3, 1, 'elu', 3, 1e-6],
    [2, 1, 2, 1, 5, 'elu', 1, 0],
    [1, 3, 7, 3, 5, 'favor+', 16, 0],
    [2, 2, 37, 16, 1, 'elu', 16, 1e-3],
    [1, 2, 37, 4, 5, 'favor+', 1, 0],
    [2, 2, 300, 3, 5, 'elu', 3, 1e-6],
    [1, 3, 300, 8, 1, 'favor+', 3, 0],
    [1, 2, 300, 16, 5, 'favor+', 16, 0],
  ] as const;
  for (const [B, H, N, D, Dv, map, m, eps] of cases)
    for (const causal of [false, true]) {
      it(`${B}×${H} N ${N} D ${D} Dv ${Dv} ${map} m ${m} eps ${eps} causal ${causal}: fused = generic = float64`, async () => {
        const x = makeQkv(B, H, N, N, D, Dv, 7 + N + D, 0.5);
        const b = sequence([H, 2 * N - 1], 11 + N).data; // b ∈ [−2, 2)
        const w = map === 'favor+' ? projOf(m, D, 13 + m) : undefined;
        const given = { feature_map: map, causal, eps, num_features: m };
        const fast = await runOp(x, b, w, given, true);
        const slow = await runOp(x, b, w, given, false);
        expect([fast.path, slow.path]).toEqual(['native-fused', 'generic']);
        expect(fast.shape).toEqual([B, H, N, Dv]);
        const c = (h: number, i: number, j: number) => (causal && j > i ? 0 : Math.exp(b[h * (2 * N - 1) + (i - j) + N - 1]));
        const ref = refKernelised(x, map, { w, causal, eps, c });
        const e = { fusedRef: relErr(fast.data, ref), genericRef: relErr(slow.data, ref), fusedGeneric: relErr(fast.data, Array.from(slow.data)) };
        for (const key of Object.keys(e) as (keyof typeof e)[]) worst[key] = Math.max(worst[key], e[key]);
        expect(e.fusedRef, 'fused vs float64').toBeLessThan(1e-6);
        expect(e.genericRef, 'generic vs float64').toBeLessThan(3e-5);
        expect(e.fusedGeneric, 'fused vs generic').toBeLessThan(3e-5);
      });
    }

  it('favor+ with eps > 0 (the per-row shifts then matter): fused = generic', async () => {
    const [B, H, N, D, Dv, m] = [2, 2, 37, 4, 5, 16];
    const x = makeQkv(B, H, N, N, D, Dv, 91, 0.5);
    const b = sequence([H, 2 * N - 1], 92).data;
    const w = projOf(m, D, 93);
    for (const causal of [false, true]) {
      const given = { feature_map: 'favor+', causal, eps: 0.01, num_features: m };
      const fast = await runOp(x, b, w, given, true);
      const slow = await runOp(x, b, w, given, false);
      expect(fast.path).toBe('native-fused');
      expect(relErr(fast.data, Array.from(slow.data))).toBeLessThan(3e-5);
    }
  });

  it('method "direct" stays generic', async () => {
    const x = makeQkv(1, 1, 5, 5, 2, 2, 3, 0.5);
    const r = await runOp(x, sequence([1, 9], 4).data, undefined, { method: 'direct' }, true);
    expect(r.path).toBe('generic');
  });

  it('a row whose φ(q) is all zero (relu) divides by 1, as safeDiv: out = num = 0', async () => {
    const x = makeQkv(1, 2, 9, 9, 3, 2, 5, 0.5);
    for (let i = 0; i < 3; i++) x.q[(1 * 9 + 4) * 3 + i] = -1; // head 1, query 4: relu(q) = 0
    const b = sequence([2, 17], 6).data;
    for (const causal of [false, true]) {
      const fast = await runOp(x, b, undefined, { feature_map: 'relu', eps: 0, causal }, true);
      const slow = await runOp(x, b, undefined, { feature_map: 'relu', eps: 0, causal }, false);
      expect(fast.path).toBe('native-fused');
      expect(Array.from(fast.data.slice((9 + 4) * 2, (9 + 5) * 2))).toEqual([0, 0]);
      expect(Array.from(slow.data.slice((9 + 4) * 2, (9 + 5) * 2))).toEqual([0, 0]);
      expect(fast.data.every(Number.isFinite)).toBe(true);
    }
  });

  it('results do not depend on the thread count', () => {
    const load = loadNativeAddon();
    if (!load.ok) throw new Error(load.reason);
    const hook = (tf.backend() as { kernelflowFused?: NativeFused }).kernelflowFused!;
    const threads = load.addon.info().ompThreads;
    const [bh, heads, n, m, dv] = [6, 3, 700, 15, 5];
    const rand = (len: number, seed: number, lo: number) => Float32Array.from({ length: len }, (_, i) => lo + Math.abs(Math.sin(seed * 7919 + i * 12.9898)));
    const fq = rand(bh * n * m, 1, 0), fk = rand(bh * n * m, 2, 0), v = rand(bh * n * dv, 3, -0.5), cexp = rand(heads * (2 * n - 1), 4, 0);
    const runs: Float32Array[][] = [];
    try {
      for (const t of [1, Math.max(2, threads)]) {
        load.addon.setThreads(t);
        runs.push([hook.rpeFft!(fq, fk, v, cexp, bh, heads, n, m, dv, false, 1e-3), hook.rpeFft!(fq, fk, v, cexp, bh, heads, n, m, dv, true, 0)]);
      }
    } finally {
      load.addon.setThreads(threads);
    }
    runs[0].forEach((r, i) => expect(Array.from(runs[1][i])).toEqual(Array.from(r)));
  });
});
