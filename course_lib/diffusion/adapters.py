r"""Bridges to the field's libraries: an integer-timestep eps-model as a denoiser D(x; sigma).

A diffusers UNet (and most DDPM code) is an **eps-prediction model with integer timesteps**,
eps_theta(x_k, k), trained on x_k = sqrt(ab_k) x_0 + sqrt(1 - ab_k) eps for k = 0..T-1, where
ab_k is diffusers' ``alphas_cumprod[k]`` (this library's alpha_bar_{k+1}: see
:meth:`.schedules.Schedule.timesteps` for the index shift). Every sampler of this course
takes a denoiser D(x; sigma) = E[x_0 | x_0 + sigma eps = x] instead. The two are the same
model seen through eq. (3.1) (k-diffusion's ``DiscreteEpsDDPMDenoiser`` does the same):

* level of step k:   sigma_k = sqrt((1 - ab_k) / ab_k);                                 (A.1)
* input scaling:     x_k = x / sqrt(sigma^2 + 1)  (x = x_k / sqrt(ab_k), and
  1 / sqrt(ab_k) = sqrt(sigma_k^2 + 1));                                                (A.2)
* output:            D(x; sigma) = x - sigma eps_theta(x / sqrt(sigma^2 + 1), k(sigma)).   (A.3)

For a sigma that is not one of the sigma_k, k(sigma) is the **nearest** step in log sigma
(``quantize=True``, an integer k as diffusers expects), or the fractional step found by
linear interpolation in log sigma between the two neighbours (``quantize=False``; the model
must accept a float timestep). Outside [sigma_0, sigma_{T-1}] the end step is used. At
sigma = 0 the denoiser is the identity (D(x; 0) = x) and the model is not consulted for
those samples.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..validation import batch_view, check_flag, check_tensor, per_sample
from .schedules import Schedule

__all__ = ["DiscreteEpsDenoiser", "discrete_sigmas"]

EpsModel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def discrete_sigmas(alphas_cumprod: torch.Tensor | Schedule) -> torch.Tensor:
    """sigma_k = sqrt((1 - ab_k)/ab_k), eq. (A.1), for k = 0..T-1 (diffusers' index).

    ``alphas_cumprod``: diffusers' 1-D tensor (length T, decreasing, in (0, 1)) or a course
    :class:`.schedules.Schedule`, whose alpha_bar_1..alpha_bar_T are the same numbers.
    """
    if isinstance(alphas_cumprod, Schedule):
        ab = alphas_cumprod.alpha_bars[1:].double()
    else:
        ab = check_tensor(alphas_cumprod, "alphas_cumprod").double()
        if ab.dim() != 1 or ab.numel() < 2:
            raise ValueError(
                f"alphas_cumprod must be 1-D with at least 2 entries, got shape {tuple(ab.shape)}"
            )
        if torch.any(ab <= 0) or torch.any(ab >= 1) or torch.any(ab[1:] >= ab[:-1]):
            raise ValueError("alphas_cumprod must be strictly decreasing inside (0, 1)")
    return ((1 - ab) / ab).sqrt()


class DiscreteEpsDenoiser:
    """D(x; sigma) of eq. (A.3) for an eps-model ``eps_model(x_k, k)`` with integer steps.

    ``schedule``: the model's training schedule, as diffusers' ``alphas_cumprod`` (length T)
    or a course :class:`.schedules.Schedule` (then the model is called with k = t - 1).
    ``quantize``: nearest integer step (True) or interpolated fractional step (False).
    """

    def __init__(
        self, eps_model: EpsModel, schedule: torch.Tensor | Schedule, *, quantize: bool = True
    ) -> None:
        if not callable(eps_model):
            raise TypeError(
                f"eps_model must be callable as eps_model(x_t, t), got {type(eps_model).__name__}"
            )
        self.eps_model = eps_model
        self.sigmas = discrete_sigmas(schedule)  # sigma_k, increasing in k, float64
        self.log_sigmas = self.sigmas.log()
        self.quantize = check_flag(quantize, "quantize")

    @property
    def sigma_min(self) -> float:
        """sigma_0, the smallest level the model was trained on."""
        return float(self.sigmas[0])

    @property
    def sigma_max(self) -> float:
        """sigma_{T-1}, the largest level the model was trained on."""
        return float(self.sigmas[-1])

    def sigma_to_t(self, sigma: torch.Tensor, *, quantize: bool | None = None) -> torch.Tensor:
        """k(sigma) for sigma > 0: the nearest step in log sigma (a long tensor) or the
        interpolated fractional step (float64), clamped to 0..T-1."""
        quantize = self.quantize if quantize is None else check_flag(quantize, "quantize")
        log_s = torch.as_tensor(sigma, dtype=torch.float64).cpu().log()
        if torch.any(~torch.isfinite(log_s)):
            raise ValueError("sigma_to_t needs finite sigma > 0")
        ls = self.log_sigmas
        if quantize:
            return (log_s.reshape(-1, 1) - ls).abs().argmin(dim=1).reshape(log_s.shape)
        # neighbours k_lo <= k(sigma) <= k_lo + 1 and the weight w in [0, 1] between them
        k_lo = (torch.searchsorted(ls, log_s.contiguous(), right=True) - 1).clamp(0, ls.numel() - 2)
        w = ((log_s - ls[k_lo]) / (ls[k_lo + 1] - ls[k_lo])).clamp(0.0, 1.0)
        return k_lo.double() + w

    def t_to_sigma(self, t: torch.Tensor) -> torch.Tensor:
        """sigma at a (possibly fractional) step t in [0, T-1], interpolated in log sigma."""
        tt = torch.as_tensor(t, dtype=torch.float64).cpu()
        if torch.any(tt < 0) or torch.any(tt > self.sigmas.numel() - 1):
            raise ValueError(f"t must lie in [0, {self.sigmas.numel() - 1}], got {tt}")
        k_lo = tt.floor().long().clamp(max=self.sigmas.numel() - 2)
        w = tt - k_lo
        return ((1 - w) * self.log_sigmas[k_lo] + w * self.log_sigmas[k_lo + 1]).exp()

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor | float) -> torch.Tensor:
        """D(x; sigma) = x - sigma eps(x / sqrt(sigma^2 + 1), k(sigma)), eq. (A.3)."""
        x = check_tensor(x, "x", min_dim=2)
        sig = per_sample(sigma, x, "sigma", low=0)
        live = sig > 0
        out = x.clone()
        if torch.any(live):
            s = sig[live]
            k = self.sigma_to_t(s).to(x.device)  # the model's timestep, eq. (A.1)
            x_k = x[live] / batch_view((s**2 + 1).sqrt(), x[live])  # eq. (A.2)
            eps = self.eps_model(x_k, k)
            if eps.shape != x_k.shape:
                raise ValueError(
                    f"eps_model returned shape {tuple(eps.shape)} for input {tuple(x_k.shape)}"
                )
            out[live] = x[live] - batch_view(s, x_k) * eps.to(x.dtype)  # eq. (A.3)
        return out

    def __repr__(self) -> str:
        return (
            f"DiscreteEpsDenoiser(T={self.sigmas.numel()}, sigma in [{self.sigma_min:.3g}, "
            f"{self.sigma_max:.3g}], quantize={self.quantize})"
        )
