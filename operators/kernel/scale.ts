import { defineOperator, expectRank, tensor, Type } from '../../core/operator/index.js';

export const scale = defineOperator({
  id: 'kernel.scale',
  version: 1,
  summary: 'Scaled kernel k = factor·k₀ (factor ≥ 0 keeps it PSD)',
  params: Type.Object({ factor: Type.Number({ minimum: 0, default: 1, description: 'Non-negative scale (a signal variance)' }) }, { additionalProperties: false }),
  inputs: { k: tensor({ dtype: 'float32', rank: 2, doc: 'kernel matrix [n1, n2]' }) },
  outputs: { k: tensor({ dtype: 'float32', doc: 'factor·k [n1, n2]' }) },
  examples: [{ params: { factor: 2 }, inputs: { k: { shape: [4, 4], fill: 'spd' } } }],
  shape: ({ k }) => {
    expectRank(k.shape!, 2, 'k', '/inputs/k');
    return { k: k.shape! };
  },
  run: ({ k }, p, { tf }) => ({ k: tf.mul(k, p.factor) }),
});
