"""Chapter 02 figures and widgets.

Each ``*_figure`` function returns a static ``Figure`` (slides, CI, reading without a
kernel); each ``*_widget`` function returns an ipywidgets box whose controls redraw the
same figure (:func:`course_lib.plotting.figure_widget`).
"""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from ..plotting import COLORS, figure_widget, label_axes, new_figure
from ..validation import check_int, check_real
from .forms import LEVEL_SETS_2D, QuadraticForm
from .optim import (
    conjugate_gradient,
    gd_optimal_step,
    gd_rate_for_step,
    gradient_descent,
    heavy_ball,
    heavy_ball_parameters,
    heavy_ball_rate_for,
    newton,
)

__all__ = [
    "METHODS",
    "form_from_spectrum",
    "landscape_figure",
    "landscape_widget",
    "race_figure",
    "race_problem",
    "race_widget",
    "step_size_figure",
]

#: The optimisers of the race, by the name the widget shows.
METHODS = ("gradient descent", "heavy ball", "Newton", "conjugate gradient")


def form_from_spectrum(
    lam1: float, lam2: float, angle_deg: float, b1: float = 0.0, b2: float = 0.0, c: float = 0.0
) -> QuadraticForm:
    """f(x) = xᵀAx + bᵀx + c with A = R(θ) diag(λ₁, λ₂) R(θ)ᵀ (4.1), in float64."""
    lam1, lam2 = check_real(lam1, "lam1"), check_real(lam2, "lam2")
    theta = math.radians(check_real(angle_deg, "angle_deg"))
    R = torch.tensor(
        [[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]],
        dtype=torch.float64,
    )
    A = R @ torch.diag(torch.tensor([lam1, lam2], dtype=torch.float64)) @ R.T
    return QuadraticForm(A, [b1, b2], c)


def _grid(radius: float, n: int = 161) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    s = torch.linspace(-radius, radius, n, dtype=torch.float64)
    X, Y = torch.meshgrid(s, s, indexing="ij")
    return X.numpy(), Y.numpy(), torch.stack([X, Y], dim=-1)


def _contours(ax, form: QuadraticForm, radius: float, levels: int = 18) -> None:
    X, Y, pts = _grid(radius)
    F = form.value(pts).numpy()
    if float(F.max() - F.min()) < 1e-12:
        ax.text(0, 0, "f is constant", ha="center")
        return
    cs = ax.contour(X, Y, F, levels=levels, cmap="coolwarm", linewidths=0.9)
    ax.clabel(cs, fontsize=6, fmt="%.2g")


def landscape_figure(
    lam1: float = 2.0,
    lam2: float = 0.5,
    angle_deg: float = 30.0,
    b1: float = 0.0,
    b2: float = 0.0,
    radius: float = 3.0,
) -> Figure:
    """Contours of f = xᵀAx + bᵀx, the eigenvectors of A, and the stationary set with its kind.

    A has eigenvalues λ₁, λ₂ along directions rotated by ``angle_deg``; a zero eigenvalue
    gives the singular cases (a valley/ridge of stationary points, or none at all).
    """
    form = form_from_spectrum(lam1, lam2, angle_deg, b1, b2)
    radius = check_real(radius, "radius", low=0.0, low_open=True)
    st = form.stationary()
    fig, ax = new_figure(width=5.6, height=5.0)
    _contours(ax, form, radius)
    centre = st.point if st.point is not None else torch.zeros(2, dtype=torch.float64)
    for i in range(2):  # eigenvectors of A, drawn from the stationary point (or the origin)
        v = st.eigenvectors[:, i] * 0.35 * radius
        ax.annotate(
            "",
            xy=(float(centre[0] + v[0]), float(centre[1] + v[1])),
            xytext=(float(centre[0]), float(centre[1])),
            arrowprops={"arrowstyle": "->", "color": COLORS[2 + i], "lw": 2},
        )
        ax.plot(
            [], [], color=COLORS[2 + i], label=f"eigenvector, λ = {float(st.eigenvalues[i]):.2f}"
        )
    if st.kind in ("minimum", "maximum", "saddle"):
        ax.plot(*st.point.numpy(), "k*", ms=12, label=f"{st.kind} x*")
    elif st.kind in ("valley", "ridge"):
        t = np.linspace(-3 * radius, 3 * radius, 2)
        line = st.point.numpy()[:, None] + st.directions.numpy()[:, :1] * t
        ax.plot(line[0], line[1], "k--", lw=2, label=f"{st.kind}: a line of stationary points")
    ax.set_xlim(-radius, radius)
    ax.set_ylim(-radius, radius)
    ax.set_aspect("equal")
    shape = LEVEL_SETS_2D[st.kind]
    label_axes(ax, "$x_1$ (units of x)", "$x_2$ (units of x)", f"{st.kind}; level sets: {shape}")
    ax.legend(loc="lower left", fontsize=7)
    return fig


def landscape_widget(lam1: float = 2.0, lam2: float = 0.5, angle_deg: float = 30.0) -> widgets.Box:
    """Widget (a): eigenvalues, rotation and b of a 2×2 form → contours and stationary set."""
    style = {"description_width": "initial"}

    def slider(value, lo, hi, step, desc):
        return widgets.FloatSlider(
            value=value, min=lo, max=hi, step=step, description=desc, style=style
        )

    controls = {
        "lam1": slider(lam1, -3.0, 3.0, 0.25, "λ₁"),
        "lam2": slider(lam2, -3.0, 3.0, 0.25, "λ₂"),
        "angle_deg": slider(angle_deg, 0.0, 180.0, 5.0, "angle (deg)"),
        "b1": slider(0.0, -2.0, 2.0, 0.25, "b₁"),
        "b2": slider(0.0, -2.0, 2.0, 0.25, "b₂"),
    }
    return figure_widget(landscape_figure, controls)


def race_problem(kappa: float = 10.0) -> tuple[QuadraticForm, torch.Tensor, torch.Tensor]:
    """The race's quadratic: ½xᵀHx - pᵀx with H's eigenvalues 1 and κ at 30°, x* = (1, ½),
    and its start x₀ = (-2, 2). Returns (form, x*, x₀)."""
    kappa = check_real(kappa, "kappa", low=1.0)
    f = form_from_spectrum(0.5, 0.5 * kappa, 30.0)  # A = H/2, so H has eigenvalues 1 and κ
    x_star = torch.tensor([1.0, 0.5], dtype=torch.float64)
    form = QuadraticForm(f.A, -2 * f.A @ x_star, 0.0)  # b = -2Ax* puts the minimum at x*
    return form, x_star, torch.tensor([-2.0, 2.0], dtype=torch.float64)


def _run(method: str, form: QuadraticForm, x0, step_scale, momentum, n_steps):
    """History and predicted rate of one method on the race problem."""
    mu = torch.linalg.eigvalsh(form.hessian())
    mu_min, mu_max = float(mu[0]), float(mu[-1])
    if method == "gradient descent":
        eta = step_scale * gd_optimal_step(mu_min, mu_max)
        return gradient_descent(form, x0, eta, n_steps), gd_rate_for_step(eta, mu)
    if method == "heavy ball":
        alpha, beta = heavy_ball_parameters(mu_min, mu_max)
        beta = beta if momentum is None else momentum
        alpha = step_scale * alpha
        return heavy_ball(form, x0, alpha, beta, n_steps), heavy_ball_rate_for(alpha, beta, mu)
    if method == "Newton":
        hist = newton(form, x0, 1)
        return torch.cat([hist, hist[-1:].expand(n_steps - 1, -1)]), 0.0
    if method == "conjugate gradient":
        hist = conjugate_gradient(form, x0, 2)
        return torch.cat([hist, hist[-1:].expand(n_steps - 2, -1)]), None
    raise ValueError(f"method must be one of {METHODS} or 'all', got {method!r}")


def race_figure(
    method: str = "all",
    step_scale: float = 1.0,
    momentum: float | None = None,
    kappa: float = 10.0,
    n_steps: int = 40,
) -> Figure:
    """Optimiser race on one quadratic: trajectories on the contours, and ‖x_k - x*‖ against k
    with each method's predicted rate (5.2), (6.2) drawn as a dashed line ρ^k ‖x₀ - x*‖.

    ``step_scale`` multiplies the best step η* (gradient descent) and α* (heavy ball);
    ``momentum`` is heavy ball's β (``None``: the best β*).
    """
    step_scale = check_real(step_scale, "step_scale", low=0.0, low_open=True)
    n_steps = check_int(n_steps, "n_steps", minimum=3)
    if momentum is not None:
        momentum = check_real(momentum, "momentum", low=0.0, high=1.0, high_open=True)
    methods = METHODS if method == "all" else (method,)
    form, x_star, x0 = race_problem(kappa)
    fig, (ax, ax_e) = new_figure(1, 2, width=10.0, height=4.2)
    _contours(ax, form, 3.0, levels=14)
    ax.plot(*x_star.numpy(), "k*", ms=12, label="minimum x*")
    e0 = float((x0 - x_star).norm())
    k = np.arange(n_steps + 1)
    for i, name in enumerate(methods):
        hist, rho = _run(name, form, x0, step_scale, momentum, n_steps)
        color = COLORS[i]
        path = hist.numpy()
        ax.plot(path[:, 0], path[:, 1], "o-", ms=2.5, lw=1, color=color, label=name)
        err = (hist - x_star).norm(dim=-1).numpy()
        ax_e.semilogy(k, np.maximum(err, 1e-17), "o-", ms=2.5, lw=1, color=color, label=name)
        if rho:
            ax_e.semilogy(k, e0 * rho**k, "--", lw=1, color=color, label=f"predicted ρ = {rho:.3f}")
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    ax.set_aspect("equal")
    label_axes(ax, "$x_1$ (units of x)", "$x_2$ (units of x)", f"trajectories, κ = {kappa:g}")
    ax.legend(loc="lower left", fontsize=7)
    ax_e.set_ylim(1e-16, 1e3)
    label_axes(ax_e, "iteration k", "error ‖x_k − x*‖ (units of x)", "error against iteration")
    ax_e.legend(fontsize=7)
    return fig


def race_widget(kappa: float = 10.0) -> widgets.Box:
    """Widget (b): method, step (× the best step), momentum, κ → trajectories and errors."""
    style = {"description_width": "initial"}
    controls = {
        "method": widgets.Dropdown(options=("all", *METHODS), value="all", description="method"),
        "step_scale": widgets.FloatSlider(
            value=1.0, min=0.1, max=1.5, step=0.05, description="step × best", style=style
        ),
        "momentum": widgets.FloatSlider(
            value=0.27, min=0.0, max=0.95, step=0.01, description="momentum β", style=style
        ),
        "kappa": widgets.SelectionSlider(
            options=[2.0, 5.0, 10.0, 30.0, 100.0], value=kappa, description="κ", style=style
        ),
    }
    return figure_widget(race_figure, controls)


def step_size_figure(mu_min: float = 1.0, mu_max: float = 10.0) -> Figure:
    """Gradient descent's rate max_i |1 - ημ_i| against η (5.1), minimal at η* (5.2)."""
    eta_star = gd_optimal_step(mu_min, mu_max)
    etas = np.linspace(0.01 * eta_star, 2.2 / mu_max, 400)
    fig, ax = new_figure(width=6.0, height=3.4)
    ax.plot(etas, np.abs(1 - etas * mu_min), color=COLORS[0], label="|1 − η μ_min|")
    ax.plot(etas, np.abs(1 - etas * mu_max), color=COLORS[1], label="|1 − η μ_max|")
    rate = [gd_rate_for_step(float(e), [mu_min, mu_max]) for e in etas]
    ax.plot(etas, rate, "k", lw=2.5, alpha=0.4, label="rate = the larger")
    ax.axvline(eta_star, color="k", ls=":", label="η* = 2/(μ_min + μ_max)")
    ax.axhline(1.0, color=COLORS[3], lw=0.8, ls="--", label="divergence above 1")
    label_axes(ax, "step η (units of 1/μ)", "contraction factor per step", "GD rate vs step")
    ax.set_ylim(0, 1.6)
    ax.legend(fontsize=7)
    return fig
