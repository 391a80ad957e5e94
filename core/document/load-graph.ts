/**
 * Stage 1 of a run: graph file → ResolvedGraph. Parses (syntax errors with line/column), validates
 * against schemas/graph.schema.json, and substitutes params. Never loads tfjs or plugins.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import graphSchema from '../../schemas/graph.schema.json' with { type: 'json' };
import { GraphError, pointer, type Diagnostic } from '../diagnostics.js';
import type { JsonValue } from '../operator/values.js';
import { createAjv, schemaIssues } from './ajv.js';
import type { GraphDocument, ResolvedGraph } from './graph-document.js';
import { expandBlocks } from './expand-blocks.js';
import { parseJsonText } from './parse.js';
import { applySets, substituteParams } from './resolve-params.js';

export interface LoadOptions {
  /** `--set` overrides, already parsed. */
  sets?: Record<string, JsonValue>;
  /** Overrides the graph's seed (a sweep's seed axis). */
  seed?: number;
  /** A named set of param overrides from the graph's `variants` (applied before `sets`). */
  variant?: string;
  /** The file name to report in diagnostics ('<inline>' for graphs given as objects). */
  file?: string;
  /** The folder relative paths resolve against (default: the file's folder, else the cwd). */
  dir?: string;
  /** Absolute block files being expanded around this one (outermost first), to catch cycles. */
  blockStack?: string[];
  /** Set when loading a block for a caller: `sets` are the caller node's params. */
  asBlock?: boolean;
}

const validateDocument = createAjv().compile(graphSchema);

/** Reads and resolves a graph file; throws GraphError with every problem found. */
export function loadGraphFile(file: string, options: LoadOptions = {}): ResolvedGraph {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new GraphError([{ code: 'io', file, pointer: '', message: `cannot read graph file: ${(err as Error).message}` }]);
  }
  const parsed = parseJsonText(text, file);
  if (!parsed.ok) throw new GraphError(parsed.diagnostics);
  return resolveGraph(parsed.value, { ...options, file, dir: path.dirname(abs) });
}

/** Validates and resolves an already-parsed document. */
export function resolveGraph(document: unknown, options: LoadOptions = {}): ResolvedGraph {
  const file = options.file ?? '<inline>';
  const diagnostics: Diagnostic[] = [];
  const doc = structuredClone(document);
  if (!validateDocument(doc)) {
    for (const issue of schemaIssues(validateDocument.errors)) {
      diagnostics.push({ code: 'schema', file, pointer: issue.pointer, message: issue.message, ...nodeAt(doc, issue.pointer) });
    }
    throw new GraphError(diagnostics);
  }
  const g = doc as unknown as GraphDocument;
  let base = g.params ?? {};
  if (options.variant !== undefined) {
    const variant = g.variants?.[options.variant];
    if (!variant) {
      const names = Object.keys(g.variants ?? {});
      throw new GraphError([{ code: 'unknown_variant', file, pointer: '/variants', message: `no variant '${options.variant}' (variants: ${names.join(', ') || 'none'})` }]);
    }
    const applied = applySets(base, variant, file);
    for (const d of applied.diagnostics) diagnostics.push({ ...d, pointer: pointer('variants', options.variant), message: d.message.replace(/^--set /, `variant ${options.variant}: `) });
    base = applied.params;
  }
  const { params, diagnostics: setIssues } = applySets(base, options.sets ?? {}, file, options.asBlock ? 'block' : 'cli');
  diagnostics.push(...setIssues);

  const nodes: ResolvedGraph['nodes'] = {};
  for (const [id, node] of Object.entries(g.nodes)) {
    const at = pointer('nodes', id, 'params');
    const resolved = substituteParams(node.params ?? {}, params, at, (p, message) =>
      diagnostics.push({ code: 'unresolved_param', file, pointer: p, node: id, op: node.op, message }),
    ) as Record<string, JsonValue>;
    nodes[id] = { ...node, params: resolved, inputs: node.inputs ?? {} };
  }
  if (diagnostics.length) throw new GraphError(diagnostics);

  const fileName = file === '<inline>' ? 'graph' : path.basename(file).replace(/\.json$/i, '');
  const resolved: ResolvedGraph = {
    file,
    dir: options.dir ?? (file === '<inline>' ? process.cwd() : path.dirname(path.resolve(file))),
    name: g.name ?? fileName,
    description: g.description,
    seed: options.seed ?? g.seed ?? 0,
    variant: options.variant,
    params,
    plugins: g.plugins ?? [],
    nodes,
    outputs: g.outputs ?? {},
    inputs: g.inputs ?? {},
    sweep: g.sweep,
    figures: g.figures,
    blocks: [],
    origins: {},
  };
  const stack = options.blockStack ?? (file === '<inline>' ? [] : [path.resolve(file)]);
  const load = (blockFile: string, blockParams: Record<string, JsonValue>, blockStack: string[]) =>
    loadGraphFile(blockFile, { sets: blockParams, blockStack, asBlock: true, seed: options.seed });
  return expandBlocks(resolved, load, stack);
}

/** Names the node an error pointer falls inside, so schema errors say which node. */
function nodeAt(doc: unknown, at: string): { node?: string; op?: string } {
  const m = /^\/nodes\/([^/]+)/.exec(at);
  if (!m) return {};
  const id = m[1].replace(/~1/g, '/').replace(/~0/g, '~');
  const node = (doc as GraphDocument).nodes?.[id];
  return { node: id, op: typeof node?.op === 'string' ? node.op : undefined };
}
