r"""Independent routes for Chapter 05's derivation checks (sympy algebra, Monte Carlo, PDEs).

The chapter's library computes each formula in closed form; the functions here reach the same
quantities by a *different* route, so that a notebook's check compares two computations that
share no code:

* :func:`posterior_by_completing_square` -- sympy multiplies the two Gaussian factors of
  q(x_{t-1} | x_t, x_0) and completes the square: the posterior mean and variance (1.6)-(1.7);
* :func:`ddim_coefficients` -- sympy solves DDIM's undetermined coefficients: the update
  x_{t'} = k x_0 + m x_t + sigma z must keep the marginal q(x_{t'} | x_0) (4.1);
* :func:`neg_elbo_monte_carlo` -- the negative ELBO (2.1) estimated from whole forward
  trajectories, log q(x_{1:T} | x_0) - log p_theta(x_{0:T}), without any KL formula;
* :func:`posterior_mean_mc` -- E[x_0 | a x_0 + s eps = x] by self-normalised importance
  sampling over data draws (Tweedie's formula and the mixture denoiser, 6.3-6.4);
* :func:`fokker_planck_residual` -- the residual of the Fokker-Planck equation
  d_t p = -div(f p) + 1/2 g^2 lap p (8.6) for a density given as a function of (x, t): finite
  differences in t, automatic differentiation in x. With g^2 = 0 it is the continuity equation
  (8.7), (10.7);
* :func:`implicit_score_matching` -- Hyvarinen's per-sample objective tr(grad s) + 1/2 |s|^2
  (7.4), the divergence by automatic differentiation.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp
import torch

from ..validation import check_generator, check_real, check_tensor
from .losses import eps_prediction
from .schedules import Schedule

__all__ = [
    "ddim_coefficients",
    "fokker_planck_residual",
    "implicit_score_matching",
    "neg_elbo_monte_carlo",
    "posterior_by_completing_square",
    "posterior_mean_mc",
]


def posterior_by_completing_square() -> dict[str, sp.Expr]:
    r"""Mean and variance of q(x_{t-1} | x_t, x_0) by completing the square in sympy (1.6)-(1.7).

    The log of q(x_t | x_{t-1}) q(x_{t-1} | x_0) is -E/2 + const with
    E = (x_t - sqrt(alpha) y)^2 / beta + (y - sqrt(ab_prev) x_0)^2 / (1 - ab_prev), y = x_{t-1}.
    E is quadratic in y: E = A y^2 - 2 B y + const, so the posterior is N(B/A, 1/A). Returns the
    symbols (``alpha``, ``ab_prev``, ``x0``, ``xt``) and the simplified ``mean`` and ``var``,
    written with beta = 1 - alpha and ab_t = alpha ab_prev.
    """
    alpha, ab_prev = sp.symbols("alpha abar_prev", positive=True)
    x0, xt, y = sp.symbols("x0 x_t y", real=True)
    beta = 1 - alpha
    E = sp.expand(
        (xt - sp.sqrt(alpha) * y) ** 2 / beta + (y - sp.sqrt(ab_prev) * x0) ** 2 / (1 - ab_prev)
    )
    poly = sp.Poly(E, y)
    A = poly.coeff_monomial(y**2)
    B = -poly.coeff_monomial(y) / 2
    return {
        "alpha": alpha,
        "ab_prev": ab_prev,
        "x0": x0,
        "xt": xt,
        "mean": sp.simplify(B / A),
        "var": sp.simplify(1 / A),
    }


def ddim_coefficients() -> dict[str, sp.Expr]:
    r"""DDIM's update by undetermined coefficients (the seed article's method), solved in sympy.

    Ask for x_{t'} = k x_0 + m x_t + sigma z with z ~ N(0, I) independent of x_t. If
    x_t ~ N(sqrt(ab_t) x_0, (1 - ab_t) I), then x_{t'} has mean (k + m sqrt(ab_t)) x_0 and
    variance m^2 (1 - ab_t) + sigma^2; matching q(x_{t'} | x_0) = N(sqrt(ab_p) x_0, 1 - ab_p)
    gives two equations for (k, m) at any free sigma. Returns the symbols ``ab_t``, ``ab_p``,
    ``sigma`` and the solution ``k``, ``m`` (the root with m > 0).
    """
    ab_t, ab_p, sigma = sp.symbols("abar_t abar_p sigma", positive=True)
    k, m = sp.symbols("k m", real=True)
    eqs = [
        sp.Eq(k + m * sp.sqrt(ab_t), sp.sqrt(ab_p)),
        sp.Eq(m**2 * (1 - ab_t) + sigma**2, 1 - ab_p),
    ]
    sols = sp.solve(eqs, [k, m], dict=True)
    # the two roots differ in the sign of m; DDIM's keeps the direction of the noise (m > 0)
    sol = next(s for s in sols if s[m].subs({ab_t: 0.5, ab_p: 0.8, sigma: 0.1}) > 0)
    return {"ab_t": ab_t, "ab_p": ab_p, "sigma": sigma, "k": sol[k], "m": sol[m]}


def _log_normal(x: torch.Tensor, mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """log N(x; mean, var I) summed over the coordinates of each sample."""
    d = (x - mean) ** 2 / var + torch.log(2 * torch.pi * var)
    return -0.5 * d.flatten(1).sum(1)


@torch.no_grad()
def neg_elbo_monte_carlo(
    x0: torch.Tensor,
    denoiser: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    schedule: Schedule,
    *,
    sigma2: str = "beta",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""One-trajectory estimate of -ELBO = E_q[log q(x_{1:T}|x_0) - log p_theta(x_{0:T})] (2.1).

    Runs the forward chain (1.1) from each x_0, and sums along the path
    log q(x_t | x_{t-1}) minus the model's log p(x_T) + sum_t log p_theta(x_{t-1} | x_t), where
    p_theta(x_{t-1} | x_t) = N(mu_theta, sigma_t^2) with the mean of section 5 and
    sigma_t^2 = beta_t (``sigma2='beta'``) or beta_tilde_t (``'beta_tilde'``, beta_1 at t = 1).
    No KL formula is used: the mean over trajectories is the negative ELBO; shape (B,).
    """
    x0 = check_tensor(x0, "x0", min_dim=2, floating=True)
    check_generator(generator)
    if sigma2 not in ("beta", "beta_tilde"):
        raise ValueError(f"sigma2 must be 'beta' or 'beta_tilde', got {sigma2!r}")
    sch = schedule.to(device=x0.device, dtype=x0.dtype)
    T = sch.T
    path = [x0]
    log_q = torch.zeros(x0.shape[0], dtype=x0.dtype, device=x0.device)
    x = x0
    for t in range(1, T + 1):
        beta = sch.betas[t]
        mean = (1 - beta).sqrt() * x
        x = mean + beta.sqrt() * torch.randn(
            x.shape, generator=generator, dtype=x.dtype, device=x.device
        )
        log_q = log_q + _log_normal(x, mean, beta)
        path.append(x)
    log_p = _log_normal(path[T], torch.zeros_like(x0), torch.ones((), dtype=x0.dtype))
    for t in range(T, 0, -1):
        ab, ab_prev, beta = sch.alpha_bars[t], sch.alpha_bars[t - 1], sch.betas[t]
        eps_hat = eps_prediction(denoiser, path[t], ab)
        mu = (path[t] - beta / (1 - ab).sqrt() * eps_hat) / (1 - beta).sqrt()
        var = beta if (sigma2 == "beta" or t == 1) else (1 - ab_prev) / (1 - ab) * beta
        log_p = log_p + _log_normal(path[t - 1], mu, var)
    return log_q - log_p


def posterior_mean_mc(
    x0_samples: torch.Tensor, x: torch.Tensor, a: float, s: float
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""E[x_0 | a x_0 + s eps = x] by self-normalised importance sampling, with standard errors.

    Weights w_j proportional to N(x; a x_0^{(j)}, s^2 I) over prior draws x_0^{(j)} (M, d); the
    estimate is sum_j w_j x_0^{(j)} and its delta-method standard error
    sqrt(sum_j w_j^2 (x_0^{(j)} - estimate)^2). Returns (mean, se), each of shape (B, d).
    """
    x0_samples = check_tensor(x0_samples, "x0_samples", min_dim=2, floating=True)
    x = check_tensor(x, "x", min_dim=2, floating=True)
    a = check_real(a, "a", low=0, low_open=True)
    s = check_real(s, "s", low=0, low_open=True)
    if x.shape[1] != x0_samples.shape[1]:
        raise ValueError(
            f"x and x0_samples must have the same dimension, got {x.shape[1]} and "
            f"{x0_samples.shape[1]}"
        )
    logw = -((x[:, None, :] - a * x0_samples[None]) ** 2).sum(-1) / (2 * s**2)
    w = torch.softmax(logw, dim=1)  # (B, M)
    mean = w @ x0_samples
    se = ((w[..., None] ** 2) * (x0_samples[None] - mean[:, None]) ** 2).sum(1).sqrt()
    return mean, se


def fokker_planck_residual(
    log_p: Callable[[torch.Tensor, float], torch.Tensor],
    drift: Callable[[torch.Tensor, float], torch.Tensor],
    g2: float,
    x: torch.Tensor,
    t: float,
    *,
    h: float = 1e-5,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""(d_t p, -div(drift p) + 1/2 g2 lap p) at points x (B, d) and time t, eq. (8.6).

    ``log_p(x, t)`` is a density's log, ``drift(x, t)`` a vector field, both differentiable in x.
    d_t p by a central difference of width ``h`` in t (float64 advised); the divergence and the
    Laplacian by automatic differentiation, one coordinate at a time. ``g2 = 0`` gives the
    continuity equation d_t p + div(p v) = 0 (8.7). The two returned tensors (shape (B,)) agree
    when ``p`` solves the equation.
    """
    x = check_tensor(x, "x", min_dim=2, floating=True)
    t = check_real(t, "t")
    g2 = check_real(g2, "g2")
    h = check_real(h, "h", low=0, low_open=True)
    with torch.no_grad():
        dp_dt = (log_p(x, t + h).exp() - log_p(x, t - h).exp()) / (2 * h)
    xr = x.detach().clone().requires_grad_(True)
    p = log_p(xr, t).exp()
    flux = drift(xr, t) * p[:, None]  # f p
    (grad_p,) = torch.autograd.grad(p.sum(), xr, create_graph=True)
    rhs = torch.zeros_like(p)
    for i in range(x.shape[1]):
        (d_flux,) = torch.autograd.grad(flux[:, i].sum(), xr, retain_graph=True)
        (d_grad,) = torch.autograd.grad(grad_p[:, i].sum(), xr, retain_graph=True)
        rhs = rhs - d_flux[:, i] + 0.5 * g2 * d_grad[:, i]
    return dp_dt, rhs.detach()


def implicit_score_matching(
    score: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor
) -> torch.Tensor:
    r"""Hyvarinen's per-sample objective tr(grad_x s(x)) + 1/2 |s(x)|^2, eq. (7.4); shape (B,).

    Its mean over data x ~ p differs from the explicit objective 1/2 E|s - grad log p|^2 by
    the constant 1/2 E|grad log p|^2, whatever the model s. The trace of the Jacobian is
    computed exactly by automatic differentiation (one backward pass per coordinate).
    """
    x = check_tensor(x, "x", min_dim=2, floating=True)
    if not callable(score):
        raise TypeError(f"score must be callable as score(x), got {type(score).__name__}")
    xr = x.detach().clone().requires_grad_(True)
    s = score(xr)
    if s.shape != x.shape:
        raise ValueError(
            f"score(x) must have the shape of x {tuple(x.shape)}, got {tuple(s.shape)}"
        )
    trace = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
    for i in range(x.shape[1]):
        if not s.requires_grad:  # a constant model has a zero Jacobian
            break
        (d,) = torch.autograd.grad(s[:, i].sum(), xr, retain_graph=True)
        trace = trace + d[:, i]
    return (trace + 0.5 * (s**2).sum(1)).detach()
