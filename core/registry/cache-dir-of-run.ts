/**
 * The disk cache folder a run used, from its `cache` option (mirroring run-graph's defaults), so
 * the registry knows where to read the run's node results back.
 */
import path from 'node:path';
import { Cache, defaultCacheDir } from '../cache/cache.js';
import type { RunOptions } from '../run/run-graph.js';

export function cacheDirOfRun(cache: RunOptions['cache'], cwd = process.cwd()): string | null {
  if (cache === false) return null;
  if (cache instanceof Cache) return cache.disk ? path.resolve(cache.disk.dir) : null;
  if (cache?.dir === null) return null;
  return cache?.dir === undefined ? defaultCacheDir(cwd) : path.resolve(cwd, cache.dir);
}
