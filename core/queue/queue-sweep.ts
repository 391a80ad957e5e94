/**
 * `kernelflow sweep --queue`: the sweep's points become queue jobs; runSweep still resumes, writes
 * points/<id>/, sweep.csv and sweep.json exactly as for a local sweep — only where points run differs.
 */
import { canonicalJson, sha256Hex } from '../io/hash.js';
import type { PointExecutor } from '../sweep/run-sweep.js';
import type { PointSpec } from '../sweep/run-point.js';
import { pointWithoutRun } from './failed-point.js';
import { jobIdOf, makeJob } from './job.js';
import { submitAndWait, type Progress } from './submit.js';
import type { QueueSubmitOptions } from './submit-options.js';

export interface QueueSweepHooks {
  /** Told the sweep's id (for `kernelflow sweep cancel <id>`) once its jobs are known. */
  onSubmit?: (sweepId: string, jobs: number) => void;
  onProgress?: (p: Progress) => void;
  pollMs?: number;
}

export function queueExecutor(q: QueueSubmitOptions, hooks: QueueSweepHooks = {}): PointExecutor {
  return async (file, todo, options, finish) => {
    if (!todo.length) return;
    // Points that resolve to the same graph are one job; each still gets its own row.
    const byJob = new Map<string, PointSpec[]>();
    const submissions = todo.map((spec) => {
      const job = makeJob('point', file, spec, { variant: options.variant, backend: options.backend, collect: options.collect, dataDirs: options.dataDirs, plugins: options.plugins });
      const id = jobIdOf(job);
      byJob.set(id, [...(byJob.get(id) ?? []), spec]);
      return { id, job };
    });
    const sweepId = sha256Hex(canonicalJson([...byJob.keys()].sort())).slice(0, 12);
    hooks.onSubmit?.(sweepId, byJob.size);
    await submitAndWait(q.address, submissions, {
      retries: q.retries, backoffMs: q.backoffMs, sweepId, signal: options.signal, pollMs: hooks.pollMs, onProgress: hooks.onProgress,
      onOutcome: (outcome) => {
        for (const spec of byJob.get(outcome.id) ?? []) {
          if (outcome.status === 'completed') finish({ ...outcome.result, id: spec.id, coords: spec.coords }, false);
          else if (outcome.status === 'failed') finish(pointWithoutRun(file, spec, 'failed', outcome.error), false);
          else finish(pointWithoutRun(file, spec, 'cancelled', 'cancelled'), false);
        }
      },
    });
  };
}
