/**
 * Stage 3: Dag → Plan. Shape inference, per-node seeds, cache keys and byte estimates — all
 * before any tensor exists. Throws GraphError with every shape problem at once.
 */
import { GraphError, pointer, type Diagnostic } from '../diagnostics.js';
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
}

export function planGraph(dag: Dag, options: PlanOptions): Plan {
  const resolvePath = makePathResolver(dag.graph.dir, options.dataDirs);
  const { metas, diagnostics } = inferShapes(dag, resolvePath);
  diagnostics.push(...checkBlockInputs(dag.graph, dag, metas));
  const nodes = new Map<string, PlanNode>();
  let knownBytes = 0;
  let unknownBytesNodes = 0;
  for (const id of dag.order) {
    const node = dag.nodes.get(id)!;
    const seed = nodeSeed(dag.graph.seed, id);
    const { parts, note } = keyParts(node, seed, options.backend, nodes, resolvePath, diagnostics, dag.graph.file);
    const outputs = metas.get(id)!;
    const bytes = outputBytes(outputs);
    if (bytes === undefined) unknownBytesNodes++;
    else knownBytes += bytes;
    const deferredNote = node.paramRefs.length
      ? `shapes and params checked at run time: ${node.paramRefs.map((r) => `${r.pointer.slice(1)} ← ${r.text}`).join(', ')}`
      : undefined;
    nodes.set(id, { ...node, seed, key: cacheKey(parts), keyParts: parts, outputs, bytes, keyNote: note, deferredNote });
  }
  if (diagnostics.length) throw new GraphError(diagnostics);
  return { dag, nodes, order: dag.order, backend: options.backend, resolvePath, knownBytes, unknownBytesNodes };
}

function keyParts(
  node: DagNode,
  seed: number,
  backend: string,
  planned: Map<string, PlanNode>,
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
