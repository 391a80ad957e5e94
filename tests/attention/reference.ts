/**
 * Float64 references for the attention tests: plain loops over the masked O(n²) definitions.
 * Arrays are row-major; q [B,H,Nq,D], k [B,H,Nk,D], v [B,H,Nk,Dv].
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { sequence } from '../helpers/dense-reference.js';

export interface Qkv { B: number; H: number; Nq: number; Nk: number; D: number; Dv: number; q: number[]; k: number[]; v: number[] }

export function makeQkv(B: number, H: number, Nq: number, Nk: number, D: number, Dv: number, seed = 1, amp = 1): Qkv {
  const f = (shape: number[], s: number) => sequence(shape, s).data.map((x) => Math.fround(x * amp));
  return { B, H, Nq, Nk, D, Dv, q: f([B, H, Nq, D], seed), k: f([B, H, Nk, D], seed + 1), v: f([B, H, Nk, Dv], seed + 2) };
}

export function tensorsOf(x: Qkv): { q: tf.Tensor; k: tf.Tensor; v: tf.Tensor } {
  return {
    q: tf.tensor(x.q, [x.B, x.H, x.Nq, x.D]),
    k: tf.tensor(x.k, [x.B, x.H, x.Nk, x.D]),
    v: tf.tensor(x.v, [x.B, x.H, x.Nk, x.Dv]),
  };
}

export type Allowed = (b: number, h: number, i: number, j: number) => boolean;
export type Bias = (b: number, h: number, i: number, j: number) => number;

export const dot = (a: number[], ia: number, b: number[], ib: number, n: number) => {
  let s = 0;
  for (let t = 0; t < n; t++) s += a[ia + t] * b[ib + t];
  return s;
};

/** Dense masked attention in float64: softmax rows (empty rows → 0) or elementwise sigmoid. */
export function refAttention(
  x: Qkv,
  opts: { scale?: number; allowed?: Allowed; bias?: Bias; kind?: 'softmax' | 'sigmoid'; offset?: number } = {},
): number[] {
  const { B, H, Nq, Nk, D, Dv } = x;
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  const out = new Array<number>(B * H * Nq * Dv).fill(0);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < Nq; i++) {
        const logits: number[] = [];
        const js: number[] = [];
        for (let j = 0; j < Nk; j++) {
          if (opts.allowed && !opts.allowed(b, h, i, j)) continue;
          const l = dot(x.q, ((b * H + h) * Nq + i) * D, x.k, ((b * H + h) * Nk + j) * D, D) * scale + (opts.bias?.(b, h, i, j) ?? 0);
          logits.push(l);
          js.push(j);
        }
        let w: number[];
        if (opts.kind === 'sigmoid') w = logits.map((l) => 1 / (1 + Math.exp(-(l + (opts.offset ?? 0)))));
        else {
          const m = Math.max(...logits);
          const e = logits.map((l) => Math.exp(l - m));
          const s = e.reduce((a, c) => a + c, 0);
          w = e.map((c) => c / s);
        }
        js.forEach((j, t) => {
          for (let c = 0; c < Dv; c++) out[((b * H + h) * Nq + i) * Dv + c] += w[t] * x.v[((b * H + h) * Nk + j) * Dv + c];
        });
      }
  return out;
}

/** Max |got − want| / max(1, max |want|). */
export function relErr(got: ArrayLike<number>, want: number[]): number {
  expect(got.length).toBe(want.length);
  let e = 0;
  let s = 1;
  for (let i = 0; i < want.length; i++) {
    e = Math.max(e, Math.abs(got[i] - want[i]));
    s = Math.max(s, Math.abs(want[i]));
  }
  return e / s;
}

export const causalAllowed = (Nq: number, Nk: number): Allowed => (_b, _h, i, j) => j <= i + (Nk - Nq);

/** Runs fn and checks that no tensor leaked (the returned outputs are read, then disposed). */
export async function noLeak<T>(fn: () => Promise<T> | T, read: (r: T) => Promise<void>, dispose: (r: T) => void): Promise<void> {
  const before = tf.memory().numTensors;
  const r = await fn();
  await read(r);
  dispose(r);
  expect(tf.memory().numTensors).toBe(before);
}

/** Calls an operator's run the way the engine does: a sync run inside a scope that frees temporaries. */
export async function call(op: { run: (...a: any[]) => unknown }, inputs: Record<string, unknown>, p: unknown, ctx: unknown): Promise<Record<string, tf.Tensor>> {
  if (op.run.constructor.name === 'AsyncFunction') return (await op.run(inputs, p, ctx)) as Record<string, tf.Tensor>;
  return tf.tidy(() => op.run(inputs, p, ctx) as Record<string, tf.Tensor>);
}

/** φ in float64 for one row x (length D), from the formulas. */
export function phi64(x: number[], map: string, w?: number[][]): number[] {
  if (map === 'elu') return x.map((z) => (z > 0 ? z + 1 : Math.exp(z)));
  if (map === 'relu') return x.map((z) => Math.max(z, 0));
  const d = x.length;
  const xs = x.map((z) => z / d ** 0.25);
  const sq = xs.reduce((s, z) => s + z * z, 0) / 2;
  return w!.map((row) => Math.exp(dot(row, 0, xs, 0, d) - sq) / Math.sqrt(w!.length));
}

/** Kernelised attention by the O(n²) definition: weights φ(q_i)·φ(k_j) (times c(i,j) when given). */
export function refKernelised(x: Qkv, map: string, opts: { w?: number[][]; causal?: boolean; eps?: number; c?: (h: number, i: number, j: number) => number } = {}): number[] {
  const { B, H, Nq, Nk, D, Dv } = x;
  const out = new Array<number>(B * H * Nq * Dv).fill(0);
  const row = (a: number[], n: number, b: number, h: number, i: number) => a.slice(((b * H + h) * n + i) * D, ((b * H + h) * n + i + 1) * D);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const fk = Array.from({ length: Nk }, (_, j) => phi64(row(x.k, Nk, b, h, j), map, opts.w));
      for (let i = 0; i < Nq; i++) {
        const fq = phi64(row(x.q, Nq, b, h, i), map, opts.w);
        let den = 0;
        const num = new Array<number>(Dv).fill(0);
        for (let j = 0; j < Nk; j++) {
          if (opts.causal && j > i + Nk - Nq) continue;
          const a = dot(fq, 0, fk[j], 0, fq.length) * (opts.c ? opts.c(h, i, j) : 1);
          den += a;
          for (let c = 0; c < Dv; c++) num[c] += a * x.v[((b * H + h) * Nk + j) * Dv + c];
        }
        den += opts.eps ?? 0;
        for (let c = 0; c < Dv; c++) out[((b * H + h) * Nq + i) * Dv + c] = den === 0 ? 0 : num[c] / den;
      }
    }
  return out;
}

export function projOf(m: number, d: number, seed: number): number[][] {
  const s = sequence([m, d], seed).data;
  // Box–Muller from the uniform sequence gives Gaussian rows (exact float32 values)
  return Array.from({ length: m }, (_, r) => Array.from({ length: d }, (_, c) => {
    const u1 = (s[r * d + c] + 2) / 4 + 1e-7;
    const u2 = (s[(r * d + c + 1) % s.length] + 2) / 4;
    return Math.fround(Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
  }));
}

export interface S2Ref { H: number; Nq: number; Nk: number; bs: number; local: number; vs: number; step: number; off: number; dense: number }
/** S2 allowed keys, enumerated differently: local blocks [qb−L+1, qb] ∪ {r, r+s, r+2s, …}, r ≡ −(h·step+off) mod s. */
export function refS2Allowed(h: number, i: number, j: number, o: S2Ref): boolean {
  const pos = i + o.Nk - o.Nq;
  if (j > pos) return false;
  if (h >= o.H - o.dense) return true;
  const qb = Math.floor(pos / o.bs);
  const kb = Math.floor(j / o.bs);
  const blocks = new Set<number>();
  for (let t = Math.max(0, qb - o.local + 1); t <= qb; t++) blocks.add(t);
  const r = (((-(h * o.step + o.off)) % o.vs) + o.vs) % o.vs;
  for (let t = r; t <= qb; t += o.vs) blocks.add(t);
  return blocks.has(kb);
}

/**
 * Independent window rule, written from the group lists: the keys of query i are k consecutive members
 * of its dilation group, starting at clamp(p − k//2, 0, Lg − k) (non-causal), or the members p−k < p′ ≤ p (causal).
 */
export function refWindow(n: number, k: number, d: number, causal: boolean): Set<number>[] {
  const sets: Set<number>[] = [];
  for (let i = 0; i < n; i++) {
    const members: number[] = [];
    for (let j = i % d; j < n; j += d) members.push(j);
    const p = members.indexOf(i);
    const keys = causal ? members.filter((_, t) => t <= p && t > p - k) : members.slice(Math.min(Math.max(p - Math.floor(k / 2), 0), members.length - k)).slice(0, k);
    sets.push(new Set(keys));
  }
  return sets;
}
