/**
 * The disk tier: one file per key under `<dir>/objects/<key[0..2]>/<key>`, plus small JSON records
 * under `<dir>/records/`.
 *
 * Entry file: 8-byte magic `KFCACHE\0`, u32 LE format version, the 32-byte SHA-256 of the body, then
 * the body (`encodeResult`). Every write goes to a unique temp file in the target's folder, is fsynced
 * and renamed over the target: rename is atomic, so a reader (or a concurrent writer of the same key,
 * in this process or another) sees the old file or the new one, never a mix. The checksum catches
 * what atomicity cannot (a torn disk, a hand-edited file); such entries are removed and recomputed.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { JsonValue } from '../operator/index.js';
import { checkKey, frameHeader, frameProblem, headerLength, type FrameFormat } from './checksummed-file.js';
import { decodeResult, encodeResult, type StoredResult } from './stored.js';

/** What a read found: a verified result, nothing, or a damaged entry (already removed). */
export type DiskRead =
  | { status: 'hit'; result: StoredResult }
  | { status: 'miss' }
  | { status: 'corrupt'; reason: string };

/** Entries removed by `prune`, oldest first, and the bytes they took. */
export interface PruneReport {
  keys: string[];
  bytes: number;
}

const FORMAT: FrameFormat = { magic: new TextEncoder().encode('KFCACHE\0'), version: 1 };
const PREFIX = headerLength(FORMAT);
const TEMP_MARK = '.tmp-';
// Record names become file names too: a safe alphabet.
const RECORD = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/** A cache folder on disk. Safe to share between processes. */
export class DiskTier {
  constructor(readonly dir: string) {}

  /** The file an entry lives in. */
  entryPath(key: string): string {
    checkKey(key, 'disk cache');
    return path.join(this.dir, 'objects', key.slice(0, 2), key);
  }

  /** Reads and verifies an entry; on a hit, marks it recently used (mtime) for `prune`. */
  async get(key: string): Promise<DiskRead> {
    const file = this.entryPath(key);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'miss' };
      throw e;
    }
    const reason = frameProblem(FORMAT, bytes);
    let result: StoredResult | undefined;
    let decodeError: string | undefined;
    if (!reason) {
      try {
        result = decodeResult(bytes.subarray(PREFIX));
      } catch (e) {
        decodeError = (e as Error).message;
      }
    }
    if (!result) {
      await unlink(file).catch(ignoreMissing);
      return { status: 'corrupt', reason: reason ?? decodeError ?? 'unreadable' };
    }
    const now = new Date();
    // Best effort: the entry may have been pruned meanwhile, and the read already succeeded.
    await utimes(file, now, now).catch(() => {});
    return { status: 'hit', result };
  }

  /** Writes an entry atomically, replacing any existing one. */
  async put(key: string, result: StoredResult): Promise<void> {
    const body = encodeResult(result);
    await writeAtomic(this.entryPath(key), [frameHeader(FORMAT, body), body]);
  }

  /** Removes one entry; no error if it is absent. */
  async delete(key: string): Promise<void> {
    await unlink(this.entryPath(key)).catch(ignoreMissing);
  }

  /** Number of entries and their total file size. */
  async stats(): Promise<{ entries: number; bytes: number }> {
    const entries = await this.#list();
    return { entries: entries.length, bytes: entries.reduce((s, e) => s + e.bytes, 0) };
  }

  /** Removes every entry (records are kept). */
  async clear(): Promise<void> {
    await rm(path.join(this.dir, 'objects'), { recursive: true, force: true });
  }

  /**
   * Removes least recently used entries (oldest mtime first; reads refresh it) until the entries
   * take at most `maxBytes`. Also removes temp files left by crashed writers more than an hour ago.
   */
  async prune(maxBytes: number): Promise<PruneReport> {
    const entries = await this.#list(true);
    let total = entries.reduce((s, e) => s + e.bytes, 0);
    entries.sort((a, b) => a.mtimeMs - b.mtimeMs || a.key.localeCompare(b.key));
    const report: PruneReport = { keys: [], bytes: 0 };
    for (const e of entries) {
      if (total <= maxBytes) break;
      await unlink(e.file).catch(ignoreMissing);
      total -= e.bytes;
      report.keys.push(e.key);
      report.bytes += e.bytes;
    }
    return report;
  }

  /** Reads a JSON record, or undefined when there is none. Throws on a malformed record file. */
  async readRecord(name: string): Promise<JsonValue | undefined> {
    const file = this.#recordPath(name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      return JSON.parse(text) as JsonValue;
    } catch (e) {
      throw new Error(`disk cache: record ${file} is not valid JSON: ${(e as Error).message}`);
    }
  }

  /** Writes a JSON record atomically. */
  async writeRecord(name: string, json: JsonValue): Promise<void> {
    await writeAtomic(this.#recordPath(name), [new TextEncoder().encode(JSON.stringify(json))]);
  }

  #recordPath(name: string): string {
    if (!RECORD.test(name)) throw new Error(`disk cache: invalid record name ${JSON.stringify(name)}`);
    return path.join(this.dir, 'records', `${name}.json`);
  }

  /** Entry files with size and mtime; with `staleTemps`, also deletes temp files over an hour old. */
  async #list(staleTemps = false): Promise<Array<{ key: string; file: string; bytes: number; mtimeMs: number }>> {
    const root = path.join(this.dir, 'objects');
    const out: Array<{ key: string; file: string; bytes: number; mtimeMs: number }> = [];
    const shards = await readdir(root).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [] as string[];
      throw e;
    });
    for (const shard of shards) {
      const names = await readdir(path.join(root, shard)).catch(() => [] as string[]);
      for (const name of names) {
        const file = path.join(root, shard, name);
        const st = await stat(file).catch(() => undefined);
        if (!st?.isFile()) continue;
        if (name.includes(TEMP_MARK)) {
          if (staleTemps && Date.now() - st.mtimeMs > 3_600_000) await unlink(file).catch(ignoreMissing);
          continue;
        }
        out.push({ key: name, file, bytes: st.size, mtimeMs: st.mtimeMs });
      }
    }
    return out;
  }
}

/**
 * Writes `chunks` to `file` so that readers see either the old content or all of the new: a unique
 * temp file in the same folder (same file system, so rename is atomic), fsync, rename over.
 */
export async function writeAtomic(file: string, chunks: Uint8Array[]): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const temp = `${file}${TEMP_MARK}${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    try {
      for (const c of chunks) {
        // write() may write less than asked; loop until the chunk is out.
        for (let done = 0; done < c.length; ) done += (await handle.write(c, done, c.length - done)).bytesWritten;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (e) {
    await unlink(temp).catch(() => {});
    throw e;
  }
  // Persist the rename itself; best effort, as some platforms cannot fsync a folder.
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    /* not supported here */
  }
}

function ignoreMissing(e: NodeJS.ErrnoException): void {
  if (e.code !== 'ENOENT') throw e;
}
