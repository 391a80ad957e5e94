/**
 * The small record each run leaves in the cache folder — the keys (and their parts) of every
 * node — so that `plan` can say why a node will recompute since the last run of the same graph.
 */
import path from 'node:path';
import type { ResolvedGraph } from '../document/graph-document.js';
import { sha256Hex } from '../io/hash.js';
import type { KeyParts } from '../plan/cache-keys.js';
import type { Plan } from '../plan/plan-graph.js';

export interface GraphRecord {
  backend: string;
  nodes: Record<string, { key: string; parts: KeyParts }>;
}

/** One record per graph file (per graph name for inline documents). */
export function graphRecordName(graph: ResolvedGraph): string {
  const identity = graph.file === '<inline>' ? `name:${graph.name}` : path.join(graph.dir, path.basename(graph.file));
  return `graph-${sha256Hex(identity).slice(0, 24)}`;
}

export function graphRecord(plan: Plan): GraphRecord {
  const nodes: GraphRecord['nodes'] = {};
  for (const id of plan.order) {
    const n = plan.nodes.get(id)!;
    nodes[id] = { key: n.key, parts: n.keyParts };
  }
  return { backend: plan.backend, nodes };
}
