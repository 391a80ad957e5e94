/**
 * `kernelflow run`: runs a graph, shows progress, writes outputs + manifest (also after a failure
 * or Ctrl-C: whatever was computed is kept), and prints a short summary.
 */
import path from 'node:path';
import type { RunEvent } from '../run/events.js';
import { runGraph, type RunOptions } from '../run/run-graph.js';
import type { ClaimRecord } from '../io/manifest.js';
import { writeRun } from '../io/write-run.js';
import { planLineage } from '../registry/lineage.js';
import { cacheDirOfRun } from '../registry/cache-dir-of-run.js';
import { recordRunSafely } from '../registry/record-run.js';
import { formatMs, table } from './format.js';

export interface RunCliOptions extends RunOptions {
  out?: string;
  json: boolean;
  /** Exit 1 when a claim fails (or could not be evaluated). */
  check?: boolean;
  /** The run registry file to record the run in (absent: not recorded). */
  registryFile?: string;
}

/** Returns the exit code: 0 ok, 1 a node failed or the run was cancelled. GraphError propagates (2). */
export async function runCommand(file: string, options: RunCliOptions): Promise<number> {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\ncancelling (Ctrl-C again to quit at once)…\n');
    controller.abort(new Error('cancelled by SIGINT'));
  };
  process.on('SIGINT', onSigint);
  // PROD silences tfjs's console banners (e.g. "install our node backend") in the CLI's output.
  (await import('@tensorflow/tfjs-core')).env().set('PROD', true);
  try {
    const handle = runGraph(file, { ...options, signal: controller.signal });
    const live = process.stderr.isTTY && !options.json;
    handle.events.subscribe({
      next: (e) => (options.json ? process.stdout.write(JSON.stringify(e) + '\n') : showEvent(e, live)),
      error: () => {},
    });
    const result = await handle.result;
    const outDir = path.resolve(options.out ?? path.join('runs', `${result.manifest.graph.name}-${timestamp(new Date(result.manifest.startedAt))}`));
    const manifest = writeRun(outDir, { stored: result.stored, manifest: result.manifest, resolvedGraph: result.prepared.graph });
    result.dispose();
    const runId = options.registryFile
      ? await recordRunSafely(options.registryFile, { manifest, lineage: planLineage(result.prepared.plan), outDir, cacheDir: cacheDirOfRun(options.cache) }, (line) => process.stderr.write(line + '\n'))
      : undefined;
    if (!options.json) {
      const nodes = Object.values(manifest.nodes);
      const count = (s: string) => nodes.filter((n) => n.status === s).length;
      const hits = nodes.filter((n) => n.cache === 'hit').length;
      process.stdout.write(`\n${manifest.graph.name}: ${manifest.status} on ${manifest.backend.name} (${manifest.backend.reason}) in ${formatMs(manifest.durationMs)}\n`);
      const unneeded = count('unneeded') ? `, ${count('unneeded')} not needed (cached downstream)` : '';
      process.stdout.write(`nodes: ${nodes.length} (${count('ok')} ok, ${count('failed')} failed, ${count('skipped')} skipped, ${count('cancelled')} cancelled${unneeded}); cache hits: ${hits}\n`);
      for (const [id, n] of Object.entries(manifest.nodes)) if (n.error && n.status === 'failed') process.stdout.write(`  ✗ ${id} (${n.op}): [${n.error.code}] ${n.error.message}\n`);
      const rows = Object.entries(manifest.outputs).map(([name, o]) => [name, o.file ?? '(not produced)', o.shape ? `[${o.shape.join(',')}]` : o.kind, o.dtype ?? '', o.sha256?.slice(0, 12) ?? '']);
      if (rows.length) process.stdout.write('\n' + table(['output', 'file', 'shape', 'dtype', 'sha256'], rows) + '\n');
      if (manifest.claims.length) process.stdout.write(`\n${formatClaims(manifest.claims)}\n`);
      process.stdout.write(`\nwritten to ${path.relative(process.cwd(), outDir) || '.'}/ (manifest.json)\n`);
      if (runId !== undefined) process.stdout.write(`recorded as run ${runId} (kernelflow runs show ${runId})\n`);
    }
    if (manifest.status !== 'ok') return 1;
    return options.check && manifest.claims.some((c) => !c.pass) ? 1 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function showEvent(e: RunEvent, live: boolean): void {
  if (e.type === 'run-start') {
    process.stderr.write(`running ${e.graph}: ${e.nodes} nodes on ${e.backend} (${e.backendReason})\n`);
    for (const p of e.plugins) process.stderr.write(`loaded plugin ${p}\n`);
  } else if (e.type === 'warning') {
    process.stderr.write(`warning: ${e.node ? `${e.node}: ` : ''}${e.message}\n`);
  } else if (e.type === 'resumed') {
    process.stderr.write(`${live ? '\r\x1b[K' : ''}${e.node}: resumed from checkpoint at step ${e.step}\n`);
  } else if (e.type === 'progress' && live) {
    const pct = e.fraction !== undefined ? `${(e.fraction * 100).toFixed(0)}%` : e.step !== undefined ? `step ${e.step}${e.total ? `/${e.total}` : ''}` : '';
    const metrics = e.metrics ? Object.entries(e.metrics).map(([k, v]) => `${k}=${v.toPrecision(4)}`).join(' ') : '';
    process.stderr.write(`\r\x1b[K${e.node}: ${pct} ${metrics} ${e.message ?? ''}`);
  } else if (e.type === 'node-end' && live) {
    process.stderr.write(`\r\x1b[K`);
  }
}

/** One line per claim: PASS/FAIL, the node, and what was measured. */
export function formatClaims(claims: ClaimRecord[]): string {
  const passed = claims.filter((c) => c.pass).length;
  return [`claims: ${passed}/${claims.length} pass`, ...claims.map((c) => `  ${c.pass ? 'PASS' : 'FAIL'}  ${c.node}: ${c.message}`)].join('\n');
}

function timestamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}
