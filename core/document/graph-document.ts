/**
 * The graph document as written (after schema validation) and as resolved (`$param`s and
 * `--set`s substituted). Pure data.
 */
import type { JsonValue } from '../operator/values.js';

export interface NodeDocument {
  op: string;
  description?: string;
  params?: Record<string, JsonValue>;
  inputs?: Record<string, string | string[]>;
}

export interface GraphDocument {
  $schema?: string;
  kernelflow: '1';
  name?: string;
  description?: string;
  seed?: number;
  params?: Record<string, JsonValue>;
  plugins?: string[];
  nodes: Record<string, NodeDocument>;
  outputs?: Record<string, string>;
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
  /** Graph params after `--set` overrides. */
  params: Record<string, JsonValue>;
  plugins: string[];
  nodes: Record<string, NodeDocument & { params: Record<string, JsonValue>; inputs: Record<string, string | string[]> }>;
  outputs: Record<string, string>;
}
