/*
 * Argument checks shared by the addon's kernel files that export their own N-API wrappers
 * (attention.c, fft.c): a bad call throws a TypeError naming the function instead of touching
 * memory it should not.
 */
#ifndef KERNELFLOW_NAPI_ARGS_H
#define KERNELFLOW_NAPI_ARGS_H

#include <math.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>

#include "page-advice.h"

/* Declares argv[count] holding the call's arguments; throws and returns NULL when fewer were given. */
#define NAPI_ARGS(count)                                                                     \
  size_t argc = (count);                                                                     \
  napi_value argv[(count)];                                                                  \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < (count)) { \
    napi_throw_type_error(env, NULL, "kernelflow_native: too few arguments");               \
    return NULL;                                                                             \
  }

/* A Float32Array's data and length; `what` names the function in the error. */
static inline int f32_arg(napi_env env, napi_value v, float **data, size_t *length, const char *what) {
  bool is = false;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  void *p;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is || napi_get_typedarray_info(env, v, &type, length, &p, &ab, &offset) != napi_ok ||
      type != napi_float32_array) {
    char msg[128];
    snprintf(msg, sizeof msg, "kernelflow_native: %s arrays must be Float32Arrays", what);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  *data = p;
  return 1;
}

/* An output Float32Array: as f32_arg, then advised onto huge pages before its first write
 * (page-advice.h), as every kernel output is. */
static inline int f32_out_arg(napi_env env, napi_value v, float **data, size_t *length, const char *what) {
  if (!f32_arg(env, v, data, length, what)) return 0;
  advise_huge_pages(*data, *length * sizeof(float));
  return 1;
}

/* An integer size in [1, max]. */
static inline int size_arg(napi_env env, napi_value v, int64_t *out, double max, const char *what) {
  double x;
  if (napi_get_value_double(env, v, &x) != napi_ok || x != floor(x) || x < 1 || x > max) {
    char msg[128];
    snprintf(msg, sizeof msg, "kernelflow_native: %s sizes must be integers in [1, %.0f]", what, max);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  *out = (int64_t)x;
  return 1;
}

#endif
