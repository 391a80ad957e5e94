/**
 * The `ctx.checkpoint` an operator call receives: saves and loads its resumable state through a
 * CheckpointStore under the node's cache key, turning tensors into stored bytes and back. Problems
 * (a damaged checkpoint, a failed write) are warnings: the call then starts over or goes on unsaved.
 */
import type { Checkpoint, CheckpointState, TF } from '../operator/context.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { fromStored, toStored, type StoredResult } from './stored.js';

export interface CheckpointHooks {
  warn(message: string): void;
  /** A checkpoint of `step` was written. */
  saved(step: number): void;
  /** load() found a checkpoint of `step`. */
  resumed(step: number): void;
}

export function nodeCheckpoint(store: CheckpointStore, key: string, tf: TF, hooks: CheckpointHooks): Checkpoint {
  return {
    async load() {
      let read;
      try {
        read = await store.read(key);
      } catch (e) {
        hooks.warn(`checkpoint ${key} could not be read (${(e as Error).message}): starting from step 0`);
        return undefined;
      }
      if (read.status === 'miss') return undefined;
      const parsed = read.status === 'hit' ? parse(read.result) : undefined;
      if (!parsed) {
        await store.delete(key).catch(() => {});
        hooks.warn(`checkpoint ${key} is corrupt (${read.status === 'corrupt' ? read.reason : 'unexpected layout'}): starting from step 0`);
        return undefined;
      }
      const value = fromStored(parsed.tensors, tf);
      hooks.resumed(parsed.step);
      return { step: parsed.step, state: { tensors: value.kind === 'tensors' ? value.tensors : {}, json: parsed.json } };
    },
    async save(step: number, state: CheckpointState) {
      if (!Number.isSafeInteger(step) || step < 0) throw new Error(`checkpoint: step must be a non-negative integer, got ${step}`);
      const result: StoredResult = {
        step: { kind: 'json', json: step },
        tensors: await toStored({ kind: 'tensors', tensors: state.tensors }),
        json: { kind: 'json', json: state.json },
      };
      try {
        await store.write(key, result);
      } catch (e) {
        hooks.warn(`checkpoint ${key} could not be written (${(e as Error).message}): going on without it`);
        return;
      }
      hooks.saved(step);
    },
  };
}

function parse(r: StoredResult): { step: number; tensors: StoredResult[string]; json: CheckpointState['json'] } | undefined {
  const { step, tensors, json } = r;
  if (step?.kind !== 'json' || typeof step.json !== 'number' || !Number.isSafeInteger(step.json) || step.json < 0) return undefined;
  if (tensors?.kind !== 'tensors' || json?.kind !== 'json') return undefined;
  return { step: step.json, tensors, json: json.json };
}
