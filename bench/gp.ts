/**
 * bench/gp — exact GP predict (mean + var at --test points) and LML + gradient at n = --sizes, d = 8, RBF
 * (ℓ = √8, s = 1, σ² = 0.1), and SGPR (m = --m inducing points) at n = --sgpr, on each tfjs backend, beside
 * numpy float64 and scikit-learn (where installed) timed by bench/peers/gp.py in the same run.
 *
 *   npx tsx bench/gp.ts [--sizes 500,1000,2000,4000] [--sgpr 10000,50000] [--m 256] [--test 1000]
 *                       [--backends wasm] [--reps 1]
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { JsonValue, RunContext } from '../core/operator/index.js';
import { activateBackend, type BackendName, type TF } from '../core/run/backends.js';
import { exact, sparse } from '../operators/gp/index.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
const sizes = list(arg('sizes', '500,1000,2000,4000')).map(Number);
const sgprSizes = list(arg('sgpr', '10000,50000')).map(Number);
const m = Number(arg('m', '256'));
const nTest = Number(arg('test', '1000'));
const backends = list(arg('backends', 'wasm')) as BackendName[];
const reps = Number(arg('reps', '1'));
const kernel = { type: 'rbf' as const, lengthscale: Math.sqrt(8), outputscale: 1 };

function ctxFor(tf: TF): RunContext {
  return {
    tf, node: 'bench', op: 'bench', seed: 1, backend: tf.getBackend(), signal: new AbortController().signal,
    progress: () => {}, warn: () => {}, note: (_k: string, _v: JsonValue) => {}, resolvePath: (p) => p,
  };
}

function peers(): { rows: Array<{ op: string; n: number; who: string; seconds: number }>; meta: string } | { why: string } {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'peers', 'gp.py');
  const r = spawnSync('python3', [script, '--sizes', sizes.join(','), '--sgpr', sgprSizes.join(','), '--m', String(m), '--test', String(nTest), '--reps', String(reps)], { encoding: 'utf8', timeout: 30 * 60_000 });
  if (r.error || r.status !== 0) return { why: `python3 peer failed: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}` };
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  if (out.error) return { why: out.error };
  return { rows: out.rows, meta: `numpy ${out.numpy}, scikit-learn ${out.sklearn ?? 'not installed'}` };
}

async function time(fn: () => Promise<Record<string, unknown>>): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const out = await fn();
    const ts = Object.values(out).filter((v): v is Tensor => !!v && typeof v === 'object' && 'dataId' in (v as object));
    await Promise.all(ts.map((t) => t.data()));
    best = Math.min(best, (performance.now() - t0) / 1000);
    ts.forEach((t) => t.dispose());
  }
  return best;
}

const rows: string[] = [];
for (const backend of backends) {
  const { tf } = await activateBackend(backend);
  const ctx = ctxFor(tf);
  const data = (n: number) => {
    const x = tf.randomNormal([n, 8], 0, 1, 'float32', 3);
    const y = tf.tidy(() => tf.add(tf.sin(tf.sum(x, 1)), tf.randomNormal([n], 0, 0.1, 'float32', 4)));
    const xs = tf.randomNormal([nTest, 8], 0, 1, 'float32', 5);
    return { x, y, xs };
  };
  const base = { kernel, noise: 0.1, mean: 0, solver: 'cholesky', jitter: 'auto', cg_tol: 1e-4, max_iter: 1000, precond_rank: 15, cg_strict: false, logdet: 'exact', slq_probes: 10, chunk: 2048 };
  for (const n of sizes) {
    const { x, y, xs } = data(n);
    const pred = await time(async () => (await exact.run({ x, y, x_test: xs }, { ...base, grad: false }, ctx)) as Record<string, unknown>);
    const grad = await time(async () => (await exact.run({ x, y }, { ...base, grad: true }, ctx)) as Record<string, unknown>);
    rows.push(`${backend} | exact predict (mean+var, ${nTest} test) | ${n} | ${pred.toFixed(3)}`);
    rows.push(`${backend} | exact LML + gradient | ${n} | ${grad.toFixed(3)}`);
    console.error(rows.slice(-2).join('\n'));
    tf.dispose([x, y, xs]);
  }
  for (const n of sgprSizes) {
    const { x, y, xs } = data(n);
    const z = tf.slice(x, [0, 0], [m, -1]);
    const s = await time(async () => (await sparse.run({ x, z, y, x_test: xs }, { method: 'sgpr', kernel, noise: 0.1, jitter: 'auto', chunk: 4096 }, ctx)) as Record<string, unknown>);
    rows.push(`${backend} | sgpr m=${m} (ELBO + predict ${nTest}) | ${n} | ${s.toFixed(3)}`);
    console.error(rows[rows.length - 1]);
    tf.dispose([x, y, xs, z]);
  }
}
const peer = peers();
console.log(`machine: ${os.cpus().length}× ${os.cpus()[0]?.model}, Node ${process.version}, load ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`);
console.log('| backend | what | n | seconds |\n|---|---|---|---|');
for (const r of rows) console.log(`| ${r} |`);
if ('why' in peer) console.log(`peers skipped: ${peer.why}`);
else {
  console.log(`\npeers (${peer.meta}):\n| who | what | n | seconds |\n|---|---|---|---|`);
  for (const r of peer.rows) console.log(`| ${r.who} | ${r.op} | ${r.n} | ${r.seconds.toFixed(3)} |`);
}
