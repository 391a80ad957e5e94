/**
 * The native backend's fused kernels (native/fused.c through operators/kernel/fused-hook.ts)
 * against the operators' generic tfjs path on the same backend (the reference implementation) and
 * against float64 references: kernel.rbf (scalar and ARD ℓ), the Matérn kernels through the hook,
 * and kernel.nn dense stacks of depth 1–5, symmetric and cross, with and without bias, under both
 * parameterisations. Skipped, saying why, where the addon is not built.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activateBackend, probeBackend } from '../../core/run/backends.js';
import { loadNativeAddon } from '../../core/run/native-addon.js';
import { setFusedKernels, type NativeFused } from '../../core/run/native-backend.js';
import type { Operator } from '../../core/operator/index.js';
import { matern } from '../../operators/kernel/matern.js';
import { nn } from '../../operators/kernel/nn.js';
import { rbf } from '../../operators/kernel/rbf.js';
import { PATH_NOTE } from '../../operators/kernel/fused-hook.js';
import { testContext } from '../helpers/context.js';
import { params, sequence } from '../helpers/dense-reference.js';
import { matOf, maxRelErr, refNn, type Mat } from '../kernel/ref.js';

const probe = await probeBackend('native');

type Layer = Record<string, any>;

/** Runs `op` on native with the fused kernels on or off; returns its outputs, the path noted, and checks for leaks. */
async function runOp(op: Operator, x1: Mat, x2: Mat | undefined, given: Record<string, unknown>, fused: boolean) {
  const was = setFusedKernels(fused);
  try {
    const before = tf.memory().numTensors;
    const t1 = tf.tensor2d(x1.flat(), [x1.length, x1[0]?.length ?? 0]);
    const t2 = x2 ? tf.tensor2d(x2.flat(), [x2.length, x2[0].length]) : undefined;
    const ctx = testContext();
    const out = (await op.run({ x1: t1, x2: t2 }, params(op, given), ctx)) as Record<string, tf.Tensor>;
    const data: Record<string, Float32Array> = {};
    const shapes: Record<string, number[]> = {};
    for (const [k, v] of Object.entries(out)) {
      data[k] = (await v.data()) as Float32Array;
      shapes[k] = v.shape;
    }
    tf.dispose([...Object.values(out), t1, ...(t2 ? [t2] : [])]);
    expect(tf.memory().numTensors).toBe(before);
    return { data, shapes, path: ctx.notes[PATH_NOTE] };
  } finally {
    setFusedKernels(was);
  }
}

/** max |a − b| / max(|b|, floor·max|b|) over two flat arrays. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-2): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor * scale, 1e-30);
    if (!(e <= worst)) worst = e;
  }
  return worst;
}

const X1 = matOf(sequence([9, 4], 21).data, 4);
const X2 = matOf(sequence([6, 4], 22).data, 4);
/** Big enough for the multi-threaded paths (n² ≥ 8192 entries). */
const XB = matOf(sequence([130, 6], 23).data, 6);
const XB2 = matOf(sequence([70, 6], 24).data, 6);

/** float64 stationary kernels, straight from the definitions. */
function refStationary(kind: string, a: Mat, b: Mat, ls: number | number[], variance: number): Mat {
  const l = (k: number) => (Array.isArray(ls) ? ls[k] : ls);
  return a.map((u) =>
    b.map((v) => {
      const d2 = u.reduce((s, ui, k) => s + ((ui - v[k]) / l(k)) ** 2, 0);
      const r = Math.sqrt(d2);
      switch (kind) {
        case 'rbf':
          return variance * Math.exp(-0.5 * d2);
        case 'matern12':
          return variance * Math.exp(-r);
        case 'matern32':
          return variance * (1 + Math.sqrt(3) * r) * Math.exp(-Math.sqrt(3) * r);
        default:
          return variance * (1 + Math.sqrt(5) * r + (5 / 3) * d2) * Math.exp(-Math.sqrt(5) * r);
      }
    }),
  );
}

/** Dense → relu ×depth → dense, with or without bias, widths for the standard parameterisation. */
function reluStack(depth: number, bias: boolean): Layer[] {
  const dense = (w: number, i: number): Layer => ({ type: 'dense', W_std: w, ...(bias ? { b_std: 0.05 + 0.02 * i } : {}), width: 5 + i });
  const layers: Layer[] = [];
  for (let i = 0; i < depth; i++) layers.push(dense(1.3 + 0.1 * i, i), { type: 'relu' });
  layers.push({ type: 'dense', W_std: 1.1, ...(bias ? { b_std: 0.1 } : {}) });
  return layers;
}

describe.skipIf(!probe.usable)(`fused kernels on native${probe.usable ? '' : ` — skipped: ${probe.reason}`}`, () => {
  beforeAll(async () => {
    await activateBackend('native');
  });
  afterAll(() => {
    setFusedKernels(true);
  });

  it('kernel.rbf: fused = generic = float64, scalar and ARD ℓ, symmetric and cross', async () => {
    for (const [x1, x2] of [[X1, X2], [XB, XB2]] as [Mat, Mat][]) {
      const d = x1[0].length;
      for (const given of [{ lengthscale: 1.3, variance: 0.8 }, { lengthscale: Array.from({ length: d }, (_, k) => 0.6 + 0.3 * k), variance: 1.7 }]) {
        for (const b of [undefined, x2]) {
          const fast = await runOp(rbf, x1, b, given, true);
          const slow = await runOp(rbf, x1, b, given, false);
          expect(fast.path).toBe('native-fused');
          expect(slow.path).toBe('generic');
          expect(fast.shapes.k).toEqual(slow.shapes.k);
          expect(relDiff(fast.data.k, slow.data.k)).toBeLessThan(2e-5);
          expect(maxRelErr(fast.data.k, refStationary('rbf', x1, b ?? x1, given.lengthscale, given.variance))).toBeLessThan(2e-5);
          if (!b) for (let i = 0; i < x1.length; i++) expect(fast.data.k[i * x1.length + i]).toBe(Math.fround(given.variance));
        }
      }
    }
  });

  it('Matérn ½, 3/2, 5/2 through the hook match float64', async () => {
    const hook = (tf.backend() as { kernelflowFused?: NativeFused }).kernelflowFused!;
    expect(hook).toBeDefined();
    const a = XB, b = XB2, d = a[0].length;
    for (const kind of ['matern12', 'matern32', 'matern52'] as const) {
      for (const other of [null, b]) {
        const out = hook.stationary(kind, Float32Array.from(a.flat()), other && Float32Array.from(other.flat()), a.length, (other ?? a).length, d, 1.4);
        expect(maxRelErr(out, refStationary(kind, a, other ?? a, 1, 1.4)), kind).toBeLessThan(1e-4);
      }
    }
  });

  it('kernel.matern ν = ½, 3/2, 5/2: fused = generic', async () => {
    for (const nu of [0.5, 1.5, 2.5]) {
      for (const b of [undefined, XB2]) {
        const given = { nu, lengthscale: 1.2, variance: 0.9 };
        const fast = await runOp(matern, XB, b, given, true);
        const slow = await runOp(matern, XB, b, given, false);
        expect([fast.path, slow.path]).toEqual(['native-fused', 'generic']);
        expect(relDiff(fast.data.k, slow.data.k), `nu ${nu}`).toBeLessThan(1e-4);
      }
    }
  });

  describe('kernel.nn dense stacks: fused = generic = float64 (rtol 2e-4)', () => {
    const cases: [string, Layer[], 'ntk' | 'standard'][] = [];
    for (const depth of [1, 2, 3, 4, 5]) {
      for (const bias of [true, false]) {
        for (const param of ['ntk', 'standard'] as const) cases.push([`relu depth ${depth}${bias ? '' : ' no bias'} ${param}`, reluStack(depth, bias), param]);
      }
    }
    cases.push(
      ['leaky_relu, abs, erf, sigmoid_like, layernorm', [
        { type: 'dense', W_std: 1.2, b_std: 0.1, width: 6 }, { type: 'leaky_relu', alpha: 0.2 },
        { type: 'dense', W_std: 1.1, b_std: 0.1, width: 5 }, { type: 'abs' },
        { type: 'dense', W_std: 0.9, b_std: 0.2, width: 4 }, { type: 'erf', a: 1.3, b: 0.7, c: 0.2 },
        { type: 'dense', W_std: 1.0, width: 4 }, { type: 'layernorm', eps: 1e-3 }, { type: 'sigmoid_like' },
        { type: 'dense', W_std: 1.0, b_std: 0.3 },
      ], 'ntk'],
      ['identity and a bare dense', [{ type: 'dense', W_std: 1.4 }, { type: 'identity' }], 'ntk'],
    );
    for (const [label, layers, parameterization] of cases) {
      it(label, async () => {
        for (const [x1, x2] of [[X1, X2], [XB, XB2]] as [Mat, Mat][]) {
          for (const b of [undefined, x2]) {
            const given = { layers, parameterization };
            const fast = await runOp(nn, x1, b, given, true);
            const slow = await runOp(nn, x1, b, given, false);
            expect(fast.path).toBe('native-fused');
            expect(slow.path).toBe('generic');
            const ref = refNn(layers, x1, b, parameterization);
            for (const k of ['nngp', 'ntk'] as const) {
              expect(relDiff(fast.data[k], slow.data[k]), `${k} fused vs generic`).toBeLessThan(2e-4);
              expect(maxRelErr(fast.data[k], ref[k]), `${k} fused vs float64`).toBeLessThan(2e-4);
            }
          }
        }
      });
    }
  });

  it('kernel.nn: one output only, zero rows, empty inputs, unsupported layers', async () => {
    const layers = reluStack(3, false);
    const only = await runOp(nn, X1, X2, { layers, outputs: ['ntk'] }, true);
    expect(Object.keys(only.data)).toEqual(['ntk']);
    const both = await runOp(nn, X1, X2, { layers }, true);
    expect(Array.from(only.data.ntk)).toEqual(Array.from(both.data.ntk));
    // A zero row without bias: a zero row of both kernels, no NaN.
    const z = [X1[0].map(() => 0), ...X1.slice(1)];
    const zr = await runOp(nn, z, undefined, { layers }, true);
    const n = z.length;
    for (const k of ['nngp', 'ntk']) {
      expect(Array.from(zr.data[k].subarray(0, n)).every((v) => v === 0)).toBe(true);
      expect(zr.data[k].every(Number.isFinite)).toBe(true);
    }
    expect(relDiff(zr.data.ntk, (await runOp(nn, z, undefined, { layers }, false)).data.ntk)).toBeLessThan(2e-4);
    // Empty x1: the generic path, [0, n2].
    const empty = await runOp(nn, [], X2, { layers }, true);
    expect(empty.path).toBe('generic');
    expect(empty.shapes.nngp).toEqual([0, X2.length]);
    // Residual has no fused form: generic, and noted so.
    const res = await runOp(nn, X1, undefined, { layers: [{ type: 'dense' }, { type: 'residual', branch: [{ type: 'relu' }, { type: 'dense' }] }] }, true);
    expect(res.path).toBe('generic');
  });

  it('results do not depend on the thread count', async () => {
    const load = loadNativeAddon();
    if (!load.ok) throw new Error(load.reason);
    const threads = load.addon.info().ompThreads;
    const layers = reluStack(3, true);
    const runs: Float32Array[][] = [];
    try {
      for (const t of [1, Math.max(2, threads)]) {
        load.addon.setThreads(t);
        const a = await runOp(nn, XB, undefined, { layers }, true);
        const b = await runOp(nn, XB, XB2, { layers }, true);
        const c = await runOp(rbf, XB, undefined, { lengthscale: 1.1 }, true);
        runs.push([a.data.nngp, a.data.ntk, b.data.nngp, b.data.ntk, c.data.k]);
      }
    } finally {
      load.addon.setThreads(threads);
    }
    runs[0].forEach((r, i) => expect(Array.from(runs[1][i])).toEqual(Array.from(r)));
  });
});
