/**
 * Checkpoints on disk: `<dir>/checkpoints/<key>/state`, one per node cache key, beside the disk tier.
 *
 * File: 8-byte magic `KFCKPT\0\0`, u32 LE format version, the 32-byte SHA-256 of the body, then the
 * body (the stored-result container of stored.ts). Written like cache entries (temp file, fsync,
 * rename), so a process killed mid-save leaves the previous checkpoint whole; the checksum catches
 * the rest (a torn disk, a hand-edited file). A folder per key lets `delete` take stray temp files
 * of killed writers with it.
 */
import { readFile, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { checkKey, frameHeader, frameProblem, headerLength, type FrameFormat } from './checksummed-file.js';
import { writeAtomic } from './disk-tier.js';
import { decodeResult, encodeResult, type StoredResult } from './stored.js';

export type CheckpointRead =
  | { status: 'hit'; result: StoredResult }
  | { status: 'miss' }
  | { status: 'corrupt'; reason: string };

const FORMAT: FrameFormat = { magic: new TextEncoder().encode('KFCKPT\0\0'), version: 1 };
const PREFIX = headerLength(FORMAT);

/** The checkpoints of one cache folder. Safe to share between processes (writes are atomic). */
export class CheckpointStore {
  readonly root: string;

  /** `cacheDir` is the disk tier's folder. */
  constructor(cacheDir: string) {
    this.root = path.join(cacheDir, 'checkpoints');
  }

  /** The file holding `key`'s checkpoint. */
  file(key: string): string {
    checkKey(key, 'checkpoint');
    return path.join(this.root, key, 'state');
  }

  /** Reads and verifies a checkpoint; a damaged one is removed and reported as corrupt. */
  async read(key: string): Promise<CheckpointRead> {
    const file = this.file(key);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'miss' };
      throw e;
    }
    let reason = frameProblem(FORMAT, bytes);
    if (!reason) {
      try {
        return { status: 'hit', result: decodeResult(bytes.subarray(PREFIX)) };
      } catch (e) {
        reason = (e as Error).message;
      }
    }
    await unlink(file).catch(() => {});
    return { status: 'corrupt', reason };
  }

  /** Replaces `key`'s checkpoint atomically. */
  async write(key: string, result: StoredResult): Promise<void> {
    const body = encodeResult(result);
    await writeAtomic(this.file(key), [frameHeader(FORMAT, body), body]);
  }

  /** Removes `key`'s checkpoint folder (and any temp files in it); no error when absent. */
  async delete(key: string): Promise<void> {
    await rm(path.dirname(this.file(key)), { recursive: true, force: true });
  }
}
