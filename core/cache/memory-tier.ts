/**
 * The memory tier: an LRU of stored results bounded by their payload bytes (lru-cache's
 * maxSize/sizeCalculation). It holds only typed arrays, never tfjs tensors, so eviction needs no
 * dispose and entries survive a backend switch.
 */
import { LRUCache } from 'lru-cache';
import { storedBytes, type StoredResult } from './stored.js';

/** LRU of StoredResult by byte budget. Results are shared, not copied: treat them as read-only. */
export class MemoryTier {
  readonly #lru: LRUCache<string, StoredResult> | undefined;

  /** `maxBytes` 0 turns the tier off; a result larger than the budget is not kept. */
  constructor(readonly maxBytes: number) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new Error(`memory tier: invalid byte budget ${maxBytes}`);
    // lru-cache requires sizes >= 1, so an empty result counts as one byte.
    this.#lru = maxBytes > 0 ? new LRUCache({ maxSize: maxBytes, sizeCalculation: (r) => Math.max(1, storedBytes(r)) }) : undefined;
  }

  /** The result under `key`, marking it most recently used. */
  get(key: string): StoredResult | undefined {
    return this.#lru?.get(key);
  }

  has(key: string): boolean {
    return this.#lru?.has(key) ?? false;
  }

  /** Stores a result, evicting least recently used ones to stay within the budget. */
  set(key: string, result: StoredResult): void {
    this.#lru?.set(key, result);
  }

  delete(key: string): void {
    this.#lru?.delete(key);
  }

  clear(): void {
    this.#lru?.clear();
  }

  /** Number of entries and the bytes they count against the budget. */
  stats(): { entries: number; bytes: number } {
    return { entries: this.#lru?.size ?? 0, bytes: this.#lru?.calculatedSize ?? 0 };
  }
}
