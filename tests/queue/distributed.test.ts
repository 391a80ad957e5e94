/**
 * Sweeps and runs through a real Redis queue with worker processes (`kernelflow worker`): the same
 * results as a local sweep, re-submission runs nothing, failures are retried then reported, a
 * sweep can be cancelled, and a worker killed mid-job (SIGKILL) loses nothing and breaks no cache
 * entry. Needs a Redis server: KERNELFLOW_TEST_REDIS=redis://host:port (`.ci/run` starts one).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskTier } from '../../core/cache/disk-tier.js';
import { QueueHarness, REDIS, waitFor, waitGraph as graph, warnSkipped, type WorkerProc } from './harness.js';

warnSkipped('tests/queue/distributed.test.ts');

let h: QueueHarness;
let work: string;
let shared: string;
const kf = (args: string[], env: Record<string, string> = {}) => h.kf(args, env);

const csv = (dir: string) => readFileSync(path.join(dir, 'sweep.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
const sweepArgs = (grid: string, sets: string[], out: string) => ['sweep', graph, '--grid', grid, ...sets.flatMap((s) => ['--set', s]), '--collect', 'total', '--backend', 'wasm', '--out', path.join(work, out)];

describe.skipIf(!REDIS)('sweeps through a Redis queue', () => {
  let queue: string;
  let a: WorkerProc;
  let b: WorkerProc;
  const allStarts = () => [...a.starts(), ...b.starts()];

  beforeAll(async () => {
    h = new QueueHarness();
    ({ work, shared } = h);
    queue = h.queueUrl();
    [a, b] = await Promise.all([h.startWorker(queue), h.startWorker(queue)]);
  });

  afterAll(async () => {
    await h?.cleanup(); // leave the shared Redis as we found it
  });

  it('a 12-point sweep on two workers gives the local sweep\'s results; re-submitting it runs nothing new', async () => {
    const local = await kf(sweepArgs('i=0..11', ['ms=150'], 'local'));
    expect(local.code, local.stderr).toBe(0);
    const queued = await kf([...sweepArgs('i=0..11', ['ms=150'], 'queued'), '--queue', queue]);
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stderr).toMatch(/sweep [0-9a-f]{12}: 12 job\(s\) on/);
    expect(queued.stderr).toMatch(/queue: 12\/12 done, 0 running, 0 queued, 0 failed/);
    expect(csv(path.join(work, 'queued'))).toEqual(csv(path.join(work, 'local')));
    const manifests = readdirSync(path.join(work, 'queued', 'points')).map((p) => JSON.parse(readFileSync(path.join(work, 'queued', 'points', p, 'manifest.json'), 'utf8')));
    expect(manifests.map((m) => m.status)).toEqual(Array(12).fill('ok'));
    // Every point ran (a loaded machine may let a lock lapse and a point run twice: results still
    // hold it once), and both workers took part.
    expect(new Set(allStarts()).size, a.log + b.log).toBe(12);
    expect(a.starts().length).toBeGreaterThan(0);
    expect(b.starts().length).toBeGreaterThan(0);

    const ran = allStarts().length;
    const again = await kf([...sweepArgs('i=0..11', ['ms=150'], 'again'), '--queue', queue]);
    expect(again.code, again.stderr).toBe(0);
    expect(csv(path.join(work, 'again'))).toEqual(csv(path.join(work, 'local')));
    expect(allStarts().length).toBe(ran);
  }, 90_000);

  it('run --queue writes the same outputs as a local run, read back from the shared cache', async () => {
    const local = await kf(['run', graph, '--set', 'i=5', '--set', 'ms=20', '--backend', 'wasm', '--out', path.join(work, 'run-local')]);
    expect(local.code, local.stderr).toBe(0);
    const queued = await kf(['run', graph, '--set', 'i=5', '--set', 'ms=20', '--backend', 'wasm', '--queue', queue, '--cache-dir', shared, '--out', path.join(work, 'run-queued')]);
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stdout).toMatch(/wait-sweep: ok on wasm \(a queue worker\)/);
    const npy = (dir: string) => readFileSync(path.join(work, dir, 'total.npy'));
    expect(npy('run-queued').equals(npy('run-local'))).toBe(true);
    const manifest = JSON.parse(readFileSync(path.join(work, 'run-queued', 'manifest.json'), 'utf8'));
    expect(manifest.outputs.total.sha256).toBe(JSON.parse(readFileSync(path.join(work, 'run-local', 'manifest.json'), 'utf8')).outputs.total.sha256);
  }, 60_000);

  it('a point that fails every attempt is reported with its error, and the sweep finishes the rest', async () => {
    const before = { a: a.log.length, b: b.log.length };
    const r = await kf([...sweepArgs('i=0..3', ['ms=20', 'fail_at=2'], 'failing'), '--queue', queue, '--retries', '1', '--backoff', '50']);
    expect(r.code).toBe(1);
    expect(csv(path.join(work, 'failing')).slice(1).map((row) => row[2])).toEqual(['ok', 'ok', 'failed', 'ok']);
    const points = JSON.parse(readFileSync(path.join(work, 'failing', 'sweep.json'), 'utf8')).points;
    expect(points[2].errors.join(' ')).toMatch(/point 2 fails on purpose/);
    const newLog = a.log.slice(before.a) + b.log.slice(before.b);
    expect([...newLog.matchAll(/start: point \S+ i=2 \(attempt (\d)\/2\)/g)].map((m) => m[1]).sort()).toEqual(['1', '2']);
  }, 60_000);

  it('kernelflow sweep cancel stops queued and running points', async () => {
    const started = allStarts().length;
    const sweep = kf([...sweepArgs('i=0..3', ['ms=20000'], 'cancelled'), '--queue', queue]);
    await waitFor('both workers to start a point', () => allStarts().length >= started + 2);
    const id = /sweep ([0-9a-f]{12}):/.exec(sweep.live.stderr)![1];
    const t0 = Date.now();
    const cancel = await kf(['sweep', 'cancel', id, '--queue', queue]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toMatch(/2 queued job\(s\) removed, 2 running job\(s\) stopped/);
    const r = await sweep;
    expect(Date.now() - t0).toBeLessThan(10_000); // the running points stopped long before their 20 s
    expect(r.code).toBe(1);
    expect(csv(path.join(work, 'cancelled')).slice(1).map((row) => row[2])).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
    expect(a.log + b.log).toMatch(/cancelled/);
  }, 60_000);

  it('a worker killed mid-job (SIGKILL): its point runs on the other, every point once in the results, no broken cache entry', async () => {
    const before = new Set(allStarts());
    const sweep = kf([...sweepArgs('i=0..3', ['ms=1500'], 'killed'), '--queue', queue]);
    await waitFor('worker a to start a point', () => a.starts().some((id) => !before.has(id)));
    const victim = a.starts().find((id) => !before.has(id))!;
    a.proc.kill('SIGKILL');
    const r = await sweep;
    expect(r.code, r.stderr).toBe(0);
    // The point worker a held was taken over by worker b once a's lock expired.
    expect(b.starts()).toContain(victim);
    const points = JSON.parse(readFileSync(path.join(work, 'killed', 'sweep.json'), 'utf8')).points as Array<{ coords: { i: number }; status: string; collected: { total: number } }>;
    expect(points.map((p) => p.coords.i)).toEqual([0, 1, 2, 3]);
    expect(points.map((p) => p.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    for (const p of points) expect(p.collected.total / points[0].collected.total).toBeCloseTo(p.coords.i + 1, 4);
    // Every entry in the shared cache reads back whole (a killed writer leaves at most a temp file).
    const disk = new DiskTier(shared);
    const objects = path.join(shared, 'objects');
    const keys = readdirSync(objects).flatMap((d) => readdirSync(path.join(objects, d))).filter((f) => !f.includes('.tmp-'));
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect((await disk.get(key)).status, key).toBe('hit');
  }, 60_000);
});
