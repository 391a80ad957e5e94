/**
 * LAPACK fast paths: when the active backend offers `kernelflowLinalg` (the `native` backend:
 * OpenBLAS potrf/trsm/syevd in double precision), the library's Cholesky, triangular solves and
 * symmetric eigendecomposition use it
 * instead of the blocked tfjs implementations, behind the same contracts and error codes. Reached
 * through `tf.backend()`, so operators never import the engine.
 */
import type { TF } from '../../core/operator/index.js';

export interface LapackHook {
  /** L with A + jitter·I = L·Lᵀ (only A's lower triangle is read; A is not modified). */
  cholesky(a: Float32Array, n: number, jitter?: number): { l: Float32Array; info: number };
  solveTriangular(t: Float32Array, b: Float32Array, n: number, m: number, options: { lower: boolean; transpose?: boolean }): Float32Array;
  /** LAPACK dsyevd: ascending eigenvalues, eigenvectors in the columns of `vectors` (row-major); info > 0: no convergence. */
  eigh?(a: Float32Array, n: number): { values: Float32Array; vectors: Float32Array; info: number };
}

/** The hook of the active backend, if it has one. */
export function lapackHook(tf: TF): LapackHook | undefined {
  return (tf.backend() as { kernelflowLinalg?: LapackHook }).kernelflowLinalg;
}
