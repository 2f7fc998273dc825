"""Optimisers on a quadratic form, as pure functions returning iterate histories.

Derivation (Chapter 02, sections 5-8). Write H = ∇²f (H = 2A in the article's form,
H = Q in the convenient form ½xᵀQx - pᵀx + c) with eigenvalues 0 < μ_min <= ... <= μ_max
and κ = μ_max / μ_min. Every rate below is stated in terms of H, so the factor 2 between
the two forms is taken care of once, by :meth:`QuadraticForm.hessian`.

Gradient descent x_{k+1} = x_k - η∇f(x_k). Since ∇f(x) = H(x - x*), the error
e_k = x_k - x* obeys

    e_{k+1} = (I - ηH) e_k,   so in the eigenbasis  e_{k,i} = (1 - ημ_i)^k e_{0,i}.     (5.1)

The rate is max_i |1 - ημ_i|, minimised when 1 - ημ_min = -(1 - ημ_max):

    η* = 2 / (μ_min + μ_max),   rate (κ - 1) / (κ + 1).                               (5.2)

Heavy ball (Polyak) x_{k+1} = x_k - α∇f(x_k) + β(x_k - x_{k-1}). Per eigen-component,
(e_{k+1}, e_k) = T_μ (e_k, e_{k-1}) with T_μ = [[1 + β - αμ, -β], [1, 0]].              (6.1)
With α = 4/(√μ_max + √μ_min)² and β = ((√κ - 1)/(√κ + 1))², every T_μ has eigenvalues
of modulus √β, so the rate is (√κ - 1)/(√κ + 1) (asymptotically: at μ_min and μ_max T_μ
is a Jordan block and the error carries an extra factor k).                           (6.2)

Newton x_{k+1} = x_k - H⁻¹∇f(x_k) = x_k - (x_k - x*) = x*: one step.                  (7.1)

Conjugate gradients for Hx = p (the stationary equation ∇f = 0, with p = -b):
r₀ = p - Hx₀ = -∇f(x₀), d₀ = r₀, and
    α_k = r_kᵀr_k / d_kᵀHd_k,  x_{k+1} = x_k + α_k d_k,  r_{k+1} = r_k - α_k Hd_k,
    β_k = r_{k+1}ᵀr_{k+1} / r_kᵀr_k,  d_{k+1} = r_{k+1} + β_k d_k.                      (8.1)
The directions are H-conjugate, so x_k minimises f over x₀ + span(d₀..d_{k-1}) and x_n = x*
in exact arithmetic (in m steps when H has m distinct eigenvalues); the Chebyshev bound is

    ‖e_k‖_H <= 2 ((√κ - 1)/(√κ + 1))^k ‖e_0‖_H,   ‖e‖_H = √(eᵀHe).                      (8.2)
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch

from ..validation import check_generator, check_int, check_real, check_tensor, resolve_device
from .forms import QuadraticForm

__all__ = [
    "cg_error_bound",
    "conjugate_gradient",
    "conjugate_gradient_iterates",
    "gd_optimal_step",
    "gd_rate",
    "gd_rate_for_step",
    "gradient_descent",
    "gradient_descent_iterates",
    "heavy_ball",
    "heavy_ball_iterates",
    "heavy_ball_parameters",
    "heavy_ball_rate",
    "heavy_ball_rate_for",
    "measured_rate",
    "newton",
    "random_spd",
]


def _check_form(form: object) -> QuadraticForm:
    if not isinstance(form, QuadraticForm):
        raise TypeError(f"form must be a QuadraticForm, got {type(form).__name__}")
    return form


def _start(form: QuadraticForm, x0: object) -> torch.Tensor:
    x0 = check_tensor(x0, "x0", min_dim=1)
    if x0.shape[-1] != form.n or x0.dtype != form.dtype or x0.device != form.device:
        raise ValueError(
            f"x0 must have shape (..., {form.n}), dtype {form.dtype} on {form.device}; "
            f"got {tuple(x0.shape)}, {x0.dtype} on {x0.device}"
        )
    return x0


def _history(it: Iterator[torch.Tensor], n_steps: int) -> torch.Tensor:
    return torch.stack([next(it) for _ in range(n_steps + 1)])


# ---------------------------------------------------------------------------------------
# Theory: steps and rates
# ---------------------------------------------------------------------------------------
def _check_spectrum(mu_min: float, mu_max: float) -> tuple[float, float]:
    mu_min = check_real(mu_min, "mu_min", low=0.0, low_open=True)
    mu_max = check_real(mu_max, "mu_max", low=mu_min)
    return mu_min, mu_max


def gd_optimal_step(mu_min: float, mu_max: float) -> float:
    """η* = 2 / (μ_min + μ_max) for the Hessian's extreme eigenvalues (5.2)."""
    mu_min, mu_max = _check_spectrum(mu_min, mu_max)
    return 2.0 / (mu_min + mu_max)


def gd_rate(kappa: float) -> float:
    """(κ - 1)/(κ + 1): gradient descent's rate with the best fixed step (5.2)."""
    kappa = check_real(kappa, "kappa", low=1.0)
    return (kappa - 1) / (kappa + 1)


def gd_rate_for_step(step: float, mu: object) -> float:
    """max_i |1 - ημ_i|: gradient descent's rate for step η and Hessian eigenvalues μ (5.1)."""
    step = check_real(step, "step", low=0.0, low_open=True)
    mu = torch.as_tensor(mu, dtype=torch.float64)
    return float((1 - step * mu).abs().max())


def heavy_ball_parameters(mu_min: float, mu_max: float) -> tuple[float, float]:
    """(α, β) = (4/(√μ_max + √μ_min)², ((√κ - 1)/(√κ + 1))²) (6.2)."""
    mu_min, mu_max = _check_spectrum(mu_min, mu_max)
    sq_min, sq_max = math.sqrt(mu_min), math.sqrt(mu_max)
    alpha = 4.0 / (sq_max + sq_min) ** 2
    beta = ((sq_max - sq_min) / (sq_max + sq_min)) ** 2
    return alpha, beta


def heavy_ball_rate(kappa: float) -> float:
    """(√κ - 1)/(√κ + 1): heavy ball's rate with its best parameters (6.2)."""
    kappa = check_real(kappa, "kappa", low=1.0)
    return (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)


def heavy_ball_rate_for(step: float, momentum: float, mu: object) -> float:
    """Spectral radius max_μ ρ(T_μ), T_μ = [[1 + β - αμ, -β], [1, 0]] (6.1), for any α, β."""
    alpha = check_real(step, "step", low=0.0, low_open=True)
    beta = check_real(momentum, "momentum", low=0.0)
    mu = torch.as_tensor(mu, dtype=torch.float64).reshape(-1)
    T = torch.zeros(mu.numel(), 2, 2, dtype=torch.float64)
    T[:, 0, 0] = 1 + beta - alpha * mu
    T[:, 0, 1] = -beta
    T[:, 1, 0] = 1.0
    return float(torch.linalg.eigvals(T).abs().max())


def cg_error_bound(kappa: float, k: int) -> float:
    """2((√κ - 1)/(√κ + 1))^k: the bound on ‖e_k‖_H / ‖e_0‖_H for CG (8.2)."""
    k = check_int(k, "k")
    return 2.0 * heavy_ball_rate(kappa) ** k


def measured_rate(errors: object, start: float = 0.5, stop: float = 1.0) -> float:
    """Geometric mean of e_{k+1}/e_k over the tail [start·K, stop·K] of an error sequence.

    (e_j / e_i)^(1/(j - i)) for the window's ends: the asymptotic rate, free of the
    transient at the start. The errors in the window must be positive.
    """
    e = torch.as_tensor(errors, dtype=torch.float64).reshape(-1)
    start = check_real(start, "start", low=0.0, high=1.0)
    stop = check_real(stop, "stop", low=start, high=1.0)
    last = e.numel() - 1
    i, j = int(start * last), int(stop * last)
    if j - i < 2:
        raise ValueError(f"the window needs at least 2 steps, got indices {i}..{j} of {last + 1}")
    window = e[i : j + 1]
    if not bool((window > 0).all() & torch.isfinite(window).all()):
        raise ValueError("errors in the window must be positive and finite (no exact 0)")
    return float((window[-1] / window[0]) ** (1.0 / (j - i)))


def random_spd(
    n: int,
    kappa: float,
    *,
    spectrum: str = "geometric",
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A random SPD matrix U diag(μ) Uᵀ with μ from 1 to κ and U Haar-orthogonal.

    ``spectrum`` spaces the eigenvalues "geometric"-ally or "uniform"-ly between the ends
    (which are exactly 1 and κ). Returns (matrix, eigenvalues ascending).
    """
    n = check_int(n, "n", minimum=2)
    kappa = check_real(kappa, "kappa", low=1.0)
    check_generator(generator)
    dev = resolve_device(device, generator)
    if spectrum == "geometric":
        mu = torch.logspace(0, math.log10(kappa), n, dtype=torch.float64)
    elif spectrum == "uniform":
        mu = torch.linspace(1.0, kappa, n, dtype=torch.float64)
    else:
        raise ValueError(f"spectrum must be 'geometric' or 'uniform', got {spectrum!r}")
    mu[0], mu[-1] = 1.0, kappa
    g = torch.randn(n, n, dtype=torch.float64, generator=generator, device=dev)
    U, R = torch.linalg.qr(g)
    U = U * torch.sign(torch.diagonal(R))  # makes U Haar-distributed
    mu = mu.to(dev)
    H = (U * mu) @ U.T
    H = (H + H.T) / 2
    return H.to(dtype), mu.to(dtype)


# ---------------------------------------------------------------------------------------
# Optimisers
# ---------------------------------------------------------------------------------------
def gradient_descent_iterates(
    form: QuadraticForm, x0: torch.Tensor, step: float
) -> Iterator[torch.Tensor]:
    """x₀, x₁, ... of gradient descent with fixed step η (5.1), without end."""
    form, x = _check_form(form), _start(form, x0)
    step = check_real(step, "step", low=0.0, low_open=True)
    while True:
        yield x
        # region: gd
        # x_{k+1} = x_k - η ∇f(x_k)   (5.1)
        x = x - step * form.gradient(x)
        # endregion: gd


def gradient_descent(
    form: QuadraticForm, x0: torch.Tensor, step: float, n_steps: int
) -> torch.Tensor:
    """Iterates x₀..x_K of gradient descent (5.1), shape (K + 1, *x0.shape)."""
    n_steps = check_int(n_steps, "n_steps")
    return _history(gradient_descent_iterates(form, x0, step), n_steps)


def heavy_ball_iterates(
    form: QuadraticForm, x0: torch.Tensor, step: float, momentum: float
) -> Iterator[torch.Tensor]:
    """x₀, x₁, ... of Polyak's heavy ball (6.1) with x₋₁ = x₀, without end."""
    form, x = _check_form(form), _start(form, x0)
    alpha = check_real(step, "step", low=0.0, low_open=True)
    beta = check_real(momentum, "momentum", low=0.0, high=1.0, high_open=True)
    x_prev = x
    while True:
        yield x
        # region: heavy-ball
        # x_{k+1} = x_k - α ∇f(x_k) + β (x_k - x_{k-1})   (6.1)
        x, x_prev = x - alpha * form.gradient(x) + beta * (x - x_prev), x
        # endregion: heavy-ball


def heavy_ball(
    form: QuadraticForm, x0: torch.Tensor, step: float, momentum: float, n_steps: int
) -> torch.Tensor:
    """Iterates x₀..x_K of heavy ball (6.1), shape (K + 1, *x0.shape)."""
    n_steps = check_int(n_steps, "n_steps")
    return _history(heavy_ball_iterates(form, x0, step, momentum), n_steps)


def newton(form: QuadraticForm, x0: torch.Tensor, n_steps: int = 1) -> torch.Tensor:
    """Iterates of Newton's method x_{k+1} = x_k - H⁻¹∇f(x_k) (7.1), shape (K + 1, *x0.shape)."""
    form, x = _check_form(form), _start(form, x0)
    n_steps = check_int(n_steps, "n_steps")
    H = form.hessian()
    out = [x]
    for _ in range(n_steps):
        # x_{k+1} = x_k - H⁻¹ ∇f(x_k), one solve for the whole batch   (7.1)
        g = form.gradient(x)
        x = x - torch.linalg.solve(H, g.reshape(-1, form.n).T).T.reshape(g.shape)
        out.append(x)
    return torch.stack(out)


def conjugate_gradient_iterates(form: QuadraticForm, x0: torch.Tensor) -> Iterator[torch.Tensor]:
    """x₀, x₁, ... of conjugate gradients on ∇f = 0 (8.1), batched over x0's rows.

    The Hessian must be positive definite (:func:`conjugate_gradient` checks the curvature
    it meets; this generator does not, so that long runs need no host synchronisation).
    Once a residual is exactly 0 that row stays put.
    """
    form, x = _check_form(form), _start(form, x0)
    H = form.hessian()
    # region: cg
    r = -form.gradient(x)  # r₀ = p - Hx₀ = -∇f(x₀)
    d = r
    rr = (r * r).sum(-1, keepdim=True)
    while True:
        yield x
        Hd = d @ H  # H is symmetric, so the rows of d @ H are (H d)ᵀ
        dHd = (d * Hd).sum(-1, keepdim=True)
        alpha = torch.where(dHd > 0, rr / dHd, torch.zeros_like(rr))  # α_k = rᵀr / dᵀHd
        x = x + alpha * d
        r = r - alpha * Hd
        rr_new = (r * r).sum(-1, keepdim=True)
        beta = torch.where(rr > 0, rr_new / rr, torch.zeros_like(rr))  # β_k = r'ᵀr' / rᵀr
        d = r + beta * d
        rr = rr_new
    # endregion: cg


def conjugate_gradient(form: QuadraticForm, x0: torch.Tensor, n_steps: int) -> torch.Tensor:
    """Iterates x₀..x_K of conjugate gradients (8.1), shape (K + 1, *x0.shape).

    ``ValueError`` when the Hessian is not positive definite (checked by its eigenvalues
    for n <= 2048; larger systems are trusted, see the generator).
    """
    form = _check_form(form)
    n_steps = check_int(n_steps, "n_steps")
    if form.n <= 2048:
        mu_min = float(torch.linalg.eigvalsh(form.hessian())[0])
        if not mu_min > 0:
            raise ValueError(
                f"conjugate gradients needs a positive definite Hessian, got smallest "
                f"eigenvalue {mu_min:.3g}"
            )
    return _history(conjugate_gradient_iterates(form, x0), n_steps)
