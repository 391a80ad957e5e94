"""Peer timings for bench/linalg.ts: numpy/scipy (OpenBLAS) Cholesky + two triangular solves, and eigh.

Usage: python3 bench/peers/linalg.py --sizes 1024,2048 --rhs 256 [--eigh 1024,2048]
Prints one JSON object: {"numpy": ver, "scipy": ver|null, "blas": str, "rows": [...]}.
Same matrices as the TypeScript side in distribution (RBF-like SPD, fixed seed), not bit-identical.
"""
import argparse
import json
import time

import numpy as np

try:
    import scipy
    import scipy.linalg as sla
except ImportError:  # numpy alone: cholesky is there, triangular solves are not
    scipy = None
    sla = None


def spd(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 8))
    sq = (x * x).sum(1)
    k = np.exp(-(sq[:, None] + sq[None, :] - 2 * x @ x.T) / 16.0)
    return (k + 1e-2 * np.eye(n)).astype(dtype)


def best(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1024,2048")
    ap.add_argument("--rhs", type=int, default=256)
    ap.add_argument("--eigh", default="")
    args = ap.parse_args()
    rows = []
    for n in [int(s) for s in args.sizes.split(",") if s]:
        for dtype in (np.float32, np.float64):
            a = spd(n, dtype)
            b = np.random.default_rng(1).standard_normal((n, args.rhs)).astype(dtype)
            reps = 3 if n <= 2048 else 1

            def chol_solve():
                if sla is not None:
                    l = sla.cholesky(a, lower=True, check_finite=False)
                    y = sla.solve_triangular(l, b, lower=True, check_finite=False)
                    return sla.solve_triangular(l, y, lower=True, trans="T", check_finite=False)
                l = np.linalg.cholesky(a)
                return np.linalg.solve(l.T, np.linalg.solve(l, b))

            t = best(chol_solve, reps)
            c = a.astype(dtype)
            tm = best(lambda: c @ c, reps)
            rows.append({"op": "cholesky+2trsm", "n": n, "rhs": args.rhs, "dtype": np.dtype(dtype).name,
                         "seconds": t, "matmul_seconds": tm})
    for n in [int(s) for s in args.eigh.split(",") if s]:
        for dtype in (np.float32, np.float64):
            a = spd(n, dtype)
            t = best(lambda: np.linalg.eigh(a), 2)
            rows.append({"op": "eigh", "n": n, "dtype": np.dtype(dtype).name, "seconds": t})
    cfg = np.show_config(mode="dicts") if hasattr(np, "show_config") else {}
    blas = cfg.get("Build Dependencies", {}).get("blas", {}) if isinstance(cfg, dict) else {}
    print(json.dumps({"numpy": np.__version__, "scipy": scipy.__version__ if scipy else None,
                      "blas": f"{blas.get('name', '?')} {blas.get('version', '')}".strip(), "rows": rows}))


if __name__ == "__main__":
    main()
