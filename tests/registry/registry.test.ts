/**
 * The run registry in process: runs recorded with backend-free lineage, diff across backends (agree
 * within float32 tolerance) and across a changed param (divergence named at that node and its
 * descendants), list/show content, schema versioning, and recording that never fails a run.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy } from '../../core/io/npy.js';
import { writeRun } from '../../core/io/write-run.js';
import { diffRuns } from '../../core/registry/diff-runs.js';
import { planLineage } from '../../core/registry/lineage.js';
import { openRegistry, type Registry } from '../../core/registry/open-registry.js';
import { listRuns, loadRun, loadSweep } from '../../core/registry/query-runs.js';
import { recordRun, recordRunSafely } from '../../core/registry/record-run.js';
import { SweepRecorder } from '../../core/registry/record-sweep.js';
import { MIGRATIONS } from '../../core/registry/schema.js';
import { runGraph } from '../../core/run/run-graph.js';

const graph = (overrides: { std?: number; gramId?: string } = {}) => {
  const gram = overrides.gramId ?? 'gram';
  return {
    kernelflow: '1',
    name: 'registry-fixture',
    seed: 3,
    params: { n: 12, d: 40, k: 8, std: 0.2 },
    nodes: {
      x: { op: 'data.normal', params: { shape: [{ $param: 'n' }, { $param: 'd' }] } },
      r: { op: 'data.normal', params: { shape: [{ $param: 'd' }, { $param: 'k' }], std: overrides.std ?? { $param: 'std' } } },
      [gram]: { op: 'math.matmul', inputs: { a: 'x', b: 'x' }, params: { transpose_b: true } },
      xr: { op: 'math.matmul', inputs: { a: 'x', b: 'r' } },
      proj: { op: 'math.matmul', inputs: { a: 'xr', b: 'xr' }, params: { transpose_b: true } },
      err: { op: 'metric.rel_error', inputs: { a: 'proj', b: gram } },
      small: { op: 'check.between', inputs: { x: 'err' }, params: { lo: 0, hi: 100, label: 'error is finite' } },
      negative: { op: 'check.between', inputs: { x: 'err' }, params: { lo: -1, hi: -0.5, label: 'impossible' } },
    },
    outputs: { gram, proj: 'proj', err: 'err' },
  };
};

let work: string;
let db: Registry;

async function runAndRecord(doc: object, backend: 'wasm' | 'cpu', name: string): Promise<number> {
  const cacheDir = path.join(work, 'cache');
  const result = await runGraph(doc, { backend, cache: { dir: cacheDir, memoryBytes: 0 } }).result;
  const outDir = path.join(work, name);
  const manifest = writeRun(outDir, { stored: result.stored, manifest: result.manifest, resolvedGraph: result.prepared.graph });
  result.dispose();
  return recordRun(db, { manifest, lineage: planLineage(result.prepared.plan), outDir, cacheDir });
}

const ids: Record<string, number> = {};

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'kf-registry-'));
  db = await openRegistry(path.join(work, 'registry.sqlite'));
  ids.wasm = await runAndRecord(graph(), 'wasm', 'wasm');
  ids.cpu = await runAndRecord(graph(), 'cpu', 'cpu');
  ids.std = await runAndRecord(graph({ std: 0.3 }), 'cpu', 'std');
  ids.renamed = await runAndRecord(graph({ gramId: 'gram_renamed' }), 'cpu', 'renamed');
});

afterAll(() => db?.close());

describe('lineage', () => {
  it('is the same on wasm and cpu although every cache key differs', () => {
    const wasm = loadRun(db, ids.wasm)!;
    const cpu = loadRun(db, ids.cpu)!;
    for (const id of Object.keys(wasm.lineage)) {
      expect(wasm.manifest.nodes[id].cacheKey).not.toBe(cpu.manifest.nodes[id].cacheKey);
      expect(wasm.lineage[id].key).toBe(cpu.lineage[id].key);
    }
    expect(Object.keys(wasm.lineage)).toEqual(Object.keys(wasm.manifest.nodes));
  });

  it('does not depend on the id of a deterministic node, and names inputs by upstream node', () => {
    const cpu = loadRun(db, ids.cpu)!;
    const renamed = loadRun(db, ids.renamed)!;
    expect(renamed.lineage.gram_renamed.key).toBe(cpu.lineage.gram.key);
    expect(renamed.lineage.err.inputs.b).toMatchObject({ node: 'gram_renamed', port: 'out', lineage: cpu.lineage.gram.key });
  });
});

describe('runs diff', () => {
  it('the same graph on wasm and cpu agrees within float32 tolerance, node by node and output by output', async () => {
    const report = await diffRuns(loadRun(db, ids.wasm)!, loadRun(db, ids.cpu)!);
    expect(report.agree).toBe(true);
    expect(report.firstDivergence).toBeUndefined();
    expect(report.nodes.map((n) => [n.node, n.alignment, n.verdict])).toEqual(
      ['x', 'r', 'gram', 'xr', 'proj', 'err', 'small', 'negative'].map((id) => [id, 'lineage', 'agree']),
    );
    // Random draws do not depend on the backend: bit-identical.
    expect(report.nodes.find((n) => n.node === 'x')!.ports.out.maxAbs).toBe(0);
    // The reported difference is the one between the written files.
    const a = decodeNpy(readFileSync(path.join(work, 'wasm', 'proj.npy'))).data;
    const b = decodeNpy(readFileSync(path.join(work, 'cpu', 'proj.npy'))).data;
    let maxAbs = 0;
    for (let i = 0; i < a.length; i++) maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
    const proj = report.outputs.find((o) => o.name === 'proj')!;
    expect(proj.comparison!.maxAbs).toBe(maxAbs);
    expect(proj).toMatchObject({ verdict: 'agree', a: { shape: [12, 12], dtype: 'float32' }, b: { shape: [12, 12], dtype: 'float32' } });
  });

  it('a tolerance of zero turns any float difference between backends into a named divergence', async () => {
    const report = await diffRuns(loadRun(db, ids.wasm)!, loadRun(db, ids.cpu)!, { rtol: 0, atol: 0 });
    const differing = report.nodes.filter((n) => Object.values(n.ports).some((c) => c.maxAbs! > 0)).map((n) => n.node);
    // Whether wasm and cpu round a matmul identically is the libraries' business; the diff must
    // name exactly the first node that differs at all, or agree when none does.
    expect(report.firstDivergence?.node).toBe(differing[0]);
    expect(report.agree).toBe(differing.length === 0);
  });

  it('a changed param is named at its node first, with everything downstream; other branches agree', async () => {
    const report = await diffRuns(loadRun(db, ids.cpu)!, loadRun(db, ids.std)!);
    expect(report.agree).toBe(false);
    expect(report.firstDivergence).toMatchObject({ node: 'r', op: 'data.normal', downstream: ['xr', 'proj', 'err', 'small', 'negative'] });
    expect(report.firstDivergence!.reason).toMatch(/^params changed: std; out: max abs /);
    const byNode = Object.fromEntries(report.nodes.map((n) => [n.node, n]));
    expect(byNode.x.verdict).toBe('agree');
    expect(byNode.gram.verdict).toBe('agree');
    expect(byNode.xr).toMatchObject({ verdict: 'diverged', alignment: 'id', changes: ["upstream 'r' changed (input 'b')"] });
    // std 0.2 → 0.3 scales r by exactly 1.5 (same draws): its largest change is half its largest entry.
    const r = byNode.r.ports.out;
    expect(r.maxRel!).toBeCloseTo(1 / 3, 5);
    expect(report.outputs.find((o) => o.name === 'gram')!.verdict).toBe('agree');
    expect(report.outputs.find((o) => o.name === 'proj')!.verdict).toBe('diverged');
  });

  it('aligns a renamed deterministic node by lineage', async () => {
    const report = await diffRuns(loadRun(db, ids.cpu)!, loadRun(db, ids.renamed)!);
    const gram = report.nodes.find((n) => n.node === 'gram')!;
    expect(gram).toMatchObject({ nodeB: 'gram_renamed', alignment: 'lineage', verdict: 'agree' });
    expect(report.onlyInB).toEqual([]);
    // The output keeps its name 'gram' and its values.
    expect(report.outputs.find((o) => o.name === 'gram')!.comparison!.maxAbs).toBe(0);
    expect(report.agree).toBe(true);
  });
});

describe('runs list and show', () => {
  it('lists the newest runs first, with claims counted', () => {
    const rows = listRuns(db, 2);
    expect(rows.map((r) => r.id)).toEqual([ids.renamed, ids.std]);
    expect(rows[1]).toMatchObject({ graph: 'registry-fixture', backend: 'cpu', status: 'ok', claims: { passed: 1, total: 2 }, outDir: path.join(work, 'std') });
  });

  it('shows params, backend, outputs with shape/dtype/hash as written, and each claim', () => {
    const run = loadRun(db, ids.std)!;
    expect(run.manifest.params).toMatchObject({ n: 12, d: 40, k: 8, std: 0.2 });
    expect(run.manifest.backend.name).toBe('cpu');
    const written = JSON.parse(readFileSync(path.join(work, 'std', 'manifest.json'), 'utf8'));
    expect(run.outputs.proj).toEqual(written.outputs.proj);
    expect(run.outputs.proj).toMatchObject({ file: 'proj.npy', shape: [12, 12], dtype: 'float32' });
    expect(run.claimRecords.map((c) => [c.node, c.pass])).toEqual([['small', true], ['negative', false]]);
    expect(loadRun(db, 9999)).toBeUndefined();
  });
});

describe('the registry file', () => {
  it('carries its schema version in user_version', () => {
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
  });

  it('upgrades a version-1 file in place: its runs stay, and queued runs can then be recorded', async () => {
    const file = path.join(work, 'v1.sqlite');
    const { default: Database } = await import('better-sqlite3');
    const old = new Database(file);
    old.exec(MIGRATIONS[0]);
    old.pragma('user_version = 1');
    old.close();
    const run = loadRun(db, ids.cpu)!;
    const toRecord = { manifest: run.manifest, lineage: run.lineage, outDir: run.outDir, cacheDir: run.cacheDir };
    const v1 = await openRegistry(file);
    try {
      expect(v1.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      const local = recordRun(v1, toRecord);
      const queued = recordRun(v1, { ...toRecord, queued: { queue: 'redis://q:6379', worker: 'box:42' } });
      expect(loadRun(v1, local)!.queued).toBeUndefined();
      expect(loadRun(v1, queued)!.queued).toEqual({ queue: 'redis://q:6379', worker: 'box:42' });
      expect(listRuns(v1, 5).map((r) => r.queued?.worker ?? null)).toEqual(['box:42', null]);
    } finally {
      v1.close();
    }
  });

  it('refuses a registry written by a newer schema, naming both versions', async () => {
    const file = path.join(work, 'newer.sqlite');
    (await openRegistry(file)).pragma(`user_version = ${MIGRATIONS.length + 1}`);
    await expect(openRegistry(file)).rejects.toThrow(`schema version ${MIGRATIONS.length + 1}, newer than this kernelflow knows (${MIGRATIONS.length})`);
  });

  it('a corrupt or unwritable registry is one warning, never an error', async () => {
    const run = loadRun(db, ids.cpu)!;
    const toRecord = { manifest: run.manifest, lineage: run.lineage, outDir: run.outDir, cacheDir: run.cacheDir };
    const corrupt = path.join(work, 'corrupt.sqlite');
    writeFileSync(corrupt, 'this is not a database, just text that is long enough to have a header'.repeat(20));
    const warnings: string[] = [];
    await expect(recordRunSafely(corrupt, toRecord, (w) => warnings.push(w))).resolves.toBeUndefined();
    // Under a regular file, no folder can be made.
    const unwritable = path.join(corrupt, 'registry.sqlite');
    await expect(recordRunSafely(unwritable, toRecord, (w) => warnings.push(w))).resolves.toBeUndefined();
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^warning: run not recorded in the registry \(run registry .*corrupt\.sqlite: file is not a database\)/);
    expect(warnings[1]).toContain(unwritable);
    expect(warnings.every((w) => !w.includes('\n'))).toBe(true);
    // And a good file records.
    await expect(recordRunSafely(path.join(work, 'fresh.sqlite'), toRecord, () => {})).resolves.toBe(1);
  });

  it('a sweep on an unusable registry warns once and goes on unrecorded', async () => {
    const run = loadRun(db, ids.cpu)!;
    const warnings: string[] = [];
    const sweep = { graphName: 'g', graphFile: 'g.json', grid: { k: [1, 2] }, outDir: work, backend: 'cpu', pointsTotal: 2, cacheDir: null };
    const recorder = await SweepRecorder.start(path.join(work, 'corrupt.sqlite'), sweep, (w) => warnings.push(w));
    const point = { id: 'p1', coords: { k: 1 }, status: 'ok' as const, collected: {}, claims: [], computed: 1, cached: 0, ms: 1, errors: [], manifest: run.manifest, lineage: run.lineage };
    recorder.point(point);
    recorder.finish([point], false);
    expect(recorder.id).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/file is not a database/);
  });

  it('a sweep records its grid, folder, points and outcome', async () => {
    const run = loadRun(db, ids.cpu)!;
    const sweep = { graphName: 'g', graphFile: 'g.json', grid: { k: [1, 2] }, outDir: path.join(work, 'sw'), backend: 'cpu', pointsTotal: 2, cacheDir: null };
    const recorder = await SweepRecorder.start(path.join(work, 'registry.sqlite'), sweep, (w) => expect.fail(w));
    const point = (id: string, k: number, status: 'ok' | 'failed') => ({ id, coords: { k }, status, collected: {}, claims: [], computed: 1, cached: 0, ms: 1, errors: [], manifest: run.manifest, lineage: run.lineage });
    recorder.point(point('p1', 1, 'ok'));
    recorder.point(point('p2', 2, 'failed'));
    recorder.finish([point('p1', 1, 'ok'), point('p2', 2, 'failed')], false);
    const recorded = loadSweep(db, recorder.id!)!;
    expect(recorded).toMatchObject({ grid: { k: [1, 2] }, outDir: path.join(work, 'sw'), status: 'failed', pointsTotal: 2, pointsFailed: 1 });
    expect(recorded.runs).toHaveLength(2);
    expect(loadRun(db, recorded.runs[1])).toMatchObject({ coords: { k: 2 }, sweep: { id: recorder.id, point: 'p2' }, outDir: path.join(work, 'sw', 'points', 'p2') });
  });
});
