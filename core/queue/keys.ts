/**
 * kernelflow's own Redis keys beside BullMQ's, under the same prefix and queue name. They use only
 * plain get/set, which every Redis client BullMQ supports offers.
 */
import type { QueueAddress } from './address.js';

export function kfKeys(a: QueueAddress) {
  const base = `${a.prefix}:${a.name}:kf`;
  return {
    /** Set while a job is cancelled: the worker running it aborts it, one about to take it refuses it. */
    cancelled: (jobId: string) => `${base}:cancelled:${jobId}`,
    /** The job ids of one submitted sweep (a JSON array), for `kernelflow sweep cancel <id>`. */
    sweep: (sweepId: string) => `${base}:sweep:${sweepId}`,
  };
}

/** How long sweep membership and cancel marks are kept. */
export const KEEP_SECONDS = 7 * 24 * 3600;
