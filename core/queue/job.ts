/**
 * A queue job is one resolved graph to run: a sweep point or a whole `run`. It carries paths on
 * the shared storage and small JSON — never tensors. Its id is a hash of the resolved graph and of
 * what changes the result (backend, collected outputs), so submitting the same graph twice is one
 * job: BullMQ ignores an add whose id exists, and finished points are answered from Redis.
 */
import path from 'node:path';
import { loadGraphFile } from '../document/load-graph.js';
import { canonicalJson, sha256Hex } from '../io/hash.js';
import type { JsonValue } from '../operator/values.js';
import type { BackendName } from '../run/backends.js';
import type { PointSpec } from '../sweep/run-point.js';

export interface GraphJob {
  kind: 'point' | 'run';
  /** Absolute path of the graph file: workers read it from the shared storage. */
  file: string;
  /** Hash of the resolved graph at submission; a worker refuses to run a graph that changed since. */
  graphHash: string;
  point: PointSpec;
  variant?: string;
  backend: 'auto' | BackendName;
  collect?: string[];
  /** Absolute paths. */
  dataDirs: string[];
  /** Extra plugin modules (`--plugin`), absolute paths. */
  plugins: string[];
}

/** The graph after variant, `--set`s and seed: the same hash wherever it is computed. */
export function graphHashOf(file: string, point: Pick<PointSpec, 'sets' | 'seed'>, variant?: string): string {
  const g = loadGraphFile(file, { sets: point.sets, seed: point.seed, variant });
  // The folder is part of it: relative data paths mean different bytes in another folder.
  return sha256Hex(canonicalJson({ dir: g.dir, name: g.name, seed: g.seed, params: g.params, plugins: g.plugins, nodes: g.nodes as unknown as JsonValue, outputs: g.outputs }));
}

export function makeJob(kind: GraphJob['kind'], file: string, point: PointSpec, o: { variant?: string; backend?: 'auto' | BackendName; collect?: string[]; dataDirs?: string[]; plugins?: string[] }): GraphJob {
  const abs = path.resolve(file);
  return {
    kind, file: abs, graphHash: graphHashOf(abs, point, o.variant), point, variant: o.variant, backend: o.backend ?? 'auto',
    collect: o.collect?.length ? o.collect : undefined,
    dataDirs: (o.dataDirs ?? []).map((d) => path.resolve(d)),
    plugins: (o.plugins ?? []).map((p) => (p.startsWith('.') || path.isAbsolute(p) ? path.resolve(p) : p)),
  };
}

/** BullMQ job ids must not be plain integers nor contain ':'. */
export function jobIdOf(job: GraphJob): string {
  return 'g' + sha256Hex(canonicalJson({ kind: job.kind, graph: job.graphHash, backend: job.backend, collect: job.collect ?? null, dataDirs: job.dataDirs, plugins: job.plugins })).slice(0, 40);
}
