/** The submitting side's flags (`--queue`, `--retries`, `--backoff`), checked once for run and sweep. */
import { UsageError } from '../document/resolve-params.js';
import { queueAddress, type QueueAddress } from './address.js';

export interface QueueSubmitOptions {
  address: QueueAddress;
  retries: number;
  backoffMs: number;
}

export function submitOptionsOf(o: { queue?: string | boolean; retries?: string; backoff?: string }): QueueSubmitOptions {
  const retries = Number(o.retries ?? 2);
  if (!Number.isInteger(retries) || retries < 0) throw new UsageError(`--retries must be a whole number ≥ 0, got '${o.retries}'`);
  const backoffMs = Number(o.backoff ?? 1000);
  if (!Number.isFinite(backoffMs) || backoffMs < 0) throw new UsageError(`--backoff must be milliseconds ≥ 0, got '${o.backoff}'`);
  return { address: queueAddress(o.queue), retries, backoffMs };
}
