/**
 * Shared pieces of the metrics that compare a tensor `a` with a reference `b` of exactly the same
 * shape (no broadcasting: a metric over a silently broadcast pair would be a wrong number).
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { expectDim, formatShape, ShapeError, tensor } from '../../core/operator/index.js';
import type { TensorMeta } from '../../core/operator/index.js';

export const pairInputs = {
  a: tensor({ dtype: ['float32', 'int32'], doc: 'Estimate' }),
  b: tensor({ dtype: ['float32', 'int32'], doc: 'Reference, the same shape as a' }),
};

export const scalarOutput = { out: tensor({ dtype: 'float32', doc: 'The metric, a scalar (shape [])' }) };

/** Shape inference: a and b must be provably compatible dim by dim; the metric is a scalar. */
export function inferScalarOfPair(a: TensorMeta, b: TensorMeta): { out: [] } {
  const sa = a.shape!;
  const sb = b.shape!;
  if (sa.length !== sb.length) {
    throw new ShapeError(`a and b must have the same shape, got ${formatShape(sa)} and ${formatShape(sb)}`, '/inputs');
  }
  sa.forEach((d, i) => expectDim(d, sb[i], `a and b differ in dimension ${i}: ${formatShape(sa)} vs ${formatShape(sb)}`, '/inputs'));
  return { out: [] };
}

/** Run-time guard for what inference could not prove (unknown dims upstream). */
export function expectSameShape(a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`a and b must have the same shape, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`, '/inputs');
  }
}
