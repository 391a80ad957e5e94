/**
 * Errors an operator may throw. The engine turns them into diagnostics that name the node, the
 * operator and a JSON pointer, so an operator only says what is wrong and where in its own params.
 */

/** A static shape/dtype mismatch found by shape inference. `pointer` is relative to the node. */
export class ShapeError extends Error {
  override name = 'ShapeError';
  constructor(message: string, readonly pointer = '') {
    super(message);
  }
}

/** A param that is well-typed but unusable (a missing file, a bad combination). */
export class ParamError extends Error {
  override name = 'ParamError';
  constructor(message: string, readonly pointer = '/params') {
    super(message);
  }
}

/**
 * A run-time failure with a machine-readable code, e.g. `not_psd`, `non_finite_input`,
 * `cg_not_converged`, `io`. `details` lands in the manifest.
 */
export class OperatorError extends Error {
  override name = 'OperatorError';
  constructor(readonly code: string, message: string, readonly details?: Record<string, unknown>) {
    super(message);
  }
}
