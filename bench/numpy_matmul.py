"""NumPy's GFLOP/s for an n x n float32 matrix product (the yardstick of `deno task bench`).

Usage: python3 bench/numpy_matmul.py N MIN_SECONDS
Prints {"gflops", "seconds", "cpu_seconds" (per product; CPU time of all threads),
"reps", "numpy"} as one JSON line; exits 3 with a
one-line note when NumPy is not installed.
"""
import json
import sys
import time

try:
    import numpy as np
except ImportError:
    print("numpy not installed (pip install numpy)")
    sys.exit(3)

n = int(sys.argv[1])
min_seconds = float(sys.argv[2])
rng = np.random.default_rng(1)
a = rng.standard_normal((n, n), dtype=np.float32)
b = rng.standard_normal((n, n), dtype=np.float32)
a @ b  # warm-up: BLAS thread pool start
reps = 0
c0 = time.process_time()
t0 = time.perf_counter()
while reps < 3 or time.perf_counter() - t0 < min_seconds:
    a @ b
    reps += 1
seconds = (time.perf_counter() - t0) / reps
cpu_seconds = (time.process_time() - c0) / reps
print(json.dumps({
    "gflops": 2 * n**3 / seconds / 1e9,
    "seconds": seconds,
    "cpu_seconds": cpu_seconds,
    "reps": reps,
    "numpy": np.__version__,
}))
