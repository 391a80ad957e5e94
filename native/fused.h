/* Fused kernels (fused.c): one BLAS Gram matrix, then a whole elementwise map per output entry in
 * one pass, instead of one full-size temporary per tfjs op. No N-API here: kernelflow_native.c
 * checks the arguments and calls these. Each returns 0, or -1 when it could not allocate. */
#ifndef KERNELFLOW_FUSED_H
#define KERNELFLOW_FUSED_H
#include <stdint.h>

/* Stationary kernels of d² = ‖a_i − b_j‖² (b NULL: b = a, symmetric, d² = 0 on the diagonal). */
enum { KF_RBF, KF_MATERN12, KF_MATERN32, KF_MATERN52, KF_STATIONARY_COUNT };
int kf_stationary(int kind, const float *a, const float *b, float *out, int64_t n1, int64_t n2, int64_t d, float variance);

/* The NNGP/NTK recursion of a dense network: steps are records of KF_STEP doubles
 * {code, p0, p1, p2, p3}:
 *   KF_DENSE     {w², b², nIn (< 0: "ntk" parameterisation), bias (0/1)}
 *   KF_ABRELU    {a, b}         φ = b·max(x, 0) + a·min(x, 0)
 *   KF_ERF       {a, b, c}      φ = a·erf(b·x) + c
 *   KF_LAYERNORM {eps}
 * K (n1×n2) receives the NNGP, T (n1×n2, or NULL when the NTK is not wanted) the NTK. */
enum { KF_DENSE, KF_ABRELU, KF_ERF, KF_LAYERNORM, KF_STEP_COUNT };
#define KF_STEP 5
int kf_nn_dense(const float *x1, const float *x2, float *K, float *T, int64_t n1, int64_t n2, int64_t d, const double *steps, int64_t nsteps);

#endif
