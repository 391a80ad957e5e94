/**
 * What the queue tests share: a scratch folder with a shared cache, queue addresses with a prefix
 * of their own (so runs of the tests never see each other's jobs, and cleanup leaves the Redis as
 * found), `kernelflow worker` processes, and the CLI run without blocking this process.
 * Needs KERNELFLOW_TEST_REDIS=redis://host:port (`.ci/run` starts one).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { queueAddress } from '../../core/queue/address.js';

export const REDIS = process.env.KERNELFLOW_TEST_REDIS;
export const bin = path.resolve('bin/kernelflow.js');
export const waitGraph = path.resolve('tests/queue/fixtures/wait-sweep.json');
export const pluginDir = path.resolve('tests/queue/fixtures/plugins');

export function warnSkipped(file: string): void {
  if (!REDIS) console.warn(`${file} skipped: set KERNELFLOW_TEST_REDIS=redis://host:port to run the queue tests against a Redis server`);
}

export async function waitFor(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface WorkerProc {
  proc: ChildProcess;
  log: string;
  /** Job ids this worker started, in order (one per attempt). */
  starts(): string[];
}

export class QueueHarness {
  readonly work = mkdtempSync(path.join(os.tmpdir(), 'kf-queue-'));
  readonly shared = path.join(this.work, 'shared-cache');
  readonly #prefixes: string[] = [];
  readonly #workers: WorkerProc[] = [];

  /** A queue address with a prefix of its own. */
  queueUrl(): string {
    const url = new URL(REDIS!);
    const prefix = `kftest-${process.pid}-${Date.now().toString(36)}-${this.#prefixes.length}`;
    this.#prefixes.push(prefix);
    url.searchParams.set('prefix', prefix);
    return url.toString();
  }

  async startWorker(queue: string, extra: string[] = []): Promise<WorkerProc> {
    const proc = spawn(process.execPath, [bin, 'worker', '--queue', queue, '--plugin-dir', pluginDir, '--cache-dir', this.shared, '--backend', 'wasm', '--lock-ms', '5000', '--stall-check-ms', '1000', ...extra], { cwd: this.work, stdio: ['ignore', 'pipe', 'pipe'] });
    const w: WorkerProc = { proc, log: '', starts: () => [...w.log.matchAll(/job (\S+) start:/g)].map((m) => m[1]) };
    this.#workers.push(w);
    proc.stdout!.on('data', (d) => (w.log += d));
    proc.stderr!.on('data', (d) => (w.log += d));
    await waitFor('a worker to be ready', () => w.log.includes('worker ready') || proc.exitCode !== null);
    if (!w.log.includes('worker ready')) throw new Error(`worker did not start:\n${w.log}`);
    return w;
  }

  /** Runs the CLI in the scratch folder without blocking this process (the workers' output keeps flowing). */
  kf(args: string[], env: Record<string, string> = {}) {
    const { KERNELFLOW_REGISTRY: _ignored, ...base } = process.env;
    const proc = spawn(process.execPath, [bin, ...args], { cwd: this.work, env: { ...base, KERNELFLOW_CACHE_DIR: path.join(this.work, 'local-cache'), ...env } });
    const r = { proc, stdout: '', stderr: '', code: null as number | null };
    proc.stdout.on('data', (d) => (r.stdout += d));
    proc.stderr.on('data', (d) => (r.stderr += d));
    const done = new Promise<typeof r>((resolve) => proc.on('close', (code) => resolve(Object.assign(r, { code }))));
    return Object.assign(done, { live: r });
  }

  /** Kills the workers and removes every key this harness's queues wrote. */
  async cleanup(): Promise<void> {
    for (const w of this.#workers) if (w.proc.exitCode === null) w.proc.kill('SIGKILL');
    const { Queue } = await import('bullmq');
    for (const prefix of this.#prefixes) {
      const q = new Queue('graphs', { connection: queueAddress(REDIS!).connection, prefix });
      await q.obliterate({ force: true }).catch(() => {});
      const client = await q.client;
      const keys = (await client.runCommand('keys', [`${prefix}:*`]).catch(() => [])) as string[];
      if (keys.length) await client.del(...keys);
      await q.close();
    }
  }
}
