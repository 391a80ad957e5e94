/**
 * attention.s2 is block-sparse: on every backend it equals float64 softmax attention under an
 * independently enumerated S2 mask (refS2Allowed) for ragged lengths (N not a multiple of block_size),
 * Nq > Nk, a single decoding query, block_size > N, dense heads and batches; and at N = 4096 (wasm) it
 * computes only the active blocks: no kernel output reaches N² / 8 elements, the logits computed in
 * all add up to under a quarter of H·N², and the peak tensor memory stays under one N×N float32 matrix / 4.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { s2Attention, s2Mask, softmaxAttention } from '../../operators/attention/index.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';
import { call, dot, makeQkv, refAttention, refS2Allowed, relErr, tensorsOf, type Qkv, type S2Ref } from './reference.js';

interface Case { name: string; B: number; H: number; Nq: number; Nk: number; D: number; Dv: number; p: Record<string, unknown> }

const cases: Case[] = [
  { name: 'ragged N = 37, block 5, dense heads 2 of 4, B = 2, scale 0.3', B: 2, H: 4, Nq: 37, Nk: 37, D: 4, Dv: 3, p: { block_size: 5, local_blocks: 1, vert_stride: 4, head_offset: 1, dense_heads: 2, scale: 0.3 } },
  { name: 'Nq > Nk: the first Nq − Nk queries return 0', B: 2, H: 2, Nq: 14, Nk: 10, D: 3, Dv: 2, p: { block_size: 4, local_blocks: 1, vert_stride: 2 } },
  { name: 'one decoding query, head_step null', B: 1, H: 3, Nq: 1, Nk: 23, D: 4, Dv: 3, p: { block_size: 4, local_blocks: 2, vert_stride: 3 } },
  { name: 'block_size > N: plain causal softmax', B: 1, H: 2, Nq: 7, Nk: 7, D: 4, Dv: 2, p: { block_size: 16 } },
  { name: 'Nq < Nk, off-block start, head_step 2', B: 1, H: 3, Nq: 11, Nk: 30, D: 4, Dv: 3, p: { block_size: 4, local_blocks: 2, vert_stride: 5, head_step: 2 } },
];

function refOpts(c: Case): S2Ref {
  const p = params(s2Attention, c.p) as { block_size: number; local_blocks: number; vert_stride: number; head_step: number | null; head_offset: number; dense_heads: number };
  const step = p.head_step ?? Math.max(1, Math.floor(p.vert_stride / c.H));
  return { H: c.H, Nq: c.Nq, Nk: c.Nk, bs: p.block_size, local: p.local_blocks, vs: p.vert_stride, step, off: p.head_offset, dense: p.dense_heads };
}

for (const backend of testBackends()) {
  describe(`attention.s2 block-sparse on ${backend}`, () => {
    cases.forEach((c, n) => {
      it(`${c.name}: float64 softmax under the S2 mask (rel 2e-6), = attention.softmax with the mask (1e-6), no leaks`, async () => {
        await useBackend(backend);
        const x = makeQkv(c.B, c.H, c.Nq, c.Nk, c.D, c.Dv, 200 + 7 * n);
        const o = refOpts(c);
        const before = tf.memory().numTensors;
        const t = tensorsOf(x);
        const p = params(s2Attention, c.p);
        const { out } = await call(s2Attention, t, p, testContext());
        const got = await out.data();
        const want = refAttention(x, { scale: (c.p.scale as number | undefined) ?? 1 / Math.sqrt(c.D), allowed: (_b, h, i, j) => refS2Allowed(h, i, j, o) });
        expect(relErr(got, want)).toBeLessThan(2e-6);
        const mask = tf.tensor(s2Mask(p, c.H, c.Nq, c.Nk), [1, c.H, c.Nq, c.Nk]);
        const { out: sm } = await call(softmaxAttention, { ...t, mask }, params(softmaxAttention, { scale: c.p.scale ?? null }), testContext());
        expect(relErr(got, Array.from(await sm.data()))).toBeLessThan(1e-6);
        tf.dispose([t.q, t.k, t.v, out, mask, sm]);
        expect(tf.memory().numTensors).toBe(before);
      });
    });
  });
}

/** Float64 softmax attention under the S2 mask for the listed (h, i) rows only. */
function refRows(x: Qkv, o: S2Ref, rows: Array<[number, number]>): number[] {
  const out: number[] = [];
  for (const [h, i] of rows) {
    const l: number[] = [];
    const js: number[] = [];
    for (let j = 0; j < x.Nk; j++) {
      if (!refS2Allowed(h, i, j, o)) continue;
      l.push(dot(x.q, (h * x.Nq + i) * x.D, x.k, (h * x.Nk + j) * x.D, x.D) / Math.sqrt(x.D));
      js.push(j);
    }
    const m = Math.max(...l);
    const e = l.map((z) => Math.exp(z - m));
    const s = e.reduce((a, b) => a + b, 0);
    for (let c = 0; c < x.Dv; c++) out.push(js.reduce((a, j, t) => a + (e[t] / s) * x.v[(h * x.Nk + j) * x.Dv + c], 0));
  }
  return out;
}

describe('attention.s2 cost at N = 4096 (wasm)', () => {
  it('computes only the active blocks: no N×N tensor, logits ≪ H·N², peak < N²·4/4 bytes; sampled rows match float64', async () => {
    await useBackend('wasm');
    const [H, N, D, Dv] = [2, 4096, 16, 8];
    const x = makeQkv(1, H, N, N, D, Dv, 301, 0.5);
    const c: Case = { name: '', B: 1, H, Nq: N, Nk: N, D, Dv, p: { block_size: 64, local_blocks: 2, vert_stride: 8 } };
    const t = tensorsOf(x);
    const before = tf.memory().numTensors;
    let got: Float32Array = new Float32Array();
    const info = await tf.profile(async () => {
      const { out } = await call(s2Attention, t, params(s2Attention, c.p), testContext());
      got = (await out.data()) as Float32Array;
      out.dispose();
    });
    expect(tf.memory().numTensors).toBe(before);
    const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
    const largest = Math.max(...info.kernels.flatMap((k) => k.outputShapes.map(size)));
    expect(largest).toBeLessThan((N * N) / 8);
    // every query block sees ≤ 2 local + ⌈64/8⌉ strided blocks of 64 keys: ≤ 10·64 logits per query
    const logits = info.kernels.filter((k) => k.name === 'BatchMatMul' && k.outputShapes[0].at(-1)! % 64 === 0 && k.outputShapes[0].at(-2) === 64);
    const computed = logits.reduce((a, k) => a + size(k.outputShapes[0]), 0);
    expect(computed).toBeGreaterThan(0);
    expect(computed).toBeLessThan((H * N * N) / 4);
    expect(info.peakBytes).toBeLessThan((N * N * 4) / 4);
    console.log(`s2 N=${N}: largest kernel output ${largest} elements, logits ${(computed / (H * N * N)).toFixed(3)}·H·N², peak ${(info.peakBytes / 1e6).toFixed(1)} MB`);
    // rows spread over the sequence (chunk boundaries included), both heads
    const rows: Array<[number, number]> = [];
    for (let h = 0; h < H; h++) for (const i of [0, 1, 63, 64, 200, 1023, 1024, 2047, 2500, 3071, 4000, 4095]) rows.push([h, i]);
    const want = refRows(x, refOpts(c), rows);
    const sampled = rows.flatMap(([h, i]) => Array.from(got.slice((h * N + i) * Dv, (h * N + i + 1) * Dv)));
    expect(relErr(sampled, want)).toBeLessThan(2e-6);
    tf.dispose([t.q, t.k, t.v]);
  });
});
