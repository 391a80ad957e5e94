/**
 * Checkpoints on disk: `<dir>/checkpoints/<key>/state`, one per node cache key, beside the disk tier.
 *
 * File: 8-byte magic `KFCKPT\0\0`, u32 LE format version, the 32-byte SHA-256 of the body, then the
 * body (the stored-result container of stored.ts). Written like cache entries (temp file, fsync,
 * rename), so a process killed mid-save leaves the previous checkpoint whole; the checksum catches
 * the rest (a torn disk, a hand-edited file). A folder per key lets `delete` take stray temp files
 * of killed writers with it.
 */
import { createHash } from 'node:crypto';
import { readFile, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { writeAtomic } from './disk-tier.js';
import { decodeResult, encodeResult, type StoredResult } from './stored.js';

export type CheckpointRead =
  | { status: 'hit'; result: StoredResult }
  | { status: 'miss' }
  | { status: 'corrupt'; reason: string };

const MAGIC = new TextEncoder().encode('KFCKPT\0\0');
const VERSION = 1;
const PREFIX = MAGIC.length + 4 + 32;
const KEY = /^[A-Za-z0-9_-]{3,128}$/;

/** The checkpoints of one cache folder. Safe to share between processes (writes are atomic). */
export class CheckpointStore {
  readonly root: string;

  /** `cacheDir` is the disk tier's folder. */
  constructor(cacheDir: string) {
    this.root = path.join(cacheDir, 'checkpoints');
  }

  /** The file holding `key`'s checkpoint. */
  file(key: string): string {
    if (!KEY.test(key)) throw new Error(`checkpoint: invalid key ${JSON.stringify(key)} (3-128 characters of [A-Za-z0-9_-])`);
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
    let reason = checkFile(bytes);
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
    const head = new Uint8Array(PREFIX);
    head.set(MAGIC, 0);
    new DataView(head.buffer).setUint32(MAGIC.length, VERSION, true);
    head.set(createHash('sha256').update(body).digest(), MAGIC.length + 4);
    await writeAtomic(this.file(key), [head, body]);
  }

  /** Removes `key`'s checkpoint folder (and any temp files in it); no error when absent. */
  async delete(key: string): Promise<void> {
    await rm(path.dirname(this.file(key)), { recursive: true, force: true });
  }
}

/** Why a checkpoint file is unusable, or undefined when magic, version and checksum hold. */
function checkFile(bytes: Uint8Array): string | undefined {
  if (bytes.length < PREFIX) return `truncated: ${bytes.length} bytes, shorter than the ${PREFIX}-byte header`;
  if (MAGIC.some((b, i) => bytes[i] !== b)) return 'bad magic';
  const version = new DataView(bytes.buffer, bytes.byteOffset).getUint32(MAGIC.length, true);
  if (version !== VERSION) return `unsupported version ${version}`;
  const want = bytes.subarray(MAGIC.length + 4, PREFIX);
  const got = createHash('sha256').update(bytes.subarray(PREFIX)).digest();
  return Buffer.from(got).equals(Buffer.from(want)) ? undefined : 'checksum mismatch';
}
