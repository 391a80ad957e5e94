import { defineOperator, Type } from '../../core/operator/index.js';
import { classicInputs, classicOutputs, classicShape, tiledPairwise, tileSchema, varianceSchema } from './common.js';

export const arccos = defineOperator({
  id: 'kernel.arccos',
  version: 1,
  summary: 'Arc-cosine kernel k_n(x, y) = σ²/π·‖x‖ⁿ‖y‖ⁿ·J_n(θ): J₀ = π−θ, J₁ = sinθ + (π−θ)cosθ, J₂ = 3sinθcosθ + (π−θ)(1 + 2cos²θ)',
  description:
    'Cho & Saul 2009. Evaluated without dividing by the norms: with K = x·y, S = √(‖x‖²‖y‖² − K²) (as √(Q−K)√(Q+K), Q = ‖x‖‖y‖, ' +
    'clamped, 0 on the symmetric diagonal) and θ = atan2(S, K): n=1 → S + (π−θ)K, n=2 → 3SK + (π−θ)(Q² + 2K²). Order 1 equals ' +
    '2d × the NNGP of dense(W_std=1, no bias) → relu. A zero row gives 0 for orders 1, 2 and θ = 0 (k = σ²) for order 0.',
  params: Type.Object(
    {
      order: Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], { default: 1, description: 'Order n: 0 (step), 1 (ReLU), 2 (ReQU)' }),
      variance: varianceSchema,
      tile_entries: tileSchema,
    },
    { additionalProperties: false },
  ),
  inputs: classicInputs,
  outputs: classicOutputs,
  examples: [{ params: { order: 1 }, inputs: { x1: { shape: [5, 3] }, x2: { shape: [4, 3] } } }],
  shape: ({ x1, x2 }) => classicShape(x1, x2),
  run: async ({ x1, x2 }, p, { tf, signal }) => ({
    k: await tiledPairwise(
      tf,
      x1,
      x2,
      (a, b, diag) => {
        const K = tf.matMul(a, b, false, true);
        const Q = tf.mul(tf.norm(a, 'euclidean', 1, true), tf.reshape(tf.norm(b, 'euclidean', 1), [1, b.shape[0]]));
        let S = tf.mul(tf.sqrt(tf.relu(tf.sub(Q, K))), tf.sqrt(tf.relu(tf.add(Q, K))));
        if (diag) S = tf.where(diag, tf.zerosLike(S), S);
        // atan2(0, 0) := 0 (a zero row); WGSL leaves it undefined, so say it explicitly.
        const theta = tf.where(tf.logicalAnd(tf.equal(S, 0), tf.equal(K, 0)), tf.zerosLike(K), tf.atan2(S, K));
        const piMinus = tf.sub(Math.PI, theta);
        let j;
        if (p.order === 0) j = piMinus;
        else if (p.order === 1) j = tf.add(S, tf.mul(piMinus, K));
        else j = tf.add(tf.mul(tf.mul(S, K), 3), tf.mul(piMinus, tf.add(tf.square(Q), tf.mul(tf.square(K), 2))));
        return tf.mul(j, p.variance / Math.PI);
      },
      { tileEntries: p.tile_entries, signal },
    ),
  }),
});
