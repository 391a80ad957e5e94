/**
 * The built-in operators, exported like a plugin's: the engine registers whatever this module
 * exports through the same path as any plugin module.
 */
export { constant } from './data/constant.js';
export { load } from './data/load.js';
export { normal } from './data/normal.js';
export { uniform } from './data/uniform.js';
export { add } from './math/add.js';
export { matmul } from './math/matmul.js';
export { mul } from './math/mul.js';
export { reduce } from './math/reduce.js';
export { scale } from './math/scale.js';
export { sub } from './math/sub.js';
export { transpose } from './math/transpose.js';
export { mse } from './metric/mse.js';
export { relError } from './metric/rel_error.js';
