/**
 * `runs diff A B`: lines two recorded runs up node by node by lineage (the same computation,
 * whatever the backend or node ids), compares every output and every aligned node's values, and
 * names the first node in topological order where the runs diverge beyond the tolerance.
 */
import type { StoredResult } from '../cache/stored.js';
import { compareValues, type Comparison, type Tolerance } from './compare-values.js';
import { downstreamOf, explainLineageChange } from './lineage.js';
import type { RecordedRun } from './query-runs.js';
import { RunValues } from './run-values.js';

export const DEFAULT_TOLERANCE: Tolerance = { rtol: 1e-4, atol: 1e-6 };

export type Verdict = 'agree' | 'diverged' | 'unknown';

export interface OutputDiff {
  name: string;
  verdict: Verdict;
  a?: { shape?: number[]; dtype?: string; sha256?: string };
  b?: { shape?: number[]; dtype?: string; sha256?: string };
  comparison?: Comparison;
  /** Why there is no comparison (missing in a run, value not readable). */
  note?: string;
}

export interface NodeDiff {
  /** The node in run A, and the node of run B it was aligned with (by lineage, or by id). */
  node: string;
  op: string;
  nodeB?: string;
  alignment: 'lineage' | 'id' | 'none';
  /** How the node's lineage differs in run B (empty when the lineage is the same). */
  changes: string[];
  ports: Record<string, Comparison>;
  verdict: Verdict;
  note?: string;
}

export interface DiffReport {
  a: RunRef;
  b: RunRef;
  tolerance: Tolerance;
  outputs: OutputDiff[];
  /** Run A's nodes in topological order. */
  nodes: NodeDiff[];
  /** Run B's nodes nothing in run A lines up with. */
  onlyInB: string[];
  /** The first node (topological order of run A) where the runs diverge, and what depends on it. */
  firstDivergence?: { node: string; op: string; reason: string; downstream: string[] };
  /** True when no output or node diverges (some may be unknown: values no longer readable). */
  agree: boolean;
}

interface RunRef {
  id: number;
  graph: string;
  backend: string;
  status: string;
  startedAt: string;
}

export async function diffRuns(a: RecordedRun, b: RecordedRun, tolerance: Tolerance = DEFAULT_TOLERANCE): Promise<DiffReport> {
  const va = new RunValues(a);
  const vb = new RunValues(b);
  const outputs: OutputDiff[] = [];
  for (const name of [...new Set([...Object.keys(a.outputs), ...Object.keys(b.outputs)])]) outputs.push(await diffOutput(name, a, b, va, vb, tolerance));

  const { pairs, onlyInB } = alignNodes(a, b);
  const nodes: NodeDiff[] = [];
  for (const [node, pair] of pairs) nodes.push(await diffNode(node, pair, a, b, va, vb, tolerance));

  const first = nodes.find((n) => n.verdict === 'diverged');
  const report: DiffReport = {
    a: ref(a), b: ref(b), tolerance, outputs, nodes, onlyInB,
    agree: !first && !onlyInB.length && outputs.every((o) => o.verdict !== 'diverged'),
  };
  if (first) report.firstDivergence = { node: first.node, op: first.op, reason: divergenceReason(first), downstream: downstreamOf(a.lineage, first.node) };
  return report;
}

function ref(run: RecordedRun): RunRef {
  return { id: run.id, graph: run.graph, backend: run.backend, status: run.status, startedAt: run.startedAt };
}

type Pair = { nodeB?: string; alignment: NodeDiff['alignment'] };

/**
 * Each node of A gets the node of B with the same lineage (preferring the same id); failing that,
 * the node of B with the same id, whose lineage changed.
 */
function alignNodes(a: RecordedRun, b: RecordedRun): { pairs: Map<string, Pair>; onlyInB: string[] } {
  const unmatched = new Set(Object.keys(b.lineage));
  const byLineage = new Map<string, string[]>();
  for (const [id, l] of Object.entries(b.lineage)) byLineage.set(l.key, [...(byLineage.get(l.key) ?? []), id]);
  const pairs = new Map<string, Pair>();
  for (const [id, l] of Object.entries(a.lineage)) {
    const same = (byLineage.get(l.key) ?? []).filter((n) => unmatched.has(n));
    const match = same.includes(id) ? id : same[0];
    if (match !== undefined) {
      pairs.set(id, { nodeB: match, alignment: 'lineage' });
      unmatched.delete(match);
    }
  }
  for (const id of Object.keys(a.lineage)) {
    if (pairs.has(id)) continue;
    if (unmatched.has(id)) {
      pairs.set(id, { nodeB: id, alignment: 'id' });
      unmatched.delete(id);
    } else pairs.set(id, { alignment: 'none' });
  }
  // Back into A's topological order.
  const ordered = new Map(Object.keys(a.lineage).map((id) => [id, pairs.get(id)!]));
  return { pairs: ordered, onlyInB: [...unmatched] };
}

async function diffNode(node: string, pair: Pair, a: RecordedRun, b: RecordedRun, va: RunValues, vb: RunValues, tol: Tolerance): Promise<NodeDiff> {
  const la = a.lineage[node];
  const diff: NodeDiff = { node, op: la.op, alignment: pair.alignment, changes: [], ports: {}, verdict: 'unknown' };
  if (pair.nodeB === undefined) {
    return { ...diff, verdict: 'diverged', note: 'no node of run B has the same lineage or id' };
  }
  diff.nodeB = pair.nodeB;
  diff.changes = explainLineageChange(la, b.lineage[pair.nodeB]);
  const statusA = a.manifest.nodes[node]?.status;
  const statusB = b.manifest.nodes[pair.nodeB]?.status;
  if (statusA !== statusB && (statusA === 'failed' || statusB === 'failed')) {
    return { ...diff, verdict: 'diverged', note: `status ${statusA} → ${statusB}` };
  }
  const [ra, rb] = await Promise.all([va.node(node), vb.node(pair.nodeB)]);
  if (ra && rb) {
    diff.ports = comparePorts(ra, rb, tol);
    const comparisons = Object.values(diff.ports);
    diff.verdict = comparisons.every((c) => c.within) ? 'agree' : 'diverged';
    if (diff.verdict === 'agree' && diff.changes.length) diff.note = 'lineage differs but the values agree within tolerance';
    return diff;
  }
  // Without values, a changed lineage is a divergence; an unchanged one cannot be judged.
  const missing = [!ra ? 'A' : '', !rb ? 'B' : ''].filter(Boolean).join(' and ');
  return { ...diff, verdict: diff.changes.length ? 'diverged' : 'unknown', note: `values of run ${missing} not in the cache` };
}

function comparePorts(ra: StoredResult, rb: StoredResult, tol: Tolerance): Record<string, Comparison> {
  const ports: Record<string, Comparison> = {};
  for (const port of new Set([...Object.keys(ra), ...Object.keys(rb)])) {
    ports[port] = ra[port] && rb[port]
      ? compareValues(ra[port], rb[port], tol)
      : { within: false, maxAbs: null, maxRel: null, notes: [`port '${port}' only in run ${ra[port] ? 'A' : 'B'}`] };
  }
  return ports;
}

async function diffOutput(name: string, a: RecordedRun, b: RecordedRun, va: RunValues, vb: RunValues, tol: Tolerance): Promise<OutputDiff> {
  const oa = a.outputs[name];
  const ob = b.outputs[name];
  const meta = (o: typeof oa) => ({ ...(o.shape ? { shape: o.shape } : {}), ...(o.dtype ? { dtype: o.dtype } : {}), ...(o.sha256 ? { sha256: o.sha256 } : {}) });
  const diff: OutputDiff = { name, verdict: 'unknown', ...(oa ? { a: meta(oa) } : {}), ...(ob ? { b: meta(ob) } : {}) };
  if (!oa || !ob) return { ...diff, verdict: 'diverged', note: `only in run ${oa ? 'A' : 'B'}` };
  const [xa, xb] = await Promise.all([va.output(name), vb.output(name)]);
  if (!xa || !xb) {
    // Identical bytes need no reading; otherwise say which values are gone.
    if (oa.sha256 && oa.sha256 === ob.sha256) return { ...diff, verdict: 'agree', note: 'identical sha256' };
    return { ...diff, note: `values of run ${[!xa ? 'A' : '', !xb ? 'B' : ''].filter(Boolean).join(' and ')} no longer readable` };
  }
  diff.comparison = compareValues(xa, xb, tol);
  diff.verdict = diff.comparison.within ? 'agree' : 'diverged';
  return diff;
}

function divergenceReason(n: NodeDiff): string {
  const parts = [...n.changes];
  for (const [port, c] of Object.entries(n.ports)) {
    if (c.within) continue;
    const size = c.maxAbs === null ? '' : `max abs ${c.maxAbs.toPrecision(3)}, max rel ${c.maxRel!.toPrecision(3)}`;
    parts.push(`${port}: ${[...c.notes, size].filter(Boolean).join('; ')}`);
  }
  if (n.note) parts.push(n.note);
  return parts.join('; ');
}
