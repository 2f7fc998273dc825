"""Random-walk simulation throughput and exact-pmf cost; prints JSON lines.

Workload (issue #2): 10^6 walks x 10^3 steps, i.e. 10^9 simulated steps, reduced to the
end points S_n. Implementations, all on the same machine:

* ``torch``        -- course_lib.randomwalk.sample_endpoints (bit path for p = 1/2,
                      31-bit-threshold path otherwise), on the CPU and on CUDA if present;
* ``numpy``        -- the same algorithm in NumPy: one float64 uniform per step, u < p;
* ``numpy-bits``   -- NumPy's like-for-like p = 1/2 version: popcount of random 64-bit words;
* ``python-loop``  -- a plain-Python double loop with random.random(), timed on a slice
                      of the workload and reported per step.

Usage: python benchmarks/randomwalk.py [--walks 1000000] [--steps 1000]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from collections.abc import Callable

import numpy as np
import torch

from course_lib.randomwalk import endpoint_pmf, sample_endpoints


def emit(**record: object) -> None:
    print(json.dumps(record), flush=True)


def timed(fn: Callable[[], object], repeats: int = 1) -> float:
    """Best wall time of ``repeats`` runs after one warm-up run."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def python_loop(n_walks: int, n_steps: int, p: float, seed: int = 0) -> list[int]:
    rng = random.Random(seed)
    ends = []
    for _ in range(n_walks):
        s = 0
        for _ in range(n_steps):
            s += 1 if rng.random() < p else -1
        ends.append(s)
    return ends


def numpy_uniform(n_walks: int, n_steps: int, p: float, chunk: int = 10_000) -> np.ndarray:
    rng = np.random.default_rng(0)
    out = np.empty(n_walks, dtype=np.int64)
    for i in range(0, n_walks, chunk):
        m = min(chunk, n_walks - i)
        up = (rng.random((m, n_steps)) < p).sum(axis=1)
        out[i : i + m] = 2 * up - n_steps
    return out


def numpy_bits(n_walks: int, n_steps: int, chunk: int = 10_000) -> np.ndarray:
    rng = np.random.default_rng(0)
    words, rest = divmod(n_steps, 64)
    out = np.empty(n_walks, dtype=np.int64)
    for i in range(0, n_walks, chunk):
        m = min(chunk, n_walks - i)
        w = rng.integers(0, 2**64, (m, words + (rest > 0)), dtype=np.uint64, endpoint=False)
        if rest:
            w[:, -1] &= np.uint64((1 << rest) - 1)
        out[i : i + m] = 2 * np.bitwise_count(w).sum(axis=1, dtype=np.int64) - n_steps
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walks", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=1_000)
    parser.add_argument("--python-walks", type=int, default=1_000)
    args = parser.parse_args()
    total = args.walks * args.steps
    cpu = platform.processor() or platform.machine()
    common = {"walks": args.walks, "steps": args.steps, "torch_threads": torch.get_num_threads()}

    rates: dict[str, float] = {}
    py_t = timed(lambda: python_loop(args.python_walks, args.steps, 0.5), repeats=1)
    rates["python-loop"] = args.python_walks * args.steps / py_t
    emit(bench="walk_steps", impl="python-loop", device="cpu", cpu=cpu, p=0.5,
         measured_walks=args.python_walks, steps_per_s=rates["python-loop"], **common)  # fmt: skip

    for p in (0.5, 0.6):
        t = timed(lambda p=p: numpy_uniform(args.walks, args.steps, p))
        rates[f"numpy p={p}"] = total / t
        emit(bench="walk_steps", impl="numpy", device="cpu", p=p, seconds=t,
             steps_per_s=total / t, **common)  # fmt: skip
    t = timed(lambda: numpy_bits(args.walks, args.steps))
    rates["numpy-bits p=0.5"] = total / t
    emit(bench="walk_steps", impl="numpy-bits", device="cpu", p=0.5, seconds=t,
         steps_per_s=total / t, **common)  # fmt: skip

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for dev in devices:
        for p in (0.5, 0.6):
            gen = torch.Generator(device=dev).manual_seed(0)

            def run(p=p, gen=gen, dev=dev):
                sample_endpoints(args.walks, args.steps, p, generator=gen, device=dev)
                if dev == "cuda":
                    torch.cuda.synchronize()

            t = timed(run, repeats=2 if dev == "cuda" else 1)
            rates[f"torch-{dev} p={p}"] = total / t
            name = torch.cuda.get_device_name() if dev == "cuda" else cpu
            emit(bench="walk_steps", impl="torch", device=dev, device_name=name, p=p,
                 seconds=t, steps_per_s=total / t, **common)  # fmt: skip

    for p in (0.5, 0.6):
        emit(
            bench="walk_steps_summary",
            p=p,
            torch_cpu_vs_python_loop=rates[f"torch-cpu p={p}"] / rates["python-loop"],
            torch_cpu_vs_numpy=rates[f"torch-cpu p={p}"] / rates[f"numpy p={p}"],
            torch_cpu_vs_numpy_bits=(
                rates["torch-cpu p=0.5"] / rates["numpy-bits p=0.5"] if p == 0.5 else None
            ),
            torch_cuda_vs_numpy=(
                rates[f"torch-cuda p={p}"] / rates[f"numpy p={p}"] if "cuda" in devices else None
            ),
        )

    n = 10_000
    t_pmf = timed(lambda: endpoint_pmf(n, 0.5), repeats=5)
    from scipy import stats

    t_scipy = timed(lambda: stats.binom.pmf(np.arange(n + 1), n, 0.5), repeats=5)
    emit(bench="exact_pmf", n=n, impl="course_lib.endpoint_pmf", seconds=t_pmf)
    emit(bench="exact_pmf", n=n, impl="scipy.stats.binom.pmf", seconds=t_scipy)


if __name__ == "__main__":
    main()
