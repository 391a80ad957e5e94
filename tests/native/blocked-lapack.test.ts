/**
 * The native backend's blocked Cholesky and triangular solves (native/blocked-linalg.c: dgemm
 * updates around LAPACK/BLAS on 192-wide diagonal blocks) at sizes spanning several blocks, with
 * a ragged last one, against float64 references computed here; and LAPACK's `info` for a matrix
 * that stops being positive definite inside a later block. Skipped, saying why, without the addon.
 */
import { describe, expect, it } from 'vitest';
import { activateBackend, probeBackend } from '../../core/run/backends.js';
import type { NativeLinalg } from '../../core/run/native-backend.js';

const probe = await probeBackend('native');

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

/** A = XXᵀ/k + I (SPD, well conditioned), float32-rounded, as float64. */
function spd(n: number, seed: number): Float64Array {
  const r = rng(seed);
  const k = 16;
  const x = Float64Array.from({ length: n * k }, r);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = i === j ? 1 : 0;
      for (let t = 0; t < k; t++) s += (x[i * k + t] * x[j * k + t]) / k;
      a[i * n + j] = a[j * n + i] = Math.fround(s);
    }
  return a;
}

function cholesky64(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let t = 0; t < j; t++) d -= l[j * n + t] ** 2;
    l[j * n + j] = Math.sqrt(d);
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let t = 0; t < j; t++) s -= l[i * n + t] * l[j * n + t];
      l[i * n + j] = s / l[j * n + j];
    }
  }
  return l;
}

/** op(T)⁻¹·B by substitution in float64; T row-major, lower or upper, op = identity or transpose. */
function solve64(t: ArrayLike<number>, b: ArrayLike<number>, n: number, m: number, lower: boolean, trans: boolean): Float64Array {
  const at = (i: number, j: number) => (trans ? t[j * n + i] : t[i * n + j]);
  const forward = lower !== trans;
  const x = Float64Array.from(b);
  for (let c = 0; c < m; c++)
    for (let s = 0; s < n; s++) {
      const i = forward ? s : n - 1 - s;
      let v = x[i * m + c];
      for (let q = 0; q < s; q++) {
        const j = forward ? q : n - 1 - q;
        v -= at(i, j) * x[j * m + c];
      }
      x[i * m + c] = v / at(i, i);
    }
  return x;
}

const maxRel = (got: ArrayLike<number>, want: ArrayLike<number>) => {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  return worst / scale;
};

describe.skipIf(!probe.usable)(`native blocked Cholesky and solves${probe.usable ? '' : ` — skipped: ${probe.reason}`}`, () => {
  const linalg = async () => {
    const { tf } = await activateBackend('native');
    return (tf.backend() as unknown as { kernelflowLinalg: NativeLinalg }).kernelflowLinalg;
  };

  it('factors n = 450 (blocks 192, 192, 66) like float64, zero above the diagonal', async () => {
    const hook = await linalg();
    const n = 450;
    const a = spd(n, 3);
    const { l, info } = hook.cholesky(Float32Array.from(a), n);
    expect(info).toBe(0);
    const ref = cholesky64(a, n);
    // The factor is computed in float64 and rounded once: float32 rounding is all that is left.
    expect(maxRel(l, ref)).toBeLessThan(1e-6);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(l[i * n + j]).toBe(0);
  });

  it('adds the jitter in float64 and reads only the lower triangle, across several update panels (n = 1200)', async () => {
    const hook = await linalg();
    const n = 1200; // trailing updates of 1008 columns: two 512-wide dgemm panels
    const jitter = 0.25;
    const a = spd(n, 6);
    const shifted = a.slice();
    for (let i = 0; i < n; i++) shifted[i * n + i] += jitter;
    const input = Float32Array.from(a);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) input[i * n + j] = NaN; // never read
    const { l, info } = hook.cholesky(input, n, jitter);
    expect(info).toBe(0);
    expect(maxRel(l, cholesky64(shifted, n))).toBeLessThan(1e-6);
    expect(Number.isNaN(input[1])).toBe(true); // A itself is left as it was
  });

  it('solves with L and Lᵀ, and with upper-triangular U and Uᵀ, across blocks', async () => {
    const hook = await linalg();
    const n = 450;
    const m = 5;
    const lower = Float32Array.from(cholesky64(spd(n, 4), n));
    const upper = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) upper[i * n + j] = lower[j * n + i];
    const b = Float32Array.from({ length: n * m }, rng(5));
    for (const [t, isLower] of [[lower, true], [upper, false]] as const)
      for (const transpose of [false, true]) {
        const got = hook.solveTriangular(t, b, n, m, { lower: isLower, transpose });
        expect(maxRel(got, solve64(t, b, n, m, isLower, transpose)), `lower ${isLower}, transpose ${transpose}`).toBeLessThan(1e-5);
      }
  });

  it('reports the first failing leading minor inside a later block (LAPACK info, 1-based)', async () => {
    const hook = await linalg();
    const n = 450;
    const a = new Float32Array(n * n);
    for (let i = 0; i < n; i++) a[i * n + i] = i === 300 ? -1 : 2;
    expect(hook.cholesky(a, n).info).toBe(301);
  });
});
