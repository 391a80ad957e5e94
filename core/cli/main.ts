/**
 * The `kernelflow` command line: a thin shell over the public API. Exit codes: 0 success, 1 a node
 * failed at run time, 2 an invalid graph or usage. `validate` and `plan` never load tfjs.
 */
import { Command, CommanderError, Option } from 'commander';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Cache, defaultCacheDir, parseByteSize } from '../cache/cache.js';
import { formatDiagnostic, GraphError } from '../diagnostics.js';
import { parseSet, UsageError } from '../document/resolve-params.js';
import { renderDag, type VizFormat } from '../graph/viz.js';
import type { JsonValue } from '../operator/values.js';
import { collapseBlocks, planReport, type PreviousRun } from '../plan/plan-report.js';
import { buildGraph, createRegistry, planBuilt, prepareGraph, type PrepareOptions } from '../prepare.js';
import { KERNELFLOW_VERSION } from '../version.js';
import { BACKEND_PREFERENCE } from '../run/backends.js';
import { graphRecordName } from '../run/graph-record.js';
import { describeOperator, listOperators, operatorJson } from './ops-text.js';
import { formatBytes, table } from './format.js';
import { runCommand, type RunCliOptions } from './run-command.js';
import { registerRunsCommand } from './runs-command.js';
import { registerWorkerCommand } from './worker-command.js';
import { registryFileOf } from '../registry/registry-file.js';

const BACKENDS = ['auto', ...BACKEND_PREFERENCE];

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function setsOf(values: string[]): Record<string, JsonValue> {
  const sets: Record<string, JsonValue> = {};
  for (const text of values) {
    const { name, value } = parseSet(text);
    sets[name] = value;
  }
  return sets;
}

function prepareOptions(o: { set: string[]; plugin: string[]; dataDir: string[]; plugins?: boolean; variant?: string }): PrepareOptions {
  return { sets: setsOf(o.set), plugins: o.plugin, dataDirs: o.dataDir, noPlugins: o.plugins === false, variant: o.variant };
}

function cacheDirOf(o: { cacheDir?: string }): string {
  return o.cacheDir ? path.resolve(o.cacheDir) : defaultCacheDir(process.cwd());
}

function graphCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .argument('<graph>', 'graph file (.json)')
    .option('--set <name=value>', 'override a graph param (value parsed as JSON, else a string); repeatable', collect, [])
    .option('--variant <name>', 'apply one of the graph\'s named param sets (e.g. ci) before any --set')
    .option('--plugin <module>', 'load an extra plugin module; repeatable', collect, [])
    .option('--data-dir <dir>', 'another folder data.load may read from; repeatable', collect, []);
}

export function buildProgram(): Command {
  const program = new Command('kernelflow')
    .description('Declarative ML experiments as JSON graphs')
    .version(KERNELFLOW_VERSION)
    .showSuggestionAfterError(true)
    .exitOverride();

  graphCommand(program, 'validate', 'check a graph: schema, params, operators, wiring, cycles and shapes')
    .option('--no-plugins', 'do not load the graph\'s plugins (their nodes are checked for wiring only)')
    .action(async (file: string, o) => {
      const prepared = await prepareGraph(file, prepareOptions(o));
      for (const p of prepared.plugins) process.stderr.write(`loaded plugin ${p.file} (${p.operators.join(', ')})\n`);
      process.stdout.write(`${file}: valid (${prepared.plan.order.length} nodes, ${Object.keys(prepared.dag.outputs).length} outputs)\n`);
    });

  graphCommand(program, 'plan', 'show schedule order, inferred shapes, cache status and estimated memory')
    .addOption(new Option('--backend <name>', 'backend whose cache entries to look up (auto: the one the last run used)').choices(BACKENDS).default('auto'))
    .option('--cache-dir <dir>', 'cache folder (default .kernelflow/cache or $KERNELFLOW_CACHE_DIR)')
    .option('--no-cache', 'do not look at the cache')
    .option('--json', 'print the plan as JSON')
    .option('--expand', 'show the nodes inside blocks (collapsed by default)')
    .action(async (file: string, o) => {
      const cache = o.cache === false ? undefined : new Cache({ memoryBytes: 0, dir: cacheDirOf(o) });
      // Cache keys include the backend; for 'auto' use what the last run of this graph used.
      // `$from` params whose upstream results are cached are checked with their values.
      const lookupJson = cache ? async (inputKey: string) => {
        const [key, port] = inputKey.split('#');
        const hit = await cache.get(key);
        const v = hit?.result[port];
        return v?.kind === 'json' ? v.json : undefined;
      } : undefined;
      const built = await buildGraph(file, prepareOptions(o));
      const previous = (await cache?.readRecord(graphRecordName(built.graph))) as unknown as (PreviousRun & { backend: string }) | undefined;
      const backend = o.backend === 'auto' ? (previous?.backend ?? 'wasm') : o.backend;
      const prepared = { ...built, plan: await planBuilt(built, { backend, dataDirs: o.dataDir, lookupJson }) };
      for (const p of prepared.plugins) process.stderr.write(`loaded plugin ${p.file} (${p.operators.join(', ')})\n`);
      const full = planReport(prepared.plan, cache?.disk ? (key) => existsSync(cache.disk!.entryPath(key)) : undefined, previous);
      const report = o.expand ? full : collapseBlocks(full, prepared.plan);
      if (o.json) {
        process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        return;
      }
      process.stdout.write(`plan for ${prepared.graph.name} (${file}) on backend ${report.backend}${o.backend === 'auto' ? (previous ? ' (auto: the backend of the last run)' : ' (auto: assumed; pass --backend)') : ''}\n\n`);
      process.stdout.write(
        table(
          ['#', 'node', 'op', 'outputs', 'bytes', 'cache', 'why it recomputes'],
          report.rows.map((r, i) => [
            String(i + 1), r.node, r.op,
            Object.entries(r.outputs).map(([p, s]) => `${p}: ${s}`).join(', '),
            r.bytes === undefined ? '?' : formatBytes(r.bytes),
            r.cached === 'off' ? 'off' : r.cached ? 'cached' : 'compute',
            r.note ?? r.reasons?.join('; ') ?? '',
          ]),
        ) + '\n',
      );
      process.stdout.write(`\nestimated peak tensor memory: ${formatBytes(report.peakBytes)}${report.unknownBytesNodes ? ` (+ ${report.unknownBytesNodes} node(s) of unknown size)` : ''}\n`);
    });

  graphCommand(program, 'run', 'run a graph and write its outputs and manifest')
    .option('--out <dir>', 'output folder (default runs/<name>-<timestamp>/)')
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(BACKENDS).default('auto'))
    .option('--no-cache', 'compute everything and store nothing')
    .option('--cache-dir <dir>', 'disk cache folder (default .kernelflow/cache or $KERNELFLOW_CACHE_DIR)')
    .option('--cache-memory <size>', 'memory cache budget, e.g. 512MB', '256MB')
    .option('--json', 'print the event stream as JSON lines')
    .option('--check', 'exit 1 when a claim in the graph fails')
    .option('--registry <file>', 'run registry to record the run in (default .kernelflow/registry.sqlite or $KERNELFLOW_REGISTRY)')
    .option('--no-registry', 'do not record the run')
    .option('--queue [url]', 'hand the work to queue workers (redis://…, default $KERNELFLOW_QUEUE); see docs/distributed.md')
    .option('--retries <n>', 'with --queue: attempts after a failed one', '2')
    .option('--backoff <ms>', 'with --queue: delay before the first retry, doubled each time', '1000')
    .action(async (file: string, o) => {
      if (o.queue !== undefined) {
        if (o.cache === false) throw new UsageError('--queue needs the shared cache: workers hand outputs back through it (drop --no-cache)');
        const [{ queueRun }, { submitOptionsOf }, { SharedDiskStore }] = await Promise.all([import('../queue/queue-run.js'), import('../queue/submit-options.js'), import('../queue/store.js')]);
        process.exitCode = await queueRun(file, submitOptionsOf(o), { sets: setsOf(o.set), variant: o.variant, backend: o.backend, dataDirs: o.dataDir, plugins: o.plugin, out: o.out, check: o.check === true, store: new SharedDiskStore(cacheDirOf(o)), registryFile: registryFileOf(o.registry) });
        return;
      }
      const options: RunCliOptions = {
        registryFile: registryFileOf(o.registry),
        check: o.check === true,
        ...prepareOptions(o),
        out: o.out,
        backend: o.backend,
        cache: o.cache === false ? false : { dir: cacheDirOf(o), memoryBytes: parseByteSize(o.cacheMemory) },
        json: o.json === true,
      };
      process.exitCode = await runCommand(file, options);
    });

  const sweep = graphCommand(program, 'sweep', 'run a graph over a grid of param values (and seeds), sharing one cache')
    .option('--grid <name=values>', 'an axis: name=v1,v2,… or name=a..b (seed=… sets the graph seed); repeatable', collect, [])
    .option('--collect <output>', 'an output to collect per point (default: all); repeatable', collect, [])
    .option('--jobs <n>', 'points run in parallel worker threads', '1')
    .option('--out <dir>', 'sweep folder (default runs/<name>-sweep-<timestamp>/); an existing one resumes')
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(BACKENDS).default('auto'))
    .option('--cache-dir <dir>', 'disk cache folder (default .kernelflow/cache or $KERNELFLOW_CACHE_DIR)')
    .option('--no-cache', 'no disk cache (points still share a memory cache)')
    .option('--check', 'exit 1 when a claim fails at any point')
    .option('--registry <file>', 'run registry to record the sweep in (default .kernelflow/registry.sqlite or $KERNELFLOW_REGISTRY)')
    .option('--no-registry', 'do not record the sweep')
    .option('--queue [url]', 'hand the work to queue workers (redis://…, default $KERNELFLOW_QUEUE); see docs/distributed.md')
    .option('--retries <n>', 'with --queue: attempts after a failed one', '2')
    .option('--backoff <ms>', 'with --queue: delay before the first retry, doubled each time', '1000')
    .action(async (file: string, o) => {
      const { runSweep } = await import('../sweep/run-sweep.js');
      (await import('@tensorflow/tfjs-core')).env().set('PROD', true); // no tfjs console banners
      const { parseGridArg, gridPoints } = await import('../sweep/grid.js');
      const { loadGraphFile } = await import('../document/load-graph.js');
      const graph = loadGraphFile(file, { sets: setsOf(o.set), variant: o.variant });
      const grid: Record<string, JsonValue[]> = { ...(graph.sweep?.grid ?? {}) };
      for (const text of o.grid as string[]) {
        const { name, values } = parseGridArg(text);
        grid[name] = values;
      }
      if (!Object.keys(grid).length) throw new UsageError('nothing to sweep: give --grid name=values (or a "sweep" block in the graph)');
      const jobs = Number(o.jobs);
      if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs must be a positive integer, got '${o.jobs}'`);
      const out = path.resolve(o.out ?? path.join('runs', `${graph.name}-sweep-${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`));
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      const registryFile = registryFileOf(o.registry);
      const { SweepRecorder } = await import('../registry/record-sweep.js');
      const cacheDir = o.cache === false ? null : cacheDirOf(o);
      let executor;
      let queue: string | undefined;
      if (o.queue !== undefined) {
        if (jobs !== 1 || o.cache === false) throw new UsageError('--queue runs points on the workers, with their shared cache: drop --jobs and --no-cache');
        const [{ queueExecutor }, { submitOptionsOf }, { progressPrinter }] = await Promise.all([import('../queue/queue-sweep.js'), import('../queue/submit-options.js'), import('../queue/progress.js')]);
        const q = submitOptionsOf(o);
        queue = q.address.display;
        executor = queueExecutor(q, { onProgress: progressPrinter(process.stderr), onSubmit: (id, n) => process.stderr.write(`sweep ${id}: ${n} job(s) on ${q.address.display} (cancel: kernelflow sweep cancel ${id})\n`) });
      }
      // Queued points are recorded here as they come back, like local ones (record-sweep.ts).
      const recorder = registryFile
        ? await SweepRecorder.start(registryFile, { graphName: graph.name, graphFile: file, grid, outDir: out, backend: o.backend, pointsTotal: gridPoints(grid).length, cacheDir, queue }, (line) => process.stderr.write(line + '\n'))
        : undefined;
      const result = await runSweep(file, {
        recorder, executor,
        grid, out, jobs, sets: setsOf(o.set), variant: o.variant, collect: o.collect.length ? o.collect : graph.sweep?.collect,
        backend: o.backend, cacheDir, dataDirs: o.dataDir, plugins: o.plugin, signal: controller.signal,
        onPoint: (p, done, total) => {
          const coords = Object.entries(p.coords).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
          const claims = p.claims.length ? ` claims ${p.claims.filter((c) => c.pass).length}/${p.claims.length}` : '';
          process.stderr.write(`[${done}/${total}] ${coords}: ${p.resumed ? 'resumed' : `${p.status} in ${(p.ms / 1000).toFixed(2)} s (${p.computed} computed, ${p.cached} cached)`}${claims}${p.errors.length ? ` — ${p.errors[0]}` : ''}\n`);
        },
      });
      const failedPoints = result.points.filter((p) => p.status !== 'ok').length;
      const claims = result.points.flatMap((p) => p.claims);
      process.stdout.write(`${result.points.length} points (${failedPoints} failed) written to ${path.relative(process.cwd(), out)}/ (sweep.csv, sweep.json${grid.seed ? ', sweep.summary.csv' : ''})\n`);
      if (claims.length) process.stdout.write(`claims: ${claims.filter((c) => c.pass).length}/${claims.length} pass over all points\n`);
      if (recorder?.id !== undefined) process.stdout.write(`recorded as sweep ${recorder.id} (kernelflow runs list)\n`);
      process.exitCode = failedPoints || controller.signal.aborted || (o.check && claims.some((c) => !c.pass)) ? 1 : 0;
    });

  sweep.command('cancel').description('cancel a sweep (or run) submitted with --queue: queued points are removed, running ones stopped')
    .argument('<id>', 'the id printed when it was submitted')
    .option('--queue <url>', 'redis://… (default $KERNELFLOW_QUEUE)')
    .action(async (id: string, o) => {
      const [{ cancelSweep }, { queueAddress }] = await Promise.all([import('../queue/cancel.js'), import('../queue/address.js')]);
      // commander hands --queue to the parent `sweep` when both declare it: take either.
      const r = await cancelSweep(queueAddress(o.queue ?? sweep.opts().queue), id);
      process.stdout.write(`sweep ${id}: ${r.removed} queued job(s) removed, ${r.signalled} running job(s) stopped, ${r.jobs - r.removed - r.signalled} already finished\n`);
    });

  const ops = program.command('ops').description('list operators (built-in and from --plugin modules)')
    .option('--plugin <module>', 'load a plugin module too; repeatable', collect, [])
    .option('--json', 'print the definitions as JSON')
    .action(async (o) => {
      const registry = await registryWith(o.plugin);
      process.stdout.write(o.json ? JSON.stringify(registry.list().map(operatorJson), null, 2) + '\n' : listOperators(registry.list()));
    });
  ops.command('describe').argument('<id>', 'operator id').description('ports, params with defaults, and docs of one operator')
    .option('--plugin <module>', 'load a plugin module too; repeatable', collect, [])
    .action(async (id: string, o) => {
      // commander hands --plugin to the parent `ops` when both declare it: take both.
      const registry = await registryWith([...ops.opts().plugin, ...o.plugin]);
      const op = registry.get(id);
      if (!op) {
        const near = registry.suggest(id);
        throw new UsageError(`unknown operator '${id}'${near.length ? ` — did you mean ${near.join(', ')}?` : ''}`);
      }
      process.stdout.write(describeOperator(op));
    });

  graphCommand(program, 'viz', 'draw the graph')
    .addOption(new Option('--format <format>', 'diagram language').choices(['mermaid', 'dot']).default('mermaid'))
    .option('--expand', 'draw the nodes inside blocks (collapsed by default)')
    .action(async (file: string, o) => {
      const prepared = await prepareGraph(file, prepareOptions(o));
      process.stdout.write(renderDag(prepared.dag, o.format as VizFormat, { expand: o.expand === true }));
    });

  program.command('report').description('write report.html and SVG figures for a run or sweep folder')
    .argument('<dir>', 'a run folder (manifest.json) or a sweep folder (sweep.json)')
    .action(async (dir: string) => {
      const { writeReport } = await import('../report/write-report.js');
      const { html, figures, skipped } = await writeReport(dir);
      for (const s of skipped) process.stderr.write(`figure ${s.name} not drawn: ${s.reason}\n`);
      process.stdout.write(`wrote ${path.relative(process.cwd(), html)} with ${figures.length} figure(s)\n`);
    });

  program.command('reproduce').description('run a graph again as its manifest records and compare every output bit for bit')
    .argument('<manifest>', 'manifest.json of an earlier run')
    .addOption(new Option('--backend <name>', 'backend to use (default: the recorded one)').choices(BACKENDS))
    .option('--out <dir>', 'where to write the new run (default: a temporary folder)')
    .action(async (file: string, o) => {
      const { reproduce } = await import('./reproduce.js');
      (await import('@tensorflow/tfjs-core')).env().set('PROD', true);
      const report = await reproduce(file, { backend: o.backend === 'auto' ? undefined : o.backend, out: o.out });
      if (report.graphChanged) process.stdout.write('note: the graph resolves differently now than when it ran (file or operators changed)\n');
      for (const r of report.outputs) process.stdout.write(`${r.same ? 'same' : 'DIFFERENT'}  ${r.name}  ${r.recorded?.slice(0, 12) ?? '-'} → ${r.now?.slice(0, 12) ?? '-'}\n`);
      const bad = report.outputs.filter((r) => !r.same).length;
      process.stdout.write(bad ? `${bad} of ${report.outputs.length} outputs differ (new run in ${report.outDir})\n` : `all ${report.outputs.length} outputs reproduced bit for bit\n`);
      process.exitCode = bad || report.graphChanged ? 1 : 0;
    });

  program.command('new-operator').description('write a working operator file and its test, ready for a graph\'s plugins')
    .argument('<id>', 'operator id, family.name')
    .option('--dir <dir>', 'folder to write into', 'plugins')
    .action(async (id: string, o) => {
      const { scaffoldOperator } = await import('./scaffold.js');
      const files = scaffoldOperator(id, o.dir);
      process.stdout.write(`wrote ${files.operator}\nwrote ${files.test}\nuse it: "plugins": ["${path.relative(process.cwd(), files.operator)}"] in a graph, then "op": "${id}"\n`);
    });

  program.command('docs').description('generate docs/operators.md, docs/operators.json and the params schemas from the operator definitions')
    .option('--root <dir>', 'repository root to write into', '.')
    .option('--check', 'write nothing; fail (exit 1) when the committed files are stale')
    .option('--plugin <module>', 'document a plugin module too; repeatable', collect, [])
    .action(async (o) => {
      const { generatedArtifacts, staleArtifacts, writeArtifacts } = await import('../docs/artifacts.js');
      const files = generatedArtifacts((await registryWith(o.plugin)).list());
      if (o.check) {
        const stale = staleArtifacts(o.root, files);
        if (stale.length) {
          process.stderr.write(`stale generated files (run \`kernelflow docs\`):\n${stale.map((f) => `  ${f}`).join('\n')}\n`);
          process.exitCode = 1;
        } else process.stdout.write(`${files.size} generated files are up to date\n`);
        return;
      }
      const written = writeArtifacts(o.root, files);
      process.stdout.write(`${written.length} of ${files.size} generated files changed${written.length ? `:\n${written.map((f) => `  ${f}`).join('\n')}` : ''}\n`);
    });

  const cacheCmd = program.command('cache').description('inspect and manage the disk cache')
    .option('--cache-dir <dir>', 'cache folder (default .kernelflow/cache or $KERNELFLOW_CACHE_DIR)');
  cacheCmd.command('stats').description('entries and bytes on disk').action(async () => {
    const cache = new Cache({ memoryBytes: 0, dir: cacheDirOf(cacheCmd.opts()) });
    const s = await cache.stats();
    process.stdout.write(`${cacheDirOf(cacheCmd.opts())}: ${s.disk!.entries} entries, ${formatBytes(s.disk!.bytes)}\n`);
  });
  cacheCmd.command('clear').description('remove every entry').action(async () => {
    const cache = new Cache({ memoryBytes: 0, dir: cacheDirOf(cacheCmd.opts()) });
    const s = await cache.stats();
    await cache.clear();
    process.stdout.write(`removed ${s.disk!.entries} entries (${formatBytes(s.disk!.bytes)})\n`);
  });
  cacheCmd.command('prune').description('remove least recently used entries until the cache fits')
    .requiredOption('--max-size <size>', 'size to shrink to, e.g. 1GB')
    .action(async (o) => {
      const cache = new Cache({ memoryBytes: 0, dir: cacheDirOf(cacheCmd.opts()) });
      const removed = await cache.prune(parseByteSize(o.maxSize));
      process.stdout.write(`removed ${removed.keys.length} entries (${formatBytes(removed.bytes)})\n`);
    });

  program.command('doctor').description('which backends are installed and usable here')
    .addOption(new Option('--backend <name>', 'fail (exit 2) unless this backend is usable').choices(BACKENDS).default('auto'))
    .action(async (o) => {
      const { doctorReport, formatDoctor, checkRequested } = await import('../run/doctor.js');
      const report = await doctorReport();
      process.stdout.write(formatDoctor(report, o.backend) + '\n');
      const check = checkRequested(report, o.backend);
      if (!check.ok) throw new UsageError(check.message);
    });

  registerRunsCommand(program);
  registerWorkerCommand(program);

  return program;
}

async function registryWith(plugins: string[]) {
  const registry = await createRegistry();
  const { loadPlugin } = await import('../operator/plugins.js');
  for (const spec of plugins) await loadPlugin(spec, process.cwd(), registry);
  return registry;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  process.exitCode = 0;
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof GraphError) {
      for (const d of err.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      process.stderr.write(`${err.diagnostics.length} problem(s) found\n`);
      return 2;
    }
    const e = err as Error;
    if (e?.name === 'UsageError' || e?.name === 'BackendError' || e?.name === 'PluginError' || e?.name === 'OperatorDefinitionError') {
      process.stderr.write(`kernelflow: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`kernelflow: internal error: ${e?.stack ?? String(err)}\n`);
    return 1;
  }
}
