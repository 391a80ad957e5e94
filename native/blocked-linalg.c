#include "blocked-linalg.h"

#include <cblas.h>

extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t);

/* Columns per dgemm of the trailing update: wide enough to keep dgemm at full speed. */
#define UPDATE_PANEL 512

static int min_int(int a, int b) { return a < b ? a : b; }

int kf_potrf_lower(double *a, int n, int block) {
  for (int k = 0; k < n; k += block) {
    const int kb = min_int(block, n - k), rest = n - k - kb;
    double *a11 = a + (int64_t)k * n + k;
    /* The diagonal block: a column-major 'U' view of a row-major lower triangle. */
    int info = 0;
    dpotrf_("U", &kb, a11, &n, &info, 1);
    if (info != 0) return k + info;
    if (rest == 0) break;
    double *a21 = a + (int64_t)(k + kb) * n + k, *a22 = a21 + kb;
    /* L21 = A21·L11⁻ᵀ, then the lower triangle of A22 −= L21·L21ᵀ, as dgemm on column panels of
     * the lower trapezoid (dgemm is far faster than dsyrk here; panels halve the flops of a full
     * square update). */
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, rest, kb, 1.0, a11, n, a21, n);
    for (int j = 0; j < rest; j += UPDATE_PANEL) {
      const int cols = min_int(UPDATE_PANEL, rest - j);
      const double *l21_rows = a21 + (int64_t)j * n;
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rest - j, cols, kb, -1.0, l21_rows, n, l21_rows, n, 1.0,
                  a22 + (int64_t)j * n + j, n);
    }
  }
  return 0;
}

void kf_trsm_left(const double *t, double *x, int n, int m, bool lower, bool trans, int block) {
  /* op(T) is lower triangular (forward substitution) or upper (backward). */
  const bool forward = lower != trans;
  const int blocks = (n + block - 1) / block;
  for (int s = 0; s < blocks; s++) {
    const int b = forward ? s : blocks - 1 - s;
    const int k = b * block, kb = min_int(block, n - k);
    double *xk = x + (int64_t)k * m;
    cblas_dtrsm(CblasRowMajor, CblasLeft, lower ? CblasLower : CblasUpper, trans ? CblasTrans : CblasNoTrans, CblasNonUnit, kb, m, 1.0,
                t + (int64_t)k * n + k, n, xk, m);
    /* The rows still to solve: op(T)[r, k-block]·X_k leaves their right-hand sides. */
    const int r0 = forward ? k + kb : 0, rows = forward ? n - k - kb : k;
    if (rows == 0) continue;
    /* op(T)[r0.., k..] is T[r0.., k..] (no transpose) or T[k.., r0..]ᵀ (transpose). */
    const double *block_t = trans ? t + (int64_t)k * n + r0 : t + (int64_t)r0 * n + k;
    cblas_dgemm(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, CblasNoTrans, rows, m, kb, -1.0, block_t, n, xk, m, 1.0,
                x + (int64_t)r0 * m, m);
  }
}
