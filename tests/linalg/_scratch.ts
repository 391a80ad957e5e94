import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../helpers/backends.js';
import { choleskyFactor, logdetFromFactor, solveTriangular, choSolve } from '../../operators/linalg/index.js';
import { spdMatrix, roundF32, refCholesky, refLogdet, relErr, normals, refLowerSolve } from './ref.js';

const backend = process.argv[2] ?? 'wasm';
await useBackend(backend);
for (const [n, cond] of [[64, 1e2], [256, 1e6], [1024, 1e6], [2048, 1e6]] as const) {
  if (backend === 'cpu' && n > 256) continue;
  let t0 = performance.now();
  const a64 = roundF32(spdMatrix(n, cond, 1));
  const tgen = performance.now() - t0;
  t0 = performance.now();
  const lref = refCholesky(a64, n);
  const tref = performance.now() - t0;
  const A = tf.tensor2d(Float32Array.from(a64), [n, n]);
  t0 = performance.now();
  const { l, infos } = await choleskyFactor(tf, A, { blockSize: 128 });
  const tchol = performance.now() - t0;
  const lh = await l.data();
  const ld = (await logdetFromFactor(tf, l))[0];
  const ldref = refLogdet(lref, n);
  const m = 4;
  const b64 = normals(n * m, 7);
  const B = tf.tensor2d(Float32Array.from(b64), [n, m]);
  t0 = performance.now();
  const X = await choSolve(tf, l, B);
  const tsolve = performance.now() - t0;
  const xref = refLowerSolve(lref, n, refLowerSolve(lref, n, Float64Array.from(Float32Array.from(b64)), m), m, true);
  const xh = await X.data();
  console.log({ n, cond, backend, tgen: tgen.toFixed(0), tref: tref.toFixed(0), tchol: tchol.toFixed(0), tsolve: tsolve.toFixed(0),
    lerr: relErr(lh, lref).toExponential(2), logdetErr: (Math.abs(ld - ldref) / Math.abs(ldref)).toExponential(2), ld, ldref,
    xerr: relErr(xh, xref).toExponential(2), jitter: infos[0].jitter_used });
  tf.dispose([A, l, B, X]);
  console.log(tf.memory().numTensors);
}
