"""Peer timing for bench/train.ts: the same SGD training in numpy float32, backprop by hand.

784-512-512-10 ReLU MLP (standard parameterisation, W ~ N(0, 2/fan_in), zero biases), softmax
cross-entropy, minibatches of 128 from a seeded permutation of 1,024 random points, and a
full-training-set loss every `log_every` steps (and at steps 0 and the last) as train.fit logs it.

Usage: python3 bench/peers/train.py --steps 20 [--warmup 2] [--log-every 10]
Prints one JSON object: {"numpy": ver, "blas": str, "steps": n, "seconds": s, "steps_per_s": r}.
"""
import argparse
import json
import time

import numpy as np

WIDTHS = [784, 512, 512, 10]
N, BATCH = 1024, 128
F32 = np.float32


def blas_name():
    try:
        cfg = np.show_config(mode="dicts")  # numpy >= 1.25
        return cfg["Build Dependencies"]["blas"]["name"]
    except Exception:
        return "unknown"


def init(rng):
    ws, bs = [], []
    for a, b in zip(WIDTHS[:-1], WIDTHS[1:]):
        ws.append((rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(F32))
        bs.append(np.zeros(b, F32))
    return ws, bs


def forward(ws, bs, x):
    """Pre-activations' inputs per layer (for backprop) and the logits."""
    hs = [x]
    h = x
    for i, (w, b) in enumerate(zip(ws, bs)):
        z = h @ w + b
        if i < len(ws) - 1:
            h = np.maximum(z, F32(0))
            hs.append(h)
        else:
            return hs, z


def log_softmax(f):
    m = f.max(axis=1, keepdims=True)
    s = f - m
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def loss(ws, bs, x, y):
    _, f = forward(ws, bs, x)
    return float(-(y * log_softmax(f)).sum(axis=1).mean())


def step(ws, bs, x, y, lr):
    hs, f = forward(ws, bs, x)
    ls = log_softmax(f)
    value = -(y * ls).sum(axis=1).mean()
    d = (np.exp(ls) - y) / F32(x.shape[0])  # dL/df for one-hot y
    for i in range(len(ws) - 1, -1, -1):
        gw = hs[i].T @ d
        gb = d.sum(axis=0)
        if i > 0:
            d = (d @ ws[i].T) * (hs[i] > 0)
        ws[i] -= F32(lr) * gw
        bs[i] -= F32(lr) * gb
    return float(value)


def train(ws, bs, x, y, steps, log_every, rng):
    per_epoch = -(-N // BATCH)
    perm = None
    loss(ws, bs, x, y)
    for t in range(steps):
        pos = t % per_epoch
        if pos == 0:
            perm = rng.permutation(N)
        idx = perm[pos * BATCH:(pos + 1) * BATCH]
        v = step(ws, bs, x[idx], y[idx], 0.01)
        if not np.isfinite(v):
            raise RuntimeError(f"diverged at step {t}")
        if (t + 1) % log_every == 0 or t + 1 == steps:
            loss(ws, bs, x, y)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--log-every", type=int, default=10)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, WIDTHS[0])).astype(F32)
    y = np.eye(WIDTHS[-1], dtype=F32)[rng.integers(0, WIDTHS[-1], N)]
    ws, bs = init(rng)
    train(ws, bs, x, y, args.warmup, args.log_every, rng)
    t0 = time.perf_counter()
    train(ws, bs, x, y, args.steps, args.log_every, rng)
    seconds = time.perf_counter() - t0
    print(json.dumps({"numpy": np.__version__, "blas": blas_name(), "steps": args.steps, "seconds": seconds, "steps_per_s": args.steps / seconds}))


if __name__ == "__main__":
    main()
