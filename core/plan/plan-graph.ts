/**
 * Stage 3: Dag → Plan. Shape inference, per-node seeds, cache keys and byte estimates — all
 * before any tensor exists. Throws GraphError with every shape problem at once.
 */
import { GraphError, pointer, type Diagnostic } from '../diagnostics.js';
import { substituteParamRefs } from '../graph/param-refs.js';
import type { JsonValue } from '../operator/values.js';
import type { Dag, DagNode } from '../graph/build-dag.js';
import { ParamError } from '../operator/errors.js';
import { bytesPerElement, sizeOf, type Meta } from '../operator/values.js';
import { cacheKey, inputKey, paramHashes, type KeyParts } from './cache-keys.js';
import { checkBlockInputs } from './check-block-inputs.js';
import { inferShapes, type OutputMetas } from './infer-shapes.js';
import { makePathResolver, type PathResolver } from './sandbox.js';
import { nodeSeed } from './seeds.js';

export interface PlanNode extends DagNode {
  seed: number;
  key: string;
  keyParts: KeyParts;
  outputs: OutputMetas;
  /** Bytes of this node's tensor outputs when every shape is known. */
  bytes?: number;
  /** Set when the key could not include everything (e.g. a data file was unreadable). */
  keyNote?: string;
  /** Set when static checks wait for run time (params from upstream results). */
  deferredNote?: string;
}

export interface Plan {
  dag: Dag;
  nodes: Map<string, PlanNode>;
  order: string[];
  backend: string;
  resolvePath: PathResolver;
  /** Sum of known output bytes over all nodes (an upper bound on peak without disposal). */
  knownBytes: number;
  unknownBytesNodes: number;
}

export interface PlanOptions {
  backend: string;
  dataDirs?: string[];
  /** Values of upstream json outputs already known (e.g. cached), by `inputKey(key, port)`. */
  knownValues?: Map<string, JsonValue>;
}

export function planGraph(dag: Dag, options: PlanOptions): Plan {
  const resolvePath = makePathResolver(dag.graph.dir, options.dataDirs);
  const diagnostics: Diagnostic[] = [];
  // Keys first: they depend on params and upstream keys only, and shape inference may need them to
  // find the cached values of `$from` params.
  const keys = new Map<string, { seed: number; parts: KeyParts; key: string; note?: string }>();
  for (const id of dag.order) {
    const node = dag.nodes.get(id)!;
    const seed = nodeSeed(dag.graph.seed, id);
    const { parts, note } = keyParts(node, seed, options.backend, keys, resolvePath, diagnostics, dag.graph.file);
    keys.set(id, { seed, parts, key: cacheKey(parts), note });
  }
  const known = (node: DagNode) => resolveKnownParamRefs(node, keys, options.knownValues);
  const inferred = inferShapes(dag, resolvePath, known);
  diagnostics.push(...inferred.diagnostics, ...checkBlockInputs(dag.graph, dag, inferred.metas));
  const nodes = new Map<string, PlanNode>();
  let knownBytes = 0;
  let unknownBytesNodes = 0;
  for (const id of dag.order) {
    const node = dag.nodes.get(id)!;
    const { seed, parts, key, note } = keys.get(id)!;
    const outputs = inferred.metas.get(id)!;
    const bytes = outputBytes(outputs);
    if (bytes === undefined) unknownBytesNodes++;
    else knownBytes += bytes;
    const refs = node.paramRefs.map((r) => `${r.pointer.slice(1)} ← ${r.text}`).join(', ');
    const deferredNote = !node.paramRefs.length ? undefined : known(node)
      ? `shapes checked with the cached values of ${refs}`
      : `shapes and params checked at run time: ${refs}`;
    nodes.set(id, { ...node, seed, key, keyParts: parts, outputs, bytes, keyNote: note, deferredNote });
  }
  if (diagnostics.length) throw new GraphError(diagnostics);
  return { dag, nodes, order: dag.order, backend: options.backend, resolvePath, knownBytes, unknownBytesNodes };
}

/** The node's params with its `$from` values filled in, when every one is known (cached upstream). */
function resolveKnownParamRefs(node: DagNode, keys: Map<string, { key: string }>, knownValues: Map<string, JsonValue> | undefined): Record<string, JsonValue> | undefined {
  if (!node.paramRefs.length || !knownValues) return undefined;
  const values: Array<{ path: Array<string | number>; value: JsonValue }> = [];
  for (const r of node.paramRefs) {
    const value = r.ref ? knownValues.get(inputKey(keys.get(r.ref.node)!.key, r.ref.port)) : undefined;
    if (value === undefined) return undefined;
    values.push({ path: r.path, value });
  }
  return substituteParamRefs(node.params, values);
}

/** The `inputKey`s of every `$from` value in the plan: what a caller may look up in a cache. */
export function paramRefKeys(plan: Plan): string[] {
  return [...plan.nodes.values()].flatMap((n) => n.paramRefs.filter((r) => r.ref).map((r) => inputKey(plan.nodes.get(r.ref!.node)!.key, r.ref!.port)));
}

function keyParts(
  node: DagNode,
  seed: number,
  backend: string,
  planned: Map<string, { key: string }>,
  resolvePath: PathResolver,
  diagnostics: Diagnostic[],
  file: string,
): { parts: KeyParts; note?: string } {
  const inputs: KeyParts['inputs'] = {};
  for (const [port, wired] of Object.entries(node.inputs)) {
    const keyOf = (ref: { node: string; port: string }) => inputKey(planned.get(ref.node)!.key, ref.port);
    inputs[port] = Array.isArray(wired) ? wired.map(keyOf) : keyOf(wired);
  }
  // Until run time resolves them, `$from` params stand for the upstream result they name.
  for (const p of node.paramRefs) if (p.ref) inputs[`$from:${p.pointer}`] = inputKey(planned.get(p.ref.node)!.key, p.ref.port);
  const parts: KeyParts = { op: node.op.id, version: node.op.version, params: paramHashes(node.params), dtype: 'float32', backend, inputs };
  if (node.op.stochastic) parts.seed = seed;
  let note: string | undefined;
  if (node.op.fingerprint) {
    try {
      parts.fingerprint = node.op.fingerprint(node.params, { node: node.id, op: node.op.id, resolvePath });
    } catch (err) {
      if (err instanceof ParamError) {
        diagnostics.push({ code: 'params', file, pointer: pointer('nodes', node.id) + err.pointer, node: node.id, op: node.op.id, message: err.message });
      }
      // Unreadable now (e.g. a missing file): the run reports it; never cache under a partial key.
      note = `not cacheable: ${(err as Error).message}`;
      parts.fingerprint = `unavailable:${Date.now()}:${Math.random()}`;
    }
  }
  return { parts, note };
}

function outputBytes(outputs: OutputMetas): number | undefined {
  let total = 0;
  for (const meta of Object.values(outputs) as Meta[]) {
    if (meta.kind !== 'tensor') continue;
    const n = sizeOf(meta.shape);
    if (n === undefined) return undefined;
    total += n * bytesPerElement(meta.dtype);
  }
  return total;
}
