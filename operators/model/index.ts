/** The model family: networks as parameter records plus a JSON description, and their library. */
export { ACTIVATIONS, PARAMETERIZATIONS, buildMlpModel, parseMlpModel, paramNames, initMlpParams, activate, checkParams, mlpForward, mlpBackward, activationGrad, activationScalar, erfScalar, mlpPredict, toJson } from './mlp-lib.js';
export type { Activation, Parameterization, MlpLayer, MlpModel, MlpOptions, ForwardResult } from './mlp-lib.js';
export { Rng, mixSeed } from './rng.js';

export { mlp } from './mlp.js';
export { apply } from './apply.js';
export { samplePreactivations } from './sample-preactivations.js';
export { constructLsa, contextMoment, lsaDims, lsaForward, lsaLossAndGrads } from './lsa-icl-lib.js';
export { lsaIcl } from './lsa-icl.js';
