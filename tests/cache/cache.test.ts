import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Cache, defaultCacheDir, parseByteSize } from '../../core/cache/cache.js';
import type { StoredResult } from '../../core/cache/stored.js';

const KEY = 'c0ffee01';
const result = (n: number, fill: number): StoredResult => ({
  out: { kind: 'tensor', tensor: { dtype: 'float32', shape: [n], data: new Float32Array(n).fill(fill) } },
});

let dir: string;
beforeEach(() => void (dir = mkdtempSync(path.join(tmpdir(), 'kf-cache-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('Cache', () => {
  it('answers from memory first, then from disk, refilling memory', async () => {
    const first = new Cache({ memoryBytes: 1e6, dir });
    expect(await first.get(KEY)).toBeUndefined();
    await first.put(KEY, result(4, 2));
    expect(await first.get(KEY)).toEqual({ result: result(4, 2), tier: 'memory' });
    // A new process: empty memory, same folder.
    const second = new Cache({ memoryBytes: 1e6, dir });
    expect(await second.get(KEY)).toEqual({ result: result(4, 2), tier: 'disk' });
    expect(await second.get(KEY)).toEqual({ result: result(4, 2), tier: 'memory' });
  });

  it('serves from disk what the memory budget could not keep', async () => {
    const cache = new Cache({ memoryBytes: 100, dir });
    await cache.put('aaa1', result(20, 1)); // 80 bytes
    await cache.put('bbb2', result(20, 2)); // evicts aaa1 from memory
    expect((await cache.get('aaa1'))?.tier).toBe('disk');
    expect((await cache.get('bbb2'))?.tier).toBe('disk'); // aaa1's refill evicted it in turn
  });

  it('warns about a corrupt disk entry and reports a miss', async () => {
    const warnings: string[] = [];
    await new Cache({ memoryBytes: 1e6, dir }).put(KEY, result(8, 1));
    const file = path.join(dir, 'objects', KEY.slice(0, 2), KEY);
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(file, bytes);
    const cache = new Cache({ memoryBytes: 1e6, dir, onWarning: (m) => warnings.push(m) });
    expect(await cache.get(KEY)).toBeUndefined();
    expect(warnings).toEqual([`cache entry ${KEY} is corrupt (checksum mismatch): recomputing`]);
    // Removed, so the next look is a plain miss.
    expect(await cache.get(KEY)).toBeUndefined();
    expect(warnings).toHaveLength(1);
  });

  it('warns rather than fails when the disk cannot be used', async () => {
    const warnings: string[] = [];
    // A file where the cache folder should be: every disk operation fails.
    const blocked = path.join(dir, 'blocked');
    writeFileSync(blocked, 'not a folder');
    const cache = new Cache({ memoryBytes: 1e6, dir: blocked, onWarning: (m) => warnings.push(m) });
    await cache.put(KEY, result(2, 1));
    expect(warnings[0]).toMatch(new RegExp(`^cache entry ${KEY} could not be written \\(.*(ENOTDIR|EEXIST)`));
    expect((await cache.get(KEY))?.tier).toBe('memory');
    cache.memory.clear();
    expect(await cache.get(KEY)).toBeUndefined();
    expect(warnings[1]).toMatch(new RegExp(`^cache entry ${KEY} could not be read \\(.*ENOTDIR.*\\): recomputing$`));
  });

  it('works without a disk tier', async () => {
    const cache = new Cache({ memoryBytes: 1e6, dir: null });
    await cache.put(KEY, result(2, 1));
    expect(await cache.get(KEY)).toEqual({ result: result(2, 1), tier: 'memory' });
    expect(await cache.stats()).toEqual({ memory: { entries: 1, bytes: 8 } });
    expect(await cache.prune(0)).toEqual({ keys: [], bytes: 0 });
    const record = { a: [1] };
    await cache.writeRecord('g', record);
    record.a.push(2);
    expect(await cache.readRecord('g')).toEqual({ a: [1] });
    expect(await cache.readRecord('other')).toBeUndefined();
  });

  it('reports stats of both tiers, clears both and prunes the disk', async () => {
    const cache = new Cache({ memoryBytes: 1e6, dir });
    await cache.put('aaa1', result(10, 1));
    await cache.put('bbb2', result(10, 2));
    const stats = await cache.stats();
    expect(stats.memory).toEqual({ entries: 2, bytes: 80 });
    expect(stats.disk?.entries).toBe(2);
    expect(stats.disk!.bytes).toBeGreaterThan(80);
    const pruned = await cache.prune(0);
    expect(pruned.keys.sort()).toEqual(['aaa1', 'bbb2']);
    expect((await cache.stats()).disk).toEqual({ entries: 0, bytes: 0 });
    await cache.put('ccc3', result(1, 1));
    await cache.clear();
    expect(await cache.stats()).toEqual({ memory: { entries: 0, bytes: 0 }, disk: { entries: 0, bytes: 0 } });
    expect(await cache.get('ccc3')).toBeUndefined();
  });

  it('keeps records on disk across instances', async () => {
    await new Cache({ memoryBytes: 0, dir }).writeRecord('graph', { last: 'abc' });
    expect(await new Cache({ memoryBytes: 0, dir }).readRecord('graph')).toEqual({ last: 'abc' });
  });
});

describe('parseByteSize', () => {
  it('reads decimal and binary units, any case', () => {
    expect(parseByteSize('123')).toBe(123);
    expect(parseByteSize('100kB')).toBe(100_000);
    expect(parseByteSize('512MB')).toBe(512_000_000);
    expect(parseByteSize('1GB')).toBe(1_000_000_000);
    expect(parseByteSize('2tb')).toBe(2e12);
    expect(parseByteSize('1KiB')).toBe(1024);
    expect(parseByteSize('512MiB')).toBe(536_870_912);
    expect(parseByteSize('1 GiB')).toBe(1_073_741_824);
    expect(parseByteSize('1.5kB')).toBe(1500);
    expect(parseByteSize('4.35MB')).toBe(4_350_000);
    expect(parseByteSize('7B')).toBe(7);
  });
  it('refuses anything else with a clear message', () => {
    for (const bad of ['', 'GB', '-1GB', '1 PB', '1e3', '12 bytes', '1,5MB']) {
      expect(() => parseByteSize(bad), bad).toThrow(`invalid byte size ${JSON.stringify(bad)}: expected a number with an optional unit`);
    }
  });
});

describe('defaultCacheDir', () => {
  const saved = process.env.KERNELFLOW_CACHE_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.KERNELFLOW_CACHE_DIR;
    else process.env.KERNELFLOW_CACHE_DIR = saved;
  });
  it('is .kernelflow/cache under the working folder by default', () => {
    delete process.env.KERNELFLOW_CACHE_DIR;
    expect(defaultCacheDir('/work/proj')).toBe(path.join('/work/proj', '.kernelflow', 'cache'));
  });
  it('follows KERNELFLOW_CACHE_DIR, relative to the working folder', () => {
    process.env.KERNELFLOW_CACHE_DIR = '/var/cache/kf';
    expect(defaultCacheDir('/work/proj')).toBe(path.resolve('/var/cache/kf'));
    process.env.KERNELFLOW_CACHE_DIR = 'shared-cache';
    expect(defaultCacheDir('/work/proj')).toBe(path.resolve('/work/proj', 'shared-cache'));
  });
});
