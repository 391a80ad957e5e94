/**
 * The gp family: Gaussian-process inference operators and their library (inline kernels, exact-GP
 * building blocks, L-BFGS).
 */
export * from './kernels.js';
export * from './exact-core.js';
export { exact } from './exact.js';
export { krr } from './krr.js';
export { studentT } from './student-t.js';
export { lgamma } from './special.js';
export { fit } from './fit.js';
export { lbfgsb, adam } from './lbfgs.js';
export type { Objective, MinimizeOptions, MinimizeResult } from './lbfgs.js';
export { sparse } from './sparse.js';
export { ntk } from './ntk.js';
export { nll } from './nll.js';
export { hostLmlGrad } from './host-fit.js';
