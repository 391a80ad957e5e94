import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { OperatorError, ShapeError } from '../../core/operator/index.js';
import { eigh, mergeRankOne, tql2 } from '../../operators/linalg/eigh.js';
import { eighOp } from '../../operators/linalg/op-eigh.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { jacobiEigen } from '../helpers/jacobi.js';

const EPS32 = 2 ** -23;

/** Deterministic uniform(−1, 1) numbers (LCG), so the tests never depend on a backend's RNG. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

function randomSymmetric(n: number, seed: number): Float64Array {
  const r = rng(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = r();
  return a;
}

/** An RBF kernel matrix: fast-decaying spectrum with many eigenvalues clustered near 0. */
function rbfKernel(n: number, seed: number): Float64Array {
  const r = rng(seed);
  const x = Array.from({ length: n }, () => [r(), r(), r()]);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const d2 = x[i].reduce((s, v, k) => s + (v - x[j][k]) ** 2, 0);
      a[i * n + j] = Math.exp(-d2 / 0.5);
    }
  }
  return a;
}

/** Cyclic Jacobi in float64: an independent reference for eigenvalues (small n only). */
function jacobiEigenvalues(a0: Float64Array, n: number): number[] {
  const rows = Array.from({ length: n }, (_, i) => Array.from(a0.subarray(i * n, (i + 1) * n)));
  return jacobiEigen(rows).values.sort((x, y) => x - y);
}

/** ‖A − VΛVᵀ‖_F/‖A‖_F and max|VᵀV − I|, computed in float64 on the host. */
function errors(a: Float64Array, n: number, values: Float32Array | Float64Array, vectors: Float32Array): { recon: number; orth: number } {
  let num = 0;
  let den = 0;
  let orth = 0;
  const vt = new Float64Array(n * n); // vt[k][i] = V[i][k]
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) vt[k * n + i] = vectors[i * n + k];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let g = 0;
      for (let k = 0; k < n; k++) {
        s += vt[k * n + i] * values[k] * vt[k * n + j];
        g += vt[i * n + k] * vt[j * n + k];
      }
      num += (a[i * n + j] - s) ** 2;
      den += a[i * n + j] ** 2;
      orth = Math.max(orth, Math.abs(g - (i === j ? 1 : 0)));
    }
  }
  return { recon: Math.sqrt(num / den), orth };
}

async function run(a: Float64Array, n: number, options: Parameters<typeof eigh>[2] = {}) {
  const before = tf.memory().numTensors;
  const ta = tf.tensor2d(Float32Array.from(a), [n, n]);
  const r = await eigh(tf, ta, options);
  const values = (await r.values.data()) as Float32Array;
  const vectors = (await r.vectors.data()) as Float32Array;
  tf.dispose([ta, r.values, r.vectors]);
  expect(tf.memory().numTensors).toBe(before);
  return { values, vectors, stats: r.stats };
}

describe('linalg.eigh shape inference', () => {
  const meta = (shape: (number | string | null)[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape });
  const ctx = { node: 'n', op: 'linalg.eigh', resolvePath: (p: string) => p };
  const p = { order: 'ascending' as const, symmetrize: true };
  it('infers values [..,n] and vectors [..,n,n]', () => {
    expect(eighOp.shape!({ a: meta([3, 5, 5]) }, p, ctx)).toEqual({ values: [3, 5], vectors: [3, 5, 5], info: { kind: 'json' } });
    expect(eighOp.shape!({ a: meta([null, 'n']) }, p, ctx)).toMatchObject({ values: ['n'], vectors: ['n', 'n'] });
  });
  it('rejects a non-square matrix', () => {
    expect(() => eighOp.shape!({ a: meta([4, 5]) }, p, ctx)).toThrow(ShapeError);
  });
});

describe('linalg/eigh host kernels (float64)', () => {
  it('tql2 matches Jacobi on a random tridiagonal', () => {
    const r = rng(3);
    const n = 30;
    const d = Float64Array.from({ length: n }, r);
    const e = Float64Array.from({ length: n - 1 }, r);
    const full = new Float64Array(n * n);
    for (let i = 0; i < n; i++) full[i * n + i] = d[i];
    for (let i = 0; i < n - 1; i++) full[i * n + i + 1] = full[(i + 1) * n + i] = e[i];
    const { lambda } = tql2(d, e);
    jacobiEigenvalues(full, n).forEach((v, i) => expect(lambda[i]).toBeCloseTo(v, 12));
  });
  it('the rank-one merge deflates exact ties and zero weights and stays orthogonal', () => {
    // D has a repeated pole and a zero weight: both must deflate, the rest solve the secular equation.
    const D = Float64Array.from([0, 1, 1, 2, 3, 5, 5, 5]);
    const z = Float64Array.from([0.3, 0.2, 0.4, 0, 0.5, 0.1, 0.2, 0.3]);
    const rho = 0.7;
    const { lambda, U } = mergeRankOne(D, z, rho);
    const s = D.length;
    const M = new Float64Array(s * s);
    for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) M[i * s + j] = (i === j ? D[i] : 0) + rho * z[i] * z[j];
    const want = jacobiEigenvalues(M, s);
    want.forEach((v, i) => expect(lambda[i]).toBeCloseTo(v, 6));
    const err = errors(M, s, lambda, U);
    expect(err.recon).toBeLessThan(1e-6);
    expect(err.orth).toBeLessThan(1e-6);
  });
});

describe('linalg.eigh at n = 500 (wasm)', () => {
  it('random symmetric: A ≈ VΛVᵀ and VᵀV ≈ I within n·ε₃₂; eigenvalues ascending', async () => {
    await useBackend('wasm');
    const n = 500;
    const a = randomSymmetric(n, 7);
    const { values, vectors } = await run(a, n);
    const { recon, orth } = errors(a, n, values, vectors);
    // Measured ≈ 7e-7 and ≈ 6e-7; bound n·ε₃₂ ≈ 6e-5.
    expect(recon).toBeLessThan(n * EPS32);
    expect(orth).toBeLessThan(n * EPS32);
    for (let i = 1; i < n; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
  });
  it('RBF kernel (clustered small eigenvalues): same bounds, trace preserved, no eigenvalue below −n·ε₃₂·λ_max', async () => {
    await useBackend('wasm');
    const n = 500;
    const a = rbfKernel(n, 11);
    const { values, vectors, stats } = await run(a, n);
    const { recon, orth } = errors(a, n, values, vectors);
    expect(recon).toBeLessThan(n * EPS32);
    expect(orth).toBeLessThan(n * EPS32);
    expect(stats.deflated_fraction).toBeGreaterThan(0);
    // Trace is invariant: Σλ = tr A.
    let tr = 0;
    for (let i = 0; i < n; i++) tr += a[i * n + i];
    const sum = values.reduce((s, v) => s + v, 0);
    expect(Math.abs(sum - tr) / tr).toBeLessThan(1e-5);
    expect(values[0]).toBeGreaterThan(-values[n - 1] * n * EPS32);
  });
});

for (const backend of testBackends()) {
  describe(`linalg.eigh on ${backend}`, () => {
    it('matches float64 Jacobi eigenvalues at n = 64 with divide and conquer forced (leaf 8)', async () => {
      await useBackend(backend);
      const n = 64;
      const a = randomSymmetric(n, 5);
      const { values, vectors, stats } = await run(a, n, { leafSize: 8, blockSize: 16 });
      // The native backend answers with LAPACK dsyevd; the others with the host implementation.
      expect(stats.algorithm).toMatch(backend === 'native' ? /dsyevd/ : /divide and conquer/);
      const want = jacobiEigenvalues(a, n);
      const scale = Math.max(Math.abs(want[0]), Math.abs(want[n - 1]));
      want.forEach((v, i) => expect(Math.abs(values[i] - v)).toBeLessThan(8 * EPS32 * scale * Math.sqrt(n)));
      const { recon, orth } = errors(a, n, values, vectors);
      expect(recon).toBeLessThan(n * EPS32);
      expect(orth).toBeLessThan(n * EPS32);
    });

    it('handles repeated eigenvalues, an already tridiagonal block matrix, identity, zero and 1×1', async () => {
      await useBackend(backend);
      // Q·diag(1,1,1,2,2,3,…)·Qᵀ with Q a Householder reflector: heavy deflation in the merges.
      const n = 40;
      const r = rng(9);
      const u = Array.from({ length: n }, r);
      const un = Math.hypot(...u);
      const lam = Array.from({ length: n }, (_, i) => Math.floor(i / 8));
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let k = 0; k < n; k++) {
            const qik = (i === k ? 1 : 0) - (2 * u[i] * u[k]) / (un * un);
            const qjk = (j === k ? 1 : 0) - (2 * u[j] * u[k]) / (un * un);
            s += qik * lam[k] * qjk;
          }
          a[i * n + j] = s;
        }
      }
      const res = await run(a, n, { leafSize: 4 });
      lam.forEach((v, i) => expect(res.values[i]).toBeCloseTo(v, 5));
      const err = errors(a, n, res.values, res.vectors);
      expect(err.orth).toBeLessThan(n * EPS32);
      expect(err.recon).toBeLessThan(n * EPS32);

      // Block diagonal (zero couplings) tridiagonal matrix.
      const m = 12;
      const b = new Float64Array(m * m);
      for (let i = 0; i < m; i++) b[i * m + i] = i % 3;
      for (let i = 0; i < m - 1; i++) if (i % 4 !== 3) b[i * m + i + 1] = b[(i + 1) * m + i] = 0.5;
      const rb = await run(b, m, { leafSize: 2 });
      const eb = errors(b, m, rb.values, rb.vectors);
      expect(eb.recon).toBeLessThan(m * EPS32);
      expect(eb.orth).toBeLessThan(m * EPS32);
      jacobiEigenvalues(b, m).forEach((v, i) => expect(rb.values[i]).toBeCloseTo(v, 5));

      const eye = new Float64Array(9);
      [0, 4, 8].forEach((i) => (eye[i] = 1));
      expect(Array.from((await run(eye, 3)).values)).toEqual([1, 1, 1]);
      const zero = await run(new Float64Array(9), 3);
      expect(Array.from(zero.values)).toEqual([0, 0, 0]);
      expect(errors(new Float64Array(9).fill(0), 3, zero.values, zero.vectors).orth).toBe(0);
      const one = await run(Float64Array.from([-2.5]), 1);
      expect(Array.from(one.values)).toEqual([-2.5]);
      expect(Math.abs(one.vectors[0])).toBe(1);
    });

    it('the operator: batch, descending order, symmetrize, info and notes, no leaks', async () => {
      await useBackend(backend);
      const n = 24;
      const a1 = randomSymmetric(n, 21);
      const a2 = rbfKernel(n, 22);
      const before = tf.memory().numTensors;
      // Perturb the upper triangle of the first matrix: symmetrize must average it away.
      const skew = Float32Array.from(a1);
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) skew[i * n + j] += 1e-3 * ((i + j) % 2 ? 1 : -1);
      const ta = tf.tensor3d([...skew, ...Float32Array.from(a2)], [2, n, n]);
      const ctx = testContext({ op: 'linalg.eigh' });
      const out = (await eighOp.run({ a: ta }, { order: 'descending', symmetrize: true }, ctx)) as {
        values: tf.Tensor;
        vectors: tf.Tensor;
        info: Record<string, unknown>;
      };
      expect(out.values.shape).toEqual([2, n]);
      expect(out.vectors.shape).toEqual([2, n, n]);
      expect(out.info).toMatchObject({ n, batch: 2 });
      expect(ctx.notes).toHaveProperty('deflated_fraction');
      const values = (await out.values.array()) as number[][];
      const vectors = (await out.vectors.data()) as Float32Array;
      const sym = Float64Array.from(skew);
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) sym[i * n + j] = sym[j * n + i] = 0.5 * (skew[i * n + j] + skew[j * n + i]);
      [sym, a2].forEach((a, b) => {
        for (let i = 1; i < n; i++) expect(values[b][i]).toBeLessThanOrEqual(values[b][i - 1]);
        const err = errors(a, n, Float64Array.from(values[b]), vectors.subarray(b * n * n, (b + 1) * n * n));
        expect(err.recon).toBeLessThan(n * EPS32);
        expect(err.orth).toBeLessThan(n * EPS32);
      });
      tf.dispose([ta, out.values, out.vectors]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('throws non_finite_input on NaN and leaks nothing', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const ta = tf.tensor2d([[1, NaN], [NaN, 1]]);
      let err: unknown;
      try {
        await eigh(tf, ta);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OperatorError);
      expect((err as OperatorError).code).toBe('non_finite_input');
      ta.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('linalg.eigh cross-backend agreement (n = 48)', () => {
  it('cpu and wasm give the same eigenvalues and the same eigenspaces', async () => {
    const backends = testBackends();
    if (backends.length < 2) return;
    const n = 48;
    const a = rbfKernel(n, 31);
    const results = [];
    for (const b of backends) {
      await useBackend(b);
      results.push(await run(a, n, { leafSize: 8 }));
    }
    const [x, y] = results;
    const scale = Math.abs(x.values[n - 1]);
    for (let i = 0; i < n; i++) expect(Math.abs(x.values[i] - y.values[i])).toBeLessThan(16 * EPS32 * scale);
    // Well-separated leading eigenvectors agree up to sign.
    for (let k = n - 5; k < n; k++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += x.vectors[i * n + k] * y.vectors[i * n + k];
      expect(Math.abs(dot)).toBeGreaterThan(1 - 1e-4);
    }
  });
});
