/**
 * Reading the registry back: the list of recent runs, and one run with everything recorded of it.
 */
import type { ClaimRecord, Manifest, OutputRecord } from '../io/manifest.js';
import type { NodeLineage } from './lineage.js';
import type { Registry } from './open-registry.js';

/** One line of `runs list`. */
export interface RunSummary {
  id: number;
  graph: string;
  status: string;
  backend: string;
  startedAt: string;
  durationMs: number;
  claims: { passed: number; total: number };
  outDir: string | null;
  sweep?: { id: number; point: string };
  /** Set when a queue worker ran it: the queue (password hidden) and the worker's name, if known. */
  queued?: { queue: string; worker: string | null };
}

/** A recorded run: its manifest plus what the registry adds (lineage, where its values are). */
export interface RecordedRun extends RunSummary {
  graphFile: string;
  manifest: Manifest;
  /** Node id → lineage, in topological order. */
  lineage: Record<string, NodeLineage>;
  outputs: Record<string, OutputRecord>;
  claimRecords: ClaimRecord[];
  cacheDir: string | null;
  coords?: Record<string, unknown>;
}

interface RunRow {
  id: number;
  graph_name: string;
  graph_file: string;
  status: string;
  backend: string;
  started_at: string;
  duration_ms: number;
  out_dir: string | null;
  cache_dir: string | null;
  sweep_id: number | null;
  point_id: string | null;
  coords_json: string | null;
  manifest_json: string;
  queue: string | null;
  worker: string | null;
  passed: number;
  total: number;
}

const SELECT_RUN = `SELECT runs.*, (SELECT COUNT(*) FROM run_claims c WHERE c.run_id = runs.id AND c.pass = 1) AS passed,
  (SELECT COUNT(*) FROM run_claims c WHERE c.run_id = runs.id) AS total FROM runs`;

function summary(row: RunRow): RunSummary {
  return {
    id: row.id, graph: row.graph_name, status: row.status, backend: row.backend, startedAt: row.started_at, durationMs: row.duration_ms,
    claims: { passed: row.passed, total: row.total }, outDir: row.out_dir,
    ...(row.sweep_id !== null ? { sweep: { id: row.sweep_id, point: row.point_id ?? '' } } : {}),
    ...(row.queue !== null ? { queued: { queue: row.queue, worker: row.worker } } : {}),
  };
}

/** The most recent runs first. */
export function listRuns(db: Registry, limit: number): RunSummary[] {
  return (db.prepare(`${SELECT_RUN} ORDER BY runs.id DESC LIMIT ?`).all(limit) as RunRow[]).map(summary);
}

/** One run by id, or undefined when there is no such run. */
export function loadRun(db: Registry, id: number): RecordedRun | undefined {
  const row = db.prepare(`${SELECT_RUN} WHERE runs.id = ?`).get(id) as RunRow | undefined;
  if (!row) return undefined;
  const lineage: Record<string, NodeLineage> = {};
  for (const n of db.prepare('SELECT node, lineage_json FROM run_nodes WHERE run_id = ? ORDER BY position').all(id) as Array<{ node: string; lineage_json: string }>) {
    lineage[n.node] = JSON.parse(n.lineage_json) as NodeLineage;
  }
  const outputs: Record<string, OutputRecord> = {};
  for (const o of db.prepare('SELECT * FROM run_outputs WHERE run_id = ? ORDER BY rowid').all(id) as Array<Record<string, string | null>>) {
    outputs[o.name!] = {
      node: o.node!, port: o.port!, kind: o.kind!,
      ...(o.file !== null ? { file: o.file } : {}),
      ...(o.shape_json !== null ? { shape: JSON.parse(o.shape_json) as number[] } : {}),
      ...(o.dtype !== null ? { dtype: o.dtype } : {}),
      ...(o.sha256 !== null ? { sha256: o.sha256 } : {}),
    };
  }
  const claimRecords = (db.prepare('SELECT * FROM run_claims WHERE run_id = ? ORDER BY position').all(id) as Array<{ node: string; op: string; pass: number; value_json: string; message: string }>)
    .map((c) => ({ node: c.node, op: c.op, pass: c.pass === 1, value: JSON.parse(c.value_json), message: c.message }));
  return {
    ...summary(row), graphFile: row.graph_file, manifest: JSON.parse(row.manifest_json) as Manifest, lineage, outputs, claimRecords, cacheDir: row.cache_dir,
    ...(row.coords_json !== null ? { coords: JSON.parse(row.coords_json) as Record<string, unknown> } : {}),
  };
}

/** A recorded sweep: its grid and folder, and its points' run ids. */
export interface RecordedSweep {
  id: number;
  graph: string;
  grid: Record<string, unknown>;
  outDir: string;
  status: string;
  pointsTotal: number;
  pointsFailed: number | null;
  startedAt: string;
  finishedAt: string | null;
  /** The queue its points ran on (`sweep --queue`), or null for a local sweep. */
  queue: string | null;
  runs: number[];
}

export function loadSweep(db: Registry, id: number): RecordedSweep | undefined {
  const row = db.prepare('SELECT * FROM sweeps WHERE id = ?').get(id) as Record<string, string | number | null> | undefined;
  if (!row) return undefined;
  const runs = (db.prepare('SELECT id FROM runs WHERE sweep_id = ? ORDER BY id').all(id) as Array<{ id: number }>).map((r) => r.id);
  return {
    id, graph: String(row.graph_name), grid: JSON.parse(String(row.grid_json)), outDir: String(row.out_dir), status: String(row.status),
    pointsTotal: Number(row.points_total), pointsFailed: row.points_failed === null ? null : Number(row.points_failed),
    startedAt: String(row.started_at), finishedAt: row.finished_at === null ? null : String(row.finished_at),
    queue: row.queue === null || row.queue === undefined ? null : String(row.queue), runs,
  };
}
