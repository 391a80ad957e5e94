import { defineOperator, expectDim, fitLine, tensor, Type } from '../../core/operator/index.js';
import { claimPort, formatNumber, values, type Claim } from './claim.js';

/** Least-squares slope of y over x (log–log by default) must lie in [lo, hi]: e.g. error ∝ width^−½. */
export const slope = defineOperator({
  id: 'check.slope',
  version: 1,
  summary: 'Claim: the least-squares slope of log y over log x lies in [lo, hi]',
  description: 'Fits y = a + s·x (on log10 scales when `log` is set) by ordinary least squares in float64 and checks lo ≤ s ≤ hi. Non-positive values cannot be logged and fail the claim.',
  params: Type.Object(
    {
      lo: Type.Number({ description: 'Smallest slope that passes.' }),
      hi: Type.Number({ description: 'Largest slope that passes.' }),
      log: Type.Boolean({ default: true, description: 'Fit on log10 x and log10 y.' }),
      label: Type.String({ default: '', description: 'What is being claimed, for the report.' }),
    },
    { additionalProperties: false },
  ),
  inputs: { x: tensor({ rank: 1, doc: 'abscissae, e.g. widths' }), y: tensor({ rank: 1, doc: 'values, e.g. errors' }) },
  outputs: claimPort,
  examples: [{ params: { lo: -0.65, hi: -0.35 }, inputs: { x: { shape: [5], fill: 'positive' }, y: { shape: [5], fill: 'positive' } } }],
  shape: ({ x, y }) => {
    expectDim(x.shape![0], y.shape![0], 'x and y must have the same length', '/inputs/y');
    return { claim: { kind: 'json' } };
  },
  run: async ({ x, y }, p) => {
    const [xs, ys] = [await values(x), await values(y)];
    const what = `${p.label ? `${p.label}: ` : ''}slope of ${p.log ? 'log y over log x' : 'y over x'} in [${p.lo}, ${p.hi}]`;
    if (p.log && [...xs, ...ys].some((v) => !(v > 0))) {
      return { claim: { pass: false, value: null, message: `${what}: FAIL, a value is not positive and has no logarithm` } satisfies Claim };
    }
    const fx = p.log ? xs.map(Math.log10) : xs;
    const fy = p.log ? ys.map(Math.log10) : ys;
    const s = fitLine(fx, fy)?.slope ?? NaN;
    const pass = Number.isFinite(s) && s >= p.lo && s <= p.hi;
    return { claim: { pass, value: Number.isFinite(s) ? s : null, message: `${what}: measured ${formatNumber(s)}` } satisfies Claim };
  },
});
