/**
 * `{"$from": "node.port"}` inside a node's params: the value comes from an upstream node's `json`
 * output at run time (e.g. a fitted hyperparameter feeding a prediction). Each one is an edge of
 * the DAG like an input.
 */
import { pointer } from '../diagnostics.js';
import type { JsonValue } from '../operator/values.js';
import type { Ref } from './reference.js';

export interface ParamRef {
  /** Where the marker sits inside params, as path tokens and as a pointer relative to the node. */
  path: Array<string | number>;
  pointer: string;
  /** The reference text as written. */
  text: string;
  ref?: Ref;
}

/** Every `$from` marker inside `params`. */
export function findParamRefs(params: JsonValue, path: Array<string | number> = ['params']): ParamRef[] {
  if (Array.isArray(params)) return params.flatMap((v, i) => findParamRefs(v, [...path, i]));
  if (params === null || typeof params !== 'object') return [];
  const keys = Object.keys(params);
  if (keys.length === 1 && keys[0] === '$from' && typeof params.$from === 'string') {
    return [{ path: path.slice(1), pointer: pointer(...path), text: params.$from }];
  }
  return keys.flatMap((k) => findParamRefs(params[k], [...path, k]));
}

/** A copy of `params` with each marker replaced by its value. */
export function substituteParamRefs(params: Record<string, JsonValue>, values: Array<{ path: Array<string | number>; value: JsonValue }>): Record<string, JsonValue> {
  const out = structuredClone(params);
  for (const { path, value } of values) {
    let target: any = out;
    for (const token of path.slice(0, -1)) target = target[token];
    target[path[path.length - 1]] = structuredClone(value);
  }
  return out;
}
