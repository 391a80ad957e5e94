/** The train family: training loops and their library (losses, empirical NTK, Hessian power iteration). */
export { lossOf, lossAndGradF, mlpLossAndGrads, targetsOf, sqNorm, dot, axpy, allFinite, mlpNtk, hessianTopEig, readScalar } from './lib.js';
export type { LossName, PowerIterationOptions, PowerIterationResult } from './lib.js';
export { fit, fitParams, trainMlp, TRACKS } from './fit.js';
export type { FitParams, Track } from './fit.js';
export { parameterGroups } from './fit.js';
export { mlpJvp, linearPredict, linearLossAndGrads } from './lib.js';
export { linearized } from './linearized.js';
export { ntkFlow } from './ntk-flow.js';
export { lsaIclTrain } from './lsa-icl.js';
export { attentionRecall } from './attention-recall.js';
