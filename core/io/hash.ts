/**
 * Canonical JSON and SHA-256: the two primitives every cache key and fingerprint is built from.
 * Canonical means one text per value, so equal values always hash equal. No tfjs here.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

/**
 * JSON text with object keys sorted (by UTF-16 code unit, recursively), no whitespace, array order
 * kept and `undefined` object members dropped (as JSON.stringify does). Throws on a non-finite
 * number, which JSON cannot represent (JSON.stringify would silently write `null`), and on values
 * JSON has no form for (functions, symbols, bigints, `undefined` at the top or in an array).
 */
export function canonicalJson(value: unknown): string {
  return write(value, '');
}

function write(value: unknown, where: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`canonicalJson: non-finite number ${value} at ${where || '/'}`);
      return JSON.stringify(value);
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      // Honour toJSON (e.g. Date) like JSON.stringify does.
      const withToJson = value as { toJSON?: () => unknown };
      if (typeof withToJson.toJSON === 'function') return write(withToJson.toJSON(), where);
      if (Array.isArray(value)) return `[${value.map((v, i) => write(v, `${where}/${i}`)).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const key of Object.keys(obj).sort()) {
        if (obj[key] === undefined) continue;
        parts.push(`${JSON.stringify(key)}:${write(obj[key], `${where}/${key}`)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new Error(`canonicalJson: cannot encode ${typeof value} at ${where || '/'}`);
  }
}

/** Lower-case hex SHA-256 of a string (as UTF-8) or of bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Lower-case hex SHA-256 of a file's bytes, read synchronously in chunks (fingerprints are synchronous). */
export function sha256FileSync(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}
