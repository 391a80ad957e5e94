/**
 * `kernelflow run --queue`: the whole graph is one job. A worker runs it against the shared store
 * and answers with its manifest; the outputs' bytes are read back from the store by the cache keys
 * the manifest records (tensors never pass through Redis) and written here like a local run.
 */
import path from 'node:path';
import type { StoredValue } from '../cache/stored.js';
import { loadGraphFile } from '../document/load-graph.js';
import { writeRun } from '../io/write-run.js';
import type { JsonValue } from '../operator/values.js';
import type { BackendName } from '../run/backends.js';
import { recordRunSafely } from '../registry/record-run.js';
import type { PointResult } from '../sweep/run-point.js';
import { jobIdOf, makeJob } from './job.js';
import { progressPrinter } from './progress.js';
import type { ResultStore } from './store.js';
import { submitAndWait, type Outcome } from './submit.js';
import type { QueueSubmitOptions } from './submit-options.js';

export interface QueueRunOptions {
  sets: Record<string, JsonValue>;
  variant?: string;
  backend: 'auto' | BackendName;
  dataDirs: string[];
  plugins: string[];
  out?: string;
  check?: boolean;
  /** Where the workers' results are (the shared cache folder, as this machine sees it). */
  store: ResultStore;
  /** The run registry to record the run in, here on the submitting machine (absent: not recorded). */
  registryFile?: string;
}

/** Returns the exit code: 0 ok, 1 the run failed (or a claim failed with `check`). */
export async function queueRun(file: string, q: QueueSubmitOptions, o: QueueRunOptions): Promise<number> {
  const job = makeJob('run', file, { id: 'run', coords: {}, sets: o.sets }, o);
  const id = jobIdOf(job);
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  let outcome: Outcome | undefined;
  process.stderr.write(`submitted ${path.basename(file)} to ${q.address.display} as job ${id} (cancel: kernelflow sweep cancel ${id.slice(0, 12)})\n`);
  try {
    await submitAndWait(q.address, [{ id, job }], { retries: q.retries, backoffMs: q.backoffMs, sweepId: id.slice(0, 12), signal: controller.signal, onProgress: progressPrinter(process.stderr), onOutcome: (x) => (outcome = x) });
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (!outcome || outcome.status === 'cancelled') {
    process.stderr.write('cancelled\n');
    return 1;
  }
  if (outcome.status === 'failed') {
    process.stderr.write(`run failed on the queue: ${outcome.error}\n`);
    return 1;
  }
  const result: PointResult = outcome.result;
  const stored = await readOutputs(result, o.store);
  const graph = loadGraphFile(file, { sets: o.sets, variant: o.variant });
  const outDir = path.resolve(o.out ?? path.join('runs', `${graph.name}-${result.manifest.startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`));
  const manifest = writeRun(outDir, { stored, manifest: result.manifest, resolvedGraph: graph });
  process.stdout.write(`${graph.name}: ${manifest.status} on ${manifest.backend.name} (a queue worker) in ${(manifest.durationMs / 1000).toFixed(2)} s; ${result.computed} computed, ${result.cached} cached\n`);
  for (const e of result.errors) process.stdout.write(`  ✗ ${e}\n`);
  for (const c of manifest.claims) process.stdout.write(`  ${c.pass ? 'PASS' : 'FAIL'}  ${c.node}: ${c.message}\n`);
  process.stdout.write(`written to ${path.relative(process.cwd(), outDir) || '.'}/ (manifest.json)\n`);
  // Recorded by the submitter, not the worker: the worker may be on another machine with another
  // registry; the run belongs where its outputs were written. Its node values are in the shared store.
  if (o.registryFile && result.lineage) {
    const runId = await recordRunSafely(o.registryFile, {
      manifest, lineage: result.lineage, outDir, cacheDir: o.store.location, queued: { queue: q.address.display, worker: result.worker ?? null },
    }, (line) => process.stderr.write(line + '\n'));
    if (runId !== undefined) process.stdout.write(`recorded as run ${runId} (kernelflow runs show ${runId})\n`);
  }
  if (manifest.status !== 'ok') return 1;
  return o.check && manifest.claims.some((c) => !c.pass) ? 1 : 0;
}

/** Every output the run produced, read from the store by its node's cache key. */
async function readOutputs(result: PointResult, store: ResultStore): Promise<Record<string, StoredValue>> {
  const stored: Record<string, StoredValue> = {};
  for (const [name, out] of Object.entries(result.manifest.outputs)) {
    const node = result.manifest.nodes[out.node];
    if (node?.status !== 'ok') continue;
    const value = (await store.read(node.cacheKey))?.[out.port];
    if (!value) {
      throw new Error(`output '${name}' (node '${out.node}', cache key ${node.cacheKey}) is not in ${store.location}: do the workers share this cache folder (their --cache-dir)?`);
    }
    stored[name] = value;
  }
  return stored;
}
