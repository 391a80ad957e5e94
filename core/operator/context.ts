/**
 * What an operator's functions receive from the engine besides inputs and params.
 * Operators get tfjs through `ctx.tf` rather than importing it, so that loading an operator
 * (to validate or plan a graph) never loads tfjs, and a plugin always uses the engine's tfjs.
 */
import type * as tfjs from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
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
  /**
   * Resumable state of a long call, kept in the disk cache under this node's cache key (so other
   * inputs or params never resume it) and deleted once the node's result is cached. Absent when
   * the run has no disk cache (or the node's key is unreliable): then nothing is checkpointed.
   */
  readonly checkpoint?: Checkpoint;
}

/** What an operator saves to resume from: float32/int32/bool tensors plus JSON (NaN/±Inf allowed). */
export interface CheckpointState {
  tensors: Record<string, Tensor>;
  json: JsonValue;
}

export interface Checkpoint {
  /**
   * The last saved state, or undefined (none, or a damaged one: warned about and removed). The
   * caller owns the tensors returned and must dispose them.
   */
  load(): Promise<{ step: number; state: CheckpointState } | undefined>;
  /**
   * Replaces the saved state atomically: a crash during a save leaves the previous one. Reads the
   * tensors (never disposes or keeps them). A failed write warns instead of failing the call.
   */
  save(step: number, state: CheckpointState): Promise<void>;
}
