/**
 * kernelflow's public API. Everything else is internal.
 */
export * from './operator/index.js';
export { loadGraphFile as loadGraph, resolveGraph } from './document/load-graph.js';
export type { GraphDocument, ResolvedGraph } from './document/graph-document.js';
export { parseSet, UsageError } from './document/resolve-params.js';
export { GraphError, formatDiagnostic, type Diagnostic } from './diagnostics.js';
export { prepareGraph, createRegistry, type Prepared, type PrepareOptions } from './prepare.js';
export { OperatorRegistry, OperatorDefinitionError } from './operator/registry.js';
export { loadPlugin, PluginError } from './operator/plugins.js';
export { runGraph, type RunOptions, type RunResult, type RunHandle } from './run/run-graph.js';
export type { RunEvent, NodeStatus, CacheStatus } from './run/events.js';
export type { Manifest } from './io/manifest.js';
export { writeRun } from './io/write-run.js';
export { activateBackend, BackendError, type BackendName } from './run/backends.js';
export { Cache } from './cache/cache.js';
export { checkOperator, exampleGraph, formatReport, type ConformanceReport, type ConformanceOptions } from './conformance/check-operator.js';

import { prepareGraph, type PrepareOptions } from './prepare.js';
import { GraphError, type Diagnostic } from './diagnostics.js';

/** Validates a graph (file path or document): [] when it is valid, else every problem found. */
export async function validateGraph(source: string | object, options: PrepareOptions = {}): Promise<Diagnostic[]> {
  try {
    await prepareGraph(source, options);
    return [];
  } catch (err) {
    if (err instanceof GraphError) return err.diagnostics;
    throw err;
  }
}
