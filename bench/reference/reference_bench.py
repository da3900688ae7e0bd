#!/usr/bin/env python3
"""The reference implementation's side of `deno task bench-reference`.

Written for this package (not copied from the reference repository): it
rebuilds, in PyTorch, what seed-spec.md says the reference does, and times it
on this machine so that `tasks/bench_reference.ts` can set our TensorFlow.js
numbers beside it.

1. Training: the reference's CIFAR WideResNet-50 (3x3 stem to 64 + BN + ReLU,
   bottlenecks [3, 4, 6, 3] with base widths 64/128/256/512, inner width
   floor(p * width), the stride on the 3x3, projection shortcuts, 4x4 average
   pool, 2048-d feature, linear classifier with bias), one step = forward in
   training mode, cross entropy, backward, global grad-norm clip to 2, SGD
   (lr 0.1, momentum 0.9, weight decay 5e-4), on random batches of 100
   32x32x3 images, K = 10. Each step is timed alone; the median is reported.
2. Neural-collapse metrics the reference's way (`evaluate.py`): class means
   and Sigma_W accumulated one sample at a time in float32 torch tensors (one
   2048x2048 outer product per sample), Sigma_B from K outer products, then
   NC1 = trace(Sigma_W @ scipy.linalg.pinv(Sigma_B)) / K with dense d x d
   matrices, NC2-NC4 from the classifier. The per-sample loops are timed on
   the first --nc-samples samples and extrapolated linearly to all N (the
   output says so); the rest is timed in full. The metric values reported
   for the agreement check come from a vectorised float64 equivalent on all
   N samples (Sigma_W = E^T E / N from the centred features E).

Prints one JSON object on stdout (schema: bench/reference/README.md).

3. One workload of WORKLOADS (--workload ID): the MLP, ResNet-18 or
   WideResNet-50 training step, or the MLP's evaluation passes, with the
   process's peak resident memory (one process per workload).

Usage:
  python reference_bench.py [--widths 0.25,1] [--reps 5] [--warmup 2]
                            [--nc-dir DIR] [--nc-samples 2000] [--threads 2]
  python reference_bench.py --workload mlp [--reps 5] [--warmup 2] [--steps-per-rep 50]
"""
import argparse
import json
import resource
import statistics
import sys
import time

import numpy as np
import scipy
import scipy.linalg
import torch
import torch.nn as nn
import torch.nn.functional as F

# Trainable parameters of the K = 10 model (seed-spec.md; torchvision's
# resnet50 with a 10-way head has 23 520 842).
EXPECTED_PARAMS = {0.25: 5_880_074, 1.0: 23_520_842}


def projection_shortcut(in_c, out, stride):
    """The 1x1 convolution (stride) + BN of a block whose output differs from its input in shape; None: identity."""
    if stride == 1 and in_c == out:
        return None
    return nn.Sequential(nn.Conv2d(in_c, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))


def add_shortcut(y, x, shortcut):
    """ReLU(y + shortcut(x)), the end of every residual block."""
    return F.relu(y + (x if shortcut is None else shortcut(x)))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_c, base, stride, width):
        super().__init__()
        inner = int(base * width)
        out = base * self.expansion
        self.conv1 = nn.Conv2d(in_c, inner, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(inner)
        self.conv2 = nn.Conv2d(inner, inner, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(inner)
        self.conv3 = nn.Conv2d(inner, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.shortcut = projection_shortcut(in_c, out, stride)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return add_shortcut(y, x, self.shortcut)


class BasicBlock(nn.Module):
    """ResNet-18's block as src/models/resnet18.ts builds it: 3x3 (stride) to floor(p * width), BN, ReLU, 3x3 to p, BN."""

    expansion = 1

    def __init__(self, in_c, base, stride, width):
        super().__init__()
        inner = max(1, int(base * width))
        self.conv1 = nn.Conv2d(in_c, inner, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(inner)
        self.conv2 = nn.Conv2d(inner, base, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(base)
        self.shortcut = projection_shortcut(in_c, base, stride)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return add_shortcut(y, x, self.shortcut)


class CifarResNet(nn.Module):
    """Stem 3x3 to 64 + BN + ReLU, then `stages` of `block`s, each stage (blocks, base width, stride of its
    first block), the pooled feature h and a linear classifier with bias. Returns (logits, h) like the
    reference's model."""

    def __init__(self, block, stages, pool, num_classes, width):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        blocks = []
        in_c = 64
        for n, base, stride in stages:
            for i in range(n):
                blocks.append(block(in_c, base, stride if i == 0 else 1, width))
                in_c = base * block.expansion
        self.blocks = nn.Sequential(*blocks)
        self.pool = pool
        self.fc = nn.Linear(in_c, num_classes, bias=True)

    def forward(self, x):
        h = self.blocks(F.relu(self.bn1(self.conv1(x))))
        h = self.pool(h).flatten(1)
        return self.fc(h), h


class WideResNet50(CifarResNet):
    """Bottlenecks [3, 4, 6, 3] (64, 128, 256, 512; strides 1, 2, 2, 2), 4x4 average pool to the 2048-d feature."""

    def __init__(self, num_classes=10, width=1.0):
        super().__init__(Bottleneck, [(3, 64, 1), (4, 128, 2), (6, 256, 2), (3, 512, 2)],
                         lambda h: F.avg_pool2d(h, 4), num_classes, width)


class ResNet18(CifarResNet):
    """Two basic blocks per stage (64, 128, 256, 512; strides 1, 2, 2, 2), global average pool."""

    def __init__(self, num_classes=10, width=1.0):
        super().__init__(BasicBlock, [(2, 64, 1), (2, 128, 2), (2, 256, 2), (2, 512, 2)],
                         lambda h: F.adaptive_avg_pool2d(h, 1), num_classes, width)


class Mlp(nn.Module):
    """src/models/mlp.ts: depth x [linear without bias, BN, ReLU] of `hidden` units, then the linear classifier."""

    def __init__(self, in_dim=784, num_classes=10, depth=3, hidden=256):
        super().__init__()
        layers = []
        for _ in range(depth):
            layers += [nn.Linear(in_dim, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU()]
            in_dim = hidden
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(in_dim, num_classes, bias=True)

    def forward(self, x):
        h = self.body(x.flatten(1))
        return self.fc(h), h


# The workloads of one-workload runs (--workload): model, its width, what is timed, batch, input shape.
WORKLOADS = {
    "mlp": ("mlp", 1.0, "train", 100, (784,)),
    "mlp-eval": ("mlp", 1.0, "eval", None, (784,)),
    "resnet18-0.25": ("resnet18", 0.25, "train", 100, (3, 32, 32)),
    "resnet18-1": ("resnet18", 1.0, "train", 100, (3, 32, 32)),
    "wrn50-0.25": ("wrn50", 0.25, "train", 100, (3, 32, 32)),
    "wrn50-1": ("wrn50", 1.0, "train", 100, (3, 32, 32)),
}


def build(model, width, classes=10):
    if model == "mlp":
        return Mlp(784, classes)
    if model == "resnet18":
        return ResNet18(classes, width)
    return WideResNet50(classes, width)


def peak_rss_bytes():
    """The process's peak resident set (getrusage's ru_maxrss, KiB on Linux), in bytes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def training_step(model, x, y):
    """One step as the reference trains: forward in training mode, cross entropy, backward, global grad-norm clip
    to 2, SGD (lr 0.1, momentum 0.9, weight decay 5e-4); returns the step as a function of no arguments."""
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        logits, _ = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        opt.step()
        return loss.item()  # the reference reads the loss every step

    return step


def time_steps(step, reps, warmup, steps_per_rep=1):
    """Seconds per step of each of `reps` repetitions of `steps_per_rep` steps, after `warmup` untimed ones."""
    for _ in range(warmup):
        for _ in range(steps_per_rep):
            step()
    seconds = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(steps_per_rep):
            step()
        seconds.append((time.perf_counter() - t0) / steps_per_rep)
    return seconds


def step_timings(seconds, images_per_step):
    """The output's timing fields: the seconds per step, their median and the images per second at the median."""
    median = statistics.median(seconds)
    return {"step_seconds": seconds, "median_step_seconds": median, "images_per_second": images_per_step / median}


def time_workload(name, reps, warmup, steps_per_rep, eval_batch, eval_samples, classes=10):
    """One workload of WORKLOADS; each repetition times `steps_per_rep` steps (or one evaluation pass)."""
    model_name, width, kind, batch, shape = WORKLOADS[name]
    torch.manual_seed(1)
    model = build(model_name, width, classes)
    g = torch.Generator().manual_seed(2)
    if kind == "train":
        x = torch.randn(batch, *shape, generator=g)
        y = torch.randint(0, classes, (batch,), generator=g)
        step = training_step(model, x, y)
        images = batch * steps_per_rep
    else:
        # What `deno task evaluate` does per batch: forward in evaluation mode, the loss summed, top-1 and
        # top-5 hits, and the features and statistics read back (features for the NC metrics).
        model.eval()
        batch = eval_batch
        x_all = torch.randn(eval_samples, *shape, generator=g)
        y_all = torch.randint(0, classes, (eval_samples,), generator=g)

        def step():
            with torch.no_grad():
                for s in range(0, eval_samples, batch):
                    x, y = x_all[s:s + batch], y_all[s:s + batch]
                    logits, h = model(x)
                    loss = F.cross_entropy(logits, y, reduction="sum")
                    top = logits.topk(min(5, classes), dim=1).indices == y[:, None]
                    stats = torch.stack([loss, top[:, 0].sum().float(), top.sum().float()])
                    h.numpy(), stats.numpy()
        images = eval_samples * steps_per_rep
    seconds = time_steps(step, reps, warmup, steps_per_rep)
    return {
        "workload": name,
        "model": model_name,
        "width": width,
        "kind": kind,
        "batch": batch,
        "params": count_params(model),
        "params_expected": EXPECTED_PARAMS.get(width) if model_name == "wrn50" else None,
        **step_timings(seconds, images / steps_per_rep),
        "peak_rss_bytes": peak_rss_bytes(),
    }


def count_params(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def time_training(width, reps, warmup, batch=100, classes=10):
    torch.manual_seed(1)
    model = WideResNet50(classes, width)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(batch, 3, 32, 32, generator=g)
    y = torch.randint(0, classes, (batch,), generator=g)
    seconds = time_steps(training_step(model, x, y), reps, warmup)
    return {
        "width": width,
        "batch": batch,
        "classes": classes,
        "params": count_params(model),
        "params_expected": EXPECTED_PARAMS.get(width),
        **step_timings(seconds, batch),
    }


def etf_distance(A):
    """|| A/||A||_F - (I - 11^T/K)/sqrt(K-1) ||_F."""
    K = A.shape[0]
    A = A / np.linalg.norm(A)
    return float(np.linalg.norm(A - (np.eye(K) - np.ones((K, K)) / K) / np.sqrt(K - 1)))


def classifier_metrics(W, b, mu, muG):
    """NC2, NC3 and the reference's NC4 (float64 arrays; W [K, d], mu [K, d])."""
    Wc = W - W.mean(axis=0)
    return {
        "nc2": etf_distance(Wc @ Wc.T),
        "nc3": etf_distance(Wc @ (mu - muG).T),
        "nc4_bias": float(np.linalg.norm(W @ muG + b)),
    }


def reference_method(H, y, W, b, samples):
    """Times evaluate.py's algorithm; the per-sample loops run on `samples` rows and are scaled to N."""
    N, d = H.shape
    K = W.shape[0]
    n = min(samples, N)
    Ht = torch.from_numpy(H)
    yl = y.tolist()
    parts = {}

    # Pass 1 as evaluate.py: mu_G and the class means summed one sample at a time.
    t0 = time.perf_counter()
    mu = [torch.zeros(d) for _ in range(K)]
    counts = [0] * K
    for i in range(n):
        mu[yl[i]] += Ht[i]
        counts[yl[i]] += 1
    parts["class_means_per_sample"] = (time.perf_counter() - t0) * N / n
    # The measured quantities themselves come from all samples (not timed).
    mu_full = torch.from_numpy(np.stack([H[y == k].mean(axis=0) for k in range(K)]).astype(np.float32))
    muG = Ht.mean(dim=0)

    # Pass 2: Sigma_W += (h_i - mu_{y_i})(h_i - mu_{y_i})^T, one 2048x2048 outer product per sample.
    t0 = time.perf_counter()
    Sw = torch.zeros(d, d)
    for i in range(n):
        e = Ht[i] - mu_full[yl[i]]
        Sw += e.unsqueeze(1) @ e.unsqueeze(0)
    parts["sigma_w_per_sample"] = (time.perf_counter() - t0) * N / n
    Sw /= n

    t0 = time.perf_counter()
    Sb = torch.zeros(d, d)
    for k in range(K):
        m = mu_full[k] - muG
        Sb += m.unsqueeze(1) @ m.unsqueeze(0)
    Sb /= K
    Sw_np, Sb_np = Sw.numpy(), Sb.numpy()
    parts["sigma_b"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    pinv = scipy.linalg.pinv(Sb_np)
    parts["pinv"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    np.trace(Sw_np @ pinv) / K
    parts["trace_product"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    classifier_metrics(W.astype(np.float64), b.astype(np.float64), mu_full.numpy().astype(np.float64),
                       muG.numpy().astype(np.float64))
    parts["nc2_nc3_nc4"] = time.perf_counter() - t0
    return {"seconds": sum(parts.values()), "parts": parts, "timed_samples": n}


def vectorised_metrics(H, y, W, b):
    """The same quantities in float64 on all N samples, for the agreement check."""
    H = H.astype(np.float64)
    W = W.astype(np.float64)
    b = b.astype(np.float64)
    N, d = H.shape
    K = W.shape[0]
    counts = np.bincount(y, minlength=K).astype(np.float64)
    mu = np.zeros((K, d))
    np.add.at(mu, y, H)
    mu /= counts[:, None]
    muG = H.mean(axis=0)
    E = H - mu[y]
    Sw = E.T @ E / N
    M = mu - muG
    Sb = M.T @ M / K
    nc1 = float(np.trace(Sw @ scipy.linalg.pinv(Sb)) / K)
    return {"nc1": nc1, **classifier_metrics(W, b, mu, muG)}


def nc_benchmark(directory, samples, reps):
    H = np.load(f"{directory}/features.npy").astype(np.float32, copy=False)
    y = np.load(f"{directory}/labels.npy").astype(np.int64)
    W = np.load(f"{directory}/weights.npy")
    b = np.load(f"{directory}/bias.npy")
    runs = [reference_method(H, y, W, b, samples) for _ in range(reps)]
    totals = [r["seconds"] for r in runs]
    median = runs[totals.index(sorted(totals)[(len(totals) - 1) // 2])]
    n, d = H.shape
    return {
        "n": n,
        "d": d,
        "k": W.shape[0],
        "timed_samples": median["timed_samples"],
        "extrapolated": median["timed_samples"] < n,
        "note": (f"per-sample loops timed on {median['timed_samples']} of {n} samples and scaled linearly to {n}"
                 if median["timed_samples"] < n else "per-sample loops timed on all samples"),
        "seconds_runs": totals,
        "median_seconds": median["seconds"],
        "parts": median["parts"],
        "metrics": vectorised_metrics(H, y, W, b),
    }


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--widths", default="0.25,1", help="comma-separated widths to train ('' for none)")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--nc-dir", help="directory with features.npy, labels.npy, weights.npy, bias.npy")
    p.add_argument("--nc-samples", type=int, default=2000)
    p.add_argument("--nc-reps", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--params-only", action="store_true", help="only count parameters")
    p.add_argument("--workload", choices=sorted(WORKLOADS), help="time only this workload (its own process)")
    p.add_argument("--steps-per-rep", type=int, default=1, help="steps timed together per repetition")
    p.add_argument("--eval-batch", type=int, default=1000, help="evaluation batch (--workload mlp-eval)")
    p.add_argument("--eval-samples", type=int, default=10000, help="samples per evaluation pass")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    widths = [float(w) for w in args.widths.split(",") if w.strip()]
    out = {
        "versions": {"torch": torch.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
                     "python": sys.version.split()[0]},
        "threads": torch.get_num_threads(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "cuda": torch.cuda.is_available(),
    }
    if args.workload:
        out["workload"] = time_workload(args.workload, args.reps, args.warmup, args.steps_per_rep, args.eval_batch,
                                        args.eval_samples)
    elif args.params_only:
        out["params"] = [{"width": w, "params": count_params(WideResNet50(10, w)), "params_expected":
                          EXPECTED_PARAMS.get(w)} for w in widths]
    else:
        out["train"] = [time_training(w, args.reps, args.warmup) for w in widths]
        if args.nc_dir:
            out["nc"] = nc_benchmark(args.nc_dir, args.nc_samples, args.nc_reps)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
