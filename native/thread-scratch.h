/*
 * Per-thread work buffers kept between calls. OpenMP's worker threads persist, so a buffer held in
 * a _Thread_local pointer is reused by every later call on that thread: fresh memory costs more in
 * first-touch page faults than the kernels' own work on the virtual machines measured.
 */
#ifndef KERNELFLOW_THREAD_SCRATCH_H
#define KERNELFLOW_THREAD_SCRATCH_H

#include <stdlib.h>

/* At least `bytes` bytes in *buf (grown, never shrunk); NULL when out of memory. */
static inline void *thread_scratch(void **buf, size_t *len, size_t bytes) {
  if (*len < bytes) {
    free(*buf);
    *buf = malloc(bytes);
    *len = *buf ? bytes : 0;
  }
  return *buf;
}

#endif
