import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../core/operator/index.js';
import { diag } from '../../operators/math/diag.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';

const meta = (shape: (number | null)[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape });
const sctx = { node: 'n', op: 'math.diag', resolvePath: (p: string) => p };

describe('math.diag shape inference', () => {
  it('drops the last axis of square matrices and rejects the rest', () => {
    expect(diag.shape!({ x: meta([2, 4, 4]) }, {}, sctx)).toEqual({ out: { kind: 'tensor', dtype: 'float32', shape: [2, 4] } });
    expect(() => diag.shape!({ x: meta([4, 3]) }, {}, sctx)).toThrow(ShapeError);
    expect(() => diag.shape!({ x: meta([4]) }, {}, sctx)).toThrow(ShapeError);
  });
});

for (const backend of testBackends()) {
  describe(`math.diag on ${backend}`, () => {
    it('takes x[..., i, i] exactly, keeps ±Infinity off the diagonal out of it, leaks nothing', async () => {
      await useBackend(backend);
      const [b, n] = [3, 5];
      const data = Array.from({ length: b * n * n }, (_, k) => (k % 7 === 3 ? Infinity : k * 0.5 - 9));
      // keep the diagonal finite so the result must be exactly the diagonal entries
      for (let m = 0; m < b; m++) for (let i = 0; i < n; i++) data[m * n * n + i * n + i] = m * 100 + i + 0.25;
      const before = tf.memory().numTensors;
      const x = tf.tensor3d(data, [b, n, n]);
      const out = tf.tidy(() => (diag.run({ x }, {}, testContext()) as { out: tf.Tensor }).out);
      expect(out.shape).toEqual([b, n]);
      const got = Array.from(await out.data());
      expect(got).toEqual(Array.from({ length: b * n }, (_, k) => Math.floor(k / n) * 100 + (k % n) + 0.25));
      tf.dispose([x, out]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
