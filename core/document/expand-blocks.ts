/**
 * Subgraphs: a node `{"op": "graph:./blocks/x.json", "inputs": {...}, "params": {...}}` uses
 * another graph as a block. Blocks are inlined at load time — their nodes become nodes
 * `<caller>/<inner>` of the calling graph — so validation, shape inference, caching and scheduling
 * see through them with no special case: a block used twice on the same inputs computes once.
 * Errors inside a block point into the block file with the caller's node named.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { GraphError, pointer, type Diagnostic } from '../diagnostics.js';
import { findParamRefs } from '../graph/param-refs.js';
import { parseReference } from '../graph/reference.js';
import type { JsonValue } from '../operator/values.js';
import type { BlockInstance, ResolvedGraph } from './graph-document.js';

export const BLOCK_OP_PREFIX = 'graph:';

export type BlockLoader = (file: string, params: Record<string, JsonValue>, stack: string[]) => ResolvedGraph;

/** Inlines every `graph:` node of `graph` (recursively, through `load`). Throws GraphError. */
export function expandBlocks(graph: ResolvedGraph, load: BlockLoader, stack: string[]): ResolvedGraph {
  const diagnostics: Diagnostic[] = [];
  const out: ResolvedGraph = { ...graph, nodes: {}, blocks: [], origins: { ...graph.origins }, plugins: [...graph.plugins] };
  const instances = new Map<string, BlockInstance>();
  const relative = (file: string) => path.relative(graph.dir, file) || file;

  for (const [id, node] of Object.entries(graph.nodes)) {
    if (!node.op.startsWith(BLOCK_OP_PREFIX)) {
      out.nodes[id] = node;
      continue;
    }
    const at = pointer('nodes', id);
    const report = (where: string, message: string, code = 'block') =>
      diagnostics.push({ code, file: graph.file, pointer: where, node: id, op: node.op, message });
    const file = resolveBlockFile(node.op.slice(BLOCK_OP_PREFIX.length), graph.dir);
    if (!file) {
      report(`${at}/op`, `block file not found: ${node.op.slice(BLOCK_OP_PREFIX.length)} (paths are relative to ${graph.dir})`);
      continue;
    }
    if (stack.includes(file)) {
      // The path from the top-level graph, relative to its folder.
      const top = path.dirname(stack[0] ?? path.join(graph.dir, 'graph.json'));
      report(`${at}/op`, `block cycle: ${[...stack, file].map((f) => path.relative(top, f)).join(' → ')}`, 'block_cycle');
      continue;
    }
    const block = loadBlock(file, node.params, [...stack, file], load, (d) => {
      // A cycle found deeper is already a full path: keep it as it is.
      if (d.code === 'block_cycle' && d.message.startsWith('block cycle')) report(at, d.message, d.code);
      else if (d.code === 'unknown_param') report(`${at}${d.pointer}`, `in ${relative(file)}: ${d.message}`, d.code);
      else report(at, `in ${relative(file)}: ${d.pointer || '/'}: ${d.message}`, d.code);
    });
    if (!block) continue;

    const wiring: Record<string, string> = {};
    for (const [name, ref] of Object.entries(node.inputs)) {
      if (!(name in block.inputs)) {
        const declared = Object.keys(block.inputs);
        report(`${at}/inputs/${name}`, `block ${relative(file)} has no input '${name}' (inputs: ${declared.join(', ') || 'none'})`, 'unknown_port');
      } else if (Array.isArray(ref)) report(`${at}/inputs/${name}`, `block input '${name}' takes one reference, not an array`, 'port_arity');
      else wiring[name] = ref;
    }
    for (const [name, decl] of Object.entries(block.inputs)) {
      if (!decl.optional && !(name in wiring)) report(`${at}/inputs`, `missing block input '${name}' of ${relative(file)}`, 'missing_input');
    }

    // Inner references: a block input becomes the caller's wiring; an inner node gets its new id.
    const rename = (text: string): string | undefined => {
      const { node: target, port } = parseReference(text);
      if (target in block.inputs && !(target in block.nodes)) return wiring[target];
      return `${id}/${target}${port !== undefined ? `.${port}` : ''}`;
    };
    const inlined: string[] = [];
    for (const [innerId, inner] of Object.entries(block.nodes)) {
      const newId = `${id}/${innerId}`;
      const inputs: Record<string, string | string[]> = {};
      for (const [port, ref] of Object.entries(inner.inputs)) {
        if (Array.isArray(ref)) inputs[port] = ref.map((r) => rename(r)).filter((r): r is string => r !== undefined);
        else {
          const renamed = rename(ref);
          if (renamed !== undefined) inputs[port] = renamed; // an unwired optional block input
        }
      }
      out.nodes[newId] = { ...inner, inputs, params: mapParamRefs(inner.params, (t) => rename(t) ?? t) };
      const origin = block.origins[innerId];
      out.origins[newId] = {
        chain: [{ callerFile: graph.file, callerId: id, op: node.op, blockFile: file }, ...(origin?.chain ?? [])],
        innerId: origin?.innerId ?? innerId,
      };
      inlined.push(newId);
    }
    const outputs = Object.fromEntries(Object.entries(block.outputs).map(([name, ref]) => [name, rename(ref) ?? ref]));
    const instance: BlockInstance = { id, op: node.op, file, inputs: block.inputs, outputs, wiring, nodes: inlined };
    instances.set(id, instance);
    out.blocks.push(instance);
    for (const nested of block.blocks) {
      out.blocks.push({
        ...nested,
        id: `${id}/${nested.id}`,
        outputs: Object.fromEntries(Object.entries(nested.outputs).map(([k, r]) => [k, rename(r) ?? r])),
        wiring: Object.fromEntries(Object.entries(nested.wiring).map(([k, r]) => [k, rename(r) ?? r])),
        nodes: nested.nodes.map((n) => `${id}/${n}`),
      });
    }
    for (const spec of block.plugins) {
      const resolved = spec.startsWith('.') ? path.resolve(block.dir, spec) : spec;
      if (!out.plugins.includes(resolved)) out.plugins.push(resolved);
    }
  }

  // References to a block node mean one of its outputs.
  const retarget = (text: string, where: string, seen = 0): string => {
    const { node: target, port } = parseReference(text);
    const instance = instances.get(target);
    if (!instance || seen > 64) return text;
    const names = Object.keys(instance.outputs);
    const name = port ?? (names.length === 1 ? names[0] : 'out');
    const inner = instance.outputs[name];
    if (inner === undefined) {
      diagnostics.push({ code: 'unknown_port', file: graph.file, pointer: where, message: `block '${target}' (${instance.op}) has no output '${name}' (outputs: ${names.join(', ') || 'none'})` });
      return text;
    }
    return retarget(inner, where, seen + 1);
  };
  for (const [id, node] of Object.entries(out.nodes)) {
    const at = pointer('nodes', id, 'inputs');
    const inputs: Record<string, string | string[]> = {};
    for (const [port, ref] of Object.entries(node.inputs)) {
      inputs[port] = Array.isArray(ref) ? ref.map((r, i) => retarget(r, `${at}/${port}/${i}`)) : retarget(ref, `${at}/${port}`);
    }
    out.nodes[id] = { ...node, inputs, params: mapParamRefs(node.params, (t) => retarget(t, pointer('nodes', id, 'params'))) };
  }
  out.outputs = Object.fromEntries(Object.entries(graph.outputs).map(([name, ref]) => [name, retarget(ref, pointer('outputs', name))]));
  for (const instance of out.blocks) {
    for (const map of [instance.outputs, instance.wiring]) for (const [k, r] of Object.entries(map)) map[k] = retarget(r, '');
  }
  if (diagnostics.length) throw new GraphError(diagnostics);
  return out;
}

/**
 * Loads a block with the caller's params, reporting its problems. Unknown params are reported and
 * then dropped, so that the rest of the caller's use of the block is still checked.
 */
function loadBlock(file: string, params: Record<string, JsonValue>, stack: string[], load: BlockLoader, report: (d: Diagnostic) => void): ResolvedGraph | undefined {
  try {
    return load(file, params, stack);
  } catch (err) {
    if (!(err instanceof GraphError)) throw err;
    err.diagnostics.forEach(report);
    const unknown = err.diagnostics.filter((d) => d.code === 'unknown_param').map((d) => d.pointer.split('/').pop()!);
    if (unknown.length !== err.diagnostics.length) return undefined;
    const known = Object.fromEntries(Object.entries(params).filter(([k]) => !unknown.includes(k)));
    try {
      return load(file, known, stack);
    } catch {
      return undefined;
    }
  }
}

/** A path relative to the graph's folder, or `package/path.json` inside an installed package. */
function resolveBlockFile(spec: string, dir: string): string | undefined {
  if (spec.startsWith('.') || path.isAbsolute(spec)) {
    const file = path.resolve(dir, spec);
    return existsSync(file) ? file : undefined;
  }
  try {
    return createRequire(path.join(dir, 'noop.js')).resolve(spec);
  } catch {
    return undefined;
  }
}

/** Applies `fn` to the reference text of every `$from` marker in params (a copy). */
function mapParamRefs(params: Record<string, JsonValue>, fn: (text: string) => string): Record<string, JsonValue> {
  const refs = findParamRefs(params);
  if (!refs.length) return params;
  const out = structuredClone(params);
  for (const ref of refs) {
    let target: any = out;
    for (const token of ref.path) target = target[token];
    target.$from = fn(ref.text);
  }
  return out;
}
