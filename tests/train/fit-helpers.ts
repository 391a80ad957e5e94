/** Shared setup of the train.fit tests: a model from model.mlp and a direct call of train.fit. */
import * as tf from '@tensorflow/tfjs-core';
import type { JsonValue, Table } from '../../core/operator/index.js';
import { mlp } from '../../operators/model/mlp.js';
import type { MlpModel } from '../../operators/model/mlp-lib.js';
import { fit } from '../../operators/train/fit.js';
import { testContext } from '../helpers/context.js';
import { params } from '../helpers/dense-reference.js';
import type { Params64 } from './reference.js';

export interface Net {
  model: MlpModel;
  P: Record<string, tf.Tensor>;
  P64: Params64;
}

export async function makeNet(given: Record<string, unknown>, seed = 3): Promise<Net> {
  const out = mlp.run({}, params(mlp, given), testContext({ seed })) as { params: Record<string, tf.Tensor>; model: JsonValue };
  const P64: Params64 = {};
  for (const [k, t] of Object.entries(out.params)) P64[k] = Float64Array.from(await t.data());
  return { model: out.model as unknown as MlpModel, P: out.params, P64 };
}

export interface FitOut {
  params: Record<string, tf.Tensor>;
  metrics: Table;
  info: Record<string, unknown>;
}

export async function runFit(
  net: Net,
  X: number[][] | tf.Tensor,
  Y: number[][] | tf.Tensor,
  given: Record<string, unknown>,
  ctx: Partial<ReturnType<typeof testContext>> = {},
): Promise<FitOut> {
  const x = X instanceof tf.Tensor ? X : tf.tensor2d(X);
  const y = Y instanceof tf.Tensor ? Y : tf.tensor2d(Y);
  try {
    return (await fit.run({ params: net.P, model: net.model as unknown as JsonValue, x, y }, params(fit, given), { ...testContext({ seed: 5 }), ...ctx })) as FitOut;
  } finally {
    if (!(X instanceof tf.Tensor)) x.dispose();
    if (!(Y instanceof tf.Tensor)) y.dispose();
  }
}

export async function read64(P: Record<string, tf.Tensor>): Promise<Params64> {
  const out: Params64 = {};
  for (const [k, t] of Object.entries(P)) out[k] = Float64Array.from(await t.data());
  return out;
}
