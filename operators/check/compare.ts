/**
 * Scalar comparisons as claims: check.less (a < b·factor), check.close (|a − b| ≤ atol + rtol·|b|),
 * check.between (lo ≤ x ≤ hi, for every element).
 */
import { defineOperator, tensor, Type } from '../../core/operator/index.js';
import { claimPort, formatNumber, values, type Claim } from './claim.js';

const label = Type.String({ default: '', description: 'What is being claimed, for the report.' });

export const less = defineOperator({
  id: 'check.less',
  version: 1,
  summary: 'Claim: a < factor·b (scalars; with or_equal, ≤)',
  params: Type.Object(
    {
      factor: Type.Number({ default: 1, description: 'Compare with factor·b, e.g. 0.7 for "at most 70% of".' }),
      or_equal: Type.Boolean({ default: false, description: 'Accept equality.' }),
      label,
    },
    { additionalProperties: false },
  ),
  inputs: { a: tensor({ rank: 0, doc: 'scalar' }), b: tensor({ rank: 0, doc: 'scalar' }) },
  outputs: claimPort,
  examples: [{ params: { factor: 2 }, inputs: { a: { shape: [], fill: 'positive' }, b: { shape: [], fill: 'positive' } } }],
  run: async ({ a, b }, p) => {
    const [[va], [vb]] = [await values(a), await values(b)];
    const bound = p.factor * vb;
    const pass = p.or_equal ? va <= bound : va < bound;
    const ratio = vb !== 0 ? va / vb : null;
    return { claim: { pass, value: ratio, a: va, b: vb, message: `${p.label ? `${p.label}: ` : ''}a ${p.or_equal ? '≤' : '<'} ${p.factor}·b: a = ${formatNumber(va)}, b = ${formatNumber(vb)}` } satisfies Claim };
  },
});

export const close = defineOperator({
  id: 'check.close',
  version: 1,
  summary: 'Claim: |a − b| ≤ atol + rtol·|b| elementwise (same shapes)',
  params: Type.Object(
    {
      rtol: Type.Number({ minimum: 0, default: 1e-5, description: 'Relative tolerance.' }),
      atol: Type.Number({ minimum: 0, default: 1e-8, description: 'Absolute tolerance.' }),
      label,
    },
    { additionalProperties: false },
  ),
  inputs: { a: tensor(), b: tensor() },
  outputs: claimPort,
  examples: [{ params: { rtol: 10 }, inputs: { a: { shape: [3], fill: 'positive' }, b: { shape: [3], fill: 'positive' } } }],
  run: async ({ a, b }, p) => {
    const [va, vb] = [await values(a), await values(b)];
    if (va.length !== vb.length) return { claim: { pass: false, value: null, message: `a has ${va.length} elements, b ${vb.length}` } satisfies Claim };
    // The worst violation, as a multiple of the allowed difference (≤ 1 passes).
    let worst = 0;
    va.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - vb[i]) / (p.atol + p.rtol * Math.abs(vb[i])))));
    return { claim: { pass: worst <= 1, value: worst, message: `${p.label ? `${p.label}: ` : ''}close within rtol ${p.rtol}, atol ${p.atol}: worst difference ${formatNumber(worst)}× the allowed` } satisfies Claim };
  },
});

export const between = defineOperator({
  id: 'check.between',
  version: 1,
  summary: 'Claim: lo ≤ x ≤ hi for every element of x',
  params: Type.Object(
    { lo: Type.Number({ description: 'Lower bound.' }), hi: Type.Number({ description: 'Upper bound.' }), label },
    { additionalProperties: false },
  ),
  inputs: { x: tensor() },
  outputs: claimPort,
  examples: [{ params: { lo: -10, hi: 10 }, inputs: { x: { shape: [4] } } }],
  run: async ({ x }, p) => {
    const vx = await values(x);
    const lo = Math.min(...vx);
    const hi = Math.max(...vx);
    const pass = lo >= p.lo && hi <= p.hi;
    return { claim: { pass, value: vx.length === 1 ? vx[0] : pass ? null : lo < p.lo ? lo : hi, message: `${p.label ? `${p.label}: ` : ''}in [${p.lo}, ${p.hi}]: measured ${vx.length === 1 ? formatNumber(vx[0]) : `[${formatNumber(lo)}, ${formatNumber(hi)}]`}` } satisfies Claim };
  },
});
