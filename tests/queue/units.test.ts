/**
 * The queue's pure parts, no Redis needed: addresses (and credentials kept out of messages), job
 * ids (same resolved graph → same id), and the worker's plugin policy.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { queueAddress } from '../../core/queue/address.js';
import { jobIdOf, makeJob } from '../../core/queue/job.js';
import { checkPlugins } from '../../core/queue/plugin-policy.js';
import { formatProgress } from '../../core/queue/progress.js';

const graph = path.resolve('tests/queue/fixtures/wait-sweep.json');
const point = (sets: Record<string, number>, seed?: number) => ({ id: 'p', coords: {}, sets, seed });

describe('queue address', () => {
  it('parses host, port, db, credentials, prefix and queue name; hides the password', () => {
    const a = queueAddress('redis://kf:s3cret@redis.lab:6380/2?prefix=team-a&queue=big');
    expect(a.connection).toMatchObject({ host: 'redis.lab', port: 6380, db: 2, username: 'kf', password: 's3cret', maxRetriesPerRequest: null });
    expect(a).toMatchObject({ prefix: 'team-a', name: 'big' });
    expect(a.display).not.toContain('s3cret');
    expect(queueAddress('rediss://h').connection.tls).toEqual({});
  });

  it('falls back to $KERNELFLOW_QUEUE, and says so when neither is given', () => {
    expect(queueAddress(true, { KERNELFLOW_QUEUE: 'redis://q:7000' }).connection.port).toBe(7000);
    expect(() => queueAddress(undefined, {})).toThrow(/--queue redis:\/\/host:port or set KERNELFLOW_QUEUE/);
    expect(() => queueAddress('http://h:1', {})).toThrow(/redis:\/\//);
    expect(() => queueAddress('redis://h:1?prefix=a:b', {})).toThrow(/prefix 'a:b'/);
  });
});

describe('job ids', () => {
  it('are the hash of the resolved graph: equal for equal graphs, different when anything that changes the result does', () => {
    const id = (sets: Record<string, number>, o: { seed?: number; backend?: 'wasm' | 'cpu'; collect?: string[] } = {}) =>
      jobIdOf(makeJob('point', graph, point(sets, o.seed), { backend: o.backend ?? 'wasm', collect: o.collect }));
    expect(id({ i: 1 })).toBe(id({ i: 1 }));
    // Setting a param to its default resolves to the same graph.
    expect(id({ i: 0 })).toBe(id({}));
    expect(id({ i: 2 })).not.toBe(id({ i: 1 }));
    expect(id({ i: 1 }, { seed: 3 })).not.toBe(id({ i: 1 }));
    expect(id({ i: 1 }, { backend: 'cpu' })).not.toBe(id({ i: 1 }));
    expect(id({ i: 1 }, { collect: ['total'] })).not.toBe(id({ i: 1 }));
    expect(id({ i: 1 })).toMatch(/^g[0-9a-f]{40}$/);
  });
});

describe('plugin policy', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'kf-plugin-policy-'));
  const allowed = path.join(root, 'allowed');
  const other = path.join(root, 'other');
  mkdirSync(allowed);
  mkdirSync(other);
  writeFileSync(path.join(allowed, 'ok.js'), 'export {};');
  writeFileSync(path.join(other, 'evil.js'), 'export {};');
  symlinkSync(path.join(other, 'evil.js'), path.join(allowed, 'link.js'));

  it('allows plugin files inside a --plugin-dir', () => {
    expect(() => checkPlugins([{ spec: './ok.js', baseDir: allowed }], [allowed])).not.toThrow();
    expect(() => checkPlugins([], [])).not.toThrow();
  });

  it('refuses files elsewhere, symlinks leading out, missing files, and everything when no dir is given', () => {
    expect(() => checkPlugins([{ spec: '../other/evil.js', baseDir: allowed }], [allowed])).toThrow(/refuses plugin '..\/other\/evil.js'.*not inside a --plugin-dir/);
    expect(() => checkPlugins([{ spec: './link.js', baseDir: allowed }], [allowed])).toThrow(/refuses plugin '.\/link.js'/);
    expect(() => checkPlugins([{ spec: './nope.js', baseDir: allowed }], [allowed])).toThrow(/not found/);
    expect(() => checkPlugins([{ spec: './ok.js', baseDir: allowed }], [])).toThrow(/none given/);
  });
});

describe('progress', () => {
  it('shows done, running, queued, failed and an ETA while work is left', () => {
    expect(formatProgress({ total: 12, done: 5, running: 2, queued: 4, failed: 1, etaMs: 65_000 })).toBe('queue: 5/12 done, 2 running, 4 queued, 1 failed, ETA 1 min 5 s');
    expect(formatProgress({ total: 2, done: 2, running: 0, queued: 0, failed: 0, etaMs: 0 })).toBe('queue: 2/2 done, 0 running, 0 queued, 0 failed');
  });
});
