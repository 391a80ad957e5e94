import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskTier } from '../../core/cache/disk-tier.js';
import type { StoredResult } from '../../core/cache/stored.js';

const KEY = 'ab12cd34ef';
const result = (n: number, fill: number): StoredResult => ({
  out: { kind: 'tensor', tensor: { dtype: 'float32', shape: [n], data: new Float32Array(n).fill(fill) } },
  info: { kind: 'json', json: { fill } },
});

let dir: string;
let tier: DiskTier;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kf-disk-'));
  tier = new DiskTier(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Every file under the objects folder, relative to it. */
function objectFiles(): string[] {
  const root = path.join(dir, 'objects');
  try {
    return readdirSync(root).flatMap((shard) => readdirSync(path.join(root, shard)).map((f) => `${shard}/${f}`));
  } catch {
    return [];
  }
}

describe('DiskTier entries', () => {
  it('stores one file per key under objects/<key[0..2]>/<key> and reads it back', async () => {
    await tier.put(KEY, result(3, 1.5));
    expect(objectFiles()).toEqual([`ab/${KEY}`]);
    const bytes = readFileSync(path.join(dir, 'objects', 'ab', KEY));
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('KFCACHE\0');
    expect(bytes.readUInt32LE(8)).toBe(1);
    expect(await tier.get(KEY)).toEqual({ status: 'hit', result: result(3, 1.5) });
  });
  it('reports a missing entry as a miss', async () => {
    expect(await tier.get('ffff00')).toEqual({ status: 'miss' });
  });
  it('replaces an entry on a second put and leaves no temp files', async () => {
    await tier.put(KEY, result(3, 1));
    await tier.put(KEY, result(5, 2));
    expect(await tier.get(KEY)).toEqual({ status: 'hit', result: result(5, 2) });
    expect(objectFiles()).toEqual([`ab/${KEY}`]);
  });
  it('refuses keys that are not safe file names', async () => {
    for (const bad of ['../etc', 'a/b/c', '', 'ab', 'x'.repeat(129), 'a.b.c']) {
      await expect(tier.put(bad, result(1, 0)), bad).rejects.toThrow(/invalid key/);
    }
  });

  describe('damaged entries are reported corrupt and removed', () => {
    const file = () => path.join(dir, 'objects', 'ab', KEY);
    const damage = async (how: (bytes: Buffer) => Buffer | void) => {
      await tier.put(KEY, result(64, 3));
      const bytes = readFileSync(file());
      writeFileSync(file(), how(bytes) ?? bytes);
      const read = await tier.get(KEY);
      expect(() => statSync(file())).toThrow(/ENOENT/);
      expect(await tier.get(KEY)).toEqual({ status: 'miss' });
      return read;
    };
    it('a truncated body', async () => {
      expect(await damage((b) => b.subarray(0, b.length - 10))).toEqual({ status: 'corrupt', reason: 'checksum mismatch' });
    });
    it('a file cut inside the header', async () => {
      expect(await damage((b) => b.subarray(0, 20))).toEqual({ status: 'corrupt', reason: 'truncated: 20 bytes, shorter than the 44-byte header' });
    });
    it('a flipped bit in the data', async () => {
      expect(await damage((b) => void (b[b.length - 1] ^= 1))).toEqual({ status: 'corrupt', reason: 'checksum mismatch' });
    });
    it('a wrong magic or version', async () => {
      expect(await damage((b) => void (b[0] = 0x58))).toEqual({ status: 'corrupt', reason: 'bad magic' });
      expect(await damage((b) => void b.writeUInt32LE(7, 8))).toEqual({ status: 'corrupt', reason: 'unsupported version 7' });
    });
    it('an empty file (a crash before any write reached the disk)', async () => {
      await tier.put(KEY, result(1, 0));
      truncateSync(file(), 0);
      expect(await tier.get(KEY)).toMatchObject({ status: 'corrupt', reason: expect.stringMatching(/^truncated: 0 bytes/) });
    });
  });
});

describe('DiskTier stats, clear and prune', () => {
  it('counts entries and their file bytes, ignoring temp files', async () => {
    await tier.put('aa0001', result(100, 1));
    await tier.put('bb0002', result(10, 1));
    writeFileSync(path.join(dir, 'objects', 'aa', 'aa0001.tmp-1-abc'), 'partial');
    const sizes = ['aa/aa0001', 'bb/bb0002'].map((f) => statSync(path.join(dir, 'objects', f)).size);
    expect(await tier.stats()).toEqual({ entries: 2, bytes: sizes[0] + sizes[1] });
    await tier.clear();
    expect(await tier.stats()).toEqual({ entries: 0, bytes: 0 });
    expect(await tier.get('aa0001')).toEqual({ status: 'miss' });
  });

  it('prunes least recently used entries first; a read counts as a use', async () => {
    const keys = ['k00001', 'k00002', 'k00003', 'k00004'];
    for (const k of keys) await tier.put(k, result(250, 1)); // ~1.1 kB each
    // Give them distinct, old mtimes: k00001 oldest ... k00004 newest.
    keys.forEach((k, i) => utimesSync(path.join(dir, 'objects', 'k0', k), 1_000_000 + i, 1_000_000 + i));
    expect((await tier.get('k00001')).status).toBe('hit'); // now the most recent
    const size = statSync(path.join(dir, 'objects', 'k0', 'k00002')).size;
    const report = await tier.prune(2 * size);
    expect(report).toEqual({ keys: ['k00002', 'k00003'], bytes: 2 * size });
    expect(objectFiles().sort()).toEqual(['k0/k00001', 'k0/k00004']);
    expect(await tier.prune(10 * size)).toEqual({ keys: [], bytes: 0 });
    expect((await tier.prune(0)).keys).toEqual(['k00004', 'k00001']);
  });

  it('removes temp files that crashed writers left over an hour ago', async () => {
    await tier.put('aa0001', result(1, 1));
    const stale = path.join(dir, 'objects', 'aa', 'aa0001.tmp-99-old');
    const fresh = path.join(dir, 'objects', 'aa', 'aa0001.tmp-99-new');
    writeFileSync(stale, 'x');
    writeFileSync(fresh, 'x');
    utimesSync(stale, new Date(Date.now() - 2 * 3_600_000), new Date(Date.now() - 2 * 3_600_000));
    await tier.prune(1e9);
    expect(objectFiles().sort()).toEqual(['aa/aa0001', 'aa/aa0001.tmp-99-new']);
  });
});

describe('DiskTier records', () => {
  it('writes and reads JSON records atomically under records/', async () => {
    expect(await tier.readRecord('graph-1')).toBeUndefined();
    await tier.writeRecord('graph-1', { nodes: { a: 'key1' }, n: 2 });
    await tier.writeRecord('graph-1', { nodes: { a: 'key2' }, n: 3 });
    expect(await tier.readRecord('graph-1')).toEqual({ nodes: { a: 'key2' }, n: 3 });
    expect(readdirSync(path.join(dir, 'records'))).toEqual(['graph-1.json']);
  });
  it('refuses unsafe names and reports malformed records', async () => {
    await expect(tier.writeRecord('../x', 1)).rejects.toThrow(/invalid record name/);
    await expect(tier.readRecord('.hidden')).rejects.toThrow(/invalid record name/);
    await tier.writeRecord('r', 1);
    writeFileSync(path.join(dir, 'records', 'r.json'), '{oops');
    await expect(tier.readRecord('r')).rejects.toThrow(/record .*r\.json is not valid JSON/);
  });
});

describe('DiskTier under concurrent writers', () => {
  it('two processes writing one key many times never leave a corrupt entry', async () => {
    const N = 60;
    const size = 64 * 1024; // 256 kB per entry: large enough that a torn write would show
    const moduleUrl = pathToFileURL(path.resolve('core/cache/disk-tier.ts')).href;
    const writer = `
      const { DiskTier } = await import(process.env.KF_MODULE);
      const tier = new DiskTier(process.env.KF_DIR);
      const id = Number(process.env.KF_ID);
      for (let i = 0; i < ${N}; i++) {
        const fill = id * 1000 + i;
        await tier.put('${KEY}', {
          out: { kind: 'tensor', tensor: { dtype: 'float32', shape: [${size}], data: new Float32Array(${size}).fill(fill) } },
          info: { kind: 'json', json: { fill } },
        });
      }`;
    const run = (id: number) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', writer], {
          env: { ...process.env, KF_MODULE: moduleUrl, KF_DIR: dir, KF_ID: String(id) },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let err = '';
        child.stderr.on('data', (d) => (err += d));
        child.on('error', reject);
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer ${id} exited ${code}: ${err}`))));
      });
    let done = false;
    const writers = Promise.all([run(1), run(2)]).finally(() => (done = true));
    // Read while they write: every hit must be one whole write, never a mix of two.
    const seen = new Set<number>();
    let corrupt = 0;
    while (!done) {
      const read = await tier.get(KEY);
      if (read.status === 'corrupt') corrupt++;
      if (read.status !== 'hit') continue;
      const { out, info } = read.result;
      if (out.kind !== 'tensor' || info.kind !== 'json') throw new Error('wrong kinds');
      const fill = (info.json as { fill: number }).fill;
      expect(out.tensor.data.length).toBe(size);
      expect(out.tensor.data.every((v) => v === fill)).toBe(true);
      seen.add(fill);
    }
    await writers;
    expect(corrupt).toBe(0);
    expect(seen.size).toBeGreaterThan(0);
    const last = await tier.get(KEY);
    expect(last.status).toBe('hit');
    // The survivor is one writer's last write.
    expect(last).toMatchObject({ status: 'hit', result: { info: { json: { fill: expect.toBeOneOf([1000 + N - 1, 2000 + N - 1]) } } } });
    expect(objectFiles()).toEqual([`ab/${KEY}`]);
  });
});
