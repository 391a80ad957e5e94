/**
 * Writes one finished run into the registry: the manifest, and per node its cache key and
 * lineage, per output its file, shape, dtype and hash, per claim its verdict.
 */
import type { Manifest } from '../io/manifest.js';
import type { NodeLineage } from './lineage.js';
import { openRegistry, type Registry } from './open-registry.js';

export interface RunToRecord {
  manifest: Manifest;
  lineage: Record<string, NodeLineage>;
  /** The run folder (absolute), or null when nothing was written (e.g. a sweep point's tensors). */
  outDir: string | null;
  /** The disk cache the run used (its node results can be read back by key), or null. */
  cacheDir: string | null;
  sweep?: { id: number; pointId: string; coords: Record<string, unknown> };
  /** A run executed by a queue worker: the queue (password hidden) and the worker's name. */
  queued?: { queue: string; worker: string | null };
}

/** Inserts the run and returns its id. */
export function recordRun(db: Registry, run: RunToRecord): number {
  const m = run.manifest;
  return db.transaction(() => {
    const info = db.prepare(`INSERT INTO runs (graph_name, graph_file, graph_sha256, status, backend, started_at, duration_ms, out_dir, cache_dir, sweep_id, point_id, coords_json, manifest_json, recorded_at, queue, worker)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      m.graph.name, m.invocation.file, m.graph.sha256, m.status, m.backend.name, m.startedAt, m.durationMs, run.outDir, run.cacheDir,
      run.sweep?.id ?? null, run.sweep?.pointId ?? null, run.sweep ? JSON.stringify(run.sweep.coords) : null, JSON.stringify(m), new Date().toISOString(),
      run.queued?.queue ?? null, run.queued?.worker ?? null,
    );
    const id = Number(info.lastInsertRowid);
    const node = db.prepare('INSERT INTO run_nodes (run_id, position, node, op, status, cache_key, lineage_key, lineage_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    Object.entries(m.nodes).forEach(([nodeId, n], position) => {
      const lineage = run.lineage[nodeId];
      if (!lineage) throw new Error(`no lineage for node '${nodeId}'`);
      node.run(id, position, nodeId, n.op, n.status, n.cacheKey, lineage.key, JSON.stringify(lineage));
    });
    const output = db.prepare('INSERT INTO run_outputs (run_id, name, node, port, kind, file, shape_json, dtype, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    for (const [name, o] of Object.entries(m.outputs)) {
      output.run(id, name, o.node, o.port, o.kind, o.file ?? null, o.shape ? JSON.stringify(o.shape) : null, o.dtype ?? null, o.sha256 ?? null);
    }
    const claim = db.prepare('INSERT INTO run_claims (run_id, position, node, op, pass, value_json, message) VALUES (?, ?, ?, ?, ?, ?, ?)');
    m.claims.forEach((c, position) => claim.run(id, position, c.node, c.op, c.pass ? 1 : 0, JSON.stringify(c.value), c.message));
    return id;
  })();
}

/**
 * Records a run, never failing it: when the registry cannot be opened or written, says so in one
 * warning line and returns undefined.
 */
export async function recordRunSafely(file: string, run: RunToRecord, warn: (line: string) => void): Promise<number | undefined> {
  let db: Registry | undefined;
  try {
    db = await openRegistry(file);
    return recordRun(db, run);
  } catch (err) {
    warn(registryWarning(file, err));
    return undefined;
  } finally {
    db?.close();
  }
}

/** The one line printed when recording is skipped. */
export function registryWarning(file: string, err: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  return `warning: run not recorded in the registry (${message.includes(file) ? message : `${file}: ${message}`}); use --no-registry to silence this`;
}
