"""Optimisers on quadratics: iterations to 1e-8 and CG against a direct solve; JSON lines.

Two workloads (issue #9), float64 throughout:

* ``iterations`` -- random SPD Hessians (n = 1000, geometric spectrum from 1 to κ,
  κ ∈ {10, 10², 10³, 10⁴}); iterations until ‖x_k - x*‖ / ‖x₀ - x*‖ <= 1e-8 for gradient
  descent (best step 2/(μ_min + μ_max)), heavy ball (best α, β) and conjugate gradients,
  next to the count the theoretical rate predicts, ⌈log(1e-8) / log ρ⌉ (for CG from the
  bound (8.2) turned into the 2-norm, ⌈log(1e-8 / (2√κ)) / log ρ⌉);
* ``cg_vs_solve`` -- an SPD system Hx = p with n = 4096 (κ = 10³): wall time of
  ``torch.linalg.solve``, of a Cholesky solve, and of the CG iterations that bring the
  relative residual to 1e-8 (their number is found in an untimed run first), on the CPU and
  on CUDA when present.

Usage: python benchmarks/quadratic.py [--n 1000] [--n-solve 4096] [--max-iter 300000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from collections.abc import Callable, Iterator

import torch

from course_lib.quadratic import (
    QuadraticForm,
    conjugate_gradient_iterates,
    gd_optimal_step,
    gd_rate,
    gradient_descent_iterates,
    heavy_ball_iterates,
    heavy_ball_parameters,
    heavy_ball_rate,
    random_spd,
)

TOL = 1e-8


def emit(**record: object) -> None:
    print(json.dumps(record), flush=True)


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def iterations_to(it: Iterator[torch.Tensor], x_star: torch.Tensor, max_iter: int) -> int | None:
    """First k with ‖x_k - x*‖ <= TOL ‖x₀ - x*‖ (None if not reached within max_iter)."""
    x0 = next(it)
    e0 = float((x0 - x_star).norm())
    for k in range(1, max_iter + 1):
        if float((next(it) - x_star).norm()) <= TOL * e0:
            return k
    return None


def problem(n: int, kappa: float, device: str, seed: int = 0):
    gen = torch.Generator(device=device).manual_seed(seed)
    H, _ = random_spd(n, kappa, generator=gen, device=device)
    p = torch.randn(n, generator=gen, dtype=torch.float64, device=device)
    x0 = torch.randn(n, generator=gen, dtype=torch.float64, device=device)
    return QuadraticForm.from_half_form(H, p), H, p, x0


def bench_iterations(n: int, kappas: list[float], device: str, max_iter: int) -> None:
    for kappa in kappas:
        form, H, p, x0 = problem(n, kappa, device)
        x_star = torch.linalg.solve(H, p)
        alpha, beta = heavy_ball_parameters(1.0, kappa)
        eta = gd_optimal_step(1.0, kappa)
        runs: dict[str, tuple[Iterator[torch.Tensor], float]] = {  # generators: lazy
            "gradient descent": (gradient_descent_iterates(form, x0, eta), gd_rate(kappa)),
            "heavy ball": (heavy_ball_iterates(form, x0, alpha, beta), heavy_ball_rate(kappa)),
            "conjugate gradient": (conjugate_gradient_iterates(form, x0), heavy_ball_rate(kappa)),
        }
        for method, (iterates, rho) in runs.items():
            start = time.perf_counter()
            k = iterations_to(iterates, x_star, max_iter)
            sync(device)
            seconds = time.perf_counter() - start
            predicted = math.ceil(math.log(TOL) / math.log(rho)) if rho and rho > 0 else None
            if method == "conjugate gradient":  # the bound 2ρ^k is in the H-norm: add log 2κ^½
                predicted = math.ceil(math.log(TOL / (2 * math.sqrt(kappa))) / math.log(rho))
            emit(bench="iterations", n=n, kappa=kappa, method=method, device=device, tol=TOL,
                 iterations=k, predicted_from_rate=predicted, seconds=seconds,
                 reached=k is not None, max_iter=max_iter)  # fmt: skip


def timed(fn: Callable[[], object], device: str, repeats: int = 3) -> float:
    fn()
    sync(device)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync(device)
        best = min(best, time.perf_counter() - start)
    return best


def bench_cg_vs_solve(n: int, kappa: float, device: str) -> None:
    form, H, p, _ = problem(n, kappa, device, seed=1)
    x0 = torch.zeros(n, dtype=torch.float64, device=device)
    p_norm = float(p.norm())
    it = conjugate_gradient_iterates(form, x0)
    next(it)
    k_needed = 0
    for k in range(1, 10 * n + 1):  # untimed: the number of iterations to a 1e-8 residual
        x = next(it)
        if float((H @ x - p).norm()) <= TOL * p_norm:
            k_needed = k
            break

    def run_cg() -> torch.Tensor:
        gen_it = conjugate_gradient_iterates(form, x0)
        for _ in range(k_needed + 1):
            x = next(gen_it)
        return x

    x_ref = torch.linalg.solve(H, p)
    x_cg = run_cg()
    name = torch.cuda.get_device_name() if device == "cuda" else platform.processor() or "cpu"
    common = {"bench": "cg_vs_solve", "n": n, "kappa": kappa, "device": device, "device_name": name,
              "torch_threads": torch.get_num_threads()}  # fmt: skip
    emit(impl="torch.linalg.solve", seconds=timed(lambda: torch.linalg.solve(H, p), device),
         **common)  # fmt: skip
    chol = timed(lambda: torch.cholesky_solve(p[:, None], torch.linalg.cholesky(H)), device)
    emit(impl="cholesky_solve", seconds=chol, **common)
    emit(impl="conjugate_gradient", iterations=k_needed, seconds=timed(run_cg, device),
         relative_residual=float((H @ x_cg - p).norm()) / p_norm,
         relative_difference_to_solve=float((x_cg - x_ref).norm() / x_ref.norm()),
         **common)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--kappas", type=float, nargs="+", default=[10.0, 1e2, 1e3, 1e4])
    parser.add_argument("--n-solve", type=int, default=4096)
    parser.add_argument("--kappa-solve", type=float, default=1e3)
    parser.add_argument("--max-iter", type=int, default=300_000)
    parser.add_argument("--skip-iterations", action="store_true")
    args = parser.parse_args()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    emit(bench="machine", cpu=platform.processor() or platform.machine(), cores=os.cpu_count(),
         load_average_1min=load, torch=torch.__version__, devices=devices)  # fmt: skip
    if not args.skip_iterations:
        bench_iterations(args.n, args.kappas, devices[-1], args.max_iter)
    for device in devices:
        bench_cg_vs_solve(args.n_solve, args.kappa_solve, device)


if __name__ == "__main__":
    main()
