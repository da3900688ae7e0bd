#!/usr/bin/env python3
"""NumPy/SciPy reference for the neural-collapse metrics of src/metrics/.

Reads features.npy [N, d], labels.npy [N], weights.npy [K, d] and, when
present, bias.npy [K] from a directory, computes every metric with plain
NumPy formulas and prints one JSON object:
{"method": ..., "seconds": <compute time, loading excluded>, "metrics": {...}}.

Two methods compute the same numbers:

- fast: the straightforward vectorised formulas: Sigma_W from the Gram of
  the centred feature matrix, scipy.linalg.pinv of the dense d x d Sigma_B.
  `deno task bench-metrics` times our implementation against this one.
- reference: what the reference evaluate.py does: Sigma_W accumulated as one
  outer product per sample, then tr(Sigma_W pinv(Sigma_B)) with a dense d x d
  matrix product. Very slow at d = 2048 (minutes); kept for a later benchmark.

Definitions follow seed-spec.md and src/metrics/neural_collapse_accumulator.ts
(population standard deviations, top-k ties broken towards the lower class
index, nc4_ncc as a fraction, accuracies in percent).

Usage: python3 bench/metrics_numpy.py DIR [--method fast|reference] [--repeat R]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import scipy.linalg


def load(directory):
    """Features, labels, weights and bias (zeros when bias.npy is absent)."""
    H = np.load(os.path.join(directory, "features.npy"))
    y = np.load(os.path.join(directory, "labels.npy")).astype(np.int64)
    W = np.load(os.path.join(directory, "weights.npy"))
    bias_path = os.path.join(directory, "bias.npy")
    b = np.load(bias_path) if os.path.exists(bias_path) else np.zeros(W.shape[0])
    return H, y, W, b


def _etf_distance(A):
    """|| A/||A||_F - (I - 11^T/K)/sqrt(K-1) ||_F, with 0/0 normalised to 0."""
    K = A.shape[0]
    norm = np.linalg.norm(A)
    A = A / norm if norm > 0 else A * 0
    target = (np.eye(K) - np.ones((K, K)) / K) / np.sqrt(K - 1)
    return float(np.linalg.norm(A - target))


def _class_means(H, y, K):
    counts = np.bincount(y, minlength=K).astype(np.float64)
    mu = np.zeros((K, H.shape[1]))
    for k in range(K):
        mu[k] = H[y == k].sum(axis=0)
    return counts, mu / counts[:, None]


def _nc1_forms(Sw, Sb, K):
    """NC1 as Tirer et al.'s trace quotient and with Han et al.'s top-(K-1) SVD pseudo-inverse of Sigma_B."""
    tb = np.trace(Sb)
    U, s, _ = np.linalg.svd(Sb, hermitian=True)
    r = min(K - 1, Sb.shape[0])
    keep = s[:r] > 0
    inv = (U[:, :r][:, keep] / s[:r][keep]) @ U[:, :r][:, keep].T
    return {
        "nc1_trace": float(np.trace(Sw) / tb) if tb > 0 else 0.0,
        "nc1_svd": float(np.sum(Sw * inv) / K),
    }


def _unit(A):
    norm = np.linalg.norm(A)
    return A / norm if norm > 0 else A * 0


def _common(H, y, W, b, mu, counts, E, nc1):
    """Every metric except NC1 and its other forms, from the float64 arrays."""
    N = H.shape[0]
    K = W.shape[0]
    muG = H.mean(axis=0)
    M = mu - muG  # [K, d], row k = mu_k - mu_G
    Wc = W - W.mean(axis=0)
    nc2 = _etf_distance(Wc @ Wc.T)
    nc3 = _etf_distance(Wc @ M.T)
    nc4_bias = float(np.linalg.norm(W @ muG + b))

    logits = H @ W.T + b
    zy = logits[np.arange(N), y][:, None]
    ahead = (logits > zy) | ((logits == zy) & (np.arange(K)[None, :] < y[:, None]))
    rank = ahead.sum(axis=1)
    pred = np.argmax(logits, axis=1)
    # Nearest class centre: argmin_k ||h - mu_k||^2 = argmin_k (||mu_k||^2 - 2 h.mu_k).
    dist = (mu * mu).sum(axis=1)[None, :] - 2 * (H @ mu.T)
    ncc = np.argmin(dist, axis=1)

    norms = np.linalg.norm(M, axis=1)
    wnorms = np.linalg.norm(W, axis=1)
    G = M @ M.T
    denom = np.outer(norms, norms)
    cos = np.divide(G, denom, out=np.zeros_like(G), where=denom > 0)
    iu = np.triu_indices(K, 1)
    pairs = cos[iu]
    sig2 = np.bincount(y, weights=(E * E).sum(axis=1), minlength=K) / counts
    D = ((mu[:, None, :] - mu[None, :, :]) ** 2).sum(axis=2) if K * K * mu.shape[1] <= 4e7 else (
        np.diag(G)[:, None] + np.diag(G)[None, :] - 2 * G)
    num = sig2[iu[0]] + sig2[iu[1]]
    den = 2 * D[iu]
    terms = np.divide(num, den, out=np.zeros_like(num), where=den > 0)

    def cv(x):
        return float(x.std() / x.mean()) if x.mean() > 0 else 0.0

    return {
        "nc1": float(nc1),
        "nc2": nc2,
        "nc3": nc3,
        "nc4_bias": nc4_bias,
        "nc4_ncc": float(np.mean(pred != ncc)),
        "equinorm_means": cv(norms),
        "equinorm_weights": cv(wnorms),
        "equiangularity": float(pairs.std()),
        "max_angle": float(np.abs(pairs + 1 / (K - 1)).mean()),
        "cdnv": float(terms.mean()),
        "top1": float(100 * np.mean(rank == 0)),
        "top5": float(100 * np.mean(rank < 5)),
        "nc2_means": _etf_distance(G),
        "self_duality": float(np.linalg.norm(_unit(Wc) - _unit(M))),
        # Log energy of the normalised centred means: mean over pairs of -log||u_k - u_l||.
        "uniformity_log": float(np.mean(-np.log(np.linalg.norm(
            (M / norms[:, None])[iu[0]] - (M / norms[:, None])[iu[1]], axis=1)))),
    }


def nc5(H, mu_ood_features, y, K):
    """NC5 (Ammar et al. 2024): mean over classes of |cos(mu_k - mu_G, mu_ood - mu_G)|."""
    H = H.astype(np.float64)
    _, mu = _class_means(H, y, K)
    muG = H.mean(axis=0)
    M = mu - muG
    o = mu_ood_features.astype(np.float64).mean(axis=0) - muG
    return float(np.mean(np.abs(M @ o) / (np.linalg.norm(M, axis=1) * np.linalg.norm(o))))


def metrics_fast(H, y, W, b):
    """Vectorised: Sigma_W = E^T E / N from the centred features E, dense pinv(Sigma_B)."""
    H = H.astype(np.float64)
    W = W.astype(np.float64)
    b = b.astype(np.float64)
    N = H.shape[0]
    K = W.shape[0]
    counts, mu = _class_means(H, y, K)
    muG = H.mean(axis=0)
    E = H - mu[y]
    Sw = E.T @ E / N
    M = mu - muG
    Sb = M.T @ M / K
    # tr(Sw Sb^+) = sum(Sw * Sb^+) for symmetric matrices: O(d^2) instead of a d^3 product.
    nc1 = np.sum(Sw * scipy.linalg.pinv(Sb)) / K
    return {**_common(H, y, W, b, mu, counts, E, nc1), **_nc1_forms(Sw, Sb, K)}


def metrics_reference(H, y, W, b):
    """As the reference evaluate.py: one outer product per sample, then tr(Sw @ pinv(Sb))."""
    H = H.astype(np.float64)
    W = W.astype(np.float64)
    b = b.astype(np.float64)
    N, d = H.shape
    K = W.shape[0]
    counts, mu = _class_means(H, y, K)
    muG = H.mean(axis=0)
    Sw = np.zeros((d, d))
    for i in range(N):
        e = H[i] - mu[y[i]]
        Sw += np.outer(e, e)
    Sw /= N
    Sb = np.zeros((d, d))
    for k in range(K):
        Sb += np.outer(mu[k] - muG, mu[k] - muG)
    Sb /= K
    nc1 = np.trace(Sw @ scipy.linalg.pinv(Sb)) / K
    return {**_common(H, y, W, b, mu, counts, H - mu[y], nc1), **_nc1_forms(Sw, Sb, K)}


METHODS = {"fast": metrics_fast, "reference": metrics_reference}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory")
    parser.add_argument("--method", choices=sorted(METHODS), default="fast")
    parser.add_argument("--repeat", type=int, default=1, help="report the fastest of this many runs")
    args = parser.parse_args(argv)
    H, y, W, b = load(args.directory)
    seconds = float("inf")
    for _ in range(max(1, args.repeat)):
        start = time.perf_counter()
        metrics = METHODS[args.method](H, y, W, b)
        seconds = min(seconds, time.perf_counter() - start)
    print(json.dumps({"method": args.method, "seconds": seconds, "metrics": metrics}))


if __name__ == "__main__":
    main(sys.argv[1:])
