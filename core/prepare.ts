/**
 * Stages 1–3 as one call used by validate, plan and run: load the document, register built-in and
 * plugin operators, build the DAG, and plan it. Loads no tfjs.
 */
import path from 'node:path';
import { GraphError, pointer, type Diagnostic } from './diagnostics.js';
import type { ResolvedGraph } from './document/graph-document.js';
import { attributeToBlocks } from './document/block-diagnostics.js';
import { loadGraphFile, resolveGraph } from './document/load-graph.js';
import { buildDag, type Dag } from './graph/build-dag.js';
import type { JsonValue } from './operator/values.js';
import { collectOperators, loadPlugin, PluginError, type LoadedPlugin } from './operator/plugins.js';
import { OperatorDefinitionError, OperatorRegistry } from './operator/registry.js';
import { paramRefKeys, planGraph, type Plan } from './plan/plan-graph.js';
import { checkFigureRefs, checkFigureShapes } from './report/check-figures.js';

export interface PrepareOptions {
  sets?: Record<string, JsonValue>;
  /** Overrides the graph's seed. */
  seed?: number;
  /** A named set of param overrides from the graph's `variants`. */
  variant?: string;
  /** Extra plugin modules (CLI `--plugin`), resolved against the working directory. */
  plugins?: string[];
  /** Do not load the graph's plugins (validate --no-plugins): their nodes are checked only for wiring. */
  noPlugins?: boolean;
  /** Backend name that enters cache keys. */
  backend?: string;
  dataDirs?: string[];
  /** A registry to add to (tests, API users with their own operators). */
  registry?: OperatorRegistry;
  /**
   * Looks up an upstream json value by `inputKey` (e.g. in the cache), so that nodes with `$from`
   * params are shape-checked at plan time when their inputs are already computed.
   */
  lookupJson?: (inputKey: string) => Promise<JsonValue | undefined>;
}

export interface Prepared {
  graph: ResolvedGraph;
  registry: OperatorRegistry;
  plugins: LoadedPlugin[];
  dag: Dag;
  plan: Plan;
}

/** A graph file path, or a graph document object. Throws GraphError listing every problem. */
export async function prepareGraph(source: string | object, options: PrepareOptions = {}): Promise<Prepared> {
  const built = await buildGraph(source, options);
  return { ...built, plan: await planBuilt(built, options) };
}

/** Stages 1–2: load, register plugins, build the DAG (no plan yet). Throws GraphError. */
export async function buildGraph(source: string | object, options: PrepareOptions = {}): Promise<Omit<Prepared, 'plan'>> {
  const load = { sets: options.sets, seed: options.seed, variant: options.variant };
  const graph = typeof source === 'string' ? loadGraphFile(source, load) : resolveGraph(source, load);
  const registry = options.registry ?? (await createRegistry());
  const diagnostics: Diagnostic[] = [];
  const plugins: LoadedPlugin[] = [];
  const pluginSpecs = [
    ...(options.noPlugins ? [] : graph.plugins.map((spec, i) => ({ spec, base: graph.dir, at: pointer('plugins', i), file: graph.file }))),
    ...(options.plugins ?? []).map((spec) => ({ spec, base: process.cwd(), at: '', file: '--plugin' })),
  ];
  for (const { spec, base, at, file } of pluginSpecs) {
    try {
      plugins.push(await loadPlugin(spec, base, registry));
    } catch (err) {
      if (err instanceof PluginError || err instanceof OperatorDefinitionError) {
        diagnostics.push({ code: 'plugin', file, pointer: at, message: err.message });
      } else throw err;
    }
  }
  if (diagnostics.length) throw new GraphError(diagnostics);
  const dag = withBlockAttribution(graph, () => buildDag(graph, registry, { opaqueUnknownOps: options.noPlugins === true && graph.plugins.length > 0 }));
  const figureIssues = checkFigureRefs(dag, (op) => registry.get(op.id) === op);
  if (figureIssues.length) throw new GraphError(figureIssues);
  return { graph, registry, plugins, dag };
}

/**
 * Stage 3 for a built graph: shapes, keys and bytes for one backend (keys depend on it). With
 * `lookupJson`, `$from` params whose upstream values are cached are checked with those values.
 */
export async function planBuilt(built: Omit<Prepared, 'plan'>, options: Pick<PrepareOptions, 'backend' | 'dataDirs' | 'lookupJson'> = {}): Promise<Plan> {
  const planOptions = { backend: options.backend ?? 'wasm', dataDirs: options.dataDirs };
  const plan = withBlockAttribution(built.graph, () => planGraph(built.dag, planOptions));
  const wanted = options.lookupJson ? paramRefKeys(plan) : [];
  const knownValues = new Map<string, JsonValue>();
  for (const k of wanted) {
    const v = await options.lookupJson!(k);
    if (v !== undefined) knownValues.set(k, v);
  }
  const final = knownValues.size ? withBlockAttribution(built.graph, () => planGraph(built.dag, { ...planOptions, knownValues })) : plan;
  const figureIssues = checkFigureShapes(final);
  if (figureIssues.length) throw new GraphError(figureIssues);
  return final;
}

/** Rewrites diagnostics about inlined block nodes to point into their block files. */
function withBlockAttribution<T>(graph: ResolvedGraph, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof GraphError && graph.blocks.length) throw new GraphError(attributeToBlocks(err.diagnostics, graph));
    throw err;
  }
}

/** A registry holding the built-in operators, registered the same way as a plugin's. */
export async function createRegistry(): Promise<OperatorRegistry> {
  const registry = new OperatorRegistry();
  const builtins = (await import('../operators/index.js')) as Record<string, unknown>;
  for (const op of collectOperators(builtins)) registry.register(op, 'kernelflow (built-in)');
  return registry;
}

export function relativeToCwd(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}
