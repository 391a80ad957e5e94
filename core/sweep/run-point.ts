/**
 * One sweep point: a normal graph run with the point's param overrides (and seed), reduced to the
 * values the sweep collects. Used in-process and by sweep workers alike.
 */
import type { Cache } from '../cache/cache.js';
import type { ClaimRecord, Manifest } from '../io/manifest.js';
import type { JsonValue } from '../operator/values.js';
import type { OperatorRegistry } from '../operator/registry.js';
import type { BackendName } from '../run/backends.js';
import { runGraph } from '../run/run-graph.js';
import { planLineage, type NodeLineage } from '../registry/lineage.js';
import { collectValue, type Collected } from './collect.js';
import type { Point } from './grid.js';

export interface PointSpec {
  id: string;
  coords: Point;
  /** Param overrides (the coordinates other than the graph seed). */
  sets: Record<string, JsonValue>;
  seed?: number;
}

export interface PointResult {
  id: string;
  coords: Point;
  status: 'ok' | 'failed' | 'cancelled';
  collected: Record<string, Collected>;
  claims: ClaimRecord[];
  /** Nodes computed vs served from the cache (or not needed). */
  computed: number;
  cached: number;
  ms: number;
  errors: string[];
  manifest: Manifest;
  /** Backend-free node identities, for the run registry (absent on points resumed from disk). */
  lineage?: Record<string, NodeLineage>;
  /** The queue worker that ran the point (`kernelflow worker --name`); absent when run in-process. */
  worker?: string;
}

export interface PointRunOptions {
  backend?: 'auto' | BackendName;
  cache: false | Cache | { dir: string | null; memoryBytes?: number };
  collect?: string[];
  dataDirs?: string[];
  plugins?: string[];
  registry?: OperatorRegistry;
  signal?: AbortSignal;
  variant?: string;
}

export async function runPoint(file: string, point: PointSpec, options: PointRunOptions): Promise<PointResult> {
  const { result } = runGraph(file, {
    sets: point.sets,
    seed: point.seed,
    variant: options.variant,
    backend: options.backend,
    cache: options.cache,
    dataDirs: options.dataDirs,
    plugins: options.plugins,
    registry: options.registry,
    signal: options.signal,
  });
  const r = await result;
  const names = options.collect?.length ? options.collect : Object.keys(r.manifest.outputs);
  const collected: Record<string, Collected> = {};
  for (const name of names) if (r.stored[name]) collected[name] = collectValue(r.stored[name]);
  r.dispose();
  const nodes = Object.values(r.manifest.nodes);
  return {
    id: point.id,
    coords: point.coords,
    status: r.status,
    collected,
    claims: r.manifest.claims,
    computed: nodes.filter((n) => n.status === 'ok' && n.cache !== 'hit').length,
    cached: nodes.filter((n) => n.cache === 'hit' || n.status === 'unneeded').length,
    ms: r.manifest.durationMs,
    errors: Object.entries(r.manifest.nodes).filter(([, n]) => n.error && n.status === 'failed').map(([id, n]) => `${id}: [${n.error!.code}] ${n.error!.message}`),
    manifest: r.manifest,
    lineage: planLineage(r.prepared.plan),
  };
}
