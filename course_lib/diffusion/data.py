"""Data for Chapter 05: 2-D toy distributions with known densities, and 8x8 digits.

* ``toy_mixture`` / ``ring``: the Gaussian mixtures of :mod:`.mixtures`, so every noised
  marginal, score and denoiser is exact (fresh samples each call: an infinite data set);
* ``digits``: scikit-learn's bundled 8x8 handwritten digits (1797 images, shipped with the
  package, no network), pixel values 0..16 rescaled to [-1, 1], shape (N, 1, 8, 8).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .mixtures import GaussianMixture, ring_mixture, toy_mixture

__all__ = ["TOY_DATASETS", "digits_dataset", "sample_toy", "toy_distribution"]

#: Names of the 2-D toy data sets and the mixtures behind them.
TOY_DATASETS: dict[str, Callable[[], GaussianMixture]] = {
    "toy_mixture": toy_mixture,
    "ring": ring_mixture,
}


def toy_distribution(name: str) -> GaussianMixture:
    """The mixture behind toy data set ``name`` (its exact density and score)."""
    if name not in TOY_DATASETS:
        raise ValueError(f"unknown toy data set {name!r}; choose from {sorted(TOY_DATASETS)}")
    return TOY_DATASETS[name]()


def sample_toy(
    name: str,
    n: int,
    *,
    generator: torch.Generator | None = None,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """n fresh points (n, 2) from toy data set ``name`` (drawn from ``generator``; the mixture's
    ``sample`` validates ``n`` and ``generator``)."""
    return toy_distribution(name).sample(n, generator=generator, device=device, dtype=dtype)


def digits_dataset(
    *, device: str | torch.device | None = None, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """scikit-learn's bundled 8x8 digits as a tensor (1797, 1, 8, 8) in [-1, 1]: x = v/8 - 1."""
    from sklearn.datasets import load_digits

    images = torch.as_tensor(load_digits().images, dtype=dtype)  # (1797, 8, 8), values 0..16
    return (images / 8.0 - 1.0)[:, None].to(device)
