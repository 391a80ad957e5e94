/**
 * Finds one cycle in a directed graph, as the list of nodes along it (first node repeated at the
 * end), for an error message that shows the loop. Iterative DFS with white/grey/black colouring.
 */
import type { DirectedGraph } from 'graphology';

export function findCycle(graph: DirectedGraph): string[] | undefined {
  const colour = new Map<string, 0 | 1 | 2>();
  const parent = new Map<string, string>();
  for (const start of graph.nodes()) {
    if (colour.get(start)) continue;
    const stack: Array<{ node: string; next: string[] }> = [{ node: start, next: graph.outNeighbors(start) }];
    colour.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const child = top.next.pop();
      if (child === undefined) {
        colour.set(top.node, 2);
        stack.pop();
        continue;
      }
      const c = colour.get(child) ?? 0;
      if (c === 1) {
        const cycle = [child];
        for (let n = top.node; n !== child; n = parent.get(n)!) cycle.push(n);
        cycle.push(child);
        return cycle.reverse();
      }
      if (c === 0) {
        colour.set(child, 1);
        parent.set(child, top.node);
        stack.push({ node: child, next: graph.outNeighbors(child) });
      }
    }
  }
  return undefined;
}
