/**
 * The submitting side: adds jobs (by content id, so existing ones are reused), then follows them
 * across every worker until each has an outcome, by looking at every unfinished job's state a few
 * times a second (simpler than queue events, which can be missed and hold a blocking connection
 * that delays exit). Aborting cancels what is left.
 */
import type { Job, Queue as BullQueue } from 'bullmq';
import type { PointResult } from '../sweep/run-point.js';
import type { QueueAddress } from './address.js';
import { CANCELLED, cancelJobs } from './cancel.js';
import type { GraphJob } from './job.js';
import { KEEP_SECONDS, kfKeys } from './keys.js';

export interface Submission {
  id: string;
  job: GraphJob;
}

export type Outcome =
  | { id: string; status: 'completed'; result: PointResult; before: boolean }
  | { id: string; status: 'failed'; error: string }
  | { id: string; status: 'cancelled' };

export interface Progress {
  total: number;
  done: number;
  failed: number;
  running: number;
  queued: number;
  /** Estimated ms left, once a job has finished during this submission. */
  etaMs?: number;
}

export interface SubmitOptions {
  /** Attempts after the first. */
  retries: number;
  /** Delay before the first retry, doubled each time (ms). */
  backoffMs: number;
  /** Groups the jobs for `sweep cancel <id>`. */
  sweepId: string;
  signal?: AbortSignal;
  pollMs?: number;
  onProgress?: (p: Progress) => void;
  onOutcome: (o: Outcome) => void;
}

export async function submitAndWait(address: QueueAddress, submissions: Submission[], o: SubmitOptions): Promise<void> {
  const { Queue } = await import('bullmq');
  const queue: BullQueue<GraphJob, PointResult> = new Queue(address.name, { connection: address.connection, prefix: address.prefix });
  const keys = kfKeys(address);
  const unique = [...new Map(submissions.map((s) => [s.id, s])).values()];
  const pending = new Set(unique.map((s) => s.id));
  const running = new Set<string>();
  const counts = { done: 0, failed: 0 };
  const t0 = Date.now();
  let doneHere = 0;
  let wake!: () => void;
  const allDone = new Promise<void>((r) => (wake = r));
  const progress = () => {
    const left = pending.size;
    const etaMs = doneHere ? ((Date.now() - t0) / doneHere) * left : undefined;
    o.onProgress?.({ total: unique.length, ...counts, running: running.size, queued: left - running.size, etaMs });
  };
  const settle = (outcome: Outcome) => {
    if (!pending.delete(outcome.id)) return;
    running.delete(outcome.id);
    if (outcome.status === 'completed') {
      counts.done++;
      if (!outcome.before) doneHere++;
    } else counts.failed++;
    o.onOutcome(outcome);
    progress();
    if (!pending.size) wake();
  };
  const look = async (id: string): Promise<void> => {
    if (!pending.has(id)) return;
    const state = await queue.getJobState(id);
    const job = state === 'completed' || state === 'failed' ? ((await queue.getJob(id)) as Job<GraphJob, PointResult> | undefined) : undefined;
    if (state === 'completed') settle({ id, status: 'completed', result: job!.returnvalue, before: false });
    else if (state === 'failed') settle(job!.failedReason === CANCELLED ? { id, status: 'cancelled' } : { id, status: 'failed', error: job!.failedReason });
    else if (state === 'unknown') settle({ id, status: 'cancelled' }); // removed by a cancel
    else if (state === 'active' && pending.has(id) && !running.has(id)) {
      running.add(id);
      progress();
    } else if (state !== 'active' && running.delete(id)) progress(); // back in the queue: a retry or a stall
  };
  try {
    const client = await queue.client;
    // A resubmission lifts an earlier cancel and joins the sweep's job set.
    await client.del(...unique.map((s) => keys.cancelled(s.id)));
    const members = new Set([...(JSON.parse((await client.get(keys.sweep(o.sweepId))) ?? '[]') as string[]), ...unique.map((s) => s.id)]);
    await client.set(keys.sweep(o.sweepId), JSON.stringify([...members]), { EX: KEEP_SECONDS });
    // Jobs of an earlier submission: finished ones answer at once, failed (or cancelled) ones get
    // a fresh set of attempts, queued or running ones are simply followed.
    const toAdd: Submission[] = [];
    for (const s of unique) {
      const job = (await queue.getJob(s.id)) as Job<GraphJob, PointResult> | undefined;
      const state = job ? await job.getState() : 'unknown';
      if (state === 'unknown') toAdd.push(s);
      else if (state === 'completed') settle({ id: s.id, status: 'completed', result: job!.returnvalue, before: true });
      else if (state === 'failed') await job!.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      else if (state === 'active') running.add(s.id);
    }
    await queue.addBulk(toAdd.map((s) => ({
      name: s.job.kind,
      data: s.job,
      opts: {
        jobId: s.id,
        attempts: o.retries + 1,
        backoff: { type: 'exponential', delay: o.backoffMs },
        removeOnComplete: { age: KEEP_SECONDS },
        removeOnFail: { age: KEEP_SECONDS },
      },
    })));
    progress();
    let looking = false;
    const poll = setInterval(() => {
      if (looking) return;
      looking = true;
      void Promise.all([...pending].map((id) => look(id))).catch(() => {}).finally(() => (looking = false));
    }, o.pollMs ?? 300);
    const onAbort = () => wake();
    o.signal?.addEventListener('abort', onAbort);
    try {
      if (pending.size && !o.signal?.aborted) await allDone;
    } finally {
      clearInterval(poll);
      o.signal?.removeEventListener('abort', onAbort);
    }
    if (o.signal?.aborted && pending.size) await cancelJobs(queue, address, [...pending]);
  } finally {
    await queue.close();
  }
}
