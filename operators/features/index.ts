/**
 * The features family: random-feature maps whose inner products converge to kernels
 * (φ(x)·φ(x′) → k(x, x′) as the number of features grows, error ∝ D^−½), and the seeded-draw
 * helpers they share with the empirical NTK.
 */
export { seededNormal, seededUniform, expectShape, checkMeta } from './random.js';

// The features.* operators.
export { rff } from './rff.js';
export { favor } from './favor.js';
export { reluFeatures } from './relu.js';
