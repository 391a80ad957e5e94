import { defineOperator, json, Type } from '../../core/operator/index.js';

/** A literal JSON value, e.g. a hyperparameter that other nodes take through `$from` or a json input. */
export const jsonValue = defineOperator({
  id: 'data.json',
  version: 1,
  summary: 'A literal JSON value (number, string, array or object) as a json output',
  params: Type.Object(
    { value: Type.Unknown({ description: 'Any JSON value.' }) },
    { additionalProperties: false },
  ),
  inputs: {},
  outputs: { out: json({ doc: 'the value' }) },
  examples: [{ params: { value: { lengthscale: 0.5, noise: [1e-3, 2e-3] } }, inputs: {} }],
  shape: (_inputs, p) => ({ out: { kind: 'json', value: p.value as never } }),
  run: (_inputs, p) => ({ out: p.value as never }),
});
