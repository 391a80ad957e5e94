/**
 * A worker thread that runs queue jobs one at a time, with its own tfjs engine (tfjs keeps one
 * global engine per thread, so concurrent jobs need threads). Used by `kernelflow worker
 * --concurrency N` for N > 1; see thread-pool.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SharedDiskStore } from './store.js';
import { executeJob, type ExecuteOptions } from './execute-job.js';
import type { GraphJob } from './job.js';

export interface ThreadData {
  cacheDir: string;
  memoryBytes: number;
  backend: ExecuteOptions['backend'];
  pluginDirs: string[];
}
export type ToThread = { type: 'run'; job: GraphJob } | { type: 'cancel' } | { type: 'exit' };

const data = workerData as ThreadData;
const cache = new SharedDiskStore(data.cacheDir).cache(data.memoryBytes);
let controller: AbortController | undefined;

parentPort!.on('message', async (msg: ToThread) => {
  if (msg.type === 'exit') process.exit(0);
  if (msg.type === 'cancel') return controller?.abort(new Error('cancelled'));
  controller = new AbortController();
  try {
    const result = await executeJob(msg.job, { cache, backend: data.backend, pluginDirs: data.pluginDirs, signal: controller.signal });
    parentPort!.postMessage({ ok: true, result });
  } catch (err) {
    const e = err as Error;
    parentPort!.postMessage({ ok: false, error: { name: e?.name ?? 'Error', message: e?.message ?? String(err) } });
  }
});
