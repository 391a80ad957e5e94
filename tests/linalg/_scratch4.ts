import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../helpers/backends.js';
import { choleskyFactor, choSolve } from '../../operators/linalg/index.js';
import { normals, rbf, refCholeskyBlocked, refLowerSolve, refMatmul, relErrMax, roundF32 } from './ref.js';
await useBackend('wasm');
for (const [n, noise] of [[500, 1e-4], [2000, 1e-4]]) {
  const d = 8, nt = 200;
  const x = normals(n * d, 100 + n);
  const xs = normals(nt * d, 200 + n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = Math.sin(x[i * d]) + 0.5 * Math.cos(2 * x[i * d + 1]) + 0.1 * x[i * d + 2];
  const k = rbf(x, n, x, n, d, Math.sqrt(d));
  for (let i = 0; i < n; i++) k[i * n + i] += noise;
  const ks = rbf(xs, nt, x, n, d, Math.sqrt(d));
  const l64 = refCholeskyBlocked(k, n);
  const mu64 = refMatmul(ks, refLowerSolve(l64, n, refLowerSolve(l64, n, y, 1), 1, true), nt, n, 1);
  const K = tf.tensor2d(Float32Array.from(k), [n, n]);
  const Y = tf.tensor2d(Float32Array.from(y), [n, 1]);
  for (const bs of [32, 128, 256]) {
  const { l } = await choleskyFactor(tf, K, { blockSize: bs });
  const lh = Float64Array.from(await l.data());
  const a = await choSolve(tf, l, Y, { blockSize: bs });
  const muOurs = refMatmul(ks, Float64Array.from(await a.data()), nt, n, 1);
  const muHostSolve = refMatmul(ks, refLowerSolve(lh, n, refLowerSolve(lh, n, roundF32(y), 1), 1, true), nt, n, 1);
  const l64r = roundF32(l64);
  const a2 = await choSolve(tf, tf.tensor2d(Float32Array.from(l64r), [n, n]), Y, { blockSize: bs });
  const muRoundL = refMatmul(ks, Float64Array.from(await a2.data()), nt, n, 1);
  console.log(n, bs, 'ours', relErrMax(muOurs, mu64).toExponential(2), 'our L + f64 solve', relErrMax(muHostSolve, mu64).toExponential(2), 'rounded f64 L + our solve', relErrMax(muRoundL, mu64).toExponential(2));
  }
}
