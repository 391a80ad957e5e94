/**
 * metric.timing through the engine: one time per size, growing with the work timed; the FFT path
 * of attention.rpe_fft runs on cpu where the backend has no FFT kernels (wasm); bad params fail
 * with the reason; and its seconds are declared a measurement (not compared across backends).
 */
import { describe, expect, it } from 'vitest';
import { runGraph } from '../../core/index.js';
import { timing } from '../../operators/metric/timing.js';
import { useBackend } from '../helpers/backends.js';

const graphOf = (params: Record<string, unknown>) => ({
  kernelflow: '1', name: 'timing', seed: 3,
  nodes: { t: { op: 'metric.timing', params } },
  outputs: { n: 't.n', seconds: 't.seconds' },
});

async function run(params: Record<string, unknown>, backend: 'wasm' | 'cpu' = 'wasm') {
  await useBackend(backend);
  const r = await runGraph(graphOf(params), { backend, cache: false }).result;
  const values = Object.fromEntries(Object.entries(r.stored).map(([k, v]) => [k, v.kind === 'tensor' ? Array.from(v.tensor.data) : []]));
  const node = r.manifest.nodes.t;
  r.dispose();
  return { status: r.status, node, values, warnings: r.manifest.warnings };
}

describe('metric.timing', () => {
  it('times each size; a 512³ matmul takes far longer than a 32³ one', async () => {
    const r = await run({ op: 'math.matmul', inputs: { a: ['N', 'N'], b: ['N', 'N'] }, sizes: [32, 512], reps: 2 });
    expect(r.status).toBe('ok');
    expect(r.values.n).toEqual([32, 512]);
    const [small, large] = r.values.seconds;
    expect(small).toBeGreaterThan(0);
    // 4096× the multiply-adds: even with per-call overhead and a loaded machine, well over 4×.
    expect(large / small).toBeGreaterThan(4);
  });

  it('shapes from aN+b; a missing FFT kernel runs the whole node on cpu', async () => {
    const r = await run({
      op: 'attention.rpe_fft', params: { feature_map: 'favor+', num_features: 2 },
      inputs: { q: [1, 1, 'N', 4], k: [1, 1, 'N', 4], v: [1, 1, 'N', 1], rpe: [1, '2N-1'] }, sizes: [8, 16], reps: 1,
    });
    expect(r.status, JSON.stringify(r.node)).toBe('ok');
    expect(r.node.fallback).toBe('cpu');
    expect(r.values.seconds.every((s) => s > 0)).toBe(true);
  });

  it('says what is wrong with its params', async () => {
    const unknown = await run({ op: 'math.nope', inputs: {}, sizes: [2] });
    expect(unknown.node.error?.message).toMatch(/no built-in operator 'math.nope'/);
    const badParams = await run({ op: 'math.reduce', params: { op: 'median' }, inputs: { x: ['N'] }, sizes: [4] });
    expect(badParams.node.error?.message).toMatch(/params do not fit math.reduce/);
    // A dimension below 1 at the smallest size is found before anything runs.
    await expect(run({ op: 'math.reduce', inputs: { x: ['N-8'] }, sizes: [4, 16] })).rejects.toThrow(/inputs\/x\/0: node 't' \(metric.timing\): dimension 'N-8' is -4 at n = 4/);
  });

  it('declares seconds a measurement of the machine', () => {
    expect(timing.measured).toEqual({ seconds: 'wall-clock time on this machine' });
  });
});
