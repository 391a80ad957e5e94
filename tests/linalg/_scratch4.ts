import { normals, rbf, refCholeskyBlocked, refLowerSolve, refMatmul, relErr, relErrMax, roundF32 } from './ref.js';
for (const [n, noise] of [[500, 1e-4], [2000, 1e-4]]) {
  const d = 8, nt = 200;
  const x = normals(n * d, 100 + n);
  const xs = normals(nt * d, 200 + n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = Math.sin(x[i * d]) + 0.5 * Math.cos(2 * x[i * d + 1]) + 0.1 * x[i * d + 2];
  const k = rbf(x, n, x, n, d, Math.sqrt(d));
  for (let i = 0; i < n; i++) k[i * n + i] += noise;
  const ks = rbf(xs, nt, x, n, d, Math.sqrt(d));
  const solve = (kk: Float64Array, yy: Float64Array) => { const l = refCholeskyBlocked(kk, n); return refLowerSolve(l, n, refLowerSolve(l, n, yy, 1), 1, true); };
  const mu64 = refMatmul(ks, solve(k, y), nt, n, 1);
  const muR = refMatmul(roundF32(ks), solve(roundF32(k), roundF32(y)), nt, n, 1);
  console.log(n, noise, 'floor from rounding inputs: max-rel', relErrMax(muR, mu64).toExponential(2), 'norm-rel', relErr(muR, mu64).toExponential(2));
}
