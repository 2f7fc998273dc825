r"""Sample-quality metrics for 2-D samples: MMD and sliced Wasserstein (section 6).

**MMD.** For a kernel k, MMD^2(P, Q) = E k(x, x') + E k(y, y') - 2 E k(x, y). We report the
square root of the biased (V-statistic) estimate from samples X ~ P, Y ~ Q:

    MMD(X, Y) = sqrt(mean k(X, X) + mean k(Y, Y) - 2 mean k(X, Y)).                       (6.5)

Kernel rule: an equal-weight sum of Gaussian kernels exp(-|x - y|^2 / (2 h^2)) with bandwidths
h = m/8, m/4, m/2, where m is the median pairwise distance of the reference sample Y (the
median heuristic, scaled down so that the shape of each mode, not only the overall layout, is
seen: on the chapter's mixture, components 30 % too wide or too narrow give more than twice the
data floor, while the floor's own standard deviation is 15-25 % of it for n = 2000-4000).

**Sliced Wasserstein.** SW_2(P, Q)^2 = E_theta W_2(theta^T P, theta^T Q)^2 over uniform
directions theta; in 1-D W_2 between equal-size samples pairs sorted values, so

    SW_2(X, Y) = sqrt(mean_theta mean_i (sort(X theta)_i - sort(Y theta)_i)^2).              (6.6)

**The data floor.** Both estimates are positive even when P = Q because the samples are
finite (MMD ~ n^-1/2). :func:`data_floor` measures the metric between two fresh data samples
of the same size; a sampler is "as good as the data allow" when its metric is near the floor.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import torch

from ..validation import check_generator, check_int, check_tensor

__all__ = ["data_floor", "median_distance", "mmd", "quality_table", "sliced_wasserstein"]


def _check_pair(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = check_tensor(x, "x", min_dim=2), check_tensor(y, "y", min_dim=2)
    x, y = x.flatten(1).double(), y.flatten(1).to(x.device).double()
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got {x.shape[1]} and {y.shape[1]}")
    if x.shape[0] == 0 or y.shape[0] == 0:
        raise ValueError(
            f"x and y must hold at least one sample each, got {x.shape[0]} and {y.shape[0]}"
        )
    if not (torch.all(torch.isfinite(x)) and torch.all(torch.isfinite(y))):
        raise ValueError("samples contain NaN or infinity")
    return x, y


def median_distance(y: torch.Tensor, max_points: int = 2000) -> float:
    """Median pairwise Euclidean distance of (the first ``max_points`` rows of) y."""
    max_points = check_int(max_points, "max_points", minimum=2)
    y = check_tensor(y, "y", min_dim=2).flatten(1).double()[:max_points]
    d = torch.pdist(y)
    if d.numel() == 0:
        raise ValueError("need at least 2 points for a median distance")
    return float(d.median())


def mmd(x: torch.Tensor, y: torch.Tensor, *, bandwidths: tuple[float, ...] | None = None) -> float:
    """MMD between samples x (n, d) and reference y (m, d), eq. (6.5), multi-bandwidth Gaussian
    kernel.

    ``bandwidths`` default to (m/8, m/4, m/2) with m = :func:`median_distance` of y.
    """
    x, y = _check_pair(x, y)
    if bandwidths is None:
        m = median_distance(y)
        bandwidths = (m / 8, m / 4, m / 2)
    if not bandwidths or any(
        isinstance(h, bool) or not isinstance(h, numbers.Real) or not 0 < h < math.inf
        for h in bandwidths
    ):
        raise ValueError(f"bandwidths must be positive finite numbers, got {bandwidths}")

    def k(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        d2 = torch.cdist(a, b) ** 2
        return sum(torch.exp(-d2 / (2 * h**2)) for h in bandwidths) / len(bandwidths)

    mmd2 = k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean()
    return float(mmd2.clamp(min=0).sqrt())


def sliced_wasserstein(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    n_projections: int = 256,
    generator: torch.Generator | None = None,
) -> float:
    """SW_2 between equal-size samples, eq. (6.6), with ``n_projections`` random directions."""
    x, y = _check_pair(x, y)
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"sliced_wasserstein needs equal sample sizes, got {x.shape[0]} and {y.shape[0]}"
        )
    n_proj = check_int(n_projections, "n_projections", minimum=1)
    check_generator(generator)
    gdev = generator.device if generator is not None else torch.device("cpu")
    theta = torch.randn(x.shape[1], n_proj, generator=generator, device=gdev, dtype=torch.float64)
    theta = (theta / theta.norm(dim=0, keepdim=True)).to(x.device)
    px, _ = torch.sort(x @ theta, dim=0)
    py, _ = torch.sort(y @ theta, dim=0)
    return float(((px - py) ** 2).mean().sqrt())


def data_floor(
    sample: Callable[[int, torch.Generator], torch.Tensor],
    n: int,
    metric: str = "mmd",
    *,
    repeats: int = 5,
    generator: torch.Generator | None = None,
) -> tuple[float, float]:
    """Mean and standard deviation of the metric between two fresh data samples of size n.

    ``sample(n, generator)`` draws data; ``metric`` is 'mmd' or 'swd'. Averaging ``repeats``
    pairs gives a stable floor to compare samplers with.
    """
    n, repeats = check_int(n, "n", minimum=2), check_int(repeats, "repeats", minimum=2)
    if metric not in ("mmd", "swd"):
        raise ValueError(f"metric must be 'mmd' or 'swd', got {metric!r}")
    vals = []
    for _ in range(repeats):
        a, b = sample(n, generator), sample(n, generator)
        vals.append(mmd(a, b) if metric == "mmd" else sliced_wasserstein(a, b, generator=generator))
    v = torch.tensor(vals)
    return float(v.mean()), float(v.std())


def quality_table(
    denoiser: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    reference: Callable[[int, torch.Generator], torch.Tensor],
    *,
    samplers: tuple[tuple[str, float], ...] = (
        ("ddpm", 1.0),
        ("ddim", 0.0),
        ("ddim", 1.0),
        ("sde_em", 0.0),
        ("pf_euler", 0.0),
    ),
    steps: tuple[int, ...] = (10, 20, 50, 100),
    n: int = 2000,
    repeats: int = 1,
    schedule=None,
    sde=None,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> list[dict]:
    """Sample quality against the number of network evaluations (NFE), one row per setting.

    Each row: sampler, eta, steps, nfe, and the MMD (6.5) and SWD (6.6) against a fresh
    reference sample of size n (``reference(n, generator)``), averaged over ``repeats``
    independent runs (``mmd_sd`` is their standard deviation). Every run has its own generator
    seeded from ``seed``, so the table is reproducible. Defaults: the linear schedule with
    T = 1000 (discrete samplers) and the VP SDE (0.1, 20) that it discretises.
    """
    from .samplers import SAMPLERS, run_sampler
    from .schedules import make_schedule
    from .sde import VPSDE

    schedule = schedule if schedule is not None else make_schedule("linear", 1000)
    sde = sde if sde is not None else VPSDE()
    repeats = check_int(repeats, "repeats", minimum=1)
    for name, _ in samplers:
        if name not in SAMPLERS:
            raise ValueError(f"unknown sampler {name!r}; choose from {SAMPLERS}")
    rows = []
    for i, (name, eta) in enumerate(samplers):
        for j, k in enumerate(steps):
            mmds, swds, nfe = [], [], 0
            for r in range(repeats):
                gen = torch.Generator().manual_seed(seed + 100_000 * r + 1000 * i + j)
                res = run_sampler(
                    name,
                    denoiser,
                    n,
                    k,
                    schedule=schedule,
                    sde=sde,
                    eta=eta,
                    generator=gen,
                    device=device,
                )
                ref = reference(n, gen)
                mmds.append(mmd(res.x, ref))
                swds.append(sliced_wasserstein(res.x, ref, generator=gen))
                nfe = res.nfe
            m = torch.tensor(mmds, dtype=torch.float64)
            rows.append(
                {
                    "sampler": name,
                    "eta": eta,
                    "steps": k,
                    "nfe": nfe,
                    "mmd": float(m.mean()),
                    "mmd_sd": float(m.std()) if repeats > 1 else float("nan"),
                    "swd": float(torch.tensor(swds).mean()),
                }
            )
    return rows
