/**
 * metric.kurtosis against float64 moments computed here and known distributions, and
 * model.sample_preactivations against the first two layers' exact statistics: layer 1 is W·x, an
 * exact Gaussian of variance C_W·|x|²/d; at ReLU criticality (C_W = 2) the second moment is the
 * same at every layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ParamError } from '../../core/operator/index.js';
import { kurtosis } from '../../operators/metric/kurtosis.js';
import { samplePreactivations } from '../../operators/model/sample-preactivations.js';
import { Rng } from '../../operators/model/rng.js';
import { testBackends, useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';

const meta = (shape: number[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape });
const sctx = { node: 'n', op: 'op', resolvePath: (p: string) => p };

function kurtosis64(xs: ArrayLike<number>): number {
  const n = xs.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += xs[i] / n;
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const c = xs[i] - mean;
    m2 += (c * c) / n;
    m4 += (c * c * c * c) / n;
  }
  return m4 / (m2 * m2) - 3;
}

for (const backend of testBackends()) {
  describe(`metric.kurtosis on ${backend}`, () => {
    it('equals float64 central moments per slice; Gaussian ≈ 0 and uniform ≈ −1.2; leaks nothing', async () => {
      await useBackend(backend);
      const rng = new Rng(5);
      const n = 20000;
      const gauss = Array.from({ length: n }, () => rng.normal());
      const uniform = Array.from({ length: n }, () => 3 + rng.uniform());
      // Exponential: excess kurtosis 6 (a heavy tail the estimator must see).
      const expo = Array.from({ length: n }, () => -Math.log(1 - rng.uniform()));
      const before = tf.memory().numTensors;
      const x = tf.tensor2d([...gauss, ...uniform, ...expo], [3, n]);
      const out = tf.tidy(() => (kurtosis.run({ x }, params(kurtosis, { axes: [1] }), testContext()) as { out: tf.Tensor }).out);
      const got = await out.data();
      [gauss, uniform, expo].forEach((xs, i) => expect(Math.abs(got[i] - kurtosis64(xs))).toBeLessThan(2e-3 * (1 + Math.abs(kurtosis64(xs)))));
      // Sampling sd of the estimate: √(24/n) ≈ 0.035 for a Gaussian.
      expect(Math.abs(got[0])).toBeLessThan(4 * Math.sqrt(24 / n));
      expect(got[1]).toBeCloseTo(-1.2, 1);
      expect(Math.abs(got[2] - 6)).toBeLessThan(1);
      tf.dispose([x, out]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  describe(`model.sample_preactivations on ${backend}`, () => {
    it('layer 1 is an exact Gaussian of variance C_W|x|²/d; at criticality the second moment stays; seeded; leaks nothing', async () => {
      await useBackend(backend);
      const d = 6;
      const x = tf.tensor2d([[0.5, -1, 2, 0.3, -0.7, 1.1]]);
      const norm2 = 0.25 + 1 + 4 + 0.09 + 0.49 + 1.21;
      const p = params(samplePreactivations, { depth: 3, width: 64, num_networks: 300 });
      const before = tf.memory().numTensors;
      const { z } = tf.tidy(() => samplePreactivations.run({ x }, p, testContext({ seed: 9 })) as { z: tf.Tensor });
      expect(z.shape).toEqual([3, 300, 1, 64]);
      const data = await z.data();
      const per = 300 * 64;
      const layer = (l: number) => Array.from(data.subarray(l * per, (l + 1) * per));
      const secondMoment = (xs: number[]) => xs.reduce((s, v) => s + v * v, 0) / xs.length;
      const k1 = (2 * norm2) / d;
      // Layer 1: 300 networks × 64 neurons of N(0, k1); the 64 neurons of one network share x only,
      // so they are independent: the mean of z² has sd k1·√(2/19200) ≈ 1% of k1.
      expect(Math.abs(secondMoment(layer(0)) / k1 - 1)).toBeLessThan(0.05);
      expect(Math.abs(kurtosis64(layer(0)))).toBeLessThan(4 * Math.sqrt(24 / per));
      // Deeper layers: network-to-network fluctuations O(1/√width) per network, averaged over 300.
      for (const l of [1, 2]) expect(Math.abs(secondMoment(layer(l)) / k1 - 1)).toBeLessThan(0.1);
      const again = tf.tidy(() => (samplePreactivations.run({ x }, p, testContext({ seed: 9 })) as { z: tf.Tensor }).z);
      expect(Array.from(await again.data())).toEqual(Array.from(data));
      tf.dispose([z, again]);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    });
  });
}

describe('shape inference', () => {
  it('kurtosis keeps the axes it does not reduce; sample_preactivations is [depth, networks, n, width] and bounds the draw', () => {
    expect(kurtosis.shape!({ x: meta([8, 5, 1, 3]) }, params(kurtosis, { axes: [1, 2, 3] }), sctx)).toEqual({ out: { kind: 'tensor', dtype: 'float32', shape: [8] } });
    expect(samplePreactivations.shape!({ x: meta([2, 5]) }, params(samplePreactivations, { depth: 4, width: 16, num_networks: 10 }), sctx)).toEqual({
      z: { kind: 'tensor', dtype: 'float32', shape: [4, 10, 2, 16] },
    });
    expect(() => samplePreactivations.shape!({ x: meta([2, 5]) }, params(samplePreactivations, { depth: 8, width: 4096, num_networks: 100 }), sctx)).toThrow(ParamError);
  });
});
