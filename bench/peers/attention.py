"""Peer timings for bench/attention.ts: numpy float32 doing the same work as the attention operators.

Usage: python3 bench/peers/attention.py --sizes 1024,4096,16384 [--heads 4] [--dim 64] [--kernel 7]
       [--features 256] [--reps 2] [--softmax-max 8192] [--rpe-features 2] [--direct-max 4096]
Prints one JSON object: {"numpy": ver, "blas": str, "rows": [{"op", "n", "seconds"}...]}.
Same shapes and algorithms (dense softmax with a row max; neighbourhood by gathering the k-key
windows; linear attention φ(K)ᵀV then φ(Q)·; FAVOR+ with a max shift; kernelized RPE attention as
operators/attention/rpe-fft.ts does it: the Toeplitz products C·(φ(K)_l ⊙ [V,1]) per feature l by a
circulant embedding of length L = 2^⌈log₂(2N−1)⌉ and np.fft.rfft/irfft, and the direct form
(φ(Q)φ(K)ᵀ ⊙ C)·[V,1]), random inputs, one thread of work as numpy/OpenBLAS chooses.
"""
import argparse
import json
import time

import numpy as np


def best(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def softmax_attn(q, k, v):
    s = q @ np.swapaxes(k, -1, -2) * (1.0 / np.sqrt(q.shape[-1]))
    s -= s.max(-1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(-1, keepdims=True)
    return s @ v


def windows(n, k):
    left, right = k // 2, k // 2 - (1 - k % 2)
    c = np.clip(np.arange(n), left, n - 1 - right)
    return (c - left)[:, None] + np.arange(k)[None, :]


def neighborhood_attn(q, k, v, idx):
    kg = k[:, :, idx]  # [B,H,N,k,D]
    logits = np.einsum("bhnd,bhnkd->bhnk", q, kg) * (1.0 / np.sqrt(q.shape[-1]))
    logits -= logits.max(-1, keepdims=True)
    w = np.exp(logits)
    w /= w.sum(-1, keepdims=True)
    return np.einsum("bhnk,bhnkd->bhnd", w, v[:, :, idx])


def elu1(x):
    return np.where(x > 0, x + 1, np.exp(np.minimum(x, 0)))


def linear_attn(fq, fk, v):
    s = np.swapaxes(fk, -1, -2) @ v
    z = fk.sum(-2)
    return (fq @ s) / ((fq * z[:, :, None, :]).sum(-1, keepdims=True) + 1e-6)


def favor(x, w, query):
    d = x.shape[-1]
    xs = x * d ** -0.25
    h = xs @ w.T - 0.5 * (xs * xs).sum(-1, keepdims=True)
    h -= h.max(-1, keepdims=True) if query else h.max(axis=(-2, -1), keepdims=True)
    return np.exp(h) / np.sqrt(w.shape[0])


def rpe_consts(rpe, n):
    """c = exp(b − max b) per head: the circulant first column [c_0 … c_{N−1}, 0…, c_{−(N−1)} … c_{−1}]."""
    c = np.exp(rpe - rpe.max())  # [H, 2N−1], c[h, t + N − 1] = exp(b_t)
    length = 1
    while length < 2 * n - 1:
        length *= 2
    col = np.zeros((rpe.shape[0], length), np.float32)
    col[:, :n] = c[:, n - 1:]
    col[:, length - (n - 1):] = c[:, : n - 1]
    return c, col, length


def rpe_fft_attn(fq, fk, v, rpe):
    n = v.shape[2]
    _, col, length = rpe_consts(rpe, n)
    cf = np.fft.rfft(col, axis=-1)[None, :, None, None, :]  # [1,H,1,1,L/2+1]
    v1 = np.concatenate([v, np.ones(v.shape[:-1] + (1,), v.dtype)], -1)  # [B,H,N,Dv+1]
    x = fk[..., :, None] * v1[..., None, :]  # [B,H,N,m,Dv+1]
    xf = np.fft.rfft(np.moveaxis(x, 2, -1), n=length, axis=-1)  # [B,H,m,Dv+1,L/2+1]
    y = np.fft.irfft(xf * cf, n=length, axis=-1)[..., :n]  # C·x per feature
    acc = np.einsum("bhmdn,bhnm->bhnd", y, fq)
    return acc[..., :-1] / acc[..., -1:]


def rpe_direct_attn(fq, fk, v, rpe):
    n = v.shape[2]
    c, _, _ = rpe_consts(rpe, n)
    idx = np.arange(n)[:, None] - np.arange(n)[None, :] + n - 1
    s = (fq @ np.swapaxes(fk, -1, -2)) * c[:, idx][None]
    return (s @ v) / s.sum(-1, keepdims=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1024,4096,16384")
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--kernel", type=int, default=7)
    ap.add_argument("--features", type=int, default=256)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--softmax-max", type=int, default=8192)
    ap.add_argument("--rpe-features", type=int, default=2)
    ap.add_argument("--direct-max", type=int, default=4096)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    for n in [int(s) for s in a.sizes.split(",") if s]:
        q, k, v = (rng.standard_normal((1, a.heads, n, a.dim)).astype(np.float32) * 0.5 for _ in range(3))
        if n <= a.softmax_max:
            rows.append({"op": "softmax", "n": n, "seconds": best(lambda: softmax_attn(q, k, v), a.reps)})
        idx = windows(n, a.kernel)
        rows.append({"op": "neighborhood", "n": n, "seconds": best(lambda: neighborhood_attn(q, k, v, idx), a.reps)})
        rows.append({"op": "linear_elu", "n": n, "seconds": best(lambda: linear_attn(elu1(q), elu1(k), v), a.reps)})
        w = rng.standard_normal((a.features, a.dim)).astype(np.float32)
        rows.append({"op": "favor", "n": n, "seconds": best(lambda: linear_attn(favor(q, w, True), favor(k, w, False), v), a.reps)})
        wr = rng.standard_normal((a.rpe_features, a.dim)).astype(np.float32)
        # The bench's RPE shapes: one head, Dv = 1 (see bench/attention.ts).
        q1, k1, v1 = q[:, :1], k[:, :1], v[:, :1, :, :1]
        rpe = (rng.standard_normal((1, 2 * n - 1)) * 0.5).astype(np.float32)
        rpe_features = lambda: (favor(q1, wr, True), favor(k1, wr, False))
        rows.append({"op": "rpe_fft", "n": n, "seconds": best(lambda: rpe_fft_attn(*rpe_features(), v1, rpe), a.reps)})
        if n <= a.direct_max:
            rows.append({"op": "rpe_direct", "n": n, "seconds": best(lambda: rpe_direct_attn(*rpe_features(), v1, rpe), a.reps)})
    cfg = np.__config__
    blas = "unknown BLAS"
    try:
        info = cfg.CONFIG["Build Dependencies"]["blas"]
        blas = f"{info.get('name')} {info.get('version')}"
    except Exception:
        pass
    print(json.dumps({"numpy": np.__version__, "blas": blas, "rows": rows}))


if __name__ == "__main__":
    main()
