/**
 * The framing shared by cache entries and checkpoints: an 8-byte magic, a u32 LE format version
 * and the 32-byte SHA-256 of the body, then the body. `frameHeader` makes the header,
 * `frameProblem` says why bytes read back are unusable (or undefined when they are whole).
 */
import { createHash } from 'node:crypto';

export interface FrameFormat {
  magic: Uint8Array;
  version: number;
}

/** Header length: magic, version, checksum. */
export const headerLength = (f: FrameFormat) => f.magic.length + 4 + 32;

export function frameHeader(f: FrameFormat, body: Uint8Array): Uint8Array {
  const head = new Uint8Array(headerLength(f));
  head.set(f.magic, 0);
  new DataView(head.buffer).setUint32(f.magic.length, f.version, true);
  head.set(createHash('sha256').update(body).digest(), f.magic.length + 4);
  return head;
}

export function frameProblem(f: FrameFormat, bytes: Uint8Array): string | undefined {
  const prefix = headerLength(f);
  if (bytes.length < prefix) return `truncated: ${bytes.length} bytes, shorter than the ${prefix}-byte header`;
  if (f.magic.some((b, i) => bytes[i] !== b)) return 'bad magic';
  const version = new DataView(bytes.buffer, bytes.byteOffset).getUint32(f.magic.length, true);
  if (version !== f.version) return `unsupported version ${version}`;
  const got = createHash('sha256').update(bytes.subarray(prefix)).digest();
  return got.equals(bytes.subarray(f.magic.length + 4, prefix)) ? undefined : 'checksum mismatch';
}

const KEY = /^[A-Za-z0-9_-]{3,128}$/;

/** Keys become file names: a safe alphabet (cache keys are hex digests). */
export function checkKey(key: string, what: string): void {
  if (!KEY.test(key)) throw new Error(`${what}: invalid key ${JSON.stringify(key)} (3-128 characters of [A-Za-z0-9_-])`);
}
