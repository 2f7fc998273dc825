r"""Data for Chapter 06: 2-D toys with exact densities and entropies; dequantised digits.

* The toys are Gaussian mixtures (Chapter 05's :class:`~course_lib.diffusion.GaussianMixture`,
  whose log-density is exact): ``toy_mixture`` and ``ring`` from Chapter 05, and ``grid``, a
  3 x 3 grid of equal isotropic components.
* **Entropy** H(p) = -E_p log p(x) (6.1): the best held-out NLL any model can reach, since
  E_p[-log q] = H(p) + KL(p || q) >= H(p). :func:`mixture_entropy` integrates -p log p on a
  fine grid (midpoint rule; the integrand is smooth and decays like a Gaussian, so the rule
  converges fast); :func:`mixture_entropy_mc` is the Monte Carlo route with its standard error.
* **Dequantisation** (6.2). A discrete datum v in {0..n-1}^d has probability mass, not density.
  Adding u ~ U[0, 1)^d and rescaling, y = low + (high - low)(v + u)/n, gives continuous data;
  for any density q on y, by Jensen,

      log P(v) := log int_{bin(v)} q(y) dy >= E_u[log q(y)] + d log((high - low)/n),     (6.2)

  so the continuous NLL plus d log(n / (high - low)) bounds the discrete NLL from above.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..diffusion import GaussianMixture, digits_dataset, ring_mixture, toy_mixture
from ..validation import check_generator, check_int, check_real, check_tensor, resolve_device

__all__ = [
    "DIGIT_LEVELS",
    "TOYS",
    "dequantize",
    "digits_levels",
    "grid_mixture",
    "mixture_entropy",
    "mixture_entropy_mc",
    "toy",
]

DIGIT_LEVELS = 17  # scikit-learn's digits take the values 0..16


def grid_mixture(
    n_side: int = 3, spacing: float = 1.5, std: float = 0.25, *, dtype=torch.float64, device=None
) -> GaussianMixture:
    """n_side^2 equal isotropic Gaussians (std ``std``) on a centred square grid."""
    n_side = check_int(n_side, "n_side", minimum=1)
    spacing = check_real(spacing, "spacing", low=0)
    std = check_real(std, "std", low=0, low_open=True)
    c = spacing * (torch.arange(n_side, dtype=torch.float64) - (n_side - 1) / 2)
    means = torch.cartesian_prod(c, c)
    covs = std**2 * torch.eye(2, dtype=torch.float64).expand(n_side**2, 2, 2)
    return GaussianMixture(torch.ones(n_side**2), means, covs, dtype=dtype, device=device)


#: The chapter's 2-D toys, each with an exact density.
TOYS: dict[str, Callable[[], GaussianMixture]] = {
    "toy_mixture": toy_mixture,
    "ring": ring_mixture,
    "grid": grid_mixture,
}


def toy(name: str) -> GaussianMixture:
    """The mixture behind toy ``name`` (see :data:`TOYS`)."""
    if name not in TOYS:
        raise ValueError(f"unknown toy {name!r}; choose from {sorted(TOYS)}")
    return TOYS[name]()


def mixture_entropy(mix: GaussianMixture, n_grid: int = 800, width: float = 9.0) -> float:
    """H(p) = -int p log p dx of a 2-D mixture, eq. (6.1), by the midpoint rule on an
    ``n_grid``^2 grid covering every component's mean +- ``width`` standard deviations."""
    if not isinstance(mix, GaussianMixture):
        raise TypeError(f"mix must be a GaussianMixture, got {type(mix).__name__}")
    if mix.dim != 2:
        raise ValueError(f"grid integration is for 2-D mixtures, got dimension {mix.dim}")
    n_grid = check_int(n_grid, "n_grid", minimum=10)
    width = check_real(width, "width", low=0, low_open=True)
    sd = mix.eigvals.max().sqrt()
    lo = (mix.means.min(0).values - width * sd).cpu()
    hi = (mix.means.max(0).values + width * sd).cpu()
    h = (hi - lo) / n_grid
    axes = [lo[i] + h[i] * (torch.arange(n_grid, dtype=torch.float64) + 0.5) for i in range(2)]
    pts = torch.cartesian_prod(*axes)
    total = 0.0
    m = mix.to(device="cpu", dtype=torch.float64)
    for chunk in pts.split(200_000):
        logp = m.log_prob(chunk)
        total += float(-(logp.exp() * logp).sum())
    return total * float(h[0] * h[1])


def mixture_entropy_mc(
    mix: GaussianMixture, n: int, *, generator: torch.Generator | None = None
) -> tuple[float, float]:
    """Monte Carlo H(p) = mean of -log p(x_i), x_i ~ p, eq. (6.1); returns (estimate, SE)."""
    if not isinstance(mix, GaussianMixture):
        raise TypeError(f"mix must be a GaussianMixture, got {type(mix).__name__}")
    n = check_int(n, "n", minimum=2)
    x = mix.sample(n, generator=generator, dtype=torch.float64)
    nll = -mix.log_prob(x)
    return float(nll.mean()), float(nll.std() / math.sqrt(n))


def dequantize(
    v: torch.Tensor,
    n_levels: int,
    *,
    low: float = 0.0,
    high: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, float]:
    """Uniform dequantisation (6.2): y = low + (high - low)(v + u)/n_levels, u ~ U[0, 1)^d.

    ``v`` holds integers 0..n_levels-1 (any float or integer dtype; shape (B, ...)). Returns y
    (float) and the log-volume d log((high - low)/n_levels) of one bin, where d is the number
    of values per sample: add it to E[log q(y)] for the bound on log P(v).
    """
    v = check_tensor(v, "v", min_dim=2, floating=False)
    n_levels = check_int(n_levels, "n_levels", minimum=2)
    low, high = check_real(low, "low"), check_real(high, "high")
    if not high > low:
        raise ValueError(f"need high > low, got low={low}, high={high}")
    if torch.any(v != v.round()) or torch.any(v < 0) or torch.any(v > n_levels - 1):
        raise ValueError(f"v must hold integers in 0..{n_levels - 1}")
    check_generator(generator)
    vf = v.double() if not v.is_floating_point() else v
    gdev = resolve_device(None, generator)
    u = torch.rand(vf.shape, generator=generator, device=gdev, dtype=vf.dtype).to(vf.device)
    y = low + (high - low) * (vf + u) / n_levels
    d = math.prod(v.shape[1:])
    return y, d * math.log((high - low) / n_levels)


def digits_levels(device=None) -> torch.Tensor:
    """scikit-learn's 8x8 digits as integer levels 0..16, flattened: (1797, 64) float."""
    x = digits_dataset(device=device, dtype=torch.float64)  # v/8 - 1 in [-1, 1]
    return ((x + 1) * 8).round().flatten(1)
