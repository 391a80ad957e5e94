/**
 * bench/attention — attention.softmax, attention.neighborhood (1-D, k = 7), attention.linear (elu),
 * FAVOR+ (m = 256) at B = 1, H = 4, D = 64, and kernelized RPE attention (attention.rpe_fft, FAVOR+
 * with --rpe-features, by FFT and by the direct O(N²) form) at H = 1, D = 64, Dv = 1 — tfjs's FFT kernel
 * costs tens of µs per element (JavaScript, a tensor per butterfly), so the other shapes would take
 * hours at 16k — at N = 1k, 4k, 16k on each tfjs backend:
 * best-of-reps time and the peak tensor bytes of one call (tf.profile), beside numpy doing the same
 * work, timed in the same run by bench/peers/attention.py (skipped, with the reason, without
 * python3/numpy). After the table, the fitted log-log slope of time over N per variant and backend
 * (rpe_fft ≈ 1, N log N; rpe_direct ≈ 2).
 *
 *   npx tsx bench/attention.ts [--sizes 1024,4096,16384] [--backends wasm] [--reps 2] [--softmax-max 8192]
 *     [--rpe-features 2] [--direct-max 4096] [--variants rpe_fft,rpe_direct]
 * Dense softmax above --softmax-max and the direct RPE form above --direct-max are skipped (their N²
 * matrices alone are 4·H·N² bytes: 4.3 GB at 16k).
 */
import { spawnSync } from 'node:child_process';
import { arg, list, PYTHON } from './shared.js';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '@tensorflow/tfjs-core';
import { activateBackend, type BackendName } from '../core/run/backends.js';
import { fitLine, type Operator, type RunContext } from '../core/operator/index.js';
import { linearAttention, neighborhoodAttention, rpeFftAttention, softmaxAttention } from '../operators/attention/index.js';

const sizes = list(arg('sizes', '1024,4096,16384')).map(Number);
const backends = list(arg('backends', 'wasm')) as BackendName[];
const reps = Number(arg('reps', '2'));
const softmaxMax = Number(arg('softmax-max', '8192'));
const directMax = Number(arg('direct-max', '4096'));
const only = list(arg('variants', ''));
// tfjs's FFT kernel is JavaScript and slow per element: few features (and H = Dv = 1) keep 16k affordable.
const rpeFeatures = Number(arg('rpe-features', '2'));
const [H, D, K, M] = [4, 64, 7, 256];

interface PeerRow { op: string; n: number; seconds: number }
function runPeers(): { ok: true; rows: PeerRow[]; meta: string } | { ok: false; why: string } {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'peers', 'attention.py');
  const r = spawnSync(PYTHON, [script, '--sizes', sizes.join(','), '--heads', String(H), '--dim', String(D), '--kernel', String(K),
    '--features', String(M), '--reps', String(reps), '--softmax-max', String(softmaxMax), '--rpe-features', String(rpeFeatures), '--direct-max', String(directMax)], { encoding: 'utf8', timeout: 30 * 60_000 });
  if (r.error || r.status !== 0) return { ok: false, why: `python3/numpy peer unavailable: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}` };
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { ok: true, rows: out.rows, meta: `numpy ${out.numpy}, ${out.blas}` };
}

const variants: Array<{ name: string; op: Operator; params: Record<string, unknown> }> = [
  { name: 'softmax', op: softmaxAttention, params: { scale: null, causal: false, return_weights: false } },
  { name: 'neighborhood', op: neighborhoodAttention, params: { rank: 1, kernel_size: K, dilation: 1, causal: false, scale: null } },
  { name: 'linear_elu', op: linearAttention, params: { feature_map: 'elu', num_features: M, causal: false, eps: null } },
  { name: 'favor', op: linearAttention, params: { feature_map: 'favor+', num_features: M, causal: false, eps: null } },
  { name: 'rpe_fft', op: rpeFftAttention, params: { feature_map: 'favor+', num_features: rpeFeatures, orthogonal: true, causal: false, eps: null, method: 'fft' } },
  { name: 'rpe_direct', op: rpeFftAttention, params: { feature_map: 'favor+', num_features: rpeFeatures, orthogonal: true, causal: false, eps: null, method: 'direct' } },
];

/** Where a variant's dense N×N matrix would not fit (the limit it is skipped above). */
const denseLimit: Record<string, number> = { softmax: softmaxMax, rpe_direct: directMax };

async function main(): Promise<void> {
  const cpu = os.cpus();
  console.log(`machine: ${cpu.length}× ${cpu[0]?.model ?? '?'}, node ${process.version}, load ${os.loadavg().map((x) => x.toFixed(1)).join('/')}, ${new Date().toISOString().slice(0, 10)}`);
  const peers = runPeers();
  console.log(peers.ok ? `peers: ${peers.meta}` : `peers: ${peers.why}`);
  const peer = (op: string, n: number) => (peers.ok ? peers.rows.find((r) => r.op === op && r.n === n) : undefined);
  console.log(`\n| backend | variant | N | seconds | peak tensor MB | peak ÷ N (bytes) | numpy s | ÷ numpy |`);
  console.log('|---|---|---|---|---|---|---|---|');
  const times: Array<{ backend: string; variant: string; n: number; seconds: number }> = [];
  for (const backend of backends) {
    const { tf } = await activateBackend(backend);
    for (const v of variants.filter((x) => !only.length || only.includes(x.name))) {
      for (const n of sizes) {
        const p = peer(v.name, n);
        if (n > (denseLimit[v.name] ?? Infinity)) {
          console.log(`| ${backend} | ${v.name} | ${n} | skipped: dense weights alone are ${((4 * (v.name.startsWith('rpe_') ? 1 : H) * n * n) / 1e9).toFixed(1)} GB | | | ${p ? p.seconds.toFixed(3) : '—'} | |`);
          continue;
        }
        const isRpe = v.name.startsWith('rpe_');
        // Like the engine: where the backend has no FFT kernels (wasm), the FFT path runs on cpu.
        const onCpu = v.name === 'rpe_fft' && !tf.getKernel('Complex', backend);
        if (onCpu) await activateBackend('cpu');
        const heads = isRpe ? 1 : H;
        const q = tf.randomNormal([1, heads, n, D], 0, 0.5, 'float32', 1);
        const k = tf.randomNormal([1, heads, n, D], 0, 0.5, 'float32', 2);
        const val = tf.randomNormal([1, heads, n, isRpe ? 1 : D], 0, 0.5, 'float32', 3);
        // rpe [H, 2N−1]: relative-position logits b_{i−j}.
        const rpe = isRpe ? tf.randomNormal([heads, 2 * n - 1], 0, 0.5, 'float32', 4) : undefined;
        const ctx = { tf, seed: 5, node: 'bench', op: v.op.id, backend, signal: new AbortController().signal, progress: () => {}, warn: () => {}, note: () => {}, resolvePath: (s: string) => s } as unknown as RunContext;
        let outBytes = 0;
        const call = async () => {
          const out = tf.tidy(() => (v.op.run({ q, k, v: val, ...(rpe ? { rpe } : {}) }, v.params, ctx) as { out: Tensor }).out);
          await out.data();
          outBytes = out.size * 4;
          out.dispose();
        };
        const base = tf.memory().numBytes;
        const info = await tf.profile(call);
        // A fused native kernel runs no tfjs kernel (tf.profile's peak is then -Infinity): its
        // tensor memory is the output alone (plus the addon's fixed per-thread scratch).
        const peak = Math.max(Number.isFinite(info.peakBytes) ? info.peakBytes - base : 0, outBytes);
        let best = Infinity;
        for (let r = 0; r < reps; r++) {
          const t0 = performance.now();
          await call();
          best = Math.min(best, (performance.now() - t0) / 1000);
        }
        tf.dispose([q, k, val, ...(rpe ? [rpe] : [])]);
        if (onCpu) await activateBackend(backend);
        times.push({ backend, variant: v.name, n, seconds: best });
        console.log(`| ${backend}${onCpu ? ' (fft on cpu)' : ''} | ${v.name} | ${n} | ${best.toFixed(3)} | ${(peak / 1e6).toFixed(1)} | ${(peak / n).toFixed(0)} | ${p ? p.seconds.toFixed(3) : '—'} | ${p ? (best / p.seconds).toFixed(1) + '×' : '—'} |`);
      }
    }
  }
  // Growth with N: the least-squares slope of log time over log N (2 for an N² method, ≈ 1 for N log N).
  console.log(`\n| backend | variant | sizes | log-log slope of time over N | numpy slope |`);
  console.log('|---|---|---|---|---|');
  for (const backend of backends) {
    for (const v of variants) {
      const rows = times.filter((t) => t.backend === backend && t.variant === v.name);
      if (!rows.length) continue;
      const peerRows = rows.map((r) => peer(v.name, r.n)).filter((r): r is PeerRow => r !== undefined);
      console.log(`| ${backend} | ${v.name} | ${rows.map((r) => r.n).join(', ')} | ${slopeOf(rows)} | ${slopeOf(peerRows)} |`);
    }
  }
}

function slopeOf(rows: Array<{ n: number; seconds: number }>): string {
  if (rows.length < 2) return '—';
  const fit = fitLine(rows.map((r) => Math.log10(r.n)), rows.map((r) => Math.log10(r.seconds)));
  return fit ? fit.slope.toFixed(2) : '—';
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
