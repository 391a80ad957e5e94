/** The train family: training loops and their library (losses, empirical NTK, Hessian power iteration). */
export { lossOf, targetsOf, sqNorm, dot, axpy, allFinite, mlpNtk, hessianTopEig, readScalar } from './lib.js';
export type { LossName, PowerIterationOptions, PowerIterationResult } from './lib.js';
export { fit, fitParams, trainMlp, TRACKS } from './fit.js';
export type { FitParams, Track } from './fit.js';
