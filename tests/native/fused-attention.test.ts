/**
 * The native backend's fused attention kernels (native/attention.c through NativeFused) against
 * float64 references (plain loops over the masked O(n²) definitions, tests/attention/reference.ts)
 * and against the operators' generic tfjs path on the same backend: attention.neighborhood 1-D
 * and 2-D (dilation, even kernels, causal padding rows) and attention.softmax (causal with Nq < Nk
 * and Nq > Nk, Dv ≠ D, N across several query blocks and key tiles, B·H > 1). Skipped, saying why,
 * where the addon is not built.
 *
 * Tolerances, relative to max(1, max |out|): both paths are float32 (logits, exp, weighted sums),
 * measured ≈3e-7 (neighbourhood) and ≈1.4e-6 (softmax, 1300 keys); bounds 2e-6 and 1e-5. A logit
 * l is rounded to float32 before exp, which moves its weight by ≈|l|·6e-8: the large-logit case
 * (|l| up to ≈100) gets 3e-5.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activateBackend, probeBackend } from '../../core/run/backends.js';
import { setFusedKernels, type NativeFused } from '../../core/run/native-backend.js';
import { loadNativeAddon } from '../../core/run/native-addon.js';
import type { Operator } from '../../core/operator/index.js';
import { neighborhoodAttention, softmaxAttention } from '../../operators/attention/index.js';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';
import { call, causalAllowed, makeQkv, refAttention, refWindow, relErr, type Allowed, type Qkv } from '../attention/reference.js';

const probe = await probeBackend('native');

/** Runs `op` on native with the fused kernels on or off; returns `out`, the path noted, and checks for leaks. */
async function runOp(op: Operator, x: Qkv, given: Record<string, unknown>, fused: boolean, grid?: [number, number]) {
  const was = setFusedKernels(fused);
  try {
    const before = tf.memory().numTensors;
    const space = grid ?? [x.Nq];
    const q = tf.tensor(x.q, [x.B, x.H, ...space, x.D]);
    const k = tf.tensor(x.k, [x.B, x.H, ...(grid ?? [x.Nk]), x.D]);
    const v = tf.tensor(x.v, [x.B, x.H, ...(grid ?? [x.Nk]), x.Dv]);
    const ctx = testContext();
    const { out } = await call(op, { q, k, v }, params(op, given), ctx);
    const data = (await out.data()) as Float32Array;
    const shape = out.shape;
    tf.dispose([out, q, k, v]);
    expect(tf.memory().numTensors).toBe(before);
    return { data, shape, path: ctx.notes.kernel_path };
  } finally {
    setFusedKernels(was);
  }
}

/** Max |a − b| / max(1, max |b|), as relErr, between two float32 results. */
const diff = (a: Float32Array, b: Float32Array) => relErr(a, Array.from(b));

/** Fused and generic agree with each other and with the float64 reference; returns the fused output. */
async function compare(op: Operator, x: Qkv, given: Record<string, unknown>, allowed: Allowed | undefined, tol: number, label: string, grid?: [number, number]) {
  const fast = await runOp(op, x, given, true, grid);
  const slow = await runOp(op, x, given, false, grid);
  expect([fast.path, slow.path], label).toEqual(['native-fused', 'generic']);
  expect(fast.shape, label).toEqual(slow.shape);
  const ref = refAttention(x, { allowed, scale: given.scale as number | undefined });
  expect(relErr(fast.data, ref), `${label}: fused vs float64`).toBeLessThan(tol);
  expect(relErr(slow.data, ref), `${label}: generic vs float64`).toBeLessThan(tol);
  expect(diff(fast.data, slow.data), `${label}: fused vs generic`).toBeLessThan(2 * tol);
  return fast.data;
}

describe.skipIf(!probe.usable)(`fused attention on native${probe.usable ? '' : ` — skipped: ${probe.reason}`}`, () => {
  beforeAll(async () => {
    await activateBackend('native');
  });
  afterAll(() => {
    setFusedKernels(true);
  });

  it('the hook offers both kernels', () => {
    const hook = (tf.backend() as { kernelflowFused?: NativeFused }).kernelflowFused;
    expect(typeof hook?.neighborhood).toBe('function');
    expect(typeof hook?.flashAttention).toBe('function');
  });

  it('neighborhood 1-D: odd/even k, dilation 1–3, causal (padding rows) or not, B·H > 1', async () => {
    const n = 37;
    const x = makeQkv(2, 3, n, n, 8, 5, 31);
    for (const [k, d] of [[7, 1], [4, 1], [5, 2], [4, 3], [2, 2], [1, 1]] as const)
      for (const causal of [false, true]) {
        const w = refWindow(n, k, d, causal);
        await compare(neighborhoodAttention, x, { kernel_size: k, dilation: d, causal }, (_b, _h, i, j) => w[i].has(j), 2e-6, `k ${k} d ${d} causal ${causal}`);
      }
  });

  it('neighborhood 2-D: per-axis kernel, dilation and causal; explicit scale', async () => {
    const [X, Y] = [7, 9];
    const x = makeQkv(1, 2, X * Y, X * Y, 6, 4, 41);
    for (const [ks, ds, causal] of [
      [[3, 4], [2, 2], false],
      [[3, 2], [1, 3], [true, false]],
      [[2, 3], [3, 1], [false, true]],
      [[7, 9], [1, 1], true],
    ] as const) {
      const wx = refWindow(X, ks[0], ds[0], Array.isArray(causal) ? causal[0] : causal);
      const wy = refWindow(Y, ks[1], ds[1], Array.isArray(causal) ? causal[1] : causal);
      const allowed: Allowed = (_b, _h, i, j) => wx[Math.floor(i / Y)].has(Math.floor(j / Y)) && wy[i % Y].has(j % Y);
      const given = { rank: 2, kernel_size: [...ks], dilation: [...ds], causal: Array.isArray(causal) ? [...causal] : causal, scale: 0.3 };
      await compare(neighborhoodAttention, x, given, allowed, 2e-6, `2-D ${ks} ${ds} ${causal}`, [X, Y]);
    }
  });

  it('softmax: plain and causal, Dv ≠ D, N across several query blocks and key tiles, B·H > 1', async () => {
    // 128-row query blocks and 1024-key tiles (native/attention.c): 1300 = 10 blocks + 20 rows, 1 tile + 276 keys.
    for (const [B, H, Nq, Nk, D, Dv] of [
      [1, 1, 1, 1, 3, 2],
      [2, 3, 130, 130, 8, 5],
      [1, 2, 300, 1300, 16, 24],
    ] as const) {
      const x = makeQkv(B, H, Nq, Nk, D, Dv, 51 + Nq, 2);
      for (const causal of [false, true]) {
        await compare(softmaxAttention, x, { causal }, causal ? causalAllowed(Nq, Nk) : undefined, 1e-5, `${B}×${H} ${Nq}×${Nk} D ${D} Dv ${Dv} causal ${causal}`);
      }
    }
  });

  it('softmax causal with Nq > Nk: the first Nq − Nk rows see no key and give exactly 0', async () => {
    for (const [Nq, Nk] of [
      [200, 70],
      [1100, 1030],
    ] as const) {
      const x = makeQkv(1, 2, Nq, Nk, 8, 3, 61);
      const out = await compare(softmaxAttention, x, { causal: true }, causalAllowed(Nq, Nk), 1e-5, `${Nq}×${Nk}`);
      for (let h = 0; h < 2; h++)
        for (let i = 0; i < Nq - Nk; i++) for (let c = 0; c < 3; c++) expect(out[(h * Nq + i) * 3 + c]).toBe(0);
      expect(out.every(Number.isFinite)).toBe(true);
    }
  });

  it('softmax: large logits (max shift) and an explicit scale stay finite and accurate', async () => {
    const x = makeQkv(1, 2, 150, 1100, 8, 8, 71, 6);
    await compare(softmaxAttention, x, { scale: 0.9, causal: true }, causalAllowed(150, 1100), 3e-5, 'large logits');
  });

  it('softmax with a mask, a bias or return_weights takes the generic path', async () => {
    const x = makeQkv(1, 1, 6, 6, 4, 4, 81);
    const q = tf.tensor(x.q, [1, 1, 6, 4]);
    const v = tf.tensor(x.v, [1, 1, 6, 4]);
    const mask = tf.ones([6, 6]);
    for (const [inputs, given] of [
      [{ q, k: q, v, mask }, {}],
      [{ q, k: q, v, bias: mask }, {}],
      [{ q, k: q, v }, { return_weights: true }],
    ] as const) {
      const ctx = testContext();
      const out = await call(softmaxAttention, inputs, params(softmaxAttention, given), ctx);
      expect(ctx.notes.kernel_path).toBe('generic');
      tf.dispose(Object.values(out));
    }
    tf.dispose([q, v, mask]);
  });
  it('results do not depend on the thread count', () => {
    const load = loadNativeAddon();
    if (!load.ok) throw new Error(load.reason);
    const hook = (tf.backend() as { kernelflowFused?: NativeFused }).kernelflowFused!;
    const threads = load.addon.info().ompThreads;
    const bh = 3, n = 700, d = 16, dv = 8, kw = 5;
    const rand = (len: number, seed: number) => Float32Array.from({ length: len }, (_, i) => Math.sin(seed * 7919 + i * 12.9898) * 0.9);
    const q = rand(bh * n * d, 1), k = rand(bh * n * d, 2), v = rand(bh * n * dv, 3);
    const index = Int32Array.from({ length: n * kw }, (_, i) => Math.min(n - kw, Math.max(0, Math.floor(i / kw) - 2)) + (i % kw));
    const runs: Float32Array[][] = [];
    try {
      for (const t of [1, Math.max(2, threads)]) {
        load.addon.setThreads(t);
        runs.push([
          hook.flashAttention!(q, k, v, bh, n, n, d, dv, 0.25, false),
          hook.flashAttention!(q, k, v, bh, n, n, d, dv, 0.25, true),
          hook.neighborhood!(q, k, v, index, null, bh, n, d, dv, kw, 0.25),
        ]);
      }
    } finally {
      load.addon.setThreads(threads);
    }
    runs[0].forEach((r, i) => expect(Array.from(runs[1][i])).toEqual(Array.from(r)));
  });
});
