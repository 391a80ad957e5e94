/**
 * References between nodes: "node" (its single output, or port `out`) or "node.port".
 */
import type { Operator } from '../operator/define-operator.js';

export interface Ref {
  node: string;
  port: string;
}

export function parseReference(text: string): { node: string; port?: string } {
  const dot = text.indexOf('.');
  return dot < 0 ? { node: text } : { node: text.slice(0, dot), port: text.slice(dot + 1) };
}

export function formatRef(ref: Ref): string {
  return `${ref.node}.${ref.port}`;
}

/** The port a bare reference means: the only output, else `out`; undefined when ambiguous. */
export function defaultOutputPort(op: Operator): string | undefined {
  const names = Object.keys(op.outputs);
  if (names.length === 1) return names[0];
  return names.includes('out') ? 'out' : undefined;
}
