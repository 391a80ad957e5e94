/**
 * The generated files that ship with the repository — the operator reference and the params
 * schemas — and a staleness check for CI.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Operator } from '../operator/define-operator.js';
import { operatorsIndex, operatorsMarkdown } from './operator-docs.js';
import { combinedSchema, operatorSchema } from './operator-schemas.js';

/** Relative path → file contents. */
export function generatedArtifacts(ops: Operator[]): Map<string, string> {
  const files = new Map<string, string>();
  const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';
  files.set('docs/operators.md', operatorsMarkdown(ops));
  files.set('docs/operators.json', json(operatorsIndex(ops)));
  files.set('schemas/graph.operators.schema.json', json(combinedSchema(ops)));
  for (const op of ops) files.set(`schemas/operators/${op.id}.json`, json(operatorSchema(op)));
  return files;
}

export function writeArtifacts(root: string, files: Map<string, string>): string[] {
  const written: string[] = [];
  for (const [rel, text] of files) {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    if (!existsSync(file) || readFileSync(file, 'utf8') !== text) {
      writeFileSync(file, text);
      written.push(rel);
    }
  }
  return written;
}

/** Files that differ from what the definitions generate, plus generated files with no operator left. */
export function staleArtifacts(root: string, files: Map<string, string>): string[] {
  const stale = [...files].filter(([rel, text]) => !existsSync(path.join(root, rel)) || readFileSync(path.join(root, rel), 'utf8') !== text).map(([rel]) => rel);
  const dir = path.join(root, 'schemas/operators');
  if (existsSync(dir)) {
    for (const name of readdirSync(dir)) if (!files.has(`schemas/operators/${name}`)) stale.push(`schemas/operators/${name} (no such operator)`);
  }
  return stale;
}
