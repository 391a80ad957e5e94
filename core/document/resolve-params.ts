/**
 * `{"$param": name}` substitution and `--set name=value` overrides.
 */
import { pointer, type Diagnostic } from '../diagnostics.js';
import type { JsonValue } from '../operator/values.js';

/** Parses `name=value`; the value is JSON when it parses as JSON, else the raw string. */
export function parseSet(text: string): { name: string; value: JsonValue } {
  const eq = text.indexOf('=');
  const name = eq < 0 ? '' : text.slice(0, eq).trim();
  if (eq < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new UsageError(`malformed --set '${text}': expected name=value with a param name`);
  }
  const raw = text.slice(eq + 1);
  try {
    return { name, value: JSON.parse(raw) as JsonValue };
  } catch {
    return { name, value: raw };
  }
}

/** A problem with how the CLI or API was called rather than with the graph (exit code 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Graph params with overrides applied; overriding a param the graph does not declare is an error. */
export function applySets(
  params: Record<string, JsonValue>,
  sets: Record<string, JsonValue>,
  file: string,
  source: 'cli' | 'block' = 'cli',
): { params: Record<string, JsonValue>; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const out = { ...params };
  for (const [name, value] of Object.entries(sets)) {
    if (!(name in params)) {
      diagnostics.push({
        code: 'unknown_param',
        file,
        pointer: source === 'cli' ? '/params' : pointer('params', name),
        message: source === 'cli'
          ? `--set ${name}: the graph declares no param '${name}'${declared(params)}`
          : `the block declares no param '${name}'${declared(params)}`,
      });
    } else out[name] = value;
  }
  return { params: out, diagnostics };
}

/** Replaces every `{"$param": name}` inside `value`, collecting unknown names as diagnostics. */
export function substituteParams(
  value: JsonValue,
  params: Record<string, JsonValue>,
  at: string,
  report: (pointer: string, message: string) => void,
): JsonValue {
  if (Array.isArray(value)) return value.map((v, i) => substituteParams(v, params, `${at}${pointer(i)}`, report));
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === '$param') {
    const name = value.$param;
    if (typeof name !== 'string' || !(name in params)) {
      report(`${at}/$param`, `unresolved $param ${JSON.stringify(name)}${declared(params)}`);
      return null;
    }
    return structuredClone(params[name]);
  }
  const out: Record<string, JsonValue> = {};
  for (const k of keys) out[k] = substituteParams(value[k], params, `${at}${pointer(k)}`, report);
  return out;
}

function declared(params: Record<string, JsonValue>): string {
  const names = Object.keys(params);
  return names.length ? ` (declared: ${names.join(', ')})` : ' (the graph declares no params)';
}
