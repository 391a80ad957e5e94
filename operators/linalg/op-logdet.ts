import { defineOperator, expectDim, json, OperatorError, ShapeError, tensor, Type } from '../../core/operator/index.js';
import type { JsonValue } from '../../core/operator/index.js';
import { choleskyFactor, logdetFromFactor } from './cholesky.js';
import { assertFinite } from './host.js';
import { blockSizeParam, innerBlockParam, jitterParam } from './op-cholesky.js';

/**
 * log|A| = 2·Σ log Lᵢᵢ, the sum taken in float64 on the host. Connect exactly one input: `a` (an SPD
 * matrix, factored here with the jitter policy) or `l` (a Cholesky factor already computed, e.g. by
 * linalg.cholesky, so a pipeline factors once).
 */
export const logdetOp = defineOperator({
  id: 'linalg.logdet',
  version: 1,
  summary: 'log|A| of a symmetric positive definite A from its Cholesky factor: 2·Σ log Lᵢᵢ (float64 sum); input a or l',
  description:
    'Exactly one of the inputs is connected. With `a`, A is factored by the blocked Cholesky of linalg.cholesky ' +
    '(params jitter, block_size, inner_block apply; the log-determinant is then that of A + jitter_used·I, reported in info). ' +
    'With `l`, the diagonal of the given factor is used (params ignored). info: {logdet (float64 values), ' +
    'method: "cholesky", jitter_used}.',
  params: Type.Object(
    { jitter: jitterParam, block_size: blockSizeParam, inner_block: innerBlockParam },
    { additionalProperties: false },
  ),
  inputs: {
    a: tensor({ dtype: 'float32', rank: [2, 3, 4], optional: true, doc: 'A, [..., n, n] SPD' }),
    l: tensor({ dtype: 'float32', rank: [2, 3, 4], optional: true, doc: 'or L, [..., n, n], its Cholesky factor' }),
  },
  outputs: {
    out: tensor({ dtype: 'float32', doc: 'log|A|, [...] (a scalar for one matrix)' }),
    info: json({ doc: '{logdet, method, jitter_used}' }),
  },
  examples: [{ inputs: { a: { shape: [10, 10], fill: 'spd' } } }],
  shape: ({ a, l }) => {
    const m = a ?? l;
    if ((a === undefined) === (l === undefined)) throw new ShapeError('connect exactly one of a and l', '/inputs');
    const s = m!.shape!;
    expectDim(s[s.length - 2], s[s.length - 1], 'matrix must be square', '/inputs');
    return { out: s.slice(0, -2), info: { kind: 'json' } };
  },
  run: async ({ a, l }, p, ctx) => {
    const { tf } = ctx;
    if ((a === undefined) === (l === undefined)) {
      throw new OperatorError('bad_inputs', 'linalg.logdet: connect exactly one of a and l');
    }
    let factor = l;
    let jitterUsed = 0;
    if (a !== undefined) {
      const res = await choleskyFactor(tf, a, {
        jitter: p.jitter,
        blockSize: p.block_size,
        innerBlock: p.inner_block,
        signal: ctx.signal,
      });
      factor = res.l;
      jitterUsed = res.jitterUsed;
    } else {
      await assertFinite(tf, l!, 'l', 'linalg.logdet');
    }
    try {
      const values = await logdetFromFactor(tf, factor!);
      if (values.some((v) => !Number.isFinite(v))) {
        throw new OperatorError('not_psd', 'linalg.logdet: the factor has a non-positive diagonal entry', {});
      }
      const batch = factor!.shape.slice(0, -2);
      const info: Record<string, JsonValue> = {
        logdet: batch.length === 0 ? values[0] : values,
        method: 'cholesky',
        jitter_used: jitterUsed,
      };
      ctx.note('jitter_used', jitterUsed);
      return { out: tf.tensor(values, batch, 'float32'), info };
    } finally {
      if (factor !== l) factor!.dispose();
    }
  },
});
