/**
 * The conformance kit plugin authors run against their own operators (and CI runs against every
 * built-in one): the params schema is valid and its defaults satisfy it; on each example, on each
 * backend, the operator runs through the real engine (which checks declared shapes against the
 * actual outputs and rejects NaN/Inf), leaks no tensor, and gives the same results everywhere.
 */
import { createAjv } from '../document/ajv.js';
import type { StoredValue } from '../cache/stored.js';
import type { ExampleInput, Operator, OperatorExample } from '../operator/define-operator.js';
import type { OperatorRegistry } from '../operator/registry.js';
import { createRegistry } from '../prepare.js';
import { activateBackend, type BackendName } from '../run/backends.js';
import { runGraph } from '../run/run-graph.js';

export interface ConformanceCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface ConformanceReport {
  op: string;
  ok: boolean;
  checks: ConformanceCheck[];
}

export interface ConformanceOptions {
  /** Backends to run on and compare (default wasm and cpu). */
  backends?: BackendName[];
  /** Cross-backend tolerance: |a − b| ≤ atol + rtol·max|a| per output. */
  rtol?: number;
  atol?: number;
  /** A registry that already holds the operator (default: the built-ins plus the operator). */
  registry?: OperatorRegistry;
}

export async function checkOperator(op: Operator, options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const checks: ConformanceCheck[] = [];
  const check = (name: string, ok: boolean, detail?: string) => checks.push({ name, ok, ...(detail ? { detail } : {}) });
  const backends = options.backends ?? ['wasm', 'cpu'];
  const registry = options.registry ?? (await createRegistry());
  if (registry.get(op.id) !== op) registry.register(op, 'conformance');

  const ajv = createAjv();
  const props = (op.params as { properties?: Record<string, { default?: unknown }> }).properties ?? {};
  const badDefaults = Object.entries(props).filter(([, s]) => s.default !== undefined && !ajv.validate(s, s.default)).map(([k]) => k);
  check('defaults satisfy their own schemas', badDefaults.length === 0, badDefaults.length ? `invalid defaults: ${badDefaults.join(', ')}` : undefined);
  const examples = op.examples ?? [];
  check('has examples', examples.length > 0, examples.length ? undefined : 'add `examples` to the definition so it can be checked');

  for (const [i, example] of examples.entries()) {
    const label = `example ${i + 1}${example.description ? ` (${example.description})` : ''}`;
    const graph = exampleGraph(op, example, i);
    const results = new Map<string, Record<string, StoredValue>>();
    for (const backend of backends) {
      const active = await activateBackend(backend);
      const before = active.tf.memory().numTensors;
      const result = await runGraph(graph, { backend, cache: false, registry }).result;
      const node = result.manifest.nodes.op;
      check(`${label} runs on ${backend}`, result.status === 'ok', node?.error ? `[${node.error.code}] ${node.error.message}` : undefined);
      if (result.status === 'ok') results.set(backend, result.stored);
      result.dispose();
      const leaked = active.tf.memory().numTensors - before;
      check(`${label} leaks no tensor on ${backend}`, leaked === 0, leaked ? `${leaked} tensor(s) left behind` : undefined);
    }
    const [first, ...rest] = [...results.entries()];
    for (const [backend, stored] of rest) {
      // Measurements of the machine (op.measured: wall-clock time) differ by backend by nature.
      const computed = (r: Record<string, StoredValue>) => Object.fromEntries(Object.entries(r).filter(([port]) => !op.measured?.[port]));
      const problem = compare(computed(first[1]), computed(stored), options.rtol ?? 1e-3, options.atol ?? 1e-5);
      check(`${label} agrees on ${first[0]} and ${backend}`, problem === undefined, problem);
    }
  }
  return { op: op.id, ok: checks.every((c) => c.ok), checks };
}

/** A graph feeding the example's inputs (seeded random values) to one node of the operator. */
export function exampleGraph(op: Operator, example: OperatorExample, seed: number): object {
  const random = mulberry32(0x9e3779b9 ^ (seed + 1));
  const nodes: Record<string, object> = {};
  const inputs: Record<string, string | string[]> = {};
  let n = 0;
  const shared = new Map<string, string>();
  const wire = (specs: Record<string, ExampleInput | ExampleInput[]>): Record<string, string | string[]> =>
    Object.fromEntries(Object.entries(specs).map(([port, spec]) => [port, Array.isArray(spec) ? spec.map(source) : source(spec)]));
  const source = (spec: ExampleInput): string => {
    if ('from' in spec) {
      const { op: upstream, port, params, inputs: upstreamInputs, key } = spec.from;
      let id = key ? shared.get(key) : undefined;
      if (!id) {
        id = `in${n++}`;
        nodes[id] = { op: upstream, params: params ?? {}, inputs: wire(upstreamInputs ?? {}) };
        if (key) shared.set(key, id);
      }
      return `${id}.${port}`;
    }
    const id = `in${n++}`;
    nodes[id] = 'json' in spec ? { op: 'data.json', params: { value: spec.json } } : { op: 'data.constant', params: { value: fill(spec, random), ...(spec.fill === 'int' ? { dtype: 'int32' } : {}) } };
    return id;
  };
  Object.assign(inputs, wire(example.inputs));
  nodes.op = { op: op.id, inputs, params: example.params ?? {} };
  const outputs = Object.fromEntries(Object.keys(op.outputs).map((port) => [port, `op.${port}`]));
  return { kernelflow: '1', name: `conformance-${op.id}`, seed, nodes, outputs };
}

function fill(spec: { shape: number[]; fill?: string }, random: () => number): unknown {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  let flat: number[];
  if (spec.fill === 'spd') {
    // A batch of well-conditioned SPD matrices: AAᵀ/n + I.
    const n = spec.shape[spec.shape.length - 1];
    flat = [];
    for (let b = 0; b < size / (n * n); b++) {
      const a = Array.from({ length: n * n }, normal);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
        let s = i === j ? 1 : 0;
        for (let k = 0; k < n; k++) s += (a[i * n + k] * a[j * n + k]) / n;
        flat.push(s);
      }
    }
  } else {
    const draw = spec.fill === 'uniform' ? random : spec.fill === 'positive' ? () => Math.abs(normal()) + 0.1 : spec.fill === 'int' ? () => Math.floor(random() * 10) : normal;
    flat = Array.from({ length: size }, draw);
  }
  return nest(flat.map((v) => Math.fround(v)), spec.shape);
}

function nest(flat: number[], shape: number[]): unknown {
  if (shape.length === 0) return flat[0];
  if (shape.length === 1) return flat;
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0] }, (_, i) => nest(flat.slice(i * inner, (i + 1) * inner), shape.slice(1)));
}

function compare(a: Record<string, StoredValue>, b: Record<string, StoredValue>, rtol: number, atol: number): string | undefined {
  for (const [name, va] of Object.entries(a)) {
    const vb = b[name];
    if (!vb || vb.kind !== va.kind) return `output ${name}: present on one backend only`;
    if (va.kind === 'tensor' && vb.kind === 'tensor') {
      const [x, y] = [va.tensor, vb.tensor];
      if (x.shape.join() !== y.shape.join()) return `output ${name}: shapes [${x.shape}] and [${y.shape}]`;
      let scale = 0;
      for (let i = 0; i < x.data.length; i++) scale = Math.max(scale, Math.abs(x.data[i]));
      for (let i = 0; i < x.data.length; i++) {
        if (Math.abs(x.data[i] - y.data[i]) > atol + rtol * scale) return `output ${name}[${i}]: ${x.data[i]} vs ${y.data[i]}`;
      }
    } else if (va.kind === 'json' && vb.kind === 'json') {
      const problem = compareJson(va.json, vb.json, rtol, atol);
      if (problem) return `output ${name}: ${problem}`;
    }
  }
  return undefined;
}

function compareJson(a: unknown, b: unknown, rtol: number, atol: number): string | undefined {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= atol + rtol * Math.abs(a) ? undefined : `${a} vs ${b}`;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return 'arrays of different lengths';
    for (let i = 0; i < a.length; i++) {
      const p = compareJson(a[i], b[i], rtol, atol);
      if (p) return `[${i}] ${p}`;
    }
    return undefined;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const p = compareJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], rtol, atol);
      if (p) return `${k}: ${p}`;
    }
    return undefined;
  }
  return a === b ? undefined : `${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}

function mulberry32(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r ^= r + Math.imul(r ^ (r >>> 7), 61 | r);
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/** One line per failed check, for test output and the CLI. */
export function formatReport(report: ConformanceReport): string {
  const failed = report.checks.filter((c) => !c.ok);
  if (!failed.length) return `${report.op}: conformant (${report.checks.length} checks)`;
  return [`${report.op}: ${failed.length} of ${report.checks.length} checks failed`, ...failed.map((c) => `  ✗ ${c.name}${c.detail ? `: ${c.detail}` : ''}`)].join('\n');
}
