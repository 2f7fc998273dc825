r"""The forward (noising) process and its posterior (Chapter 05, section 1).

Unrolling (1.1), x_t = sqrt(alpha_t) x_{t-1} + sqrt(beta_t) eps_t. A sum of independent Gaussians
is Gaussian: the mean coefficient multiplies to sqrt(alpha_bar_t) and the variances add as
alpha_t (1 - alpha_bar_{t-1}) + beta_t = 1 - alpha_bar_t, so

    q(x_t | x_0) = N(x_t; sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I),
    x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps,   eps ~ N(0, I).              (1.3)

Bayes' rule q(x_{t-1} | x_t, x_0) ∝ q(x_t | x_{t-1}) q(x_{t-1} | x_0) multiplies two Gaussians in
x_{t-1}; completing the square gives the posterior

    q(x_{t-1} | x_t, x_0) = N(mu_tilde_t, beta_tilde_t I),
    mu_tilde_t = sqrt(alpha_bar_{t-1}) beta_t / (1 - alpha_bar_t) x_0
                 + sqrt(alpha_t) (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) x_t,                (1.6)
    beta_tilde_t = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) beta_t.                           (1.7)

The same formulas hold between any two times s < t of the chain (step skipping) with
alpha_t -> alpha_bar_t / alpha_bar_s and beta_t -> 1 - alpha_bar_t / alpha_bar_s; the functions
taking ``alpha_bar_t, alpha_bar_prev`` implement that general form.
"""

from __future__ import annotations

import math

import torch

from ..validation import (
    batch_view,
    check_int,
    check_same_shape,
    check_tensor,
    check_values,
    randn_like,
)
from .schedules import Schedule, check_schedule

__all__ = [
    "bayes_posterior_on_grid",
    "eps_from_x0",
    "iterate_chain",
    "marginal_coefficients",
    "posterior_coefficients",
    "posterior_mean_var",
    "q_sample",
    "x0_from_eps",
]


def _t_index(
    t: int | torch.Tensor, schedule: Schedule, x: torch.Tensor, *, minimum: int = 0
) -> torch.Tensor:
    """t as a long tensor of shape (B,) (a python int is broadcast), checked against 0..T."""
    if isinstance(t, torch.Tensor):
        if t.dtype not in (torch.int32, torch.int64):
            raise TypeError(f"t must be an int or an integer tensor, got dtype {t.dtype}")
        t = t.to(device=x.device, dtype=torch.long).reshape(-1)
        if t.numel() == 1:
            t = t.expand(x.shape[0])
        if t.numel() != x.shape[0]:
            raise ValueError(f"t must have one entry per sample ({x.shape[0]}), got {t.numel()}")
    else:
        t = torch.full((x.shape[0],), check_int(t, "t"), dtype=torch.long, device=x.device)
    if torch.any(t < minimum) or torch.any(t > schedule.T):
        raise ValueError(
            f"t must lie in {minimum}..{schedule.T}, got range {int(t.min())}..{int(t.max())}"
        )
    return t


def marginal_coefficients(
    schedule: Schedule, t: int | torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(sqrt(alpha_bar_t), sqrt(1 - alpha_bar_t)): mean coefficient and std of eq. (1.3)."""
    schedule = check_schedule(schedule)
    t = torch.as_tensor(t, device=schedule.betas.device)
    if t.dtype not in (torch.int32, torch.int64):
        raise TypeError(f"t must be an int or an integer tensor, got dtype {t.dtype}")
    if torch.any(t < 0) or torch.any(t > schedule.T):
        raise ValueError(f"t must lie in 0..{schedule.T}, got {int(t.min())}..{int(t.max())}")
    ab = schedule.alpha_bars[t]
    return ab.sqrt(), (1 - ab).sqrt()


def q_sample(
    x0: torch.Tensor,
    t: int | torch.Tensor,
    schedule: Schedule,
    *,
    noise: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One-shot draw x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps, eq. (1.3).

    ``t`` is an int or a long tensor with one step per sample. Returns ``(x_t, eps)``.
    """
    x0 = check_tensor(x0, "x0")
    t = _t_index(t, check_schedule(schedule), x0)
    eps = randn_like(x0, generator) if noise is None else noise
    if eps.shape != x0.shape:
        raise ValueError(
            f"noise must have the shape of x0 {tuple(x0.shape)}, got {tuple(eps.shape)}"
        )
    # region: q-sample
    ab = batch_view(schedule.alpha_bars.to(x0.device)[t], x0)  # alpha_bar_t, one per sample
    # x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps, eq. (1.3)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * eps, eps
    # endregion: q-sample


def iterate_chain(
    x0: torch.Tensor,
    t_end: int,
    schedule: Schedule,
    *,
    generator: torch.Generator | None = None,
    keep_path: bool = False,
) -> torch.Tensor:
    """Run the Markov chain (1.1) step by step: x_s = sqrt(alpha_s) x_{s-1} + sqrt(beta_s) eps_s.

    Returns x_{t_end} (or, with ``keep_path``, the stack x_0..x_{t_end} of shape
    (t_end+1, *x0.shape)).
    """
    x0 = check_tensor(x0, "x0")
    schedule = check_schedule(schedule)
    t_end = check_int(t_end, "t_end")
    if t_end > schedule.T:
        raise ValueError(f"t_end must be <= T = {schedule.T}, got {t_end}")
    betas = schedule.betas.to(device=x0.device, dtype=x0.dtype)
    x, path = x0, [x0]
    for s in range(1, t_end + 1):
        # x_s = sqrt(1 - beta_s) x_{s-1} + sqrt(beta_s) eps_s
        x = (1 - betas[s]).sqrt() * x + betas[s].sqrt() * randn_like(x, generator)
        if keep_path:
            path.append(x)
    return torch.stack(path) if keep_path else x


def posterior_coefficients(
    alpha_bar_t: torch.Tensor, alpha_bar_prev: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(c_0, c_t, beta_tilde) with mu_tilde = c_0 x_0 + c_t x_t, eqs. (1.6)-(1.7), general s < t.

    beta = 1 - alpha_bar_t / alpha_bar_prev is the variance of the (possibly skipped) step.
    """
    ab_t, ab_p = torch.as_tensor(alpha_bar_t), torch.as_tensor(alpha_bar_prev)
    if torch.any(ab_t >= ab_p) or torch.any(ab_t <= 0) or torch.any(ab_p > 1):
        raise ValueError(
            "need 0 < alpha_bar_t < alpha_bar_prev <= 1 (the previous step is less noisy), got "
            f"alpha_bar_t in {float(ab_t.min())}..{float(ab_t.max())} and alpha_bar_prev in "
            f"{float(ab_p.min())}..{float(ab_p.max())}"
        )
    alpha = ab_t / ab_p  # alpha_t of the step
    beta = 1 - alpha  # beta_t of the step
    c0 = ab_p.sqrt() * beta / (1 - ab_t)  # coefficient of x_0 in (1.6)
    ct = alpha.sqrt() * (1 - ab_p) / (1 - ab_t)  # coefficient of x_t in (1.6)
    var = (1 - ab_p) / (1 - ab_t) * beta  # beta_tilde, eq. (1.7)
    return c0, ct, var


def posterior_mean_var(
    x0: torch.Tensor, xt: torch.Tensor, t: int | torch.Tensor, schedule: Schedule
) -> tuple[torch.Tensor, torch.Tensor]:
    """mu_tilde_t(x_t, x_0) and beta_tilde_t of q(x_{t-1} | x_t, x_0), eqs. (1.6)-(1.7), t >= 1.

    The variance is returned broadcastable against ``x0`` (shape (B, 1, ...)).
    """
    x0, xt = check_tensor(x0, "x0"), check_tensor(xt, "xt")
    if x0.shape != xt.shape:
        raise ValueError(
            f"x0 and xt must have the same shape, got {tuple(x0.shape)} and {tuple(xt.shape)}"
        )
    t = _t_index(t, check_schedule(schedule), x0, minimum=1)
    ab = schedule.alpha_bars.to(x0.device)
    c0, ct, var = posterior_coefficients(ab[t], ab[t - 1])
    c0, ct, var = (batch_view(c, x0) for c in (c0, ct, var))
    return c0 * x0 + ct * xt, var


def _alpha_bar(
    alpha_bar: object, xt: torch.Tensor, *, low_open: bool = False, high_open: bool = False
) -> torch.Tensor:
    """alpha_bar in [0, 1] (ends open as told): a scalar, or (B,) broadcast per sample."""
    ab = check_values(
        alpha_bar,
        "alpha_bar",
        low=0,
        high=1,
        low_open=low_open,
        high_open=high_open,
        dtype=xt.dtype,
        device=xt.device,
    )
    return batch_view(ab, xt) if ab.dim() == 1 else ab


def x0_from_eps(
    xt: torch.Tensor, eps: torch.Tensor, alpha_bar: torch.Tensor | float
) -> torch.Tensor:
    """Invert (1.3): x_0 = (x_t - sqrt(1 - alpha_bar) eps) / sqrt(alpha_bar)."""
    xt, eps = check_same_shape(xt, "xt", eps, "eps")
    ab = _alpha_bar(alpha_bar, xt, low_open=True)  # alpha_bar = 0 would divide by zero
    return (xt - (1 - ab).sqrt() * eps) / ab.sqrt()


def eps_from_x0(
    xt: torch.Tensor, x0: torch.Tensor, alpha_bar: torch.Tensor | float
) -> torch.Tensor:
    """Invert (1.3) for the noise: eps = (x_t - sqrt(alpha_bar) x_0) / sqrt(1 - alpha_bar)."""
    xt, x0 = check_same_shape(xt, "xt", x0, "x0")
    ab = _alpha_bar(alpha_bar, xt, high_open=True)  # alpha_bar = 1 (no noise) would divide by 0
    return (xt - ab.sqrt() * x0) / (1 - ab).sqrt()


def bayes_posterior_on_grid(
    x0: float, xt: float, t: int, schedule: Schedule, grid: torch.Tensor
) -> torch.Tensor:
    """Normalised density of q(x_{t-1} | x_t, x_0) on a 1-D grid, by Bayes' rule directly.

    q(x_{t-1} | x_t, x_0) ∝ N(x_t; sqrt(alpha_t) x_{t-1}, beta_t)
    N(x_{t-1}; sqrt(alpha_bar_{t-1}) x_0, 1 - alpha_bar_{t-1}), normalised by the trapezoid
    rule: an independent check of (1.6)-(1.7).
    """
    schedule = check_schedule(schedule)
    t = check_int(t, "t", minimum=2)  # at t = 1 the posterior is a point mass at x_0
    if t > schedule.T:
        raise ValueError(f"t must be <= T = {schedule.T}, got {t}")
    grid = check_tensor(grid, "grid")
    if grid.dim() != 1:
        raise ValueError(f"grid must be 1-D, got shape {tuple(grid.shape)}")
    g = grid.to(torch.float64)
    beta, alpha = schedule.betas[t].double(), schedule.alphas[t].double()
    ab_prev = schedule.alpha_bars[t - 1].double()

    def log_normal(x, mean, var):
        return -0.5 * ((x - mean) ** 2 / var + torch.log(2 * math.pi * var))

    # log likelihood q(x_t | x_{t-1}) + log prior q(x_{t-1} | x_0)
    log_post = log_normal(xt, alpha.sqrt() * g, beta) + log_normal(
        g, ab_prev.sqrt() * x0, 1 - ab_prev
    )
    dens = torch.exp(log_post - log_post.max())
    return dens / torch.trapezoid(dens, g)
