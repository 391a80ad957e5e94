/**
 * Training throughput benchmark (on demand: `npx tsx bench/train.ts [--backend wasm] [--steps 20]`).
 * Steps per second of train.fit on a 784-512-512-10 ReLU MLP, SGD with batch 128 on 1,024 random
 * points, for each optimiser, and the overhead of each `track` option logged every 10 steps.
 * Beside it, the same SGD training in numpy float32 with hand-written backprop (bench/peers/train.py),
 * timed in the same run; without python3+numpy the peer row says so.
 * Prints a Markdown section to paste under `## train` in bench/RESULTS.md.
 */
import { spawnSync } from 'node:child_process';
import { PYTHON } from './shared.js';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { activateBackend, type BackendName } from '../core/index.js';
import type { RunContext } from '../core/operator/index.js';
import { buildMlpModel, initMlpParams } from '../operators/model/mlp-lib.js';
import { fitParams, trainMlp, type FitParams } from '../operators/train/fit.js';
import { Value } from '@sinclair/typebox/value';

const arg = (name: string, dflt: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt);
const backends = arg('--backend', 'wasm').split(',') as BackendName[];
const steps = Number(arg('--steps', '20'));

function ctx(): RunContext {
  return {
    tf, node: 'bench', op: 'train.fit', seed: 1, backend: tf.getBackend(), signal: new AbortController().signal,
    progress: () => {}, warn: () => {}, note: () => {}, resolvePath: (p) => p,
  };
}

/** steps/s of bench/peers/train.py (numpy float32 SGD, same net, batch and logging), or why not. */
function runPeer(): { ok: true; stepsPerS: number; meta: string } | { ok: false; why: string } {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'peers', 'train.py');
  const r = spawnSync(PYTHON, [script, '--steps', String(steps), '--warmup', '2', '--log-every', '10'], { encoding: 'utf8', timeout: 30 * 60_000 });
  if (r.error || r.status !== 0) return { ok: false, why: `python3/numpy peer unavailable: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}` };
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { numpy: string; blas: string; steps_per_s: number };
  return { ok: true, stepsPerS: out.steps_per_s, meta: `numpy ${out.numpy} (${out.blas})` };
}

const lines: string[] = [`## train`, '', `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, Node ${process.version}; 784-512-512-10 ReLU MLP, batch 128, ${steps} steps (after 2 warm-up steps).`, '', '| backend | run | steps/s | overhead vs sgd |', '|---|---|---|---|'];
for (const backend of backends) {
  await activateBackend(backend);
  const model = buildMlpModel({ widths: [784, 512, 512, 10], activation: 'relu', epsilon: 1, parameterization: 'standard', W_std: Math.SQRT2, b_std: 0, output_scale: 1, centered: false, bias: true });
  const params = initMlpParams(tf, model, 1);
  const x = tf.randomNormal([1024, 784], 0, 1, 'float32', 1);
  const y = tf.tidy(() => tf.cast(tf.oneHot(tf.randomUniform([1024], 0, 10, 'int32', 2), 10), 'float32'));
  const run = async (opt: string, track: string[], n: number) => {
    const p = Value.Default(fitParams, { optimizer: { type: opt, lr: 0.01, batch_size: 128 }, steps: n, log_every: 10, loss: 'cross_entropy', track, probe_size: 16, sharpness_iters: 5 }) as FitParams;
    const t0 = performance.now();
    const r = await trainMlp(ctx(), model, params, x as tf.Tensor2D, y, undefined, undefined, p);
    const ms = performance.now() - t0;
    tf.dispose(Object.values(r.params));
    return ms;
  };
  await run('sgd', [], 2);
  const base = await run('sgd', [], steps);
  const line = (name: string, ms: number) => {
    lines.push(`| ${backend} | ${name} | ${((1000 * steps) / ms).toFixed(2)} | ${name === 'sgd' ? '—' : `${((ms / base - 1) * 100).toFixed(0)}%`} |`);
    console.error(lines[lines.length - 1]);
  };
  line('sgd', base);
  for (const opt of ['momentum', 'adam', 'sam']) line(opt, await run(opt, [], steps));
  for (const t of ['weight_norm', 'ntk_change', 'ntk_alignment', 'feature_change', 'sharpness']) line(`sgd + track ${t}`, await run('sgd', [t], steps));
  tf.dispose([...Object.values(params), x, y]);
}
const peer = runPeer();
lines.push(peer.ok ? `| ${peer.meta} float32 | sgd (hand backprop) | ${peer.stepsPerS.toFixed(2)} | — |` : `| numpy | sgd | — (${peer.why}) | — |`);
console.error(lines[lines.length - 1]);
console.log(lines.join('\n'));
