/**
 * What workers and submitters share besides Redis: the result store. Workers run graphs against
 * it; a submitter reads a run's outputs back by cache key. Today it is a disk cache on a shared
 * folder (NFS, a mounted volume); the interface is what another store (object storage) would fill.
 */
import { Cache } from '../cache/cache.js';
import type { StoredResult } from '../cache/stored.js';

export interface ResultStore {
  /** For messages: where results live. */
  readonly location: string;
  /** The cache a run computes against (memory in front of the shared tier). */
  cache(memoryBytes: number, onWarning?: (message: string) => void): Cache;
  /** One node's stored result, or undefined when the store lacks it. */
  read(key: string): Promise<StoredResult | undefined>;
}

/** A disk cache folder that every machine mounts at the same path. */
export class SharedDiskStore implements ResultStore {
  constructor(readonly location: string) {}

  cache(memoryBytes: number, onWarning?: (message: string) => void): Cache {
    return new Cache({ memoryBytes, dir: this.location, onWarning });
  }

  async read(key: string): Promise<StoredResult | undefined> {
    return (await new Cache({ memoryBytes: 0, dir: this.location }).get(key))?.result;
  }
}
