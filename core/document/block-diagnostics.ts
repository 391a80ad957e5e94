/**
 * Makes a diagnostic about an inlined block node read as the user wrote it: it points at the
 * caller's node, and its message says where inside the block file the problem is —
 * `caller.json: /nodes/reg: in blocks/x.json: /nodes/k/params/depth: …`.
 */
import path from 'node:path';
import { pointer, type Diagnostic } from '../diagnostics.js';
import type { ResolvedGraph } from './graph-document.js';

export function attributeToBlocks(diagnostics: Diagnostic[], graph: ResolvedGraph): Diagnostic[] {
  return diagnostics.map((d) => {
    const origin = d.node ? graph.origins[d.node] : undefined;
    if (!origin) return d;
    const prefix = pointer('nodes', d.node!);
    const inner = d.pointer.startsWith(prefix) ? pointer('nodes', origin.innerId) + d.pointer.slice(prefix.length) : d.pointer;
    const [first, ...rest] = origin.chain;
    const hops = origin.chain.map((link, i) => {
      const from = path.dirname(path.resolve(link.callerFile));
      const head = i === 0 ? '' : `${pointer('nodes', rest[i - 1].callerId)}: `;
      return `${head}in ${path.relative(from, link.blockFile)}: `;
    });
    const innerOp = d.op && !d.op.startsWith('graph:') ? ` (${d.op})` : '';
    return {
      ...d,
      file: first.callerFile,
      pointer: pointer('nodes', first.callerId),
      node: first.callerId,
      op: first.op,
      message: `${hops.join('')}${inner}: node '${origin.innerId}'${innerOp}: ${d.message}`,
    };
  });
}

