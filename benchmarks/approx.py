"""Robbins–Monro throughput: vectorised runs vs a plain-Python loop; prints JSON lines.

Workload (issue #10): RM (2.1) on g(w) = tanh(w - 1) with Gaussian noise (sd 0.5) and
a_k = 1/k, for 10^4 independent runs in parallel.

* ``torch``       -- course_lib.approx.robbins_monro, all runs as one tensor, on the CPU
                     (float64 and float32) and on CUDA (float32) when present;
* ``python-loop`` -- plain Python floats, one run after another (random.gauss, math.tanh),
                     timed on a slice of the runs and reported per run-iteration.

The figure of merit is run-iterations per second (runs x iterations / seconds).
Usage: python benchmarks/approx.py [--runs 10000] [--iters 2000]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import time

import torch

from course_lib.approx import PROBLEMS, PowerStep, robbins_monro


def emit(**record: object) -> None:
    print(json.dumps(record), flush=True)


def python_loop(n_runs: int, n_iter: int, sigma: float = 0.5, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    out = []
    for _ in range(n_runs):
        w = 3.0
        for k in range(1, n_iter + 1):
            w -= (math.tanh(w - 1.0) + rng.gauss(0.0, sigma)) / k
        out.append(w)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--iters", type=int, default=2_000)
    parser.add_argument("--python-runs", type=int, default=100)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    args = parser.parse_args()
    if args.threads > 0:  # on a shared, oversubscribed machine 1 thread avoids pool contention
        torch.set_num_threads(args.threads)
    cpu = platform.processor() or platform.machine()
    common = {"runs": args.runs, "iters": args.iters, "torch_threads": torch.get_num_threads()}

    start = time.perf_counter()
    python_loop(args.python_runs, args.iters)
    py_rate = args.python_runs * args.iters / (time.perf_counter() - start)
    emit(bench="rm_iters", impl="python-loop", device="cpu", device_name=cpu,
         measured_runs=args.python_runs, run_iters_per_s=py_rate, **common)  # fmt: skip

    cases = [("cpu", torch.float64), ("cpu", torch.float32)]
    if torch.cuda.is_available():
        cases += [("cuda", torch.float32), ("cuda", torch.float64)]
    for dev, dtype in cases:
        gen = torch.Generator(device=dev).manual_seed(0)
        w1 = torch.full((args.runs,), 3.0, dtype=dtype, device=dev)

        def run(w1=w1, gen=gen, dev=dev):
            w = robbins_monro(PROBLEMS["tanh"].g, w1, PowerStep(), args.iters, noise=0.5,
                              generator=gen)  # fmt: skip
            if dev == "cuda":
                torch.cuda.synchronize()
            return w

        run()  # warm-up
        start = time.perf_counter()
        w = run()
        seconds = time.perf_counter() - start
        rate = args.runs * args.iters / seconds
        name = torch.cuda.get_device_name() if dev == "cuda" else cpu
        emit(bench="rm_iters", impl="torch", device=dev, device_name=name,
             dtype=str(dtype).removeprefix("torch."), seconds=seconds, run_iters_per_s=rate,
             speedup_vs_python_loop=rate / py_rate,
             final_rms_error=float((w[-1].double() - 1).square().mean().sqrt()),
             **common)  # fmt: skip


if __name__ == "__main__":
    main()
