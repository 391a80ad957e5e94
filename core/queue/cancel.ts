/**
 * Cancelling jobs: queued ones are removed; running ones are marked, and the worker holding one
 * sees the mark within a second and aborts it (it then fails without retries, reason 'cancelled').
 */
import type { Queue } from 'bullmq';
import type { QueueAddress } from './address.js';
import { kfKeys } from './keys.js';
import { UsageError } from '../document/resolve-params.js';

export const CANCELLED = 'cancelled';

export interface CancelReport {
  jobs: number;
  removed: number;
  signalled: number;
}

export async function cancelJobs(queue: Queue, address: QueueAddress, ids: string[]): Promise<CancelReport> {
  const keys = kfKeys(address);
  const client = await queue.client;
  const report: CancelReport = { jobs: ids.length, removed: 0, signalled: 0 };
  for (const id of ids) {
    const job = await queue.getJob(id);
    const state = job ? await job.getState() : 'unknown';
    if (state === 'completed' || state === 'failed' || state === 'unknown') continue;
    // Mark first: a worker taking the job between our look and our removal refuses it.
    await client.set(keys.cancelled(id), '1', { EX: 3600 });
    if (state !== 'active') {
      try {
        await job!.remove();
        report.removed++;
        continue;
      } catch {
        // It became active meanwhile (locked): abort it below instead.
      }
    }
    report.signalled++;
  }
  return report;
}

/** `kernelflow sweep cancel <id>`: cancels every unfinished point of a submitted sweep. */
export async function cancelSweep(address: QueueAddress, sweepId: string): Promise<CancelReport> {
  const { Queue } = await import('bullmq');
  const queue = new Queue(address.name, { connection: address.connection, prefix: address.prefix });
  try {
    const ids = JSON.parse((await (await queue.client).get(kfKeys(address).sweep(sweepId))) ?? '[]') as string[];
    if (!ids.length) throw new UsageError(`no sweep '${sweepId}' on ${address.display} (queue '${address.name}', prefix '${address.prefix}')`);
    return await cancelJobs(queue, address, ids);
  } finally {
    await queue.close();
  }
}
