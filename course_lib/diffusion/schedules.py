r"""Noise schedules of the discrete forward process (Chapter 05, section 1).

DDPM (Ho et al. 2020) corrupts data with a Markov chain of T Gaussian steps

    q(x_t | x_{t-1}) = N(x_t; sqrt(1 - beta_t) x_{t-1}, beta_t I),   t = 1..T.      (1.1)

With alpha_t = 1 - beta_t and the cumulative product

    alpha_bar_t = prod_{s=1}^{t} alpha_s,        alpha_bar_0 = 1,                     (1.2)

the chain has the one-shot marginal q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I)
(see :mod:`.forward`, eq. 1.3). Two schedules are standard:

* **linear** (Ho et al.): beta_t rises linearly from beta_1 = 1e-4 to beta_T = 0.02;           (1.4)
* **cosine** (Nichol & Dhariwal 2021): alpha_bar_t = f(t)/f(0) with
  f(t) = cos^2(((t/T + s)/(1 + s)) pi/2), s = 0.008, and beta_t = 1 - alpha_bar_t/alpha_bar_{t-1}
  clipped at 0.999 so the last step stays a proper contraction.                              (1.5)

Indexing convention used by the whole chapter: every per-step tensor has length T + 1 and is
indexed by t itself; index 0 holds the value at t = 0 (beta_0 = 0, alpha_bar_0 = 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..validation import check_int, check_real

#: Timestep spacings understood by :meth:`Schedule.timesteps` (the last three are diffusers').
SPACINGS = ("uniform", "quadratic", "linspace", "leading", "trailing")

__all__ = [
    "SPACINGS",
    "Schedule",
    "alpha_bar_from_betas",
    "check_schedule",
    "cosine_betas",
    "linear_betas",
    "make_schedule",
]


def linear_betas(
    T: int,
    beta_start: float = 1e-4,
    beta_end: float = 0.02,
    *,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """beta_1..beta_T rising linearly, eq. (1.4); returned with beta_0 = 0 prepended (length T+1).

    ``beta_start`` and ``beta_end`` are the values for T = 1000; for another T they are
    rescaled by 1000/T (as in improved DDPM) so that alpha_bar_T stays near the same value.
    """
    T = check_int(T, "T", minimum=1)
    b0 = check_real(beta_start, "beta_start", low=0, high=1, low_open=True, high_open=True)
    b1 = check_real(beta_end, "beta_end", low=0, high=1, low_open=True, high_open=True)
    if b1 < b0:
        raise ValueError(f"beta_end must be >= beta_start, got {b1} < {b0}")
    scale = 1000.0 / T
    if b1 * scale >= 1:
        raise ValueError(f"T = {T} is too small: rescaled beta_end {b1 * scale:g} would be >= 1")
    # beta_t = beta_start + (t - 1)/(T - 1) (beta_end - beta_start), t = 1..T (times 1000/T)
    betas = torch.linspace(b0 * scale, b1 * scale, T, dtype=dtype, device=device)
    return torch.cat([torch.zeros(1, dtype=dtype, device=device), betas])


def cosine_betas(
    T: int,
    s: float = 0.008,
    max_beta: float = 0.999,
    *,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """beta_t of the cosine schedule, eq. (1.5), with beta_0 = 0 prepended (length T+1)."""
    T = check_int(T, "T", minimum=1)
    s = check_real(s, "s", low=0)
    max_beta = check_real(max_beta, "max_beta", low=0, high=1, low_open=True, high_open=True)
    t = torch.arange(T + 1, dtype=torch.float64)
    # f(t) = cos^2(((t/T + s)/(1 + s)) pi/2), alpha_bar_t = f(t)/f(0)
    f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    # beta_t = 1 - alpha_bar_t / alpha_bar_{t-1}, clipped at max_beta
    betas = (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=max_beta)
    return torch.cat([torch.zeros(1, dtype=torch.float64), betas]).to(dtype=dtype, device=device)


def alpha_bar_from_betas(betas: torch.Tensor) -> torch.Tensor:
    """alpha_bar_t = prod_{s<=t} (1 - beta_s), eq. (1.2), for betas indexed from t = 0."""
    if not isinstance(betas, torch.Tensor) or betas.dim() != 1 or betas.numel() < 2:
        raise ValueError("betas must be a 1-D tensor of length T+1 (beta_0 = 0 first)")
    if betas[0] != 0:
        raise ValueError(f"betas[0] must be 0 (t = 0 is the data), got {float(betas[0])}")
    if torch.any(betas[1:] <= 0) or torch.any(betas[1:] >= 1):
        raise ValueError("every beta_t for t >= 1 must lie in (0, 1)")
    return torch.cumprod(1 - betas, dim=0)


@dataclass(frozen=True)
class Schedule:
    """A discrete noise schedule; every tensor has length T + 1 and is indexed by t.

    Attributes: ``betas`` (beta_t), ``alphas`` (alpha_t = 1 - beta_t), ``alpha_bars``
    (eq. 1.2). Derived per-step quantities are methods so a schedule can move devices.
    """

    betas: torch.Tensor

    def __post_init__(self) -> None:
        alpha_bar_from_betas(self.betas)  # validates

    @property
    def T(self) -> int:
        """Number of noising steps."""
        return self.betas.numel() - 1

    @property
    def alphas(self) -> torch.Tensor:
        """alpha_t = 1 - beta_t."""
        return 1 - self.betas

    @property
    def alpha_bars(self) -> torch.Tensor:
        """alpha_bar_t, eq. (1.2), with alpha_bar_0 = 1."""
        return alpha_bar_from_betas(self.betas)

    def sigmas(self) -> torch.Tensor:
        """Noise-to-signal ratio sigma_t = sqrt((1 - alpha_bar_t)/alpha_bar_t) (sigma_0 = 0).

        x_t / sqrt(alpha_bar_t) = x_0 + sigma_t eps: the "variance-exploding" view of the
        same marginal that every denoiser in this chapter is conditioned on.
        """
        ab = self.alpha_bars
        return torch.sqrt((1 - ab) / ab)

    def to(
        self, device: str | torch.device | None = None, dtype: torch.dtype | None = None
    ) -> Schedule:
        """The same schedule on another device / dtype."""
        return Schedule(self.betas.to(device=device, dtype=dtype))

    def timesteps(
        self, n_steps: int, spacing: str = "uniform", *, steps_offset: int = 0
    ) -> torch.Tensor:
        """A decreasing subsequence tau_n > ... > tau_1 of {1..T} for step skipping (DDIM 4.2).

        The sampler appends the end point t = 0 (alpha_bar_0 = 1) itself. Spacings:

        * ``uniform``: evenly spaced in t, always containing the ends T and 1;
        * ``quadratic``: t ~ T (i/n)^2, denser near the data;
        * ``linspace``, ``leading``, ``trailing``: the ``timestep_spacing`` options of diffusers'
          schedulers (``DDIMScheduler.set_timesteps``), moved to this library's index.

        **Index shift.** diffusers indexes its ``alphas_cumprod`` from 0, so its timestep k is
        this library's t = k + 1 (our alpha_bar_t = diffusers' ``alphas_cumprod[t - 1]``; our
        t = 0 is the clean data, which diffusers has no index for). With T training steps and
        r = T // n (integer division), in diffusers' index k:

        * ``linspace``: k_i = round(i (T - 1)/(n - 1)), i = 0..n-1 (ties to even);
        * ``leading``:  k_i = i r + ``steps_offset`` (Stable Diffusion uses ``steps_offset=1``);
        * ``trailing``: k_i = round(T - i T/n) - 1, i = 0..n-1, so the first step is k = T - 1.

        This method returns t_i = k_i + 1, largest first. ``uniform`` differs from ``linspace``
        only where i (T - 1)/(n - 1) falls on a half-integer (rounding ties). diffusers'
        ``set_alpha_to_one=False`` (the last DDIM step lands on alpha_bar_1, not 1) is an option
        of :func:`.samplers.ddim_sample`, not of the grid.
        """
        n = check_int(n_steps, "n_steps", minimum=1)
        offset = check_int(steps_offset, "steps_offset", minimum=0)
        T = self.T
        if n > T:
            raise ValueError(f"n_steps must be <= T = {T}, got {n}")
        if offset and spacing != "leading":
            raise ValueError(f"steps_offset applies to spacing='leading' only, got {spacing!r}")
        i = torch.arange(n, dtype=torch.float64)
        if spacing == "linspace":  # diffusers: linspace(0, T - 1, n).round(), then + 1
            return self._device_grid(torch.linspace(0, T - 1, n, dtype=torch.float64).round() + 1)
        if spacing == "leading":  # diffusers: arange(n) * (T // n) + steps_offset, then + 1
            ts = i * (T // n) + offset + 1
            if float(ts[-1]) > T:
                raise ValueError(
                    f"steps_offset = {offset} pushes the last leading step to t = "
                    f"{int(ts[-1])} > T = {T}"
                )
            return self._device_grid(ts)
        if spacing == "trailing":  # diffusers: round(arange(T, 0, -T/n)) - 1, then + 1
            return self._device_grid(torch.round(T - i * (T / n)))
        if spacing == "uniform":
            ts = torch.linspace(1, T, n, dtype=torch.float64).round()
        elif spacing == "quadratic":
            ts = (1 + (T - 1) * torch.linspace(0, 1, n, dtype=torch.float64) ** 2).round()
        else:
            raise ValueError(f"spacing must be one of {SPACINGS}, got {spacing!r}")
        ts = torch.unique(ts.long())
        if ts.numel() < n:  # rounding merged steps: fill with the largest unused t's
            missing = [t for t in range(T, 0, -1) if t not in set(ts.tolist())]
            ts = torch.unique(torch.cat([ts, torch.tensor(missing[: n - ts.numel()])]))
        return ts.flip(0).to(self.betas.device)

    def _device_grid(self, ts: torch.Tensor) -> torch.Tensor:
        """Integer steps t, decreasing, on the schedule's device."""
        return torch.sort(ts.long(), descending=True).values.to(self.betas.device)


def make_schedule(
    kind: str = "linear",
    T: int = 1000,
    *,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device | None = None,
) -> Schedule:
    """A :class:`Schedule` of ``kind`` 'linear' (1.4) or 'cosine' (1.5) with ``T`` steps."""
    if kind == "linear":
        return Schedule(linear_betas(T, dtype=dtype, device=device))
    if kind == "cosine":
        return Schedule(cosine_betas(T, dtype=dtype, device=device))
    raise ValueError(f"kind must be 'linear' or 'cosine', got {kind!r}")


def check_schedule(schedule: object) -> Schedule:
    """A :class:`Schedule` (``TypeError`` otherwise)."""
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a Schedule, got {type(schedule).__name__}")
    return schedule
