/**
 * bench/linalg — Cholesky + two triangular solves (L·Lᵀ = A, then L·Y = B, Lᵀ·X = Y) at n = 1k, 2k, 4k
 * on each tfjs backend, beside numpy/scipy float32 and float64 timed by bench/peers/linalg.py in the
 * same run; plus linalg.eigh beside numpy.linalg.eigh. Reports GFLOP/s (Cholesky n³/3 + solves 2n²m
 * flops, m right-hand sides) and the fraction of the backend's own n×n matmul rate (2n³ flops).
 *
 *   npx tsx bench/linalg.ts [--sizes 1024,2048,4096] [--backends wasm,cpu] [--rhs 256]
 *                           [--eigh 1024,2048] [--budget 120] [--reps 2]
 * A (backend, n) whose estimated time (flops ÷ the backend's measured 512² matmul rate) exceeds
 * --budget seconds is skipped with a note. Without python3+numpy the peer columns say so.
 */
import { spawnSync } from 'node:child_process';
import { arg, list, PYTHON } from './shared.js';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '@tensorflow/tfjs-core';
import { activateBackend, type BackendName, type TF } from '../core/run/backends.js';
import { choleskyFactor, solveTriangular, eigh } from '../operators/linalg/index.js';

const sizes = list(arg('sizes', '1024,2048,4096')).map(Number);
const backends = list(arg('backends', 'wasm,cpu')) as BackendName[];
const rhs = Number(arg('rhs', '256'));
const eighSizes = list(arg('eigh', '1024,2048')).map(Number);
const budget = Number(arg('budget', '120'));
const reps = Number(arg('reps', '2'));

interface PeerRow { op: string; n: number; dtype: string; seconds: number; matmul_seconds?: number }
function runPeers(): { ok: true; rows: PeerRow[]; meta: string } | { ok: false; why: string } {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'peers', 'linalg.py');
  const r = spawnSync(PYTHON, [script, '--sizes', sizes.join(','), '--rhs', String(rhs), '--eigh', eighSizes.join(',')], {
    encoding: 'utf8',
    timeout: 30 * 60_000,
  });
  if (r.error || r.status !== 0) return { ok: false, why: `python3/numpy peer unavailable: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}` };
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { ok: true, rows: out.rows, meta: `numpy ${out.numpy}, scipy ${out.scipy ?? 'absent (np.linalg.solve fallback)'}, ${out.blas}` };
}

/** SPD test matrix: an RBF kernel of 8-d Gaussian points plus 1e-2·I (same recipe as the peer). */
function spd(tf: TF, n: number): Tensor {
  return tf.tidy(() => {
    const x = tf.randomNormal([n, 8], 0, 1, 'float32', 1);
    const sq = tf.sum(tf.square(x), 1);
    const d2 = tf.sub(tf.add(tf.reshape(sq, [n, 1]), tf.reshape(sq, [1, n])), tf.mul(tf.matMul(x, x, false, true), 2));
    return tf.add(tf.exp(tf.div(d2, -16)), tf.mul(tf.eye(n), 1e-2));
  });
}

async function time(fn: () => Promise<Tensor[] | Tensor>, count: number): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const out = await fn();
    const list = Array.isArray(out) ? out : [out];
    await Promise.all(list.map((t) => t.data())); // force completion on async backends
    best = Math.min(best, (performance.now() - t0) / 1000);
    list.forEach((t) => t.dispose());
  }
  return best;
}

async function matmulRate(tf: TF, n: number, count: number): Promise<number> {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  const s = await time(async () => tf.matMul(a, a), count);
  a.dispose();
  return (2 * n ** 3) / s / 1e9;
}

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');

async function main(): Promise<void> {
  const lines: string[] = [];
  const log = (s: string) => {
    lines.push(s);
    console.log(s);
  };
  const cpu = os.cpus();
  log(`machine: ${cpu.length}× ${cpu[0]?.model ?? '?'}, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
  const peers = runPeers();
  log(peers.ok ? `peers: ${peers.meta}` : `peers: ${peers.why}`);
  const peer = (op: string, n: number, dtype: string) => (peers.ok ? peers.rows.find((r) => r.op === op && r.n === n && r.dtype === dtype) : undefined);

  log('');
  log(`### Cholesky + 2 triangular solves (m = ${rhs} right-hand sides), best of ${reps}`);
  log('| backend | n | seconds | GFLOP/s | backend matmul GFLOP/s | fraction of matmul | numpy f32 s | numpy f64 s | ÷ numpy f32 |');
  log('|---|---|---|---|---|---|---|---|---|');
  for (const name of backends) {
    const { tf } = await activateBackend(name);
    const probeRate = await matmulRate(tf, 512, 2);
    for (const n of sizes) {
      const flops = n ** 3 / 3 + 2 * n * n * rhs;
      const estimate = (flops + 2 * n ** 3) / (probeRate * 1e9);
      const p32 = peer('cholesky+2trsm', n, 'float32');
      const p64 = peer('cholesky+2trsm', n, 'float64');
      if (estimate > budget) {
        log(`| ${name} | ${n} | skipped: ≈${fmt(estimate, 0)} s estimated at ${fmt(probeRate, 2)} GFLOP/s (> ${budget} s budget) | | | | ${fmt(p32?.seconds ?? NaN, 3)} | ${fmt(p64?.seconds ?? NaN, 3)} | |`);
        continue;
      }
      const a = spd(tf, n);
      const b = tf.randomNormal([n, rhs], 0, 1, 'float32', 3);
      const count = n >= 4096 ? 1 : reps;
      const seconds = await time(async () => {
        const { l } = await choleskyFactor(tf, a, { jitter: 0 });
        const y = await solveTriangular(tf, l, b, { lower: true });
        const x = await solveTriangular(tf, l, y, { lower: true, transpose: true });
        tf.dispose([l, y]);
        return x;
      }, count);
      const mm = await matmulRate(tf, n, count);
      tf.dispose([a, b]);
      const rate = flops / seconds / 1e9;
      log(`| ${name} | ${n} | ${fmt(seconds, 3)} | ${fmt(rate, 2)} | ${fmt(mm, 2)} | ${fmt(rate / mm, 2)} | ${fmt(p32?.seconds ?? NaN, 3)} | ${fmt(p64?.seconds ?? NaN, 3)} | ${p32 ? fmt(seconds / p32.seconds, 1) + '×' : '—'} |`);
    }
  }

  if (eighSizes.length) {
    log('');
    log('### linalg.eigh (values + vectors), one run each');
    log('| backend | n | seconds | tridiagonal / D&C / back-transform s | numpy f32 s | numpy f64 s | ÷ numpy f32 |');
    log('|---|---|---|---|---|---|---|');
    for (const name of backends) {
      const { tf } = await activateBackend(name);
      const probeRate = await matmulRate(tf, 512, 2);
      for (const n of eighSizes) {
        const p32 = peer('eigh', n, 'float32');
        const p64 = peer('eigh', n, 'float64');
        // Host stage ≈ (4/3)n³ at ≈ 1 GFLOP/s, backend ≈ 3.5n³ at the probed rate.
        const estimate = (4 / 3) * n ** 3 / 1e9 + (3.5 * n ** 3) / (probeRate * 1e9);
        if (estimate > budget) {
          log(`| ${name} | ${n} | skipped: ≈${fmt(estimate, 0)} s estimated (> ${budget} s budget) | | ${fmt(p32?.seconds ?? NaN, 3)} | ${fmt(p64?.seconds ?? NaN, 3)} | |`);
          continue;
        }
        const a = spd(tf, n);
        const t0 = performance.now();
        const r = await eigh(tf, a);
        await r.vectors.data();
        const seconds = (performance.now() - t0) / 1000;
        const ms = r.stats.ms;
        tf.dispose([a, r.values, r.vectors]);
        log(`| ${name} | ${n} | ${fmt(seconds, 2)} | ${fmt(ms.tridiagonal / 1000, 2)} / ${fmt(ms.divide_conquer / 1000, 2)} / ${fmt(ms.back_transform / 1000, 2)} | ${fmt(p32?.seconds ?? NaN, 3)} | ${fmt(p64?.seconds ?? NaN, 3)} | ${p32 ? fmt(seconds / p32.seconds, 1) + '×' : '—'} |`);
      }
    }
  }
}

await main();
