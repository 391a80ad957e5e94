/**
 * Stage 2: ResolvedGraph + operators → Dag. Checks that every op exists (with "did you mean"),
 * validates each node's params against its operator's schema (filling defaults), wires ports
 * (unknown, missing, dangling references), and rejects cycles, printing the cycle.
 */
import { DirectedGraph } from 'graphology';
import { topologicalSort } from 'graphology-dag';
import { distance } from 'fastest-levenshtein';
import { GraphError, pointer, type Diagnostic } from '../diagnostics.js';
import { schemaIssues } from '../document/ajv.js';
import type { ResolvedGraph } from '../document/graph-document.js';
import type { Operator } from '../operator/define-operator.js';
import type { Port } from '../operator/ports.js';
import type { OperatorRegistry } from '../operator/registry.js';
import type { JsonValue } from '../operator/values.js';
import { findCycle } from './find-cycle.js';
import { findParamRefs, type ParamRef } from './param-refs.js';
import { defaultOutputPort, parseReference, type Ref } from './reference.js';

export interface DagNode {
  id: string;
  op: Operator;
  /** Params after schema validation, defaults filled in. */
  params: Record<string, JsonValue>;
  /** Connected input ports; variadic ports hold arrays. */
  inputs: Record<string, Ref | Ref[]>;
  /** Params whose values come from upstream `json` outputs (`{"$from": "node.port"}`). */
  paramRefs: ParamRef[];
}

/** The nodes a node depends on: its inputs' producers and its `$from` params' producers. */
export function dependencies(node: DagNode): string[] {
  const ids = Object.values(node.inputs).flat().map((r) => r.node);
  for (const p of node.paramRefs) if (p.ref) ids.push(p.ref.node);
  return [...new Set(ids)];
}

export interface Dag {
  graph: ResolvedGraph;
  nodes: Map<string, DagNode>;
  /** Topological order: every node after all of its inputs. */
  order: string[];
  outputs: Record<string, Ref>;
  /** Edges from producer to consumer; nodes are ids. */
  edges: DirectedGraph;
}

export interface BuildOptions {
  /**
   * Treat unknown operators as opaque stand-ins (wiring checked, params and shapes not) — for
   * validating a graph without loading its plugins.
   */
  opaqueUnknownOps?: boolean;
}

export function buildDag(graph: ResolvedGraph, registry: OperatorRegistry, options: BuildOptions = {}): Dag {
  const file = graph.file;
  const diagnostics: Diagnostic[] = [];
  const nodes = new Map<string, DagNode>();
  const ids = Object.keys(graph.nodes);

  // Operators and params first: wiring needs every node's ports.
  for (const [id, node] of Object.entries(graph.nodes)) {
    const op = registry.get(node.op);
    if (!op && options.opaqueUnknownOps) {
      nodes.set(id, { id, op: opaqueOperator(graph, id), params: node.params, inputs: {}, paramRefs: findParamRefs(node.params) });
      continue;
    }
    if (!op) {
      const near = registry.suggest(node.op);
      diagnostics.push({
        code: 'unknown_op', file, pointer: pointer('nodes', id, 'op'), node: id, op: node.op,
        message: `unknown operator '${node.op}'${near.length ? ` — did you mean ${near.map((s) => `'${s}'`).join(', ')}?` : ' (kernelflow ops lists them)'}`,
      });
      continue;
    }
    const params = structuredClone(node.params);
    const paramRefs = findParamRefs(params);
    const validate = registry.paramsValidator(op);
    if (!validate(params)) {
      for (const issue of schemaIssues(validate.errors)) {
        const at = '/params' + issue.pointer;
        // A `$from` value is only known at run time, where it is validated.
        if (paramRefs.some((r) => at === r.pointer || at.startsWith(r.pointer + '/') || (issue.message.startsWith('missing required field') && r.pointer.startsWith(at + '/')))) continue;
        diagnostics.push({ code: 'params', file, pointer: pointer('nodes', id) + at, node: id, op: op.id, message: issue.message });
      }
    }
    nodes.set(id, { id, op, params, inputs: {}, paramRefs });
  }

  const resolveRef = (text: string, at: string, who: { node?: string; op?: string }): Ref | undefined => {
    const { node, port } = parseReference(text);
    const source = graph.nodes[node];
    if (!source && node in graph.inputs) {
      diagnostics.push({ code: 'block_input', file, pointer: at, ...who, message: `'${node}' is an input of this graph, which makes it a block: use it from another graph as {"op": "graph:<path to this file>"} and wire '${node}' there` });
      return undefined;
    }
    if (!source) {
      const near = closest(node, ids);
      diagnostics.push({ code: 'dangling_reference', file, pointer: at, ...who, message: `reference '${text}' names no node${near ? ` — did you mean '${near}'?` : ''}` });
      return undefined;
    }
    const sourceOp = nodes.get(node)?.op;
    if (!sourceOp) return undefined; // its unknown op is already reported
    if (port === undefined) {
      const chosen = defaultOutputPort(sourceOp);
      if (chosen) return { node, port: chosen };
      diagnostics.push({ code: 'ambiguous_reference', file, pointer: at, ...who, message: `reference '${text}' is ambiguous: ${sourceOp.id} has outputs ${Object.keys(sourceOp.outputs).join(', ')}; write '${node}.<port>'` });
      return undefined;
    }
    if (!(port in sourceOp.outputs)) {
      diagnostics.push({ code: 'unknown_port', file, pointer: at, ...who, message: `node '${node}' (${sourceOp.id}) has no output '${port}' (outputs: ${Object.keys(sourceOp.outputs).join(', ')})` });
      return undefined;
    }
    return { node, port };
  };

  for (const [id, dagNode] of nodes) {
    const op = dagNode.op;
    const who = { node: id, op: op.id };
    const wired = graph.nodes[id].inputs;
    for (const [portName, value] of Object.entries(wired)) {
      const at = pointer('nodes', id, 'inputs', portName);
      const port = op.inputs[portName];
      if (!port) {
        const near = closest(portName, Object.keys(op.inputs));
        diagnostics.push({ code: 'unknown_port', file, pointer: at, ...who, message: `${op.id} has no input '${portName}'${near ? ` — did you mean '${near}'?` : ''} (inputs: ${Object.keys(op.inputs).join(', ') || 'none'})` });
        continue;
      }
      const variadic = port.kind === 'tensor' && port.variadic === true;
      if (Array.isArray(value) !== variadic) {
        diagnostics.push({ code: 'port_arity', file, pointer: at, ...who, message: variadic ? `input '${portName}' takes an array of references` : `input '${portName}' takes one reference, not an array` });
        continue;
      }
      if (Array.isArray(value)) {
        const refs = value.map((text, i) => resolveRef(text, `${at}/${i}`, who));
        if (refs.every((r): r is Ref => r !== undefined)) dagNode.inputs[portName] = refs;
      } else {
        const ref = resolveRef(value, at, who);
        if (ref) dagNode.inputs[portName] = ref;
      }
    }
    for (const paramRef of dagNode.paramRefs) {
      const at = pointer('nodes', id) + paramRef.pointer + '/$from';
      const ref = resolveRef(paramRef.text, at, who);
      const kind = ref && nodes.get(ref.node)!.op.outputs[ref.port].kind;
      if (ref && kind !== 'json') {
        diagnostics.push({ code: 'param_ref', file, pointer: at, ...who, message: `$from '${paramRef.text}' is a ${kind} output; a param can only take a json output` });
      } else paramRef.ref = ref;
    }
    for (const [portName, port] of Object.entries(op.inputs)) {
      if (!port.optional && !(portName in wired)) {
        diagnostics.push({ code: 'missing_input', file, pointer: pointer('nodes', id, 'inputs'), ...who, message: `missing required input '${portName}'` });
      }
    }
  }

  const outputs: Record<string, Ref> = {};
  for (const [name, text] of Object.entries(graph.outputs)) {
    const ref = resolveRef(text, pointer('outputs', name), {});
    if (ref) outputs[name] = ref;
  }

  const edges = new DirectedGraph({ allowSelfLoops: true });
  for (const id of ids) edges.addNode(id);
  for (const [id, node] of nodes) for (const up of dependencies(node)) edges.mergeEdge(up, id);
  const cycle = findCycle(edges);
  if (cycle) {
    diagnostics.push({ code: 'cycle', file, pointer: pointer('nodes', cycle[0], 'inputs'), node: cycle[0], op: graph.nodes[cycle[0]].op, message: `cycle: ${cycle.join(' → ')}` });
  }
  if (diagnostics.length) throw new GraphError(diagnostics);
  return { graph, nodes, order: topologicalSort(edges), outputs, edges };
}

function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(name, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** A stand-in for a plugin operator that was not loaded: accepts its wiring, checks nothing else. */
function opaqueOperator(graph: ResolvedGraph, id: string): Operator {
  const node = graph.nodes[id];
  const inputs: Record<string, Port> = {};
  for (const [port, wired] of Object.entries(node.inputs)) inputs[port] = { kind: 'tensor', variadic: Array.isArray(wired) };
  const outputs: Record<string, Port> = { out: { kind: 'tensor', optional: true } };
  const refs = [
    ...Object.values(graph.nodes).flatMap((n) => Object.values(n.inputs).flat()),
    ...Object.values(graph.outputs),
  ];
  for (const text of refs) {
    const ref = parseReference(text);
    if (ref.node === id && ref.port) outputs[ref.port] = { kind: 'tensor', optional: true };
  }
  return {
    id: node.op, version: 0, summary: 'not loaded (--no-plugins)', params: { type: 'object' } as never,
    inputs, outputs, stochastic: false, run: () => {
      throw new Error(`operator ${node.op} was not loaded`);
    },
    __kernelflowOperator: true,
  };
}
