import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../helpers/backends.js';
await useBackend(process.argv[2] ?? 'wasm');
const n = 2048, b = 128;
const A = tf.randomNormal([n, n]);
const P = tf.randomNormal([n - b, b]);
const time = async (name: string, f: () => tf.Tensor | Promise<unknown>) => {
  let best = Infinity;
  for (let rep = 0; rep < 3; rep++) {
  const t0 = performance.now();
  const r = await f(); if (r instanceof tf.Tensor) { await r.data(); r.dispose(); }
  best = Math.min(best, performance.now() - t0);
  }
  console.log(name, best.toFixed(1), 'ms');
};
await time('matmul sq 2048', () => tf.matMul(A, A));
await time('matmul PPt', () => tf.matMul(P, P, false, true));
await time('matmul PtP (transA)', () => tf.matMul(P, P, true, false));
await time('matmul P transpose(P)', () => tf.tidy(() => tf.matMul(P, tf.transpose(P))));
await time('slice A22', () => tf.slice(A, [b, b], [n - b, n - b]));
await time('sub', () => tf.sub(A, A));
const host = new Float32Array(n * n);
await time('host path: matmul+download+sub', async () => {
  const m = tf.tidy(() => tf.matMul(P, tf.transpose(P)));
  const d = await m.data(); m.dispose();
  const r = n - b;
  for (let i = 0; i < r; i++) { const o = (i + b) * n + b; for (let j = 0; j <= i; j++) host[o + j] -= d[i * r + j]; }
});
