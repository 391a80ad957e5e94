/**
 * bench/kernels — kernel.nn (NNGP + NTK of dense(1.5, 0.05) → relu ×3 → dense, d = 50, symmetric) and kernel.rbf
 * at N = 1k, 2k, 4k (8k on request) on each tfjs backend, beside the same formulas in float32 numpy timed by
 * bench/peers/kernels.py in the same run. Reports seconds, tfjs peak bytes (tf.profile; the tiled assembly's
 * host buffers, N²·4 bytes per output, are listed apart), and the achieved fraction of the backend's measured
 * throughput: (matmul flops ÷ matmul rate + elementwise outputs ÷ elementwise rate) ÷ measured time, where the
 * kernel counts come from tf.profile of the same call (a fused native call runs no tfjs kernels: its fraction reads 0).
 * The path column is the operator's `kernel_path` note: 'native-fused' or 'generic'.
 *
 *   npx tsx bench/kernels.ts [--sizes 1024,2048,4096] [--backends wasm,cpu] [--budget 60] [--reps 2] [--d 50]
 * A (backend, N) estimated (from the previous size) to take over --budget seconds is skipped with a note.
 */
import { spawnSync } from 'node:child_process';
import { arg, list, PYTHON } from './shared.js';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '@tensorflow/tfjs-core';
import { activateBackend, type BackendName, type TF } from '../core/run/backends.js';
import type { Operator, RunContext } from '../core/operator/index.js';
import { nn, rbf } from '../operators/kernel/index.js';
import { params } from '../tests/helpers/dense-reference.js';

const sizes = list(arg('sizes', '1024,2048,4096')).map(Number);
const backends = list(arg('backends', 'wasm,cpu')) as BackendName[];
const budget = Number(arg('budget', '60'));
const reps = Number(arg('reps', '2'));
const d = Number(arg('d', '50'));

const LAYERS = [
  { type: 'dense', W_std: 1.5, b_std: 0.05 },
  { type: 'relu' },
  { type: 'dense', W_std: 1.5, b_std: 0.05 },
  { type: 'relu' },
  { type: 'dense', W_std: 1.5, b_std: 0.05 },
  { type: 'relu' },
  { type: 'dense', W_std: 1.5, b_std: 0.05 },
];

interface PeerRow { op: string; n: number; seconds: number }
function runPeers(): { ok: true; rows: PeerRow[]; meta: string } | { ok: false; why: string } {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'peers', 'kernels.py');
  const r = spawnSync(PYTHON, [script, '--sizes', sizes.join(','), '--d', String(d), '--reps', String(reps)], { encoding: 'utf8', timeout: 30 * 60_000 });
  if (r.error || r.status !== 0) return { ok: false, why: `python3/numpy peer unavailable: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}` };
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { ok: true, rows: out.rows, meta: `numpy ${out.numpy} (${out.blas}), numpy 1024² matmul ${out.matmul_gflops.toFixed(0)} GFLOP/s` };
}

/** The `kernel_path` note of the last call ('native-fused' or 'generic'). */
let lastPath = '?';

function benchContext(tf: TF, backend: string): RunContext {
  return {
    tf,
    node: 'bench',
    op: 'bench',
    seed: 0,
    backend,
    signal: new AbortController().signal,
    progress: () => {},
    warn: () => {},
    note: (key, value) => void (key === 'kernel_path' && (lastPath = String(value))),
    resolvePath: (p) => p,
  };
}

async function call(tf: TF, op: Operator, x: Tensor, given: Record<string, unknown>, backend: string): Promise<Tensor[]> {
  const out = (await op.run({ x1: x, x2: undefined }, params(op, given), benchContext(tf, backend))) as Record<string, Tensor>;
  const ts = Object.values(out);
  await Promise.all(ts.map((t) => t.data()));
  return ts;
}

/** Measured rates: matmul GFLOP/s at 1024² and elementwise (mul of 2²⁰ entries) outputs per second. */
async function rates(tf: TF): Promise<{ matmul: number; elem: number }> {
  const a = tf.randomNormal([1024, 1024], 0, 1, 'float32', 2);
  const v = tf.randomNormal([1 << 20], 0, 1, 'float32', 3);
  let mm = Infinity;
  let el = Infinity;
  for (let i = 0; i < 3; i++) {
    let t0 = performance.now();
    const c = tf.matMul(a, a);
    await c.data();
    mm = Math.min(mm, (performance.now() - t0) / 1000);
    c.dispose();
    t0 = performance.now();
    let w = v;
    for (let k = 0; k < 10; k++) {
      const nw = tf.mul(w, 1.0001);
      if (w !== v) w.dispose();
      w = nw;
    }
    await w.data();
    el = Math.min(el, (performance.now() - t0) / 1000 / 10);
    w.dispose();
  }
  tf.dispose([a, v]);
  return { matmul: (2 * 1024 ** 3) / mm / 1e9, elem: (1 << 20) / el };
}

const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '—');
const mib = (b: number) => (Number.isFinite(b) ? `${(b / 2 ** 20).toFixed(0)} MiB` : '—'); // tf.profile of a call running no kernels: -Infinity

async function main(): Promise<void> {
  const lines: string[] = [];
  const log = (s: string) => {
    lines.push(s);
    console.log(s);
  };
  const cpu = os.cpus();
  log(`machine: ${cpu.length}× ${cpu[0]?.model ?? '?'}, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(1)).join('/')}, ${new Date().toISOString().slice(0, 10)}`);
  const peers = runPeers();
  log(peers.ok ? `peers: ${peers.meta}` : `peers: ${peers.why}`);
  const peer = (op: string, n: number) => (peers.ok ? peers.rows.find((r) => r.op === op && r.n === n)?.seconds : undefined);
  log('');
  log('| op | backend | path | N | seconds | tfjs peak | host buffers | matmul GFLOP/s | elementwise M/s | fraction of backend | numpy f32 s | ÷ numpy |');
  log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const backend of backends) {
    const { tf } = await activateBackend(backend);
    const rate = await rates(tf);
    for (const [op, given, outputs] of [
      [nn, { layers: LAYERS }, 2],
      [rbf, { lengthscale: Math.sqrt(d) }, 1],
    ] as [Operator, Record<string, unknown>, number][]) {
      let last: { n: number; s: number } | undefined;
      for (const n of sizes) {
        const est = last ? last.s * (n / last.n) ** 2 : 0;
        let row = `| ${op.id} | ${backend} | | ${n} |`;
        if (est > budget) {
          log(`${row} skipped: ≈${est.toFixed(0)} s estimated (> ${budget} s budget) | | | | | | | ${fmt(peer(op.id, n) ?? NaN, 3)} | |`);
          continue;
        }
        const x = tf.randomNormal([n, d], 0, 1, 'float32', 1);
        let best = Infinity;
        for (let r = 0; r < (n >= 4096 ? 1 : reps); r++) {
          const t0 = performance.now();
          const ts = await call(tf, op, x, given, backend);
          best = Math.min(best, (performance.now() - t0) / 1000);
          tf.dispose(ts);
        }
        // One profiled call: peak bytes and the kernels run (to price them at the backend's rates).
        let ideal = 0;
        const prof = await tf.profile(async () => {
          const ts = await call(tf, op, x, given, backend);
          tf.dispose(ts);
        });
        for (const k of prof.kernels) {
          const outSize = k.outputShapes.reduce((s: number, shp: number[]) => s + (shp ?? []).reduce((a: number, b: number) => a * b, 1), 0);
          if (k.name === 'BatchMatMul' || k.name === '_FusedMatMul') {
            const inner = k.inputShapes[0]?.[k.inputShapes[0].length - 1] ?? d;
            ideal += (2 * outSize * inner) / (rate.matmul * 1e9);
          } else ideal += outSize / rate.elem;
        }
        x.dispose();
        row = `| ${op.id} | ${backend} | ${lastPath} | ${n} |`;
        const p = peer(op.id, n);
        log(
          `${row} ${fmt(best, 3)} | ${mib(prof.peakBytes)} | ${mib(outputs * n * n * 4)} | ${fmt(rate.matmul, 1)} | ${fmt(rate.elem / 1e6, 0)} | ${fmt(ideal / best)} | ${p === undefined ? '—' : fmt(p, 3)} | ${p === undefined ? '—' : fmt(best / p, 1) + '×'} |`,
        );
        last = { n, s: best };
      }
    }
  }
  return void lines;
}

await main();
