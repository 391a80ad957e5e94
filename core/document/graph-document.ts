/**
 * The graph document as written (after schema validation) and as resolved (`$param`s and
 * `--set`s substituted). Pure data.
 */
import type { JsonValue } from '../operator/values.js';
import type { FigureSpec } from '../report/figure-spec.js';

export interface NodeDocument {
  op: string;
  description?: string;
  params?: Record<string, JsonValue>;
  inputs?: Record<string, string | string[]>;
}

/** A block's declared input (see `inputs` in the graph schema). */
export interface BlockInput {
  rank?: number | number[];
  dtype?: string | string[];
  optional?: boolean;
  description?: string;
}

export interface GraphDocument {
  $schema?: string;
  inputs?: Record<string, BlockInput>;
  kernelflow: '1';
  name?: string;
  description?: string;
  seed?: number;
  params?: Record<string, JsonValue>;
  variants?: Record<string, Record<string, JsonValue>>;
  plugins?: string[];
  nodes: Record<string, NodeDocument>;
  outputs?: Record<string, string>;
  sweep?: SweepSpec;
  /** Figures for `kernelflow report`. */
  figures?: FigureSpec[];
}

/** A graph's default sweep. */
export interface SweepSpec {
  grid?: Record<string, JsonValue[]>;
  collect?: string[];
}

/** A document whose params are substituted; node params are not yet checked against operators. */
export interface ResolvedGraph {
  /** The graph file as named by the caller ('<inline>' for graphs given as objects). */
  file: string;
  /** Absolute folder that relative paths in the graph (data, plugins) resolve against. */
  dir: string;
  name: string;
  description?: string;
  seed: number;
  /** Graph params after the variant's and `--set` overrides. */
  params: Record<string, JsonValue>;
  /** The variant applied, if any. */
  variant?: string;
  plugins: string[];
  nodes: Record<string, NodeDocument & { params: Record<string, JsonValue>; inputs: Record<string, string | string[]> }>;
  outputs: Record<string, string>;
  sweep?: SweepSpec;
  figures?: FigureSpec[];
  /** Declared when this graph is a block (used by other graphs as a node). */
  inputs: Record<string, BlockInput>;
  /** Block instances inlined into this graph (`op: "graph:…"` nodes), outermost first. */
  blocks: BlockInstance[];
  /** For each inlined node id (`caller/inner`): the chain of blocks it came from. */
  origins: Record<string, NodeOrigin>;
}

/** One use of a block as a node, inlined as nodes `<id>/<inner id>`. */
export interface BlockInstance {
  /** The caller node's id in this (flattened) graph. */
  id: string;
  op: string;
  /** Absolute path of the block file. */
  file: string;
  inputs: Record<string, BlockInput>;
  /** Block output name → reference (in this graph's namespace) it stands for. */
  outputs: Record<string, string>;
  /** The caller's wiring of the block's inputs (references in this graph's namespace). */
  wiring: Record<string, string>;
  /** Inlined node ids. */
  nodes: string[];
}

export interface NodeOrigin {
  /** Outermost first: each caller node and the block file it used. */
  chain: Array<{ callerFile: string; callerId: string; op: string; blockFile: string }>;
  /** The node's id inside the innermost block file. */
  innerId: string;
}
