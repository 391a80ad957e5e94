/**
 * bench/attention — attention.softmax, attention.neighborhood (1-D, k = 7), attention.linear (elu) and
 * FAVOR+ (m = 256) at B = 1, H = 4, D = 64 and N = 1k, 4k, 16k on each tfjs backend: best-of-reps time
 * and the peak tensor bytes of one call (tf.profile), beside numpy doing the same work, timed in the
 * same run by bench/peers/attention.py (skipped, with the reason, without python3/numpy).
 *
 *   npx tsx bench/attention.ts [--sizes 1024,4096,16384] [--backends wasm] [--reps 2] [--softmax-max 8192]
 * Dense softmax above --softmax-max is skipped (its N² weights alone are 4·H·N² bytes: 4.3 GB at 16k).
 */
import { spawnSync } from 'node:child_process';
import { arg, list, PYTHON } from './shared.js';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '@tensorflow/tfjs-core';
import { activateBackend, type BackendName } from '../core/run/backends.js';
import type { Operator, RunContext } from '../core/operator/index.js';
import { linearAttention, neighborhoodAttention, softmaxAttention } from '../operators/attention/index.js';

const sizes = list(arg('sizes', '1024,4096,16384')).map(Number);
const backends = list(arg('backends', 'wasm')) as BackendName[];
const reps = Number(arg('reps', '2'));
const softmaxMax = Number(arg('softmax-max', '8192'));
const [H, D, K, M] = [4, 64, 7, 256];

interface PeerRow { op: string; n: number; seconds: number }
function runPeers(): { ok: true; rows: PeerRow[]; meta: string } | { ok: false; why: string } {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'peers', 'attention.py');
  const r = spawnSync(PYTHON, [script, '--sizes', sizes.join(','), '--heads', String(H), '--dim', String(D), '--kernel', String(K),
    '--features', String(M), '--reps', String(reps), '--softmax-max', String(softmaxMax)], { encoding: 'utf8', timeout: 30 * 60_000 });
  if (r.error || r.status !== 0) return { ok: false, why: `python3/numpy peer unavailable: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}` };
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { ok: true, rows: out.rows, meta: `numpy ${out.numpy}, ${out.blas}` };
}

const variants: Array<{ name: string; op: Operator; params: Record<string, unknown> }> = [
  { name: 'softmax', op: softmaxAttention, params: { scale: null, causal: false, return_weights: false } },
  { name: 'neighborhood', op: neighborhoodAttention, params: { rank: 1, kernel_size: K, dilation: 1, causal: false, scale: null } },
  { name: 'linear_elu', op: linearAttention, params: { feature_map: 'elu', num_features: M, causal: false, eps: null } },
  { name: 'favor', op: linearAttention, params: { feature_map: 'favor+', num_features: M, causal: false, eps: null } },
];

async function main(): Promise<void> {
  const cpu = os.cpus();
  console.log(`machine: ${cpu.length}× ${cpu[0]?.model ?? '?'}, node ${process.version}, load ${os.loadavg().map((x) => x.toFixed(1)).join('/')}, ${new Date().toISOString().slice(0, 10)}`);
  const peers = runPeers();
  console.log(peers.ok ? `peers: ${peers.meta}` : `peers: ${peers.why}`);
  const peer = (op: string, n: number) => (peers.ok ? peers.rows.find((r) => r.op === op && r.n === n) : undefined);
  console.log(`\n| backend | variant | N | seconds | peak tensor MB | peak ÷ N (bytes) | numpy s | ÷ numpy |`);
  console.log('|---|---|---|---|---|---|---|---|');
  for (const backend of backends) {
    const { tf } = await activateBackend(backend);
    for (const v of variants) {
      for (const n of sizes) {
        const p = peer(v.name, n);
        if (v.name === 'softmax' && n > softmaxMax) {
          console.log(`| ${backend} | ${v.name} | ${n} | skipped: dense weights alone are ${((4 * H * n * n) / 1e9).toFixed(1)} GB | | | ${p ? p.seconds.toFixed(3) : '—'} | |`);
          continue;
        }
        const q = tf.randomNormal([1, H, n, D], 0, 0.5, 'float32', 1);
        const k = tf.randomNormal([1, H, n, D], 0, 0.5, 'float32', 2);
        const val = tf.randomNormal([1, H, n, D], 0, 0.5, 'float32', 3);
        const ctx = { tf, seed: 5, node: 'bench', op: v.op.id, backend, signal: new AbortController().signal, progress: () => {}, warn: () => {}, note: () => {}, resolvePath: (s: string) => s } as unknown as RunContext;
        const call = async () => {
          const out = tf.tidy(() => (v.op.run({ q, k, v: val }, v.params, ctx) as { out: Tensor }).out);
          await out.data();
          out.dispose();
        };
        let peak = 0;
        const base = tf.memory().numBytes;
        const info = await tf.profile(call);
        peak = info.peakBytes - base;
        let best = Infinity;
        for (let r = 0; r < reps; r++) {
          const t0 = performance.now();
          await call();
          best = Math.min(best, (performance.now() - t0) / 1000);
        }
        tf.dispose([q, k, val]);
        console.log(`| ${backend} | ${v.name} | ${n} | ${best.toFixed(3)} | ${(peak / 1e6).toFixed(1)} | ${(peak / n).toFixed(0)} | ${p ? p.seconds.toFixed(3) : '—'} | ${p ? (best / p.seconds).toFixed(1) + '×' : '—'} |`);
      }
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
