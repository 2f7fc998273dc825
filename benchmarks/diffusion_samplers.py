"""Sample quality against network evaluations for the Chapter 05 samplers; prints JSON lines.

Data: the chapter's 2-D Gaussian mixture (``toy_mixture``), whose exact denoiser/score is
known, and the small MLP trained on it (``TrainConfig`` as in the notebooks, loaded from the
cache when present). Samplers: DDPM ancestral and DDIM (eta = 0 and 1) on step-skipped grids of
the linear schedule (T = 1000); reverse-SDE Euler–Maruyama and PF-ODE Euler on the VP SDE
(0.1, 20) that the schedule discretises. Metric: MMD (multi-bandwidth Gaussian kernel, see
``course_lib.diffusion.metrics``) and sliced Wasserstein-2 against fresh data, each averaged
over ``--repeats`` runs, printed beside the data floor (the metric between two fresh data
samples of the same size).

Records: one ``floor`` line, one ``quality`` line per (model, sampler, steps), then a
``summary`` per model: the fewest evaluations with which DDIM (eta = 0) gets within 2x the
floor, its MMD there, and how many evaluations DDPM ancestral needs for the same MMD.

Part 2 (EDM, rectified flow), records ``edm_quality``, ``flow_quality`` and ``edm_summary``:
EDM's Heun (Algorithm 1) and Euler on the rho = 7 schedule (eq. 9.7, sigma in [0.002, 80]) with
the exact mixture denoiser (and the small EDM-preconditioned MLP, objective "edm"); rectified
flow with k = 1, 2, 4, 8 Euler steps before reflow (the exact marginal velocity, eq. 10.2, and the
CFM-trained network) and after one reflow (a network trained on the exact flow's coupled
pairs, eq. 10.5). The summary gives the fewest evaluations with which EDM Heun (exact
denoiser) is within 2x the floor, and the ratio of one-step MMDs before/after reflow.

Usage: python benchmarks/diffusion_samplers.py [--n 4000] [--repeats 3] [--device cpu] [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from course_lib import runtime
from course_lib.diffusion import (
    VPSDE,
    TrainConfig,
    data_floor,
    edm_sample,
    edm_sigmas,
    flow_euler_sample,
    make_schedule,
    mixture_velocity,
    mmd,
    quality_table,
    toy_mixture,
    train_denoiser,
)


def emit(**record: object) -> None:
    print(json.dumps(record), flush=True)


def summary(rows: list[dict], floor: float) -> dict:
    """Fewest NFE for DDIM(eta=0) within 2x floor, and DDPM's NFE for the same MMD."""
    ddim = sorted(
        (r for r in rows if r["sampler"] == "ddim" and r["eta"] == 0), key=lambda r: r["nfe"]
    )
    ddpm = sorted((r for r in rows if r["sampler"] == "ddpm"), key=lambda r: r["nfe"])
    hit = next((r for r in ddim if r["mmd"] <= 2 * floor), None)
    if hit is None:
        return {"ddim_nfe_within_2x_floor": None}
    match = next((r for r in ddpm if r["mmd"] <= hit["mmd"]), None)
    return {
        "ddim_nfe_within_2x_floor": hit["nfe"],
        "ddim_mmd": hit["mmd"],
        "ddpm_nfe_for_same_mmd": match["nfe"] if match else None,
        "ddpm_nfe_tried_max": ddpm[-1]["nfe"] if ddpm else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="samples per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="independent runs per cell")
    parser.add_argument("--steps", type=int, nargs="+", default=[10, 20, 50, 100, 200, 500, 1000])
    parser.add_argument("--train-steps", type=int, default=3000, help="the notebooks' fast config")
    parser.add_argument("--device", default=None, help="default: runtime.device()")
    parser.add_argument("--skip-trained", action="store_true")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="n = 1000, 1 repeat, steps 10 20 50 100, no part-1 trained model; part 2 in full",
    )
    parser.add_argument("--skip-part1", action="store_true", help="only the EDM / flow records")
    parser.add_argument("--part2-train-steps", type=int, default=4000, help="EDM/CFM/reflow nets")
    args = parser.parse_args()
    args.part2_trained = not args.skip_trained  # --quick skips only part 1's trained model
    if args.quick:
        args.n, args.repeats, args.steps, args.skip_trained = 1000, 1, [10, 20, 50, 100], True

    dev = runtime.device(args.device)
    mix = toy_mixture()
    gen = torch.Generator().manual_seed(0)

    def draw(n: int, g: torch.Generator) -> torch.Tensor:
        return mix.sample(n, generator=g)

    emit(
        kind="setup",
        device=str(dev),
        torch=torch.__version__,
        machine=platform.processor() or "cpu",
        threads=torch.get_num_threads(),
        n=args.n,
        repeats=args.repeats,
        data="toy_mixture",
    )
    floor, floor_sd = data_floor(draw, args.n, repeats=max(args.repeats, 5), generator=gen)
    swd_floor, _ = data_floor(draw, args.n, "swd", repeats=max(args.repeats, 5), generator=gen)
    emit(kind="floor", n=args.n, mmd=floor, mmd_sd=floor_sd, swd=swd_floor)

    models = {"exact": mix.denoiser}
    if not args.skip_trained and not args.skip_part1:
        start = time.perf_counter()
        cfg = TrainConfig(
            data="toy_mixture", net="mlp", steps=args.train_steps, hidden=128, depth=3
        )
        res = train_denoiser(cfg, device=dev, progress=False)
        emit(
            kind="training",
            steps=cfg.steps,
            from_cache=res.from_cache,
            seconds=round(time.perf_counter() - start, 2),
            final_loss=float(res.losses[-100:].mean()),
        )
        models["trained"] = res.model

    for label, den in models.items() if not args.skip_part1 else ():
        start = time.perf_counter()
        rows = quality_table(
            den,
            draw,
            steps=tuple(args.steps),
            n=args.n,
            repeats=args.repeats,
            schedule=make_schedule("linear", 1000),
            sde=VPSDE(),
            device=dev,
        )
        for r in rows:
            emit(kind="quality", model=label, **r, mmd_over_floor=r["mmd"] / floor)
        emit(
            kind="summary",
            model=label,
            floor=floor,
            seconds=round(time.perf_counter() - start, 1),
            **summary(rows, floor),
        )

    part2(args, dev, draw, floor)


def _mean_mmd(sample, draw, n: int, repeats: int, seed: int) -> float:
    """MMD of ``sample(x_T)`` to fresh data, averaged over ``repeats`` seeded runs."""
    vals = []
    for r in range(repeats):
        g = torch.Generator().manual_seed(seed + r)
        vals.append(mmd(sample(g).double().cpu(), draw(n, g)))
    return sum(vals) / len(vals)


def part2(args: argparse.Namespace, dev: torch.device, draw, floor: float) -> None:
    """EDM samplers on the rho = 7 schedule and rectified flow before/after reflow."""
    mix = toy_mixture()
    n, reps = args.n, args.repeats
    edm_models = {"exact": mix.denoiser}
    flows = {"exact": lambda x, t: mixture_velocity(mix, x.double(), t.double()).to(x.dtype)}
    reflows = {}
    if args.part2_trained:
        common = {"steps": args.part2_train_steps, "hidden": 128, "depth": 3}
        for name, cfg in (
            (
                "edm",
                TrainConfig(net="edm_mlp", objective="edm", extra={"sigma_data": 1.0}, **common),
            ),
            ("cfm", TrainConfig(net="velocity_mlp", objective="cfm", **common)),
            (
                "reflow",
                TrainConfig(
                    data="toy_mixture_reflow", net="velocity_mlp", objective="reflow", **common
                ),
            ),
        ):
            start = time.perf_counter()
            res = train_denoiser(cfg, device=dev, progress=False)
            emit(
                kind="training",
                model=name,
                steps=cfg.steps,
                from_cache=res.from_cache,
                seconds=round(time.perf_counter() - start, 2),
                final_loss=float(res.losses[-100:].mean()),
            )
            if name == "edm":
                edm_models["trained"] = res.model
            elif name == "cfm":
                flows["trained"] = res.model
            else:
                reflows["trained"] = res.model
    heun_rows = []
    for label, den in edm_models.items():
        dtype = torch.float64 if label == "exact" else torch.float32
        for n_steps in (5, 10, 18, 20, 32):
            for solver in ("euler", "heun"):
                sig = edm_sigmas(n_steps, rho=7.0, dtype=dtype, device=dev)
                nfe = n_steps if solver == "euler" else 2 * n_steps - 1

                def sample(g, sig=sig, solver=solver, den=den, dtype=dtype):
                    x_T = 80.0 * torch.randn(n, 2, generator=g, dtype=dtype).to(dev)
                    return edm_sample(den, x_T, sig, solver=solver).x

                m = _mean_mmd(sample, draw, n, reps, seed=100)
                row = {"model": label, "solver": solver, "rho": 7.0, "steps": n_steps, "nfe": nfe}
                emit(kind="edm_quality", **row, mmd=m, mmd_over_floor=m / floor)
                if label == "exact" and solver == "heun":
                    heun_rows.append((nfe, m))
    one_step = {}
    for stage, group in (("before_reflow", flows), ("after_reflow", reflows)):
        for label, v in group.items():
            for k in (1, 2, 4, 8):

                def sample(g, v=v, k=k):
                    x1 = torch.randn(n, 2, generator=g).to(dev)
                    with torch.no_grad():
                        return flow_euler_sample(v, x1, k).x

                m = _mean_mmd(sample, draw, n, reps, seed=200)
                emit(
                    kind="flow_quality",
                    stage=stage,
                    model=label,
                    steps=k,
                    nfe=k,
                    mmd=m,
                    mmd_over_floor=m / floor,
                )
                if k == 1:
                    one_step[(stage, label)] = m
    hit = next((nfe for nfe, m in sorted(heun_rows) if m <= 2 * floor), None)
    summary_rec = {"edm_heun_exact_nfe_within_2x_floor": hit, "floor": floor}
    if ("after_reflow", "trained") in one_step:
        after = one_step[("after_reflow", "trained")]
        for label in flows:
            before = one_step[("before_reflow", label)]
            summary_rec[f"one_step_mmd_ratio_{label}_flow_over_reflow"] = before / after
    emit(kind="edm_summary", **summary_rec)


if __name__ == "__main__":
    main()
