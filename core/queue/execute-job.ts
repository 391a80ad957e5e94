/**
 * What a worker does with one job: check that the graph is the one submitted and that its plugins
 * are allowed, then run it as a sweep point (core/sweep/run-point.ts) against the shared store.
 */
import { loadGraphFile } from '../document/load-graph.js';
import type { BackendName } from '../run/backends.js';
import type { Cache } from '../cache/cache.js';
import { runPoint, type PointResult } from '../sweep/run-point.js';
import { graphHashOf, type GraphJob } from './job.js';
import { checkPlugins } from './plugin-policy.js';

export class GraphChanged extends Error {
  override name = 'GraphChanged';
}

export interface ExecuteOptions {
  cache: Cache;
  /** Used when the job asks for 'auto'. */
  backend: 'auto' | BackendName;
  pluginDirs: string[];
  signal?: AbortSignal;
}

/** Throws GraphError (invalid graph), GraphChanged or PluginRefused: none is worth retrying. */
export async function executeJob(job: GraphJob, o: ExecuteOptions): Promise<PointResult> {
  if (graphHashOf(job.file, job.point, job.variant) !== job.graphHash) {
    throw new GraphChanged(`${job.file} resolves differently than when it was submitted (edited since?): resubmit it`);
  }
  const graph = loadGraphFile(job.file, { sets: job.point.sets, seed: job.point.seed, variant: job.variant });
  checkPlugins([...graph.plugins.map((spec) => ({ spec, baseDir: graph.dir })), ...job.plugins.map((spec) => ({ spec, baseDir: process.cwd() }))], o.pluginDirs);
  return runPoint(job.file, job.point, {
    backend: job.backend === 'auto' ? o.backend : job.backend,
    cache: o.cache,
    collect: job.collect,
    dataDirs: job.dataDirs,
    plugins: job.plugins,
    variant: job.variant,
    signal: o.signal,
  });
}
