/**
 * Diagnostics: every problem the engine finds in a graph is a value `{code, file, pointer, node,
 * op, message}`, made where it is found and formatted in one place, so all of them can be reported
 * at once as `<file>: <json-pointer>: <message>`.
 */

export interface Diagnostic {
  /** Machine-readable kind, e.g. `schema`, `unknown_op`, `cycle`, `shape`. */
  code: string;
  /** The file the pointer refers into (the graph file, or a plugin/data file). */
  file: string;
  /** RFC 6901 JSON pointer into `file`, '' for the whole document. */
  pointer: string;
  message: string;
  node?: string;
  op?: string;
  /** 1-based position, for syntax errors. */
  line?: number;
  column?: number;
}

/** One line: `<file>: <json-pointer>: [node <id> (<op>):] <message>`. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line !== undefined ? `${d.file}:${d.line}:${d.column}` : d.file;
  const who = d.node ? `node '${d.node}'${d.op ? ` (${d.op})` : ''}: ` : '';
  return `${where}: ${d.pointer || '/'}: ${who}${d.message}`;
}

/** Thrown when a graph cannot be run as written; holds every problem found, not just the first. */
export class GraphError extends Error {
  override name = 'GraphError';
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
  }
}

/** Escapes one reference token of a JSON pointer (RFC 6901). */
export function pointerToken(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}

export function pointer(...tokens: Array<string | number>): string {
  return tokens.map((t) => '/' + pointerToken(t)).join('');
}
