/**
 * model.lsa_icl, predict.gd_icl and train.lsa_icl against float64 references written here from the
 * formulas (plain loops): the whole LSA layer, the construction = one GD step, the optimal step
 * against a float64 grid search, hand-written gradients against central finite differences of a
 * float64 loss, GD/Adam steps, convergence of the reduced (Γ) layer to the float64 least-squares
 * solution, divergence and cancellation errors, and constant tf.memory().numTensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { OperatorError } from '../../core/operator/index.js';
import { lsaIcl } from '../../operators/model/lsa-icl.js';
import { lsaFeatures, lsaLossAndGrads } from '../../operators/model/lsa-icl-lib.js';
import { Rng } from '../../operators/model/rng.js';
import { gdIcl } from '../../operators/predict/gd-icl.js';
import { lsaIclTrain } from '../../operators/train/lsa-icl.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';

interface Prompts {
  T: number;
  N: number;
  D: number;
  tokens: Float32Array;
  y: Float32Array;
}

/** Prompts like data.icl_linear's (x ~ N(0, I), w ~ N(0, I/d), optional noise), drawn here. */
function prompts(T: number, N: number, d: number, seed: number, noise = 0): Prompts {
  const rng = new Rng(seed);
  const D = d + 1;
  const tokens = new Float32Array(T * (N + 1) * D);
  const y = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    const w = Array.from({ length: d }, () => rng.normal() / Math.sqrt(d));
    for (let i = 0; i <= N; i++) {
      const at = (t * (N + 1) + i) * D;
      let dot = 0;
      for (let j = 0; j < d; j++) dot += w[j] * (tokens[at + j] = rng.normal());
      dot += noise * rng.normal();
      if (i < N) tokens[at + d] = dot;
      else y[t] = dot;
    }
  }
  return { T, N, D, tokens, y };
}

const tok = (P: Prompts, t: number, i: number, j: number) => P.tokens[(t * (P.N + 1) + i) * P.D + j];

/** M_t = (1/N)Σ_{i<N} e_i e_iᵀ in float64. */
function moment64(P: Prompts, t: number): number[][] {
  const M = Array.from({ length: P.D }, () => new Array<number>(P.D).fill(0));
  for (let i = 0; i < P.N; i++) for (let j = 0; j < P.D; j++) for (let k = 0; k < P.D; k++) M[j][k] += (tok(P, t, i, j) * tok(P, t, i, k)) / P.N;
  return M;
}

/** The layer's output tokens [T, N+1, D] in float64: e_j + W_PV M W_KQ e_j. */
function layer64(P: Prompts, wkq: ArrayLike<number>, wpv: ArrayLike<number>): Float64Array {
  const { T, N, D } = P;
  const out = new Float64Array(T * (N + 1) * D);
  for (let t = 0; t < T; t++) {
    const M = moment64(P, t);
    for (let i = 0; i <= N; i++) {
      const e = Array.from({ length: D }, (_, j) => tok(P, t, i, j));
      const a = Array.from({ length: D }, (_, r) => e.reduce((s, v, c) => s + wkq[r * D + c] * v, 0));
      const b = Array.from({ length: D }, (_, r) => a.reduce((s, v, c) => s + M[r][c] * v, 0));
      for (let r = 0; r < D; r++) out[(t * (N + 1) + i) * D + r] = e[r] + b.reduce((s, v, c) => s + wpv[r * D + c] * v, 0);
    }
  }
  return out;
}

/** s_t = x_q·(1/N)Σ y_i x_i in float64. */
function gdScore64(P: Prompts): Float64Array {
  const d = P.D - 1;
  return Float64Array.from({ length: P.T }, (_, t) => {
    let s = 0;
    for (let i = 0; i < P.N; i++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += tok(P, t, i, j) * tok(P, t, P.N, j);
      s += (tok(P, t, i, d) * dot) / P.N;
    }
    return s;
  });
}

/** The training loss mean_t (ŷ_t − y_t)² in float64 for weights [W_KQ, W_PV] (full) or [Γ] (gamma). */
function loss64(P: Prompts, w: number[][]): number {
  const { T, N, D } = P;
  const d = D - 1;
  let sum = 0;
  for (let t = 0; t < T; t++) {
    let pred = 0;
    if (w.length === 2) {
      const M = moment64(P, t);
      const e = Array.from({ length: D }, (_, j) => tok(P, t, N, j));
      const a = Array.from({ length: D }, (_, r) => e.reduce((s, v, c) => s + w[0][r * D + c] * v, 0));
      for (let j = 0; j < D; j++) for (let k = 0; k < D; k++) pred += w[1][(D - 1) * D + j] * M[j][k] * a[k];
    } else {
      const g = new Array<number>(d).fill(0);
      for (let i = 0; i < N; i++) for (let b = 0; b < d; b++) g[b] += (tok(P, t, i, d) * tok(P, t, i, b)) / N;
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) pred += tok(P, t, N, a) * w[0][a * d + b] * g[b];
    }
    sum += (pred - P.y[t]) ** 2;
  }
  return sum / T;
}

/** Central finite differences of loss64 (float64, h = 1e-6). */
function fdGrad(P: Prompts, w: number[][]): number[][] {
  const h = 1e-6;
  return w.map((wi, k) =>
    wi.map((_, i) => {
      const plus = w.map((v) => [...v]);
      const minus = w.map((v) => [...v]);
      plus[k][i] += h;
      minus[k][i] -= h;
      return (loss64(P, plus) - loss64(P, minus)) / (2 * h);
    }),
  );
}

const f32 = (a: number[]) => Array.from(Float32Array.from(a));
const randomWeights = (n: number, seed: number, std = 0.5) => f32(Array.from(new Rng(seed).normals(n, std)));
const maxAbs = (a: ArrayLike<number>) => Math.max(...Array.from(a, Math.abs));
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));

async function runModel(P: Prompts, p: Record<string, unknown>, w?: { wkq: number[]; wpv: number[] }) {
  const inputs: Record<string, tf.Tensor> = { tokens: tf.tensor3d(P.tokens, [P.T, P.N + 1, P.D]) };
  if (w) {
    inputs.w_kq = tf.tensor2d(w.wkq, [P.D, P.D]);
    inputs.w_pv = tf.tensor2d(w.wpv, [P.D, P.D]);
  }
  const out = tf.tidy(() => lsaIcl.run(inputs as never, params(lsaIcl, p), testContext()) as { pred: tf.Tensor; out: tf.Tensor });
  const res = { pred: await out.pred.data(), out: await out.out.data(), shape: out.out.shape };
  tf.dispose([...Object.values(inputs), out.pred, out.out]);
  return res;
}

async function runGd(P: Prompts, p: Record<string, unknown>, withY = true) {
  const tokens = tf.tensor3d(P.tokens, [P.T, P.N + 1, P.D]);
  const y = tf.tensor1d(P.y);
  const ctx = testContext();
  try {
    const out = (await gdIcl.run({ tokens, y: withY ? y : undefined } as never, params(gdIcl, p), ctx)) as Record<'pred' | 'w' | 'eta', tf.Tensor>;
    const res = { pred: await out.pred.data(), w: await out.w.data(), eta: (await out.eta.data())[0], notes: ctx.notes };
    tf.dispose([out.pred, out.w, out.eta]);
    return res;
  } finally {
    tf.dispose([tokens, y]);
  }
}

async function runTrain(P: Prompts, p: Record<string, unknown>, init?: { wkq: number[]; wpv: number[] }, ctx = testContext({ seed: 3 })) {
  const inputs: Record<string, tf.Tensor> = { tokens: tf.tensor3d(P.tokens, [P.T, P.N + 1, P.D]), y: tf.tensor1d(P.y) };
  if (init) {
    inputs.w_kq = tf.tensor2d(init.wkq, [P.D, P.D]);
    inputs.w_pv = tf.tensor2d(init.wpv, [P.D, P.D]);
  }
  try {
    const out = (await lsaIclTrain.run(inputs as never, params(lsaIclTrain, p), ctx)) as { w_kq: tf.Tensor; w_pv: tf.Tensor; metrics: { rows: Array<Record<string, number | string | null>> }; info: Record<string, unknown> };
    const res = { wkq: Array.from(await out.w_kq.data()), wpv: Array.from(await out.w_pv.data()), metrics: out.metrics, info: out.info };
    tf.dispose([out.w_kq, out.w_pv]);
    return res;
  } finally {
    tf.dispose(Object.values(inputs));
  }
}

for (const backend of testBackends()) {
  describe(`ICL linear self-attention on ${backend}`, () => {
    it('model.lsa_icl: every output token equals a float64 evaluation of e_j + W_PV·M·W_KQ·e_j', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const P = prompts(7, 9, 3, 1);
      const w = { wkq: randomWeights(16, 2), wpv: randomWeights(16, 3) };
      const got = await runModel(P, {}, w);
      const want = layer64(P, w.wkq, w.wpv);
      expect(got.shape).toEqual([7, 10, 4]);
      // float32 products of unit-scale numbers summed over ≤ 10 terms: ~1e-6 relative to the largest.
      expect(maxDiff(got.out, want)).toBeLessThan(2e-5 * maxAbs(want));
      for (let t = 0; t < P.T; t++) expect(got.pred[t]).toBe(got.out[(t * 10 + 9) * 4 + 3]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('constructed layer (γ) = one GD step of size γ: ŷ = γ·x_q·(1/N)Σ y_i x_i, and the context y slots are untouched up to γ·M terms', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const P = prompts(40, 12, 4, 5);
      const gamma = 0.7;
      const lsa = await runModel(P, { gamma });
      const gd = await runGd(P, { eta: gamma });
      const s = gdScore64(P);
      const want = Array.from(s, (v) => gamma * v);
      expect(maxDiff(lsa.pred, want)).toBeLessThan(1e-5);
      expect(maxDiff(gd.pred, want)).toBeLessThan(1e-5);
      expect(maxDiff(lsa.pred, gd.pred)).toBeLessThan(1e-5);
      // The x slots of every token pass through unchanged (W_PV has only its last row).
      for (let t = 0; t < P.T; t++) for (let i = 0; i <= P.N; i++) for (let j = 0; j < 4; j++) expect(lsa.out[(t * 13 + i) * 5 + j]).toBe(tok(P, t, i, j));
      // w₁ = γ·(1/N)Σ y_i x_i.
      for (let t = 0; t < P.T; t++) {
        for (let j = 0; j < 4; j++) {
          let g = 0;
          for (let i = 0; i < P.N; i++) g += (tok(P, t, i, 4) * tok(P, t, i, j)) / P.N;
          expect(Math.abs(gd.w[t * 4 + j] - gamma * g)).toBeLessThan(1e-6);
        }
      }
      expect(gd.eta).toBeCloseTo(gamma, 6);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('predict.gd_icl eta = "optimal" minimises the mean squared error: against a float64 grid search', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const P = prompts(300, 8, 3, 9, 0.2);
      const got = await runGd(P, { eta: 'optimal' });
      const s = gdScore64(P);
      const mse = (eta: number) => s.reduce((acc, v, t) => acc + (eta * v - P.y[t]) ** 2, 0) / P.T;
      let best = 0;
      for (let eta = 0; eta <= 2; eta += 1e-4) if (mse(eta) < mse(best)) best = eta;
      expect(Math.abs(got.eta - best)).toBeLessThan(1e-4);
      expect(mse(got.eta)).toBeLessThanOrEqual(mse(best) + 1e-9);
      expect(got.notes.eta).toBeCloseTo(got.eta, 6);
      for (let t = 0; t < P.T; t++) expect(Math.abs(got.pred[t] - got.eta * s[t])).toBeLessThan(2e-6 * Math.max(1, Math.abs(s[t])));
      expect(tf.memory().numTensors).toBe(before);
    });

    it('train.lsa_icl gradients (full and gamma) equal central finite differences of a float64 loss', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const P = prompts(20, 6, 3, 11, 0.1);
      const cases: Array<['full' | 'gamma', number[][]]> = [
        ['full', [randomWeights(16, 12), randomWeights(16, 13)]],
        ['gamma', [randomWeights(9, 14)]],
      ];
      for (const [param, w] of cases) {
        const { loss, grads } = await (async () => {
          const tokens = tf.tensor3d(P.tokens, [P.T, P.N + 1, P.D]);
          const y = tf.tensor1d(P.y);
          const ws = w.map((v) => tf.tensor2d(v, [Math.sqrt(v.length), Math.sqrt(v.length)]));
          const r = tf.tidy(() => {
            const res = lsaLossAndGrads(tf, lsaFeatures(tf, tokens, param), y, ws);
            return [res.loss, ...res.grads];
          });
          const out = { loss: (await r[0].data())[0], grads: await Promise.all(r.slice(1).map(async (g) => Array.from(await g.data()))) };
          tf.dispose([tokens, y, ...ws, ...r]);
          return out;
        })();
        const want = fdGrad(P, w);
        expect(Math.abs(loss - loss64(P, w))).toBeLessThan(1e-5 * loss64(P, w));
        const scale = Math.max(...want.map(maxAbs));
        // float32 gradient vs float64 differences (whose own error is ~1e-9): ~1e-6 relative.
        want.forEach((g, k) => expect(maxDiff(grads[k], g), `${param} grad ${k}`).toBeLessThan(1e-5 * scale));
        if (param === 'full') expect(maxAbs(grads[1].slice(0, 12))).toBe(0);
      }
      expect(tf.memory().numTensors).toBe(before);
    });

    it('train.lsa_icl: one GD step and two Adam steps equal float64 updates; metrics rows are float64 losses', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const P = prompts(24, 5, 2, 21);
      const init = { wkq: randomWeights(9, 22), wpv: randomWeights(9, 23) };
      const w0 = [init.wkq, init.wpv];
      const g0 = fdGrad(P, w0);
      const lr = 0.05;
      const gd = await runTrain(P, { optimizer: 'gd', lr, steps: 1, log_every: 1 }, init);
      const wantGd = w0.map((w, k) => w.map((v, i) => v - lr * g0[k][i]));
      expect(maxDiff(gd.wkq, wantGd[0])).toBeLessThan(1e-5);
      expect(maxDiff(gd.wpv, wantGd[1])).toBeLessThan(1e-5);
      expect(gd.metrics.rows.map((r) => r.step)).toEqual([0, 1]);
      expect(Math.abs((gd.metrics.rows[0].loss as number) - loss64(P, w0))).toBeLessThan(1e-5 * loss64(P, w0));
      expect(Math.abs((gd.metrics.rows[1].loss as number) - loss64(P, wantGd))).toBeLessThan(1e-5 * loss64(P, wantGd));

      // Adam (β₁ 0.9, β₂ 0.999, ε 1e-8), bias-corrected, two steps, in float64.
      const [b1, b2, eps] = [0.9, 0.999, 1e-8];
      let w = w0.map((v) => [...v]);
      const m = w.map((v) => v.map(() => 0));
      const s = w.map((v) => v.map(() => 0));
      for (let t = 1; t <= 2; t++) {
        const g = fdGrad(P, w);
        w = w.map((wk, k) =>
          wk.map((v, i) => {
            m[k][i] = b1 * m[k][i] + (1 - b1) * g[k][i];
            s[k][i] = b2 * s[k][i] + (1 - b2) * g[k][i] ** 2;
            return v - (lr * (m[k][i] / (1 - b1 ** t))) / (Math.sqrt(s[k][i] / (1 - b2 ** t)) + eps);
          }),
        );
      }
      const adam = await runTrain(P, { optimizer: 'adam', lr, steps: 2, log_every: 1 }, init);
      // Adam's steps are ≈ lr·sign(g) early on: a gradient entry near 0 (the zero rows of W_PV) may flip;
      // those rows have exactly zero gradient here and stay put on both sides.
      expect(maxDiff(adam.wkq, w[0])).toBeLessThan(1e-5);
      expect(maxDiff(adam.wpv, w[1])).toBeLessThan(1e-5);
      expect(adam.info).toMatchObject({ steps_run: 2, optimizer: 'adam', parameterization: 'full' });
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('train.lsa_icl convergence and errors (wasm)', () => {
  it('gamma: Adam reaches the float64 least-squares Γ (normal equations) and returns W_KQ = [[Γᵀ,0],[0,0]], W_PV = e_D e_Dᵀ', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const P = prompts(400, 10, 3, 31, 0.1);
    const d = 3;
    // Least squares over vec Γ: H[t, a·d + b] = x_q[a]·g_t[b].
    const H = Array.from({ length: P.T }, (_, t) => {
      const g = new Array<number>(d).fill(0);
      for (let i = 0; i < P.N; i++) for (let b = 0; b < d; b++) g[b] += (tok(P, t, i, d) * tok(P, t, i, b)) / P.N;
      return Array.from({ length: d * d }, (_, k) => tok(P, t, P.N, Math.floor(k / d)) * g[k % d]);
    });
    const k = d * d;
    const A = Array.from({ length: k }, (_, i) => Array.from({ length: k + 1 }, (_, j) => H.reduce((s, h, t) => s + h[i] * (j < k ? h[j] : P.y[t]), 0)));
    for (let c = 0; c < k; c++) {
      for (let r = c + 1; r < k; r++) {
        const f = A[r][c] / A[c][c];
        for (let j = c; j <= k; j++) A[r][j] -= f * A[c][j];
      }
    }
    const gammaLs = new Array<number>(k).fill(0);
    for (let r = k - 1; r >= 0; r--) gammaLs[r] = (A[r][k] - A[r].slice(r + 1, k).reduce((s, v, j) => s + v * gammaLs[r + 1 + j], 0)) / A[r][r];
    const progress: number[] = [];
    const ctx = { ...testContext({ seed: 5 }), progress: (u: { step?: number }) => void progress.push(u.step ?? -1) };
    const r = await runTrain(P, { parameterization: 'gamma', optimizer: 'adam', lr: 0.02, steps: 1500, log_every: 500 }, undefined, ctx);
    const D = d + 1;
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) expect(Math.abs(r.wkq[b * D + a] - gammaLs[a * d + b])).toBeLessThan(2e-3);
    for (let i = 0; i < D; i++) expect(r.wkq[i * D + d]).toBe(0);
    expect(r.wkq.slice(d * D)).toEqual([0, 0, 0, 0]);
    expect(r.wpv).toEqual([...new Array(D * D - 1).fill(0), 1]);
    expect(r.metrics.rows.map((row) => row.step)).toEqual([0, 500, 1000, 1500]);
    const lossLs = loss64(P, [gammaLs]);
    expect((r.metrics.rows[3].loss as number) / lossLs - 1).toBeLessThan(1e-4);
    expect(progress[progress.length - 1]).toBe(1500);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a too-large learning rate fails with `diverged` naming the step; an aborted signal cancels; nothing leaks', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const P = prompts(16, 5, 2, 41);
    const err = await runTrain(P, { optimizer: 'gd', lr: 1e6, steps: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperatorError);
    expect((err as OperatorError).code).toBe('diverged');
    expect((err as OperatorError).message).toMatch(/training diverged at step \d+/);
    const controller = new AbortController();
    controller.abort();
    const cancelled = await runTrain(P, { steps: 10 }, undefined, { ...testContext(), signal: controller.signal }).catch((e: unknown) => e);
    expect((cancelled as OperatorError).code).toBe('cancelled');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('predict.gd_icl "optimal" without y, and model.lsa_icl with one weight only, are clear errors', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const P = prompts(4, 3, 2, 51);
    await expect(runGd(P, { eta: 'optimal' }, false)).rejects.toThrow(/needs the targets y/);
    const tokens = tf.tensor3d(P.tokens, [P.T, P.N + 1, P.D]);
    const wkq = tf.eye(3);
    expect(() => tf.tidy(() => lsaIcl.run({ tokens, w_kq: wkq } as never, params(lsaIcl, {}), testContext()) as never)).toThrow(/both w_kq and w_pv/);
    tf.dispose([tokens, wkq]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
