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

Usage: python benchmarks/diffusion_samplers.py [--n 4000] [--repeats 3] [--device cpu]
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
    make_schedule,
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
    args = parser.parse_args()

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
    if not args.skip_trained:
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

    for label, den in models.items():
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


if __name__ == "__main__":
    main()
