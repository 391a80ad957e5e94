/**
 * The run's event stream: what `kernelflow run --json` prints as JSON lines and what API users
 * subscribe to.
 */
import type { Progress } from '../operator/context.js';

/** `unneeded`: not loaded or run, because every node that consumes it came from the cache. */
export type NodeStatus = 'ok' | 'failed' | 'skipped' | 'cancelled' | 'unneeded';
/** `unused`: the node was not needed (see NodeStatus `unneeded`), so the cache was not asked. */
export type CacheStatus = 'hit' | 'miss' | 'off' | 'unused';

export interface NodeError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export type RunEvent =
  | { type: 'run-start'; graph: string; backend: string; backendReason: string; nodes: number; plugins: string[]; time: string }
  | { type: 'node-start'; node: string; op: string; time: string }
  | { type: 'node-end'; node: string; op: string; status: NodeStatus; cache: CacheStatus; tier?: 'memory' | 'disk'; ms: number; error?: NodeError; fallback?: string }
  | ({ type: 'progress'; node: string } & Progress)
  | { type: 'warning'; node?: string; message: string }
  /** A node saved resumable state after `step` (see RunContext.checkpoint). */
  | { type: 'checkpoint'; node: string; step: number }
  /** A node found a checkpoint of an interrupted run and goes on from `step` instead of 0. */
  | { type: 'resumed'; node: string; step: number }
  | { type: 'run-end'; status: 'ok' | 'failed' | 'cancelled'; ms: number };
