/**
 * What `kernelflow plan` shows: per node, in schedule order, its inferred output shapes, whether
 * its result is already cached, and if not, why its key changed since the last run of the graph;
 * plus an estimate of peak tensor memory when intermediates are freed after their last consumer.
 */
import type { JsonValue } from '../operator/values.js';
import { formatShape, type Meta } from '../operator/values.js';
import { explainKeyChange, type KeyParts } from './cache-keys.js';
import type { Plan } from './plan-graph.js';
import { dependencies } from '../graph/build-dag.js';

export interface PlanRow {
  node: string;
  op: string;
  outputs: Record<string, string>;
  bytes?: number;
  cached: boolean | 'off';
  /** Why it will recompute (absent when cached). */
  reasons?: string[];
  note?: string;
}

export interface PlanReport {
  backend: string;
  rows: PlanRow[];
  /** Peak bytes of live tensors, counting only nodes whose shapes are known. */
  peakBytes: number;
  unknownBytesNodes: number;
}

export interface PreviousRun {
  nodes: Record<string, { key: string; parts: KeyParts }>;
}

export function planReport(plan: Plan, isCached: ((key: string) => boolean) | undefined, previous: PreviousRun | undefined): PlanReport {
  const previousKeyOwner = new Map<string, string>();
  for (const [id, n] of Object.entries(previous?.nodes ?? {})) previousKeyOwner.set(n.key, id);
  const currentKeyOwner = new Map<string, string>();
  for (const id of plan.order) currentKeyOwner.set(plan.nodes.get(id)!.key, id);
  const upstreamOf = (inputKey: string) => {
    const key = inputKey.split('#')[0];
    return currentKeyOwner.get(key) ?? previousKeyOwner.get(key);
  };
  const rows = plan.order.map((id): PlanRow => {
    const node = plan.nodes.get(id)!;
    const cached = isCached ? isCached(node.key) : 'off';
    const row: PlanRow = {
      node: id,
      op: node.op.id,
      outputs: Object.fromEntries(Object.entries(node.outputs).map(([port, m]) => [port, describeMeta(m)])),
      bytes: node.bytes,
      cached,
      note: node.keyNote ?? node.deferredNote,
    };
    if (cached === false) {
      const prev = previous?.nodes[id];
      row.reasons = prev && prev.key === node.key ? ['same key as last run, but the entry is gone (cache cleared or pruned)'] : explainKeyChange(prev?.parts, node.keyParts, upstreamOf);
    }
    return row;
  });
  return { backend: plan.backend, rows, peakBytes: peakBytes(plan), unknownBytesNodes: plan.unknownBytesNodes };
}

function describeMeta(m: Meta): string {
  if (m.kind === 'tensor') return `${m.dtype}${formatShape(m.shape)}`;
  if (m.kind === 'json' && m.value !== undefined) return `json ${JSON.stringify(m.value as JsonValue).slice(0, 40)}`;
  return m.kind;
}

/** Walks the schedule, allocating each node's outputs and freeing them after their last consumer. */
function peakBytes(plan: Plan): number {
  const outputsNodes = new Set(Object.values(plan.dag.outputs).map((r) => r.node));
  const lastUse = new Map<string, number>();
  plan.order.forEach((id, step) => {
    for (const up of dependencies(plan.nodes.get(id)!)) lastUse.set(up, step);
  });
  let live = 0;
  let peak = 0;
  const freeAt = new Map<number, number>();
  plan.order.forEach((id, step) => {
    const bytes = plan.nodes.get(id)!.bytes ?? 0;
    live += bytes;
    peak = Math.max(peak, live);
    if (!outputsNodes.has(id)) {
      const last = lastUse.get(id) ?? step;
      freeAt.set(last, (freeAt.get(last) ?? 0) + bytes);
    }
    live -= freeAt.get(step) ?? 0;
  });
  return peak;
}
