/**
 * train.attention_recall: the recall task sampler against its definition, the hand-written
 * gradients of every parameter (softmax and sigmoid attention, fixed and learned offset) against
 * central finite differences of a float64 loss written here with plain loops, the Adam step
 * against a float64 Adam step, loss decrease over a few steps, seeded determinism (and the same
 * initial weights for both attention kinds), constant tf.memory().numTensors across steps,
 * cancellation within one step, divergence and parameter errors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { OperatorError, ParamError } from '../../core/operator/index.js';
import { mixSeed, Rng } from '../../operators/model/rng.js';
import { attentionRecall } from '../../operators/train/attention-recall.js';
import { recallLossAndGrads, type AttentionKind, type RecallParams } from '../../operators/train/attention-recall-lib.js';
import { noiseFloor, sampleRecall, tokenWidth, type RecallBatch, type RecallSpec } from '../../operators/train/recall-task.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';

type P64 = Record<string, Float64Array>;
interface Shapes {
  E: number;
  d: number;
  dv: number;
  V: number;
}

/** The model's loss in float64 from its definition (plain loops); b absent = the fixed offset. */
function loss64(kind: AttentionKind, w: P64, s: Shapes, batch: RecallBatch, n: number, offset: number): number {
  const { E, d, dv, V } = s;
  const proj = (x: ArrayLike<number>, at: number, W: Float64Array, width: number) => {
    const out = new Float64Array(width);
    for (let e = 0; e < E; e++) if (x[at + e] !== 0) for (let c = 0; c < width; c++) out[c] += x[at + e] * W[e * width + c];
    return out;
  };
  const bias = w.b ? w.b[0] : offset;
  let total = 0;
  for (let b = 0; b < batch.batch; b++) {
    const q = proj(batch.query, b * E, w.W_Q, d);
    const logits: number[] = [];
    const vs: Float64Array[] = [];
    for (let j = 0; j < n; j++) {
      const k = proj(batch.context, (b * n + j) * E, w.W_K, d);
      vs.push(proj(batch.context, (b * n + j) * E, w.W_V, dv));
      let dot = 0;
      for (let c = 0; c < d; c++) dot += q[c] * k[c];
      logits.push(dot / Math.sqrt(d) + bias);
    }
    let a: number[];
    if (kind === 'softmax') {
      const mx = Math.max(...logits);
      const e = logits.map((x) => Math.exp(x - mx));
      const z = e.reduce((x, y) => x + y, 0);
      a = e.map((x) => x / z);
    } else a = logits.map((x) => 1 / (1 + Math.exp(-x)));
    const o = new Float64Array(dv);
    for (let j = 0; j < n; j++) for (let c = 0; c < dv; c++) o[c] += a[j] * vs[j][c];
    const z = new Float64Array(V);
    for (let c = 0; c < dv; c++) for (let v = 0; v < V; v++) z[v] += o[c] * w.W_O[c * V + v];
    const mx = Math.max(...z);
    const lse = mx + Math.log(z.reduce((acc, x) => acc + Math.exp(x - mx), 0));
    total += lse - z[batch.label[b]];
  }
  return total / batch.batch;
}

const spec: RecallSpec = { nPairs: 4, nKeys: 5, nValues: 3 };
const shapes: Shapes = { E: tokenWidth(spec), d: 3, dv: 2, V: spec.nValues };

/** float32-rounded random parameters, as float64 arrays. */
function params64(seed: number, learnB: boolean, offset: number): P64 {
  const rng = new Rng(seed);
  const { E, d, dv, V } = shapes;
  const f = (n: number) => Float64Array.from(rng.normals(n, 1));
  const w: P64 = { W_Q: f(E * d), W_K: f(E * d), W_V: f(E * dv), W_O: f(dv * V) };
  if (learnB) w.b = Float64Array.of(Math.fround(offset + 0.3));
  return w;
}

function toTensors(w: P64): RecallParams {
  const { E, d, dv, V } = shapes;
  const out: RecallParams = {
    W_Q: tf.tensor2d(Float32Array.from(w.W_Q), [E, d]),
    W_K: tf.tensor2d(Float32Array.from(w.W_K), [E, d]),
    W_V: tf.tensor2d(Float32Array.from(w.W_V), [E, dv]),
    W_O: tf.tensor2d(Float32Array.from(w.W_O), [dv, V]),
  };
  if (w.b) out.b = tf.scalar(w.b[0]);
  return out;
}

function dataTensors(batch: RecallBatch) {
  return tf.tidy(() => ({
    context: tf.tensor2d(batch.context, [batch.batch * spec.nPairs, shapes.E]),
    query: tf.tensor2d(batch.query, [batch.batch, shapes.E]),
    target: tf.cast(tf.oneHot(tf.tensor1d(batch.label, 'int32'), spec.nValues), 'float32') as tf.Tensor2D,
  }));
}

async function runOp(given: Record<string, unknown>, ctx = testContext({ seed: 3 })) {
  const p = params(attentionRecall, given);
  return (await attentionRecall.run({} as never, p as never, ctx)) as unknown as {
    params: Record<string, tf.Tensor>;
    metrics: { columns: string[]; rows: Array<Record<string, number>> };
    final_loss: tf.Scalar;
    info: Record<string, number | null>;
  };
}

const tiny = { n_pairs: 4, n_keys: 6, n_values: 3, d_qk: 4, d_v: 4, batch_size: 8, eval_size: 16, log_every: 1, seed: 5 };

const disposeOut = (r: Awaited<ReturnType<typeof runOp>>) => tf.dispose([...Object.values(r.params), r.final_loss]);

describe('recall task', () => {
  it('pairs hold distinct keys, the target is the value paired with the query key, noise has rate p(1 − 1/V)', () => {
    const s: RecallSpec = { nPairs: 5, nKeys: 7, nValues: 4 };
    const E = tokenWidth(s);
    const batch = sampleRecall(new Rng(1), s, 2000, 0.3);
    let flipped = 0;
    for (let b = 0; b < batch.batch; b++) {
      const keys: number[] = [];
      let answer = -1;
      const qk = Array.from(batch.query.slice(b * E, b * E + s.nKeys)).indexOf(1);
      expect(batch.query.slice(b * E, (b + 1) * E).reduce((x, y) => x + y, 0)).toBe(1);
      for (let j = 0; j < s.nPairs; j++) {
        const tok = Array.from(batch.context.slice((b * s.nPairs + j) * E, (b * s.nPairs + j + 1) * E));
        expect(tok.reduce((x, y) => x + y, 0)).toBe(2);
        const key = tok.slice(0, s.nKeys).indexOf(1);
        const value = tok.slice(s.nKeys).indexOf(1);
        keys.push(key);
        if (key === qk) answer = value;
      }
      expect(new Set(keys).size).toBe(s.nPairs);
      expect(batch.target[b]).toBe(answer);
      if (batch.label[b] !== batch.target[b]) flipped++;
    }
    // Binomial(2000, 0.3·0.75): mean 450, sd ≈ 18.7; 4 sd.
    expect(Math.abs(flipped - 450)).toBeLessThan(75);
    expect(noiseFloor(0, 4)).toBeCloseTo(0, 12);
    // p → 1: the label is uniform, entropy ln V.
    expect(noiseFloor(0.999999, 4)).toBeCloseTo(Math.log(4), 4);
  });
});

for (const backend of testBackends()) {
  describe(`train.attention_recall gradients on ${backend}`, () => {
    const cases: Array<{ kind: AttentionKind; learnB: boolean; offset: number }> = [
      { kind: 'softmax', learnB: false, offset: 0 },
      { kind: 'sigmoid', learnB: false, offset: -Math.log(spec.nPairs) },
      { kind: 'sigmoid', learnB: true, offset: -Math.log(spec.nPairs) },
    ];
    for (const c of cases) {
      it(`${c.kind}${c.learnB ? ' (learned b)' : ''}: the loss and every gradient match float64 central differences`, async () => {
        await useBackend(backend);
        const before = tf.memory().numTensors;
        const batch = sampleRecall(new Rng(11), spec, 3, 0.2);
        const w64 = params64(12, c.learnB, c.offset);
        const model = { attention: c.kind, n: spec.nPairs, scale: 1 / Math.sqrt(shapes.d), offset: c.offset };
        const W = toTensors(w64);
        const D = dataTensors(batch);
        const r = tf.tidy(() => {
          const { loss, grads } = recallLossAndGrads(tf, model, W, D);
          return { loss, grads };
        });
        const L = (await r.loss.data())[0];
        const L64 = loss64(c.kind, w64, shapes, batch, spec.nPairs, c.offset);
        expect(Math.abs(L - L64)).toBeLessThan(1e-5 * Math.max(1, L64));
        expect(Object.keys(r.grads).sort()).toEqual(Object.keys(w64).sort());
        // Central differences of the float64 loss (truncation ~ε² ≈ 1e-10); the float32 gradients are
        // expected within 1e-5 + 1e-3·|g|.
        const eps = 1e-5;
        for (const [name, arr] of Object.entries(w64)) {
          const g = await r.grads[name as keyof typeof r.grads]!.data();
          expect(g.length).toBe(arr.length);
          let nonzero = 0;
          for (let i = 0; i < arr.length; i++) {
            const keep = arr[i];
            arr[i] = keep + eps;
            const up = loss64(c.kind, w64, shapes, batch, spec.nPairs, c.offset);
            arr[i] = keep - eps;
            const down = loss64(c.kind, w64, shapes, batch, spec.nPairs, c.offset);
            arr[i] = keep;
            const fd = (up - down) / (2 * eps);
            if (Math.abs(fd) > 1e-6) nonzero++;
            expect(Math.abs(g[i] - fd), `${name}[${i}]: ${g[i]} vs ${fd}`).toBeLessThan(1e-5 + 1e-3 * Math.abs(fd));
          }
          // The check cannot pass vacuously: every parameter gets some non-zero gradient.
          expect(nonzero, name).toBeGreaterThan(0);
        }
        tf.dispose([r.loss, ...Object.values(r.grads), ...Object.values(W), ...Object.values(D)]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  });

  describe(`train.attention_recall training on ${backend}`, () => {
    it('the first step is Adam’s w − η·g/(|g| + ε) from the hand gradients of the first batch; a few steps lower the loss', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const init = await runOp({ ...tiny, attention: 'sigmoid', steps: 0 });
      const one = await runOp({ ...tiny, attention: 'sigmoid', steps: 1, lr: 0.05 });
      // The first training batch (stream 2 of the seed), and the hand gradients at the initial weights:
      // Adam's first step is w − η·g/(|g| + ε) (bias-corrected m̂ = g, v̂ = g²).
      const tspec: RecallSpec = { nPairs: tiny.n_pairs, nKeys: tiny.n_keys, nValues: tiny.n_values };
      const batch = sampleRecall(new Rng(mixSeed(tiny.seed, 2)), tspec, tiny.batch_size);
      const E = tokenWidth(tspec);
      const grads = tf.tidy(() => {
        const D = {
          context: tf.tensor2d(batch.context, [tiny.batch_size * tiny.n_pairs, E]),
          query: tf.tensor2d(batch.query, [tiny.batch_size, E]),
          target: tf.cast(tf.oneHot(tf.tensor1d(batch.label, 'int32'), tiny.n_values), 'float32') as tf.Tensor2D,
        };
        const model = { attention: 'sigmoid' as const, n: tiny.n_pairs, scale: 1 / Math.sqrt(tiny.d_qk), offset: -Math.log(tiny.n_pairs) };
        return recallLossAndGrads(tf, model, init.params as RecallParams, D).grads;
      });
      for (const nm of ['W_Q', 'W_K', 'W_V', 'W_O'] as const) {
        const a = await init.params[nm].data();
        const b = await one.params[nm].data();
        const g = await grads[nm]!.data();
        for (let i = 0; i < a.length; i++) {
          const want = a[i] - (0.05 * g[i]) / (Math.abs(g[i]) + 1e-8);
          expect(Math.abs(b[i] - want), `${nm}[${i}]`).toBeLessThan(1e-5 + 0.05 * 1e-3);
        }
      }
      tf.dispose(Object.values(grads));
      const r = await runOp({ ...tiny, attention: 'softmax', steps: 40, lr: 0.05, log_every: 10 });
      expect(r.metrics.columns).toEqual(['step', 'loss', 'accuracy']);
      expect(r.metrics.rows.map((row) => row.step)).toEqual([0, 10, 20, 30, 40]);
      const first = r.metrics.rows[0].loss;
      const last = r.metrics.rows[r.metrics.rows.length - 1].loss;
      expect(last).toBeLessThan(0.8 * first);
      expect((await r.final_loss.data())[0]).toBeCloseTo(last, 6);
      [init, one, r].forEach(disposeOut);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('train.attention_recall runs (wasm)', () => {
  it('is deterministic for a seed; both attention kinds start from the same weights; another seed differs', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const a = await runOp({ ...tiny, attention: 'sigmoid', steps: 5 });
    const b = await runOp({ ...tiny, attention: 'sigmoid', steps: 5 }, testContext({ seed: 99 })); // seed param wins over the node seed
    expect(b.metrics.rows).toEqual(a.metrics.rows);
    for (const nm of Object.keys(a.params)) expect(Array.from(await b.params[nm].data())).toEqual(Array.from(await a.params[nm].data()));
    const s0 = await runOp({ ...tiny, attention: 'softmax', steps: 0 });
    const g0 = await runOp({ ...tiny, attention: 'sigmoid', steps: 0 });
    for (const nm of Object.keys(s0.params)) expect(Array.from(await g0.params[nm].data())).toEqual(Array.from(await s0.params[nm].data()));
    const other = await runOp({ ...tiny, attention: 'sigmoid', steps: 5, seed: 6 });
    expect(other.metrics.rows[5].loss).not.toBe(a.metrics.rows[5].loss);
    // seed null: the node seed decides.
    const n1 = await runOp({ ...tiny, seed: null, steps: 0 }, testContext({ seed: 1 }));
    const n2 = await runOp({ ...tiny, seed: null, steps: 0 }, testContext({ seed: 2 }));
    expect(Array.from(await n1.params.W_Q.data())).not.toEqual(Array.from(await n2.params.W_Q.data()));
    [a, b, s0, g0, other, n1, n2].forEach(disposeOut);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps tf.memory().numTensors constant across steps and returns to the start after disposal', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const ctx = { ...testContext({ seed: 3 }), progress: () => void counts.push(tf.memory().numTensors) };
    const r = await runOp({ ...tiny, attention: 'sigmoid', learn_offset: true, steps: 12, log_every: 4 }, ctx);
    expect(counts).toHaveLength(12);
    expect(new Set(counts).size).toBe(1);
    expect(Object.keys(r.params).sort()).toEqual(['W_K', 'W_O', 'W_Q', 'W_V', 'b']);
    disposeOut(r);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('an abort during training stops before the next step; nothing leaks', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    let steps = 0;
    const ctx = {
      ...testContext({ seed: 3 }),
      signal: controller.signal,
      progress: (e: { step?: number }) => {
        steps = e.step ?? steps;
        if (steps === 3) controller.abort();
      },
    };
    const err = await runOp({ ...tiny, steps: 50 }, ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperatorError);
    expect((err as OperatorError).code).toBe('cancelled');
    expect((err as OperatorError).message).toMatch(/cancelled at step 3\b/);
    expect(steps).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a non-finite loss fails with `diverged` naming the step; bad params are clear errors', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const err = await runOp({ ...tiny, init_std: 1e20, steps: 5 }).catch((e: unknown) => e);
    expect((err as OperatorError).code).toBe('diverged');
    expect((err as OperatorError).message).toMatch(/training diverged at step 0/);
    const shape = (given: Record<string, unknown>) => () => attentionRecall.shape!({} as never, params(attentionRecall, given) as never, {} as never);
    expect(shape({ n_pairs: 8, n_keys: 4 })).toThrow(ParamError);
    expect(shape({ attention: 'softmax', learn_offset: true })).toThrow(/learn_offset needs attention "sigmoid"/);
    await expect(runOp({ ...tiny, n_pairs: 8, n_keys: 4 })).rejects.toThrow(/must not exceed n_keys/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
