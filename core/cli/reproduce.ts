/**
 * `kernelflow reproduce <manifest.json>`: runs the graph again exactly as the manifest says it was
 * run (same file, params, variant, seed and backend; no cache) and compares every output's sha256
 * with the recorded one. Exit 0 when all match bit for bit.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../document/resolve-params.js';
import type { Manifest } from '../io/manifest.js';
import { writeRun } from '../io/write-run.js';
import type { BackendName } from '../run/backends.js';
import { runGraph } from '../run/run-graph.js';

export interface ReproduceReport {
  graphChanged: boolean;
  outputs: Array<{ name: string; recorded?: string; now?: string; same: boolean }>;
  outDir: string;
}

export async function reproduce(manifestFile: string, options: { backend?: BackendName; out?: string } = {}): Promise<ReproduceReport> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  } catch (err) {
    throw new UsageError(`cannot read manifest ${manifestFile}: ${(err as Error).message}`);
  }
  const inv = manifest.invocation;
  if (!inv || inv.file === '<inline>') throw new UsageError(`${manifestFile} does not say which graph file ran (an API run of an inline graph cannot be reproduced from its manifest)`);
  const backend = options.backend ?? (manifest.backend.name as BackendName);
  const result = await runGraph(inv.file, { sets: inv.sets, variant: inv.variant, seed: inv.seed, backend, cache: false }).result;
  const outDir = options.out ?? mkdtempSync(path.join(os.tmpdir(), 'kernelflow-reproduce-'));
  const now = writeRun(outDir, { stored: result.stored, manifest: result.manifest, resolvedGraph: result.prepared.graph });
  result.dispose();
  const outputs = Object.entries(manifest.outputs).map(([name, o]) => ({ name, recorded: o.sha256, now: now.outputs[name]?.sha256, same: o.sha256 !== undefined && o.sha256 === now.outputs[name]?.sha256 }));
  return { graphChanged: now.graph.sha256 !== manifest.graph.sha256, outputs, outDir };
}
