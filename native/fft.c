/*
 * Batched complex FFT (see fft.h), the tfjs `FFT` / `IFFT` kernels of the native backend.
 *
 * One row at a time in double precision, split real/imaginary arrays (so the butterflies
 * vectorise): a power of two n is an iterative radix-2 decimation-in-time FFT (bit-reversed load,
 * then log2 n stages whose twiddles exp(−πi·j/h) sit contiguously per stage, each computed
 * directly by sin/cos, no recurrence); any other n goes through Bluestein's chirp-z: with
 * c_k = exp(−πi·k²/n) (k² reduced mod 2n in integers), X_k = c_k·Σ_j (x_j c_j)·conj(c_{k−j}), a
 * circular convolution of length m = 2^⌈log2(2n−1)⌉ done by two radix-2 FFTs against the
 * precomputed transform of the conjugate chirp. The inverse is conj(FFT(conj x))/n.
 *
 * Plans (twiddles, bit reversal, chirp and its transform) are cached per calling thread, the
 * last PLAN_CACHE sizes; the OpenMP workers only read them. Each worker keeps its row buffer
 * (2m doubles) between calls: fresh memory costs more in page faults than the work on the
 * sandboxed machines measured. Rows go to threads in dynamic chunks, but every row is computed
 * the same way by one thread, so results do not depend on the thread count.
 */
#include "fft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "fastmath.h"
#include "page-advice.h"

/* batch·m below which a call stays on one thread. */
#define FFT_PAR_MIN (1 << 15)
/* Rows per dynamic task: about this many complex values. */
#define FFT_TASK_ELEMS 8192
#define PLAN_CACHE 4

typedef struct {
  int64_t m;              /* a power of two */
  double *tw_re, *tw_im;  /* m − 1 twiddles: stage h (1, 2, 4, …, m/2) at offset h − 1, exp(−πi·j/h) for j < h */
  uint32_t *rev;          /* bit reversal of [0, m) */
} Pow2;

typedef struct {
  int64_t n;
  int bluestein;
  Pow2 p;                 /* of n itself when n is a power of two, else of the Bluestein length m ≥ 2n − 1 */
  double *c_re, *c_im;    /* Bluestein: the chirp exp(−πi·k²/n), k < n */
  double *b_re, *b_im;    /* Bluestein: FFT_m of the wrapped conjugate chirp, times 1/m */
} Plan;

/* ------------------------------------------------------------------------------------------ */
/* Radix-2 core */

static int pow2_init(Pow2 *p, int64_t m) {
  p->m = m;
  const size_t tw = (size_t)(m > 1 ? m - 1 : 1);
  p->tw_re = malloc(sizeof(double) * tw);
  p->tw_im = malloc(sizeof(double) * tw);
  p->rev = malloc(sizeof(uint32_t) * (size_t)m);
  if (!p->tw_re || !p->tw_im || !p->rev) return -1;
  for (int64_t h = 1; h < m; h <<= 1) {
    for (int64_t j = 0; j < h; j++) {
      const double a = -M_PI * (double)j / (double)h;
      p->tw_re[h - 1 + j] = cos(a);
      p->tw_im[h - 1 + j] = sin(a);
    }
  }
  int bits = 0;
  while (((int64_t)1 << bits) < m) bits++;
  p->rev[0] = 0;
  for (int64_t i = 1; i < m; i++) p->rev[i] = (p->rev[i >> 1] >> 1) | ((uint32_t)(i & 1) << (bits - 1));
  return 0;
}

static void pow2_free(Pow2 *p) {
  free(p->tw_re);
  free(p->tw_im);
  free(p->rev);
}

/* The log2 m butterfly stages over data already in bit-reversed order; natural order out. */
CLONES static void butterflies(double *restrict re, double *restrict im, const Pow2 *p) {
  const int64_t m = p->m;
  for (int64_t s = 0; s + 1 < m; s += 2) {
    const double ar = re[s], ai = im[s], br = re[s + 1], bi = im[s + 1];
    re[s] = ar + br;
    im[s] = ai + bi;
    re[s + 1] = ar - br;
    im[s + 1] = ai - bi;
  }
  for (int64_t h = 2; h < m; h <<= 1) {
    const double *restrict wr = p->tw_re + h - 1, *restrict wi = p->tw_im + h - 1;
    for (int64_t s = 0; s < m; s += 2 * h) {
      double *restrict xr = re + s, *restrict xi = im + s, *restrict yr = re + s + h, *restrict yi = im + s + h;
#pragma omp simd
      for (int64_t j = 0; j < h; j++) {
        const double tr = wr[j] * yr[j] - wi[j] * yi[j];
        const double ti = wr[j] * yi[j] + wi[j] * yr[j];
        yr[j] = xr[j] - tr;
        yi[j] = xi[j] - ti;
        xr[j] += tr;
        xi[j] += ti;
      }
    }
  }
}

/* In-place bit-reversal permutation. */
static void bit_reverse(double *re, double *im, const Pow2 *p) {
  for (int64_t i = 0; i < p->m; i++) {
    const int64_t j = p->rev[i];
    if (i < j) {
      double t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Plans */

static void plan_free(Plan *pl) {
  if (!pl) return;
  pow2_free(&pl->p);
  free(pl->c_re);
  free(pl->c_im);
  free(pl->b_re);
  free(pl->b_im);
  free(pl);
}

static Plan *plan_make(int64_t n) {
  Plan *pl = calloc(1, sizeof(Plan));
  if (!pl) return NULL;
  pl->n = n;
  pl->bluestein = (n & (n - 1)) != 0;
  int64_t m = 1;
  while (m < (pl->bluestein ? 2 * n - 1 : n)) m <<= 1;
  if (pow2_init(&pl->p, m)) goto fail;
  if (pl->bluestein) {
    pl->c_re = malloc(sizeof(double) * (size_t)n);
    pl->c_im = malloc(sizeof(double) * (size_t)n);
    pl->b_re = calloc((size_t)m, sizeof(double));
    pl->b_im = calloc((size_t)m, sizeof(double));
    if (!pl->c_re || !pl->c_im || !pl->b_re || !pl->b_im) goto fail;
    const uint64_t two_n = 2 * (uint64_t)n;
    for (int64_t k = 0; k < n; k++) {
      const uint64_t q = ((uint64_t)k * (uint64_t)k) % two_n; /* k < 2^31: k² fits */
      const double a = -M_PI * (double)q / (double)n;
      pl->c_re[k] = cos(a);
      pl->c_im[k] = sin(a);
    }
    /* b_t = conj(c_|t|) for t in (−n, n), wrapped mod m; loaded in bit-reversed order. */
    const uint32_t *rev = pl->p.rev;
    for (int64_t t = 0; t < n; t++) {
      pl->b_re[rev[t]] = pl->c_re[t];
      pl->b_im[rev[t]] = -pl->c_im[t];
      if (t > 0) {
        pl->b_re[rev[m - t]] = pl->c_re[t];
        pl->b_im[rev[m - t]] = -pl->c_im[t];
      }
    }
    butterflies(pl->b_re, pl->b_im, &pl->p);
    const double inv_m = 1.0 / (double)m;
    for (int64_t k = 0; k < m; k++) {
      pl->b_re[k] *= inv_m;
      pl->b_im[k] *= inv_m;
    }
  }
  return pl;
fail:
  plan_free(pl);
  return NULL;
}

/* The last PLAN_CACHE plans made on this (calling) thread. */
static _Thread_local Plan *plan_cache[PLAN_CACHE];
static _Thread_local int plan_next;

static const Plan *plan_get(int64_t n) {
  for (int i = 0; i < PLAN_CACHE; i++) {
    if (plan_cache[i] && plan_cache[i]->n == n) return plan_cache[i];
  }
  Plan *pl = plan_make(n);
  if (!pl) return NULL;
  plan_free(plan_cache[plan_next]);
  plan_cache[plan_next] = pl;
  plan_next = (plan_next + 1) % PLAN_CACHE;
  return pl;
}

/* ------------------------------------------------------------------------------------------ */
/* Rows */

/* Per-thread row buffer, kept between calls (OpenMP's worker threads persist). */
static _Thread_local double *row_buf;
static _Thread_local size_t row_len;

static double *thread_row(size_t count) {
  if (row_len < count) {
    free(row_buf);
    row_buf = malloc(sizeof(double) * count);
    row_len = row_buf ? count : 0;
  }
  return row_buf;
}

/* One row; sgn = −1 conjugates input and output (the inverse), scale = 1/n for the inverse. */
static void fft_row(const Plan *pl, const float *xr, const float *xi, float *yr, float *yi, double *re, double *im, double sgn, double scale) {
  const int64_t n = pl->n, m = pl->p.m;
  const uint32_t *rev = pl->p.rev;
  if (!pl->bluestein) {
    for (int64_t j = 0; j < n; j++) {
      re[rev[j]] = xr[j];
      im[rev[j]] = sgn * (double)xi[j];
    }
    butterflies(re, im, &pl->p);
    for (int64_t k = 0; k < n; k++) {
      yr[k] = (float)(re[k] * scale);
      yi[k] = (float)(sgn * im[k] * scale);
    }
    return;
  }
  const double *cr = pl->c_re, *ci = pl->c_im, *br = pl->b_re, *bi = pl->b_im;
  /* a_j = x_j·c_j, zero-padded to m, bit-reversed. */
  for (int64_t j = 0; j < n; j++) {
    const double ar = xr[j], ai = sgn * (double)xi[j];
    re[rev[j]] = ar * cr[j] - ai * ci[j];
    im[rev[j]] = ar * ci[j] + ai * cr[j];
  }
  for (int64_t j = n; j < m; j++) {
    re[rev[j]] = 0.0;
    im[rev[j]] = 0.0;
  }
  butterflies(re, im, &pl->p);
  /* conj(A·B/m); its FFT conjugated is the circular convolution a ⊛ b. */
  for (int64_t k = 0; k < m; k++) {
    const double pr = re[k] * br[k] - im[k] * bi[k];
    const double pi = re[k] * bi[k] + im[k] * br[k];
    re[k] = pr;
    im[k] = -pi;
  }
  bit_reverse(re, im, &pl->p);
  butterflies(re, im, &pl->p);
  for (int64_t k = 0; k < n; k++) {
    const double vr = re[k], vi = -im[k];
    const double Xr = cr[k] * vr - ci[k] * vi, Xi = cr[k] * vi + ci[k] * vr;
    yr[k] = (float)(Xr * scale);
    yi[k] = (float)(sgn * Xi * scale);
  }
}

int kf_fft(const float *re, const float *im, float *out_re, float *out_im, int64_t batch, int64_t n, int inverse) {
  const Plan *pl = plan_get(n);
  if (!pl) return -1;
  const int64_t m = pl->p.m;
  const double sgn = inverse ? -1.0 : 1.0, scale = inverse ? 1.0 / (double)n : 1.0;
  const int parallel = batch > 1 && (double)batch * (double)m >= FFT_PAR_MIN;
  const int64_t chunk = m >= FFT_TASK_ELEMS ? 1 : FFT_TASK_ELEMS / m;
  int failed = 0;
#pragma omp parallel for schedule(dynamic, chunk) if (parallel) reduction(| : failed)
  for (int64_t b = 0; b < batch; b++) {
    double *buf = thread_row(2 * (size_t)m);
    if (!buf) {
      failed = 1;
      continue;
    }
    const int64_t o = b * n;
    fft_row(pl, re + o, im + o, out_re + o, out_im + o, buf, buf + m, sgn, scale);
  }
  return failed ? -1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* N-API wrapper */

static int f32_arg(napi_env env, napi_value v, float **data, size_t *length) {
  bool is = false;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  void *p;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is || napi_get_typedarray_info(env, v, &type, length, &p, &ab, &offset) != napi_ok ||
      type != napi_float32_array) {
    napi_throw_type_error(env, NULL, "kernelflow_native: fft arrays must be Float32Arrays");
    return 0;
  }
  *data = p;
  return 1;
}

static int size_arg(napi_env env, napi_value v, int64_t *out) {
  double x;
  if (napi_get_value_double(env, v, &x) != napi_ok || x != floor(x) || x < 1 || x > 1073741824.0) {
    napi_throw_type_error(env, NULL, "kernelflow_native: fft batch and n must be integers in [1, 2^30]");
    return 0;
  }
  *out = (int64_t)x;
  return 1;
}

napi_value kf_napi_fft(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7) {
    napi_throw_type_error(env, NULL, "kernelflow_native: too few arguments");
    return NULL;
  }
  float *re, *im, *out_re, *out_im;
  size_t lre, lim, lor, loi;
  int64_t batch, n;
  bool inverse;
  if (!f32_arg(env, argv[0], &re, &lre) || !f32_arg(env, argv[1], &im, &lim) || !f32_arg(env, argv[2], &out_re, &lor) ||
      !f32_arg(env, argv[3], &out_im, &loi) || !size_arg(env, argv[4], &batch) || !size_arg(env, argv[5], &n))
    return NULL;
  if (napi_get_value_bool(env, argv[6], &inverse) != napi_ok) {
    napi_throw_type_error(env, NULL, "kernelflow_native: fft's inverse must be a boolean");
    return NULL;
  }
  const double size = (double)batch * (double)n;
  if ((double)lre != size || lim != lre || lor != lre || loi != lre) {
    napi_throw_range_error(env, NULL, "kernelflow_native: fft array lengths must all be batch·n");
    return NULL;
  }
  /* Outputs must not overlap the inputs (rows are read and written by different threads). */
  const char *in0 = (const char *)re, *in1 = (const char *)im, *o0 = (const char *)out_re, *o1 = (const char *)out_im;
  const size_t bytes = lre * sizeof(float);
#define KF_OVERLAP(a, b) ((a) < (b) + bytes && (b) < (a) + bytes)
  if (KF_OVERLAP(o0, in0) || KF_OVERLAP(o0, in1) || KF_OVERLAP(o1, in0) || KF_OVERLAP(o1, in1) || KF_OVERLAP(o0, o1)) {
    napi_throw_range_error(env, NULL, "kernelflow_native: fft outputs must not overlap the inputs or each other");
    return NULL;
  }
#undef KF_OVERLAP
  advise_huge_pages(out_re, bytes);
  advise_huge_pages(out_im, bytes);
  if (kf_fft(re, im, out_re, out_im, batch, n, inverse)) {
    napi_throw_range_error(env, NULL, "kernelflow_native: fft out of memory");
    return NULL;
  }
  return NULL;
}
