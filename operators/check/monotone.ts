import { defineOperator, tensor, Type } from '../../core/operator/index.js';
import { claimPort, formatNumber, values, type Claim } from './claim.js';

/** A sequence is non-increasing (or non-decreasing) up to a tolerance: e.g. "more features never hurt". */
export const monotone = defineOperator({
  id: 'check.monotone',
  version: 1,
  summary: 'Claim: y is non-increasing (or non-decreasing) along its length, within a relative tolerance',
  description: 'Passes when every step y[i+1] − y[i] is ≤ tol·max|y| (non_increasing) or ≥ −tol·max|y| (non_decreasing). The value reported is the worst step, relative to max|y|.',
  params: Type.Object(
    {
      direction: Type.Union([Type.Literal('non_increasing'), Type.Literal('non_decreasing')], { default: 'non_increasing', description: 'Which way y must go.' }),
      tol: Type.Number({ minimum: 0, default: 0, description: 'Allowed step against the direction, relative to max|y|.' }),
      label: Type.String({ default: '', description: 'What is being claimed, for the report.' }),
    },
    { additionalProperties: false },
  ),
  inputs: { y: tensor({ rank: 1, doc: 'the sequence' }) },
  outputs: claimPort,
  examples: [{ params: { tol: 0.1 }, inputs: { y: { shape: [6] } } }],
  run: async ({ y }, p) => {
    const ys = await values(y);
    const scale = Math.max(1e-300, ...ys.map(Math.abs));
    const sign = p.direction === 'non_increasing' ? 1 : -1;
    let worst = -Infinity;
    for (let i = 0; i + 1 < ys.length; i++) worst = Math.max(worst, (sign * (ys[i + 1] - ys[i])) / scale);
    if (ys.length < 2) worst = 0;
    const pass = worst <= p.tol;
    const what = `${p.label ? `${p.label}: ` : ''}${p.direction.replace('_', '-')} within ${p.tol}`;
    return { claim: { pass, value: worst, message: `${what}: worst step against it ${formatNumber(worst)} (relative)` } satisfies Claim };
  },
});
