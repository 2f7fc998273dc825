"""Step-size schedules a_1, a_2, ... as small objects that know the Robbins–Monro conditions.

The Robbins–Monro (RM) theorem (Chapter 03, section 2) asks of the step sizes

    sum_k a_k = infinity        (so the iterates can travel any distance),      (2.3a)
    sum_k a_k^2 < infinity      (so the accumulated noise sum a_k eta_k settles). (2.3b)

For the power law a_k = c / (k + k0)^p (c > 0, k0 >= 0) the integral test decides both:
sum a_k diverges iff p <= 1 and sum a_k^2 converges iff 2p > 1, so (2.3) holds exactly for
1/2 < p <= 1. A constant step (p = 0) satisfies (2.3a) but not (2.3b); a_k = 1/k^2 satisfies
(2.3b) but not (2.3a). Each schedule answers these questions analytically
(:attr:`StepSize.sum_diverges`, :attr:`StepSize.squares_summable`) and evaluates its values
as a tensor, so tests can compare the answers with partial sums.
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod

import torch

from ..validation import check_int, check_real, check_tensor

__all__ = [
    "SCHEDULES",
    "ConstantStep",
    "PowerStep",
    "StepSize",
    "resolve_steps",
]


class StepSize(ABC):
    """A deterministic step-size sequence a_k, k = 1, 2, ... (abstract base)."""

    @abstractmethod
    def values(
        self, n: int, *, dtype: torch.dtype = torch.float64, device: str | torch.device = "cpu"
    ) -> torch.Tensor:
        """The first ``n`` step sizes a_1, ..., a_n as a (n,) tensor."""

    @property
    @abstractmethod
    def sum_diverges(self) -> bool:
        """Whether sum_k a_k = infinity (2.3a)."""

    @property
    @abstractmethod
    def squares_summable(self) -> bool:
        """Whether sum_k a_k^2 < infinity (2.3b)."""

    @property
    def satisfies_rm(self) -> bool:
        """Both step-size conditions (2.3a) and (2.3b) of the Robbins–Monro theorem."""
        return self.sum_diverges and self.squares_summable

    @property
    @abstractmethod
    def total(self) -> float:
        """sum_k a_k (``math.inf`` when it diverges): the farthest the iterates can travel
        per unit of |g~| (section 3, the 1/k^2 counter-example)."""

    def partial_sums(self, n: int) -> torch.Tensor:
        """t_{k+1} = a_1 + ... + a_k for k = 0..n (float64, t_1 = 0): the ODE time (5.1)."""
        n = check_int(n, "n")
        a = self.values(n)
        return torch.cat([a.new_zeros(1), torch.cumsum(a, 0)])


class ConstantStep(StepSize):
    """a_k = a for every k: sum a_k diverges, sum a_k^2 diverges too (fails (2.3b))."""

    def __init__(self, a: float) -> None:
        self.a = check_real(a, "a", low=0.0, low_open=True)

    def values(self, n, *, dtype=torch.float64, device="cpu"):
        n = check_int(n, "n")
        return torch.full((n,), self.a, dtype=dtype, device=device)

    @property
    def sum_diverges(self) -> bool:
        return True

    @property
    def squares_summable(self) -> bool:
        return False

    @property
    def total(self) -> float:
        return math.inf  # a > 0 every step

    def __repr__(self) -> str:
        return f"ConstantStep(a={self.a:g})"


class PowerStep(StepSize):
    """a_k = c / (k + k0)^p, c > 0, p > 0, k0 >= 0 (RM conditions iff 1/2 < p <= 1)."""

    def __init__(self, c: float = 1.0, p: float = 1.0, k0: float = 0.0) -> None:
        self.c = check_real(c, "c", low=0.0, low_open=True)
        self.p = check_real(p, "p", low=0.0, low_open=True)
        self.k0 = check_real(k0, "k0", low=0.0)

    def values(self, n, *, dtype=torch.float64, device="cpu"):
        n = check_int(n, "n")
        k = torch.arange(1, n + 1, dtype=torch.float64, device=device)
        # a_k = c / (k + k0)^p, in float64 then cast
        return (self.c / (k + self.k0) ** self.p).to(dtype)

    @property
    def sum_diverges(self) -> bool:
        return self.p <= 1.0  # integral test: int x^-p dx = inf iff p <= 1

    @property
    def squares_summable(self) -> bool:
        return 2 * self.p > 1.0  # integral test on a_k^2 = c^2 / (k + k0)^(2p)

    @property
    def total(self) -> float:
        if self.sum_diverges:
            return math.inf
        # sum_{k>=1} c (k + k0)^-p = c * zeta(p, 1 + k0) (Hurwitz zeta), p > 1
        from scipy.special import zeta

        return float(self.c * zeta(self.p, 1.0 + self.k0))

    def __repr__(self) -> str:
        return f"PowerStep(c={self.c:g}, p={self.p:g}, k0={self.k0:g})"


#: Named schedules for widgets and exercises: the RM choice and its three counter-examples.
SCHEDULES: dict[str, StepSize] = {
    "1/k": PowerStep(1.0, 1.0),
    "1/k^0.6": PowerStep(1.0, 0.6),
    "0.1 (constant)": ConstantStep(0.1),
    "1/k^2": PowerStep(1.0, 2.0),
}


def resolve_steps(
    step_sizes: object,
    n: int,
    *,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """Step sizes a_1..a_n as a (n,) tensor from a :class:`StepSize`, a positive number
    (a constant step) or a 1-D tensor of at least ``n`` non-negative finite values."""
    n = check_int(n, "n")
    if isinstance(step_sizes, StepSize):
        return step_sizes.values(n, dtype=dtype, device=device)
    if isinstance(step_sizes, numbers.Real) and not isinstance(step_sizes, bool):
        return ConstantStep(step_sizes).values(n, dtype=dtype, device=device)
    if isinstance(step_sizes, torch.Tensor):
        a = check_tensor(step_sizes, "step_sizes", min_dim=1)
        if a.dim() != 1 or a.numel() < n:
            raise ValueError(
                f"step_sizes as a tensor must be 1-D with at least n_iter = {n} entries, got "
                f"shape {tuple(a.shape)}"
            )
        a = a[:n]
        if not bool(torch.all(torch.isfinite(a) & (a >= 0))):
            raise ValueError("step_sizes must be finite and >= 0")
        return a.to(dtype=dtype, device=device)
    raise TypeError(
        "step_sizes must be a StepSize, a positive number or a 1-D tensor, got "
        f"{type(step_sizes).__name__}"
    )
