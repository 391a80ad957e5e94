/**
 * Content-addressed cache keys. A node's key hashes what determines its result — operator id and
 * version, canonical params, dtype, backend, its inputs' keys (a Merkle chain), its seed when it is
 * stochastic, and operator-supplied fingerprints such as a data file's bytes — and never its node
 * id, so renaming a deterministic node keeps its cache.
 */
import { canonicalJson, sha256Hex } from '../io/hash.js';
import type { JsonValue } from '../operator/values.js';

export interface KeyParts {
  op: string;
  version: number;
  /** Hash of each top-level param, so a change can be named. */
  params: Record<string, string>;
  dtype: 'float32';
  backend: string;
  /** Input port → upstream `key#port` (arrays for variadic ports). */
  inputs: Record<string, string | string[]>;
  seed?: number;
  fingerprint?: string;
}

export function paramHashes(params: Record<string, JsonValue>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) out[k] = sha256Hex(canonicalJson(v)).slice(0, 16);
  return out;
}

export function cacheKey(parts: KeyParts): string {
  return sha256Hex(canonicalJson(parts));
}

/** How an upstream result is named inside a consumer's key. */
export function inputKey(upstreamKey: string, port: string): string {
  return `${upstreamKey}#${port}`;
}

/**
 * Why a node's key differs from the one recorded at the last run of the same graph, in words:
 * e.g. `params changed: std`, `upstream 'x' changed`, `operator version 1 → 2`.
 */
export function explainKeyChange(
  previous: KeyParts | undefined,
  current: KeyParts,
  upstreamOf: (inputKey: string) => string | undefined,
): string[] {
  if (!previous) return ['new node (no record of it in the last run)'];
  const reasons: string[] = [];
  if (previous.op !== current.op) reasons.push(`operator ${previous.op} → ${current.op}`);
  else if (previous.version !== current.version) reasons.push(`operator version ${previous.version} → ${current.version}`);
  const names = new Set([...Object.keys(previous.params), ...Object.keys(current.params)]);
  const changed = [...names].filter((n) => previous.params[n] !== current.params[n]);
  if (changed.length) reasons.push(`params changed: ${changed.join(', ')}`);
  if (previous.backend !== current.backend) reasons.push(`backend ${previous.backend} → ${current.backend}`);
  if (previous.seed !== current.seed) reasons.push('seed changed');
  if (previous.fingerprint !== current.fingerprint) reasons.push('input data changed');
  const ports = new Set([...Object.keys(previous.inputs), ...Object.keys(current.inputs)]);
  for (const port of ports) {
    const before = [previous.inputs[port] ?? []].flat();
    const after = [current.inputs[port] ?? []].flat();
    if (canonicalJson(before) === canonicalJson(after)) continue;
    const from = after.filter((k) => !before.includes(k)).map((k) => upstreamOf(k) ?? 'another node');
    reasons.push(from.length ? `upstream ${[...new Set(from)].map((n) => `'${n}'`).join(', ')} changed (input '${port}')` : `input '${port}' rewired`);
  }
  return reasons.length ? reasons : ['dtype changed'];
}
