/**
 * The linalg library: float32-safe dense linear algebra for tfjs, shared by the operator families.
 * Every function takes the tfjs namespace (`tf: TF`) so operator files never import tfjs at run time.
 */
export { choleskyFactor, choleskyMatrix, choleskyHost, logdetFromFactor, jitterSchedule } from './cholesky.js';
export type { CholeskyOptions, CholeskyInfo, CholeskyResult, JitterSpec } from './cholesky.js';
export { solveTriangular, choSolve, solveHost } from './triangular.js';
export type { TriangularOptions } from './triangular.js';
export { cg } from './cg.js';
export type { CgOptions, CgResult, MatVec } from './cg.js';
export { pivotedCholesky, pivotedCholeskyPreconditioner, identityPreconditioner } from './pivoted-cholesky.js';
export type { PivotedCholesky, Preconditioner, PreconditionerOptions } from './pivoted-cholesky.js';
export { logdetSlq } from './slq.js';
export type { SlqOptions, SlqResult } from './slq.js';
export { cholInPlace, invLower, tridiagEigFirst, sumLog } from './host.js';
export { eigh, tridiagonalize, tql2, mergeRankOne } from './eigh.js';
export type { EighOptions, EighResult, EighStats } from './eigh.js';
export { pinvNewton } from './pinv-newton.js';
export type { PinvNewtonOptions, PinvNewtonInfo } from './pinv-newton.js';

// The linalg.* operators.
export { choleskyOp } from './op-cholesky.js';
export { solveTriangularOp } from './op-solve-triangular.js';
export { choSolveOp } from './op-cho-solve.js';
export { logdetOp } from './op-logdet.js';
export { cgOp } from './op-cg.js';
export { logdetSlqOp } from './op-logdet-slq.js';
export { eighOp } from './op-eigh.js';
export { pinvNewtonOp } from './op-pinv-newton.js';
