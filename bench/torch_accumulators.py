#!/usr/bin/env python3
"""NC1 and the decision agreement by streaming accumulators in PyTorch, as
rhubarbwu/neural-collapse measures them (our own code, written from the
method's description): batched class sums, the d x d within-class covariance
by one matrix product per batch, a pseudo-inverse of Sigma_B, and batched
classifier / nearest-class-centre decisions.

    python bench/torch_accumulators.py DIR [--dtype float32|float64] [--threads 2] [--batch 4096]

DIR holds features.npy [N, d] (C order, float32 or float64), labels.npy
[N], weights.npy [K, d] and bias.npy [K]; features are read one batch at a
time with plain reads (not a memory map, whose file pages would count as
resident memory).
Prints one JSON object: nc1, nc1_trace, nc4_ncc (fraction of samples where
the classifier and the nearest class centre disagree), top1 (percent) and
the seconds of each phase. Time the whole process from outside.
"""
import argparse
import json
import os
import time

import numpy as np
import torch


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("directory")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=4096)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    dt = torch.float32 if a.dtype == "float32" else torch.float64
    t0 = time.perf_counter()
    f = open(os.path.join(a.directory, "features.npy"), "rb")
    version = np.lib.format.read_magic(f)
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read_header(f)
    assert not fortran and len(shape) == 2, "features must be a C-order [N, d] array"
    y_all = torch.from_numpy(np.load(os.path.join(a.directory, "labels.npy")).astype(np.int64))
    W = torch.from_numpy(np.load(os.path.join(a.directory, "weights.npy"))).to(dt)
    b = torch.from_numpy(np.load(os.path.join(a.directory, "bias.npy"))).to(dt)
    N, d = shape
    K = W.shape[0]

    data_start = f.tell()

    def batches():
        f.seek(data_start)
        for s in range(0, N, a.batch):
            rows = min(a.batch, N - s)
            h = torch.from_numpy(np.fromfile(f, dtype=dtype, count=rows * d).reshape(rows, d)).to(dt)
            yield h, y_all[s:s + a.batch]

    # Pass 1: class sums and counts.
    sums = torch.zeros(K, d, dtype=dt)
    counts = torch.zeros(K, dtype=dt)
    for h, y in batches():
        sums.index_add_(0, y, h)
        counts.index_add_(0, y, torch.ones(len(y), dtype=dt))
    means = sums / counts[:, None]
    mu_g = sums.sum(0) / N
    t1 = time.perf_counter()

    # Pass 2: Sigma_W = sum of (h - mu_y)(h - mu_y)^T as E^T E per batch; decisions.
    sw = torch.zeros(d, d, dtype=dt)
    mean_sq = (means * means).sum(1)
    mismatch = 0
    correct = 0
    for h, y in batches():
        e = h - means[y]
        sw.addmm_(e.T, e)
        pred = torch.argmax(h @ W.T + b, dim=1)
        ncc = torch.argmin(mean_sq[None, :] - 2 * (h @ means.T), dim=1)
        mismatch += int((pred != ncc).sum())
        correct += int((pred == y).sum())
    sw /= N
    t2 = time.perf_counter()

    M = means - mu_g
    sb = M.T @ M / K
    pinv = torch.linalg.pinv(sb, hermitian=True)
    # tr(Sigma_W Sigma_B^+) as the sum of the elementwise product of two symmetric matrices.
    nc1 = float((sw * pinv).sum() / K)
    nc1_trace = float(torch.trace(sw) / torch.trace(sb))
    t3 = time.perf_counter()
    print(json.dumps({
        "nc1": nc1,
        "nc1_trace": nc1_trace,
        "nc4_ncc": mismatch / N,
        "top1": 100 * correct / N,
        "n": N, "k": K, "d": d, "dtype": a.dtype, "threads": a.threads, "torch": torch.__version__,
        "seconds": {"pass1": t1 - t0, "pass2": t2 - t1, "pinv": t3 - t2, "total": t3 - t0},
    }))


if __name__ == "__main__":
    main()
