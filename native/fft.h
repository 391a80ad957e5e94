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

/* fft(re, im, outRe, outIm, batch, n, inverse: boolean): all Float32Arrays of batch·n elements. */
napi_value kf_napi_fft(napi_env env, napi_callback_info info);

#endif
