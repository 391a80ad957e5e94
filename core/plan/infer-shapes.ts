/**
 * Stage 3a: static shape and dtype inference over the DAG, before any compute. Each node's
 * operator `shape` function sees its inputs' metas; a proven mismatch is a diagnostic at that node.
 * Unknown ranks propagate as unknown (checked again at run time) rather than guessed.
 */
import { pointer, type Diagnostic } from '../diagnostics.js';
import type { Dag, DagNode } from '../graph/build-dag.js';
import type { Ref } from '../graph/reference.js';
import { ParamError, ShapeError } from '../operator/errors.js';
import { portDTypes, type DType, type Port, type Shape, type TensorPort } from '../operator/ports.js';
import type { JsonValue, Meta, TensorMeta } from '../operator/values.js';
import { formatShape } from '../operator/values.js';
import type { PathResolver } from './sandbox.js';

export type OutputMetas = Record<string, Meta>;

export function inferShapes(
  dag: Dag,
  resolvePath: PathResolver,
  knownParams: (node: DagNode) => Record<string, JsonValue> | undefined = () => undefined,
): { metas: Map<string, OutputMetas>; diagnostics: Diagnostic[] } {
  const metas = new Map<string, OutputMetas>();
  const diagnostics: Diagnostic[] = [];
  const file = dag.graph.file;
  for (const id of dag.order) {
    const node = dag.nodes.get(id)!;
    const report = (code: string, at: string, message: string) =>
      diagnostics.push({ code, file, pointer: pointer('nodes', id) + at, node: id, op: node.op.id, message });
    const inputs = inputMetas(node, metas);
    let checkable = true;
    for (const [portName, meta] of Object.entries(inputs)) {
      const port = node.op.inputs[portName];
      for (const [i, m] of (Array.isArray(meta) ? meta : [meta]).entries()) {
        const at = `/inputs/${portName}${Array.isArray(meta) ? `/${i}` : ''}`;
        const problem = portMismatch(port, m);
        if (problem) {
          report('shape', at, `input '${portName}': ${problem}`);
          checkable = false;
        }
        if (m?.kind === 'tensor' && m.shape === undefined) checkable = false;
      }
    }
    let inferred: Record<string, unknown> = {};
    // Params that come from upstream results: checked now when their values are cached, else at run time.
    const params = node.paramRefs.length ? knownParams(node) : node.params;
    if (!params) checkable = false;
    if (checkable && node.op.shape) {
      try {
        inferred = node.op.shape(inputs, params, { node: id, op: node.op.id, resolvePath }) ?? {};
      } catch (err) {
        if (err instanceof ShapeError) report('shape', err.pointer, err.message);
        else if (err instanceof ParamError) report('params', err.pointer, err.message);
        else report('shape', '', `shape inference failed: ${(err as Error).message}`);
      }
    }
    metas.set(id, outputMetas(node, inferred));
  }
  return { metas, diagnostics };
}

function inputMetas(node: DagNode, metas: Map<string, OutputMetas>): Record<string, Meta | Meta[] | undefined> {
  const out: Record<string, Meta | Meta[] | undefined> = {};
  for (const portName of Object.keys(node.op.inputs)) {
    const wired = node.inputs[portName];
    const lookup = (ref: Ref) => metas.get(ref.node)?.[ref.port] ?? unknownMeta(node.op.inputs[portName]);
    out[portName] = wired === undefined ? undefined : Array.isArray(wired) ? wired.map(lookup) : lookup(wired);
  }
  return out;
}

/** Why a value of this meta cannot enter this port, or undefined when it may. */
function portMismatch(port: Port, meta: Meta | undefined): string | undefined {
  if (!meta) return undefined;
  if (meta.kind !== port.kind) return `expects a ${port.kind}, got a ${meta.kind}`;
  if (port.kind !== 'tensor' || meta.kind !== 'tensor') return undefined;
  const dtypes = portDTypes(port);
  if (!dtypes.includes(meta.dtype)) return `expects dtype ${dtypes.join(' or ')}, got ${meta.dtype}`;
  if (port.rank !== undefined && meta.shape !== undefined) {
    const ranks = Array.isArray(port.rank) ? port.rank : [port.rank];
    if (!ranks.includes(meta.shape.length)) return `expects rank ${ranks.join(' or ')}, got shape ${formatShape(meta.shape)}`;
  }
  return undefined;
}

/** Output metas from what a shape function returned (shapes or metas; unknown where omitted). */
export function outputMetas(node: DagNode, inferred: Record<string, unknown>): OutputMetas {
  const out: OutputMetas = {};
  for (const [portName, port] of Object.entries(node.op.outputs)) {
    const value = inferred[portName];
    if (port.kind === 'tensor') {
      const dtype = declaredDType(port);
      if (Array.isArray(value)) out[portName] = { kind: 'tensor', dtype, shape: value as Shape };
      else if (value && typeof value === 'object') out[portName] = value as TensorMeta;
      else out[portName] = { kind: 'tensor', dtype };
    } else {
      out[portName] = (value as Meta | undefined) ?? unknownMeta(port);
    }
  }
  return out;
}

function unknownMeta(port: Port): Meta {
  if (port.kind === 'tensor') return { kind: 'tensor', dtype: declaredDType(port) };
  return { kind: port.kind } as Meta;
}

/** The dtype an output port produces (the first listed; float32 when none is declared). */
function declaredDType(port: TensorPort): DType {
  return Array.isArray(port.dtype) ? port.dtype[0] : port.dtype ?? 'float32';
}
