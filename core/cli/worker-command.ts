/**
 * `kernelflow worker --queue redis://…`: a long-running process that runs graph jobs from the
 * queue (sweep points submitted with `sweep --queue`, whole graphs with `run --queue`) against a
 * cache folder shared by every worker and submitter. Ctrl-C (or SIGTERM) finishes the jobs in hand
 * and stops; a second Ctrl-C stops at once (the queue gives those jobs to another worker).
 */
import { Option, type Command } from 'commander';
import path from 'node:path';
import { defaultCacheDir, parseByteSize } from '../cache/cache.js';
import { UsageError } from '../document/resolve-params.js';
import { BACKEND_PREFERENCE } from '../run/backends.js';

export function registerWorkerCommand(program: Command): void {
  program.command('worker').description('run graph jobs from a Redis queue (sweep --queue, run --queue) until stopped')
    .option('--queue <url>', 'redis://[user:password@]host:port[/db][?prefix=kf&queue=graphs] (default $KERNELFLOW_QUEUE)')
    .option('--concurrency <n>', 'jobs run at once (more than 1: one thread each)', '1')
    .addOption(new Option('--backend <name>', 'tfjs backend for jobs that ask for auto').choices(['auto', ...BACKEND_PREFERENCE]).default('auto'))
    .option('--plugin-dir <dir>', 'a folder whose plugin modules jobs may load; repeatable (default: none, built-in operators only)', (v: string, p: string[]) => [...p, v], [])
    .option('--cache-dir <dir>', 'the shared cache folder (default .kernelflow/cache or $KERNELFLOW_CACHE_DIR)')
    .option('--cache-memory <size>', 'memory cache budget per job thread, e.g. 512MB', '256MB')
    .option('--name <name>', 'names this worker in the results it returns (the submitter records it in its run registry); default host:pid')
    .option('--lock-ms <ms>', 'how long a job stays locked without renewal: a dead worker\'s job is free again after it', '30000')
    .option('--stall-check-ms <ms>', 'how often to look for jobs of dead workers', '30000')
    .action(async (o) => {
      const { queueAddress } = await import('../queue/address.js');
      const { startQueueWorker, defaultWorkerName } = await import('../queue/worker.js');
      (await import('@tensorflow/tfjs-core')).env().set('PROD', true);
      const address = queueAddress(o.queue);
      const concurrency = positiveInt(o.concurrency, '--concurrency');
      const cacheDir = o.cacheDir ? path.resolve(o.cacheDir) : defaultCacheDir(process.cwd());
      const pluginDirs = (o.pluginDir as string[]).map((d) => path.resolve(d));
      const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
      // Load the backend now: a worker that cannot compute should fail at start, not on every job,
      // and a first job slowed by loading it could miss its lock renewal.
      let backend = `backend ${o.backend} in each thread`;
      if (concurrency === 1) {
        const active = await (await import('../run/backends.js')).activateBackend(o.backend);
        backend = `backend ${active.name} (${active.reason})`;
      }
      const name = typeof o.name === 'string' && o.name ? o.name : defaultWorkerName();
      const running = await startQueueWorker(address, {
        name, concurrency, backend: o.backend, pluginDirs, cacheDir, memoryBytes: parseByteSize(o.cacheMemory),
        lockMs: positiveInt(o.lockMs, '--lock-ms'), stallCheckMs: positiveInt(o.stallCheckMs, '--stall-check-ms'), log,
      });
      log(`worker ready on ${address.display} (queue '${address.name}', prefix '${address.prefix}') as '${name}': concurrency ${concurrency}, ${backend}, cache ${cacheDir}, plugins from ${pluginDirs.length ? pluginDirs.join(', ') : 'nowhere (built-ins only)'}`);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = () => {
          if (stopping) process.exit(130);
          stopping = true;
          log('stopping: finishing the jobs in hand (Ctrl-C again to quit at once)');
          void running.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      log('worker stopped');
    });
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got '${text}'`);
  return n;
}
