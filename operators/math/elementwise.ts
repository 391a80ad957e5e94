/**
 * Shared pieces of the broadcasting element-wise operators (math.add, math.sub, math.mul): their
 * ports, and one broadcast-and-dtype check used by shape inference and again at run time, so a
 * mismatch that static inference could not see (an unknown rank upstream) still fails clearly
 * instead of tfjs silently upcasting int32 to float32.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { broadcastShapes, ShapeError, tensor } from '../../core/operator/index.js';
import type { DType, Shape, TensorMeta } from '../../core/operator/index.js';

export const binaryInputs = {
  a: tensor({ dtype: ['float32', 'int32'], doc: 'First operand' }),
  b: tensor({ dtype: ['float32', 'int32'], doc: 'Second operand, broadcast against a (numpy rules); same dtype as a' }),
};

export const binaryOutputs = {
  out: tensor({ dtype: ['float32', 'int32'], doc: 'The broadcast shape of the operands, in their dtype' }),
};

/** An operand and where it sits in the node, e.g. `/inputs/b` or `/inputs/more/0`. */
export interface Operand<T> {
  pointer: string;
  value: T;
}

/** Throws a ShapeError at the first operand whose dtype differs from the first operand's. */
export function expectSameDType(operands: Array<Operand<{ dtype: DType }>>): DType {
  const [first, ...rest] = operands;
  for (const o of rest) {
    if (o.value.dtype !== first.value.dtype) {
      throw new ShapeError(`dtypes differ: ${first.pointer} is ${first.value.dtype}, ${o.pointer} is ${o.value.dtype}`, o.pointer);
    }
  }
  return first.value.dtype;
}

/** The numpy broadcast of all operands' shapes and their common dtype; ShapeError at the culprit. */
export function broadcastOperands(operands: Array<Operand<TensorMeta>>): TensorMeta {
  const dtype = expectSameDType(operands);
  let shape: Shape = operands[0].value.shape!;
  for (const o of operands.slice(1)) {
    try {
      shape = broadcastShapes(shape, o.value.shape!, 'operands');
    } catch (e) {
      // Re-point the error at the operand that broke the broadcast.
      if (e instanceof ShapeError) throw new ShapeError(e.message, o.pointer);
      throw e;
    }
  }
  return { kind: 'tensor', dtype, shape };
}

/** The operands `a`, `b` (and the optional rest) with their pointers. */
export function operands<T>(a: T, b: T, more: T[] = []): Array<Operand<T>> {
  return [
    { pointer: '/inputs/a', value: a },
    { pointer: '/inputs/b', value: b },
    ...more.map((value, i) => ({ pointer: `/inputs/more/${i}`, value })),
  ];
}

/** Run-time guard: the same dtype rule as shape inference (tfjs broadcasts shapes itself). */
export function expectSameTensorDType(tensors: Array<Operand<Tensor>>): void {
  expectSameDType(tensors.map((t) => ({ pointer: t.pointer, value: { dtype: t.value.dtype as DType } })));
}
