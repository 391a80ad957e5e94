/**
 * Backend-free node identities. A node's cache key includes the backend, so the same graph run on
 * wasm and on cpu shares no keys. Its lineage key hashes the same parts minus the backend, with
 * each input named by its upstream's lineage key: equal lineage means "the same computation",
 * whatever the backend or the node ids.
 */
import { canonicalJson, sha256Hex } from '../io/hash.js';
import type { KeyParts } from '../plan/cache-keys.js';
import type { Plan } from '../plan/plan-graph.js';

/** Where an input came from: the upstream node and port, and that node's lineage key. */
export interface LineageInput {
  node: string;
  port: string;
  lineage: string;
}

export interface NodeLineage {
  key: string;
  op: string;
  version: number;
  /** Hash of each top-level param (as in the cache key). */
  params: Record<string, string>;
  seed?: number;
  fingerprint?: string;
  inputs: Record<string, LineageInput | LineageInput[]>;
}

/** The lineage of every node of a plan, in its topological order. */
export function planLineage(plan: Plan): Record<string, NodeLineage> {
  const byCacheKey = new Map<string, string>();
  const lineage: Record<string, NodeLineage> = {};
  for (const id of plan.order) {
    const parts = plan.nodes.get(id)!.keyParts;
    const upstream = (inputKey: string): LineageInput => {
      const cut = inputKey.lastIndexOf('#');
      const node = byCacheKey.get(inputKey.slice(0, cut));
      if (node === undefined) throw new Error(`lineage: input key ${inputKey} of node '${id}' names no earlier node`);
      return { node, port: inputKey.slice(cut + 1), lineage: lineage[node].key };
    };
    const inputs: NodeLineage['inputs'] = {};
    for (const [port, wired] of Object.entries(parts.inputs)) inputs[port] = Array.isArray(wired) ? wired.map(upstream) : upstream(wired);
    lineage[id] = { key: lineageKey(parts, inputs), op: parts.op, version: parts.version, params: parts.params, inputs, ...optional(parts) };
    // Nodes with equal keys (a block used twice on the same inputs) have equal lineage: the first will do.
    if (!byCacheKey.has(plan.nodes.get(id)!.key)) byCacheKey.set(plan.nodes.get(id)!.key, id);
  }
  return lineage;
}

function optional(parts: KeyParts): Pick<NodeLineage, 'seed' | 'fingerprint'> {
  return { ...(parts.seed !== undefined ? { seed: parts.seed } : {}), ...(parts.fingerprint !== undefined ? { fingerprint: parts.fingerprint } : {}) };
}

function lineageKey(parts: KeyParts, inputs: NodeLineage['inputs']): string {
  const named = (i: LineageInput) => `${i.lineage}#${i.port}`;
  const { backend: _backend, inputs: _keys, ...rest } = parts;
  const byLineage = Object.fromEntries(Object.entries(inputs).map(([port, i]) => [port, Array.isArray(i) ? i.map(named) : named(i)]));
  return sha256Hex(canonicalJson({ ...rest, inputs: byLineage }));
}

/**
 * Why two lineages differ, in words (e.g. `params changed: std`, `upstream 'x' changed`); [] when
 * they are the same.
 */
export function explainLineageChange(a: NodeLineage, b: NodeLineage): string[] {
  if (a.key === b.key) return [];
  const reasons: string[] = [];
  if (a.op !== b.op) reasons.push(`operator ${a.op} → ${b.op}`);
  else if (a.version !== b.version) reasons.push(`operator version ${a.version} → ${b.version}`);
  const names = [...new Set([...Object.keys(a.params), ...Object.keys(b.params)])];
  const changed = names.filter((n) => a.params[n] !== b.params[n]);
  if (changed.length) reasons.push(`params changed: ${changed.join(', ')}`);
  if (a.seed !== b.seed) reasons.push('seed changed');
  if (a.fingerprint !== b.fingerprint) reasons.push('input data changed');
  for (const port of new Set([...Object.keys(a.inputs), ...Object.keys(b.inputs)])) {
    const before = [a.inputs[port] ?? []].flat();
    const after = [b.inputs[port] ?? []].flat();
    if (canonicalJson(before.map((i) => i.lineage)) === canonicalJson(after.map((i) => i.lineage))) continue;
    const changedFrom = after.filter((i) => !before.some((j) => j.lineage === i.lineage)).map((i) => `'${i.node}'`);
    reasons.push(changedFrom.length ? `upstream ${[...new Set(changedFrom)].join(', ')} changed (input '${port}')` : `input '${port}' rewired`);
  }
  return reasons.length ? reasons : ['dtype changed'];
}

/** Every node that depends, directly or not, on `root` (in `lineage`'s order). */
export function downstreamOf(lineage: Record<string, NodeLineage>, root: string): string[] {
  const reached = new Set([root]);
  const out: string[] = [];
  for (const [id, l] of Object.entries(lineage)) {
    if (Object.values(l.inputs).flat().some((i) => reached.has(i.node))) {
      reached.add(id);
      out.push(id);
    }
  }
  return out;
}
