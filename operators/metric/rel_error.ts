import type { Tensor } from '@tensorflow/tfjs-core';
import { defineOperator, OperatorError, Type } from '../../core/operator/index.js';
import type { TF } from '../../core/operator/index.js';
import { expectSameShape, inferScalarOfPair, pairInputs, scalarOutput } from './pair.js';

/**
 * Relative error ‖a − b‖_F / ‖b‖_F without overflow or underflow in float32: with t = max(|a|, |b|)
 * and s = max|b|, it is (m·t·‖dn‖) / (s·‖b/s‖) where d = a/t − b/t, m = max|d| and dn = d/m, so
 * every number squared lies in [−1, 1] and the largest is ±1 (the scaling of LAPACK's xNRM2); the
 * scale factors are recombined in float64.
 */
export const relError = defineOperator({
  id: 'metric.rel_error',
  version: 1,
  summary: 'Relative error out = ‖a − b‖_F / ‖b‖_F, a and b of the same shape',
  description:
    'Norms are computed on rescaled tensors, so values from ~1e-30 to ~1e30 keep float32 accuracy. ' +
    'Fails with zero_reference when b is all zeros (or empty) and non_finite_input when a or b holds NaN or ±Infinity.',
  params: Type.Object({}, { additionalProperties: false }),
  inputs: pairInputs,
  outputs: scalarOutput,
  examples: [{ inputs: { a: { shape: [3, 2] }, b: { shape: [3, 2] } } }],
  shape: ({ a, b }) => inferScalarOfPair(a, b),
  // Async: it reads scalars to decide errors and scales, and webgpu in Node cannot read synchronously.
  // Being async, it is not wrapped in the engine's tidy scope, so it disposes what it makes.
  run: async ({ a, b }, _p, { tf }) => {
    expectSameShape(a, b);
    if (b.size === 0) throw new OperatorError('zero_reference', 'the reference b is empty: ‖a − b‖/‖b‖ is undefined');
    const fa = tf.cast(a, 'float32');
    const fb = tf.cast(b, 'float32');
    try {
      const maxAbs = (x: Tensor) => tf.max(tf.abs(x));
      const norm = (x: Tensor) => tf.sqrt(tf.sum(tf.square(x)));
      const [finiteA, finiteB, ma, s] = await read(tf, () => {
        const allFinite = (x: Tensor) => tf.cast(tf.all(tf.isFinite(x)), 'float32');
        return tf.stack([allFinite(fa), allFinite(fb), maxAbs(fa), maxAbs(fb)]);
      });
      for (const [name, finite] of [['a', finiteA], ['b', finiteB]] as const) {
        if (!finite) throw new OperatorError('non_finite_input', `${name} contains NaN or ±Infinity`, { input: name });
      }
      if (s === 0) throw new OperatorError('zero_reference', 'the reference b is all zeros: ‖a − b‖/‖b‖ is undefined');
      const t = Math.max(ma, s);
      const [m, nd, nb] = await read(tf, () => {
        const d = tf.sub(tf.div(fa, t), tf.div(fb, t));
        const dm = maxAbs(d);
        // dm = 0 means a = b: divide by 1 instead, so ‖dn‖ is 0 rather than 0/0.
        const dn = tf.div(d, tf.where(tf.greater(dm, 0), dm, tf.onesLike(dm)));
        return tf.stack([dm, norm(dn), norm(tf.div(fb, s))]);
      });
      return { out: tf.scalar(((m * t) / s) * (nd / nb), 'float32') };
    } finally {
      tf.dispose([fa, fb]);
    }
  },
});

/** Computes a small tensor in a tidy scope, reads it and disposes it. */
async function read(tf: TF, f: () => Tensor): Promise<Float32Array> {
  const x = tf.tidy(f);
  try {
    return (await x.data()) as Float32Array;
  } finally {
    x.dispose();
  }
}
