/**
 * The boundary of a block: what the caller wires into each declared block input must have the
 * rank and dtype the block declares.
 */
import { pointer, type Diagnostic } from '../diagnostics.js';
import type { ResolvedGraph } from '../document/graph-document.js';
import type { Dag } from '../graph/build-dag.js';
import { defaultOutputPort, parseReference } from '../graph/reference.js';
import { formatShape } from '../operator/values.js';
import type { OutputMetas } from './infer-shapes.js';

export function checkBlockInputs(graph: ResolvedGraph, dag: Dag, metas: Map<string, OutputMetas>): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const block of graph.blocks) {
    for (const [name, text] of Object.entries(block.wiring)) {
      const decl = block.inputs[name];
      const { node, port } = parseReference(text);
      const source = dag.nodes.get(node);
      if (!decl || !source) continue;
      const meta = metas.get(node)?.[port ?? defaultOutputPort(source.op) ?? 'out'];
      if (meta?.kind !== 'tensor') continue;
      const problems: string[] = [];
      const ranks = decl.rank === undefined ? undefined : [decl.rank].flat();
      if (ranks && meta.shape && !ranks.includes(meta.shape.length)) problems.push(`rank ${ranks.join(' or ')}, got shape ${formatShape(meta.shape)}`);
      const dtypes = decl.dtype === undefined ? undefined : [decl.dtype].flat();
      if (dtypes && !dtypes.includes(meta.dtype)) problems.push(`dtype ${dtypes.join(' or ')}, got ${meta.dtype}`);
      if (!problems.length) continue;
      const top = block.id.split('/')[0];
      const nested = block.id !== top;
      diagnostics.push({
        code: 'shape',
        file: graph.file,
        pointer: nested ? pointer('nodes', top) : pointer('nodes', block.id, 'inputs', name),
        node: top,
        op: nested ? graph.blocks.find((b) => b.id === top)?.op : block.op,
        message: `${nested ? `in nested block '${block.id}': ` : ''}block input '${name}' expects ${problems.join(' and ')} (wired to '${text}')`,
      });
    }
  }
  return diagnostics;
}
