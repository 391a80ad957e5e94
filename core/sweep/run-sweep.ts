/**
 * `kernelflow sweep`: runs a graph at every point of a grid of param overrides (a `seed` axis sets
 * the graph seed), sharing one cache so nodes that do not depend on the swept params are computed
 * once. Each finished point is written at once (points/<id>/), so an interrupted sweep resumes
 * where it stopped. `jobs` > 1 runs points in worker threads, each with its own tfjs backend.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Cache } from '../cache/cache.js';
import { loadGraphFile } from '../document/load-graph.js';
import { canonicalJson, sha256Hex } from '../io/hash.js';
import type { JsonValue } from '../operator/values.js';
import { scalarOf } from './collect.js';
import { gridPoints, type Grid } from './grid.js';
import { runPoint, type PointResult, type PointRunOptions, type PointSpec } from './run-point.js';

export interface SweepOptions extends Omit<PointRunOptions, 'cache'> {
  grid: Grid;
  out: string;
  jobs?: number;
  sets?: Record<string, JsonValue>;
  cacheDir: string | null;
  memoryBytes?: number;
  onPoint?: (result: PointResult & { resumed: boolean }, done: number, total: number) => void;
  /** Told about each computed point and the end of the sweep (the run registry's SweepRecorder). */
  recorder?: { point(result: PointResult): void; finish(points: PointResult[], cancelled: boolean): void };
  /** Runs the points elsewhere (e.g. on queue workers, core/queue/) instead of in this process. */
  executor?: PointExecutor;
}

/** Runs `todo` and calls `finish` once per point that ends (in any order). */
export type PointExecutor = (file: string, todo: PointSpec[], options: SweepOptions, finish: (r: PointResult, resumed: boolean) => void) => Promise<void>;

export interface SweepResult {
  outDir: string;
  points: Array<PointResult & { resumed: boolean }>;
}

export async function runSweep(file: string, options: SweepOptions): Promise<SweepResult> {
  const graph = loadGraphFile(file, { sets: options.sets, variant: options.variant });
  const gridNames = Object.keys(options.grid);
  const seedIsParam = 'seed' in graph.params;
  const specs: PointSpec[] = gridPoints(options.grid).map((coords) => {
    const { seed, ...rest } = coords;
    const sets = { ...(options.sets ?? {}), ...(seedIsParam ? coords : rest) };
    return { id: sha256Hex(canonicalJson({ coords, sets: options.sets ?? {} })).slice(0, 12), coords, sets, seed: seedIsParam || seed === undefined ? undefined : Number(seed) };
  });
  mkdirSync(path.join(options.out, 'points'), { recursive: true });
  const results: Array<PointResult & { resumed: boolean }> = [];
  const finish = (r: PointResult, resumed: boolean) => {
    const dir = path.join(options.out, 'points', r.id);
    if (!resumed) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(r.manifest, null, 2) + '\n');
      const { manifest: _m, lineage: _l, ...point } = r;
      writeFileSync(path.join(dir, 'point.json'), JSON.stringify(point, null, 2) + '\n');
      options.recorder?.point(r);
    }
    results.push({ ...r, resumed });
    options.onPoint?.({ ...r, resumed }, results.length, specs.length);
  };
  // Resume: points already written by an earlier, interrupted run of this sweep.
  const todo: PointSpec[] = [];
  for (const spec of specs) {
    const saved = path.join(options.out, 'points', spec.id, 'point.json');
    if (existsSync(saved)) {
      const point = JSON.parse(readFileSync(saved, 'utf8')) as PointResult;
      const manifest = JSON.parse(readFileSync(path.join(options.out, 'points', spec.id, 'manifest.json'), 'utf8'));
      if (point.status === 'ok') {
        finish({ ...point, manifest }, true);
        continue;
      }
    }
    todo.push(spec);
  }
  if (options.executor) await options.executor(file, todo, options, finish);
  else if ((options.jobs ?? 1) > 1) await runInWorkers(file, todo, options, finish);
  else {
    const cache = new Cache({ memoryBytes: options.memoryBytes ?? 256e6, dir: options.cacheDir });
    for (const spec of todo) {
      if (options.signal?.aborted) break;
      finish(await runPoint(file, spec, { ...options, cache }), false);
    }
  }
  const order = new Map(specs.map((s, i) => [s.id, i]));
  results.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  writeSummaries(options.out, file, options.grid, gridNames, results);
  options.recorder?.finish(results, options.signal?.aborted === true);
  return { outDir: options.out, points: results };
}

async function runInWorkers(file: string, todo: PointSpec[], options: SweepOptions, finish: (r: PointResult, resumed: boolean) => void): Promise<void> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // The bundle ships dist/sweep-worker.js; from source, run the TypeScript file through tsx.
  const built = path.join(here, 'sweep-worker.js');
  const entry = existsSync(built) ? built : path.join(here, 'sweep-worker.ts');
  const execArgv = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const pointOptions: PointRunOptions = { variant: options.variant, backend: options.backend, collect: options.collect, dataDirs: options.dataDirs, plugins: options.plugins, cache: { dir: options.cacheDir, memoryBytes: options.memoryBytes ?? 64e6 } };
  const queue = [...todo];
  const workers = Array.from({ length: Math.min(options.jobs!, Math.max(1, queue.length)) }, () => new Worker(entry, { workerData: { file, options: pointOptions }, execArgv }));
  await Promise.all(workers.map((worker) => new Promise<void>((resolve, reject) => {
    const next = () => {
      const spec = options.signal?.aborted ? undefined : queue.shift();
      worker.postMessage(spec ?? null);
      if (!spec) resolve();
    };
    worker.on('message', (msg: { ok: boolean; result?: PointResult; id?: string; error?: string }) => {
      if (msg.ok) finish(msg.result!, false);
      else reject(new Error(`sweep point ${msg.id}: ${msg.error}`));
      next();
    });
    worker.on('error', reject);
    next();
  })));
}

function writeSummaries(out: string, file: string, grid: Grid, axes: string[], points: PointResult[]): void {
  const names = [...new Set(points.flatMap((p) => Object.keys(p.collected)))];
  const csvCell = (v: unknown) => (typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v ?? ''));
  const rows = points.map((p) => [p.id, ...axes.map((a) => p.coords[a]), p.status, ...names.map((n) => scalarOf(p.collected[n])), p.claims.filter((c) => c.pass).length, p.claims.length]);
  writeFileSync(path.join(out, 'sweep.csv'), [['point', ...axes, 'status', ...names, 'claims_passed', 'claims'], ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n');
  writeFileSync(path.join(out, 'sweep.json'), JSON.stringify({ graph: file, grid, collect: names, points: points.map(({ manifest: _m, lineage: _l, ...p }) => p) }, null, 2) + '\n');
  // Seeds are an axis to aggregate over: mean and std of every collected scalar per other coordinate.
  if (!axes.includes('seed')) return;
  const others = axes.filter((a) => a !== 'seed');
  const groups = new Map<string, PointResult[]>();
  for (const p of points.filter((q) => q.status === 'ok')) {
    const key = canonicalJson(others.map((a) => p.coords[a]));
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  const header = [...others, 'n', ...names.flatMap((n) => [`${n}_mean`, `${n}_std`])];
  const lines = [...groups.values()].map((ps) => {
    const stats = names.flatMap((n): Array<number | string> => {
      const xs = ps.map((p) => scalarOf(p.collected[n])).filter((x): x is number => typeof x === 'number');
      if (!xs.length) return ['', ''];
      const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
      const std = xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1)) : 0;
      return [mean, std];
    });
    return [...others.map((a) => ps[0].coords[a]), ps.length, ...stats];
  });
  writeFileSync(path.join(out, 'sweep.summary.csv'), [header, ...lines].map((r) => r.map(csvCell).join(',')).join('\n') + '\n');
}
