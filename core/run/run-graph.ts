/**
 * Stages 4–5: run a planned graph. Picks the backend, schedules nodes reactively, serves results
 * from the cache or computes them through the lifecycle helper, frees each tensor once its last
 * consumer is done, and returns the outputs (owned by the caller) with a manifest.
 */
import path from 'node:path';
import { ReplaySubject, lastValueFrom, type Observable } from 'rxjs';
import { toArray } from 'rxjs/operators';
import { Cache, defaultCacheDir } from '../cache/cache.js';
import { nodeCheckpoint } from '../cache/checkpoint.js';
import { CheckpointStore } from '../cache/checkpoint-store.js';
import { fromStored, toStored, type StoredResult, type StoredValue } from '../cache/stored.js';
import { GraphError } from '../diagnostics.js';
import { dependencies } from '../graph/build-dag.js';
import { canonicalJson, sha256Hex } from '../io/hash.js';
import type { ClaimRecord, Manifest, NodeRecord } from '../io/manifest.js';
import type { TF } from '../operator/context.js';
import { OperatorError } from '../operator/errors.js';
import type { JsonValue, Value } from '../operator/values.js';
import type { Plan } from '../plan/plan-graph.js';
import { buildGraph, planBuilt, type PrepareOptions, type Prepared } from '../prepare.js';
import { KERNELFLOW_VERSION } from '../version.js';
import { activateBackend, type BackendName } from './backends.js';
import { callOperator, collectTensors } from './call-operator.js';
import { nativeManifestDetail } from './native-addon.js';
import type { NodeError, NodeStatus, RunEvent } from './events.js';
import { graphRecord, graphRecordName } from './graph-record.js';
import { resolveParamRefs } from './resolve-param-refs.js';
import { scheduleDag } from './schedule.js';

export interface RunOptions extends Omit<PrepareOptions, 'backend'> {
  backend?: 'auto' | BackendName;
  /**
   * false turns caching off; a Cache shares its tiers across runs (e.g. a sweep); otherwise the
   * tiers to use (defaults: 256 MB memory, `.kernelflow/cache`).
   */
  cache?: false | Cache | { memoryBytes?: number; dir?: string | null };
  signal?: AbortSignal;
}

export interface RunResult {
  status: 'ok' | 'failed' | 'cancelled';
  /** The graph's outputs that were produced; the caller owns their tensors (see dispose). */
  outputs: Record<string, Value>;
  /** The same outputs as plain bytes, for writing. */
  stored: Record<string, StoredValue>;
  manifest: Manifest;
  prepared: Prepared;
  /** Frees the output tensors. */
  dispose(): void;
}

export interface RunHandle {
  /** Every event of the run, replayed to late subscribers. */
  events: Observable<RunEvent>;
  result: Promise<RunResult>;
}

const NOTES_PORT = '#notes';

/** Runs a graph file or document. `result` rejects with GraphError when the graph is invalid. */
export function runGraph(source: string | object, options: RunOptions = {}): RunHandle {
  const events = new ReplaySubject<RunEvent>();
  const result = execute(source, options, (e) => events.next(e)).then(
    (r) => {
      events.complete();
      return r;
    },
    (err) => {
      events.error(err);
      throw err;
    },
  );
  // The promise is the primary channel; an unobserved stream error must not crash the process.
  events.subscribe({ error: () => {} });
  return { events: events.asObservable(), result };
}

async function execute(source: string | object, options: RunOptions, emit: (e: RunEvent) => void): Promise<RunResult> {
  const startedAt = new Date();
  const t0 = performance.now();
  // Validate and build before loading tfjs; plan once the backend (part of every key) is known.
  const built = await buildGraph(source, options);
  const active = await activateBackend(options.backend ?? 'auto');
  const tf = active.tf;
  const plan = await planBuilt(built, { backend: active.name, dataDirs: options.dataDirs });
  const prepared: Prepared = { ...built, plan };
  const graph = prepared.graph;
  const warnings: string[] = [];
  const warn = (message: string, node?: string) => {
    warnings.push(node ? `${node}: ${message}` : message);
    emit({ type: 'warning', node, message });
  };
  const cache = options.cache === false ? undefined : options.cache instanceof Cache ? options.cache : new Cache({
    memoryBytes: options.cache?.memoryBytes ?? 256e6,
    dir: options.cache?.dir === undefined ? defaultCacheDir(process.cwd()) : options.cache.dir,
    onWarning: (m) => warn(m),
  });
  // Checkpoints live beside the disk tier; without one there is nowhere durable to resume from.
  const checkpoints = cache?.disk ? new CheckpointStore(cache.disk.dir) : undefined;
  const signal = options.signal ?? new AbortController().signal;
  emit({ type: 'run-start', graph: graph.name, backend: active.name, backendReason: active.reason, nodes: plan.order.length, plugins: prepared.plugins.map((p) => p.file), time: startedAt.toISOString() });

  const outputNodes = new Set(Object.values(prepared.dag.outputs).map((r) => r.node));
  const results = new Map<string, Record<string, Value>>();
  const storedOutputs = new Map<string, StoredResult>();
  const records: Record<string, NodeRecord> = {};
  // How many consumers still need each node's values; freed at zero unless it is a graph output.
  const pending = new Map<string, number>();
  for (const id of plan.order) pending.set(id, 0);
  for (const id of plan.order) for (const up of upstreamOf(plan, id)) pending.set(up, pending.get(up)! + 1);
  const release = (id: string) => {
    for (const up of upstreamOf(plan, id)) {
      const left = pending.get(up)! - 1;
      pending.set(up, left);
      if (left === 0 && !outputNodes.has(up)) disposeValues(tf, results.get(up));
    }
  };

  let barrier: Promise<void> = Promise.resolve();
  const exclusive = async <T>(fn: () => Promise<T>): Promise<T> => {
    const previous = barrier;
    let open!: () => void;
    barrier = new Promise<void>((r) => (open = r));
    await previous;
    try {
      return await fn();
    } finally {
      open();
    }
  };

  const newRecord = (id: string): NodeRecord => {
    const node = plan.nodes.get(id)!;
    const record: NodeRecord = { op: node.op.id, opVersion: node.op.version, cacheKey: node.key, cache: cache ? 'miss' : 'off', ms: 0, status: 'ok', outputs: {} };
    records[id] = record;
    return record;
  };
  const claimValues = new Map<string, JsonValue>();
  const accept = (id: string, record: NodeRecord, values: Record<string, Value>, stored: StoredResult) => {
    const { [NOTES_PORT]: notes, ...ports } = stored;
    if (ports.claim?.kind === 'json') claimValues.set(id, ports.claim.json);
    if (notes?.kind === 'json' && record.notes === undefined) record.notes = notes.json as Record<string, JsonValue>;
    record.outputs = describeOutputs(ports);
    results.set(id, values);
    if (outputNodes.has(id)) storedOutputs.set(id, ports);
  };
  // Promises of results being computed, by key: a second node with the same key in this run (the
  // same block used twice) waits for the first instead of computing again.
  const inflight = new Map<string, { promise: Promise<StoredResult>; resolve(r: StoredResult): void; reject(e: unknown): void }>();

  /** A node's result without its inputs: from a twin in flight, or from the cache. */
  const lookup = async (id: string): Promise<NodeStatus | undefined> => {
    const node = plan.nodes.get(id)!;
    // A node with `$from` params knows its final key only once its upstream results exist.
    if (!cache || node.keyNote !== undefined || node.paramRefs.length || signal.aborted) return undefined;
    const twin = inflight.get(node.key);
    const start = performance.now();
    let hit: { result: StoredResult; tier: 'memory' | 'disk' } | undefined;
    if (twin) {
      try {
        hit = { result: await twin.promise, tier: 'memory' };
      } catch {
        return undefined; // the twin failed: this node computes (and fails) on its own
      }
    } else {
      // Claim the key before the first await: a twin looked up while the cache is read waits for
      // this node instead of reading, missing and computing too.
      let settle!: { resolve(r: StoredResult): void; reject(e: unknown): void };
      const promise = new Promise<StoredResult>((resolve, reject) => (settle = { resolve, reject }));
      promise.catch(() => {}); // without a twin nobody awaits it
      inflight.set(node.key, { promise, ...settle });
      hit = await cache.get(node.key).catch(() => undefined);
      if (!hit) return undefined; // this node computes; runNode settles the claim
      settle.resolve(hit.result);
      inflight.delete(node.key);
    }
    const record = newRecord(id);
    emit({ type: 'node-start', node: id, op: node.op.id, time: new Date().toISOString() });
    record.cache = 'hit';
    record.tier = hit.tier;
    accept(id, record, fromStoredResult(hit.result, tf), hit.result);
    release(id);
    return finish(record, 'ok', id, start);
  };

  /** Computes a node whose inputs are ready, checks and caches the result. */
  const runNode = async (id: string): Promise<NodeStatus> => {
    const node = plan.nodes.get(id)!;
    const record = newRecord(id);
    const twin = inflight.get(node.key);
    if (signal.aborted) {
      twin?.reject(new Error('cancelled'));
      release(id);
      return finish(record, 'cancelled', id, 0);
    }
    emit({ type: 'node-start', node: id, op: node.op.id, time: new Date().toISOString() });
    const start = performance.now();
    let values: Record<string, Value> | undefined;
    try {
      await barrier;
      const inputs = inputsOf(plan, id, results);
      let target = node;
      if (node.paramRefs.length) {
        target = resolveParamRefs(node, results, inputs, prepared.registry, plan.resolvePath);
        record.cacheKey = target.key;
        record.resolvedParams = target.params;
        const hit = cache && node.keyNote === undefined ? await cache.get(target.key) : undefined;
        if (hit) {
          record.cache = 'hit';
          record.tier = hit.tier;
          twin?.resolve(hit.result);
          accept(id, record, fromStoredResult(hit.result, tf), hit.result);
          return finish(record, 'ok', id, start);
        }
      }
      const checkpoint = checkpoints && node.keyNote === undefined ? nodeCheckpoint(checkpoints, target.key, tf, {
        warn: (m) => warn(m, id),
        saved: (step) => emit({ type: 'checkpoint', node: id, step }),
        resumed: (step) => emit({ type: 'resumed', node: id, step }),
      }) : undefined;
      const called = await callOperator(target, inputs, {
        tf, backend: active.name, signal, resolvePath: plan.resolvePath, exclusive,
        progress: (p) => emit({ type: 'progress', node: id, ...p }),
        warn: (m) => warn(m, id),
        checkpoint,
      });
      values = called.values;
      if (called.fallback) record.fallback = called.fallback;
      if (Object.keys(called.notes).length) record.notes = called.notes;
      const stored = await toStoredResult(values, called.notes);
      checkFinite(stored, node.op.id);
      if (signal.aborted) throw signal.reason ?? new Error('cancelled');
      if (cache && node.keyNote === undefined) {
        await cache.put(target.key, stored);
        // The result is cached now: the node's checkpoint has served its purpose.
        await checkpoints?.delete(target.key).catch((e: Error) => warn(`checkpoint ${target.key} could not be removed (${e.message})`, id));
      }
      twin?.resolve(stored);
      accept(id, record, values, stored);
      return finish(record, 'ok', id, start);
    } catch (err) {
      twin?.reject(err);
      disposeValues(tf, values);
      results.delete(id);
      if (signal.aborted) return finish(record, 'cancelled', id, start);
      record.error = toNodeError(err);
      return finish(record, 'failed', id, start);
    } finally {
      if (twin) inflight.delete(node.key);
      release(id);
    }
  };

  function finish(record: NodeRecord, status: NodeStatus, id: string, start: number): NodeStatus {
    record.status = status;
    record.ms = start ? round(performance.now() - start) : 0;
    emit({ type: 'node-end', node: id, op: record.op, status, cache: record.cache, tier: record.tier, ms: record.ms, error: record.error, fallback: record.fallback });
    return status;
  }

  // Demanded directly: the graph's outputs and every node nothing consumes (e.g. a check).
  const consumed = new Set(plan.order.flatMap((id) => upstreamOf(plan, id)));
  const roots = plan.order.filter((id) => outputNodes.has(id) || !consumed.has(id));
  await lastValueFrom(
    scheduleDag<NodeStatus>({
      order: plan.order,
      upstream: (id) => upstreamOf(plan, id),
      roots,
      lookup,
      run: runNode,
      succeeded: (s) => s === 'ok',
      blocked: (id, bad) => {
        const status: NodeStatus = bad.some((b) => b.outcome === 'cancelled') || signal.aborted ? 'cancelled' : 'skipped';
        const record = newRecord(id);
        const node = plan.nodes.get(id)!;
        inflight.get(node.key)?.reject(new Error(`upstream of '${id}' did not succeed`));
        inflight.delete(node.key);
        if (status === 'skipped') record.error = { code: 'upstream_failed', message: `skipped: upstream ${bad.map((b) => `'${b.id}'`).join(', ')} did not succeed` };
        release(id);
        return finish(record, status, id, 0);
      },
    }).pipe(toArray()),
  );
  // Nodes nobody needed: everything downstream of them came from the cache.
  for (const id of plan.order) {
    if (!records[id]) {
      const record = newRecord(id);
      record.status = 'unneeded';
      record.cache = 'unused';
      record.outputs = Object.fromEntries(Object.entries(plan.nodes.get(id)!.outputs).map(([port, m]) => [port, m.kind === 'tensor' ? { kind: 'tensor', shape: m.shape?.map((d) => (typeof d === 'number' ? d : -1)), dtype: m.dtype } : { kind: m.kind }]));
    }
  }

  const statuses = Object.values(records).map((r) => r.status);
  const status = statuses.includes('failed') ? 'failed' : statuses.includes('cancelled') ? 'cancelled' : 'ok';
  const outputs: Record<string, Value> = {};
  const stored: Record<string, StoredValue> = {};
  for (const [name, ref] of Object.entries(prepared.dag.outputs)) {
    const v = results.get(ref.node)?.[ref.port];
    if (v) {
      outputs[name] = v;
      stored[name] = storedOutputs.get(ref.node)![ref.port];
    }
  }
  // Whatever is left that is not returned is freed: intermediates, and output nodes' other ports.
  for (const [id, values] of results) if (!outputNodes.has(id)) disposeValues(tf, values);
  for (const id of outputNodes) {
    const used = new Set(Object.values(prepared.dag.outputs).filter((r) => r.node === id).map((r) => r.port));
    for (const [port, v] of Object.entries(results.get(id) ?? {})) if (!used.has(port)) disposeValues(tf, { [port]: v });
  }
  if (cache) await cache.writeRecord(graphRecordName(graph), graphRecord(plan) as unknown as JsonValue);

  const ms = round(performance.now() - t0);
  emit({ type: 'run-end', status, ms });
  const manifest: Manifest = {
    kernelflow: KERNELFLOW_VERSION,
    status,
    graph: { name: graph.name, file: graph.file, sha256: resolvedGraphHash(prepared) },
    invocation: {
      file: typeof source === 'string' ? path.resolve(source) : '<inline>',
      sets: options.sets ?? {},
      ...(options.variant !== undefined ? { variant: options.variant } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
    },
    params: graph.params,
    seed: graph.seed,
    backend: { name: active.name, reason: active.reason, ...(active.name === 'native' ? { detail: nativeManifestDetail() } : {}) },
    versions: { kernelflow: KERNELFLOW_VERSION, tfjs: tf.version_core, node: process.versions.node },
    plugins: prepared.plugins.map((p) => ({ spec: p.spec, file: p.file, operators: p.operators })),
    nodes: Object.fromEntries(plan.order.map((id) => [id, records[id]])),
    outputs: Object.fromEntries(Object.entries(prepared.dag.outputs).map(([name, ref]) => [name, { node: ref.node, port: ref.port, kind: prepared.dag.nodes.get(ref.node)!.op.outputs[ref.port].kind }])),
    claims: collectClaims(plan, records, claimValues),
    warnings,
    startedAt: startedAt.toISOString(),
    durationMs: ms,
  };
  return { status, outputs, stored, manifest, prepared, dispose: () => disposeValues(tf, outputs) };
}

/** The verdict of every node with a json `claim` output, in schedule order. */
function collectClaims(plan: Plan, records: Record<string, NodeRecord>, values: Map<string, JsonValue>): ClaimRecord[] {
  const claims: ClaimRecord[] = [];
  for (const id of plan.order) {
    const node = plan.nodes.get(id)!;
    if (node.op.outputs.claim?.kind !== 'json') continue;
    const v = values.get(id) as { pass?: unknown; value?: JsonValue; message?: unknown } | undefined;
    if (v && typeof v.pass === 'boolean') {
      claims.push({ node: id, op: node.op.id, pass: v.pass, value: v.value ?? null, message: String(v.message ?? '') });
    } else {
      const status = records[id]?.status ?? 'not run';
      claims.push({ node: id, op: node.op.id, pass: false, value: null, message: `not evaluated: the node ${status === 'unneeded' ? 'was not run' : status}${records[id]?.error ? ` (${records[id].error!.message})` : ''}` });
    }
  }
  return claims;
}

/** sha256 of the canonical resolved graph: equal for documents that mean the same run. */
export function resolvedGraphHash(prepared: Prepared): string {
  const g = prepared.graph;
  return sha256Hex(canonicalJson({ kernelflow: '1', name: g.name, seed: g.seed, params: g.params, plugins: g.plugins, outputs: g.outputs,
    nodes: Object.fromEntries(prepared.dag.order.map((id) => [id, { op: prepared.dag.nodes.get(id)!.op.id, params: prepared.dag.nodes.get(id)!.params, inputs: g.nodes[id].inputs }])) }));
}

function upstreamOf(plan: Plan, id: string): string[] {
  return dependencies(plan.nodes.get(id)!);
}

function inputsOf(plan: Plan, id: string, results: Map<string, Record<string, Value>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const raw = (v: Value) => (v.kind === 'tensor' ? v.tensor : v.kind === 'tensors' ? v.tensors : v.kind === 'table' ? v.table : v.json);
  for (const [port, wired] of Object.entries(plan.nodes.get(id)!.inputs)) {
    const lookup = (ref: { node: string; port: string }) => {
      const v = results.get(ref.node)?.[ref.port];
      if (!v) throw new OperatorError('missing_input', `input '${port}': upstream '${ref.node}' produced no '${ref.port}'`);
      return raw(v);
    };
    out[port] = Array.isArray(wired) ? wired.map(lookup) : lookup(wired);
  }
  return out;
}

async function toStoredResult(values: Record<string, Value>, notes: Record<string, JsonValue>): Promise<StoredResult> {
  const out: StoredResult = {};
  for (const [port, v] of Object.entries(values)) out[port] = await toStored(v);
  if (Object.keys(notes).length) out[NOTES_PORT] = { kind: 'json', json: notes };
  return out;
}

function fromStoredResult(stored: StoredResult, tf: TF): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const [port, v] of Object.entries(stored)) if (port !== NOTES_PORT) out[port] = fromStored(v, tf);
  return out;
}

/** NaN or ±Inf in a float output is a numerical failure, never a result. */
function checkFinite(stored: StoredResult, op: string): void {
  for (const [port, v] of Object.entries(stored)) {
    const tensors = v.kind === 'tensor' ? { [port]: v.tensor } : v.kind === 'tensors' ? v.tensors : {};
    for (const [name, t] of Object.entries(tensors)) {
      if (t.dtype !== 'float32') continue;
      let bad = 0;
      let first = -1;
      for (let i = 0; i < t.data.length; i++) {
        if (!Number.isFinite(t.data[i])) {
          bad++;
          if (first < 0) first = i;
        }
      }
      if (bad) {
        throw new OperatorError('non_finite_output', `${op} produced ${bad} non-finite value(s) in output '${name}' (first at flat index ${first}, value ${t.data[first]})`, { port: name, count: bad, firstIndex: first });
      }
    }
  }
}

function describeOutputs(stored: StoredResult): NodeRecord['outputs'] {
  const out: NodeRecord['outputs'] = {};
  for (const [port, v] of Object.entries(stored)) {
    out[port] = v.kind === 'tensor' ? { kind: 'tensor', shape: v.tensor.shape, dtype: v.tensor.dtype } : { kind: v.kind };
  }
  return out;
}

function disposeValues(tf: TF, values: Record<string, Value> | undefined): void {
  if (values) tf.dispose(collectTensors(Object.values(values)));
}

function toNodeError(err: unknown): NodeError {
  if (err instanceof OperatorError) return { code: err.code, message: err.message, details: err.details };
  if (err instanceof GraphError) return { code: 'graph', message: err.message };
  const e = err as Error;
  return { code: e?.name === 'ParamError' ? 'params' : 'error', message: e?.message ?? String(err) };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
