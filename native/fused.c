/*
 * Fused kernels: the Gram matrix through OpenBLAS (ssyrk for a symmetric call: the upper triangle
 * only), then the whole elementwise map of each output entry in one pass over that row, in place,
 * while the row is in cache; a symmetric call maps the upper triangle and mirrors it. The maps are
 * the formulas of the generic tfjs code (operators/kernel/common.ts, nn-layers.ts), in the same
 * float32 order, with the vectorising exp/atan2 of fastmath.h.
 *
 * Every output entry is computed by one thread from its own Gram entry and per-row/per-column
 * vectors, so results do not depend on the thread count or on the dynamic schedule.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "fastmath.h"
#include "fused.h"

/* Output entries below which one thread does the map: each entry costs tens of flops, so the
 * fork/join of a parallel region pays off sooner than for a plain elementwise op. */
#define FUSED_PAR_MIN 8192
#define ROWS_PER_TASK 8
#define MIRROR_BLOCK 64

/* ‖x_i‖²: float32 squares summed in double, as tf.sum(tf.square(x), 1) on the native backend. */
static void row_norms(const float *x, int64_t n, int64_t d, float *out) {
  for (int64_t i = 0; i < n; i++) {
    double s = 0;
    for (int64_t k = 0; k < d; k++) {
      const float v = x[i * d + k];
      s += (float)(v * v);
    }
    out[i] = (float)s;
  }
}

/* out = a·bᵀ (b NULL: a·aᵀ, upper triangle only). */
static void gram(const float *a, const float *b, float *out, int64_t n1, int64_t n2, int64_t d) {
  if (!b) {
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n1, (int)d, 1.0f, a, (int)d, 0.0f, out, (int)n1);
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n1, (int)n2, (int)d, 1.0f, a, (int)d, b, (int)d, 0.0f, out, (int)n2);
  }
}

/* Copies the upper triangle of the n×n matrix m onto its lower triangle, block by block. */
static void mirror_upper(float *m, int64_t n) {
  const int64_t nb = (n + MIRROR_BLOCK - 1) / MIRROR_BLOCK;
#pragma omp parallel for schedule(dynamic, 1) if (n * n >= FUSED_PAR_MIN)
  for (int64_t bi = 0; bi < nb; bi++) {
    const int64_t i0 = bi * MIRROR_BLOCK, i1 = i0 + MIRROR_BLOCK < n ? i0 + MIRROR_BLOCK : n;
    for (int64_t j0 = 0; j0 <= i0; j0 += MIRROR_BLOCK) {
      for (int64_t i = i0; i < i1; i++) {
        const int64_t j1 = j0 + MIRROR_BLOCK < i ? j0 + MIRROR_BLOCK : i;
        for (int64_t j = j0; j < j1; j++) m[i * n + j] = m[j * n + i];
      }
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Stationary kernels: row[j] holds a_i·b_j on entry, k(d²) on return. */

CLONES static void stationary_row(int kind, float *restrict row, const float *restrict nb, float na, int64_t len, float variance) {
  const float s3 = 1.7320508075688772f, s5 = 2.23606797749979f;
  switch (kind) {
    case KF_RBF:
#pragma omp simd
      for (int64_t j = 0; j < len; j++) {
        float d2 = (na + nb[j]) - row[j] * 2.0f;
        d2 = d2 > 0.0f ? d2 : 0.0f;
        row[j] = exp_fast(d2 * -0.5f) * variance;
      }
      break;
    case KF_MATERN12:
#pragma omp simd
      for (int64_t j = 0; j < len; j++) {
        float d2 = (na + nb[j]) - row[j] * 2.0f;
        d2 = d2 > 0.0f ? d2 : 0.0f;
        row[j] = exp_fast(-sqrtf(d2)) * variance;
      }
      break;
    case KF_MATERN32:
#pragma omp simd
      for (int64_t j = 0; j < len; j++) {
        float d2 = (na + nb[j]) - row[j] * 2.0f;
        d2 = d2 > 0.0f ? d2 : 0.0f;
        const float sr = sqrtf(d2) * s3;
        row[j] = ((sr + 1.0f) * exp_fast(-sr)) * variance;
      }
      break;
    case KF_MATERN52:
#pragma omp simd
      for (int64_t j = 0; j < len; j++) {
        float d2 = (na + nb[j]) - row[j] * 2.0f;
        d2 = d2 > 0.0f ? d2 : 0.0f;
        const float sr = sqrtf(d2) * s5;
        row[j] = (((sr + 1.0f) + d2 * (5.0f / 3.0f)) * exp_fast(-sr)) * variance;
      }
      break;
  }
}

int kf_stationary(int kind, const float *a, const float *b, float *out, int64_t n1, int64_t n2, int64_t d, float variance) {
  const int sym = b == NULL;
  float *na = malloc(sizeof(float) * (size_t)n1), *nb = sym ? na : malloc(sizeof(float) * (size_t)n2);
  if (!na || !nb) {
    free(na);
    if (!sym) free(nb);
    return -1;
  }
  row_norms(a, n1, d, na);
  if (!sym) row_norms(b, n2, d, nb);
  gram(a, b, out, n1, n2, d);
#pragma omp parallel for schedule(dynamic, ROWS_PER_TASK) if (n1 * n2 >= FUSED_PAR_MIN)
  for (int64_t i = 0; i < n1; i++) {
    const int64_t j0 = sym ? i : 0;
    float *row = out + i * n2 + j0;
    stationary_row(kind, row, nb + j0, na[i], n2 - j0, variance);
    if (sym) row[0] = variance; /* d² = 0 exactly: k(0) = σ² */
  }
  if (sym) mirror_upper(out, n1);
  free(na);
  if (!sym) free(nb);
  return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* kernel.nn, dense stacks. */

typedef struct {
  int code;
  float w2, b2, nIn, biasAdd; /* dense */
  float m, c0;                /* abrelu: K' = m·S + (c0 − m·θ)·K, K̇ = c0 − m·θ */
  float b2x2, scale, c2, dotc; /* erf: K' = scale·atan2(2b²K, R) + c², K̇ = dotc / R */
  float eps;                  /* layernorm */
} NnStep;

/* One row segment: K[0..len) holds x1_i·x2_j (columns j0.. of row i) on entry, the NNGP on return;
 * T (NULL: NTK not wanted) the NTK. Step s's factors (√q for abrelu, √(2b²q + 1) for erf,
 * √(q + eps) for layernorm) are fac1[s·n1 + i] for the row and fac2[s·n2 + j] for the columns.
 * `diag0`: the segment starts with the diagonal entry of a symmetric call. */
CLONES static void nn_row(const NnStep *steps, int64_t ns, float *restrict K, float *restrict T, int64_t len, int diag0, float d,
                          float qdiag, const float *fac1, const float *fac2, int64_t n1, int64_t n2, int64_t i, int64_t j0) {
#pragma omp simd
  for (int64_t j = 0; j < len; j++) K[j] = K[j] / d;
  if (diag0) K[0] = qdiag; /* exact diagonal: K(x, x) = ‖x‖²/d, as the row's q */
  if (T) memset(T, 0, sizeof(float) * (size_t)len);
  for (int64_t s = 0; s < ns; s++) {
    const NnStep st = steps[s];
    /* The constants as plain locals: loads of struct fields inside the loops block vectorisation. */
    const float w2 = st.w2, b2 = st.b2, nIn = st.nIn, biasAdd = st.biasAdd, m = st.m, c0 = st.c0;
    const float b2x2 = st.b2x2, scale = st.scale, c2 = st.c2, dotc = st.dotc;
    const float a1 = fac1[s * n1 + i];
    const float *restrict a2 = fac2 + s * n2 + j0;
    switch (st.code) {
      case KF_DENSE:
        if (!T) {
#pragma omp simd
          for (int64_t j = 0; j < len; j++) K[j] = K[j] * w2 + b2;
        } else if (nIn < 0) {
#pragma omp simd
          for (int64_t j = 0; j < len; j++) {
            const float k = K[j] * w2 + b2;
            T[j] = k + T[j] * w2;
            K[j] = k;
          }
        } else {
#pragma omp simd
          for (int64_t j = 0; j < len; j++) {
            T[j] = (K[j] * nIn + T[j] * w2) + biasAdd;
            K[j] = K[j] * w2 + b2;
          }
        }
        break;
      case KF_ABRELU:
#define ABRELU_ENTRY(ZERO_S)                                                                        \
  const float Q = a1 * a2[j], k = K[j];                                                             \
  const float S = ZERO_S ? 0.0f : sqrtf((Q - k) > 0.0f ? (Q - k) : 0.0f) * sqrtf((Q + k) > 0.0f ? (Q + k) : 0.0f); \
  const float dot = c0 - atan2_fast(S, k) * m;                                                      \
  K[j] = S * m + dot * k;
        /* The diagonal entry of a symmetric call (the segment's first) has S = 0 exactly (θ = 0);
         * it is done apart so that the loop over the others has no index test. */
        if (diag0) {
          const int64_t j = 0;
          ABRELU_ENTRY(1)
          if (T) T[j] = T[j] * dot;
        }
        if (T) {
#pragma omp simd
          for (int64_t j = diag0; j < len; j++) {
            ABRELU_ENTRY(0)
            T[j] = T[j] * dot;
          }
        } else {
#pragma omp simd
          for (int64_t j = diag0; j < len; j++) {
            ABRELU_ENTRY(0)
          }
        }
        break;
      case KF_ERF:
#define ERF_ENTRY                                                                                   \
  const float P = a1 * a2[j], u = K[j] * b2x2;                                                   \
  const float R = sqrtf((P - u) > 0.0f ? (P - u) : 0.0f) * sqrtf((P + u) > 0.0f ? (P + u) : 0.0f); \
  K[j] = atan2_fast(u, R) * scale + c2;
        if (T) {
#pragma omp simd
          for (int64_t j = 0; j < len; j++) {
            ERF_ENTRY
            T[j] = T[j] * (dotc / R);
          }
        } else {
#pragma omp simd
          for (int64_t j = 0; j < len; j++) {
            ERF_ENTRY
          }
        }
        break;
      case KF_LAYERNORM:
#pragma omp simd
        for (int64_t j = 0; j < len; j++) {
          const float inv = 1.0f / (a1 * a2[j]);
          K[j] = K[j] * inv;
          if (T) T[j] = T[j] * inv;
        }
        break;
    }
  }
}

/* Step s's factors of the variances q (before the step), then q mapped through the step (double). */
static void step_factors(const NnStep *st, double *q, float *f, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const double v = q[i];
    switch (st->code) {
      case KF_DENSE:
        q[i] = (double)st->w2 * v + st->b2;
        break;
      case KF_ABRELU:
        f[i] = sqrtf((float)v);
        q[i] = st->c0 * v;
        break;
      case KF_ERF: {
        const double u = (double)st->b2x2 * v; /* 2b²q; P = u + 1, R = √(P² − u²) = √(2u + 1) */
        f[i] = sqrtf((float)(u + 1.0));
        q[i] = st->scale * atan2(u, sqrt(2.0 * u + 1.0)) + st->c2;
        break;
      }
      case KF_LAYERNORM:
        f[i] = sqrtf((float)(v + st->eps));
        q[i] = v / (v + st->eps);
        break;
    }
  }
}

int kf_nn_dense(const float *x1, const float *x2, float *K, float *T, int64_t n1, int64_t n2, int64_t d, const double *raw, int64_t ns) {
  const int sym = x2 == NULL;
  NnStep *steps = calloc((size_t)(ns > 0 ? ns : 1), sizeof(NnStep));
  float *fac1 = malloc(sizeof(float) * (size_t)((ns + 1) * n1)), *fac2 = malloc(sizeof(float) * (size_t)((ns + 1) * n2));
  double *q1 = malloc(sizeof(double) * (size_t)n1), *q2 = malloc(sizeof(double) * (size_t)n2);
  float *norm1 = malloc(sizeof(float) * (size_t)n1), *norm2 = malloc(sizeof(float) * (size_t)n2);
  int rc = -1;
  if (!steps || !fac1 || !fac2 || !q1 || !q2 || !norm1 || !norm2) goto done;
  for (int64_t s = 0; s < ns; s++) {
    const double *r = raw + s * KF_STEP;
    NnStep *st = &steps[s];
    st->code = (int)r[0];
    switch (st->code) {
      case KF_DENSE:
        st->w2 = (float)r[1], st->b2 = (float)r[2], st->nIn = (float)r[3], st->biasAdd = r[4] != 0 ? 1.0f : 0.0f;
        break;
      case KF_ABRELU:
        st->m = (float)((r[1] - r[2]) * (r[1] - r[2]) / (2 * M_PI)), st->c0 = (float)((r[1] * r[1] + r[2] * r[2]) / 2);
        break;
      case KF_ERF:
        st->b2x2 = (float)(2 * r[2] * r[2]), st->scale = (float)(r[1] * r[1] * 2 / M_PI), st->c2 = (float)(r[3] * r[3]);
        st->dotc = (float)(r[1] * r[1] * r[2] * r[2] * 4 / M_PI);
        break;
      case KF_LAYERNORM:
        st->eps = (float)r[1];
        break;
    }
  }
  /* q = ‖x‖²/d in float32 (also the exact diagonal), then its image through every step. */
  row_norms(x1, n1, d, norm1);
  if (!sym) row_norms(x2, n2, d, norm2);
  for (int64_t i = 0; i < n1; i++) norm1[i] = norm1[i] / (float)d, q1[i] = norm1[i];
  for (int64_t j = 0; j < n2; j++) q2[j] = sym ? q1[j] : (norm2[j] = norm2[j] / (float)d);
  for (int64_t s = 0; s < ns; s++) {
    step_factors(&steps[s], q1, fac1 + s * n1, n1);
    step_factors(&steps[s], q2, fac2 + s * n2, n2);
  }
  gram(x1, x2, K, n1, n2, d);
  const float fd = (float)d;
#pragma omp parallel for schedule(dynamic, ROWS_PER_TASK) if (n1 * n2 >= FUSED_PAR_MIN)
  for (int64_t i = 0; i < n1; i++) {
    const int64_t j0 = sym ? i : 0;
    nn_row(steps, ns, K + i * n2 + j0, T ? T + i * n2 + j0 : NULL, n2 - j0, sym, fd, norm1[i], fac1, fac2, n1, n2, i, j0);
  }
  if (sym) {
    mirror_upper(K, n1);
    if (T) mirror_upper(T, n1);
  }
  rc = 0;
done:
  free(steps);
  free(fac1);
  free(fac2);
  free(q1);
  free(q2);
  free(norm1);
  free(norm2);
  return rc;
}
