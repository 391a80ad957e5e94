"""Peers for bench/gp.ts: numpy float64 (Cholesky) exact-GP predict and LML + gradient, SGPR (m inducing
points), and scikit-learn's GaussianProcessRegressor where it is installed. Prints one JSON line.

  python3 bench/peers/gp.py --sizes 500,1000,2000 --sgpr 10000,50000 --m 256 --test 1000
"""
import argparse, json, sys, time

try:
    import numpy as np
except ImportError:
    print(json.dumps({"error": "numpy not installed"}))
    sys.exit(0)
try:
    from scipy.linalg import cho_factor, cho_solve, solve_triangular
except ImportError:
    cho_factor = None
try:
    import sklearn
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
except ImportError:
    sklearn = None

D, ELL, NOISE = 8, np.sqrt(8.0), 0.1


def rbf(a, b):
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.exp(-np.maximum(d2, 0) / (2 * ELL * ELL))


def data(n, nt, rng):
    x = rng.standard_normal((n, D))
    y = np.sin(x.sum(1)) + 0.1 * rng.standard_normal(n)
    return x, y, rng.standard_normal((nt, D))


def best(fn, reps):
    t = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); t.append(time.perf_counter() - t0)
    return min(t)


def predict(x, y, xs):
    k = rbf(x, x) + NOISE * np.eye(len(x))
    L = np.linalg.cholesky(k)
    alpha = solve_triangular(L.T, solve_triangular(L, y, lower=True), lower=False)
    ks = rbf(xs, x)
    v = solve_triangular(L, ks.T, lower=True)
    return ks @ alpha, 1.0 - (v * v).sum(0)


def lml_grad(x, y):
    n = len(x)
    k = rbf(x, x)
    L = np.linalg.cholesky(k + NOISE * np.eye(n))
    alpha = cho_solve((L, True), y)
    kinv = cho_solve((L, True), np.eye(n))
    w = np.outer(alpha, alpha) - kinv
    sq = (x * x).sum(1)
    r2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0) / ELL ** 2
    g = [0.5 * (w * k * r2).sum(), 0.5 * (w * k).sum(), 0.5 * NOISE * np.trace(w)]
    return -0.5 * y @ alpha - np.log(np.diag(L)).sum() - n / 2 * np.log(2 * np.pi), g


def sgpr(x, y, z, xs):
    kuu = rbf(z, z) + 1e-6 * np.eye(len(z))
    L = np.linalg.cholesky(kuu)
    A = solve_triangular(L, rbf(z, x), lower=True) / np.sqrt(NOISE)
    LB = np.linalg.cholesky(np.eye(len(z)) + A @ A.T)
    c = solve_triangular(LB, A @ y, lower=True) / np.sqrt(NOISE)
    t1 = solve_triangular(L, rbf(z, xs), lower=True)
    t2 = solve_triangular(LB, t1, lower=True)
    return t2.T @ c, 1.0 - (t1 * t1).sum(0) + (t2 * t2).sum(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="500,1000,2000")
    ap.add_argument("--sgpr", default="10000,50000")
    ap.add_argument("--m", type=int, default=256)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=2)
    a = ap.parse_args()
    if cho_factor is None:
        print(json.dumps({"error": "scipy not installed"})); return
    rng = np.random.default_rng(0)
    rows = []
    for n in [int(s) for s in a.sizes.split(",") if s]:
        x, y, xs = data(n, a.test, rng)
        rows.append({"op": "predict", "n": n, "who": "numpy f64", "seconds": best(lambda: predict(x, y, xs), a.reps)})
        rows.append({"op": "lml_grad", "n": n, "who": "numpy f64", "seconds": best(lambda: lml_grad(x, y), a.reps)})
        if sklearn is not None:
            kern = ConstantKernel(1.0, "fixed") * RBF(ELL, "fixed")
            def sk_predict():
                g = GaussianProcessRegressor(kern, alpha=NOISE, optimizer=None).fit(x, y)
                g.predict(xs, return_std=True)
            rows.append({"op": "predict", "n": n, "who": "sklearn", "seconds": best(sk_predict, a.reps)})
            kfree = ConstantKernel(1.0) * RBF(ELL) + WhiteKernel(NOISE)
            g = GaussianProcessRegressor(kfree, alpha=1e-10, optimizer=None).fit(x, y)
            rows.append({"op": "lml_grad", "n": n, "who": "sklearn", "seconds": best(lambda: g.log_marginal_likelihood(g.kernel_.theta, eval_gradient=True), a.reps)})
    for n in [int(s) for s in a.sgpr.split(",") if s]:
        x, y, xs = data(n, a.test, rng)
        z = x[: a.m]
        rows.append({"op": "sgpr", "n": n, "who": "numpy f64", "seconds": best(lambda: sgpr(x, y, z, xs), a.reps)})
    print(json.dumps({"rows": rows, "numpy": np.__version__, "sklearn": getattr(sklearn, "__version__", None)}))


main()
