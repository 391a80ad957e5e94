"""Peer for bench/gp.ts, timed and evaluated on the same data in the same run.

The reference is scikit-learn's GaussianProcessRegressor (float64, Cholesky) when it is importable;
otherwise a numpy/scipy float64 reference of the same computations (cho_factor / cho_solve /
solve_triangular), labelled "scipy f64 ref (sklearn not installed)". SGPR / SVGP have no sklearn
counterpart and always use the scipy reference (at the optimal q SVGP's bound equals SGPR's).
Prints one JSON line: rows with timings and the values bench/gp.ts compares against.

  python3 bench/peers/gp.py --data DIR --sizes 500,1000 --sgpr 10000 --m 256 --test 1000
  (DIR holds x_<n>.npy, y_<n>.npy and xs.npy written by bench/gp.ts; without --data, data is drawn here.)
"""
import argparse, json, os, sys, time

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
SCIPY = "scipy f64 ref (sklearn not installed)" if sklearn is None else "scipy f64 ref"


def rbf(a, b):
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.exp(-np.maximum(d2, 0) / (2 * ELL * ELL))


def best(fn, reps):
    t, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter(); out = fn(); t.append(time.perf_counter() - t0)
    return min(t), out


def predict(x, y, xs):
    c = cho_factor(rbf(x, x) + NOISE * np.eye(len(x)), lower=True)
    ks = rbf(xs, x)
    v = solve_triangular(c[0], ks.T, lower=True)
    return ks @ cho_solve(c, y), 1.0 - (v * v).sum(0)


def lml_grad(x, y):
    """LML and ∂LML/∂log θ for θ = [ℓ, s, σ²] (bench/gp.ts's order): ½ tr((ααᵀ − Ky⁻¹)∂Ky)."""
    n = len(x)
    k = rbf(x, x)
    c = cho_factor(k + NOISE * np.eye(n), lower=True)
    alpha = cho_solve(c, y)
    w = np.outer(alpha, alpha) - cho_solve(c, np.eye(n))
    sq = (x * x).sum(1)
    r2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0) / ELL ** 2
    g = [0.5 * (w * k * r2).sum(), 0.5 * (w * k).sum(), 0.5 * NOISE * np.trace(w)]
    lml = -0.5 * y @ alpha - np.log(np.diag(c[0])).sum() - n / 2 * np.log(2 * np.pi)
    return lml, g


def sk_predict(x, y, xs):
    g = GaussianProcessRegressor(ConstantKernel(1.0, "fixed") * RBF(ELL, "fixed"), alpha=NOISE, optimizer=None).fit(x, y)
    mean, std = g.predict(xs, return_std=True)  # alpha is not in std: latent variance
    return mean, std ** 2


def sk_lml_grad(x, y):
    g = GaussianProcessRegressor(ConstantKernel(1.0) * RBF(ELL) + WhiteKernel(NOISE), alpha=1e-10, optimizer=None).fit(x, y)
    lml, grad = g.log_marginal_likelihood(g.kernel_.theta, eval_gradient=True)
    return lml, [grad[1], grad[0], grad[2]]  # sklearn's θ order is [s, ℓ, σ²]


def sgpr(x, y, z, xs):
    """Collapsed SGPR bound and predictions (GPflow's stable form)."""
    n, m = len(x), len(z)
    L = np.linalg.cholesky(rbf(z, z) + 1e-6 * np.eye(m))
    A = solve_triangular(L, rbf(z, x), lower=True) / np.sqrt(NOISE)
    LB = np.linalg.cholesky(np.eye(m) + A @ A.T)
    c = solve_triangular(LB, A @ y, lower=True) / np.sqrt(NOISE)
    elbo = (-0.5 * n * np.log(2 * np.pi) - np.log(np.diag(LB)).sum() - 0.5 * n * np.log(NOISE) - y @ y / (2 * NOISE)
            + 0.5 * c @ c - n / (2 * NOISE) + 0.5 * (A * A).sum())
    t1 = solve_triangular(L, rbf(z, xs), lower=True)
    t2 = solve_triangular(LB, t1, lower=True)
    return elbo, t2.T @ c, 1.0 - (t1 * t1).sum(0) + (t2 * t2).sum(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=None)
    ap.add_argument("--sizes", default="500,1000,2000")
    ap.add_argument("--sgpr", default="10000,50000")
    ap.add_argument("--m", type=int, default=256)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=2)
    a = ap.parse_args()
    if cho_factor is None:
        print(json.dumps({"error": "scipy not installed"})); return
    rng = np.random.default_rng(0)

    def load(n):
        if a.data:
            f = lambda name: np.load(os.path.join(a.data, name)).astype(np.float64)
            return f(f"x_{n}.npy"), f(f"y_{n}.npy"), f("xs.npy")
        x = rng.standard_normal((n, D))
        return x, np.sin(x.sum(1)) + 0.1 * rng.standard_normal(n), rng.standard_normal((a.test, D))

    rows = []
    ref = "sklearn " + sklearn.__version__ if sklearn is not None else SCIPY
    for n in [int(s) for s in a.sizes.split(",") if s]:
        x, y, xs = load(n)
        t, (mean, var) = best(lambda: (sk_predict if sklearn else predict)(x, y, xs), a.reps)
        rows.append({"op": "predict", "n": n, "who": ref, "seconds": t, "mean": mean.tolist(), "var": var.tolist()})
        t, (lml, g) = best(lambda: (sk_lml_grad if sklearn else lml_grad)(x, y), a.reps)
        rows.append({"op": "lml_grad", "n": n, "who": ref, "seconds": t, "lml": float(lml), "grad": [float(v) for v in g]})
    for n in [int(s) for s in a.sgpr.split(",") if s]:
        x, y, xs = load(n)
        z = x[: a.m]
        t, (elbo, mean, var) = best(lambda: sgpr(x, y, z, xs), a.reps)
        rows.append({"op": "sgpr", "n": n, "who": SCIPY, "seconds": t, "elbo": float(elbo), "mean": mean.tolist(), "var": var.tolist()})
    print(json.dumps({"rows": rows, "reference": ref, "numpy": np.__version__, "sklearn": getattr(sklearn, "__version__", None)}))


main()
