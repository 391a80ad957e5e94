/**
 * Records a sweep as it goes: the sweep itself (grid, output folder) when it starts, each point's
 * run as it finishes, and the totals at the end. Like run recording, a registry problem is one
 * warning line and the sweep goes on unrecorded.
 */
import path from 'node:path';
import type { PointResult } from '../sweep/run-point.js';
import { openRegistry, type Registry } from './open-registry.js';
import { recordRun, registryWarning } from './record-run.js';

export interface SweepToRecord {
  graphName: string;
  graphFile: string;
  grid: Record<string, unknown>;
  outDir: string;
  backend: string;
  pointsTotal: number;
  cacheDir: string | null;
  /** The queue its points were submitted to (`sweep --queue`, password hidden); absent for a local sweep. */
  queue?: string;
}

export class SweepRecorder {
  #db: Registry | undefined;
  #id: number | undefined;
  #failed = false;

  private constructor(readonly file: string, private readonly sweep: SweepToRecord, private readonly warn: (line: string) => void) {}

  /** Opens the registry and records the sweep's start; a recorder that records nothing when that fails. */
  static async start(file: string, sweep: SweepToRecord, warn: (line: string) => void): Promise<SweepRecorder> {
    const recorder = new SweepRecorder(file, sweep, warn);
    try {
      recorder.#db = await openRegistry(file);
    } catch (err) {
      recorder.#fail(err);
      return recorder;
    }
    recorder.#guard((db) => {
      const info = db.prepare(`INSERT INTO sweeps (graph_name, graph_file, grid_json, out_dir, backend, points_total, status, started_at, queue)
        VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)`).run(sweep.graphName, path.resolve(sweep.graphFile), JSON.stringify(sweep.grid), sweep.outDir, sweep.backend, sweep.pointsTotal, new Date().toISOString(), sweep.queue ?? null);
      recorder.#id = Number(info.lastInsertRowid);
    });
    return recorder;
  }

  /** The sweep's id in the registry, when it is being recorded. */
  get id(): number | undefined {
    return this.#id;
  }

  /**
   * Records a freshly computed point (resumed points were recorded by the run that computed them).
   * Queued points are recorded here too, by the submitter, from the result the worker returned:
   * workers may run on other machines, each with its own registry (or none).
   */
  point(result: PointResult): void {
    if (!result.lineage) return;
    const lineage = result.lineage;
    this.#guard((db) => {
      recordRun(db, {
        manifest: result.manifest, lineage, outDir: path.join(this.sweep.outDir, 'points', result.id), cacheDir: this.sweep.cacheDir,
        sweep: { id: this.#id!, pointId: result.id, coords: result.coords },
        ...(this.sweep.queue !== undefined ? { queued: { queue: this.sweep.queue, worker: result.worker ?? null } } : {}),
      });
    });
  }

  /** Records the outcome and closes the registry. */
  finish(points: Array<Pick<PointResult, 'status'>>, cancelled: boolean): void {
    this.#guard((db) => {
      const failed = points.filter((p) => p.status !== 'ok').length;
      const status = cancelled ? 'cancelled' : failed ? 'failed' : 'ok';
      db.prepare('UPDATE sweeps SET points_failed = ?, status = ?, finished_at = ? WHERE id = ?').run(failed, status, new Date().toISOString(), this.#id);
    });
    this.#db?.close();
    this.#db = undefined;
  }

  // Runs a registry step unless an earlier one failed; the first failure warns and stops recording.
  #guard(step: (db: Registry) => void): void {
    if (this.#failed || !this.#db) return;
    try {
      step(this.#db);
    } catch (err) {
      this.#fail(err);
    }
  }

  #fail(err: unknown): void {
    this.#failed = true;
    this.warn(registryWarning(this.file, err));
    this.#db?.close();
    this.#db = undefined;
  }
}
