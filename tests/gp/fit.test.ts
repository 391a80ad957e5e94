import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { adam, exact, fit, hostLmlGrad, lbfgsb } from '../../operators/gp/index.js';
import { useBackend } from '../helpers/backends.js';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';
import { chol, fd, kern, lcg, lmlAt, matrix, type Spec } from './ref.js';

/** Standard normals by Box–Muller from the test LCG. */
function normals(n: number, seed: number): number[] {
  const u = lcg(2 * n, seed, 1e-7, 1);
  return Array.from({ length: n }, (_, i) => Math.sqrt(-2 * Math.log(u[2 * i])) * Math.cos(2 * Math.PI * u[2 * i + 1]));
}

/** Float64 compass search for the maximum of g from several starts (independent of the operator's L-BFGS). */
function compassMax(g: (t: number[]) => number, starts: number[][]): { t: number[]; v: number } {
  let best = { t: starts[0], v: -Infinity };
  for (const s of starts) {
    let t = s.slice();
    let v = g(t);
    for (let step = 0.5; step > 1e-6; ) {
      let moved = false;
      for (let i = 0; i < t.length; i++) {
        for (const sign of [1, -1]) {
          const u = t.slice();
          u[i] += sign * step;
          const w = g(u);
          if (w > v) {
            t = u;
            v = w;
            moved = true;
          }
        }
      }
      if (!moved) step /= 2;
    }
    if (v > best.v) best = { t, v };
  }
  return best;
}

const n = 48;
const xs = lcg(n, 31, -3, 3).map((v) => [v]);
const truth = { lengthscale: 0.8, outputscale: 1.5, noise: 0.04 };
const L = chol(kern(xs, xs, { type: 'rbf', lengthscale: truth.lengthscale, outputscale: truth.outputscale }).map((r, i) => r.map((v, j) => v + (i === j ? 1e-9 : 0))));
const z = normals(n, 32);
const e = normals(n, 33);
const y = L.map((row, i) => Math.fround(row.reduce((s, v, k) => s + v * z[k], 0) + Math.sqrt(truth.noise) * e[i]));

describe('L-BFGS and Adam (library)', () => {
  it('minimise a bounded quadratic and respect the box', async () => {
    const f = async (x: number[]) => ({ f: (x[0] - 1) ** 2 + 10 * (x[1] + 2) ** 2 + x[0] * x[1], g: [2 * (x[0] - 1) + x[1], 20 * (x[1] + 2) + x[0]] });
    // Unconstrained minimum: 2(x−1)+y = 0, 20(y+2)+x = 0 → x = 80/39, y = −82/39.
    const r = await lbfgsb(f, [5, 5], { lower: [-10, -10], upper: [10, 10] });
    expect(r.x[0]).toBeCloseTo(80 / 39, 5);
    expect(r.x[1]).toBeCloseTo(-82 / 39, 5);
    const b = await lbfgsb(f, [5, 5], { lower: [-10, -1], upper: [10, 10] });
    expect(b.x[1]).toBe(-1);
    expect(b.x[0]).toBeCloseTo(1.5, 5); // 2(x−1) − 1 = 0
    const a = await adam(f, [5, 5], { lower: [-10, -10], upper: [10, 10], lr: 0.05, maxIter: 3000 });
    expect(a.x[0]).toBeCloseTo(80 / 39, 2);
  });
});

describe('hostLmlGrad (gp.fit\'s float64 objective)', () => {
  it('matches the float64 reference LML and central differences for every kernel', () => {
    const x = matrix(25, 2, 71);
    const y = x.map(([a, b]) => Math.sin(a) + 0.3 * b);
    const types: Spec['type'][] = ['rbf', 'matern12', 'matern32', 'matern52', 'linear'];
    for (const type of types) {
      for (const ard of [false, true]) {
        const theta = [...(ard ? [Math.log(0.9), Math.log(1.4)] : [Math.log(1.1)]), Math.log(1.3), Math.log(0.07)];
        const nl = ard ? 2 : 1;
        const spec = { type, lengthscale: ard ? theta.slice(0, 2).map(Math.exp) : Math.exp(theta[0]), outputscale: Math.exp(theta[nl]) };
        const r = hostLmlGrad(x.flat(), 25, 2, y, 1, spec, Math.exp(theta[nl + 1]), 0);
        expect(Math.abs(r.lml - lmlAt(x, y, type, theta, ard))).toBeLessThan(1e-9);
        const g = fd((t) => lmlAt(x, y, type, t, ard), theta);
        g.forEach((gi, i) => expect(Math.abs(r.grad[i] - gi), `${type} ard=${ard} grad ${i}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(gi))));
      }
    }
  });
});

describe('gp.fit on wasm', () => {
  it('recovers the hyperparameters of data drawn from a known RBF GP; LML within 0.05 of a float64 optimum', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const tx = tf.tensor2d(xs);
    const ty = tf.tensor1d(y);
    const ctx = testContext({ seed: 9 });
    const out = (await fit.run({ x: tx, y: ty } as never, params(fit, { restarts: 3, normalize: false }), ctx)) as Record<string, unknown>;
    const ref = compassMax((t) => lmlAt(xs, y, 'rbf', t, false), [
      [0, 0, Math.log(0.1)],
      [Math.log(3), Math.log(0.5), Math.log(0.5)],
      [Math.log(0.3), Math.log(2), Math.log(0.01)],
    ]);
    const got = [out.lengthscale as number, out.outputscale as number, out.noise as number];
    const lml = (await (out.lml as tf.Tensor).data())[0];
    expect(Math.abs(lml - ref.v), `fit ${lml} vs float64 optimum ${ref.v}`).toBeLessThan(0.05);
    expect(ref.v - lmlAt(xs, y, 'rbf', got.map(Math.log), false)).toBeLessThan(0.05);
    // Recovered within a factor 2 of the truth (n = 48 draws of one sample path).
    [truth.lengthscale, truth.outputscale, truth.noise].forEach((v, i) => expect(Math.abs(Math.log(got[i] / v)), `param ${i}: ${got[i]} vs ${v}`).toBeLessThan(Math.log(2)));
    const info = out.info as { per_restart: unknown[]; best_restart: number; objective: string };
    expect(info.per_restart).toHaveLength(4);
    expect(info.objective).toBe('float64 host');
    (out.lml as tf.Tensor).dispose();

    // normalize: un-standardised outputs; fed to gp.exact through 'hyper' they give the same LML.
    // The float32 tensor objective (host_max_n: 0) on the normalised problem.
    const outN = (await fit.run({ x: tx, y: ty } as never, params(fit, { restarts: 1, host_max_n: 0 }), testContext({ seed: 4 }))) as Record<string, unknown>;
    expect((outN.info as { objective: string }).objective).toBe('float32 tensors');
    const lmlN = (await (outN.lml as tf.Tensor).data())[0];
    // With normalize the prior mean is mean(y): compare with the float64 optimum of that model.
    const mu = y.reduce((s, v) => s + v, 0) / n;
    const yc = y.map((v) => v - mu);
    const refN = compassMax((t) => lmlAt(xs, yc, 'rbf', t, false), [[0, 0, Math.log(0.1)], [Math.log(0.3), Math.log(2), Math.log(0.01)]]);
    expect(Math.abs(lmlN - refN.v), `normalized fit ${lmlN} vs ${refN.v}`).toBeLessThan(0.05);
    expect((outN.hyper as { mean: number }).mean).toBeCloseTo(mu, 5);
    const ex = (await exact.run({ x: tx, y: ty, hyper: outN.hyper } as never, params(exact, {}), testContext())) as Record<string, tf.Tensor>;
    expect(Math.abs((await ex.lml.data())[0] - lmlN)).toBeLessThan(2e-3 * Math.abs(lmlN));
    tf.dispose([outN.lml as tf.Tensor, ex.lml]);
    tf.dispose([tx, ty]);
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});
