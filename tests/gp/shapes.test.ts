import { describe, expect, it } from 'vitest';
import { ParamError, ShapeError } from '../../core/operator/index.js';
import { exact, fit, krr, ntk, sparse, studentT } from '../../operators/gp/index.js';
import { params } from '../helpers/dense-reference.js';

const meta = (shape: (number | null)[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape });
const ctx = { node: 'n', op: 'gp', resolvePath: (p: string) => p };

describe('gp.* shape inference', () => {
  it('gp.exact: shapes from x or from kernel matrices; proven mismatches are errors', () => {
    const p = params(exact, {});
    expect(exact.shape!({ x: meta([10, 3]), y: meta([10]), x_test: meta([7, 3]) }, p, ctx)).toMatchObject({ mean: [7], var: [7], lml: [] });
    expect(exact.shape!({ k_train: meta([10, 10]), y: meta([10, 2]), k_cross: meta([7, 10]) }, p, ctx)).toMatchObject({ mean: [7, 2] });
    expect(exact.shape!({ x: meta([null, 3]), y: meta([null]) }, p, ctx)).toMatchObject({ lml: [] });
    expect(exact.shape!({ x: meta([10, 2]), y: meta([10]) }, params(exact, { grad: true, kernel: { type: 'rbf', lengthscale: [1, 2] } }), ctx)).toMatchObject({ lml_grad: [4] });
    expect(() => exact.shape!({ x: meta([10, 3]), y: meta([9]) }, p, ctx)).toThrow(ShapeError);
    expect(() => exact.shape!({ x: meta([10, 3]), k_train: meta([10, 10]), y: meta([10]) }, p, ctx)).toThrow(ShapeError);
    expect(() => exact.shape!({ x: meta([10, 3]), y: meta([10]), x_test: meta([5, 2]) }, p, ctx)).toThrow(ShapeError);
    expect(() => exact.shape!({ x: meta([10, 3]), y: meta([10]) }, params(exact, { kernel: { type: 'rbf', lengthscale: [1, 2] } }), ctx)).toThrow(ParamError);
    expect(() => exact.shape!({ k_train: meta([10, 10]), y: meta([10]) }, params(exact, { grad: true }), ctx)).toThrow(ParamError);
  });
  it('the other operators check their inputs', () => {
    expect(krr.shape!({ x: meta([10, 3]), y: meta([10]), x_test: meta([4, 3]) }, params(krr, {}), ctx)).toMatchObject({ dual: [10], pred: [4] });
    expect(studentT.shape!({ x: meta([10, 3]), y: meta([10]), x_test: meta([4, 3]) }, params(studentT, {}), ctx)).toMatchObject({ mean: [4], scale_y: [4], dof: [] });
    expect(sparse.shape!({ x: meta([10, 3]), z: meta([4, 3]), y: meta([10]), x_test: meta([6, 3]) }, params(sparse, {}), ctx)).toMatchObject({ mean: [6], var: [6] });
    expect(() => sparse.shape!({ x: meta([10, 3]), y: meta([10]) }, params(sparse, {}), ctx)).toThrow(ShapeError);
    expect(ntk.shape!({ theta_train: meta([5, 5]), theta_cross: meta([3, 5]), y: meta([5]) }, params(ntk, {}), ctx)).toMatchObject({ mean: [3] });
    expect(() => ntk.shape!({ theta_train: meta([5, 5]), theta_cross: meta([3, 4]), y: meta([5]) }, params(ntk, {}), ctx)).toThrow(ShapeError);
    expect(() => fit.shape!({ x: meta([5, 2]), y: meta([4]) }, params(fit, {}), ctx)).toThrow(ShapeError);
    expect(() => fit.shape!({ x: meta([5, 2]), y: meta([5]) }, params(fit, { bounds: { noise: [1, 0.1] } }), ctx)).toThrow(ParamError);
  });
});
