/**
 * What an operator's functions receive from the engine besides inputs and params.
 * Operators get tfjs through `ctx.tf` rather than importing it, so that loading an operator
 * (to validate or plan a graph) never loads tfjs, and a plugin always uses the engine's tfjs.
 */
import type * as tfjs from '@tensorflow/tfjs-core';
import type { JsonValue } from './values.js';

export type TF = typeof tfjs;

/** Given to `shape` and `fingerprint`: static facts only, never tensors. */
export interface StaticContext {
  readonly node: string;
  readonly op: string;
  /**
   * Resolves a path named in params against the graph's folder, refusing any path that leaves the
   * folders the graph may read (the graph's own folder and `--data-dir`s). Throws a ParamError.
   */
  resolvePath(path: string, pointer: string): string;
}

export interface Progress {
  /** 0…1 when known. */
  fraction?: number;
  step?: number;
  total?: number;
  message?: string;
  /** Named scalars to stream, e.g. a loss. */
  metrics?: Record<string, number>;
}

export interface RunContext extends StaticContext {
  readonly tf: TF;
  /** This node's seed: derived from the graph seed and the node id, stable as other nodes change. */
  readonly seed: number;
  /** Name of the tfjs backend the node runs on. */
  readonly backend: string;
  /** Aborted when the run is cancelled; long operators should check it between steps. */
  readonly signal: AbortSignal;
  progress(update: Progress): void;
  warn(message: string): void;
  /** Records a fact about this call in the manifest (e.g. the jitter a solver needed). */
  note(key: string, value: JsonValue): void;
}
