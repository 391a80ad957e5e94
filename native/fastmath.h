/*
 * Branch-free float32 math that vectorises (loops under `#pragma omp simd` over these compile to
 * SIMD code, where libm's expf/atan2f stay scalar calls), shared by the elementwise kernels
 * (kernelflow_native.c) and the fused kernels (fused.c). CLONES compiles a function for AVX-512,
 * AVX2 and baseline x86-64 and picks one at load time.
 */
#ifndef KERNELFLOW_FASTMATH_H
#define KERNELFLOW_FASTMATH_H
#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

/* A vectorisable expf (Cephes-style: n = round(x/ln2), r = x − n·ln2 in two parts, degree-6
 * polynomial, 2^n applied as two halves so that overflow gives inf and underflow gives
 * denormals/0 as libm does). Branch-free, so loops over it vectorise; about 1 ulp. NaN in → NaN out. */
typedef union { float f; int32_t i; } F32Bits;

static inline float exp_fast(float x) {
  const float xc = x > 89.0f ? 89.0f : (x < -104.0f ? -104.0f : x);
  const float xs = x == x ? xc : 0.0f;
  const float shifter = 12582912.0f; /* 1.5·2^23: adding and subtracting it rounds to an integer */
  const float n = (xs * 1.44269504088896341f + shifter) - shifter;
  const float r = (xs - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t ni = (int32_t)n, n1 = ni >> 1, n2 = ni - n1;
  F32Bits s1, s2;
  s1.i = (n1 + 127) << 23;
  s2.i = (n2 + 127) << 23;
  const float y = p * s1.f * s2.f;
  return x == x ? y : x;
}
/* atan2 (Cephes atanf on [0, 1] after reducing by |y| <-> |x| and tan(pi/8), quadrants restored by
 * selects): about 2e-7 relative error, so theta near 0 keeps its relative accuracy. atan2(0, 0) = 0;
 * x = -0 counts as +0 (libm gives pi for atan2(+0, -0): irrelevant here, where y = 0 forces the
 * result's weight to 0). NaN in -> NaN out. */
static inline float atan2_fast(float y, float x) {
  const float ax = x < 0.0f ? -x : x, ay = y < 0.0f ? -y : y;
  const float mx = ax > ay ? ax : ay, mn = ax > ay ? ay : ax;
  /* Both divisions always run (no division under a condition), so that the compiler can
   * if-convert and vectorise loops over this without -fno-trapping-math. */
  float t = mn / (mx > 0.0f ? mx : 1.0f); /* in [0, 1] */
  const int big = t > 0.41421356237f;     /* tan(pi/8): reduce to (t - 1)/(t + 1), plus pi/4 */
  const float tr = (t - 1.0f) / (t + 1.0f);
  t = big ? tr : t;
  const float z = t * t;
  float r = (((8.05374449538e-2f * z - 1.38776856032e-1f) * z + 1.99777106478e-1f) * z - 3.33329491539e-1f) * z * t + t;
  r = big ? r + 0.78539816339f : r;
  r = ay > ax ? 1.57079632679f - r : r;
  r = x < 0.0f ? 3.14159265359f - r : r;
  r = y < 0.0f ? -r : r;
  return ((x != x) | (y != y)) ? x + y : r; /* | not ||: no branch */
}

#endif
