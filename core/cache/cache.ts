/**
 * The result cache the scheduler talks to: a memory tier in front of an optional disk tier.
 * A damaged or unreadable disk entry is a warning and a miss, never a failed run: the node recomputes.
 */
import path from 'node:path';
import type { JsonValue } from '../operator/index.js';
import { DiskTier, type PruneReport } from './disk-tier.js';
import { MemoryTier } from './memory-tier.js';
import type { StoredResult } from './stored.js';

/** What a Cache is built from. */
export interface CacheOptions {
  /** Budget of the memory tier in bytes; 0 turns it off. */
  memoryBytes: number;
  /** Folder of the disk tier, or null for memory only. */
  dir: string | null;
  /** Told about entries that are corrupt or cannot be read or written. */
  onWarning?: (message: string) => void;
}

/** Entry counts and bytes per tier. */
export interface CacheStats {
  memory: { entries: number; bytes: number };
  /** Absent when the cache has no disk tier. */
  disk?: { entries: number; bytes: number };
}

/** Memory-then-disk cache of stored node results, plus the engine's small per-graph records. */
export class Cache {
  readonly memory: MemoryTier;
  readonly disk: DiskTier | undefined;
  readonly #warn: (message: string) => void;
  // Records live here when there is no disk tier, so the engine need not care which it has.
  readonly #records = new Map<string, string>();

  constructor(options: CacheOptions) {
    this.memory = new MemoryTier(options.memoryBytes);
    this.disk = options.dir === null ? undefined : new DiskTier(options.dir);
    this.#warn = options.onWarning ?? (() => {});
  }

  /** Looks in memory, then on disk (refilling memory). A corrupt entry warns and reads as a miss. */
  async get(key: string): Promise<{ result: StoredResult; tier: 'memory' | 'disk' } | undefined> {
    const inMemory = this.memory.get(key);
    if (inMemory) return { result: inMemory, tier: 'memory' };
    if (!this.disk) return undefined;
    let read;
    try {
      read = await this.disk.get(key);
    } catch (e) {
      this.#warn(`cache entry ${key} could not be read (${(e as Error).message}): recomputing`);
      return undefined;
    }
    if (read.status === 'corrupt') {
      this.#warn(`cache entry ${key} is corrupt (${read.reason}): recomputing`);
      return undefined;
    }
    if (read.status === 'miss') return undefined;
    this.memory.set(key, read.result);
    return { result: read.result, tier: 'disk' };
  }

  /** Stores a result in both tiers. A failed disk write warns rather than throws: the result is still good. */
  async put(key: string, result: StoredResult): Promise<void> {
    this.memory.set(key, result);
    if (!this.disk) return;
    try {
      await this.disk.put(key, result);
    } catch (e) {
      this.#warn(`cache entry ${key} could not be written (${(e as Error).message})`);
    }
  }

  async stats(): Promise<CacheStats> {
    const memory = this.memory.stats();
    return this.disk ? { memory, disk: await this.disk.stats() } : { memory };
  }

  /** Empties both tiers (records are kept). */
  async clear(): Promise<void> {
    this.memory.clear();
    await this.disk?.clear();
  }

  /** Shrinks the disk tier to `maxBytes`, least recently used first; see DiskTier.prune. */
  async prune(maxBytes: number): Promise<PruneReport> {
    return this.disk ? this.disk.prune(maxBytes) : { keys: [], bytes: 0 };
  }

  /** A record written by writeRecord, or undefined. */
  async readRecord(name: string): Promise<JsonValue | undefined> {
    if (this.disk) return this.disk.readRecord(name);
    const text = this.#records.get(name);
    return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
  }

  /** Stores a small JSON record (on disk atomically, or in memory without a disk tier). */
  async writeRecord(name: string, json: JsonValue): Promise<void> {
    if (this.disk) return this.disk.writeRecord(name, json);
    // Stored as text so later changes to `json` by the caller do not leak in.
    this.#records.set(name, JSON.stringify(json));
  }
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

/**
 * Parses a byte size: a number with an optional unit, decimal (B, kB, MB, GB, TB) or binary
 * (KiB, MiB, GiB, TiB), case-insensitive: '1GB' = 1e9, '512MiB' = 536870912, '123' = 123.
 */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? (m[2] === '' ? 1 : UNITS[m[2].toLowerCase()]) : undefined;
  if (!m || unit === undefined) {
    throw new Error(`invalid byte size ${JSON.stringify(text)}: expected a number with an optional unit (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 512MB`);
  }
  // Round, not floor: 4.35MB is 4349999.999… in binary floating point.
  return Math.round(Number(m[1]) * unit);
}

/** `$KERNELFLOW_CACHE_DIR` (relative to `cwd` when relative), else `<cwd>/.kernelflow/cache`. */
export function defaultCacheDir(cwd: string): string {
  const fromEnv = process.env.KERNELFLOW_CACHE_DIR;
  return fromEnv ? path.resolve(cwd, fromEnv) : path.join(cwd, '.kernelflow', 'cache');
}
