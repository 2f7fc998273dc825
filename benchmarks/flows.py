"""Held-out NLL and training time of NICE, RealNVP, Glow and a flow-matching CNF on the 2-D
toys, each beside the toy's exact entropy (the gap is KL(p || q) in nats); prints JSON lines.

For every device (CPU, and CUDA when present), toy (toy_mixture, ring, grid) and family, the
model is trained from scratch (``use_cache=False``, so the time is a real training time) with
the same budget of steps, then its NLL is measured on held-out points: by the change of
variables (1.2) for the discrete flows, by the augmented ODE (7.4, dopri5, rtol 1e-5) for the
CNF. One line per run; a final line per device summarises the gaps.

Usage: python benchmarks/flows.py [--steps 2000] [--n-eval 2000] [--devices cpu,cuda]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from course_lib.flows import FlowConfig, heldout_nll, mixture_entropy, toy, train_flow
from course_lib.flows.training import MODEL_FAMILIES

TOY_NAMES = ("toy_mixture", "ring", "grid")


def emit(**record: object) -> None:
    print(json.dumps(record), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--n-eval", type=int, default=2000)
    parser.add_argument("--n-layers", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--devices", default="cpu,cuda")
    args = parser.parse_args()
    devices = [d for d in args.devices.split(",") if d == "cpu" or torch.cuda.is_available()]
    emit(
        kind="meta",
        torch=torch.__version__,
        platform=platform.platform(),
        cpu_threads=torch.get_num_threads(),
        cuda=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        n_layers=args.n_layers,
        n_eval=args.n_eval,
    )
    entropy = {name: mixture_entropy(toy(name)) for name in TOY_NAMES}
    for device in devices:
        gaps = {}
        for name in TOY_NAMES:
            for family in MODEL_FAMILIES:
                cfg = FlowConfig(
                    family=family,
                    data=name,
                    n_layers=args.n_layers,
                    steps=args.steps,
                    batch_size=args.batch_size,
                    lr=args.lr,
                )
                if device == "cuda":
                    torch.cuda.synchronize()
                start = time.perf_counter()
                model = train_flow(cfg, device=device, use_cache=False, progress=False).model
                if device == "cuda":
                    torch.cuda.synchronize()
                train_s = time.perf_counter() - start
                ode = {"rtol": 1e-5, "atol": 1e-7} if family == "cnf" else {}
                start = time.perf_counter()
                nll, se = heldout_nll(model, toy(name), args.n_eval, **ode)
                eval_s = time.perf_counter() - start
                gaps[f"{name}/{family}"] = round(nll - entropy[name], 4)
                emit(
                    kind="run",
                    device=device,
                    toy=name,
                    family=family,
                    train_s=round(train_s, 2),
                    eval_s=round(eval_s, 2),
                    nll=round(nll, 4),
                    nll_se=round(se, 4),
                    entropy=round(entropy[name], 4),
                    gap_nats=round(nll - entropy[name], 4),
                )
        emit(kind="summary", device=device, gap_nats=gaps)


if __name__ == "__main__":
    main()
