/**
 * Queued runs and sweeps land in the submitter's run registry like local ones: `runs list` shows
 * them with the worker that ran them, `runs show` has their outputs and claims, and `runs diff`
 * lines a queued run up with a local one (its node values read back from the shared cache).
 * Needs a Redis server: KERNELFLOW_TEST_REDIS=redis://host:port (`.ci/run` starts one).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueHarness, REDIS, warnSkipped } from './harness.js';

warnSkipped('tests/queue/registry.test.ts');

const graph = path.resolve('tests/queue/fixtures/claimed.json');

interface Listed { id: number; backend: string; status: string; claims: { passed: number; total: number }; sweep?: { id: number; point: string }; queued?: { queue: string; worker: string | null } }

describe.skipIf(!REDIS)('queued runs in the run registry', () => {
  let h: QueueHarness;
  let queue: string;
  const runs = (...args: string[]) => h.kf(['runs', '--registry', 'reg.sqlite', ...args]);
  const listed = async (): Promise<Listed[]> => JSON.parse((await runs('list', '--json')).stdout);

  beforeAll(async () => {
    h = new QueueHarness();
    queue = h.queueUrl();
    await h.startWorker(queue, ['--name', 'worker-a']);
  });

  afterAll(async () => {
    await h?.cleanup();
  });

  it('run --queue is recorded by the submitter with its worker, outputs and claims; diff agrees with a local run', async () => {
    const queued = await h.kf(['run', graph, '--set', 'i=3', '--backend', 'wasm', '--queue', queue, '--cache-dir', h.shared, '--out', 'queued', '--registry', 'reg.sqlite']);
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stdout).toMatch(/recorded as run 1 \(kernelflow runs show 1\)/);
    const local = await h.kf(['run', graph, '--set', 'i=3', '--backend', 'wasm', '--out', 'local', '--registry', 'reg.sqlite']);
    expect(local.code, local.stderr).toBe(0);
    expect(local.stdout).toMatch(/recorded as run 2/);

    const [localRow, queuedRow] = await listed();
    expect(queuedRow).toMatchObject({ id: 1, backend: 'wasm', status: 'ok', claims: { passed: 1, total: 1 }, queued: { worker: 'worker-a' } });
    expect(queuedRow.queued!.queue).toContain(queue.split('?')[0]);
    expect(localRow.queued).toBeUndefined();
    const text = (await runs('list')).stdout.split('\n');
    expect(text.find((l) => /^1 /.test(l))).toMatch(/queue-claimed +wasm on worker-a +ok +.* 1\/1 .*queued$/);

    const show = await runs('show', '1');
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/\nworker: +worker-a via redis:\/\//);
    expect(show.stdout).toMatch(/\n {2}PASS {2}claim_total: the largest square is at most the sum/);
    const manifest = JSON.parse(readFileSync(path.join(h.work, 'queued', 'manifest.json'), 'utf8'));
    const shown = JSON.parse((await runs('show', '1', '--json')).stdout);
    expect(shown.outputs).toEqual(manifest.outputs);
    expect(shown.claimRecords.map((c: { node: string; pass: boolean }) => [c.node, c.pass])).toEqual([['claim_total', true]]);
    expect(shown.cacheDir).toBe(h.shared);

    // Non-output nodes of the queued run are read from the shared cache the workers wrote.
    const diff = await runs('diff', '1', '2', '--json');
    expect(diff.code, diff.stdout + diff.stderr).toBe(0);
    const report = JSON.parse(diff.stdout);
    expect(report.agree).toBe(true);
    expect(report.nodes.find((n: { node: string }) => n.node === 'sq').verdict).toBe('agree');
  }, 120_000);

  it('sweep --queue records the sweep and each point, with the worker that ran it', async () => {
    const r = await h.kf(['sweep', graph, '--grid', 'i=0..2', '--backend', 'wasm', '--queue', queue, '--out', 'sweep', '--registry', 'reg.sqlite']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/recorded as sweep 1 \(kernelflow runs list\)/);
    const points = (await listed()).filter((p) => p.sweep?.id === 1);
    expect(points.map((p) => p.sweep!.point).sort()).toHaveLength(3);
    for (const p of points) expect(p).toMatchObject({ backend: 'wasm', status: 'ok', claims: { passed: 1, total: 1 }, queued: { worker: 'worker-a' } });

    const show = await runs('show', String(points[0].id));
    expect(show.stdout).toMatch(/\nsweep: +1 \(point \S+ \{"i":\d\} of 3, in sweep, queued on redis:\/\//);
    const shown = JSON.parse((await runs('show', String(points[0].id), '--json')).stdout);
    expect(Object.keys(shown.outputs)).toEqual(['total', 'claim_total']);
    expect(shown.claimRecords[0]).toMatchObject({ node: 'claim_total', pass: true });
  }, 120_000);
});
