/*
 * Fused attention kernels (see attention.h). Precision: dot products and the weighted sums of v
 * in float32 (as sgemm and the tfjs path), softmax row sums in double; exp is fastmath.h's
 * exp_fast (≈1 ulp) on the score tiles.
 *
 * Neighbourhood: one pass per query, kw dot products, softmax, weighted sum of kw value rows; the
 * window keys sit next to each other in memory, so this is bound by reading q, k, v once.
 *
 * Softmax ("flash" order): each task owns QUERY_BLOCK query rows of one batch and walks the key
 * tiles of KEY_TILE keys: S = scale·Q·Kᵀ (sgemm into a per-thread tile kept between calls: fresh
 * memory costs more in page faults than the work on the sandboxed machines measured), running
 * row max and row sum, P = exp(S − max), O = α·O + P·V (sgemm, accumulated in `out` itself), and
 * O / sum at the end. OpenBLAS runs single-threaded inside the OpenMP tasks. A task's rows are
 * computed by one thread in a fixed order, so results do not depend on the thread count.
 */
#include "attention.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "fastmath.h"
#include "napi-args.h"
#include "thread-scratch.h"

/* A 128 × 1024 float score tile (512 KB) stays in L2; measured best of 64–256 × 256–4096 at N = 4096. */
#define QUERY_BLOCK 128
#define KEY_TILE 1024
/* Multiply-adds below which a call stays on one thread. */
#define ATTN_PAR_MIN (1 << 18)

/* ------------------------------------------------------------------------------------------ */
/* Per-thread scratch, kept between calls (OpenMP's worker threads persist). */

static _Thread_local void *tile_buf;
static _Thread_local size_t tile_bytes;

static float *thread_tile(size_t count) { return thread_scratch(&tile_buf, &tile_bytes, sizeof(float) * count); }

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t clamp64(int64_t x, int64_t lo, int64_t hi) { return x < lo ? lo : (x > hi ? hi : x); }

/* ------------------------------------------------------------------------------------------ */
/* Neighbourhood attention */

static inline float dot_f32(const float *a, const float *b, int64_t n) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t c = 0; c < n; c++) s += a[c] * b[c];
  return s;
}

/* One query: w is kw floats of scratch. */
CLONES static void neighborhood_row(const float *qi, const float *kb, const float *vb, const int32_t *idx, const float *ok, float *o, float *w,
                             int64_t d, int64_t dv, int64_t kw, float scale) {
  float m = -INFINITY;
  for (int64_t t = 0; t < kw; t++) {
    if (ok && ok[t] == 0.0f) continue;
    w[t] = scale * dot_f32(qi, kb + (int64_t)idx[t] * d, d);
    m = w[t] > m ? w[t] : m;
  }
  memset(o, 0, sizeof(float) * (size_t)dv);
  if (m == -INFINITY) return; /* no valid key (or all logits −inf): 0, never NaN */
  double sum = 0.0;
  for (int64_t t = 0; t < kw; t++) {
    w[t] = ok && ok[t] == 0.0f ? 0.0f : expf(w[t] - m);
    sum += w[t];
  }
  const float inv = (float)(1.0 / sum);
  for (int64_t t = 0; t < kw; t++) {
    if (w[t] == 0.0f) continue;
    const float wt = w[t] * inv;
    const float *vj = vb + (int64_t)idx[t] * dv;
#pragma omp simd
    for (int64_t c = 0; c < dv; c++) o[c] += wt * vj[c];
  }
}

int kf_neighborhood(const float *q, const float *k, const float *v, const int32_t *index, const float *valid, float *out,
                    int64_t bh, int64_t n, int64_t d, int64_t dv, int64_t kw, float scale) {
  const int64_t rows = bh * n;
  int failed = 0;
#pragma omp parallel if (rows * kw * (d + dv) >= ATTN_PAR_MIN) reduction(| : failed)
  {
    float *w = thread_tile((size_t)kw);
    if (!w) failed = 1;
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
      if (!w) continue;
      const int64_t b = r / n, i = r % n;
      neighborhood_row(q + r * d, k + b * n * d, v + b * n * dv, index + i * kw, valid ? valid + i * kw : NULL, out + r * dv, w, d, dv,
                       kw, scale);
    }
  }
  return failed ? -1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Softmax attention */

/* Row state of one query block: running max and sum. */
typedef struct {
  float max[QUERY_BLOCK];
  double sum[QUERY_BLOCK];
} RowState;

/* Row helpers, vectorised (AVX-512 / AVX2 clones): max, in-place exp(x − m), sum in double. */
CLONES static float row_max(const float *restrict s, int64_t n) {
  float m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (int64_t j = 0; j < n; j++) m = s[j] > m ? s[j] : m;
  return m;
}

CLONES static void exp_shifted(float *restrict s, int64_t n, float m) {
#pragma omp simd
  for (int64_t j = 0; j < n; j++) s[j] = exp_fast(s[j] - m);
}

CLONES static double row_sum(const float *restrict s, int64_t n) {
  double sum = 0.0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; j++) sum += s[j];
  return sum;
}

/* Turns row r of the score tile s (kb wide, `lim` leading entries allowed) into exp(s − max),
 * updates the running max and sum, and rescales the row's output accumulator o. */
static void softmax_tile_row(float *s, int64_t kb, int64_t lim, RowState *st, int64_t r, float *o, int64_t dv) {
  if (lim < kb) memset(s + lim, 0, sizeof(float) * (size_t)(kb - lim));
  if (lim == 0) return;
  const float tmax = row_max(s, lim), old = st->max[r], m = tmax > old ? tmax : old;
  exp_shifted(s, lim, m);
  if (old != m) {
    /* The running max grew: earlier terms shrink by e^(old − m) (0 on the first allowed tile). */
    const float alpha = old == -INFINITY ? 0.0f : expf(old - m);
    st->sum[r] *= alpha;
#pragma omp simd
    for (int64_t c = 0; c < dv; c++) o[c] *= alpha;
  }
  st->sum[r] += row_sum(s, lim);
  st->max[r] = m;
}

/* One task: rows [i0, i0 + rows) of batch b. */
static void flash_block(const float *qb, const float *kb_, const float *vb, float *ob, int64_t i0, int64_t rows, int64_t nq, int64_t nk,
                        int64_t d, int64_t dv, float scale, int causal, float *s) {
  RowState st;
  for (int64_t r = 0; r < rows; r++) {
    st.max[r] = -INFINITY;
    st.sum[r] = 0.0;
  }
  float *o = ob + i0 * dv;
  memset(o, 0, sizeof(float) * (size_t)(rows * dv));
  const int64_t shift = nk - nq; /* query i sees keys j ≤ i + shift */
  const int64_t kend = causal ? clamp64(i0 + rows + shift, 0, nk) : nk;
  for (int64_t j0 = 0; j0 < kend; j0 += KEY_TILE) {
    const int64_t kb = min64(KEY_TILE, kend - j0);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)kb, (int)d, scale, qb + i0 * d, (int)d, kb_ + j0 * d, (int)d, 0.0f,
                s, (int)kb);
    for (int64_t r = 0; r < rows; r++) {
      const int64_t lim = causal ? clamp64(i0 + r + shift + 1 - j0, 0, kb) : kb;
      softmax_tile_row(s + r * kb, kb, lim, &st, r, o + r * dv, dv);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)dv, (int)kb, 1.0f, s, (int)kb, vb + j0 * dv, (int)dv, 1.0f, o,
                (int)dv);
  }
  for (int64_t r = 0; r < rows; r++) {
    const float inv = st.sum[r] > 0.0 ? (float)(1.0 / st.sum[r]) : 0.0f; /* no allowed key: 0 */
#pragma omp simd
    for (int64_t c = 0; c < dv; c++) o[r * dv + c] *= inv;
  }
}

int kf_flash_attention(const float *q, const float *k, const float *v, float *out, int64_t bh, int64_t nq, int64_t nk, int64_t d,
                       int64_t dv, float scale, int causal) {
  const int64_t blocks = (nq + QUERY_BLOCK - 1) / QUERY_BLOCK, tasks = bh * blocks;
  const int parallel = tasks > 1 && bh * nq * nk * (d + dv) >= ATTN_PAR_MIN;
  /* OpenBLAS would otherwise split each small sgemm over threads the OpenMP tasks already use. */
  const int blas_threads = openblas_get_num_threads();
  if (parallel) openblas_set_num_threads(1);
  int failed = 0;
#pragma omp parallel for schedule(dynamic, 1) if (parallel) reduction(| : failed)
  for (int64_t t = 0; t < tasks; t++) {
    float *s = thread_tile((size_t)(QUERY_BLOCK * KEY_TILE));
    if (!s) {
      failed = 1;
      continue;
    }
    const int64_t b = t / blocks, i0 = (t % blocks) * QUERY_BLOCK;
    flash_block(q + b * nq * d, k + b * nk * d, v + b * nk * dv, out + b * nq * dv, i0, min64(QUERY_BLOCK, nq - i0), nq, nk, d, dv, scale,
                causal, s);
  }
  if (parallel) openblas_set_num_threads(blas_threads);
  return failed ? -1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* N-API wrappers: argument checks, then the kernels above. */

/* len == a·b·c, in double (exact below 2^53), so that huge sizes cannot overflow into a match. */
static int holds(size_t len, int64_t a, int64_t b, int64_t c) { return (double)len == (double)a * (double)b * (double)c; }

static int is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && (t == napi_null || t == napi_undefined);
}

static napi_value range_fail(napi_env env, const char *msg) {
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

napi_value kf_napi_neighborhood(napi_env env, napi_callback_info info) {
  NAPI_ARGS(12);
  float *q, *k, *v, *valid = NULL, *out;
  size_t lq, lk, lv, lvalid = 0, lout, lindex;
  int64_t bh, n, d, dv, kw;
  double scale;
  if (!f32_arg(env, argv[0], &q, &lq, "attention") || !f32_arg(env, argv[1], &k, &lk, "attention") || !f32_arg(env, argv[2], &v, &lv, "attention")) return NULL;
  napi_typedarray_type itype;
  napi_value ab;
  size_t offset;
  void *ip;
  bool is = false;
  if (napi_is_typedarray(env, argv[3], &is) != napi_ok || !is || napi_get_typedarray_info(env, argv[3], &itype, &lindex, &ip, &ab, &offset) != napi_ok ||
      itype != napi_int32_array) {
    napi_throw_type_error(env, NULL, "kernelflow_native: index must be an Int32Array");
    return NULL;
  }
  if (!is_nullish(env, argv[4]) && !f32_arg(env, argv[4], &valid, &lvalid, "attention")) return NULL;
  if (!f32_out_arg(env, argv[5], &out, &lout, "attention")) return NULL;
  if (!size_arg(env, argv[6], &bh, 2147483647.0, "attention") || !size_arg(env, argv[7], &n, 2147483647.0, "attention") || !size_arg(env, argv[8], &d, 2147483647.0, "attention") || !size_arg(env, argv[9], &dv, 2147483647.0, "attention") ||
      !size_arg(env, argv[10], &kw, 2147483647.0, "attention"))
    return NULL;
  if (napi_get_value_double(env, argv[11], &scale) != napi_ok) return range_fail(env, "kernelflow_native: scale must be a number");
  if (!holds(lq, bh, n, d) || lk != lq || !holds(lv, bh, n, dv) || lout != lv || !holds(lindex, n, kw, 1) || (valid && lvalid != lindex)) {
    return range_fail(env, "kernelflow_native: neighborhood array lengths do not match bh, n, d, dv, kw");
  }
  const int32_t *index = ip;
  for (size_t i = 0; i < lindex; i++) {
    if (index[i] < 0 || index[i] >= n) return range_fail(env, "kernelflow_native: neighborhood index out of range");
  }
  if (kf_neighborhood(q, k, v, index, valid, out, bh, n, d, dv, kw, (float)scale)) return range_fail(env, "kernelflow_native: out of memory");
  return NULL;
}

napi_value kf_napi_flash_attention(napi_env env, napi_callback_info info) {
  NAPI_ARGS(11);
  float *q, *k, *v, *out;
  size_t lq, lk, lv, lout;
  int64_t bh, nq, nk, d, dv;
  double scale;
  bool causal;
  if (!f32_arg(env, argv[0], &q, &lq, "attention") || !f32_arg(env, argv[1], &k, &lk, "attention") || !f32_arg(env, argv[2], &v, &lv, "attention") || !f32_out_arg(env, argv[3], &out, &lout, "attention"))
    return NULL;
  if (!size_arg(env, argv[4], &bh, 2147483647.0, "attention") || !size_arg(env, argv[5], &nq, 2147483647.0, "attention") || !size_arg(env, argv[6], &nk, 2147483647.0, "attention") || !size_arg(env, argv[7], &d, 2147483647.0, "attention") ||
      !size_arg(env, argv[8], &dv, 2147483647.0, "attention"))
    return NULL;
  if (napi_get_value_double(env, argv[9], &scale) != napi_ok || napi_get_value_bool(env, argv[10], &causal) != napi_ok) {
    return range_fail(env, "kernelflow_native: flashAttention needs a numeric scale and a boolean causal");
  }
  if (!holds(lq, bh, nq, d) || !holds(lk, bh, nk, d) || !holds(lv, bh, nk, dv) || !holds(lout, bh, nq, dv)) {
    return range_fail(env, "kernelflow_native: flashAttention array lengths do not match bh, nq, nk, d, dv");
  }
  if (kf_flash_attention(q, k, v, out, bh, nq, nk, d, dv, (float)scale, causal)) return range_fail(env, "kernelflow_native: out of memory");
  return NULL;
}
