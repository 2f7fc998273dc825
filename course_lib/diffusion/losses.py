r"""The ELBO of DDPM, its Gaussian KL terms, and the epsilon / denoising losses (section 2).

The reverse model p_theta(x_{t-1} | x_t) = N(mu_theta(x_t, t), sigma_t^2 I) is trained by the
negative evidence lower bound, -log p_theta(x_0) <= L = L_T + sum_{t=2}^T L_{t-1} + L_0 with

    L_T     = KL(q(x_T | x_0) || N(0, I)),
    L_{t-1} = KL(q(x_{t-1} | x_t, x_0) || p_theta(x_{t-1} | x_t)),
    L_0     = -log p_theta(x_0 | x_1).                                                   (2.1)

All are KLs between Gaussians; for diagonal Gaussians, per coordinate,

    KL(N(m1, v1) || N(m2, v2)) = 1/2 [log(v2/v1) + (v1 + (m1 - m2)^2)/v2 - 1].              (2.2)

Parametrise mu_theta through a noise prediction,
mu_theta = (x_t - beta_t/sqrt(1 - alpha_bar_t) eps_theta) / sqrt(alpha_t), the same map (1.6)
takes eps to mu_tilde. Then mu_tilde - mu_theta = beta_t / (sqrt(alpha_t) sqrt(1 - alpha_bar_t))
(eps_theta - eps), and with (2.2)

    L_{t-1} = lambda_t ||eps - eps_theta(x_t, t)||^2 + C_t,
    lambda_t = beta_t^2 / (2 sigma_t^2 alpha_t (1 - alpha_bar_t)),                          (2.3)

C_t = d/2 [beta_tilde_t/sigma_t^2 - 1 - log(beta_tilde_t/sigma_t^2)] free of theta. Ho et al. drop
lambda_t and train on

    L_simple = E_{t, x_0, eps} ||eps - eps_theta(x_t, t)||^2,
    x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps,   t ~ U{1..T},                  (2.4)

a reweighted ELBO (weight 1/lambda_t on term t). Denoising score matching (Vincent 2011) at
noise level sigma, E ||s_theta(x_0 + sigma eps) + eps / sigma||^2, is the same loss divided by
sigma^2, with s_theta = -eps_theta / sigma (notebook 05b, section 3).                        (2.5)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..validation import (
    Denoiser,
    batch_view,
    check_denoiser,
    check_device,
    check_int,
    check_tensor,
    check_values,
    per_sample,
    randn_like,
    resolve_device,
)
from .forward import posterior_mean_var, q_sample
from .schedules import Schedule, check_schedule

__all__ = [
    "dsm_loss",
    "elbo_terms",
    "elbo_weight",
    "eps_loss",
    "eps_prediction",
    "gaussian_kl",
    "gaussian_nll",
    "sample_timesteps",
]


def _float_dtype(v: object) -> torch.dtype:
    """A tensor's own floating dtype (float64 for numbers), so checks do not cast."""
    return v.dtype if isinstance(v, torch.Tensor) and v.is_floating_point() else torch.float64


def gaussian_kl(
    mean1: torch.Tensor, var1: torch.Tensor, mean2: torch.Tensor, var2: torch.Tensor
) -> torch.Tensor:
    """Elementwise KL(N(mean1, var1) || N(mean2, var2)), eq. (2.2); sum it over coordinates."""
    var1 = check_values(var1, "var1", low=0, low_open=True, dtype=_float_dtype(var1))
    var2 = check_values(var2, "var2", low=0, low_open=True, dtype=_float_dtype(var2))
    return 0.5 * (torch.log(var2 / var1) + (var1 + (mean1 - mean2) ** 2) / var2 - 1)


def gaussian_nll(x: torch.Tensor, mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """Elementwise -log N(x; mean, var) = 1/2 [log(2 pi var) + (x - mean)^2 / var]."""
    var = check_values(var, "var", low=0, low_open=True, dtype=_float_dtype(var))
    return 0.5 * (torch.log(2 * math.pi * var) + (x - mean) ** 2 / var)


def eps_prediction(denoiser: Denoiser, xt: torch.Tensor, alpha_bar: torch.Tensor) -> torch.Tensor:
    """eps_theta(x_t) from a denoiser, eq. (3.1): x0_hat = D(x_t / sqrt(ab), sigma) and
    eps = (x_t - sqrt(ab) x0_hat) / sqrt(1 - ab).

    sigma = sqrt((1 - ab)/ab) is the noise level of x_t / sqrt(ab) = x_0 + sigma eps (eq. 1.3).
    """
    denoiser, xt = check_denoiser(denoiser), check_tensor(xt, "xt", min_dim=2)
    ab = batch_view(per_sample(alpha_bar, xt, "alpha_bar", low=0, high=1, low_open=True), xt)
    sigma = ((1 - ab) / ab).sqrt().reshape(-1)
    x0_hat = denoiser(xt / ab.sqrt(), sigma)
    return (xt - ab.sqrt() * x0_hat) / (1 - ab).sqrt()


def elbo_weight(schedule: Schedule, t: int | torch.Tensor, sigma2: str = "beta") -> torch.Tensor:
    """lambda_t = beta_t^2 / (2 sigma_t^2 alpha_t (1 - alpha_bar_t)), eq. (2.3), for t >= 1.

    ``sigma2`` picks the reverse variance: 'beta' (sigma_t^2 = beta_t) or 'beta_tilde' (1.7).
    """
    schedule = check_schedule(schedule)
    t = torch.as_tensor(t, device=schedule.betas.device)
    if t.is_floating_point() or t.dtype == torch.bool:
        raise TypeError(f"t must be an int or an integer tensor, got dtype {t.dtype}")
    if torch.any(t < 1) or torch.any(t > schedule.T):
        raise ValueError(f"t must lie in 1..{schedule.T}, got {int(t.min())}..{int(t.max())}")
    beta, alpha, ab = schedule.betas[t], schedule.alphas[t], schedule.alpha_bars[t]
    s2 = _reverse_variance(schedule, t, sigma2)
    return beta**2 / (2 * s2 * alpha * (1 - ab))


def _reverse_variance(schedule: Schedule, t: torch.Tensor, sigma2: str) -> torch.Tensor:
    ab, ab_prev = schedule.alpha_bars[t], schedule.alpha_bars[t - 1]
    if sigma2 == "beta":
        return schedule.betas[t]
    if sigma2 == "beta_tilde":
        # beta_tilde_1 = 0: use beta_1 there, as DDPM's decoder does (L_0 needs a positive variance)
        bt = (1 - ab_prev) / (1 - ab) * schedule.betas[t]
        return torch.where(t == 1, schedule.betas[t], bt)
    raise ValueError(f"sigma2 must be 'beta' or 'beta_tilde', got {sigma2!r}")


def elbo_terms(
    x0: torch.Tensor,
    denoiser: Denoiser,
    schedule: Schedule,
    *,
    sigma2: str = "beta",
    generator: torch.Generator | None = None,
) -> dict[str, torch.Tensor]:
    """The terms of the negative ELBO (2.1) for each sample, one x_t draw per t.

    Returns ``prior`` (L_T, shape (B,)), ``decoder`` (L_0, shape (B,)), ``kl`` (shape (T-1, B):
    row t-2 holds L_{t-1} for t = 2..T), ``eps_sq`` (||eps - eps_theta||^2, same shape) and
    ``total`` = prior + sum(kl) + decoder (nats per sample; x_0 is continuous so L_0 is a density).
    """
    x0 = check_tensor(x0, "x0", min_dim=2)
    schedule = check_schedule(schedule).to(device=x0.device, dtype=x0.dtype)
    T, B = schedule.T, x0.shape[0]
    ab = schedule.alpha_bars
    dims = tuple(range(1, x0.dim()))
    # L_T = KL(N(sqrt(ab_T) x0, 1 - ab_T) || N(0, 1)), summed over coordinates
    prior = gaussian_kl(
        ab[T].sqrt() * x0, 1 - ab[T], torch.zeros_like(x0), torch.ones_like(x0)
    ).sum(dims)
    kls, eps_sq = [], []
    decoder = torch.zeros(B, dtype=x0.dtype, device=x0.device)
    for t in range(1, T + 1):
        xt, eps = q_sample(x0, t, schedule, generator=generator)
        eps_hat = eps_prediction(denoiser, xt, ab[t])
        # mu_theta = (x_t - beta_t / sqrt(1 - ab_t) eps_theta) / sqrt(alpha_t)
        mu_theta = (xt - schedule.betas[t] / (1 - ab[t]).sqrt() * eps_hat) / schedule.alphas[
            t
        ].sqrt()
        var_theta = _reverse_variance(schedule, torch.tensor(t, device=x0.device), sigma2)
        if t == 1:
            # L_0 = -log N(x_0; mu_theta(x_1, 1), sigma_1^2)
            decoder = gaussian_nll(x0, mu_theta, var_theta).sum(dims)
            continue
        mu_q, var_q = posterior_mean_var(x0, xt, t, schedule)
        kls.append(gaussian_kl(mu_q, var_q, mu_theta, var_theta).sum(dims))
        eps_sq.append(((eps - eps_hat) ** 2).sum(dims))
    kl = torch.stack(kls) if kls else x0.new_zeros(0, B)
    eps_sq_t = torch.stack(eps_sq) if eps_sq else x0.new_zeros(0, B)
    return {
        "prior": prior,
        "decoder": decoder,
        "kl": kl,
        "eps_sq": eps_sq_t,
        "total": prior + kl.sum(0) + decoder,
    }


def sample_timesteps(
    n: int, T: int, *, generator: torch.Generator | None = None, device=None
) -> torch.Tensor:
    """t ~ Uniform{1..T}, shape (n,), drawn from ``generator`` (as in eq. 2.4)."""
    n, T = check_int(n, "n", minimum=1), check_int(T, "T", minimum=1)
    device = check_device(device) if device is not None else None
    gdev = resolve_device(None, generator)
    t = torch.randint(1, T + 1, (n,), generator=generator, device=gdev)
    return t.to(device) if device is not None else t


def eps_loss(
    eps_model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x0: torch.Tensor,
    schedule: Schedule,
    *,
    t: torch.Tensor | None = None,
    noise: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """L_simple, eq. (2.4): mean over the batch of ||eps - eps_model(x_t, t)||^2 (summed over
    coordinates).

    ``eps_model(x_t, t)`` takes the long tensor t (B,). Passing ``weights`` (length T+1, indexed
    by t) gives the reweighted loss sum_t w_t ||.||^2, e.g. w = lambda of (2.3) recovers the ELBO.
    """
    x0 = check_tensor(x0, "x0", min_dim=2)
    schedule = check_schedule(schedule)
    if t is None:
        t = sample_timesteps(x0.shape[0], schedule.T, generator=generator, device=x0.device)
    xt, eps = q_sample(x0, t, schedule, noise=noise, generator=generator)
    per_sample = ((eps - eps_model(xt, t.to(x0.device))) ** 2).flatten(1).sum(1)
    if weights is not None:
        per_sample = per_sample * weights.to(device=x0.device, dtype=x0.dtype)[t.to(x0.device)]
    return per_sample.mean()


def dsm_loss(
    score_model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x0: torch.Tensor,
    sigma: torch.Tensor | float,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Denoising score matching, eq. (2.5): E ||s(x_0 + sigma eps, sigma) + eps / sigma||^2 sigma^2.

    The sigma^2 weighting (Song & Ermon 2019) makes every noise level contribute O(1).
    ``sigma`` is a positive scalar or one value per sample.
    """
    x0 = check_tensor(x0, "x0", min_dim=2)
    sig = per_sample(sigma, x0, "sigma", low=0, low_open=True)
    s = batch_view(sig, x0)
    eps = randn_like(x0, generator)
    target = -eps / s  # grad log N(x; x_0, sigma^2) at x = x_0 + sigma eps
    err = (score_model(x0 + s * eps, sig) - target) ** 2 * s**2
    return err.flatten(1).sum(1).mean()
