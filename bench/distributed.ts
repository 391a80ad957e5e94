/**
 * Distributed sweep throughput (on demand: `npx tsx bench/distributed.ts --queue redis://127.0.0.1:6379`,
 * or with $KERNELFLOW_QUEUE). A 40-point sweep of short points (random-projection, small sizes, a
 * seed axis) run in-process, then through the queue with 1, 2 and 4 local worker processes
 * (`kernelflow worker`, built CLI), each configuration on a fresh cache and a fresh queue prefix so
 * that nothing is served from an earlier one. Reports points/s and the per-point queue overhead
 * (queue wall time with one worker minus the in-process time, per point). Needs `npm run build`.
 * Prints a Markdown section to paste into bench/RESULTS.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { queueAddress } from '../core/queue/address.js';
import { queueExecutor } from '../core/queue/queue-sweep.js';
import { runSweep, type SweepOptions } from '../core/sweep/run-sweep.js';

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const points = Number(arg('--points') ?? 40);
const workerCounts = (arg('--workers') ?? '1,2,4').split(',').map(Number);
const baseUrl = arg('--queue') ?? process.env.KERNELFLOW_QUEUE;
if (!baseUrl) {
  process.stderr.write('bench/distributed.ts: give --queue redis://host:port (or set KERNELFLOW_QUEUE)\n');
  process.exit(2);
}
const graph = path.resolve('graphs/random-projection.json');
const bin = path.resolve('bin/kernelflow.js');
const root = mkdtempSync(path.join(os.tmpdir(), 'kf-bench-distributed-'));
const sweepOptions = (name: string): SweepOptions => ({
  grid: { seed: Array.from({ length: points }, (_, i) => i) }, sets: { n: 32, d: 64, k: 16 }, collect: ['distortion'],
  backend: 'wasm', out: path.join(root, name), cacheDir: path.join(root, `${name}-cache`),
});

function startWorker(url: string, cacheDir: string): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [bin, 'worker', '--queue', url, '--backend', 'wasm', '--cache-dir', cacheDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('worker ready')) resolve(proc);
    });
    proc.on('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready:\n${out}`)));
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const rows: Array<[string, number]> = [];
// Load tfjs and the backend first, as the workers have before their clock starts.
await runSweep(graph, { ...sweepOptions('warmup'), grid: { seed: [-1] } });
const local = await timed(() => runSweep(graph, sweepOptions('local')));
rows.push(['in-process (one thread)', local]);
for (const n of workerCounts) {
  const url = new URL(baseUrl);
  url.searchParams.set('prefix', `kfbench-${process.pid}-${n}`);
  const options = sweepOptions(`queue-${n}`);
  // Workers are started (tfjs loaded) before the clock starts: the bench measures steady throughput.
  const workers = await Promise.all(Array.from({ length: n }, () => startWorker(url.toString(), options.cacheDir!)));
  const address = queueAddress(url.toString());
  const ms = await timed(() => runSweep(graph, { ...options, executor: queueExecutor({ address, retries: 0, backoffMs: 0 }, { pollMs: 50 }) }));
  rows.push([`queue, ${n} worker${n > 1 ? 's' : ''}`, ms]);
  for (const w of workers) w.kill('SIGTERM');
  const { Queue } = await import('bullmq');
  const q = new Queue(address.name, { connection: address.connection, prefix: address.prefix });
  await q.obliterate({ force: true });
  const client = await q.client;
  const left = (await client.runCommand('keys', [`${address.prefix}:*`])) as string[];
  if (left.length) await client.del(...left);
  await q.close();
}
rmSync(root, { recursive: true, force: true });

const oneWorker = rows.find(([name]) => name === 'queue, 1 worker')?.[1];
process.stdout.write(`## distributed\n\n\`npx tsx bench/distributed.ts\`, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}, Node ${process.versions.node}, backend wasm; ${points} points (random-projection n=32 d=64 k=16, one seed each), workers on this machine.\n\n`);
process.stdout.write('| configuration | wall | points/s |\n|---|---|---|\n');
for (const [name, ms] of rows) process.stdout.write(`| ${name} | ${(ms / 1000).toFixed(2)} s | ${(points / (ms / 1000)).toFixed(1)} |\n`);
if (oneWorker !== undefined) process.stdout.write(`\nqueue overhead per point (1 worker vs in-process): ${((oneWorker - local) / points).toFixed(1)} ms\n`);
process.exit(0);
