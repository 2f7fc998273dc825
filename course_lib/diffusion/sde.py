r"""The SDE view (Song et al. 2021): VP, sub-VP and VE processes (Chapter 05b, section 8).

Each forward process is a linear SDE dx = f(t) x dt + g(t) dw on t in [0, 1] whose marginal,
started at x(0) = x_0, is x(t) = a(t) x_0 + s(t) eps. Mean and variance obey
da/dt = f a and d(s^2)/dt = 2 f s^2 + g^2, which fixes (a, s) from (f, g):

* **VP** (the limit of DDPM): with beta_i = beta(t_i)/N, x_i = sqrt(1 - beta_i) x_{i-1} +
sqrt(beta_i) z
  tends to dx = -1/2 beta(t) x dt + sqrt(beta(t)) dw, beta(t) = beta_min + t (beta_max - beta_min);
  a(t) = exp(-1/2 B(t)), s(t)^2 = 1 - exp(-B(t)), B(t) = int_0^t beta.                      (8.1)
* **sub-VP**: same drift, g(t)^2 = beta(t)(1 - exp(-2 B(t))), s(t) = 1 - exp(-B(t)) <= VP's.  (8.2)
* **VE** (the limit of SMLD's x_i = x_{i-1} + sqrt(sigma_i^2 - sigma_{i-1}^2) z): f = 0,
  g(t) = sigma(t) sqrt(2 log(sigma_max/sigma_min)), sigma(t) = sigma_min (sigma_max/sigma_min)^t;
  a = 1, s(t)^2 = sigma(t)^2 - sigma_min^2.                                                  (8.3)

The reverse-time SDE (Anderson 1982) and the probability-flow ODE sharing the marginals are

    dx = [f x - g^2 grad log p_t(x)] dt + g dw_bar,                                         (8.4)
    dx/dt = f x - 1/2 g^2 grad log p_t(x).                                                  (8.5)

Any model here is a denoiser D(x; sigma) (see :mod:`.samplers`); the score of p_t follows from
Tweedie: grad log p_t(x) = -(x - a D(x/a; s/a)) / s^2.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import torch

from ..validation import check_generator, check_real, check_time, resolve_device
from .schedules import Schedule

__all__ = ["SDE", "TIME_TOLERANCE", "SubVPSDE", "VESDE", "VPSDE", "sde_time"]

#: Relative slack on the time interval [0, 1]: an adaptive ODE solver (torchdiffeq's dopri5)
#: may evaluate a hair past an end; such times are clamped back instead of rejected.
TIME_TOLERANCE = 1e-6


def sde_time(t: float | torch.Tensor, name: str = "t") -> torch.Tensor:
    """t as a float64 tensor in [0, 1]: values in [-TIME_TOLERANCE, 1 + TIME_TOLERANCE] are
    clamped to [0, 1]; anything further out is a ``ValueError`` (NaN included)."""
    tt = check_time(t, name, low=-TIME_TOLERANCE, high=1 + TIME_TOLERANCE, dtype=torch.float64)
    return tt.clamp(0.0, 1.0)


class SDE(ABC):
    """Base class: a linear SDE dx = f(t) x dt + g(t) dw with marginal x(t) = a(t) x_0 + s(t)
    eps."""

    @abstractmethod
    def f(self, t: float | torch.Tensor) -> torch.Tensor:
        """Drift coefficient f(t) (the drift is f(t) x)."""

    @abstractmethod
    def g(self, t: float | torch.Tensor) -> torch.Tensor:
        """Diffusion coefficient g(t)."""

    @abstractmethod
    def a(self, t: float | torch.Tensor) -> torch.Tensor:
        """Marginal mean coefficient a(t): E[x(t) | x_0] = a(t) x_0."""

    @abstractmethod
    def std(self, t: float | torch.Tensor) -> torch.Tensor:
        """Marginal standard deviation std(t), written s(t) in (8.1)-(8.3) (not EDM's scale)."""

    @abstractmethod
    def prior_std(self) -> float:
        """Standard deviation of the Gaussian the reverse process starts from at t = 1."""

    def sigma(self, t: float | torch.Tensor) -> torch.Tensor:
        """Noise-to-signal ratio s(t)/a(t): x(t)/a(t) = x_0 + sigma(t) eps (the denoiser's
        input)."""
        return self.std(t) / self.a(t)

    def prior_sample(
        self,
        shape: tuple[int, ...],
        *,
        generator: torch.Generator | None = None,
        device: str | torch.device | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> torch.Tensor:
        """x(1) ~ N(0, prior_std^2 I) drawn from ``generator``."""
        check_generator(generator)
        gdev = resolve_device(None, generator)
        z = torch.randn(shape, generator=generator, device=gdev, dtype=dtype)
        return (self.prior_std() * z).to(device if device is not None else gdev)


class VPSDE(SDE):
    """Variance preserving SDE, eq. (8.1)."""

    def __init__(self, beta_min: float = 0.1, beta_max: float = 20.0) -> None:
        self.beta_min = check_real(beta_min, "beta_min", low=0, low_open=True)
        self.beta_max = check_real(beta_max, "beta_max", low=self.beta_min)

    def beta(self, t: float | torch.Tensor) -> torch.Tensor:
        """beta(t) = beta_min + t (beta_max - beta_min)."""
        return self.beta_min + sde_time(t) * (self.beta_max - self.beta_min)

    def int_beta(self, t: float | torch.Tensor) -> torch.Tensor:
        """B(t) = int_0^t beta = beta_min t + t^2 (beta_max - beta_min) / 2."""
        t = sde_time(t)
        return self.beta_min * t + 0.5 * t**2 * (self.beta_max - self.beta_min)

    def f(self, t):
        return -0.5 * self.beta(t)

    def g(self, t):
        return self.beta(t).sqrt()

    def a(self, t):
        return torch.exp(-0.5 * self.int_beta(t))

    def std(self, t):
        return (-torch.expm1(-self.int_beta(t))).sqrt()

    def prior_std(self) -> float:
        return 1.0

    def discretize(self, N: int) -> Schedule:
        """The DDPM chain this SDE is the limit of: beta_i = beta(i/N)/N, i = 1..N (eq. 8.1)."""
        if isinstance(N, bool) or not isinstance(N, int) or N < 1:
            raise ValueError(f"N must be a positive int, got {N!r}")
        i = torch.arange(1, N + 1, dtype=torch.float64)
        betas = self.beta(i / N) / N
        if torch.any(betas >= 1):
            raise ValueError(
                f"N = {N} is too small: beta(t)/N reaches {float(betas.max()):.3g} >= 1"
            )
        return Schedule(torch.cat([torch.zeros(1, dtype=torch.float64), betas]))


class SubVPSDE(VPSDE):
    """sub-VP SDE, eq. (8.2): the VP drift with a smaller diffusion."""

    def g(self, t):
        return (self.beta(t) * -torch.expm1(-2 * self.int_beta(t))).sqrt()

    def std(self, t):
        return -torch.expm1(-self.int_beta(t))


class VESDE(SDE):
    """Variance exploding SDE, eq. (8.3)."""

    def __init__(self, sigma_min: float = 0.01, sigma_max: float = 10.0) -> None:
        self.sigma_min = check_real(sigma_min, "sigma_min", low=0, low_open=True)
        self.sigma_max = check_real(sigma_max, "sigma_max", low=self.sigma_min, low_open=True)

    def sigma_t(self, t: float | torch.Tensor) -> torch.Tensor:
        """sigma(t) = sigma_min (sigma_max / sigma_min)^t."""
        return self.sigma_min * (self.sigma_max / self.sigma_min) ** sde_time(t)

    def f(self, t):
        return torch.zeros_like(sde_time(t))

    def g(self, t):
        return self.sigma_t(t) * math.sqrt(2 * math.log(self.sigma_max / self.sigma_min))

    def a(self, t):
        return torch.ones_like(sde_time(t))

    def std(self, t):
        return (self.sigma_t(t) ** 2 - self.sigma_min**2).sqrt()

    def prior_std(self) -> float:
        return math.sqrt(self.sigma_max**2 - self.sigma_min**2)
