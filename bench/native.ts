/**
 * bench/native — the `native` backend (OpenBLAS + OpenMP addon) against wasm and cpu, and numpy
 * (timed in the same run, by an inline python3 script; skipped cleanly without numpy):
 * matmul n×n (GFLOP/s), elementwise ops on 4M float32 elements, reductions and a transpose of a
 * 2048×2048 matrix (ms, best of --reps after one warm-up).
 *
 *   npx tsx bench/native.ts [--sizes 512,1024,2048] [--backends native,wasm,cpu] [--reps 3] [--budget 10]
 * A (backend, case) whose estimate from the 512² rate (matmul) exceeds --budget seconds is skipped.
 */
import { spawnSync } from 'node:child_process';
import { arg, list, PYTHON } from './shared.js';
import os from 'node:os';
import type { Tensor } from '@tensorflow/tfjs-core';
import { activateBackend, probeBackend, type BackendName, type TF } from '../core/run/backends.js';

const sizes = list(arg('sizes', '512,1024,2048')).map(Number);
const backends = list(arg('backends', 'native,wasm,cpu')) as BackendName[];
const reps = Number(arg('reps', '3'));
const budget = Number(arg('budget', '10'));
const ELEMS = 4 * 1024 * 1024; // 4M elements = a 2048×2048 matrix
const R = 2048;

/** Elementwise and reduction cases: name → op on x (2048×2048), y (2048×2048), v (2048). */
const CASES: [string, (tf: TF, x: Tensor, y: Tensor, v: Tensor) => Tensor][] = [
  ['add', (tf, x, y) => tf.add(x, y)],
  ['mul (row broadcast)', (tf, x, _y, v) => tf.mul(x, v)],
  ['exp', (tf, x) => tf.exp(x)],
  ['tanh', (tf, x) => tf.tanh(x)],
  ['sigmoid', (tf, x) => tf.sigmoid(x)],
  ['erf', (tf, x) => tf.erf(x)],
  ['relu', (tf, x) => tf.relu(x)],
  ['sum (all)', (tf, x) => tf.sum(x)],
  ['sum axis 0', (tf, x) => tf.sum(x, 0)],
  ['sum axis 1', (tf, x) => tf.sum(x, 1)],
  ['max axis 1', (tf, x) => tf.max(x, 1)],
  ['mean axis 0', (tf, x) => tf.mean(x, 0)],
  ['transpose', (tf, x) => tf.transpose(x)],
];

const PEER = `
import json, sys, time
import numpy as np
sizes = json.loads(sys.argv[1]); reps = int(sys.argv[2]); R = 2048
rng = np.random.default_rng(1)
def best(fn):
    fn(); t = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); t.append(time.perf_counter() - t0)
    return min(t)
rows = {}
for n in sizes:
    a = rng.standard_normal((n, n), dtype=np.float32); b = rng.standard_normal((n, n), dtype=np.float32)
    rows[f"matmul {n}"] = best(lambda: a @ b)
x = rng.uniform(-2, 2, (R, R)).astype(np.float32); y = rng.uniform(-2, 2, (R, R)).astype(np.float32); v = rng.uniform(-2, 2, R).astype(np.float32)
try:
    from scipy.special import erf
except Exception:
    erf = None
cases = {
  "add": lambda: x + y, "mul (row broadcast)": lambda: x * v, "exp": lambda: np.exp(x), "tanh": lambda: np.tanh(x),
  "sigmoid": lambda: 1 / (1 + np.exp(-x)), "relu": lambda: np.maximum(x, 0), "sum (all)": lambda: x.sum(),
  "sum axis 0": lambda: x.sum(0), "sum axis 1": lambda: x.sum(1), "max axis 1": lambda: x.max(1), "mean axis 0": lambda: x.mean(0),
  "transpose": lambda: np.ascontiguousarray(x.T),
}
if erf is not None: cases["erf"] = lambda: erf(x)
for k, f in cases.items(): rows[k] = best(f)
cfg = np.show_config(mode="dicts") if hasattr(np, "show_config") else {}
blas = cfg.get("Build Dependencies", {}).get("blas", {}) if isinstance(cfg, dict) else {}
print(json.dumps({"numpy": np.__version__, "blas": f"{blas.get('name', '?')} {blas.get('version', '')}".strip(), "rows": rows}))
`;

function runPeer(): { ok: true; rows: Record<string, number>; meta: string } | { ok: false; why: string } {
  const r = spawnSync(PYTHON, ['-c', PEER, JSON.stringify(sizes), String(reps)], { encoding: 'utf8', timeout: 10 * 60_000 });
  if (r.error || r.status !== 0) return { ok: false, why: `python3/numpy peer unavailable: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}` };
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { numpy: string; blas: string; rows: Record<string, number> };
  return { ok: true, rows: out.rows, meta: `numpy ${out.numpy} (${out.blas}), one process` };
}

async function best(fn: () => Tensor, count: number): Promise<number> {
  let t = Infinity;
  for (let i = 0; i <= count; i++) {
    const t0 = performance.now();
    const y = fn();
    await y.data();
    const dt = performance.now() - t0;
    y.dispose();
    if (i > 0) t = Math.min(t, dt); // the first run warms up
  }
  return t / 1000;
}

const results = new Map<string, Map<string, number | string>>(); // case → backend → seconds | note
const put = (c: string, b: string, v: number | string) => {
  if (!results.has(c)) results.set(c, new Map());
  results.get(c)!.set(b, v);
};

const peer = runPeer();
const notes: string[] = [];
for (const name of backends) {
  const p = await probeBackend(name);
  if (!p.usable) {
    notes.push(`${name}: not usable (${p.reason})`);
    continue;
  }
  if (name === 'native') notes.push(`native: ${p.detail?.blas}; core ${p.detail?.blasCore}; ${p.detail?.ompThreads} OpenMP threads; OPENBLAS_CORETYPE ${p.detail?.OPENBLAS_CORETYPE}`);
  const { tf } = await activateBackend(name);
  let rate512 = 0;
  for (const n of sizes) {
    const est = rate512 ? (2 * n ** 3) / rate512 : 0;
    if (est > budget) {
      put(`matmul ${n}`, name, `skipped (≈${est.toFixed(0)} s)`);
      continue;
    }
    const [a, b] = [tf.randomNormal([n, n], 0, 1, 'float32', 1), tf.randomNormal([n, n], 0, 1, 'float32', 2)];
    const s = await best(() => tf.matMul(a, b), n >= 2048 ? Math.min(reps, 2) : reps);
    tf.dispose([a, b]);
    if (!rate512) rate512 = (2 * n ** 3) / s;
    put(`matmul ${n}`, name, s);
  }
  const x = tf.randomUniform([R, R], -2, 2, 'float32', 3), y = tf.randomUniform([R, R], -2, 2, 'float32', 4), v = tf.randomUniform([R], -2, 2, 'float32', 5);
  for (const [label, fn] of CASES) put(label, name, await best(() => fn(tf, x, y, v), reps));
  tf.dispose([x, y, v]);
}
if (peer.ok) for (const [k, s] of Object.entries(peer.rows)) put(k, 'numpy', s);
else notes.push(peer.why);

const cols = [...backends, 'numpy'];
const fmt = (c: string, v: number | string | undefined) => {
  if (v === undefined) return '—';
  if (typeof v === 'string') return v;
  const n = /^matmul (\d+)/.exec(c)?.[1];
  return n ? `${((2 * Number(n) ** 3) / v / 1e9).toFixed(1)} GFLOP/s` : `${(v * 1000).toFixed(1)} ms`;
};
const lines = [
  `#### — ${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores, Node ${process.version}, load ${os.loadavg()[0].toFixed(1)}`,
  `Elementwise and reductions on ${ELEMS.toLocaleString('en')} float32 (2048×2048); best of ${reps} after a warm-up.`,
  '',
  `| case | ${cols.join(' | ')} | native ÷ numpy |`,
  `|---|${cols.map(() => '---').join('|')}|---|`,
  ...[...results].map(([c, row]) => {
    const nat = row.get('native'), np = row.get('numpy');
    const ratio = typeof nat === 'number' && typeof np === 'number' ? `${(nat / np).toFixed(2)}× the time` : '—';
    return `| ${c} | ${cols.map((b) => fmt(c, row.get(b))).join(' | ')} | ${ratio} |`;
  }),
  '',
  ...notes.map((n) => `- ${n}`),
  ...(peer.ok ? [`- peer: ${peer.meta}`] : []),
];
console.log(lines.join('\n'));
