"""Flow matching's entries in the training registries of :mod:`.training` (section 10).

Importing this module (``course_lib.diffusion`` does) registers

* network ``"velocity_mlp"``: :class:`.flow.VelocityNet` (v_theta(x, t));
* objective ``"cfm"``: :func:`.flow.cfm_loss` (eq. 10.3) with independent noise x_1;
* data ``"toy_mixture_reflow"`` and objective ``"reflow"``: reflow (eq. 10.5) of the *exact*
  marginal flow of ``toy_mixture`` -- a fixed pool of :data:`REFLOW_POOL` coupled pairs
  (x_0, x_1), x_0 the :data:`REFLOW_ODE_STEPS`-step Euler solution from x_1 (seed
  :data:`REFLOW_SEED`); batches are rows [x_0, x_1] of shape (B, 4).

EDM's entries are in :mod:`.edm_objectives`.
"""

from __future__ import annotations

import torch
from torch import nn

from .data import toy_distribution
from .flow import VelocityNet, cfm_loss, mixture_velocity, reflow_pairs
from .training import DATASETS, NETWORKS, OBJECTIVES, TrainConfig

__all__ = ["REFLOW_ODE_STEPS", "REFLOW_POOL", "REFLOW_SEED", "exact_reflow_pool"]

REFLOW_POOL = 20_000
REFLOW_ODE_STEPS = 200
REFLOW_SEED = 2022
_POOL_CACHE: dict[tuple[int, int, int], torch.Tensor] = {}


def exact_reflow_pool(
    n: int = REFLOW_POOL, n_steps: int = REFLOW_ODE_STEPS, seed: int = REFLOW_SEED
) -> torch.Tensor:
    """Rows [x_0, x_1] (n, 4), float32: reflow pairs (10.5) of toy_mixture's exact flow (10.2)."""
    key = (n, n_steps, seed)
    if key not in _POOL_CACHE:
        mix = toy_distribution("toy_mixture")
        gen = torch.Generator().manual_seed(seed)
        x0, x1 = reflow_pairs(
            lambda x, t: mixture_velocity(mix, x, t), n, n_steps=n_steps, generator=gen
        )
        _POOL_CACHE[key] = torch.cat([x0, x1], dim=1).float()
    return _POOL_CACHE[key]


def _reflow_batch(n: int, gen: torch.Generator, state: dict) -> torch.Tensor:
    pool = exact_reflow_pool()
    return pool[torch.randint(0, pool.shape[0], (n,), generator=gen)]


def _cfm_objective(
    model: nn.Module, x0: torch.Tensor, gen: torch.Generator, cfg: TrainConfig
) -> torch.Tensor:
    """Conditional flow matching with independent noise, eq. (10.3)."""
    return cfm_loss(model, x0, generator=gen)


def _reflow_objective(
    model: nn.Module, pairs: torch.Tensor, gen: torch.Generator, cfg: TrainConfig
) -> torch.Tensor:
    """Flow matching on coupled pairs [x_0, x_1] (reflow, eq. 10.5)."""
    if pairs.dim() != 2 or pairs.shape[1] % 2:
        raise ValueError(f"reflow batches must have shape (B, 2d), got {tuple(pairs.shape)}")
    d = pairs.shape[1] // 2
    return cfm_loss(model, pairs[:, :d], x_noise=pairs[:, d:], generator=gen)


NETWORKS["velocity_mlp"] = lambda cfg: VelocityNet.mlp(2, cfg.hidden, cfg.depth, cfg.emb_dim)
OBJECTIVES["cfm"] = _cfm_objective
OBJECTIVES["reflow"] = _reflow_objective
DATASETS["toy_mixture_reflow"] = _reflow_batch
