/**
 * Operator docs generated from the definitions themselves: the `ops` listing, `ops describe`, and
 * the JSON form.
 */
import type { Operator } from '../operator/define-operator.js';
import type { Port } from '../operator/ports.js';
import { table } from './format.js';

export function listOperators(ops: Operator[]): string {
  return table(['id', 'v', 'summary'], ops.map((op) => [op.id, String(op.version), op.summary])) + '\n';
}

function portText(port: Port): string {
  const bits: string[] = [port.kind];
  if (port.kind === 'tensor') {
    if (port.dtype) bits.push([port.dtype].flat().join('|'));
    if (port.rank !== undefined) bits.push(`rank ${[port.rank].flat().join('|')}`);
    if (port.variadic) bits.push('variadic');
  }
  if (port.optional) bits.push('optional');
  return bits.join(', ');
}

export function describeOperator(op: Operator): string {
  const lines = [`${op.id} (version ${op.version})${op.stochastic ? ' — stochastic: seeded per node' : ''}`, '', op.summary];
  if (op.description) lines.push('', op.description);
  const ports = (title: string, map: Record<string, Port>) => {
    lines.push('', `${title}:`);
    const entries = Object.entries(map);
    if (!entries.length) lines.push('  (none)');
    for (const [name, port] of entries) lines.push(`  ${name}  [${portText(port)}]${port.doc ? `  ${port.doc}` : ''}`);
  };
  ports('inputs', op.inputs);
  ports('outputs', op.outputs);
  lines.push('', 'params:');
  const props = (op.params as { properties?: Record<string, { description?: string; default?: unknown; type?: unknown; enum?: unknown[] }> }).properties ?? {};
  const required = new Set((op.params as { required?: string[] }).required ?? []);
  if (!Object.keys(props).length) lines.push('  (none)');
  for (const [name, schema] of Object.entries(props)) {
    const type = schema.enum ? schema.enum.map((v) => JSON.stringify(v)).join('|') : schemaType(schema);
    const dflt = schema.default !== undefined ? ` = ${JSON.stringify(schema.default)}` : required.has(name) ? ' (required)' : ' (optional)';
    lines.push(`  ${name}: ${type}${dflt}${schema.description ? `  — ${schema.description}` : ''}`);
  }
  return lines.join('\n') + '\n';
}

function schemaType(schema: Record<string, unknown>): string {
  if (typeof schema.type === 'string') {
    if (schema.type === 'array' && schema.items && typeof schema.items === 'object') return `${schemaType(schema.items as Record<string, unknown>)}[]`;
    return schema.type;
  }
  const union = (schema.anyOf ?? schema.oneOf) as Array<Record<string, unknown>> | undefined;
  if (union) return union.map(schemaType).join('|');
  if ('const' in schema) return JSON.stringify(schema.const);
  return 'any';
}

export function operatorJson(op: Operator): object {
  return { id: op.id, version: op.version, summary: op.summary, description: op.description, stochastic: op.stochastic, params: op.params, inputs: op.inputs, outputs: op.outputs };
}
