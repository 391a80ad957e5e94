/**
 * A sweep worker thread: its own tfjs engine and backend, sharing the disk cache with the others.
 * It runs the points it is sent, one at a time, and posts each result back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runPoint, type PointRunOptions, type PointSpec } from './run-point.js';

const { file, options } = workerData as { file: string; options: PointRunOptions };

parentPort!.on('message', async (point: PointSpec | null) => {
  if (point === null) {
    process.exit(0);
  }
  try {
    parentPort!.postMessage({ ok: true, result: await runPoint(file, point, options) });
  } catch (err) {
    parentPort!.postMessage({ ok: false, id: point.id, error: (err as Error).message });
  }
});
