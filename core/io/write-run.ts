/**
 * Stage 6: write a run's results to its folder — each tensor output as `<name>.npy`, a record of
 * tensors as `<name>/<entry>.npy`, a table as `<name>.csv` + `<name>.json`, other values as
 * `<name>.json` — plus `graph.resolved.json` (the exact graph that ran) and `manifest.json`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { StoredValue } from '../cache/stored.js';
import type { Manifest } from './manifest.js';
import { canonicalJson, sha256Hex } from './hash.js';
import { tableToCsv } from './csv.js';
import { encodeNpy } from './npy.js';

export interface WritableRun {
  stored: Record<string, StoredValue>;
  manifest: Manifest;
  /** The resolved graph document, written beside the manifest for reproduction. */
  resolvedGraph: unknown;
}

/** Writes everything into `dir` (created) and returns the manifest with output files and hashes filled in. */
export function writeRun(dir: string, run: WritableRun): Manifest {
  mkdirSync(dir, { recursive: true });
  const manifest: Manifest = structuredClone(run.manifest);
  for (const [name, value] of Object.entries(run.stored)) {
    const record = manifest.outputs[name];
    const written = writeValue(dir, name, value);
    Object.assign(record, written);
  }
  writeFileSync(path.join(dir, 'graph.resolved.json'), JSON.stringify(run.resolvedGraph, null, 2) + '\n');
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

function writeValue(dir: string, name: string, value: StoredValue): { file: string; sha256: string; shape?: number[]; dtype?: string } {
  switch (value.kind) {
    case 'tensor': {
      const bytes = encodeNpy(value.tensor);
      writeFileSync(path.join(dir, `${name}.npy`), bytes);
      return { file: `${name}.npy`, sha256: sha256Hex(bytes), shape: value.tensor.shape, dtype: value.tensor.dtype };
    }
    case 'tensors': {
      mkdirSync(path.join(dir, name), { recursive: true });
      const hashes: Record<string, string> = {};
      for (const [entry, t] of Object.entries(value.tensors)) {
        const bytes = encodeNpy(t);
        writeFileSync(path.join(dir, name, `${entry}.npy`), bytes);
        hashes[entry] = sha256Hex(bytes);
      }
      return { file: `${name}/`, sha256: sha256Hex(canonicalJson(hashes)) };
    }
    case 'table': {
      const csv = tableToCsv(value.table);
      writeFileSync(path.join(dir, `${name}.csv`), csv);
      writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(value.table, null, 2) + '\n');
      return { file: `${name}.csv`, sha256: sha256Hex(csv) };
    }
    case 'json': {
      const text = JSON.stringify(value.json, null, 2) + '\n';
      writeFileSync(path.join(dir, `${name}.json`), text);
      return { file: `${name}.json`, sha256: sha256Hex(text) };
    }
  }
}
