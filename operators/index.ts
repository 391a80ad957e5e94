/**
 * The built-in operators, exported like a plugin's: the engine registers whatever this module
 * exports (operators, and each family's module namespace) through the same path as any plugin.
 */
export { constant } from './data/constant.js';
export { jsonValue } from './data/json.js';
export { load } from './data/load.js';
export { normal } from './data/normal.js';
export { uniform } from './data/uniform.js';
export { add } from './math/add.js';
export { diag } from './math/diag.js';
export { matmul } from './math/matmul.js';
export { mul } from './math/mul.js';
export { reduce } from './math/reduce.js';
export { scale } from './math/scale.js';
export { stack } from './math/stack.js';
export { sub } from './math/sub.js';
export { transpose } from './math/transpose.js';
export { argmin } from './metric/argmin.js';
export { kurtosis } from './metric/kurtosis.js';
export { mse } from './metric/mse.js';
export { relError } from './metric/rel_error.js';
export { timing } from './metric/timing.js';

// Families with a library beside their operators export both from their index; registration keeps
// the operators. (Listed as arrays: a bundler may turn module namespaces into plain objects.)
import * as attention from './attention/index.js';
import * as check from './check/index.js';
import * as features from './features/index.js';
import * as gp from './gp/index.js';
import * as kernel from './kernel/index.js';
import * as linalg from './linalg/index.js';
import * as model from './model/index.js';
import * as predict from './predict/index.js';
import * as train from './train/index.js';
import * as trainData from './train-data-index.js';

export const families = [attention, check, features, gp, kernel, linalg, model, predict, train, trainData].map((family) => Object.values(family));
