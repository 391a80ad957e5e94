/**
 * N job threads (job-thread.ts) behind a `run(job, signal)` call: each call takes a free thread,
 * and a thread that dies is replaced (the job it held fails and BullMQ retries it).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { PointResult } from '../sweep/run-point.js';
import type { GraphJob } from './job.js';
import type { ThreadData, ToThread } from './job-thread.js';

type Reply = { ok: true; result: PointResult } | { ok: false; error: { name: string; message: string } };

export class ThreadPool {
  readonly #free: Worker[] = [];
  readonly #waiting: Array<(w: Worker) => void> = [];
  readonly #all = new Set<Worker>();

  constructor(size: number, readonly data: ThreadData) {
    for (let i = 0; i < size; i++) this.#free.push(this.#spawn());
  }

  async run(job: GraphJob, signal: AbortSignal): Promise<PointResult> {
    const worker = this.#free.pop() ?? (await new Promise<Worker>((resolve) => this.#waiting.push(resolve)));
    const onAbort = () => worker.postMessage({ type: 'cancel' } satisfies ToThread);
    signal.addEventListener('abort', onAbort);
    let reply: Reply;
    try {
      reply = await new Promise<Reply>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`job thread exited (code ${code})`)));
        worker.postMessage({ type: 'run', job } satisfies ToThread);
      });
    } catch (err) {
      // The thread died (out of memory, a crashing addon): replace it; BullMQ retries the job.
      this.#all.delete(worker);
      void worker.terminate();
      this.#release(this.#spawn());
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
      worker.removeAllListeners('message').removeAllListeners('error').removeAllListeners('exit');
    }
    this.#release(worker);
    if (reply.ok) return reply.result;
    throw Object.assign(new Error(reply.error.message), { name: reply.error.name });
  }

  async close(): Promise<void> {
    await Promise.all([...this.#all].map((w) => w.terminate()));
  }

  #release(worker: Worker): void {
    const next = this.#waiting.shift();
    if (next) next(worker);
    else this.#free.push(worker);
  }

  #spawn(): Worker {
    const here = path.dirname(fileURLToPath(import.meta.url));
    // The bundle ships dist/queue-thread.js; from source, run the TypeScript file through tsx.
    const built = path.join(here, 'queue-thread.js');
    const entry = existsSync(built) ? built : path.join(here, 'job-thread.ts');
    const worker = new Worker(entry, { workerData: this.data, execArgv: entry.endsWith('.ts') ? ['--import', 'tsx'] : [] });
    this.#all.add(worker);
    return worker;
  }
}
