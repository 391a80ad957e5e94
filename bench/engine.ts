/**
 * Engine overhead benchmark (on demand: `npm run bench:engine [-- --backend wasm]`).
 * - planning time (load, validate, DAG, shape inference, keys) of a 1,000-node chain and a
 *   10,000-node wide graph of trivial ops;
 * - per-node scheduling overhead: a run of the wide graph minus the operators' own time;
 * - cold vs cached run of a compute-heavy graph.
 * Prints a Markdown section to paste into bench/RESULTS.md.
 */
import os from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { prepareGraph, runGraph, type BackendName } from '../core/index.js';
import { createRegistry } from '../core/prepare.js';

const backend = (process.argv.includes('--backend') ? process.argv[process.argv.indexOf('--backend') + 1] : 'wasm') as BackendName;

function chain(n: number) {
  const nodes: Record<string, object> = { n0: { op: 'data.constant', params: { value: [1, 2, 3, 4] } } };
  for (let i = 1; i < n; i++) nodes[`n${i}`] = { op: 'math.scale', inputs: { x: `n${i - 1}` }, params: { alpha: 1.0001 } };
  return { kernelflow: '1', name: `chain-${n}`, nodes, outputs: { last: `n${n - 1}` } };
}

function wide(n: number) {
  const nodes: Record<string, object> = { root: { op: 'data.constant', params: { value: [1, 2, 3, 4] } } };
  for (let i = 1; i < n; i++) nodes[`w${i}`] = { op: 'math.scale', inputs: { x: 'root' }, params: { alpha: i } };
  return { kernelflow: '1', name: `wide-${n}`, nodes, outputs: { first: 'w1' } };
}

async function timeIt<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

async function median(times: number, fn: () => Promise<number>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < times; i++) xs.push(await fn());
  return xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

const registry = await createRegistry();
await prepareGraph(chain(10), { registry }); // warm up module loading
(await runGraph(chain(10), { backend, cache: false, registry }).result).dispose(); // and the backend

const planChain = await median(5, async () => (await timeIt(() => prepareGraph(chain(1000), { registry })))[1]);
const planWide = await median(3, async () => (await timeIt(() => prepareGraph(wide(10_000), { registry })))[1]);

// Per-node cost: the wide graph's nodes all become ready at once, so their own timings overlap;
// report the all-in time per node. The chain runs one node at a time: subtract its nodes' time.
const [wideRun, wideMs] = await timeIt(() => runGraph(wide(10_000), { backend, cache: false, registry }).result);
wideRun.dispose();
const [chainRun, chainMs] = await timeIt(() => runGraph(chain(1000), { backend, cache: false, registry }).result);
const chainOpMs = Object.values(chainRun.manifest.nodes).reduce((s, n) => s + n.ms, 0);
chainRun.dispose();

// Cold vs cached: a graph whose compute takes seconds.
const heavy = {
  kernelflow: '1', name: 'heavy',
  nodes: {
    a: { op: 'data.normal', params: { shape: [1500, 1500] } },
    b: { op: 'data.normal', params: { shape: [1500, 1500] } },
    ab: { op: 'math.matmul', inputs: { a: 'a', b: 'b' } },
    abb: { op: 'math.matmul', inputs: { a: 'ab', b: 'b' } },
    abbb: { op: 'math.matmul', inputs: { a: 'abb', b: 'b' } },
    s: { op: 'math.reduce', inputs: { x: 'abbb' }, params: { op: 'sum' } },
  },
  outputs: { s: 's' },
};
const dir = mkdtempSync(path.join(os.tmpdir(), 'kf-bench-'));
const [cold, coldMs] = await timeIt(() => runGraph(heavy, { backend, cache: { dir }, registry }).result);
cold.dispose();
const [warm, warmMs] = await timeIt(() => runGraph(heavy, { backend, cache: { dir, memoryBytes: 0 }, registry }).result);
warm.dispose();
rmSync(dir, { recursive: true, force: true });

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const fmt = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(0));
console.log(`### engine — ${new Date().toISOString().slice(0, 10)}, ${cpu}, ${os.cpus().length} cores, Node ${process.versions.node}, backend ${backend}

| measure | result | target |
|---|---|---|
| plan 1,000-node chain (load, validate, DAG, shapes, keys) | ${fmt(planChain)} ms | |
| plan 10,000-node wide graph | ${fmt(planWide)} ms | < 1,000 ms |
| run 10,000-node wide graph, no cache | ${fmt(wideMs)} ms | |
| per node, all-in (wide: scheduling + lifecycle + a trivial op) | ${(wideMs / 10_000).toFixed(3)} ms | < 1 ms overhead |
| scheduling overhead per node (1,000 chain) | ${((chainMs - chainOpMs) / 1000).toFixed(3)} ms | < 1 ms |
| heavy graph (3 matmuls 1500², seeded data) cold | ${fmt(coldMs)} ms | |
| same graph, cached (disk tier only) | ${fmt(warmMs)} ms | |
| cached speed-up | ${(coldMs / warmMs).toFixed(1)}× | ≥ 20× |
`);
