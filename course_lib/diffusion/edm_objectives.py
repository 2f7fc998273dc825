"""EDM's entries in the training registries of :mod:`.training` (section 9).

Importing this module (``course_lib.diffusion`` does) registers

* network ``"edm_mlp"``: part 1's :class:`.nets.MLP` inside :class:`.edm.EDMPrecond` (eq. 9.5),
  with ``sigma_data`` from ``config.extra`` (default 0.5);
* objective ``"edm"``: :func:`.edm.edm_loss` (eq. 9.6) with ``P_mean``/``P_std`` from
  ``config.extra`` (defaults -1.2, 1.2).

Flow matching's entries are in :mod:`.flow_objectives`.
"""

from __future__ import annotations

import torch
from torch import nn

from .edm import EDMPrecond, edm_loss
from .nets import MLP
from .training import NETWORKS, OBJECTIVES, TrainConfig

__all__: list[str] = []


def _edm_objective(
    model: nn.Module, x0: torch.Tensor, gen: torch.Generator, cfg: TrainConfig
) -> torch.Tensor:
    """EDM's weighted denoising loss, eq. (9.6)."""
    return edm_loss(
        model,
        x0,
        generator=gen,
        P_mean=float(cfg.extra.get("P_mean", -1.2)),
        P_std=float(cfg.extra.get("P_std", 1.2)),
    )


NETWORKS["edm_mlp"] = lambda cfg: EDMPrecond(
    MLP(2, cfg.hidden, cfg.depth, cfg.emb_dim), float(cfg.extra.get("sigma_data", 0.5))
)
OBJECTIVES["edm"] = _edm_objective
