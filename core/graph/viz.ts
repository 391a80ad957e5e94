/**
 * Diagrams of a DAG: Mermaid flowcharts and Graphviz dot, one box per node (id and operator) and
 * one arrow per wired input, labelled with the port.
 */
import type { Dag } from './build-dag.js';

export type VizFormat = 'mermaid' | 'dot';

/**
 * The box each node is drawn in: the node itself, or (collapsed, the default) the top-level block
 * instance it was inlined from.
 */
export function displayGroups(dag: Dag, expand: boolean): Map<string, { id: string; label: string }> {
  const groups = new Map<string, { id: string; label: string }>();
  const blocks = new Map(dag.graph.blocks.filter((b) => !b.id.includes('/')).map((b) => [b.id, b]));
  for (const id of dag.order) {
    const top = id.split('/')[0];
    const block = blocks.get(top);
    groups.set(id, !expand && block && id !== top ? { id: top, label: block.op } : { id, label: dag.nodes.get(id)!.op.id });
  }
  return groups;
}

export function renderDag(dag: Dag, format: VizFormat, options: { expand?: boolean } = {}): string {
  const groups = displayGroups(dag, options.expand ?? false);
  const boxes = new Map<string, string>();
  for (const g of groups.values()) boxes.set(g.id, g.label);
  const edges: Array<{ from: string; to: string; label: string }> = [];
  const seen = new Set<string>();
  const blocks = new Map(dag.graph.blocks.map((b) => [b.id, b]));
  const addEdge = (fromNode: string, toNode: string, innerLabel: string) => {
    const from = groups.get(fromNode)!.id;
    const to = groups.get(toNode)!.id;
    // Across a collapsed block's boundary, name the block's own inputs and outputs.
    let label = innerLabel;
    const into = from !== to ? blocks.get(to) : undefined;
    const outOf = from !== to ? blocks.get(from) : undefined;
    if (into) label = Object.entries(into.wiring).filter(([, r]) => r.split('.')[0] === fromNode).map(([name]) => name).join(',') || label;
    if (outOf) {
      const name = Object.entries(outOf.outputs).find(([, r]) => r.split('.')[0] === fromNode)?.[0];
      if (name) label = `${name}→${innerLabel.split('→').pop()}`;
    }
    const key = `${from}\u0000${to}\u0000${label}`;
    if (from === to || seen.has(key)) return;
    seen.add(key);
    edges.push({ from, to, label });
  };
  for (const id of dag.order) {
    for (const [port, wired] of Object.entries(dag.nodes.get(id)!.inputs)) {
      for (const ref of [wired].flat()) addEdge(ref.node, id, ref.port === 'out' ? port : `${ref.port}→${port}`);
    }
    for (const p of dag.nodes.get(id)!.paramRefs) {
      if (p.ref) addEdge(p.ref.node, id, `${p.ref.port}→${p.pointer.slice(1)}`);
    }
  }
  const outputs = Object.entries(dag.outputs).map(([name, ref]) => [name, groups.get(ref.node)!.id] as const);
  if (format === 'mermaid') {
    const safe = (id: string) => `n_${id.replace(/[^A-Za-z0-9_]/g, '_')}`;
    const lines = ['flowchart LR'];
    for (const [id, label] of boxes) lines.push(`  ${safe(id)}["${id}<br/><i>${label}</i>"]`);
    for (const e of edges) lines.push(`  ${safe(e.from)} -->|${e.label}| ${safe(e.to)}`);
    for (const [name, node] of outputs) {
      lines.push(`  out_${safe(name)}(["${name}"])`);
      lines.push(`  ${safe(node)} -.-> out_${safe(name)}`);
    }
    return lines.join('\n') + '\n';
  }
  const q = (s: string) => JSON.stringify(s);
  const lines = [`digraph ${q(dag.graph.name)} {`, '  rankdir=LR;', '  node [shape=box, fontname="Helvetica"];'];
  for (const [id, label] of boxes) lines.push(`  ${q(id)} [label=${q(`${id}\n${label}`)}];`);
  for (const e of edges) lines.push(`  ${q(e.from)} -> ${q(e.to)} [label=${q(e.label)}];`);
  for (const [name, node] of outputs) {
    lines.push(`  ${q(`output:${name}`)} [label=${q(name)}, shape=ellipse];`);
    lines.push(`  ${q(node)} -> ${q(`output:${name}`)} [style=dashed];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}
