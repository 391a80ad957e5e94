/**
 * Checkpoints of train.fit (checkpoint_every) through the engine's ctx.checkpoint: a run cancelled
 * after a checkpoint, or killed with SIGKILL, resumes from it and ends bit-identical to a run that was
 * never interrupted (minibatches + momentum/Adam + early stopping, so RNG, optimiser and stopping
 * state all matter); a corrupt checkpoint is ignored with a warning; save/load leak no tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nodeCheckpoint } from '../../core/cache/checkpoint.js';
import { CheckpointStore } from '../../core/cache/checkpoint-store.js';
import type { StoredValue } from '../../core/cache/stored.js';
import { createRegistry, runGraph, type RunEvent } from '../../core/index.js';
import { isOperator } from '../../core/operator/index.js';
import type { OperatorRegistry } from '../../core/operator/registry.js';
import * as model from '../../operators/model/index.js';
import * as train from '../../operators/train/index.js';
import * as extra from '../../operators/train-data-index.js';
import { useBackend } from '../helpers/backends.js';

let registry: OperatorRegistry;
beforeAll(async () => {
  await useBackend('wasm');
  registry = await createRegistry();
  for (const op of [...Object.values(model), ...Object.values(train), ...Object.values(extra)]) if (isOperator(op)) registry.register(op, 'test');
});

let dir: string;
beforeEach(() => void (dir = mkdtempSync(path.join(os.tmpdir(), 'kf-ckpt-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A small regression whose future depends on the minibatch RNG, the optimiser state and early stopping. */
function graph(optimizer: Record<string, unknown>, earlyStopping = { monitor: 'loss', patience: 50, min_delta: 0 }) {
  return {
    kernelflow: '1', name: 'ckpt', seed: 4,
    nodes: {
      data: { op: 'data.teacher_student', params: { n: 48, d: 4, target: 'single_index', activation: 'tanh' } },
      net: { op: 'model.mlp', params: { widths: [4, 16, 1], activation: 'tanh' } },
      fit: {
        op: 'train.fit', inputs: { params: 'net.params', model: 'net.model', x: 'data.x', y: 'data.y' },
        params: { optimizer: { lr: 0.05, batch_size: 10, ...optimizer }, steps: 40, log_every: 3, checkpoint_every: 7, early_stopping: earlyStopping, track: ['weight_norm'] },
      },
    },
    outputs: { params: 'fit.params', metrics: 'fit.metrics', info: 'fit.info' },
  };
}

interface Run {
  status: string;
  stored: Record<string, StoredValue>;
  events: RunEvent[];
}

/** Runs the graph; with `abortAtCheckpoint`, cancels the run as soon as the first checkpoint is saved. */
async function run(g: object, cache: false | string, abortAtCheckpoint = false): Promise<Run> {
  const controller = new AbortController();
  const handle = runGraph(g, { backend: 'wasm', cache: cache === false ? false : { dir: cache }, registry, signal: controller.signal });
  const events: RunEvent[] = [];
  handle.events.subscribe({
    next: (e) => {
      events.push(e);
      if (abortAtCheckpoint && e.type === 'checkpoint') controller.abort();
    },
    error: () => {}, // the result promise carries it
  });
  const res = await handle.result;
  res.dispose();
  return { status: res.status, stored: res.stored, events };
}

const checkpointFiles = (cacheDir: string) => {
  const root = path.join(cacheDir, 'checkpoints');
  return existsSync(root) ? readdirSync(root).map((k) => path.join(root, k, 'state')).filter((f) => existsSync(f)) : [];
};
const fitSteps = (events: RunEvent[], type: 'checkpoint' | 'resumed' | 'progress') =>
  events.filter((e) => e.type === type && e.node === 'fit').map((e) => (e as { step: number }).step);

/** Exact equality of every parameter (Float32Array, bit for bit) and of the metrics and info. */
function expectIdentical(a: Run, b: Run): void {
  const pa = a.stored.params as Extract<StoredValue, { kind: 'tensors' }>;
  const pb = b.stored.params as Extract<StoredValue, { kind: 'tensors' }>;
  expect(Object.keys(pa.tensors).sort()).toEqual(Object.keys(pb.tensors).sort());
  for (const name of Object.keys(pa.tensors)) {
    expect(pa.tensors[name].data).toBeInstanceOf(Float32Array);
    expect(Buffer.from(pa.tensors[name].data.buffer).equals(Buffer.from(pb.tensors[name].data.buffer)), name).toBe(true);
  }
  expect(a.stored.metrics).toEqual(b.stored.metrics);
  expect(a.stored.info).toEqual(b.stored.info);
}

describe('train.fit checkpoints (wasm, in process)', () => {
  // Adam: no row ever improves by min_delta, so early stopping ends the run at step 15 (rows every 3
  // steps, patience 5) — and only if the count of rows without improvement survived the checkpoint.
  const cases = [
    { optimizer: { type: 'momentum', momentum: 0.8 }, early: undefined, steps: 40, later: [14, 21, 28, 35], stopped: 'completed' },
    { optimizer: { type: 'adam', lr: 0.02 }, early: { monitor: 'loss', patience: 5, min_delta: 1e3 }, steps: 15, later: [14], stopped: 'early_stopping' },
  ];
  for (const { optimizer, early, steps, later, stopped } of cases) {
    it(`${optimizer.type}: cancelled after a checkpoint, the rerun resumes from it and ends bit-identical (${stopped}); the checkpoint is then removed`, async () => {
      const before = tf.memory().numTensors;
      const g = graph(optimizer, early);
      const reference = await run(g, false);
      expect(reference.status).toBe('ok');
      expect(reference.stored.info).toMatchObject({ json: { steps_run: steps, stopped } });
      expect(fitSteps(reference.events, 'checkpoint')).toEqual([]); // no disk cache: nothing to checkpoint
      expect(reference.events.some((e) => e.type === 'warning' && /no disk cache: not checkpointing/.test(e.message))).toBe(true);

      const cancelled = await run(g, dir, true);
      expect(cancelled.status).toBe('cancelled');
      expect(fitSteps(cancelled.events, 'checkpoint')).toEqual([7]);
      expect(checkpointFiles(dir)).toHaveLength(1);

      const resumed = await run(g, dir);
      expect(resumed.status).toBe('ok');
      expect(fitSteps(resumed.events, 'resumed')).toEqual([7]);
      // It did not train from step 0: its first progress report is at the checkpoint.
      expect(fitSteps(resumed.events, 'progress')[0]).toBe(7);
      expect(fitSteps(resumed.events, 'checkpoint')).toEqual(later);
      expectIdentical(resumed, reference);
      expect(checkpointFiles(dir)).toEqual([]);
      expect(existsSync(path.join(dir, 'checkpoints'))).toBe(true);
      expect(readdirSync(path.join(dir, 'checkpoints'))).toEqual([]);
      // No tensor outlives the three runs (the cancelled one held a checkpoint's worth of state).
      expect(tf.memory().numTensors).toBe(before);
    }, 60000);
  }

  it('a corrupt checkpoint (checksum mismatch) is ignored with a warning and training restarts from step 0', async () => {
    const before = tf.memory().numTensors;
    const g = graph({ type: 'sgd' });
    const reference = await run(g, false);
    await run(g, dir, true);
    const [file] = checkpointFiles(dir);
    const bytes = readFileSync(file);
    bytes[bytes.length - 5] ^= 0x40; // a flipped bit in the body
    writeFileSync(file, bytes);

    const rerun = await run(g, dir);
    expect(rerun.status).toBe('ok');
    const warnings = rerun.events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message);
    expect(warnings.some((m) => /checkpoint \w+ is corrupt \(checksum mismatch\): starting from step 0/.test(m)), warnings.join('\n')).toBe(true);
    expect(fitSteps(rerun.events, 'resumed')).toEqual([]);
    expect(fitSteps(rerun.events, 'progress')[0]).toBe(0);
    expectIdentical(rerun, reference);
    expect(tf.memory().numTensors).toBe(before);
  }, 60000);
});

describe('ctx.checkpoint (core/cache/checkpoint.ts)', () => {
  it('save reads the tensors without keeping or freeing any; load returns exactly the saved tensors, owned by the caller', async () => {
    const store = new CheckpointStore(dir);
    const log: string[] = [];
    const ckpt = nodeCheckpoint(store, 'abc123', tf, { warn: (m) => log.push(`warn ${m}`), saved: (s) => log.push(`saved ${s}`), resumed: (s) => log.push(`resumed ${s}`) });
    expect(await ckpt.load()).toBeUndefined();
    const a = tf.tensor2d([[1.5, -2], [Math.PI, 1e-30]]);
    const b = tf.tensor1d([7, -3], 'int32');
    const before = tf.memory().numTensors;
    await ckpt.save(3, { tensors: { a, b }, json: { best: Infinity, last: NaN, rows: [{ step: 0, loss: 0.1 }] } });
    expect(tf.memory().numTensors).toBe(before);
    expect(a.isDisposed || b.isDisposed).toBe(false);
    // A second save replaces the first.
    await ckpt.save(6, { tensors: { a, b }, json: { best: 0.5, last: 1, rows: [] } });
    expect(tf.memory().numTensors).toBe(before);

    const loaded = await ckpt.load();
    expect(loaded?.step).toBe(6);
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(loaded!.state.json).toEqual({ best: 0.5, last: 1, rows: [] });
    const t = loaded!.state.tensors;
    expect(t.a.dtype).toBe('float32');
    expect(t.b.dtype).toBe('int32');
    expect(Array.from(await t.a.data())).toEqual(Array.from(await a.data()));
    expect(Array.from(await t.b.data())).toEqual([7, -3]);
    tf.dispose(Object.values(t));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
    expect(log).toEqual(['saved 3', 'saved 6', 'resumed 6']);
  });

  it('non-finite JSON survives; a truncated file is corrupt and removed; delete takes stray temp files with it', async () => {
    const store = new CheckpointStore(dir);
    const warnings: string[] = [];
    const ckpt = nodeCheckpoint(store, 'def456', tf, { warn: (m) => warnings.push(m), saved: () => {}, resumed: () => {} });
    await ckpt.save(1, { tensors: {}, json: { best: Infinity, nan: NaN } });
    const loaded = await ckpt.load();
    expect(loaded!.state.json).toEqual({ best: Infinity, nan: NaN });

    const file = store.file('def456');
    // What a writer killed mid-save leaves: a temp file beside the intact checkpoint.
    writeFileSync(`${file}.tmp-999-abc`, 'partial');
    expect((await ckpt.load())?.step).toBe(1);
    writeFileSync(file, readFileSync(file).subarray(0, 20));
    expect(await ckpt.load()).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/checkpoint def456 is corrupt \(truncated: 20 bytes/);
    expect(existsSync(file)).toBe(false);
    await store.delete('def456');
    expect(existsSync(path.dirname(file))).toBe(false);
    expect(() => store.file('../x')).toThrow(/invalid key/);
  });
});

describe('train.fit checkpoints across a real kill -9 (CLI, wasm)', () => {
  // Runs the built CLI (dist/cli.js: `npm test` builds it first).
  it('SIGKILL after the first checkpoint; the rerun resumes and writes byte-identical outputs', async () => {
    const file = path.join(dir, 'train.json');
    // Long enough (seconds on wasm) that the kill lands mid-training, after the first checkpoint.
    const g = graph({ type: 'adam', lr: 0.01, batch_size: 32 });
    g.nodes.data.params = { ...g.nodes.data.params, n: 256, d: 16 };
    g.nodes.net.params = { widths: [16, 64, 64, 1], activation: 'tanh' };
    g.nodes.fit.params = { ...g.nodes.fit.params, steps: 600, log_every: 100, checkpoint_every: 20 };
    writeFileSync(file, JSON.stringify(g));
    const cli = (cache: string, out: string) => ['bin/kernelflow.js', 'run', file, '--backend', 'wasm', '--cache-dir', cache, '--out', out, '--no-registry'];
    const [cacheA, cacheB, outA, outB] = ['cacheA', 'cacheB', 'outA', 'outB'].map((d) => path.join(dir, d));

    const child = spawn(process.execPath, cli(cacheA, outA), { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    let running = true;
    void exited.then(() => (running = false));
    while (running && checkpointFiles(cacheA).length === 0) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(checkpointFiles(cacheA)).toHaveLength(1);
    expect(existsSync(path.join(outA, 'manifest.json'))).toBe(false);

    const again = spawnSync(process.execPath, cli(cacheA, outA), { encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    const step = Number(/fit: resumed from checkpoint at step (\d+)/.exec(again.stderr)?.[1]);
    expect(step).toBeGreaterThan(0);
    expect(step % 20).toBe(0);
    expect(checkpointFiles(cacheA)).toEqual([]);

    const clean = spawnSync(process.execPath, cli(cacheB, outB), { encoding: 'utf8' });
    expect(clean.status, clean.stderr).toBe(0);
    expect(clean.stderr).not.toMatch(/resumed/);
    const written = (out: string) => readdirSync(out, { recursive: true }).map(String).filter((f) => /\.(npy|csv|json)$/.test(f) && f !== 'manifest.json').sort();
    expect(written(outA)).toEqual(written(outB));
    expect(written(outA)).toEqual(expect.arrayContaining(['params/W0.npy', 'params/W2.npy', 'metrics.csv', 'info.json']));
    for (const f of written(outA)) expect(readFileSync(path.join(outA, f)).equals(readFileSync(path.join(outB, f))), f).toBe(true);
  }, 120000);
});
