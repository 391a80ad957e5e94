import { describe, expect, it } from 'vitest';
import { cholInPlace, invLower, tridiagEigFirst } from '../../operators/linalg/host.js';
import { refCholesky, spdMatrix } from './ref.js';

describe('linalg host routines (float64)', () => {
  it('cholInPlace matches the reference and reports the first failing row', () => {
    const n = 20;
    const a = spdMatrix(n, 1e3, 3);
    const h = Float64Array.from(a);
    expect(cholInPlace(h, n)).toBe(-1);
    const ref = refCholesky(a, n);
    h.forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThan(1e-12));
    const bad = new Float64Array(9);
    bad.set([4, 0, 0, 2, 1, 0, 0, 0, 1]); // pivot of row 1: 1 − (2/2)² = 0
    expect(cholInPlace(bad, 3)).toBe(1);
  });

  it('invLower inverts a lower-triangular matrix', () => {
    const n = 12;
    const l = refCholesky(spdMatrix(n, 1e2, 4), n);
    const x = invLower(l, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += l[i * n + k] * x[k * n + j];
        expect(Math.abs(s - (i === j ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
  });

  it('tridiagEigFirst gives the eigenvalues and first eigenvector components', () => {
    // T = tridiag(−1, 2, −1) of size m: θ_k = 2 − 2cos(kπ/(m+1)), v_k(1) ∝ sin(kπ/(m+1)).
    const m = 9;
    const { values, first } = tridiagEigFirst(new Array(m).fill(2), new Array(m - 1).fill(-1));
    const want = Array.from({ length: m }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (m + 1))).sort((p, q) => p - q);
    const order = Array.from(values.keys()).sort((p, q) => values[p] - values[q]);
    order.forEach((idx, k) => {
      expect(values[idx]).toBeCloseTo(want[k], 12);
      const w = Math.sqrt(2 / (m + 1)) * Math.sin(((k + 1) * Math.PI) / (m + 1));
      expect(Math.abs(first[idx])).toBeCloseTo(Math.abs(w), 12);
    });
    expect(first.reduce((s, v) => s + v * v, 0)).toBeCloseTo(1, 12);
  });
});
