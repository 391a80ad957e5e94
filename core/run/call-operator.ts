/**
 * The one lifecycle helper that wraps every operator call: it builds the context, runs the body in
 * a tfjs scope (so temporaries are freed and an operator body is just math), turns the returned
 * record into typed values, checks them against the declared ports and inferred shapes, and falls
 * back to the cpu backend when the active backend lacks a kernel.
 */
import type { Tensor, TypedArray } from '@tensorflow/tfjs-core';
import type { Checkpoint, RunContext, TF, Progress } from '../operator/context.js';
import { OperatorError } from '../operator/errors.js';
import type { Port } from '../operator/ports.js';
import type { JsonValue, Meta, Value } from '../operator/values.js';
import { formatShape } from '../operator/values.js';
import type { PlanNode } from '../plan/plan-graph.js';
import type { PathResolver } from '../plan/sandbox.js';
import { fromStored, toStored, type StoredValue } from '../cache/stored.js';
import { isMissingKernelError, withBackend } from './backends.js';

export interface CallEnv {
  tf: TF;
  backend: string;
  signal: AbortSignal;
  resolvePath: PathResolver;
  progress(update: Progress): void;
  warn(message: string): void;
  /** Serialises backend switches (cpu fallback) against every other operator call. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** The node's checkpoint (absent without a disk cache). */
  checkpoint?: Checkpoint;
}

export interface CallResult {
  values: Record<string, Value>;
  notes: Record<string, JsonValue>;
  /** The backend the node actually ran on, when it had to leave the run's backend. */
  fallback?: string;
}

/** Runs `node`'s operator on `inputs` (which it must not dispose). The caller owns the values returned. */
export async function callOperator(node: PlanNode, inputs: Record<string, unknown>, env: CallEnv): Promise<CallResult> {
  const notes: Record<string, JsonValue> = {};
  const unsupported = node.op.unsupportedBackends?.[env.backend];
  if (unsupported && env.backend !== 'cpu') {
    env.warn(`${node.op.id} does not run on ${env.backend} (${unsupported}): running node '${node.id}' on cpu`);
    const values = await env.exclusive(() => runOnCpu(node, inputs, env, notes));
    return { values, notes, fallback: 'cpu' };
  }
  try {
    const values = await invoke(node, inputs, env, env.backend, notes);
    return { values, notes };
  } catch (err) {
    const kernel = isMissingKernelError(err);
    if (!kernel || env.backend === 'cpu') throw err;
    env.warn(`kernel '${kernel}' is missing on ${env.backend}: running node '${node.id}' on cpu`);
    const values = await env.exclusive(() => runOnCpu(node, inputs, env, notes));
    return { values, notes, fallback: 'cpu' };
  }
}

async function invoke(node: PlanNode, inputs: Record<string, unknown>, env: CallEnv, backend: string, notes: Record<string, JsonValue>): Promise<Record<string, Value>> {
  const { tf } = env;
  const ctx: RunContext = {
    tf,
    node: node.id,
    op: node.op.id,
    seed: node.seed,
    backend,
    signal: env.signal,
    resolvePath: env.resolvePath,
    progress: env.progress,
    warn: env.warn,
    note: (key, value) => void (notes[key] = value),
    ...(env.checkpoint ? { checkpoint: env.checkpoint } : {}),
  };
  const inputTensors = new Set(collectTensors(inputs));
  // A sync body runs inside a tfjs scope that frees its temporaries. An async body (declared with
  // `async`) cannot: other nodes run between its awaits and scopes would interleave, so it must
  // free its own temporaries (ctx.tf.tidy per step).
  const isAsync = node.op.run.constructor.name === 'AsyncFunction';
  let raw: unknown;
  if (isAsync) {
    raw = await node.op.run(inputs, node.params, ctx);
  } else {
    tf.engine().startScope();
    let kept: Tensor[] = [];
    try {
      raw = node.op.run(inputs, node.params, ctx);
      kept = collectTensors(raw);
    } finally {
      tf.engine().endScope(kept);
    }
    if (isThenable(raw)) raw = await raw;
  }
  return toValues(node, raw, inputTensors, tf);
}

/** Moves inputs to the cpu backend, runs there, and remakes the outputs on the run's backend. */
async function runOnCpu(node: PlanNode, inputs: Record<string, unknown>, env: CallEnv, notes: Record<string, JsonValue>): Promise<Record<string, Value>> {
  const { tf } = env;
  // Read the inputs first, asynchronously: a GPU backend has no synchronous read-back.
  const host = new Map<Tensor, TypedArray>();
  for (const t of collectTensors(inputs)) host.set(t, (await t.data()) as TypedArray);
  const stored = await withBackend(tf, 'cpu', async () => {
    const moved = mapTensors(inputs, (t) => tf.tensor(host.get(t)!, t.shape, t.dtype));
    try {
      const values = await invoke(node, moved, env, 'cpu', notes);
      const result: Record<string, StoredValue> = {};
      for (const [port, v] of Object.entries(values)) result[port] = await toStored(v);
      tf.dispose(collectTensors(values));
      return result;
    } finally {
      tf.dispose(collectTensors(moved));
    }
  });
  return Object.fromEntries(Object.entries(stored).map(([port, v]) => [port, fromStored(v, tf)]));
}

function toValues(node: PlanNode, raw: unknown, inputTensors: Set<Tensor>, tf: TF): Record<string, Value> {
  const made = collectTensors(raw);
  const fail = (message: string): never => {
    tf.dispose(made.filter((t) => !inputTensors.has(t)));
    throw new OperatorError('bad_output', `${node.op.id} ${message}`);
  };
  if (typeof raw !== 'object' || raw === null) return fail('returned no record of outputs');
  const record = raw as Record<string, unknown>;
  for (const port of Object.keys(record)) {
    if (!(port in node.op.outputs) && record[port] !== undefined) fail(`returned an undeclared output '${port}'`);
  }
  const values: Record<string, Value> = {};
  for (const [port, decl] of Object.entries(node.op.outputs)) {
    let v = record[port];
    if (v === undefined) {
      if (!decl.optional) fail(`returned no value for output '${port}'`);
      continue;
    }
    // An operator may pass an input through; the engine owns outputs, so give it its own handle.
    v = mapTensors(v, (t) => (inputTensors.has(t) ? tf.clone(t) : t));
    const problem = checkValue(decl, v, node.outputs[port], tf);
    if (problem) fail(`output '${port}': ${problem}`);
    values[port] = wrap(decl, v);
  }
  return values;
}

function checkValue(port: Port, v: unknown, meta: Meta | undefined, tf: TF): string | undefined {
  switch (port.kind) {
    case 'tensor': {
      if (!(v instanceof tf.Tensor)) return 'expected a tensor';
      if (meta?.kind === 'tensor' && meta.shape) {
        const static_ = meta.shape;
        const mismatch = static_.length !== v.shape.length || static_.some((d, i) => typeof d === 'number' && d !== v.shape[i]);
        if (mismatch) return `shape inference said ${formatShape(static_)} but the run produced ${formatShape(v.shape)} (an operator bug)`;
      }
      return undefined;
    }
    case 'tensors':
      if (typeof v !== 'object' || v === null || Object.values(v).some((t) => !(t instanceof tf.Tensor))) return 'expected a record of tensors';
      return undefined;
    case 'table': {
      const t = v as { columns?: unknown; rows?: unknown };
      if (!Array.isArray(t.columns) || !Array.isArray(t.rows)) return 'expected a table {columns, rows}';
      return undefined;
    }
    case 'json':
      return undefined;
  }
}

function wrap(port: Port, v: unknown): Value {
  switch (port.kind) {
    case 'tensor':
      return { kind: 'tensor', tensor: v as Tensor };
    case 'tensors':
      return { kind: 'tensors', tensors: v as Record<string, Tensor> };
    case 'table':
      return { kind: 'table', table: v as never };
    case 'json':
      return { kind: 'json', json: v as JsonValue };
  }
}

function isTensorLike(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && 'dataId' in v && 'shape' in v && typeof (v as Tensor).dispose === 'function';
}

/** Every tensor reachable in a value (records, arrays, Values). */
export function collectTensors(v: unknown, out: Tensor[] = []): Tensor[] {
  if (isTensorLike(v)) out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => collectTensors(x, out));
  else if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) Object.values(v).forEach((x) => collectTensors(x, out));
  return out;
}

/** Copies a structure, replacing each tensor with fn(tensor). */
function mapTensors<T>(v: unknown, fn: (t: Tensor) => T): any {
  if (isTensorLike(v)) return fn(v);
  if (Array.isArray(v)) return v.map((x) => mapTensors(x, fn));
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapTensors(x, fn)]));
  }
  return v;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as PromiseLike<unknown>)?.then === 'function';
}
