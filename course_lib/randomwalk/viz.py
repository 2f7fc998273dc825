"""Chapter 01 figures and widgets.

Each ``*_figure`` function returns a static ``Figure`` (for slides, CI and reading
without a kernel); each ``*_widget`` function returns an ipywidgets box whose controls
redraw the same figure into an ``ipywidgets.Image``.
"""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..plotting import COLORS, course_style, figure_widget, label_axes, new_figure
from ..runtime import make_generator
from ..validation import check_int, check_probability
from .genfun import hitting_time_pmf
from .paths import first_hitting_times
from .ruin import expected_duration, win_probability
from .scaling_limit import heat_kernel, lattice_density
from .walks import endpoint_mean_var, endpoint_pmf, sample_endpoints, sample_paths

__all__ = [
    "diffusion_limit_figure",
    "endpoint_histogram_figure",
    "endpoint_histogram_widget",
    "path_explorer_figure",
    "path_explorer_widget",
    "ruin_figure",
]


def endpoint_histogram_figure(
    n: int = 50, p: float = 0.5, n_walks: int = 10_000, seed: int = 0, device=None
) -> Figure:
    """Histogram of simulated S_n against the exact pmf (1.1) and the normal approximation."""
    n, n_walks = check_int(n, "n", minimum=1), check_int(n_walks, "n_walks", minimum=1)
    p = check_probability(p)
    gen = make_generator(seed, device)
    s_n = sample_endpoints(n_walks, n, p, generator=gen, device=device).cpu()
    k, probs = endpoint_pmf(n, p)
    freq = (torch.bincount(s_n + n, minlength=2 * n + 1)[k + n].double() / n_walks).numpy()
    k, probs = k.numpy(), probs.numpy()
    mean, var = endpoint_mean_var(n, p)
    with course_style():
        fig, ax = new_figure()
        ax.bar(k, freq, width=1.6, color=COLORS[0], alpha=0.5, label=f"simulated ({n_walks} walks)")
        ax.plot(k, probs, "o", ms=3, color=COLORS[3], label="exact binomial law (1.1)")
        if var > 0:
            x = np.linspace(-n, n, 400)
            # Normal density on the parity lattice (spacing 2): 2 * N(x; mean, var)
            normal = 2 * np.exp(-((x - mean) ** 2) / (2 * var)) / math.sqrt(2 * math.pi * var)
            ax.plot(x, normal, color=COLORS[2], lw=1, label="normal approximation")
        lo, hi = mean - 4.5 * math.sqrt(var) - 2, mean + 4.5 * math.sqrt(var) + 2
        ax.set_xlim(max(-n - 1, lo), min(n + 1, hi))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        label_axes(ax, "position $S_n$ (steps)", "probability", f"$S_{{{n}}}$ for p = {p:.2f}")
        ax.legend(loc="upper left", fontsize=8)
    return fig


def path_explorer_figure(
    n_steps: int = 200,
    n_paths: int = 8,
    level: int = 5,
    p: float = 0.5,
    seed: int = 0,
    n_hist: int = 4000,
    device=None,
) -> Figure:
    """Sample paths with their first passage to ``level`` marked, and the law of T_level (5.4)."""
    n_steps = check_int(n_steps, "n_steps", minimum=1)
    n_paths = check_int(n_paths, "n_paths", minimum=1)
    level = check_int(level, "level", minimum=1)
    gen = make_generator(seed, device)
    paths = sample_paths(max(n_paths, n_hist), n_steps, p, generator=gen, device=device).cpu()
    t_hit = first_hitting_times(paths, level)
    paths_np, t_hit_np = paths.numpy(), t_hit.numpy()
    with course_style():
        fig, (ax, ax_t) = new_figure(1, 2, width=9.6, height=3.6)
        for i in range(n_paths):
            color = COLORS[i % len(COLORS)]
            ax.plot(paths_np[i], lw=0.9, color=color, alpha=0.8)
            if t_hit_np[i] > 0:
                ax.plot(t_hit_np[i], level, "o", color=color, ms=5)
        ax.axhline(level, color="k", lw=0.8, ls="--", label=f"level r = {level}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        label_axes(ax, "step n", "position $S_n$", f"{n_paths} paths, first passages marked")
        ax.legend(loc="upper left", fontsize=8)
        hit = t_hit[t_hit > 0]
        counts = (torch.bincount(hit, minlength=n_steps + 1).double() / t_hit.numel()).numpy()
        exact = hitting_time_pmf(level, n_steps, p).numpy()
        n_axis = np.arange(n_steps + 1)
        ax_t.bar(n_axis, counts, width=1.0, color=COLORS[0], alpha=0.5, label="simulated")
        ax_t.plot(
            n_axis[level::2],
            exact[level::2],
            "-",
            color=COLORS[3],
            lw=1,
            label=r"exact $(r/n)\,P(S_n=r)$",
        )
        miss = (t_hit < 0).double().mean().item()
        label_axes(
            ax_t,
            "first passage time $T_r$ (steps)",
            "probability",
            f"law of $T_{{{level}}}$ (not hit by {n_steps}: {miss:.1%})",
        )
        ax_t.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax_t.legend(fontsize=8)
    return fig


def ruin_figure(N: int = 20, ps: tuple[float, ...] = (0.45, 0.5, 0.55)) -> Figure:
    """Win probability (6.1) and expected duration (6.2) against the starting capital."""
    N = check_int(N, "N", minimum=1)
    ks = list(range(N + 1))
    with course_style():
        fig, (ax_w, ax_d) = new_figure(1, 2, width=9.6, height=3.4)
        for p in ps:
            ax_w.plot(ks, [win_probability(k, N, p) for k in ks], label=f"p = {p}")
            ax_d.plot(ks, [expected_duration(k, N, p) for k in ks], label=f"p = {p}")
        for ax in (ax_w, ax_d):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        label_axes(ax_w, "starting capital k", "P(reach N before 0)", f"win probability, N = {N}")
        label_axes(ax_d, "starting capital k", "expected duration (steps)", "expected duration")
        ax_w.legend(fontsize=8)
    return fig


def diffusion_limit_figure(
    t: float = 1.0, D: float = 0.5, ns: tuple[int, ...] = (4, 16, 64)
) -> Figure:
    """Lattice densities P(X_t = x)/(2 dx) for n = t/dt steps against the heat kernel (7.2)."""
    with course_style():
        fig, ax = new_figure()
        x = torch.linspace(
            -4 * math.sqrt(2 * D * t), 4 * math.sqrt(2 * D * t), 400, dtype=torch.float64
        )
        ax.plot(x, heat_kernel(x, t, D), color="k", lw=2, label="heat kernel p(x, t)")
        for i, n in enumerate(ns):
            dt = t / n
            dx = math.sqrt(2 * D * dt)  # D = dx^2 / (2 dt)
            xs, dens = lattice_density(n, dx)
            ax.plot(
                xs.numpy(),
                dens.numpy(),
                "o-",
                ms=3,
                lw=0.8,
                color=COLORS[i + 1],
                label=f"walk, n = {n} steps",
            )
        label_axes(ax, "position x", "density", f"diffusion limit at t = {t}, D = {D}")
        ax.legend(fontsize=8)
    return fig


def endpoint_histogram_widget(
    n: int = 50, p: float = 0.5, n_walks: int = 10_000, seed: int = 0
) -> widgets.Box:
    """Widget (a): sliders for n, p and the number of walks → histogram of S_n vs the exact pmf."""
    style = {"description_width": "initial"}
    controls = {
        "n": widgets.IntSlider(value=n, min=1, max=200, description="steps n", style=style),
        "p": widgets.FloatSlider(
            value=p, min=0.0, max=1.0, step=0.05, description="p", style=style
        ),
        "n_walks": widgets.SelectionSlider(
            options=[100, 1_000, 10_000, 100_000],
            value=n_walks if n_walks in (100, 1_000, 10_000, 100_000) else 10_000,
            description="walks",
            style=style,
        ),
    }
    return figure_widget(lambda **v: endpoint_histogram_figure(seed=seed, **v), controls)


def path_explorer_widget(
    n_steps: int = 200, n_paths: int = 8, level: int = 5, seed: int = 0
) -> widgets.Box:
    """Widget (b): sample paths with first passage times to a level highlighted."""
    style = {"description_width": "initial"}
    controls = {
        "level": widgets.IntSlider(value=level, min=1, max=20, description="level r", style=style),
        "n_paths": widgets.IntSlider(
            value=n_paths, min=1, max=20, description="paths", style=style
        ),
        "p": widgets.FloatSlider(
            value=0.5, min=0.3, max=0.7, step=0.02, description="p", style=style
        ),
        "seed": widgets.IntText(
            value=seed, description="seed", layout=widgets.Layout(width="140px")
        ),
    }
    return figure_widget(lambda **v: path_explorer_figure(n_steps=n_steps, **v), controls)
