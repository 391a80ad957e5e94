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

/**
 * One row per top-level block instance instead of its inlined nodes (what `plan` shows unless
 * `--expand`): the block's outputs, the sum of its bytes, cached when all of it is, and the
 * reasons of the inner nodes that recompute.
 */
export function collapseBlocks(report: PlanReport, plan: Plan): PlanReport {
  const blocks = new Map(plan.dag.graph.blocks.filter((b) => !b.id.includes('/')).map((b) => [b.id, b]));
  const rows: PlanRow[] = [];
  const byBlock = new Map<string, PlanRow[]>();
  for (const row of report.rows) {
    const top = row.node.split('/')[0];
    if (!blocks.has(top) || row.node === top) {
      rows.push(row);
      continue;
    }
    if (!byBlock.has(top)) {
      byBlock.set(top, []);
      rows.push({ node: top, op: blocks.get(top)!.op, outputs: {}, cached: false });
    }
    byBlock.get(top)!.push(row);
  }
  for (const row of rows) {
    const inner = byBlock.get(row.node);
    if (!inner) continue;
    const block = blocks.get(row.node)!;
    for (const [name, ref] of Object.entries(block.outputs)) {
      const [node, port] = ref.split('.');
      const source = inner.find((r) => r.node === node);
      if (source) row.outputs[name] = source.outputs[port ?? Object.keys(source.outputs)[0]] ?? '?';
    }
    row.bytes = inner.every((r) => r.bytes !== undefined) ? inner.reduce((s, r) => s + r.bytes!, 0) : undefined;
    row.cached = inner.some((r) => r.cached === 'off') ? 'off' : inner.every((r) => r.cached === true);
    const reasons = inner.filter((r) => r.reasons?.length).map((r) => `${r.node.slice(row.node.length + 1)}: ${r.reasons!.join(', ')}`);
    if (reasons.length) row.reasons = reasons;
    row.note = `${inner.length} nodes (--expand shows them)`;
  }
  return { ...report, rows };
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
