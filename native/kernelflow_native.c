/*
 * kernelflow's optional native addon: the hot kernels of the tfjs `native` backend
 * (core/run/native-backend.ts) computed on the cpu backend's own TypedArrays.
 *
 *   matmul     batched sgemm through OpenBLAS (row-major, optional transposes, broadcast batches)
 *   binary     elementwise a ∘ b over a broadcast shape given as per-input strides
 *   unary      elementwise f(x)
 *   reduce     sum / mean / max / min over the middle axis of [outer, r, inner]
 *   transpose  any permutation of 4-byte elements
 *   select     cond ? t : e, cond per row of `inner` elements
 *   potrf / trsm / syevd   LAPACK Cholesky, triangular solve, symmetric eigendecomposition (float64 inside)
 *   stationary / nnDense   fused kernels: Gram matrix + the whole per-entry map in one pass (fused.c)
 *   neighborhood / flashAttention   fused attention kernels (attention.c)
 *   fft        batched complex FFT / inverse FFT over the innermost axis (fft.c)
 *   rpeFft     fused kernelised attention with a Toeplitz (RPE) bias by FFT (fft.c)
 *   info / setThreads
 *
 * Every function writes into an output array the caller allocated (a JavaScript TypedArray), so
 * the addon owns no memory beyond the call. Loops are spread over the cores with OpenMP; every
 * reduction splits its work into fixed chunks that do not depend on the thread count, so results
 * are identical whatever the number of threads. Arguments are checked (types, lengths, bounds);
 * a bad call throws a TypeError/RangeError rather than touching memory it should not.
 */
#include <node_api.h>
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif
#include "fastmath.h"
#include "blocked-linalg.h"
#include "fused.h"
#include "attention.h"
#include "fft.h"
#include "page-advice.h"

#define MAX_RANK 16
#define PAR_MIN 32768 /* elements below which a loop stays on one thread */
#define CHUNK 16384   /* elements per parallel task in flat loops and full reductions */

/* ------------------------------------------------------------------------------------------ */
/* N-API helpers */

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "kernelflow_native: N-API failure"); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

typedef struct {
  void *data;
  size_t length;
  napi_typedarray_type type;
} Array;

static int get_array(napi_env env, napi_value v, Array *out, const char *what) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is) {
    char msg[128];
    snprintf(msg, sizeof msg, "kernelflow_native: %s must be a TypedArray", what);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &out->type, &out->length, &out->data, &ab, &offset) != napi_ok) {
    napi_throw_error(env, NULL, "kernelflow_native: cannot read TypedArray");
    return 0;
  }
  return 1;
}

static int get_f32(napi_env env, napi_value v, Array *out, const char *what) {
  if (!get_array(env, v, out, what)) return 0;
  if (out->type != napi_float32_array) {
    char msg[128];
    snprintf(msg, sizeof msg, "kernelflow_native: %s must be a Float32Array", what);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

/* An output array: as get_f32 (or get_array when `any_type`), then advised onto huge pages before
 * its first write (page-advice.h). */
static int get_out(napi_env env, napi_value v, Array *out, const char *what, int any_type) {
  if (!(any_type ? get_array(env, v, out, what) : get_f32(env, v, out, what))) return 0;
  advise_huge_pages(out->data, out->length * 4);
  return 1;
}

static int get_i32s(napi_env env, napi_value v, Array *out, const char *what) {
  if (!get_array(env, v, out, what)) return 0;
  if (out->type != napi_int32_array) {
    char msg[128];
    snprintf(msg, sizeof msg, "kernelflow_native: %s must be an Int32Array", what);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

static int get_int(napi_env env, napi_value v, int64_t *out, const char *what) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d != floor(d) || d < 0 || d > 9007199254740991.0) {
    char msg[128];
    snprintf(msg, sizeof msg, "kernelflow_native: %s must be a non-negative integer", what);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  *out = (int64_t)d;
  return 1;
}

static int get_num(napi_env env, napi_value v, double *out, const char *what) {
  if (napi_get_value_double(env, v, out) != napi_ok) {
    char msg[128];
    snprintf(msg, sizeof msg, "kernelflow_native: %s must be a number", what);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

static napi_value range_error(napi_env env, const char *msg) {
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

#define ARGS(n)                                                         \
  size_t argc = (n);                                                    \
  napi_value argv[(n) > 0 ? (n) : 1];                                   \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));          \
  if (argc < (n)) {                                                     \
    napi_throw_type_error(env, NULL, "kernelflow_native: too few arguments"); \
    return NULL;                                                        \
  }

static int threads_available(void) {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

/* ------------------------------------------------------------------------------------------ */
/* matmul(a, b, out, m, n, k, transA, transB, aIndex: Int32Array, bIndex: Int32Array)
 * For batch i: out[i] (m×n) = op(a[aIndex[i]]) · op(b[bIndex[i]]); a's matrices hold m·k floats
 * (k×m when transA), b's hold k·n (n×k when transB). */
static napi_value Matmul(napi_env env, napi_callback_info info) {
  ARGS(10);
  Array a, b, out, ai, bi;
  int64_t m, n, k;
  bool ta, tb;
  if (!get_f32(env, argv[0], &a, "a") || !get_f32(env, argv[1], &b, "b") || !get_out(env, argv[2], &out, "out", 0)) return NULL;
  if (!get_int(env, argv[3], &m, "m") || !get_int(env, argv[4], &n, "n") || !get_int(env, argv[5], &k, "k")) return NULL;
  CHECK(napi_get_value_bool(env, argv[6], &ta));
  CHECK(napi_get_value_bool(env, argv[7], &tb));
  if (!get_i32s(env, argv[8], &ai, "aIndex") || !get_i32s(env, argv[9], &bi, "bIndex")) return NULL;
  size_t batch = ai.length;
  if (bi.length != batch) return range_error(env, "kernelflow_native: aIndex and bIndex differ in length");
  if (m < 1 || n < 1 || k < 1 || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) return range_error(env, "kernelflow_native: matmul dims must be in [1, 2^31)");
  size_t sa = (size_t)(m * k), sb = (size_t)(k * n), so = (size_t)(m * n);
  if (out.length != batch * so) return range_error(env, "kernelflow_native: out has the wrong length");
  const int32_t *ia = ai.data, *ib = bi.data;
  for (size_t i = 0; i < batch; i++) {
    if (ia[i] < 0 || (size_t)(ia[i] + 1) * sa > a.length || ib[i] < 0 || (size_t)(ib[i] + 1) * sb > b.length) {
      return range_error(env, "kernelflow_native: batch index out of range");
    }
  }
  const float *pa = a.data, *pb = b.data;
  float *po = out.data;
  int lda = (int)(ta ? m : k), ldb = (int)(tb ? k : n);
  for (size_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, 1.0f,
                pa + (size_t)ia[i] * sa, lda, pb + (size_t)ib[i] * sb, ldb, 0.0f, po + i * so, (int)n);
  }
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* binary(op, a, b, out, shape, aStrides, bStrides): out[idx] = a[idx·aStrides] ∘ b[idx·bStrides]
 * over the (collapsed) output shape; the last dim's strides must be 0 or 1. */

enum { B_ADD, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN, B_POW, B_SQDIFF, B_ATAN2, B_COUNT };

static inline float fmax_nan(float x, float y) { return (isnan(x) || isnan(y)) ? NAN : (x > y ? x : y); }
static inline float fmin_nan(float x, float y) { return (isnan(x) || isnan(y)) ? NAN : (x < y ? x : y); }

#define BINARY_ROW(NAME, EXPR)                                                                         \
  static void NAME(const float *restrict a, const float *restrict b, float *restrict o, int64_t n, int sa, int sb) { \
    if (sa && sb) {                                                                                    \
      for (int64_t i = 0; i < n; i++) { float x = a[i], y = b[i]; o[i] = (EXPR); }                     \
    } else if (sa) {                                                                                   \
      const float y = b[0];                                                                            \
      for (int64_t i = 0; i < n; i++) { float x = a[i]; o[i] = (EXPR); }                               \
    } else if (sb) {                                                                                   \
      const float x = a[0];                                                                            \
      for (int64_t i = 0; i < n; i++) { float y = b[i]; o[i] = (EXPR); }                               \
    } else {                                                                                           \
      const float x = a[0], y = b[0];                                                                  \
      const float v = (EXPR);                                                                          \
      for (int64_t i = 0; i < n; i++) o[i] = v;                                                        \
    }                                                                                                  \
  }

BINARY_ROW(row_add, x + y)
BINARY_ROW(row_sub, x - y)
BINARY_ROW(row_mul, x * y)
BINARY_ROW(row_div, x / y)
BINARY_ROW(row_max, fmax_nan(x, y))
BINARY_ROW(row_min, fmin_nan(x, y))
BINARY_ROW(row_pow, powf(x, y))
BINARY_ROW(row_sqdiff, (x - y) * (x - y))
BINARY_ROW(row_atan2, atan2f(x, y))

typedef void (*binary_row_fn)(const float *, const float *, float *, int64_t, int, int);
static const binary_row_fn BINARY_ROWS[B_COUNT] = {row_add, row_sub, row_mul, row_div, row_max, row_min, row_pow, row_sqdiff, row_atan2};

static napi_value Binary(napi_env env, napi_callback_info info) {
  ARGS(7);
  int64_t op;
  Array a, b, out, shape, as, bs;
  if (!get_int(env, argv[0], &op, "op")) return NULL;
  if (op >= B_COUNT) return range_error(env, "kernelflow_native: unknown binary op");
  if (!get_f32(env, argv[1], &a, "a") || !get_f32(env, argv[2], &b, "b") || !get_out(env, argv[3], &out, "out", 0)) return NULL;
  if (!get_i32s(env, argv[4], &shape, "shape") || !get_i32s(env, argv[5], &as, "aStrides") || !get_i32s(env, argv[6], &bs, "bStrides")) return NULL;
  size_t rank = shape.length;
  if (rank < 1 || rank > MAX_RANK || as.length != rank || bs.length != rank) return range_error(env, "kernelflow_native: bad rank");
  const int32_t *sh = shape.data, *sa = as.data, *sb = bs.data;
  int64_t total = 1, amax = 0, bmax = 0;
  for (size_t d = 0; d < rank; d++) {
    if (sh[d] < 1 || sa[d] < 0 || sb[d] < 0) return range_error(env, "kernelflow_native: bad shape or strides");
    total *= sh[d];
    amax += (int64_t)(sh[d] - 1) * sa[d];
    bmax += (int64_t)(sh[d] - 1) * sb[d];
  }
  if ((size_t)total != out.length || (size_t)amax >= a.length || (size_t)bmax >= b.length) return range_error(env, "kernelflow_native: lengths do not match the shape");
  if (sa[rank - 1] > 1 || sb[rank - 1] > 1) return range_error(env, "kernelflow_native: innermost strides must be 0 or 1");
  const int64_t inner = sh[rank - 1];
  const int64_t rows = total / inner;
  const int64_t chunks = (inner + CHUNK - 1) / CHUNK;
  const int64_t tasks = rows * chunks;
  const binary_row_fn fn = BINARY_ROWS[op];
  const float *pa = a.data, *pb = b.data;
  float *po = out.data;
  const int ia = sa[rank - 1], ib = sb[rank - 1];
#pragma omp parallel for schedule(static) if (total >= PAR_MIN && tasks > 1)
  for (int64_t t = 0; t < tasks; t++) {
    int64_t row = t / chunks, c0 = (t % chunks) * CHUNK;
    int64_t len = inner - c0 < CHUNK ? inner - c0 : CHUNK;
    int64_t offa = 0, offb = 0, r = row;
    for (int64_t d = (int64_t)rank - 2; d >= 0; d--) {
      int64_t i = r % sh[d];
      r /= sh[d];
      offa += i * sa[d];
      offb += i * sb[d];
    }
    fn(pa + offa + c0 * ia, pb + offb + c0 * ib, po + row * inner + c0, len, ia, ib);
  }
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* unary(op, x, out, p1, p2) */

enum {
  U_EXP, U_LOG, U_SQRT, U_RSQRT, U_SQUARE, U_ABS, U_NEG, U_SIN, U_COS, U_ACOS, U_ERF, U_TANH, U_SIGMOID,
  U_RELU, U_ELU, U_RELU6, U_LEAKYRELU, U_CLIP, U_RECIPROCAL, U_LOG1P, U_EXPM1, U_ASIN, U_ATAN, U_COUNT
};

/* tanh: odd polynomial near 0 (Cephes tanhf), 1 − 2/(e^{2|x|} + 1) beyond, sign restored. */
static inline float tanh_fast(float x) {
  const float a = x < 0.0f ? -x : x;
  const float z = x * x;
  const float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z + 1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
  const float e = exp_fast(2.0f * (a > 10.0f ? 10.0f : a));
  const float big = 1.0f - 2.0f / (e + 1.0f);
  const float res = a < 0.625f ? small : (x < 0.0f ? -big : big);
  return x == x ? res : x;
}

CLONES static void exp_row(const float *restrict x, float *restrict o, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) o[i] = exp_fast(x[i]);
}
CLONES static void sigmoid_row(const float *restrict x, float *restrict o, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) o[i] = 1.0f / (1.0f + exp_fast(-x[i]));
}
CLONES static void tanh_row(const float *restrict x, float *restrict o, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) o[i] = tanh_fast(x[i]);
}

/* elu as tfjs defines it (exp(x) − 1 below 0, as the cpu and wasm kernels compute it), vectorised:
 * libm's scalar expm1f made Elu 10× slower than exp here. */
CLONES static void elu_row(const float *restrict x, float *restrict o, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) o[i] = x[i] >= 0.0f ? x[i] : exp_fast(x[i]) - 1.0f;
}

#define UNARY_LOOP(EXPR) for (int64_t i = 0; i < n; i++) { const float v = x[i]; o[i] = (EXPR); } break;

static void unary_range(int op, const float *restrict x, float *restrict o, int64_t n, float p1, float p2) {
  switch (op) {
    case U_EXP: exp_row(x, o, n); break;
    case U_LOG: UNARY_LOOP(logf(v))
    case U_SQRT: UNARY_LOOP(sqrtf(v))
    case U_RSQRT: UNARY_LOOP(1.0f / sqrtf(v))
    case U_SQUARE: UNARY_LOOP(v * v)
    case U_ABS: UNARY_LOOP(fabsf(v))
    case U_NEG: UNARY_LOOP(-v)
    case U_SIN: UNARY_LOOP(sinf(v))
    case U_COS: UNARY_LOOP(cosf(v))
    case U_ACOS: UNARY_LOOP(acosf(v))
    case U_ERF: UNARY_LOOP(erff(v))
    case U_TANH: tanh_row(x, o, n); break;
    case U_SIGMOID: sigmoid_row(x, o, n); break;
    case U_RELU: UNARY_LOOP(v < 0.0f ? 0.0f : v)
    case U_ELU: elu_row(x, o, n); break;
    case U_RELU6: UNARY_LOOP(v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v))
    case U_LEAKYRELU: UNARY_LOOP(v < 0.0f ? p1 * v : v)
    case U_CLIP: UNARY_LOOP(v > p2 ? p2 : (v < p1 ? p1 : v))
    case U_RECIPROCAL: UNARY_LOOP(1.0f / v)
    case U_LOG1P: UNARY_LOOP(log1pf(v))
    case U_EXPM1: UNARY_LOOP(expm1f(v))
    case U_ASIN: UNARY_LOOP(asinf(v))
    case U_ATAN: UNARY_LOOP(atanf(v))
  }
}

static napi_value Unary(napi_env env, napi_callback_info info) {
  ARGS(5);
  int64_t op;
  Array x, out;
  double p1, p2;
  if (!get_int(env, argv[0], &op, "op")) return NULL;
  if (op >= U_COUNT) return range_error(env, "kernelflow_native: unknown unary op");
  if (!get_f32(env, argv[1], &x, "x") || !get_out(env, argv[2], &out, "out", 0)) return NULL;
  if (!get_num(env, argv[3], &p1, "p1") || !get_num(env, argv[4], &p2, "p2")) return NULL;
  if (x.length != out.length) return range_error(env, "kernelflow_native: x and out differ in length");
  const int64_t n = (int64_t)x.length, tasks = (n + CHUNK - 1) / CHUNK;
  const float *px = x.data;
  float *po = out.data;
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
  for (int64_t t = 0; t < tasks; t++) {
    int64_t s = t * CHUNK, len = n - s < CHUNK ? n - s : CHUNK;
    unary_range((int)op, px + s, po + s, len, (float)p1, (float)p2);
  }
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* reduce(op, x, out, outer, r, inner): out[o, j] = reduce_i x[o, i, j]. Sum and mean accumulate
 * in double; max and min propagate NaN like tfjs's cpu backend. */

enum { R_SUM, R_MEAN, R_MAX, R_MIN, R_COUNT };

static inline double combine(int op, double acc, float v) {
  if (op == R_MAX) return (isnan(v) || v > acc) ? v : acc;
  if (op == R_MIN) return (isnan(v) || v < acc) ? v : acc;
  return acc + v;
}

/* One contiguous run x[0..len): partial result (a sum, or the max/min of the run). */
static double reduce_run(int op, const float *x, int64_t len) {
  if (op == R_SUM || op == R_MEAN) {
    double s = 0;
    /* simd reduction: a fixed reassociation (lanes, then combined), the same on every call */
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < len; i++) s += x[i];
    return s;
  }
  double acc = x[0];
  for (int64_t i = 1; i < len; i++) acc = combine(op, acc, x[i]);
  return acc;
}

static double combine_partials(int op, const double *p, int64_t count) {
  double acc = p[0];
  for (int64_t i = 1; i < count; i++) {
    if (op == R_SUM || op == R_MEAN) acc += p[i];
    else acc = combine(op, acc, (float)p[i]);
  }
  return acc;
}

#define JBLOCK 512

static napi_value Reduce(napi_env env, napi_callback_info info) {
  ARGS(6);
  int64_t op, outer, r, inner;
  Array x, out;
  if (!get_int(env, argv[0], &op, "op")) return NULL;
  if (op >= R_COUNT) return range_error(env, "kernelflow_native: unknown reduction");
  if (!get_f32(env, argv[1], &x, "x") || !get_out(env, argv[2], &out, "out", 0)) return NULL;
  if (!get_int(env, argv[3], &outer, "outer") || !get_int(env, argv[4], &r, "r") || !get_int(env, argv[5], &inner, "inner")) return NULL;
  if (outer < 1 || r < 1 || inner < 1) return range_error(env, "kernelflow_native: reduce dims must be >= 1");
  if ((size_t)(outer * r * inner) != x.length || (size_t)(outer * inner) != out.length) return range_error(env, "kernelflow_native: lengths do not match");
  const float *px = x.data;
  float *po = out.data;
  const int o = (int)op;
  const int64_t total = outer * r * inner;
  if (inner == 1) {
    if (outer >= 2 || r < 2 * CHUNK) {
#pragma omp parallel for schedule(static) if (total >= PAR_MIN && outer > 1)
      for (int64_t i = 0; i < outer; i++) {
        double v = reduce_run(o, px + i * r, r);
        po[i] = (float)(o == R_MEAN ? v / (double)r : v);
      }
    } else {
      /* one long run: fixed chunks in parallel, partials combined in order */
      const int64_t chunks = (r + CHUNK - 1) / CHUNK;
      double *partial = malloc(sizeof(double) * (size_t)chunks);
      if (!partial) return range_error(env, "kernelflow_native: out of memory");
#pragma omp parallel for schedule(static)
      for (int64_t c = 0; c < chunks; c++) {
        int64_t s = c * CHUNK, len = r - s < CHUNK ? r - s : CHUNK;
        partial[c] = reduce_run(o, px + s, len);
      }
      double v = combine_partials(o, partial, chunks);
      free(partial);
      po[0] = (float)(o == R_MEAN ? v / (double)r : v);
    }
    return NULL;
  }
  const int64_t jblocks = (inner + JBLOCK - 1) / JBLOCK, tasks = outer * jblocks;
#pragma omp parallel for schedule(static) if (total >= PAR_MIN && tasks > 1)
  for (int64_t t = 0; t < tasks; t++) {
    const int64_t ob = t / jblocks, j0 = (t % jblocks) * JBLOCK;
    const int64_t len = inner - j0 < JBLOCK ? inner - j0 : JBLOCK;
    double acc[JBLOCK];
    const float *base = px + ob * r * inner + j0;
    for (int64_t j = 0; j < len; j++) acc[j] = (o == R_SUM || o == R_MEAN) ? 0.0 : base[j];
    for (int64_t i = (o == R_SUM || o == R_MEAN) ? 0 : 1; i < r; i++) {
      const float *row = base + i * inner;
      if (o == R_SUM || o == R_MEAN) {
        for (int64_t j = 0; j < len; j++) acc[j] += row[j];
      } else {
        for (int64_t j = 0; j < len; j++) acc[j] = combine(o, acc[j], row[j]);
      }
    }
    float *dst = po + ob * inner + j0;
    for (int64_t j = 0; j < len; j++) dst[j] = (float)(o == R_MEAN ? acc[j] / (double)r : acc[j]);
  }
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* transpose(x, out, shape, perm): out = x permuted (out dim i = x dim perm[i]); 4-byte elements. */

#define TBLOCK 32

static void transpose2d(const uint32_t *restrict x, uint32_t *restrict o, int64_t rows, int64_t cols) {
  /* x is rows×cols, o is cols×rows */
  const int64_t bi = (rows + TBLOCK - 1) / TBLOCK, bj = (cols + TBLOCK - 1) / TBLOCK;
#pragma omp parallel for schedule(static) if (rows * cols >= PAR_MIN)
  for (int64_t t = 0; t < bi * bj; t++) {
    int64_t i0 = (t / bj) * TBLOCK, j0 = (t % bj) * TBLOCK;
    int64_t i1 = i0 + TBLOCK < rows ? i0 + TBLOCK : rows, j1 = j0 + TBLOCK < cols ? j0 + TBLOCK : cols;
    for (int64_t j = j0; j < j1; j++)
      for (int64_t i = i0; i < i1; i++) o[j * rows + i] = x[i * cols + j];
  }
}

static napi_value Transpose(napi_env env, napi_callback_info info) {
  ARGS(4);
  Array x, out, shape, perm;
  if (!get_array(env, argv[0], &x, "x") || !get_out(env, argv[1], &out, "out", 1)) return NULL;
  if (!get_i32s(env, argv[2], &shape, "shape") || !get_i32s(env, argv[3], &perm, "perm")) return NULL;
  int esx = x.type == napi_float32_array || x.type == napi_int32_array || x.type == napi_uint32_array;
  int eso = out.type == napi_float32_array || out.type == napi_int32_array || out.type == napi_uint32_array;
  if (!esx || !eso) return range_error(env, "kernelflow_native: transpose needs 4-byte elements");
  size_t rank0 = shape.length;
  if (rank0 < 1 || rank0 > MAX_RANK || perm.length != rank0) return range_error(env, "kernelflow_native: bad rank");
  const int32_t *sh0 = shape.data, *pm0 = perm.data;
  int64_t total = 1;
  int seen[MAX_RANK] = {0};
  for (size_t d = 0; d < rank0; d++) {
    if (sh0[d] < 1 || pm0[d] < 0 || (size_t)pm0[d] >= rank0 || seen[pm0[d]]++) return range_error(env, "kernelflow_native: bad shape or perm");
    total *= sh0[d];
  }
  if ((size_t)total != x.length || (size_t)total != out.length) return range_error(env, "kernelflow_native: lengths do not match the shape");
  /* Drop size-1 dims, then merge output dims that are consecutive input dims. */
  int64_t sh[MAX_RANK];
  int keep[MAX_RANK], newIndex[MAX_RANK], pm[MAX_RANK];
  int r = 0;
  for (size_t d = 0; d < rank0; d++) newIndex[d] = -1;
  for (size_t d = 0; d < rank0; d++) if (sh0[d] > 1) { newIndex[d] = r; keep[r] = (int)d; r++; }
  int pr = 0;
  for (size_t i = 0; i < rank0; i++) if (newIndex[pm0[i]] >= 0) pm[pr++] = newIndex[pm0[i]];
  for (int d = 0; d < r; d++) sh[d] = sh0[keep[d]];
  /* merge: output dims i, i+1 with pm[i+1] == pm[i] + 1 */
  int64_t msh[MAX_RANK];
  int mpm[MAX_RANK], groupOf[MAX_RANK], groups = 0;
  {
    int64_t gsize[MAX_RANK];
    int gfirst[MAX_RANK];
    for (int i = 0; i < r; i++) {
      if (i > 0 && pm[i] == pm[i - 1] + 1) {
        gsize[groups - 1] *= sh[pm[i]];
      } else {
        gfirst[groups] = pm[i];
        gsize[groups] = sh[pm[i]];
        groups++;
      }
    }
    /* order groups by their first input dim to get the merged input shape */
    int order[MAX_RANK];
    for (int g = 0; g < groups; g++) order[g] = g;
    for (int a = 1; a < groups; a++)
      for (int b = a; b > 0 && gfirst[order[b]] < gfirst[order[b - 1]]; b--) { int tmp = order[b]; order[b] = order[b - 1]; order[b - 1] = tmp; }
    for (int g = 0; g < groups; g++) { msh[g] = gsize[order[g]]; groupOf[order[g]] = g; }
    for (int g = 0; g < groups; g++) mpm[g] = groupOf[g];
  }
  const uint32_t *px = x.data;
  uint32_t *po = out.data;
  if (groups <= 1) {
    memcpy(po, px, (size_t)total * 4);
    return NULL;
  }
  if (groups == 2) { /* mpm = [1, 0] */
    transpose2d(px, po, msh[0], msh[1]);
    return NULL;
  }
  if (groups == 3 && mpm[0] == 0 && mpm[1] == 2 && mpm[2] == 1) {
    const int64_t plane = msh[1] * msh[2];
#pragma omp parallel for schedule(static) if (total >= PAR_MIN && msh[0] > 1)
    for (int64_t b = 0; b < msh[0]; b++) transpose2d(px + b * plane, po + b * plane, msh[1], msh[2]);
    return NULL;
  }
  /* generic: one output row (last output dim) per task */
  int64_t istride[MAX_RANK];
  istride[groups - 1] = 1;
  for (int d = groups - 2; d >= 0; d--) istride[d] = istride[d + 1] * msh[d + 1];
  int64_t osh[MAX_RANK], ostr[MAX_RANK];
  for (int i = 0; i < groups; i++) { osh[i] = msh[mpm[i]]; ostr[i] = istride[mpm[i]]; }
  const int64_t inner = osh[groups - 1], rows = total / inner, s = ostr[groups - 1];
#pragma omp parallel for schedule(static) if (total >= PAR_MIN)
  for (int64_t row = 0; row < rows; row++) {
    int64_t off = 0, rr = row;
    for (int d = groups - 2; d >= 0; d--) { off += (rr % osh[d]) * ostr[d]; rr /= osh[d]; }
    uint32_t *dst = po + row * inner;
    for (int64_t j = 0; j < inner; j++) dst[j] = px[off + j * s];
  }
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* select(cond: Uint8Array, t, e, out): out[i·inner + j] = cond[i] ? t[..] : e[..], inner = out/cond. */

static napi_value Select(napi_env env, napi_callback_info info) {
  ARGS(4);
  Array c, t, e, out;
  if (!get_array(env, argv[0], &c, "cond") || !get_f32(env, argv[1], &t, "t") || !get_f32(env, argv[2], &e, "e") || !get_out(env, argv[3], &out, "out", 0)) return NULL;
  if (c.type != napi_uint8_array) return range_error(env, "kernelflow_native: cond must be a Uint8Array");
  if (c.length < 1 || t.length != out.length || e.length != out.length || out.length % c.length != 0) return range_error(env, "kernelflow_native: select lengths do not match");
  const int64_t rows = (int64_t)c.length, inner = (int64_t)(out.length / c.length);
  const uint8_t *pc = c.data;
  const float *pt = t.data, *pe = e.data;
  float *po = out.data;
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (rows >= PAR_MIN)
    for (int64_t i = 0; i < rows; i++) po[i] = pc[i] ? pt[i] : pe[i];
  } else {
#pragma omp parallel for schedule(static) if ((int64_t)out.length >= PAR_MIN)
    for (int64_t i = 0; i < rows; i++) memcpy(po + i * inner, (pc[i] ? pt : pe) + i * inner, sizeof(float) * (size_t)inner);
  }
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* LAPACK (OpenBLAS's), in double precision on float32 inputs. Row-major n×n arrays; a symmetric
 * matrix reads the same in either order, so column-major LAPACK sees A itself. gfortran's hidden
 * string-length arguments are passed explicitly. */

/* Diagonal blocks of the blocked Cholesky and solves: small enough for LAPACK, big enough for dgemm. */
#define LINALG_BLOCK 192

/* Per-thread float64 work buffers for the LAPACK wrappers, kept between calls: a fresh 32 MB
 * malloc is a fresh mmap, and first-touching its pages cost more than the factorisation itself on
 * the sandboxed machines measured (≈150 ms of page faults against 50 ms of dpotrf at n = 2048).
 * Buffers above SCRATCH_KEEP bytes are freed after the call instead of kept. */
#define SCRATCH_KEEP ((size_t)256 << 20)
static _Thread_local double *scratch_buf[2];
static _Thread_local size_t scratch_len[2];

static double *scratch_get(int slot, size_t count) {
  if (scratch_len[slot] < count) {
    free(scratch_buf[slot]);
    scratch_buf[slot] = malloc(sizeof(double) * count);
    scratch_len[slot] = scratch_buf[slot] ? count : 0;
  }
  return scratch_buf[slot];
}

static void scratch_release(int slot) {
  if (scratch_len[slot] * sizeof(double) > SCRATCH_KEEP) {
    free(scratch_buf[slot]);
    scratch_buf[slot] = NULL;
    scratch_len[slot] = 0;
  }
}

extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t);
extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w, double *work,
                    const int *lwork, int *iwork, const int *liwork, int *info, size_t, size_t);

static napi_value make_int(napi_env env, int v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

/* potrf(a, out, n[, jitter]) → info: out = L (row-major, zeros above the diagonal) with
 * A + jitter·I = L·Lᵀ (the jitter is added in float64, so the caller needs no copy of A); info > 0:
 * the leading minor of that order is not positive definite (out is then undefined). */
static napi_value Potrf(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "kernelflow_native: too few arguments");
    return NULL;
  }
  Array a, out;
  int64_t n;
  double jitter = 0;
  if (!get_f32(env, argv[0], &a, "a") || !get_out(env, argv[1], &out, "out", 0) || !get_int(env, argv[2], &n, "n")) return NULL;
  if (argc > 3 && !get_num(env, argv[3], &jitter, "jitter")) return NULL;
  if (n < 1 || n > 46340 || a.length != (size_t)(n * n) || out.length != a.length) return range_error(env, "kernelflow_native: potrf needs n×n arrays");
  double *w = scratch_get(0, (size_t)(n * n));
  if (!w) return range_error(env, "kernelflow_native: out of memory");
  const float *pa = a.data;
  /* Only the lower triangle is read (and factored). */
#pragma omp parallel for schedule(static) if (n * n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    for (int64_t j = 0; j <= i; j++) w[i * n + j] = pa[i * n + j];
    w[i * n + i] += jitter;
  }
  /* Blocked on dgemm (native/blocked-linalg.c): Debian's OpenBLAS dpotrf is several times slower. */
  const int inf = kf_potrf_lower(w, (int)n, LINALG_BLOCK);
  float *po = out.data;
#pragma omp parallel for schedule(static) if (n * n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    for (int64_t j = 0; j <= i; j++) po[i * n + j] = (float)w[i * n + j];
    memset(po + i * n + i + 1, 0, sizeof(float) * (size_t)(n - i - 1));
  }
  scratch_release(0);
  return make_int(env, inf);
}

/* trsm(t, b, out, n, m, lower, transpose): out = op(T)⁻¹·B, T n×n triangular, B n×m, row-major. */
static napi_value Trsm(napi_env env, napi_callback_info info) {
  ARGS(7);
  Array t, b, out;
  int64_t n, m;
  bool lower, trans;
  if (!get_f32(env, argv[0], &t, "t") || !get_f32(env, argv[1], &b, "b") || !get_out(env, argv[2], &out, "out", 0)) return NULL;
  if (!get_int(env, argv[3], &n, "n") || !get_int(env, argv[4], &m, "m")) return NULL;
  CHECK(napi_get_value_bool(env, argv[5], &lower));
  CHECK(napi_get_value_bool(env, argv[6], &trans));
  if (n < 1 || m < 1 || n > INT32_MAX || m > INT32_MAX || t.length != (size_t)(n * n) || b.length != (size_t)(n * m) || out.length != b.length) {
    return range_error(env, "kernelflow_native: trsm needs T n×n and B, out n×m");
  }
  double *dt = scratch_get(0, (size_t)(n * n)), *dx = scratch_get(1, (size_t)(n * m));
  if (!dt || !dx) return range_error(env, "kernelflow_native: out of memory");
  const float *pt = t.data, *pb = b.data;
#pragma omp parallel for schedule(static) if (n * n > PAR_MIN)
  for (int64_t i = 0; i < n * n; i++) dt[i] = pt[i];
#pragma omp parallel for schedule(static) if (n * m > PAR_MIN)
  for (int64_t i = 0; i < n * m; i++) dx[i] = pb[i];
  kf_trsm_left(dt, dx, (int)n, (int)m, lower, trans, LINALG_BLOCK);
  float *po = out.data;
#pragma omp parallel for schedule(static) if (n * m > PAR_MIN)
  for (int64_t i = 0; i < n * m; i++) po[i] = (float)dx[i];
  scratch_release(0);
  scratch_release(1);
  return make_int(env, 0);
}

/* syevd(a, values, vectors, n) → info: A = V·diag(values)·Vᵀ, values ascending, eigenvectors
 * in the columns of `vectors` (row-major n×n). Reads the lower triangle of A (row-major). */
static napi_value Syevd(napi_env env, napi_callback_info info) {
  ARGS(4);
  Array a, vals, vecs;
  int64_t n;
  if (!get_f32(env, argv[0], &a, "a") || !get_f32(env, argv[1], &vals, "values") || !get_out(env, argv[2], &vecs, "vectors", 0)) return NULL;
  if (!get_int(env, argv[3], &n, "n")) return NULL;
  if (n < 1 || n > 46340 || a.length != (size_t)(n * n) || vecs.length != a.length || vals.length != (size_t)n) return range_error(env, "kernelflow_native: syevd needs n×n, n, n×n arrays");
  int nn = (int)n, lda = nn, inf = 0, lwork = -1, liwork = -1, iwq = 0;
  double wq = 0;
  double *w = malloc(sizeof(double) * (size_t)(n * n)), *ev = malloc(sizeof(double) * (size_t)n);
  if (!w || !ev) {
    free(w);
    free(ev);
    return range_error(env, "kernelflow_native: out of memory");
  }
  const float *pa = a.data;
  for (int64_t i = 0; i < n * n; i++) w[i] = pa[i];
  dsyevd_("V", "U", &nn, w, &lda, ev, &wq, &lwork, &iwq, &liwork, &inf, 1, 1); /* workspace query */
  lwork = (int)wq;
  liwork = iwq;
  double *work = malloc(sizeof(double) * (size_t)(lwork > 1 ? lwork : 1));
  int *iwork = malloc(sizeof(int) * (size_t)(liwork > 1 ? liwork : 1));
  if (!work || !iwork) {
    free(w);
    free(ev);
    free(work);
    free(iwork);
    return range_error(env, "kernelflow_native: out of memory");
  }
  /* Column-major 'U' = row-major lower triangle. */
  dsyevd_("V", "U", &nn, w, &lda, ev, work, &lwork, iwork, &liwork, &inf, 1, 1);
  float *pv = vals.data, *pe = vecs.data;
  for (int64_t i = 0; i < n; i++) pv[i] = (float)ev[i];
  /* eigenvector j is column j of the column-major result, i.e. w[j·n .. j·n + n) */
  for (int64_t j = 0; j < n; j++)
    for (int64_t i = 0; i < n; i++) pe[i * n + j] = (float)w[j * n + i];
  free(w);
  free(ev);
  free(work);
  free(iwork);
  return make_int(env, inf);
}

/* ------------------------------------------------------------------------------------------ */
/* Fused kernels (fused.c). */

static int is_null(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && (t == napi_null || t == napi_undefined);
}

/* Checks n1, n2, d and the lengths of x1 [n1, d] and x2 [n2, d] (x2 null: symmetric, n2 = n1). */
static int fused_dims(napi_env env, napi_value *argv, Array *x1, Array *x2, int *sym, int64_t *n1, int64_t *n2, int64_t *d) {
  if (!get_f32(env, argv[0], x1, "x1")) return 0;
  *sym = is_null(env, argv[1]);
  if (!*sym && !get_f32(env, argv[1], x2, "x2")) return 0;
  if (!get_int(env, argv[2], n1, "n1") || !get_int(env, argv[3], n2, "n2") || !get_int(env, argv[4], d, "d")) return 0;
  if (*n1 < 1 || *n2 < 1 || *d < 1 || *n1 > INT32_MAX || *n2 > INT32_MAX || *d > INT32_MAX) {
    range_error(env, "kernelflow_native: fused kernels need n1, n2, d in [1, 2^31)");
    return 0;
  }
  if (x1->length != (size_t)(*n1 * *d) || (*sym ? *n2 != *n1 : x2->length != (size_t)(*n2 * *d))) {
    range_error(env, "kernelflow_native: x1/x2 lengths do not match n1, n2, d");
    return 0;
  }
  return 1;
}

/* stationary(x1, x2 | null, n1, n2, d, kind, variance, out): out = σ²·g(‖x1_i − x2_j‖²). */
static napi_value Stationary(napi_env env, napi_callback_info info) {
  ARGS(8);
  Array x1, x2, out;
  int sym;
  int64_t n1, n2, d, kind;
  double variance;
  if (!fused_dims(env, argv, &x1, &x2, &sym, &n1, &n2, &d)) return NULL;
  if (!get_int(env, argv[5], &kind, "kind") || !get_num(env, argv[6], &variance, "variance") || !get_out(env, argv[7], &out, "out", 0)) return NULL;
  if (kind >= KF_STATIONARY_COUNT) return range_error(env, "kernelflow_native: unknown stationary kernel");
  if (out.length != (size_t)(n1 * n2)) return range_error(env, "kernelflow_native: out must hold n1·n2 floats");
  if (kf_stationary((int)kind, x1.data, sym ? NULL : x2.data, out.data, n1, n2, d, (float)variance)) return range_error(env, "kernelflow_native: out of memory");
  return NULL;
}

/* nnDense(x1, x2 | null, n1, n2, d, steps: Float64Array, nngp, ntk | null): the NNGP/NTK recursion. */
static napi_value NnDense(napi_env env, napi_callback_info info) {
  ARGS(8);
  Array x1, x2, steps, K, T;
  int sym;
  int64_t n1, n2, d;
  if (!fused_dims(env, argv, &x1, &x2, &sym, &n1, &n2, &d)) return NULL;
  if (!get_array(env, argv[5], &steps, "steps")) return NULL;
  if (steps.type != napi_float64_array || steps.length % KF_STEP != 0) return range_error(env, "kernelflow_native: steps must be a Float64Array of 5-number records");
  const int64_t ns = (int64_t)(steps.length / KF_STEP);
  const double *st = steps.data;
  for (int64_t s = 0; s < ns; s++) {
    const double code = st[s * KF_STEP];
    if (code != floor(code) || code < 0 || code >= KF_STEP_COUNT) return range_error(env, "kernelflow_native: unknown nn step");
  }
  if (!get_out(env, argv[6], &K, "nngp", 0)) return NULL;
  const int wantT = !is_null(env, argv[7]);
  if (wantT && !get_out(env, argv[7], &T, "ntk", 0)) return NULL;
  if (K.length != (size_t)(n1 * n2) || (wantT && T.length != K.length)) return range_error(env, "kernelflow_native: nngp/ntk must hold n1·n2 floats");
  if (kf_nn_dense(x1.data, sym ? NULL : x2.data, K.data, wantT ? T.data : NULL, n1, n2, d, st, ns)) return range_error(env, "kernelflow_native: out of memory");
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */

static napi_value set_string(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  if (napi_create_string_utf8(env, value ? value : "", NAPI_AUTO_LENGTH, &v) != napi_ok) return NULL;
  napi_set_named_property(env, obj, key, v);
  return obj;
}

static void set_int(napi_env env, napi_value obj, const char *key, int value) {
  napi_value v;
  if (napi_create_int32(env, value, &v) == napi_ok) napi_set_named_property(env, obj, key, v);
}

/* info(): { blasConfig, blasCore, blasThreads, ompThreads } */
static napi_value Info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value obj;
  CHECK(napi_create_object(env, &obj));
  set_string(env, obj, "blasConfig", openblas_get_config());
  set_string(env, obj, "blasCore", openblas_get_corename());
  set_int(env, obj, "blasThreads", openblas_get_num_threads());
  set_int(env, obj, "ompThreads", threads_available());
  return obj;
}

/* setThreads(n): both OpenBLAS's and OpenMP's thread count. */
static napi_value SetThreads(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t n;
  if (!get_int(env, argv[0], &n, "n")) return NULL;
  if (n < 1 || n > 1024) return range_error(env, "kernelflow_native: thread count must be in [1, 1024]");
  openblas_set_num_threads((int)n);
#ifdef _OPENMP
  omp_set_num_threads((int)n);
#endif
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
#if defined(__GLIBC__)
  /* Tensor buffers up to 32 MB (4M float32 and more) come from the heap and are reused rather
   * than mmap'ed fresh each time: first-touch page faults of fresh mappings dominated elementwise
   * kernels (2 ms of work, 30–60 ms of faults on the sandboxed machines measured). Freed memory
   * above 512 MB at the top of the heap is still returned to the system. */
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
  const napi_property_descriptor props[] = {
      {"matmul", NULL, Matmul, NULL, NULL, NULL, napi_enumerable, NULL},
      {"binary", NULL, Binary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unary", NULL, Unary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reduce", NULL, Reduce, NULL, NULL, NULL, napi_enumerable, NULL},
      {"transpose", NULL, Transpose, NULL, NULL, NULL, napi_enumerable, NULL},
      {"select", NULL, Select, NULL, NULL, NULL, napi_enumerable, NULL},
      {"potrf", NULL, Potrf, NULL, NULL, NULL, napi_enumerable, NULL},
      {"trsm", NULL, Trsm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"syevd", NULL, Syevd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"stationary", NULL, Stationary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"nnDense", NULL, NnDense, NULL, NULL, NULL, napi_enumerable, NULL},
      {"neighborhood", NULL, kf_napi_neighborhood, NULL, NULL, NULL, napi_enumerable, NULL},
      {"flashAttention", NULL, kf_napi_flash_attention, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fft", NULL, kf_napi_fft, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rpeFft", NULL, kf_napi_rpe_fft, NULL, NULL, NULL, napi_enumerable, NULL},
      {"info", NULL, Info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
