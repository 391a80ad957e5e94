/**
 * The one ajv (JSON Schema draft 2020-12) setup used for the graph schema and every params schema,
 * and the translation of its errors into short human messages with JSON pointers.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

/** Collects all errors, fills `default`s into params, tolerates unknown keywords in plugin schemas. */
export function createAjv(): Ajv2020 {
  return new Ajv2020({ allErrors: true, useDefaults: true, strict: false, allowUnionTypes: true });
}

export interface SchemaIssue {
  pointer: string;
  message: string;
}

/** Turns ajv errors into issues with pointers relative to the validated value. */
export function schemaIssues(errors: ErrorObject[] | null | undefined): SchemaIssue[] {
  if (!errors) return [];
  // A failed oneOf/anyOf repeats its branches' errors; keep the branches' errors only when they
  // are all there is, and always drop the summary line itself.
  const issues: SchemaIssue[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'if') continue;
    const issue = describe(e);
    const key = `${issue.pointer}\u0000${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  if (issues.length === 0 && errors.length > 0) {
    issues.push({ pointer: errors[0].instancePath, message: errors[0].message ?? 'is invalid' });
  }
  return issues;
}

function describe(e: ErrorObject): SchemaIssue {
  const at = e.instancePath;
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return { pointer: `${at}/${p.additionalProperty}`, message: `unknown field '${p.additionalProperty}'` };
    case 'required':
      return { pointer: at, message: `missing required field '${p.missingProperty}'` };
    case 'propertyNames':
      return { pointer: `${at}/${p.propertyName}`, message: `invalid name '${p.propertyName}'` };
    case 'pattern':
      return { pointer: at, message: `must match ${p.pattern}` };
    case 'const':
      return { pointer: at, message: `must be ${JSON.stringify(p.allowedValue)}` };
    case 'enum':
      return { pointer: at, message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'type':
      return { pointer: at, message: `must be ${p.type}` };
    default:
      return { pointer: at, message: e.message ?? `fails ${e.keyword}` };
  }
}

export type { ValidateFunction };
