/**
 * Content-addressed caching across runs: an unchanged re-run calls no operator and gives
 * byte-identical outputs; a param change recomputes only that node and its descendants; an
 * operator version bump invalidates; renaming a deterministic node keeps its cache; a corrupt
 * entry is detected, reported and recomputed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runGraph } from '../../core/index.js';
import { encodeNpy } from '../../core/io/npy.js';
import { OperatorRegistry } from '../../core/operator/registry.js';
import { createRegistry } from '../../core/prepare.js';
import { useBackend } from '../helpers/backends.js';
import { calls, counted, counted_v2, testRegistry } from '../helpers/test-operators.js';

let registry: OperatorRegistry;
let dir: string;
beforeAll(async () => {
  await useBackend('wasm');
  registry = await testRegistry();
});
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kf-cache-'));
  calls.clear();
});

function chain(factor2 = 3, ids = ['c1', 'c2']) {
  return {
    kernelflow: '1', name: 'chain',
    nodes: {
      x: { op: 'data.normal', params: { shape: [32, 4] } },
      [ids[0]]: { op: 'test.counted', inputs: { x: 'x' }, params: { factor: 2 } },
      [ids[1]]: { op: 'test.counted', inputs: { x: ids[0] }, params: { factor: factor2 } },
      side: { op: 'test.counted', inputs: { x: 'x' }, params: { factor: 5 } },
    },
    outputs: { result: ids[1], side: 'side' },
  };
}

/** Per node: its cache status, or 'unneeded' when it was not even loaded. */
const states = (r: { manifest: { nodes: Record<string, { status: string; cache: string; tier?: string }> } }) =>
  Object.fromEntries(Object.entries(r.manifest.nodes).map(([id, n]) => [id, n.status === 'unneeded' ? 'unneeded' : n.tier ? `${n.cache}:${n.tier}` : n.cache]));

const go = (graph: object, reg = registry, memoryBytes = 0) =>
  runGraph(graph, { backend: 'wasm', registry: reg, cache: { dir, memoryBytes } }).result;

const bytes = (r: Awaited<ReturnType<typeof go>>, name: string) => {
  const v = r.stored[name];
  if (v.kind !== 'tensor') throw new Error('not a tensor');
  return Buffer.from(encodeNpy(v.tensor));
};

describe('cache', () => {
  it('a re-run of an unchanged graph calls no operator and gives byte-identical outputs', async () => {
    const before = tf.memory().numTensors;
    const first = await go(chain());
    expect(Object.values(first.manifest.nodes).map((n) => n.cache)).toEqual(['miss', 'miss', 'miss', 'miss']);
    const callsAfterFirst = new Map(calls);
    const second = await go(chain());
    expect(calls).toEqual(callsAfterFirst);
    // The outputs come from disk; their upstream nodes are not even loaded.
    expect(states(second)).toEqual({ x: 'unneeded', c1: 'unneeded', c2: 'hit:disk', side: 'hit:disk' });
    expect(bytes(second, 'result').equals(bytes(first, 'result'))).toBe(true);
    expect(bytes(second, 'side').equals(bytes(first, 'side'))).toBe(true);
    first.dispose();
    second.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a Cache passed in serves repeated runs from its memory tier', async () => {
    const { Cache } = await import('../../core/index.js');
    const shared = new Cache({ memoryBytes: 64e6, dir: null });
    (await runGraph(chain(), { backend: 'wasm', registry, cache: shared }).result).dispose();
    calls.clear();
    const again = await runGraph(chain(), { backend: 'wasm', registry, cache: shared }).result;
    expect(states(again)).toEqual({ x: 'unneeded', c1: 'unneeded', c2: 'hit:memory', side: 'hit:memory' });
    expect(calls.size).toBe(0);
    again.dispose();
  });

  it('two nodes with the same key in one run compute once', async () => {
    const graph = chain();
    (graph.nodes as Record<string, unknown>).twin = { op: 'test.counted', inputs: { x: 'x' }, params: { factor: 2 } };
    const r = await go(graph);
    expect((calls.get('c1') ?? 0) + (calls.get('twin') ?? 0)).toBe(1);
    expect([r.manifest.nodes.c1.cache, r.manifest.nodes.twin.cache].sort()).toEqual(['hit', 'miss']);
    r.dispose();
  });

  it('a twin looked up while the other is still reading the cache waits for it instead of computing', async () => {
    const { Cache } = await import('../../core/index.js');
    // Cache reads that take time to answer: the roots (side, twin, c2) are looked up first and
    // twin's answer (a miss) is the slowest, so c1 — looked up once c2 misses — asks for the same
    // key while twin's read is still pending.
    const delays = [10, 80, 10];
    class SlowCache extends Cache {
      override async get(key: string) {
        const found = await super.get(key);
        await new Promise((r) => setTimeout(r, delays.shift() ?? 0));
        return found;
      }
    }
    const graph = chain();
    (graph.nodes as Record<string, unknown>).twin = { op: 'test.counted', inputs: { x: 'x' }, params: { factor: 2 } };
    const r = await runGraph(graph, { backend: 'wasm', registry, cache: new SlowCache({ memoryBytes: 64e6, dir: null }) }).result;
    expect((calls.get('c1') ?? 0) + (calls.get('twin') ?? 0)).toBe(1);
    expect([r.manifest.nodes.c1.cache, r.manifest.nodes.twin.cache].sort()).toEqual(['hit', 'miss']);
    r.dispose();
  });

  it('changing one param recomputes only that node and its descendants', async () => {
    (await go(chain(3))).dispose();
    calls.clear();
    const changed = await go(chain(4));
    expect(states(changed)).toEqual({ x: 'unneeded', c1: 'hit:disk', c2: 'miss', side: 'hit:disk' });
    expect(Object.fromEntries(calls)).toEqual({ c2: 1 });
    changed.dispose();
  });

  it('bumping an operator version invalidates its results (and its descendants)', async () => {
    (await go(chain())).dispose();
    const bumped = await createRegistry();
    bumped.register(counted_v2, 'tests');
    calls.clear();
    const r = await go(chain(), bumped);
    expect(states(r)).toEqual({ x: 'hit:disk', c1: 'miss', c2: 'miss', side: 'miss' });
    expect(counted_v2.version).toBe(counted.version + 1);
    r.dispose();
  });

  it('renaming a deterministic node keeps its cache; renaming a stochastic one does not', async () => {
    (await go(chain())).dispose();
    calls.clear();
    const renamed = await go(chain(3, ['first', 'second']));
    expect(states(renamed)).toEqual({ x: 'unneeded', first: 'unneeded', second: 'hit:disk', side: 'hit:disk' });
    expect(calls.size).toBe(0);
    renamed.dispose();
    const g = chain();
    const nodes = g.nodes as Record<string, { inputs?: { x: string } }>;
    (g.nodes as Record<string, unknown>).x_renamed = g.nodes.x;
    delete (g.nodes as Record<string, unknown>).x;
    for (const n of Object.values(nodes)) if (n.inputs?.x === 'x') n.inputs.x = 'x_renamed';
    const r = await go(g);
    expect(r.manifest.nodes.x_renamed.cache).toBe('miss');
    r.dispose();
  });

  it('a truncated or tampered entry is detected, reported as a warning and recomputed', async () => {
    const first = await go(chain());
    const key = first.manifest.nodes.c2.cacheKey;
    const file = findEntry(dir, key);
    const original = readFileSync(file);
    const tampered = Buffer.from(original);
    tampered[tampered.length - 3] ^= 0xff;
    writeFileSync(file, tampered);
    calls.clear();
    const second = await go(chain());
    expect(second.manifest.nodes.c2.cache).toBe('miss');
    expect(second.manifest.warnings.join('\n')).toMatch(new RegExp(`cache entry ${key} is corrupt`));
    expect(Object.fromEntries(calls)).toEqual({ c2: 1 });
    expect(bytes(second, 'result').equals(bytes(first, 'result'))).toBe(true);
    writeFileSync(file, original.subarray(0, original.length >> 1));
    const third = await go(chain());
    expect(third.manifest.nodes.c2.cache).toBe('miss');
    expect(third.manifest.warnings.join('\n')).toMatch(/is corrupt/);
    [first, second, third].forEach((r) => r.dispose());
  });

  it('--no-cache computes everything and stores nothing', async () => {
    const r = await runGraph(chain(), { backend: 'wasm', registry, cache: false }).result;
    expect(Object.values(r.manifest.nodes).map((n) => n.cache)).toEqual(['off', 'off', 'off', 'off']);
    expect(readdirSync(dir)).toEqual([]);
    r.dispose();
  });

  it('editing a data file invalidates the data.load node that reads it', async () => {
    const graphDir = mkdtempSync(path.join(os.tmpdir(), 'kf-data-'));
    writeFileSync(path.join(graphDir, 'v.json'), '[1, 2, 3]');
    const graph = { kernelflow: '1', nodes: { v: { op: 'data.load', params: { path: 'v.json' } }, s: { op: 'math.reduce', inputs: { x: 'v' }, params: { op: 'sum' } } }, outputs: { s: 's' } };
    const file = path.join(graphDir, 'g.json');
    writeFileSync(file, JSON.stringify(graph));
    const a = await runGraph(file, { backend: 'wasm', registry, cache: { dir } }).result;
    writeFileSync(path.join(graphDir, 'v.json'), '[1, 2, 4]');
    const b = await runGraph(file, { backend: 'wasm', registry, cache: { dir } }).result;
    expect(b.manifest.nodes.v.cache).toBe('miss');
    expect(b.stored.s).toMatchObject({ kind: 'tensor', tensor: { data: new Float32Array([7]) } });
    expect(a.stored.s).toMatchObject({ kind: 'tensor', tensor: { data: new Float32Array([6]) } });
    a.dispose();
    b.dispose();
  });
});

function findEntry(root: string, key: string): string {
  const stack = [root];
  while (stack.length) {
    const d = stack.pop()!;
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) stack.push(p);
      else if (name.startsWith(key)) return p;
    }
  }
  throw new Error(`no cache entry for ${key}`);
}
