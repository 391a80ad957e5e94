/**
 * The predict family: closed-form outputs of networks trained in the kernel (linearised) regime.
 * Exact GP inference and the t = ∞ NTK-ensemble posterior are gp.exact / gp.ntk (GP family).
 */
export { gdMse } from './gd-mse.js';
export { gdIcl } from './gd-icl.js';
