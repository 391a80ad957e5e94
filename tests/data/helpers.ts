/** Calls a data operator's run directly (params filled with defaults) and reads its tensors. */
import * as tf from '@tensorflow/tfjs-core';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';

type Op = { run: (...a: never[]) => unknown };

/** Runs `op` with `given` params and `seed`, reads every output tensor, disposes them. */
export async function draw(op: Op, given: Record<string, unknown>, seed = 4): Promise<Record<string, { shape: number[]; data: Float64Array }>> {
  const out = tf.tidy(() => (op.run as (i: object, p: object, c: object) => Record<string, tf.Tensor>)({}, params(op as never, given), testContext({ seed }))) as Record<string, tf.Tensor>;
  const read: Record<string, { shape: number[]; data: Float64Array }> = {};
  for (const [k, t] of Object.entries(out)) read[k] = { shape: t.shape, data: Float64Array.from(await t.data()) };
  tf.dispose(Object.values(out));
  return read;
}

export const same = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.from(a).every((v, i) => v === b[i]);
