/**
 * JSON Schemas generated from the operator definitions, so an editor validates a node's params as
 * they are typed: one per operator (`schemas/operators/<id>.json`) and a combined graph schema
 * (`schemas/graph.operators.schema.json`) that checks each node's params against its operator's.
 */
import graphSchema from '../../schemas/graph.schema.json' with { type: 'json' };
import type { Operator } from '../operator/define-operator.js';

/** A plain-JSON copy of a TypeBox schema (TypeBox marks schemas with symbol keys). */
function plain(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

export function operatorSchema(op: Operator): object {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://kernelflow.dev/schemas/operators/${op.id}.json`,
    title: `${op.id} params`,
    description: op.summary,
    ...plain(op.params),
  };
}

/**
 * The graph schema with each node's params checked against its operator's schema, for nodes whose
 * op is known; `graph:` blocks and plugin operators stay free-form.
 */
export function combinedSchema(ops: Operator[]): object {
  const schema = structuredClone(graphSchema) as Record<string, any>;
  schema.$id = 'https://kernelflow.dev/schemas/graph.operators.schema.json';
  schema.title = 'kernelflow graph (with the built-in operators\' params)';
  const defs = schema.$defs as Record<string, any>;
  defs.paramMarker = {
    description: 'A value given by reference: {"$param": name} (a graph param) or {"$from": "node.port"} (an upstream json output).',
    type: 'object',
    minProperties: 1,
    maxProperties: 1,
    properties: { $param: { type: 'string' }, $from: { type: 'string' } },
    additionalProperties: false,
  };
  for (const op of ops) defs[`params:${op.id}`] = allowMarkers(scopeIds(plain(op.params), op.id));
  defs.node.allOf = ops.map((op) => ({
    if: { properties: { op: { const: op.id } }, required: ['op'] },
    then: { properties: { params: { $ref: `#/$defs/params:${op.id}` } } },
  }));
  return schema;
}

/** Lets every value inside params be a `$param`/`$from` marker instead, as graphs may write. */
function allowMarkers(schema: Record<string, unknown>): Record<string, unknown> {
  const orMarker = (v: unknown) => ({ anyOf: [allowMarkers(v as Record<string, unknown>), { $ref: 'https://kernelflow.dev/schemas/graph.operators.schema.json#/$defs/paramMarker' }] });
  const out: Record<string, unknown> = { ...schema };
  if (schema.properties && typeof schema.properties === 'object') {
    const props = schema.properties as Record<string, Record<string, unknown>>;
    out.properties = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, orMarker(v)]));
    // The engine fills defaults, so a param with a default may be left out.
    if (Array.isArray(schema.required)) out.required = (schema.required as string[]).filter((k) => props[k]?.default === undefined);
  }
  if (schema.items && typeof schema.items === 'object' && !Array.isArray(schema.items)) out.items = orMarker(schema.items);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    if (Array.isArray(schema[key])) out[key] = (schema[key] as unknown[]).map((v) => allowMarkers(v as Record<string, unknown>));
  }
  return out;
}

/**
 * TypeBox names recursive schemas with short `$id`s (T0, T1, …) that its `$ref`s point to; inside
 * one combined document they must be unique, so prefix them with the operator id.
 */
function scopeIds(schema: Record<string, unknown>, opId: string): Record<string, unknown> {
  const ids = new Set<string>();
  const collect = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '$id' && typeof x === 'string') ids.add(x);
        else collect(x);
      }
    }
  };
  collect(schema);
  const rename = (id: string) => `params-${opId}-${id}`;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!v || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = (k === '$id' || k === '$ref') && typeof x === 'string' && ids.has(x) ? rename(x) : walk(x);
    return out;
  };
  return walk(schema) as Record<string, unknown>;
}
