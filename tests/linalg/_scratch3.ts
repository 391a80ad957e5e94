import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../helpers/backends.js';
import { solveTriangular } from '../../operators/linalg/index.js';
await useBackend(process.argv[2] ?? 'wasm');
const n = 2048;
const L = tf.tidy(() => tf.add(tf.linalg.bandPart(tf.randomUniform([n, n], -0.01, 0.01), -1, 0), tf.eye(n)));
const B = tf.randomNormal([n, 4]);
for (const transpose of [false, true, false, true]) {
  const t0 = performance.now();
  const x = await solveTriangular(tf, L, B, { transpose });
  await x.data();
  console.log('transpose', transpose, (performance.now() - t0).toFixed(0));
  x.dispose();
}
const t0 = performance.now();
for (let i = 0; i < 16; i++) { const s = tf.slice(L, [i*128, i*128], [128, 128]); await s.data(); s.dispose(); }
console.log('16 diag slices', (performance.now() - t0).toFixed(0));
