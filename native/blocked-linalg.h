/*
 * Blocked Cholesky and triangular solves on row-major double matrices, built on dgemm. Debian's
 * OpenBLAS 0.3.21 runs dpotrf and row-major dtrsm at 6–9 GFLOP/s on an AVX-512 machine where its
 * dgemm reaches 85: these do the O(n³) work in dgemm and leave LAPACK/BLAS only the small
 * diagonal blocks.
 */
#ifndef KERNELFLOW_BLOCKED_LINALG_H
#define KERNELFLOW_BLOCKED_LINALG_H
#include <stdbool.h>
#include <stdint.h>

/* A (row-major n×n, lower triangle read) ← L with A = L·Lᵀ in its lower triangle. Returns 0, or
 * the 1-based order of the first leading minor that is not positive definite (LAPACK's info). */
int kf_potrf_lower(double *a, int n, int block);

/* X ← op(T)⁻¹·X for T n×n triangular (row-major; lower or upper; op = identity or transpose),
 * X n×m row-major. */
void kf_trsm_left(const double *t, double *x, int n, int m, bool lower, bool trans, int block);

#endif
