"""Peer timings for bench/kernels.ts: the same formulas in float32 numpy, written the straightforward way (full N×N
passes, one array op at a time), as a neural-tangents user without JAX would write them.

  kernel.nn: NNGP + NTK of dense(1.5, 0.05) → relu, three times, → dense(1.5, 0.05), on x [N, d] (x2 = x1).
  kernel.rbf: exp(−½‖x − y‖²/ℓ²) with ‖x‖² + ‖y‖² − 2xyᵀ clamped at 0.

Usage: python3 bench/peers/kernels.py --sizes 1024,2048,4096 --d 50 [--reps 2]
Prints one JSON object: {"numpy": ver, "blas": str, "rows": [{"op", "n", "seconds"}, ...], "matmul_gflops": float}.
"""
import argparse
import json
import time

import numpy as np

W2, B2, DEPTH = 1.5 ** 2, 0.05 ** 2, 3


def nn_kernel(x):
    n, d = x.shape
    k = (x @ x.T) / np.float32(d)
    q = (x * x).sum(1) / np.float32(d)
    ntk = np.zeros_like(k)
    for _ in range(DEPTH):
        k = W2 * k + B2
        q = W2 * q + B2
        ntk = k + W2 * ntk
        sq = np.sqrt(q)
        qq = sq[:, None] * sq[None, :]
        s = np.sqrt(np.maximum(qq - k, 0)) * np.sqrt(np.maximum(qq + k, 0))
        np.fill_diagonal(s, 0)
        theta = np.arctan2(s, k)
        dot = (np.float32(np.pi) - theta) / np.float32(2 * np.pi)
        k = s / np.float32(2 * np.pi) + dot * k
        ntk = ntk * dot
        q = q / 2
    k = W2 * k + B2
    ntk = k + W2 * ntk
    return k, ntk


def rbf(x, ls=1.0):
    a = (x - x.mean(0)) / np.float32(ls)
    sq = (a * a).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * (a @ a.T), 0)
    np.fill_diagonal(d2, 0)
    return np.exp(-0.5 * d2)


def best(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1024,2048,4096")
    ap.add_argument("--d", type=int, default=50)
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args()
    rows = []
    for n in [int(s) for s in args.sizes.split(",") if s]:
        x = np.random.default_rng(0).standard_normal((n, args.d)).astype(np.float32)
        reps = args.reps if n <= 4096 else 1
        rows.append({"op": "kernel.nn", "n": n, "seconds": best(lambda: nn_kernel(x), reps)})
        rows.append({"op": "kernel.rbf", "n": n, "seconds": best(lambda: rbf(x), reps)})
    a = np.random.default_rng(1).standard_normal((1024, 1024)).astype(np.float32)
    mm = best(lambda: a @ a, 3)
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except Exception:  # older numpy
        blas = "unknown"
    print(json.dumps({"numpy": np.__version__, "blas": blas, "rows": rows, "matmul_gflops": 2 * 1024 ** 3 / mm / 1e9}))


if __name__ == "__main__":
    main()
