/**
 * The run manifest: everything needed to know what ran and to reproduce it bit for bit.
 */
import type { JsonValue } from '../operator/values.js';
import type { CacheStatus, NodeError, NodeStatus } from '../run/events.js';

export interface NodeRecord {
  op: string;
  opVersion: number;
  cacheKey: string;
  cache: CacheStatus;
  tier?: 'memory' | 'disk';
  ms: number;
  status: NodeStatus;
  error?: NodeError;
  /** The backend the node ran on when it differs from the run's (a missing kernel). */
  fallback?: string;
  outputs: Record<string, { kind: string; shape?: number[]; dtype?: string }>;
  /** Params after `$from` values were substituted (only for nodes that have such params). */
  resolvedParams?: Record<string, JsonValue>;
  /** Facts the operator reported (ctx.note), e.g. the jitter a solver needed. */
  notes?: Record<string, JsonValue>;
}

export interface OutputRecord {
  /** File (or folder) name inside the run folder; absent when the run did not produce it. */
  file?: string;
  kind: string;
  shape?: number[];
  dtype?: string;
  /** sha256 of the written bytes (for a tensors record: of its files' hashes in name order). */
  sha256?: string;
  node: string;
  port: string;
}

/** A paper's claim checked inside the graph (a node with a json `claim` output). */
export interface ClaimRecord {
  node: string;
  op: string;
  pass: boolean;
  value: JsonValue;
  message: string;
}

export interface Manifest {
  kernelflow: string;
  status: 'ok' | 'failed' | 'cancelled';
  graph: { name: string; file: string; sha256: string };
  /** How the run was asked for, so `kernelflow reproduce` can ask again. */
  invocation: { file: string; sets: Record<string, JsonValue>; variant?: string; seed?: number };
  params: Record<string, JsonValue>;
  seed: number;
  /** `detail`: the native backend's BLAS configuration and thread counts (nativeManifestDetail). */
  backend: { name: string; reason: string; detail?: Record<string, string> };
  versions: { kernelflow: string; tfjs: string; node: string };
  plugins: Array<{ spec: string; file: string; operators: string[] }>;
  nodes: Record<string, NodeRecord>;
  outputs: Record<string, OutputRecord>;
  /** Every claim node's verdict; a claim whose node did not run does not pass. */
  claims: ClaimRecord[];
  warnings: string[];
  startedAt: string;
  durationMs: number;
}
