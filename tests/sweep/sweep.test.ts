/**
 * Sweeps: points share the cache (a late-stage param does not recompute the shared prefix), seeds
 * aggregate into mean/std, an interrupted sweep resumes, and worker threads give the same results.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { OperatorRegistry } from '../../core/operator/registry.js';
import { parseGridArg, gridPoints } from '../../core/sweep/grid.js';
import { runSweep } from '../../core/sweep/run-sweep.js';
import { useBackend } from '../helpers/backends.js';
import { calls, testRegistry } from '../helpers/test-operators.js';

let registry: OperatorRegistry;
let dir: string;
let graphFile: string;
beforeAll(async () => {
  await useBackend('wasm');
  registry = await testRegistry();
  dir = mkdtempSync(path.join(os.tmpdir(), 'kf-sweep-'));
  graphFile = path.join(dir, 'g.json');
  writeFileSync(graphFile, JSON.stringify({
    kernelflow: '1', name: 'late-param',
    params: { f: 1 },
    nodes: {
      x: { op: 'data.normal', params: { shape: [64] } },
      early: { op: 'test.counted', inputs: { x: 'x' }, params: { factor: 2 } },
      late: { op: 'test.counted', inputs: { x: 'early' }, params: { factor: { $param: 'f' } } },
      total: { op: 'math.reduce', inputs: { x: 'late' }, params: { op: 'sum' } },
    },
    outputs: { total: 'total', late: 'late' },
  }));
});

const csv = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(','));

describe('sweep grids', () => {
  it('parse values, JSON and ranges', () => {
    expect(parseGridArg('width=64,256')).toEqual({ name: 'width', values: [64, 256] });
    expect(parseGridArg('seed=0..3')).toEqual({ name: 'seed', values: [0, 1, 2, 3] });
    expect(parseGridArg('act=relu,erf')).toEqual({ name: 'act', values: ['relu', 'erf'] });
    expect(() => parseGridArg('width')).toThrow(/malformed --grid/);
    expect(gridPoints({ a: [1, 2], b: ['x', 'y'] })).toEqual([{ a: 1, b: 'x' }, { a: 1, b: 'y' }, { a: 2, b: 'x' }, { a: 2, b: 'y' }]);
  });
});

describe('runSweep', () => {
  it('a sweep over a late-stage param computes the shared prefix once', async () => {
    calls.clear();
    const out = path.join(dir, 'late');
    const r = await runSweep(graphFile, { grid: { f: [1, 2, 3] }, out, cacheDir: null, backend: 'wasm', registry });
    expect(r.points.map((p) => p.status)).toEqual(['ok', 'ok', 'ok']);
    expect(calls.get('early')).toBe(1);
    expect(calls.get('late')).toBe(3);
    const totals = r.points.map((p) => p.collected.total as number);
    expect(totals[1] / totals[0]).toBeCloseTo(2, 5);
    expect(totals[2] / totals[0]).toBeCloseTo(3, 5);
    const rows = csv(path.join(out, 'sweep.csv'));
    expect(rows[0]).toEqual(['point', 'f', 'status', 'total', 'late', 'claims_passed', 'claims']);
    expect(rows.slice(1).map((r) => r[1])).toEqual(['1', '2', '3']);
    const late = r.points[0].collected.late as { shape: number[]; mean: number };
    expect(late.shape).toEqual([64]);
    expect(late.mean * 64).toBeCloseTo(totals[0], 3);
  });

  it('seeds are an axis: sweep.summary.csv holds mean and std over seeds', async () => {
    const out = path.join(dir, 'seeds');
    const r = await runSweep(graphFile, { grid: { f: [1, 2], seed: [0, 1, 2] }, out, cacheDir: null, backend: 'wasm', registry, collect: ['total'] });
    const totals = (f: number) => r.points.filter((p) => p.coords.f === f).map((p) => p.collected.total as number);
    expect(new Set(totals(1)).size).toBe(3); // different seeds, different draws
    const rows = csv(path.join(out, 'sweep.summary.csv'));
    expect(rows[0]).toEqual(['f', 'n', 'total_mean', 'total_std']);
    const xs = totals(2);
    const mean = xs.reduce((a, b) => a + b, 0) / 3;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / 2);
    expect(Number(rows[2][2])).toBeCloseTo(mean, 4);
    expect(Number(rows[2][3])).toBeCloseTo(std, 4);
  });

  it('an interrupted sweep resumes where it stopped, with the same results', async () => {
    const full = await runSweep(graphFile, { grid: { f: [1, 2, 3, 4] }, out: path.join(dir, 'full'), cacheDir: null, backend: 'wasm', registry, collect: ['total'] });
    const out = path.join(dir, 'interrupted');
    const controller = new AbortController();
    const first = await runSweep(graphFile, {
      grid: { f: [1, 2, 3, 4] }, out, cacheDir: null, backend: 'wasm', registry, collect: ['total'], signal: controller.signal,
      onPoint: (_p, done) => done === 2 && controller.abort(),
    });
    expect(first.points.length).toBe(2);
    calls.clear();
    const resumed = await runSweep(graphFile, { grid: { f: [1, 2, 3, 4] }, out, cacheDir: null, backend: 'wasm', registry, collect: ['total'] });
    expect(resumed.points.map((p) => p.resumed)).toEqual([true, true, false, false]);
    expect(calls.get('late')).toBe(2);
    expect(resumed.points.map((p) => p.collected.total)).toEqual(full.points.map((p) => p.collected.total));
  });

  it('--jobs 2 (worker threads, each with its own backend) gives the same sweep as one job', () => {
    const graph = path.resolve('graphs/random-projection.json');
    const run = (jobs: string, out: string) => spawnSync(process.execPath, ['bin/kernelflow.js', 'sweep', graph, '--grid', 'n=10,20,30', '--set', 'd=64', '--collect', 'distortion', '--jobs', jobs, '--backend', 'wasm', '--no-cache', '--out', out], { encoding: 'utf8' });
    const one = run('1', path.join(dir, 'jobs1'));
    expect(one.status, one.stderr).toBe(0);
    const two = run('2', path.join(dir, 'jobs2'));
    expect(two.status, two.stderr).toBe(0);
    expect(csv(path.join(dir, 'jobs2', 'sweep.csv'))).toEqual(csv(path.join(dir, 'jobs1', 'sweep.csv')));
  }, 120_000);
});
