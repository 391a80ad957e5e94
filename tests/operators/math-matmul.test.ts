import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { matmul } from '../../operators/math/matmul.js';
import { ShapeError } from '../../core/operator/index.js';
import { testContext } from '../helpers/context.js';
import { testBackends, useBackend } from '../helpers/backends.js';

/** float64 reference: plain loops. */
function refMatmul(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, aik, k) => s + aik * b[k][j], 0)));
}

describe('math.matmul shape inference', () => {
  const meta = (shape: (number | null)[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape });
  const ctx = { node: 'n', op: 'math.matmul', resolvePath: (p: string) => p };
  it('infers [m,n] and honours transposes', () => {
    expect(matmul.shape!({ a: meta([3, 4]), b: meta([4, 5]) }, { transpose_a: false, transpose_b: false }, ctx)).toEqual({ out: [3, 5] });
    expect(matmul.shape!({ a: meta([4, 3]), b: meta([5, 4]) }, { transpose_a: true, transpose_b: true }, ctx)).toEqual({ out: [3, 5] });
  });
  it('rejects mismatched inner dimensions', () => {
    expect(() => matmul.shape!({ a: meta([3, 4]), b: meta([5, 6]) }, { transpose_a: false, transpose_b: false }, ctx)).toThrow(ShapeError);
  });
  it('accepts unknown dims', () => {
    expect(matmul.shape!({ a: meta([null, 4]), b: meta([null, 6]) }, { transpose_a: false, transpose_b: false }, ctx)).toEqual({ out: [null, 6] });
  });
});

for (const backend of testBackends()) {
  describe(`math.matmul on ${backend}`, () => {
    it('matches a float64 reference and leaks nothing', async () => {
      await useBackend(backend);
      const a = [[1, 2, 3], [4, 5, 6]];
      const b = [[0.5, -1], [2, 0.25], [-3, 1]];
      const before = tf.memory().numTensors;
      const ta = tf.tensor2d(a);
      const tb = tf.tensor2d(b);
      const { out } = matmul.run({ a: ta, b: tb }, { transpose_a: false, transpose_b: false }, testContext()) as { out: tf.Tensor };
      const got = (await out.array()) as number[][];
      const want = refMatmul(a, b);
      got.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(want[i][j], 5)));
      tf.dispose([ta, tb, out]);
      expect(tf.memory().numTensors).toBe(before);
    });

    // On webgpu this checks core/run/webgpu-matmul-fix.ts: the raw transposeB path gets it wrong.
    it('a·bᵀ with a long inner dimension (2048: where tfjs-webgpu 4.22 transposeB goes wrong) matches float64', async () => {
      await useBackend(backend);
      const [m, k] = [16, 2048];
      const a = Array.from({ length: m }, (_, i) => Array.from({ length: k }, (_, j) => Math.sin(i * 7.3 + j * 0.37)));
      const before = tf.memory().numTensors;
      const ta = tf.tensor2d(a);
      const out = tf.tidy(() => (matmul.run({ a: ta, b: ta }, { transpose_a: false, transpose_b: true }, { ...testContext(), backend }) as { out: tf.Tensor }).out);
      const got = (await out.array()) as number[][];
      const want = a.map((r) => a.map((s) => r.reduce((acc, v, j) => acc + v * s[j], 0)));
      // float32 sums of 2048 products of magnitude ≤ 1: rounding ≲ 2048·6e-8·|a||b| ≈ 1e-4·k.
      got.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - want[i][j])).toBeLessThan(1e-4 * k)));
      // the diagonal is ‖a_i‖² ≈ k/2 and must not be corrupted
      for (let i = 0; i < m; i++) expect(got[i][i]).toBeGreaterThan(0.4 * k);
      tf.dispose([ta, out]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
