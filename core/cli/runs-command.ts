/**
 * `kernelflow runs list|show|diff`: the run registry from the command line. A missing registry is a
 * usage error naming the file (reading never creates one).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../document/resolve-params.js';
import { DEFAULT_TOLERANCE, diffRuns, type DiffReport } from '../registry/diff-runs.js';
import type { Comparison } from '../registry/compare-values.js';
import { openRegistry, type Registry } from '../registry/open-registry.js';
import { listRuns, loadRun, loadSweep, type RecordedRun } from '../registry/query-runs.js';
import { registryFileOf } from '../registry/registry-file.js';
import { formatMs, table } from './format.js';
import { formatClaims } from './run-command.js';

export function registerRunsCommand(program: Command): void {
  const runs = program.command('runs').description('the run registry: list, show and diff recorded runs')
    .option('--registry <file>', 'registry file (default .kernelflow/registry.sqlite or $KERNELFLOW_REGISTRY)');
  const registry = () => openExisting(registryFileOf(runs.opts().registry)!);

  runs.command('list').description('recent runs, newest first')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print them as JSON')
    .action(async (o) => {
      const db = await registry();
      try {
        const rows = listRuns(db, positiveInt(o.limit, '--limit'));
        if (o.json) return void process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        if (!rows.length) return void process.stdout.write('no runs recorded yet\n');
        process.stdout.write(table(['id', 'started', 'graph', 'backend', 'status', 'time', 'claims', 'sweep', 'folder'], rows.map((r) => [
          String(r.id), r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), r.graph, r.queued ? `${r.backend} on ${r.queued.worker ?? 'a queue worker'}` : r.backend, r.status, formatMs(r.durationMs),
          r.claims.total ? `${r.claims.passed}/${r.claims.total}` : '', r.sweep ? `${r.sweep.id}:${r.sweep.point}` : '', r.outDir ? relative(r.outDir) : '',
        ])) + '\n');
      } finally {
        db.close();
      }
    });

  runs.command('show').description('one run: graph, params, backend, status, times, outputs and claims')
    .argument('<id>', 'run id (from `runs list`)')
    .option('--json', 'print it as JSON')
    .action(async (id: string, o) => {
      const db = await registry();
      try {
        const run = mustLoad(db, id);
        if (o.json) return void process.stdout.write(JSON.stringify(run, null, 2) + '\n');
        process.stdout.write(formatRun(run, run.sweep ? loadSweep(db, run.sweep.id) : undefined));
      } finally {
        db.close();
      }
    });

  runs.command('diff').description('compare two runs node by node (aligned by lineage) and name the first divergence')
    .argument('<a>', 'run id').argument('<b>', 'run id')
    .option('--rtol <x>', 'relative tolerance (of the largest magnitude in the value)', String(DEFAULT_TOLERANCE.rtol))
    .option('--atol <x>', 'absolute tolerance', String(DEFAULT_TOLERANCE.atol))
    .option('--json', 'print the comparison as JSON')
    .action(async (idA: string, idB: string, o) => {
      const db = await registry();
      let report: DiffReport;
      try {
        report = await diffRuns(mustLoad(db, idA), mustLoad(db, idB), { rtol: nonNegative(o.rtol, '--rtol'), atol: nonNegative(o.atol, '--atol') });
      } finally {
        db.close();
      }
      process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : formatDiff(report));
      // Like `diff`: 1 when the runs differ, so scripts and CI can gate on agreement.
      process.exitCode = report.agree ? 0 : 1;
    });
}

async function openExisting(file: string): Promise<Registry> {
  if (!existsSync(file)) throw new UsageError(`no run registry at ${file} (runs are recorded there by \`kernelflow run\`; --registry or $KERNELFLOW_REGISTRY pick another)`);
  try {
    return await openRegistry(file);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function mustLoad(db: Registry, id: string): RecordedRun {
  const run = /^\d+$/.test(id) ? loadRun(db, Number(id)) : undefined;
  if (!run) throw new UsageError(`no run '${id}' in the registry (see \`kernelflow runs list\`)`);
  return run;
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got '${text}'`);
  return n;
}

function nonNegative(text: string, flag: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a non-negative number, got '${text}'`);
  return n;
}

function relative(dir: string): string {
  return path.relative(process.cwd(), dir) || '.';
}

function formatRun(run: RecordedRun, sweep: ReturnType<typeof loadSweep>): string {
  const m = run.manifest;
  const lines = [
    `run ${run.id}: ${run.graph} — ${run.status}`,
    `graph:    ${run.graphFile} (sha256 ${m.graph.sha256.slice(0, 12)})`,
    `backend:  ${m.backend.name} (${m.backend.reason})`,
    ...(run.queued ? [`worker:   ${run.queued.worker ?? '(unnamed)'} via ${run.queued.queue}`] : []),
    `started:  ${run.startedAt}, took ${formatMs(run.durationMs)}`,
    `params:   ${JSON.stringify(m.params)}`,
    `seed:     ${m.seed}`,
  ];
  const overrides = Object.keys(m.invocation.sets).length ? JSON.stringify(m.invocation.sets) : '';
  if (overrides || m.invocation.variant) lines.push(`overrides: ${[m.invocation.variant ? `--variant ${m.invocation.variant}` : '', overrides].filter(Boolean).join(' ')}`);
  if (run.outDir) lines.push(`folder:   ${relative(run.outDir)}`);
  if (sweep) lines.push(`sweep:    ${sweep.id} (point ${run.sweep!.point} ${JSON.stringify(run.coords ?? {})} of ${sweep.pointsTotal}, in ${relative(sweep.outDir)}${sweep.queue ? `, queued on ${sweep.queue}` : ''})`);
  lines.push('', table(['node', 'op', 'status', 'cache', 'time'], Object.entries(m.nodes).map(([id, n]) => [id, n.op, n.status, n.cache, formatMs(n.ms)])));
  const outputs = Object.entries(run.outputs);
  if (outputs.length) {
    lines.push('', table(['output', 'node', 'shape', 'dtype', 'sha256'], outputs.map(([name, o]) => [
      name, `${o.node}.${o.port}`, o.shape ? `[${o.shape.join(',')}]` : o.kind, o.dtype ?? '', o.sha256?.slice(0, 12) ?? '(not produced)',
    ])));
  }
  if (run.claimRecords.length) lines.push('', formatClaims(run.claimRecords));
  return lines.join('\n') + '\n';
}

function formatDiff(r: DiffReport): string {
  const name = (x: DiffReport['a']) => `run ${x.id} (${x.graph} on ${x.backend}, ${x.status})`;
  const lines = [`A: ${name(r.a)}`, `B: ${name(r.b)}`, `tolerance: max|a−b| ≤ atol + rtol·max|value| (rtol ${r.tolerance.rtol}, atol ${r.tolerance.atol})`, ''];
  lines.push(table(['output', 'shape A → B', 'dtype A → B', 'max abs', 'max rel', 'verdict'], r.outputs.map((o) => [
    o.name, change(o.a?.shape && `[${o.a.shape.join(',')}]`, o.b?.shape && `[${o.b.shape.join(',')}]`), change(o.a?.dtype, o.b?.dtype),
    num(o.comparison?.maxAbs), num(o.comparison?.maxRel), o.verdict + (o.note ? ` (${o.note})` : ''),
  ])));
  lines.push('', table(['node', 'in B', 'op', 'max abs', 'max rel', 'verdict', 'why'], r.nodes.map((n) => [
    n.node, n.nodeB === undefined ? '-' : n.nodeB === n.node ? '=' : n.nodeB, n.op, num(worst(n.ports, 'maxAbs')), num(worst(n.ports, 'maxRel')), n.verdict,
    [...n.changes, ...Object.entries(n.ports).flatMap(([p, c]) => c.notes.map((x) => `${p}: ${x}`)), n.note ?? ''].filter(Boolean).join('; '),
  ])));
  if (r.onlyInB.length) lines.push('', `only in B: ${r.onlyInB.join(', ')}`);
  lines.push('');
  if (r.firstDivergence) {
    const f = r.firstDivergence;
    lines.push(`first divergence: node '${f.node}' (${f.op}): ${f.reason}`);
    if (f.downstream.length) lines.push(`downstream of it: ${f.downstream.join(', ')}`);
  } else lines.push(r.agree ? 'the runs agree within tolerance' : 'the runs differ (see above)');
  return lines.join('\n') + '\n';
}

function change(a: string | undefined, b: string | undefined): string {
  return a === b ? (a ?? '') : `${a ?? '-'} → ${b ?? '-'}`;
}

function worst(ports: Record<string, Comparison>, field: 'maxAbs' | 'maxRel'): number | undefined {
  const values = Object.values(ports).map((c) => c[field]).filter((v): v is number => v !== null);
  return values.length ? Math.max(...values) : undefined;
}

function num(x: number | null | undefined): string {
  return x === null || x === undefined ? '' : x === 0 ? '0' : x.toExponential(2);
}
