/**
 * bench/gp — exact GP predict (mean + var at --test points) and LML + gradient (Cholesky, and CG with the
 * Hutchinson trace estimate) at n = --sizes, d = 8, RBF (ℓ = √8, s = 1, σ² = 0.1), and SGPR / SVGP (optimal q,
 * m = --m inducing points) at n = --sgpr, on each tfjs backend. bench/peers/gp.py runs in the same run on the
 * same data (written here as .npy): scikit-learn when importable, else a numpy/scipy float64 reference of the
 * same computations (labelled as such). Both timings and the max errors against the peer's values are printed.
 *
 *   npx tsx bench/gp.ts [--sizes 500,1000,2000,4000] [--sgpr 10000,50000] [--m 256] [--test 1000]
 *                       [--backends wasm] [--reps 1]
 */
import { spawnSync } from 'node:child_process';
import { arg, list, PYTHON } from './shared.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '@tensorflow/tfjs-core';
import { encodeNpy } from '../core/io/npy.js';
import type { JsonValue, RunContext } from '../core/operator/index.js';
import { activateBackend, type BackendName, type TF } from '../core/run/backends.js';
import { exact, sparse } from '../operators/gp/index.js';

const sizes = list(arg('sizes', '500,1000,2000,4000')).map(Number);
const sgprSizes = list(arg('sgpr', '10000,50000')).map(Number);
const m = Number(arg('m', '256'));
const nTest = Number(arg('test', '1000'));
const backends = list(arg('backends', 'wasm')) as BackendName[];
const reps = Number(arg('reps', '1'));
const kernel = { type: 'rbf' as const, lengthscale: Math.sqrt(8), outputscale: 1 };
const D = 8;

function ctxFor(tf: TF): RunContext {
  return {
    tf, node: 'bench', op: 'bench', seed: 1, backend: tf.getBackend(), signal: new AbortController().signal,
    progress: () => {}, warn: () => {}, note: (_k: string, _v: JsonValue) => {}, resolvePath: (p) => p,
  };
}

/** Deterministic standard normals (LCG + Box–Muller), float32. */
function normals(count: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u()));
    const t = 2 * Math.PI * u();
    out[i] = r * Math.cos(t);
    if (i + 1 < count) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

/** The data set of size n (x, y = sin(Σx) + 0.1·ε) and the shared test inputs, also written for the peer. */
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-gp-'));
const host = new Map<number, { x: Float32Array; y: Float32Array }>();
const xsHost = normals(nTest * D, 5);
fs.writeFileSync(path.join(dataDir, 'xs.npy'), encodeNpy({ dtype: 'float32', shape: [nTest, D], data: xsHost }));
for (const n of [...sizes, ...sgprSizes]) {
  if (host.has(n)) continue;
  const x = normals(n * D, 3 + n);
  const e = normals(n, 4 + n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += x[i * D + j];
    y[i] = Math.sin(s) + 0.1 * e[i];
  }
  host.set(n, { x, y });
  fs.writeFileSync(path.join(dataDir, `x_${n}.npy`), encodeNpy({ dtype: 'float32', shape: [n, D], data: x }));
  fs.writeFileSync(path.join(dataDir, `y_${n}.npy`), encodeNpy({ dtype: 'float32', shape: [n], data: y }));
}

type PeerRow = { op: string; n: number; who: string; seconds: number; mean?: number[]; var?: number[]; lml?: number; grad?: number[]; elbo?: number };
function peers(): { rows: PeerRow[]; meta: string } | { why: string } {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'peers', 'gp.py');
  const r = spawnSync(
    PYTHON,
    [script, '--data', dataDir, '--sizes', sizes.join(','), '--sgpr', sgprSizes.join(','), '--m', String(m), '--test', String(nTest), '--reps', String(reps)],
    { encoding: 'utf8', timeout: 30 * 60_000, maxBuffer: 1 << 28 },
  );
  if (r.error || r.status !== 0) return { why: `python3 peer failed: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}` };
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  if (out.error) return { why: out.error };
  return { rows: out.rows, meta: `reference ${out.reference}; numpy ${out.numpy}, scikit-learn ${out.sklearn ?? 'not installed'}` };
}

/** Best-of-reps seconds and the last run's outputs read to the host. */
async function time(fn: () => Promise<Record<string, unknown>>): Promise<{ s: number; vals: Record<string, number[]>; info: Record<string, unknown> }> {
  let best = Infinity;
  let vals: Record<string, number[]> = {};
  let info: Record<string, unknown> = {};
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const out = await fn();
    const ts = Object.entries(out).filter((e): e is [string, Tensor] => !!e[1] && typeof e[1] === 'object' && 'dataId' in (e[1] as object));
    const data = await Promise.all(ts.map(([, t]) => t.data()));
    best = Math.min(best, (performance.now() - t0) / 1000);
    vals = Object.fromEntries(ts.map(([k], j) => [k, Array.from(data[j])]));
    info = (out.info ?? {}) as Record<string, unknown>;
    ts.forEach(([, t]) => t.dispose());
  }
  return { s: best, vals, info };
}

/** max |a − b| / max(1e-3, max |b|). */
const err = (a: number[] | undefined, b: number[] | undefined) => {
  if (!a || !b) return NaN;
  const scale = Math.max(1e-3, ...b.map(Math.abs));
  return Math.max(...b.map((v, i) => Math.abs(a[i] - v))) / scale;
};

type Mine = { backend: string; op: string; label: string; n: number; s: number; vals: Record<string, number[]>; note?: string };
const mine: Mine[] = [];
for (const backend of backends) {
  const { tf } = await activateBackend(backend);
  const ctx = ctxFor(tf);
  const xs = tf.tensor2d(xsHost, [nTest, D]);
  const tensors = (n: number) => ({ x: tf.tensor2d(host.get(n)!.x, [n, D]), y: tf.tensor1d(host.get(n)!.y) });
  const base = {
    kernel, noise: 0.1, mean: 0, solver: 'cholesky', jitter: 'auto', cg_tol: 1e-4, max_iter: 1000, precond_rank: 15, cg_strict: false,
    logdet: 'exact', slq_probes: 10, num_probes: 10, chunk: 2048,
  };
  for (const n of sizes) {
    const { x, y } = tensors(n);
    const pred = await time(async () => (await exact.run({ x, y, x_test: xs }, { ...base, grad: false }, ctx)) as Record<string, unknown>);
    const grad = await time(async () => (await exact.run({ x, y }, { ...base, grad: true }, ctx)) as Record<string, unknown>);
    const cgGrad = await time(async () => (await exact.run({ x, y }, { ...base, solver: 'cg', grad: true }, ctx)) as Record<string, unknown>);
    mine.push({ backend, op: 'predict', label: `exact predict (mean+var, ${nTest} test)`, n, ...pred });
    mine.push({ backend, op: 'lml_grad', label: 'exact LML + gradient (cholesky)', n, ...grad });
    mine.push({ backend, op: 'lml_grad', label: 'exact LML + gradient (cg, 10 probes: estimate)', n, ...cgGrad, note: `cg_iters ${cgGrad.info.cg_iters}` });
    console.error(`${backend} n=${n}: predict ${pred.s.toFixed(3)} s, grad ${grad.s.toFixed(3)} s, cg grad ${cgGrad.s.toFixed(3)} s`);
    tf.dispose([x, y]);
  }
  for (const n of sgprSizes) {
    const { x, y } = tensors(n);
    const z = tf.slice(x, [0, 0], [m, -1]);
    for (const method of ['sgpr', 'svgp'] as const) {
      const r = await time(async () => (await sparse.run({ x, z, y, x_test: xs }, { method, kernel, noise: 0.1, jitter: 'auto', chunk: 4096 }, ctx)) as Record<string, unknown>);
      mine.push({ backend, op: 'sgpr', label: `${method} m=${m} (ELBO + predict ${nTest})`, n, ...r });
      console.error(`${backend} n=${n}: ${method} ${r.s.toFixed(3)} s`);
    }
    tf.dispose([x, y, z]);
  }
  xs.dispose();
}
const peer = peers();
fs.rmSync(dataDir, { recursive: true, force: true });
console.log(`machine: ${os.cpus().length}× ${os.cpus()[0]?.model}, Node ${process.version}, load ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`);
const find = (op: string, n: number) => ('rows' in peer ? peer.rows.find((r) => r.op === op && r.n === n) : undefined);
console.log('\nkernelflow (errors: max |Δ| / max |ref| against the peer row of the same n):');
console.log('| backend | what | n | seconds | mean err | var err | LML / ELBO rel err | grad err | note |\n|---|---|---|---|---|---|---|---|---|');
const f = (v: number) => (Number.isFinite(v) ? v.toExponential(1) : '–');
for (const r of mine) {
  const p = find(r.op, r.n);
  const scalar = r.vals.lml?.[0] ?? r.vals.elbo?.[0];
  const ref = p?.lml ?? p?.elbo;
  const sErr = scalar !== undefined && ref !== undefined ? Math.abs(scalar - ref) / Math.abs(ref) : NaN;
  console.log(`| ${r.backend} | ${r.label} | ${r.n} | ${r.s.toFixed(3)} | ${f(err(r.vals.mean, p?.mean))} | ${f(err(r.vals.var, p?.var))} | ${f(sErr)} | ${f(err(r.vals.lml_grad, p?.grad))} | ${r.note ?? ''} |`);
}
if ('why' in peer) console.log(`\npeers skipped: ${peer.why}`);
else {
  console.log(`\npeer (${peer.meta}):\n| who | what | n | seconds |\n|---|---|---|---|`);
  for (const r of peer.rows) console.log(`| ${r.who} | ${r.op} | ${r.n} | ${r.seconds.toFixed(3)} |`);
}
