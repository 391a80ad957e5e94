/* Fused attention kernels (attention.c): neighbourhood attention over precomputed windows, and
 * softmax attention in query blocks × key tiles (online softmax), so no N×N matrix ever exists.
 * Row-major float32; the batch axis is B·H. Each kernel returns 0, or -1 when it could not
 * allocate. The N-API wrappers check the arguments and are registered by kernelflow_native.c. */
#ifndef KERNELFLOW_ATTENTION_H
#define KERNELFLOW_ATTENTION_H
#include <node_api.h>
#include <stdint.h>

/* out[b, i] = Σ_t softmax_t(scale·q[b,i]·k[b, index[i,t]]) v[b, index[i,t]] over the kw slots of
 * query i whose valid[i,t] ≠ 0 (valid NULL: all). A query with no valid slot gives 0.
 * q, k [bh, n, d], v [bh, n, dv], index/valid [n, kw], out [bh, n, dv]. */
int kf_neighborhood(const float *q, const float *k, const float *v, const int32_t *index, const float *valid, float *out,
                    int64_t bh, int64_t n, int64_t d, int64_t dv, int64_t kw, float scale);

/* out = softmax_row(scale·q·kᵀ) v per batch, causal: query i sees key j iff j ≤ i + nk − nq
 * (bottom-right aligned); a query with no allowed key gives 0.
 * q [bh, nq, d], k [bh, nk, d], v [bh, nk, dv], out [bh, nq, dv]. */
int kf_flash_attention(const float *q, const float *k, const float *v, float *out, int64_t bh, int64_t nq, int64_t nk, int64_t d,
                       int64_t dv, float scale, int causal);

/* neighborhood(q, k, v, index: Int32Array, valid: Float32Array | null, out, bh, n, d, dv, kw, scale) */
napi_value kf_napi_neighborhood(napi_env env, napi_callback_info info);
/* flashAttention(q, k, v, out, bh, nq, nk, d, dv, scale, causal: boolean) */
napi_value kf_napi_flash_attention(napi_env env, napi_callback_info info);

#endif
