/**
 * `{"$from": "node.port"}` params: values from upstream json outputs, as DAG edges, validated and
 * shape-checked at run time, and cached by the resolved value.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareGraph, runGraph, validateGraph } from '../../core/index.js';
import type { OperatorRegistry } from '../../core/operator/registry.js';
import { planReport } from '../../core/plan/plan-report.js';
import { useBackend } from '../helpers/backends.js';
import { calls, testRegistry } from '../helpers/test-operators.js';

let registry: OperatorRegistry;
beforeAll(async () => {
  await useBackend('wasm');
  registry = await testRegistry();
});

const graph = (data: number[], extra: object = {}) => ({
  kernelflow: '1', name: 'from',
  nodes: {
    data: { op: 'data.constant', params: { value: data } },
    fit: { op: 'test.json_sum', inputs: { x: 'data' } },
    target: { op: 'data.constant', params: { value: [1, 2, 3] } },
    scaled: { op: 'test.counted', inputs: { x: 'target' }, params: { factor: { $from: 'fit' } } },
    ...extra,
  },
  outputs: { scaled: 'scaled' },
});

const values = async (r: { outputs: Record<string, unknown> }, name: string) =>
  Array.from(await (r.outputs[name] as { tensor: tf.Tensor }).tensor.data());

describe('$from params', () => {
  it('take their value from an upstream json output', async () => {
    const before = tf.memory().numTensors;
    const r = await runGraph(graph([1, 1]), { backend: 'wasm', registry, cache: false }).result;
    expect(r.status, JSON.stringify(r.manifest.nodes)).toBe('ok');
    expect(await values(r, 'scaled')).toEqual([2, 4, 6]);
    r.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('are edges of the DAG: the producer is scheduled first, and plan defers the checks with a note', async () => {
    const p = await prepareGraph(graph([1]), { registry });
    expect(p.plan.order.indexOf('fit')).toBeLessThan(p.plan.order.indexOf('scaled'));
    const row = planReport(p.plan, undefined, undefined).rows.find((r) => r.node === 'scaled')!;
    expect(row.note).toBe('shapes and params checked at run time: params/factor ← fit');
  });

  it('are cached by the resolved value: an upstream change with the same value still hits', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kf-from-'));
    const run = async (data: number[]) => {
      const r = await runGraph(graph(data), { backend: 'wasm', registry, cache: { dir } }).result;
      const out = await values(r, 'scaled');
      r.dispose();
      return { out, nodes: r.manifest.nodes };
    };
    calls.clear();
    const first = await run([2, 1]);
    expect(first.out).toEqual([3, 6, 9]);
    const sameSum = await run([1, 2]);
    expect(sameSum.nodes.fit.cache).toBe('miss');
    expect(sameSum.nodes.scaled.cache).toBe('hit');
    expect(sameSum.nodes.scaled.cacheKey).toBe(first.nodes.scaled.cacheKey);
    expect(calls.get('scaled')).toBe(1);
    const other = await run([5]);
    expect(other.nodes.scaled.cache).toBe('miss');
    expect(other.out).toEqual([5, 10, 15]);
  });

  it('plan checks shapes with the value when the upstream result is cached', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kf-from-plan-'));
    const { Cache } = await import('../../core/index.js');
    const cache = new Cache({ memoryBytes: 0, dir });
    const g = {
      kernelflow: '1',
      nodes: {
        t: { op: 'data.constant', params: { value: [1, 2, 3] } },
        fit: { op: 'test.json_sum', inputs: { x: 't' } },
        x: { op: 'data.normal', params: { shape: [2, 2], std: { $from: 'fit' } } },
      },
      outputs: { x: 'x' },
    };
    const lookupJson = async (inputKey: string) => {
      const [key, port] = inputKey.split('#');
      const v = (await cache.get(key))?.result[port];
      return v?.kind === 'json' ? v.json : undefined;
    };
    const before = await prepareGraph(g, { registry, lookupJson });
    expect(before.plan.nodes.get('x')!.deferredNote).toMatch(/checked at run time/);
    expect(before.plan.nodes.get('x')!.outputs.out).toEqual({ kind: 'tensor', dtype: 'float32' });
    (await runGraph(g, { backend: 'wasm', registry, cache }).result).dispose();
    const after = await prepareGraph(g, { registry, lookupJson });
    expect(after.plan.nodes.get('x')!.deferredNote).toMatch(/checked with the cached values of params\/std ← fit/);
    expect(after.plan.nodes.get('x')!.outputs.out).toEqual({ kind: 'tensor', dtype: 'float32', shape: [2, 2] });
  });

  it('a resolved value that breaks the params schema fails the node at run time, naming the param', async () => {
    const r = await runGraph({
      kernelflow: '1',
      nodes: {
        neg: { op: 'data.constant', params: { value: [-1] } },
        fit: { op: 'test.json_sum', inputs: { x: 'neg' } },
        x: { op: 'data.normal', params: { shape: [3], std: { $from: 'fit' } } },
      },
      outputs: { x: 'x' },
    }, { backend: 'wasm', registry, cache: false }).result;
    expect(r.status).toBe('failed');
    expect(r.manifest.nodes.x.error).toMatchObject({ code: 'params', message: expect.stringMatching(/\/params\/std: must be > 0/) });
  });

  it('must name a json output of an existing node', async () => {
    const bad = await validateGraph({
      kernelflow: '1',
      nodes: {
        t: { op: 'data.constant', params: { value: [1] } },
        a: { op: 'math.scale', inputs: { x: 't' }, params: { alpha: { $from: 't' } } },
        b: { op: 'math.scale', inputs: { x: 't' }, params: { alpha: { $from: 'nope.out' } } },
      },
    }, { registry });
    expect(bad).toEqual([
      expect.objectContaining({ code: 'param_ref', pointer: '/nodes/a/params/alpha/$from', message: "$from 't' is a tensor output; a param can only take a json output" }),
      expect.objectContaining({ code: 'dangling_reference', pointer: '/nodes/b/params/alpha/$from' }),
    ]);
  });

  it('a cycle through $from is reported', async () => {
    const bad = await validateGraph({
      kernelflow: '1',
      nodes: {
        t: { op: 'data.constant', params: { value: [1] } },
        s: { op: 'test.json_sum', inputs: { x: 'c' } },
        c: { op: 'test.counted', inputs: { x: 't' }, params: { factor: { $from: 's' } } },
      },
    }, { registry });
    expect(bad.map((d) => d.message)).toEqual([expect.stringMatching(/cycle: (s → c → s|c → s → c)/)]);
  });
});
