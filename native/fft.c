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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "fastmath.h"
#include "page-advice.h"
#include "napi-args.h"
#include "thread-scratch.h"

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

/* The first butterfly stage (pairs, twiddle 1) over m bit-reversed points. */
static inline void first_stage(double *restrict re, double *restrict im, int64_t m) {
  for (int64_t s = 0; s + 1 < m; s += 2) {
    const double ar = re[s], ai = im[s], br = re[s + 1], bi = im[s + 1];
    re[s] = ar + br;
    im[s] = ai + bi;
    re[s + 1] = ar - br;
    im[s + 1] = ai - bi;
  }
}

/* One decimation-in-time stage of half-width h over m points (twiddles wr, wi of that stage). */
static inline void dit_stage(double *restrict re, double *restrict im, int64_t m, int64_t h, const double *restrict wr, const double *restrict wi) {
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

/* The log2 m butterfly stages over data already in bit-reversed order; natural order out. */
CLONES static void butterflies(double *restrict re, double *restrict im, const Pow2 *p) {
  const int64_t m = p->m;
  first_stage(re, im, m);
  for (int64_t h = 2; h < m; h <<= 1) {
    const double *restrict wr = p->tw_re + h - 1, *restrict wi = p->tw_im + h - 1;
    dit_stage(re, im, m, h, wr, wi);
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
static _Thread_local void *row_buf;
static _Thread_local size_t row_bytes;

static double *thread_row(size_t count) { return thread_scratch(&row_buf, &row_bytes, sizeof(double) * count); }

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
/* Kernelised attention with a Toeplitz (relative-position) bias, the whole feature loop fused
 * (kf_rpe_fft in fft.h).
 *
 * For head b (head index b mod heads) and value column d ≤ Dv (column Dv is the constant 1 of
 * the denominator) one task computes acc[i] = Σ_l φq[i,l]·(C·x_l)[i], x_l[j] = φk[j,l]·[V,1][j,d],
 * features in increasing l, so each output element has one fixed summation order whatever the
 * number of threads. C is the Toeplitz matrix of c, embedded in a circulant of length
 * L = 2^⌈log2(2N−1)⌉ whose real column's spectrum (divided by L) is computed once per head. Since
 * C is real, two features go through one complex FFT: z = x_l + i·x_{l+1}, C·z = C·x_l + i·C·x_{l+1}.
 * The forward transform is decimation in frequency (natural order in, bit-reversed out; its first
 * stage folded into the load, since z is zero past N ≤ L/2), the product with the spectrum (also
 * bit-reversed) is taken in place, and the inverse is conj(DIT(conj ·)) (bit-reversed in, natural
 * out; its last stage only for the first half, the N outputs needed): no permutation pass. Double
 * precision throughout; the numerators are rounded to float32 once, then divided by the double
 * denominator. φ arrays are transposed to [bh, m, N] first; all scratch (per calling thread, and
 * per OpenMP worker) is kept between calls. */

/* Task work (complex values through the transforms) below which a call stays on one thread. */
#define RPE_PAR_MIN (1 << 16)

/* Decimation-in-frequency stages h = h0, h0/2, …, 1 (twiddles exp(−πi·j/h) at offset h − 1). */
CLONES static void dif_stages(double *restrict re, double *restrict im, const Pow2 *p, int64_t h0) {
  const int64_t m = p->m;
  for (int64_t h = h0; h >= 2; h >>= 1) {
    const double *restrict wr = p->tw_re + h - 1, *restrict wi = p->tw_im + h - 1;
    for (int64_t s = 0; s < m; s += 2 * h) {
      double *restrict xr = re + s, *restrict xi = im + s, *restrict yr = re + s + h, *restrict yi = im + s + h;
#pragma omp simd
      for (int64_t j = 0; j < h; j++) {
        const double dr = xr[j] - yr[j], di = xi[j] - yi[j];
        xr[j] += yr[j];
        xi[j] += yi[j];
        yr[j] = dr * wr[j] - di * wi[j];
        yi[j] = dr * wi[j] + di * wr[j];
      }
    }
  }
  if (h0 >= 1) first_stage(re, im, m);
}

/* Decimation-in-time stages (bit-reversed in, natural out); with m ≥ 4 the last stage only
 * writes the first half [0, m/2). */
CLONES static void dit_half(double *restrict re, double *restrict im, const Pow2 *p) {
  const int64_t m = p->m;
  first_stage(re, im, m);
  for (int64_t h = 2; h < m; h <<= 1) {
    const double *restrict wr = p->tw_re + h - 1, *restrict wi = p->tw_im + h - 1;
    if (2 * h == m) {
      double *restrict xr = re, *restrict xi = im, *restrict yr = re + h, *restrict yi = im + h;
#pragma omp simd
      for (int64_t j = 0; j < h; j++) {
        xr[j] += wr[j] * yr[j] - wi[j] * yi[j];
        xi[j] += wr[j] * yi[j] + wi[j] * yr[j];
      }
      break;
    }
    dit_stage(re, im, m, h, wr, wi);
  }
}

/* One (head, column) task: acc[i] = Σ_l fq[l][i]·(C·(fk[l] ⊙ xv))[i], l in increasing order.
 * fq, fk: this head's transposed features [m][n]; cf: the head's spectrum / L (bit-reversed);
 * zr, zi: L doubles each. */
CLONES static void rpe_task(const Pow2 *p, const float *fq, const float *fk, const double *xv, const double *cf_re, const double *cf_im, int64_t n, int64_t m_feat,
                            double *restrict acc, double *restrict zr, double *restrict zi) {
  const int64_t L = p->m, h = L / 2;
  for (int64_t i = 0; i < n; i++) acc[i] = 0.0;
  for (int64_t l = 0; l < m_feat; l += 2) {
    const int two = l + 1 < m_feat;
    const float *restrict ka = fk + l * n, *restrict kb = fk + (l + (two ? 1 : 0)) * n;
    const double sb = two ? 1.0 : 0.0;
    if (L == 1) {
      zr[0] = (double)ka[0] * xv[0];
      zi[0] = sb * (double)kb[0] * xv[0];
    } else {
      /* First DIF stage on z = x_a + i·x_b, zero past n (n ≤ L/2): z[j] = x_j, z[j+h] = x_j·w_j. */
      const double *restrict wr = p->tw_re + h - 1, *restrict wi = p->tw_im + h - 1;
#pragma omp simd
      for (int64_t j = 0; j < n; j++) {
        const double a = (double)ka[j] * xv[j], b = sb * (double)kb[j] * xv[j];
        zr[j] = a;
        zi[j] = b;
        zr[j + h] = a * wr[j] - b * wi[j];
        zi[j + h] = a * wi[j] + b * wr[j];
      }
      for (int64_t j = n; j < h; j++) {
        zr[j] = zi[j] = 0.0;
        zr[j + h] = zi[j + h] = 0.0;
      }
      dif_stages(zr, zi, p, h / 2);
    }
    /* conj(Z·cf), then DIT: conj of the result is C·z. */
#pragma omp simd
    for (int64_t k = 0; k < L; k++) {
      const double pr = zr[k] * cf_re[k] - zi[k] * cf_im[k];
      const double pi = zr[k] * cf_im[k] + zi[k] * cf_re[k];
      zr[k] = pr;
      zi[k] = -pi;
    }
    dit_half(zr, zi, p);
    const float *restrict qa = fq + l * n;
    if (two) {
      const float *restrict qb = fq + (l + 1) * n;
#pragma omp simd
      for (int64_t i = 0; i < n; i++) {
        acc[i] += (double)qa[i] * zr[i];
        acc[i] -= (double)qb[i] * zi[i];
      }
    } else {
#pragma omp simd
      for (int64_t i = 0; i < n; i++) acc[i] += (double)qa[i] * zr[i];
    }
  }
}

/* Grows *buf to at least `bytes` (contents lost); huge-page advice on fresh memory. */
/* thread_scratch, with the (large, calling-thread) buffers advised onto huge pages when grown. */
static void *rpe_grow(void **buf, size_t *len, size_t bytes) {
  const size_t had = *len;
  void *p = thread_scratch(buf, len, bytes);
  if (p && *len != had) advise_huge_pages(p, bytes);
  return p;
}

/* Calling thread's scratch (the workers read it), and each worker's own. */
static _Thread_local void *rpe_feat, *rpe_spec, *rpe_den, *rpe_work;
static _Thread_local size_t rpe_feat_len, rpe_spec_len, rpe_den_len, rpe_work_len;

int kf_rpe_fft(const float *fq, const float *fk, const float *v, const float *cexp, float *out, int64_t bh, int64_t heads, int64_t n, int64_t m_feat, int64_t dv,
               int causal, double eps_term) {
  int64_t L = 1;
  while (L < 2 * n - 1) L <<= 1;
  const Plan *pl = plan_get(L); /* a power of two: radix-2 only */
  if (!pl) return -1;
  const Pow2 *p = &pl->p;
  const size_t feat = (size_t)bh * (size_t)m_feat * (size_t)n;
  float *fqT = rpe_grow(&rpe_feat, &rpe_feat_len, 2 * feat * sizeof(float));
  double *spec = rpe_grow(&rpe_spec, &rpe_spec_len, 2 * (size_t)heads * (size_t)L * sizeof(double));
  double *den = rpe_grow(&rpe_den, &rpe_den_len, (size_t)bh * (size_t)n * sizeof(double));
  if (!fqT || !spec || !den) return -1;
  float *fkT = fqT + feat;
  const int64_t tasks = bh * (dv + 1);
  const int parallel = tasks > 1 && (double)tasks * (double)((m_feat + 1) / 2) * (double)L >= RPE_PAR_MIN;
  int failed = 0;
#pragma omp parallel if (parallel) reduction(| : failed)
  {
    /* Transposes [bh, n, m] → [bh, m, n], 256 rows a block. */
    const int64_t nb = (n + 255) / 256;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < bh * nb; t++) {
      const int64_t b = t / nb, j0 = (t % nb) * 256, j1 = j0 + 256 < n ? j0 + 256 : n;
      const float *sq = fq + b * n * m_feat, *sk = fk + b * n * m_feat;
      float *dq = fqT + b * n * m_feat, *dk = fkT + b * n * m_feat;
      for (int64_t l = 0; l < m_feat; l++)
        for (int64_t j = j0; j < j1; j++) {
          dq[l * n + j] = sq[j * m_feat + l];
          dk[l * n + j] = sk[j * m_feat + l];
        }
    }
    /* Spectrum of each head's circulant column, divided by L, bit-reversed (DIF). */
#pragma omp for schedule(static)
    for (int64_t hd = 0; hd < heads; hd++) {
      double *cr = spec + 2 * hd * L, *ci = cr + L;
      const float *c = cexp + hd * (2 * n - 1) + (n - 1); /* c[t] = exp(b_t − max b), t ∈ (−n, n) */
      for (int64_t k = 0; k < L; k++) cr[k] = ci[k] = 0.0;
      for (int64_t t = 0; t < n; t++) cr[t] = c[t];
      if (!causal)
        for (int64_t t = 1; t < n; t++) cr[L - t] = c[-t];
      if (L > 1) dif_stages(cr, ci, p, L / 2);
      const double inv = 1.0 / (double)L;
      for (int64_t k = 0; k < L; k++) {
        cr[k] *= inv;
        ci[k] *= inv;
      }
    }
    double *buf = rpe_grow(&rpe_work, &rpe_work_len, (2 * (size_t)L + 2 * (size_t)n) * sizeof(double));
    if (!buf) failed = 1;
#pragma omp barrier
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < tasks; t++) {
      if (!buf) continue;
      const int64_t b = t / (dv + 1), d = t % (dv + 1), hd = b % heads;
      double *zr = buf, *zi = buf + L, *xv = buf + 2 * L, *acc = xv + n;
      const float *vb = v + b * n * dv;
      for (int64_t j = 0; j < n; j++) xv[j] = d < dv ? (double)vb[j * dv + d] : 1.0;
      const double *cr = spec + 2 * hd * L;
      rpe_task(p, fqT + b * n * m_feat, fkT + b * n * m_feat, xv, cr, cr + L, n, m_feat, acc, zr, zi);
      if (d < dv) {
        float *o = out + b * n * dv + d;
        for (int64_t i = 0; i < n; i++) o[i * dv] = (float)acc[i];
      } else {
        for (int64_t i = 0; i < n; i++) den[b * n + i] = acc[i];
      }
    }
    /* out = num / (den + eps_term); a zero denominator divides by 1 (safeDiv). */
#pragma omp for schedule(static)
    for (int64_t r = 0; r < bh * n; r++) {
      const double dd = den[r] + eps_term, s = dd == 0.0 ? 1.0 : dd;
      float *o = out + r * dv;
      for (int64_t c = 0; c < dv; c++) o[c] = (float)((double)o[c] / s);
    }
  }
  return failed ? -1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* N-API wrapper */

napi_value kf_napi_fft(napi_env env, napi_callback_info info) {
  NAPI_ARGS(7);
  float *re, *im, *out_re, *out_im;
  size_t lre, lim, lor, loi;
  int64_t batch, n;
  bool inverse;
  if (!f32_arg(env, argv[0], &re, &lre, "fft") || !f32_arg(env, argv[1], &im, &lim, "fft") || !f32_out_arg(env, argv[2], &out_re, &lor, "fft") ||
      !f32_out_arg(env, argv[3], &out_im, &loi, "fft") || !size_arg(env, argv[4], &batch, 1073741824.0, "fft") || !size_arg(env, argv[5], &n, 1073741824.0, "fft"))
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
  if (kf_fft(re, im, out_re, out_im, batch, n, inverse)) {
    napi_throw_range_error(env, NULL, "kernelflow_native: fft out of memory");
    return NULL;
  }
  return NULL;
}

napi_value kf_napi_rpe_fft(napi_env env, napi_callback_info info) {
  NAPI_ARGS(12);
  float *fq, *fk, *v, *cexp, *out;
  size_t lq, lk, lv, lc, lo;
  int64_t bh, heads, n, m, dv;
  bool causal;
  double eps_term;
  if (!f32_arg(env, argv[0], &fq, &lq, "rpeFft") || !f32_arg(env, argv[1], &fk, &lk, "rpeFft") || !f32_arg(env, argv[2], &v, &lv, "rpeFft") || !f32_arg(env, argv[3], &cexp, &lc, "rpeFft") ||
      !f32_out_arg(env, argv[4], &out, &lo, "rpeFft") || !size_arg(env, argv[5], &bh, 1073741824.0, "rpeFft") || !size_arg(env, argv[6], &heads, 1073741824.0, "rpeFft") || !size_arg(env, argv[7], &n, 1073741824.0, "rpeFft") ||
      !size_arg(env, argv[8], &m, 1073741824.0, "rpeFft") || !size_arg(env, argv[9], &dv, 1073741824.0, "rpeFft"))
    return NULL;
  if (napi_get_value_bool(env, argv[10], &causal) != napi_ok || napi_get_value_double(env, argv[11], &eps_term) != napi_ok) {
    napi_throw_type_error(env, NULL, "kernelflow_native: rpeFft's causal must be a boolean and epsTerm a number");
    return NULL;
  }
  if (bh % heads != 0 || (double)lq != (double)bh * n * m || lk != lq || (double)lv != (double)bh * n * dv || lo != lv || (double)lc != (double)heads * (2 * n - 1)) {
    napi_throw_range_error(env, NULL, "kernelflow_native: rpeFft needs fq, fk [bh·n·m], v, out [bh·n·dv], cexp [heads·(2n−1)], heads dividing bh");
    return NULL;
  }
  const char *o0 = (const char *)out, *o1 = (const char *)(out + lo);
  const char *ins[4][2] = {{(const char *)fq, (const char *)(fq + lq)}, {(const char *)fk, (const char *)(fk + lk)}, {(const char *)v, (const char *)(v + lv)},
                           {(const char *)cexp, (const char *)(cexp + lc)}};
  for (int i = 0; i < 4; i++) {
    if (o0 < ins[i][1] && ins[i][0] < o1) {
      napi_throw_range_error(env, NULL, "kernelflow_native: rpeFft's output must not overlap its inputs");
      return NULL;
    }
  }
  if (kf_rpe_fft(fq, fk, v, cexp, out, bh, heads, n, m, dv, causal, eps_term)) {
    napi_throw_range_error(env, NULL, "kernelflow_native: rpeFft out of memory");
    return NULL;
  }
  return NULL;
}
