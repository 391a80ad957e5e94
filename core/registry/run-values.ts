/**
 * The values of a recorded run, read back for comparison: outputs from the files the run wrote
 * (falling back to the cache), every other node's results from the disk cache by its cache key.
 * A value that is gone (cache pruned, folder deleted, run without a cache) reads as undefined.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Cache } from '../cache/cache.js';
import type { StoredResult, StoredTensor, StoredValue } from '../cache/stored.js';
import { decodeNpy } from '../io/npy.js';
import type { JsonValue, Table } from '../operator/values.js';
import type { RecordedRun } from './query-runs.js';

export class RunValues {
  readonly #cache: Cache | undefined;
  readonly #nodes = new Map<string, Promise<StoredResult | undefined>>();

  constructor(readonly run: RecordedRun) {
    this.#cache = run.cacheDir && existsSync(run.cacheDir) ? new Cache({ memoryBytes: 0, dir: run.cacheDir }) : undefined;
  }

  /** A node's results by port (engine-internal ports such as notes left out). */
  node(id: string): Promise<StoredResult | undefined> {
    let found = this.#nodes.get(id);
    if (!found) {
      found = this.#readNode(id);
      this.#nodes.set(id, found);
    }
    return found;
  }

  /** A graph output: the written file when there is one, else its node's cached result. */
  async output(name: string): Promise<StoredValue | undefined> {
    const record = this.run.outputs[name];
    if (!record) return undefined;
    const written = this.run.outDir && record.file ? readWritten(path.join(this.run.outDir, record.file), record.kind) : undefined;
    return written ?? (await this.node(record.node))?.[record.port];
  }

  async #readNode(id: string): Promise<StoredResult | undefined> {
    const key = this.run.manifest.nodes[id]?.cacheKey;
    if (!this.#cache || !key) return undefined;
    const hit = await this.#cache.get(key).catch(() => undefined);
    if (!hit) return undefined;
    return Object.fromEntries(Object.entries(hit.result).filter(([port]) => !port.startsWith('#')));
  }
}

function readWritten(file: string, kind: string): StoredValue | undefined {
  try {
    switch (kind) {
      case 'tensor':
        return { kind: 'tensor', tensor: readTensor(file) };
      case 'tensors': {
        const tensors: Record<string, StoredTensor> = {};
        for (const f of readdirSync(file).filter((n) => n.endsWith('.npy')).sort()) tensors[f.slice(0, -4)] = readTensor(path.join(file, f));
        return { kind: 'tensors', tensors };
      }
      case 'table':
        // The table is written as .csv for people and .json for programs: read the .json.
        return { kind: 'table', table: JSON.parse(readFileSync(file.replace(/\.csv$/, '.json'), 'utf8')) as Table };
      case 'json':
        return { kind: 'json', json: JSON.parse(readFileSync(file, 'utf8')) as JsonValue };
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

function readTensor(file: string): StoredTensor {
  const { dtype, shape, data } = decodeNpy(readFileSync(file));
  return { dtype, shape, data };
}
