/**
 * `kernelflow worker`: takes graph jobs from the queue and runs them against the shared store.
 * Faults are BullMQ's: a job whose worker dies keeps no lock, the next stalled-job check (any
 * worker's) puts it back, and another worker runs it; a failing job is retried with backoff.
 * Jobs that cannot succeed (invalid graph, refused plugin, cancelled) fail at once, without retries.
 */
import type { Job, Worker as BullWorker } from 'bullmq';
import os from 'node:os';
import type { BackendName } from '../run/backends.js';
import type { PointResult } from '../sweep/run-point.js';
import type { QueueAddress } from './address.js';
import { CANCELLED } from './cancel.js';
import { executeJob } from './execute-job.js';
import type { GraphJob } from './job.js';
import { kfKeys } from './keys.js';
import { SharedDiskStore } from './store.js';
import { ThreadPool } from './thread-pool.js';

export interface QueueWorkerOptions {
  concurrency: number;
  /** Backend for jobs that ask for 'auto'. */
  backend: 'auto' | BackendName;
  pluginDirs: string[];
  /** The shared cache folder (the same one on every machine). */
  cacheDir: string;
  memoryBytes: number;
  /** How long a job's lock lasts without renewal: a dead worker's job is free again after it (ms). */
  lockMs?: number;
  /** How often this worker looks for stalled jobs (ms). */
  stallCheckMs?: number;
  log: (line: string) => void;
  /** Names this worker in each result, so the submitter's registry says who ran what (default host:pid). */
  name?: string;
}

const CANCEL_CHECK_MS = 500;
const UNRETRYABLE = new Set(['GraphError', 'GraphChanged', 'PluginRefused', 'PluginError', 'UsageError', 'BackendError', 'OperatorDefinitionError']);

export interface RunningWorker {
  worker: BullWorker<GraphJob, PointResult>;
  /** Finishes the jobs in hand, then stops. */
  close(): Promise<void>;
}

export async function startQueueWorker(address: QueueAddress, o: QueueWorkerOptions): Promise<RunningWorker> {
  const { Worker, UnrecoverableError } = await import('bullmq');
  const keys = kfKeys(address);
  const name = o.name ?? defaultWorkerName();
  const store = new SharedDiskStore(o.cacheDir);
  const pool = o.concurrency > 1 ? new ThreadPool(o.concurrency, { cacheDir: o.cacheDir, memoryBytes: o.memoryBytes, backend: o.backend, pluginDirs: o.pluginDirs }) : undefined;
  const cache = pool ? undefined : store.cache(o.memoryBytes, (m) => o.log(`warning: ${m}`));
  const run = (job: GraphJob, signal: AbortSignal) => (pool ? pool.run(job, signal) : executeJob(job, { cache: cache!, backend: o.backend, pluginDirs: o.pluginDirs, signal }));

  const processor = async (job: Job<GraphJob, PointResult>, _token?: string, signal?: AbortSignal): Promise<PointResult> => {
    const attempt = job.attemptsMade + 1;
    const attempts = job.opts.attempts ?? 1;
    const what = `${job.data.kind} ${describeCoords(job.data)}`;
    const client = await worker.client;
    const isCancelled = async () => (await client.get(keys.cancelled(job.id!))) !== null;
    if (await isCancelled()) throw new UnrecoverableError(CANCELLED);
    o.log(`job ${job.id} start: ${what} (attempt ${attempt}/${attempts})`);
    const own = new AbortController();
    const aborted = signal ?? own.signal;
    // `kernelflow sweep cancel` marks the job; look for the mark while it runs.
    const watch = setInterval(() => {
      void isCancelled().then((yes) => {
        if (!yes || aborted.aborted) return;
        // BullMQ aborts the signal it handed the processor; without one, abort our own.
        if (!worker.cancelJob(job.id!, CANCELLED)) own.abort(new Error(CANCELLED));
        o.log(`job ${job.id} cancelled`);
      }, () => {});
    }, CANCEL_CHECK_MS);
    let result: PointResult;
    try {
      result = await run(job.data, aborted);
    } catch (err) {
      const e = err as Error;
      if (aborted.aborted) throw new UnrecoverableError(CANCELLED);
      o.log(`job ${job.id} error: ${e.message}`);
      throw UNRETRYABLE.has(e.name) ? new UnrecoverableError(e.message) : e;
    } finally {
      clearInterval(watch);
    }
    if (result.status === 'cancelled' || aborted.aborted) throw new UnrecoverableError(CANCELLED);
    o.log(`job ${job.id} ${result.status} in ${(result.ms / 1000).toFixed(2)} s (${result.computed} computed, ${result.cached} cached)`);
    // A failed point is retried like a crash; its last attempt returns the failure, manifest and all.
    if (result.status === 'failed' && attempt < attempts) throw new Error(`point failed: ${result.errors.join('; ')}`);
    return { ...result, worker: name };
  };

  const worker: BullWorker<GraphJob, PointResult> = new Worker(address.name, processor, {
    connection: address.connection,
    prefix: address.prefix,
    concurrency: o.concurrency,
    lockDuration: o.lockMs ?? 30_000,
    stalledInterval: o.stallCheckMs ?? 30_000,
    // A job that stalls twice (its workers keep dying) fails instead of taking the fleet down.
    maxStalledCount: 2,
  });
  worker.on('error', (err) => o.log(`queue error: ${err.message}`));
  worker.on('failed', (job, err) => job && o.log(`job ${job.id} failed: ${err.message}`));
  await worker.waitUntilReady();
  return {
    worker,
    close: async () => {
      await worker.close();
      await pool?.close();
    },
  };
}

/** `host:pid`: tells apart machines and the workers on one machine. */
export function defaultWorkerName(): string {
  return `${os.hostname()}:${process.pid}`;
}

function describeCoords(job: GraphJob): string {
  const coords = Object.entries(job.point.coords).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
  return `${job.file}${coords ? ` ${coords}` : ''}`;
}
