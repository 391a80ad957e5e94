/**
 * Diagrams of a DAG: Mermaid flowcharts and Graphviz dot, one box per node (id and operator) and
 * one arrow per wired input, labelled with the port.
 */
import type { Dag } from './build-dag.js';

export type VizFormat = 'mermaid' | 'dot';

export function renderDag(dag: Dag, format: VizFormat): string {
  const edges: Array<{ from: string; to: string; label: string }> = [];
  for (const id of dag.order) {
    for (const [port, wired] of Object.entries(dag.nodes.get(id)!.inputs)) {
      for (const ref of [wired].flat()) edges.push({ from: ref.node, to: id, label: ref.port === 'out' ? port : `${ref.port}→${port}` });
    }
    for (const p of dag.nodes.get(id)!.paramRefs) {
      if (p.ref) edges.push({ from: p.ref.node, to: id, label: `${p.ref.port}→${p.pointer.slice(1)}` });
    }
  }
  const outputs = Object.entries(dag.outputs);
  if (format === 'mermaid') {
    const safe = (id: string) => `n_${id.replace(/[^A-Za-z0-9_]/g, '_')}`;
    const lines = ['flowchart LR'];
    for (const id of dag.order) lines.push(`  ${safe(id)}["${id}<br/><i>${dag.nodes.get(id)!.op.id}</i>"]`);
    for (const e of edges) lines.push(`  ${safe(e.from)} -->|${e.label}| ${safe(e.to)}`);
    for (const [name, ref] of outputs) {
      lines.push(`  out_${safe(name)}(["${name}"])`);
      lines.push(`  ${safe(ref.node)} -.-> out_${safe(name)}`);
    }
    return lines.join('\n') + '\n';
  }
  const q = (s: string) => JSON.stringify(s);
  const lines = [`digraph ${q(dag.graph.name)} {`, '  rankdir=LR;', '  node [shape=box, fontname="Helvetica"];'];
  for (const id of dag.order) lines.push(`  ${q(id)} [label=${q(`${id}\n${dag.nodes.get(id)!.op.id}`)}];`);
  for (const e of edges) lines.push(`  ${q(e.from)} -> ${q(e.to)} [label=${q(e.label)}];`);
  for (const [name, ref] of outputs) {
    lines.push(`  ${q(`output:${name}`)} [label=${q(name)}, shape=ellipse];`);
    lines.push(`  ${q(ref.node)} -> ${q(`output:${name}`)} [style=dashed];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}
