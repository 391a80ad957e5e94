/**
 * The kernel family: analytic NNGP/NTK of networks (kernel.nn), classic kernels and combinators,
 * and the library they share (layer recursion, tiling, stable distances) for other families.
 */
// Library.
export { compileLayers, applySteps, LAYER_TYPES, LAYER_DOC } from './nn-layers.js';
export type { Step, Activation, Parameterization, TileState, ApplyOptions } from './nn-layers.js';
export { nnKernel } from './nn.js';
export type { NnKernelOptions } from './nn.js';
export { assembleTiled, planTiles, diagonalMask, DEFAULT_TILE_ENTRIES } from './tiling.js';
export type { Tile, TiledOptions } from './tiling.js';
export { sqDist, centredScaled, tiledPairwise, stationaryKernel, scaleBy } from './common.js';

// The kernel.* operators.
export { nn } from './nn.js';
export { rbf } from './rbf.js';
export { matern } from './matern.js';
export { linear } from './linear.js';
export { polynomial } from './polynomial.js';
export { periodic } from './periodic.js';
export { arccos } from './arccos.js';
export { sum } from './sum.js';
export { product } from './product.js';
export { scale } from './scale.js';

// Part B (empirical NTK) appends its exports below.
export { empiricalNtk } from './empirical-ntk.js';
