/**
 * The attention family: operators (heads-first q [B,H,Nq,D], k [B,H,Nk,D], v [B,H,Nk,Dv]) and the
 * shared helpers they are built from.
 */
export { causalMask, maskedSoftmax, allowedOf, safeDiv } from './common.js';
export { axisWindows, gridWindows } from './windows.js';
export type { AxisWindows } from './windows.js';
export { featureMap, linearCore } from './features.js';
export type { FeatureMap } from './features.js';
export { drawProjection, iidGaussian, orthogonalGaussian, orthogonalParam } from './orthogonal.js';

export { softmaxAttention } from './softmax.js';
export { sigmoidAttention } from './sigmoid.js';
export { neighborhoodAttention } from './neighborhood.js';
export { linearAttention } from './linear.js';
export { softAttention } from './soft.js';
export { rpeFftAttention } from './rpe-fft.js';
export { rpeBias, toeplitzBias } from './rpe-bias.js';
export { ntkPrefixAttention } from './ntk-prefix.js';
export { s2Attention, s2Mask, s2Blocks, headStep } from './s2.js';
export type { S2Pattern } from './s2.js';
