/**
 * Run-time half of `$from` params: once the upstream results exist, substitute their values,
 * validate the params against the operator's schema, run the static shape checks that planning
 * had to defer, and compute the node's final cache key from the resolved values (so an upstream
 * change that yields the same value still hits the cache).
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { pointer } from '../diagnostics.js';
import { schemaIssues } from '../document/ajv.js';
import { substituteParamRefs } from '../graph/param-refs.js';
import { OperatorError, ParamError, ShapeError } from '../operator/errors.js';
import type { OperatorRegistry } from '../operator/registry.js';
import type { DType } from '../operator/ports.js';
import type { JsonValue, Meta, Value } from '../operator/values.js';
import { cacheKey, paramHashes } from '../plan/cache-keys.js';
import { outputMetas } from '../plan/infer-shapes.js';
import type { PlanNode } from '../plan/plan-graph.js';
import type { PathResolver } from '../plan/sandbox.js';

export function resolveParamRefs(
  node: PlanNode,
  results: Map<string, Record<string, Value>>,
  inputs: Record<string, unknown>,
  registry: OperatorRegistry,
  resolvePath: PathResolver,
): PlanNode {
  const values = node.paramRefs.map((p) => {
    const v = results.get(p.ref!.node)?.[p.ref!.port];
    if (v?.kind !== 'json') throw new OperatorError('missing_input', `$from '${p.text}' at ${p.pointer}: upstream produced no json value`);
    return { path: p.path, value: v.json };
  });
  const params = substituteParamRefs(node.params, values);
  const validate = registry.paramsValidator(node.op);
  if (!validate(params)) {
    const issues = schemaIssues(validate.errors).map((i) => `/params${i.pointer}: ${i.message}`);
    throw new OperatorError('params', `params from upstream results are invalid: ${issues.join('; ')}`, { params: params as JsonValue });
  }
  let outputs = node.outputs;
  if (node.op.shape) {
    try {
      const inferred = node.op.shape(metasOf(inputs), params, { node: node.id, op: node.op.id, resolvePath });
      outputs = outputMetas(node, inferred ?? {});
    } catch (err) {
      if (err instanceof ShapeError || err instanceof ParamError) {
        throw new OperatorError(err instanceof ShapeError ? 'shape' : 'params', `${pointer('nodes', node.id)}${err.pointer}: ${err.message}`);
      }
      throw err;
    }
  }
  const inputsWithoutRefs = Object.fromEntries(Object.entries(node.keyParts.inputs).filter(([k]) => !k.startsWith('$from:')));
  const keyParts = { ...node.keyParts, inputs: inputsWithoutRefs, params: paramHashes(params) };
  return { ...node, params, outputs, keyParts, key: cacheKey(keyParts) };
}

function metasOf(inputs: Record<string, unknown>): Record<string, Meta | Meta[] | undefined> {
  const meta = (v: unknown): Meta => {
    const t = v as Tensor;
    if (t && typeof t === 'object' && 'shape' in t && 'dtype' in t) return { kind: 'tensor', dtype: t.dtype as DType, shape: [...t.shape] };
    if (Array.isArray((v as { columns?: unknown })?.columns)) return { kind: 'table' };
    return { kind: 'json', value: v as JsonValue };
  };
  return Object.fromEntries(Object.entries(inputs).map(([port, v]) => [port, Array.isArray(v) ? v.map(meta) : v === undefined ? undefined : meta(v)]));
}
