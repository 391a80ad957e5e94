/**
 * The run stage: reactive scheduling, failure isolation, cancellation, cpu fallback, numerical
 * failure, seeds and tensor hygiene — through the public runGraph API on the wasm backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { lastValueFrom } from 'rxjs';
import { toArray } from 'rxjs/operators';
import { beforeAll, describe, expect, it } from 'vitest';
import { runGraph, type RunEvent } from '../../core/index.js';
import type { OperatorRegistry } from '../../core/operator/registry.js';
import { useBackend } from '../helpers/backends.js';
import { testRegistry } from '../helpers/test-operators.js';

let registry: OperatorRegistry;
beforeAll(async () => {
  await useBackend('wasm');
  registry = await testRegistry();
});

const run = (nodes: object, extra: object = {}, outputs: object = {}) =>
  runGraph({ kernelflow: '1', name: 'test', nodes, outputs }, { backend: 'wasm', cache: false, registry, ...extra });

describe('scheduling', () => {
  it('runs independent branches concurrently: every branch starts before any ends', async () => {
    const before = tf.memory().numTensors;
    const handle = run({
      a: { op: 'test.sleep', params: { ms: 300 } },
      b: { op: 'test.sleep', params: { ms: 300 } },
      c: { op: 'test.sleep', params: { ms: 300 } },
      sum: { op: 'math.add', inputs: { a: 'a', b: 'b', more: ['c'] } },
    }, {}, { sum: 'sum' });
    const events = lastValueFrom(handle.events.pipe(toArray()));
    const result = await handle.result;
    const log = (await events).filter((e) => e.type === 'node-start' || e.type === 'node-end') as Array<Extract<RunEvent, { node: string }>>;
    const firstEnd = log.findIndex((e) => e.type === 'node-end');
    const starts = log.slice(0, firstEnd).filter((e) => e.type === 'node-start').map((e) => e.node);
    expect(starts.sort()).toEqual(['a', 'b', 'c']);
    // Near the longest branch (300 ms), far from the sum (900 ms).
    expect(result.manifest.durationMs).toBeLessThan(800);
    expect(await result.outputs.sum.kind === 'tensor' && (await (result.outputs.sum as { tensor: tf.Tensor }).tensor.data())[0]).toBe(3);
    result.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a node starts as soon as its own inputs are ready, not when a whole level is', async () => {
    const handle = run({
      slow: { op: 'test.sleep', params: { ms: 400 } },
      fast: { op: 'test.sleep', params: { ms: 10 } },
      after_fast: { op: 'test.sleep', inputs: { x: 'fast' }, params: { ms: 10 } },
    });
    const events = lastValueFrom(handle.events.pipe(toArray()));
    await handle.result;
    const order = (await events).filter((e) => e.type === 'node-end').map((e) => (e as { node: string }).node);
    expect(order).toEqual(['fast', 'after_fast', 'slow']);
  });

  it('a failed node skips its descendants while other branches finish, keeping the error', async () => {
    const before = tf.memory().numTensors;
    const result = await run({
      x: { op: 'data.normal', params: { shape: [4] } },
      bad: { op: 'test.fail', inputs: { x: 'x' } },
      after_bad: { op: 'math.scale', inputs: { x: 'bad' } },
      good: { op: 'math.scale', inputs: { x: 'x' }, params: { alpha: 2 } },
    }, {}, { good: 'good', lost: 'after_bad' }).result;
    expect(result.status).toBe('failed');
    const nodes = result.manifest.nodes;
    expect(nodes.bad).toMatchObject({ status: 'failed', error: { code: 'not_psd', details: { row: 3 } } });
    expect(nodes.after_bad).toMatchObject({ status: 'skipped', error: { code: 'upstream_failed' } });
    expect(nodes.good.status).toBe('ok');
    expect(Object.keys(result.outputs)).toEqual(['good']);
    result.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('cancellation stops promptly, frees tensors and still returns a partial manifest', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const handle = run({
      quick: { op: 'data.normal', params: { shape: [8] } },
      long: { op: 'test.sleep', params: { ms: 10_000 }, inputs: { x: 'quick' } },
      later: { op: 'math.scale', inputs: { x: 'long' } },
    }, { signal: controller.signal }, { quick: 'quick', later: 'later' });
    setTimeout(() => controller.abort(), 200);
    const t0 = performance.now();
    const result = await handle.result;
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(result.status).toBe('cancelled');
    expect(result.manifest.nodes.quick.status).toBe('ok');
    expect(result.manifest.nodes.long.status).toBe('cancelled');
    expect(result.manifest.nodes.later.status).toBe('cancelled');
    expect(Object.keys(result.outputs)).toEqual(['quick']);
    result.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('numerics and backends', () => {
  it('runs a node whose kernel wasm lacks (FFT) on cpu and records it', async () => {
    const before = tf.memory().numTensors;
    const signal = [1, 2, 0, -1, 3, 0.5, 0, 2];
    const result = await run({ x: { op: 'data.constant', params: { value: signal } }, spectrum: { op: 'test.rfft_abs', inputs: { x: 'x' } } }, {}, { spectrum: 'spectrum' }).result;
    expect(result.status).toBe('ok');
    expect(result.manifest.nodes.spectrum.fallback).toBe('cpu');
    expect(result.manifest.warnings.join()).toMatch(/kernel '.*' is missing on wasm/);
    expect(tf.getBackend()).toBe('wasm');
    // float64 DFT reference
    const n = signal.length;
    const want = Array.from({ length: n / 2 + 1 }, (_, k) => {
      let re = 0;
      let im = 0;
      signal.forEach((v, t) => {
        re += v * Math.cos((2 * Math.PI * k * t) / n);
        im -= v * Math.sin((2 * Math.PI * k * t) / n);
      });
      return Math.hypot(re, im);
    });
    const got = await (result.outputs.spectrum as { tensor: tf.Tensor }).tensor.data();
    want.forEach((w, k) => expect(got[k]).toBeCloseTo(w, 4));
    result.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reports NaN as a numerical failure, never as a result', async () => {
    const result = await run({ x: { op: 'data.constant', params: { value: [1, -1] } }, y: { op: 'test.log', inputs: { x: 'x' } } }, {}, { y: 'y' }).result;
    expect(result.status).toBe('failed');
    expect(result.manifest.nodes.y.error).toMatchObject({ code: 'non_finite_output', message: expect.stringMatching(/1 non-finite value.*flat index 1/) });
    expect(result.outputs).toEqual({});
  });

  it('checks run-time shapes against the inferred ones', async () => {
    const result = await run({ x: { op: 'data.constant', params: { value: [[1, 2], [3, 4]] } }, t: { op: 'math.transpose', inputs: { x: 'x' } } }, {}, { t: 't' }).result;
    expect(result.status).toBe('ok');
    expect(result.manifest.nodes.t.outputs.out).toEqual({ kind: 'tensor', shape: [2, 2], dtype: 'float32' });
    result.dispose();
  });

  it('passes json and table values between nodes and to the outputs', async () => {
    const result = await run({ x: { op: 'data.constant', params: { value: [1, 2, 3.5] } }, s: { op: 'test.summary', inputs: { x: 'x' } } }, {}, { stats: 's.stats', history: 's.history' }).result;
    expect(result.stored.stats).toEqual({ kind: 'json', json: { n: 3, sum: 6.5 } });
    expect(result.stored.history).toMatchObject({ kind: 'table', table: { columns: ['step', 'value'], rows: [{ step: 0, value: 1 }, { step: 1, value: 2 }, { step: 2, value: 3.5 }] } });
  });
});

describe('seeds', () => {
  const draws = async (nodes: object) => {
    const r = await run(nodes, {}, { x: 'x' }).result;
    const data = Array.from(await (r.outputs.x as { tensor: tf.Tensor }).tensor.data());
    r.dispose();
    return data;
  };

  it('each node draws from its own seed: adding or removing an unrelated node changes nothing', async () => {
    const alone = await draws({ x: { op: 'data.normal', params: { shape: [16] } } });
    const withOthers = await draws({ a: { op: 'data.normal', params: { shape: [16] } }, x: { op: 'data.normal', params: { shape: [16] } }, z: { op: 'data.uniform', params: { shape: [3] } } });
    expect(withOthers).toEqual(alone);
    const renamedSibling = await draws({ x: { op: 'data.normal', params: { shape: [16] } }, y: { op: 'data.normal', params: { shape: [16] } } });
    expect(renamedSibling).toEqual(alone);
  });

  it('different node ids and graph seeds give different draws', async () => {
    const r = await run({ x: { op: 'data.normal', params: { shape: [16] } }, y: { op: 'data.normal', params: { shape: [16] } } }, {}, { x: 'x', y: 'y' }).result;
    const [x, y] = await Promise.all([(r.outputs.x as { tensor: tf.Tensor }).tensor.data(), (r.outputs.y as { tensor: tf.Tensor }).tensor.data()]);
    expect(Array.from(x)).not.toEqual(Array.from(y));
    r.dispose();
    const seeded = await runGraph({ kernelflow: '1', seed: 1, nodes: { x: { op: 'data.normal', params: { shape: [16] } } }, outputs: { x: 'x' } }, { backend: 'wasm', cache: false, registry }).result;
    const other = Array.from(await (seeded.outputs.x as { tensor: tf.Tensor }).tensor.data());
    seeded.dispose();
    expect(other).not.toEqual(Array.from(x));
  });
});
