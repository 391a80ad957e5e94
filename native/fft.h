/* Batched complex FFT over the innermost axis (fft.c): the tfjs `FFT` / `IFFT` kernels of the
 * native backend. Complex values as the cpu backend stores complex64: separate real and imaginary
 * float32 arrays [batch, n]. Arithmetic in double inside. Registered by kernelflow_native.c. */
#ifndef KERNELFLOW_FFT_H
#define KERNELFLOW_FFT_H
#include <node_api.h>
#include <stdint.h>

/* out[b, k] = Σ_j x[b, j]·exp(∓2πi·jk/n) (− forward; + inverse, then scaled by 1/n) for every row
 * b < batch; any n ≥ 1 (radix-2 for powers of two, Bluestein otherwise). The outputs must not
 * overlap the inputs. Returns 0, or -1 when it could not allocate. */
int kf_fft(const float *re, const float *im, float *out_re, float *out_im, int64_t batch, int64_t n, int inverse);

/* Kernelised attention with a Toeplitz bias, the whole feature loop (fft.c): for every b < bh
 * (head b mod heads), out[b, i, :] = num_i / (den_i + eps_term) (den_i + eps_term = 0: num_i)
 * with [num_i, den_i] = Σ_l fq[b,i,l]·Σ_j C[i,j]·fk[b,j,l]·[v[b,j,:], 1], C[i,j] = cexp[head, (i−j) + n − 1]
 * (0 for j > i when causal). fq, fk [bh, n, m], v and out [bh, n, dv], cexp [heads, 2n − 1]; by
 * circulant embedding and double-precision FFTs of length 2^⌈log2(2n−1)⌉. Results do not depend on
 * the thread count. Returns 0, or -1 when it could not allocate. */
int kf_rpe_fft(const float *fq, const float *fk, const float *v, const float *cexp, float *out, int64_t bh, int64_t heads, int64_t n, int64_t m, int64_t dv,
               int causal, double eps_term);

/* rpeFft(fq, fk, v, cexp, out, bh, heads, n, m, dv, causal: boolean, epsTerm: number). */
napi_value kf_napi_rpe_fft(napi_env env, napi_callback_info info);

/* fft(re, im, outRe, outIm, batch, n, inverse: boolean): all Float32Arrays of batch·n elements. */
napi_value kf_napi_fft(napi_env env, napi_callback_info info);

#endif
