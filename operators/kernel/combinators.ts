/** Shape rule shared by kernel.sum and kernel.product: all terms have one shape. */
import type { Shape, TensorMeta } from '../../core/operator/index.js';
import { expectDim, ShapeError } from '../../core/operator/index.js';

export function sameShapes(terms: TensorMeta[]): Shape | undefined {
  let shape: Shape | undefined;
  terms.forEach((t, i) => {
    if (!t.shape) return;
    if (t.shape.length !== 2) throw new ShapeError(`term ${i} must be a [n1, n2] kernel matrix`, `/inputs/k/${i}`);
    if (!shape) shape = [...t.shape];
    else shape = shape.map((d, j) => expectDim(d, t.shape![j], `term ${i} differs in shape from the first`, `/inputs/k/${i}`));
  });
  return shape;
}
