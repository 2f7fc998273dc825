"""Chapter 03 figures and widgets.

Each ``*_figure`` function returns a static ``Figure`` (slides, CI, reading without a
kernel); each ``*_widget`` function returns an ipywidgets box whose controls redraw the
same figure.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from ..plotting import COLORS, course_style, figure_widget, label_axes, new_figure
from ..runtime import make_generator
from ..validation import check_int, check_real
from .ode import tanh_flow
from .rm import PROBLEMS, dvoretzky_moments, dvoretzky_process, robbins_monro
from .schedules import SCHEDULES, PowerStep
from .sgd import sgd_mean

__all__ = [
    "DVORETZKY_CASES",
    "dvoretzky_figure",
    "mean_data",
    "ode_view_figure",
    "rm_explorer_figure",
    "rm_explorer_widget",
    "sgd_mean_figure",
    "sgd_mean_widget",
]


def _lookup(table: dict, key: object, name: str):
    if key not in table:
        raise ValueError(f"{name} must be one of {sorted(table)}, got {key!r}")
    return table[key]


def rm_explorer_figure(
    problem: str = "tanh",
    noise: float = 0.5,
    schedule: str = "1/k",
    n_runs: int = 500,
    n_iter: int = 1000,
    seed: int = 0,
) -> Figure:
    """RM (2.1) on many runs: a few paths, the spread over runs, and the RMS error (log-log)."""
    prob = _lookup(PROBLEMS, problem, "problem")
    sched = _lookup(SCHEDULES, schedule, "schedule")
    noise = check_real(noise, "noise", low=0.0)
    n_runs, n_iter = check_int(n_runs, "n_runs", minimum=1), check_int(n_iter, "n_iter", minimum=1)
    gen = make_generator(seed)
    w1 = torch.full((n_runs,), prob.w1, dtype=torch.float64)
    w = robbins_monro(prob.g, w1, sched, n_iter, noise=noise, generator=gen).numpy()
    k = np.arange(1, n_iter + 2)
    err = w - prob.root
    with course_style():
        fig, (ax_p, ax_s, ax_e) = new_figure(1, 3, width=12.0, height=3.6)
        for i in range(min(n_runs, 12)):
            ax_p.plot(k, w[:, i], lw=0.7, alpha=0.7, color=COLORS[i % len(COLORS)])
        ax_p.axhline(prob.root, color="k", ls="--", lw=0.8, label="root w*")
        ax_p.set_xscale("log")
        label_axes(ax_p, "iteration k", "iterate w_k", prob.name)
        ax_p.legend(fontsize=8)
        lo, med, hi = np.quantile(w, [0.1, 0.5, 0.9], axis=1)
        ax_s.fill_between(k, lo, hi, color=COLORS[0], alpha=0.3, label="10-90% of runs")
        ax_s.plot(k, med, color=COLORS[0], label="median")
        ax_s.axhline(prob.root, color="k", ls="--", lw=0.8)
        ax_s.set_xscale("log")
        label_axes(
            ax_s, "iteration k", "iterate w_k", f"spread over {n_runs} runs, a_k = {schedule}"
        )
        ax_s.legend(fontsize=8)
        rms = np.sqrt((err**2).mean(axis=1))
        ax_e.loglog(k, rms, color=COLORS[3], label="RMS error")
        ax_e.loglog(k, rms[1] * (k / 2.0) ** -0.5, color="k", ls=":", lw=0.8, label="slope -1/2")
        label_axes(ax_e, "iteration k", "RMS |w_k - w*|", f"noise sd {noise:g}")
        ax_e.legend(fontsize=8)
    return fig


def rm_explorer_widget(
    problem: str = "tanh", noise: float = 0.5, schedule: str = "1/k", n_runs: int = 500
) -> widgets.Box:
    """Widget (a): choose g, noise level and step sizes -> paths, spread, error curve."""
    style = {"description_width": "initial"}
    controls = {
        "problem": widgets.Dropdown(options=sorted(PROBLEMS), value=problem, description="g"),
        "noise": widgets.FloatSlider(
            value=noise, min=0.0, max=2.0, step=0.1, description="noise sd", style=style
        ),
        "schedule": widgets.Dropdown(options=list(SCHEDULES), value=schedule, description="a_k"),
    }
    return figure_widget(lambda **v: rm_explorer_figure(n_runs=n_runs, **v), controls)


def mean_data(n: int = 400, seed: int = 0) -> torch.Tensor:
    """A fixed 2-D sample (n, 2): a correlated Gaussian cloud around (1, -0.5)."""
    n = check_int(n, "n", minimum=2)
    gen = make_generator(seed)
    z = torch.randn(n, 2, dtype=torch.float64, generator=gen)
    L = torch.tensor([[1.0, 0.0], [0.6, 0.5]], dtype=torch.float64)
    return z @ L.T + torch.tensor([1.0, -0.5], dtype=torch.float64)


def sgd_mean_figure(
    batch_size: int = 8, schedule: str = "1/k", n_iter: int = 200, n_runs: int = 200, seed: int = 0
) -> Figure:
    """Widget (b)'s figure: SGD (m = 1), MBGD (m = batch_size) and BGD on 2-D mean estimation:
    one trajectory each over the data, and the RMS error over ``n_runs`` runs against k."""
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    sched = _lookup(SCHEDULES, schedule, "schedule")
    n_iter, n_runs = check_int(n_iter, "n_iter", minimum=1), check_int(n_runs, "n_runs", minimum=1)
    data = mean_data(seed=seed)
    mu = data.mean(0)
    w1 = torch.tensor([-2.0, 2.0], dtype=torch.float64).expand(n_runs, 2)
    gen = make_generator(seed + 1)
    k = np.arange(1, n_iter + 2)
    with course_style():
        fig, (ax_t, ax_e) = new_figure(1, 2, width=10.0, height=4.0)
        ax_t.scatter(data[:, 0], data[:, 1], s=4, color="0.7", label="data")
        for i, (name, m) in enumerate(
            [("SGD, m = 1", 1), (f"MBGD, m = {batch_size}", batch_size), ("BGD, all data", None)]
        ):
            w = sgd_mean(data, w1, sched, n_iter, batch_size=m, generator=gen)
            ax_t.plot(w[:, 0, 0], w[:, 0, 1], "-", lw=1, color=COLORS[i], label=name)
            rms = ((w - mu) ** 2).sum(-1).mean(-1).sqrt().numpy()
            ax_e.loglog(k, rms, color=COLORS[i], label=name)
        ax_t.plot(*mu.tolist(), "k*", ms=10, label="sample mean")
        label_axes(ax_t, "coordinate 1", "coordinate 2", f"trajectories, a_k = {schedule}")
        ax_t.legend(fontsize=7, loc="lower right")
        ax_e.set_ylim(bottom=1e-4)  # BGD with a_1 = 1 sits on the mean up to rounding
        label_axes(ax_e, "iteration k", "RMS distance to the mean", f"{n_runs} runs each")
        ax_e.legend(fontsize=8)
    return fig


def sgd_mean_widget(batch_size: int = 8, schedule: str = "1/k") -> widgets.Box:
    """Widget (b): batch size and step sizes -> SGD / MBGD / BGD trajectories and errors."""
    style = {"description_width": "initial"}
    controls = {
        "batch_size": widgets.SelectionSlider(
            options=[1, 2, 4, 8, 16, 32, 64],
            value=batch_size if batch_size in (1, 2, 4, 8, 16, 32, 64) else 8,
            description="MBGD batch m",
            style=style,
        ),
        "schedule": widgets.Dropdown(options=list(SCHEDULES), value=schedule, description="a_k"),
    }
    return figure_widget(sgd_mean_figure, controls)


#: Dvoretzky's recursion (4.1): one admissible and two inadmissible (alpha, beta) pairs.
DVORETZKY_CASES = {
    "alpha = beta = 1/k (admissible)": (PowerStep(), PowerStep()),
    "alpha = 1/(k+1)^2: sum alpha < inf": (PowerStep(1.0, 2.0, 1.0), PowerStep()),
    "beta = 1/sqrt(k): sum beta^2 = inf": (PowerStep(), PowerStep(1.0, 0.5)),
}


def dvoretzky_figure(n_iter: int = 1000, n_runs: int = 2000, seed: int = 0) -> Figure:
    """Mean square E[Delta_k^2] of (4.1): simulated (lines) and exact (4.2) (dots)."""
    n_iter, n_runs = check_int(n_iter, "n_iter", minimum=1), check_int(n_runs, "n_runs", minimum=1)
    gen = make_generator(seed)
    k = np.arange(1, n_iter + 2)
    marks = np.unique(np.geomspace(1, n_iter + 1, 12).astype(int)) - 1
    with course_style():
        fig, ax = new_figure(width=6.4, height=3.8)
        for i, (name, (al, be)) in enumerate(DVORETZKY_CASES.items()):
            d = dvoretzky_process(
                al, be, n_iter, torch.ones(n_runs, dtype=torch.float64), generator=gen
            )
            mean, var = dvoretzky_moments(al, be, n_iter, 1.0, 1.0)
            ax.loglog(k, (d**2).mean(-1).numpy(), color=COLORS[i], lw=1, label=name)
            ax.loglog(k[marks], (mean**2 + var).numpy()[marks], "o", ms=4, color=COLORS[i])
        label_axes(ax, "iteration k", "E[Delta_k^2]", "Dvoretzky: simulated (lines), exact (dots)")
        ax.legend(fontsize=8)
    return fig


def ode_view_figure(noise: float = 0.3, n_iter: int = 3000, seed: int = 0) -> Figure:
    """RM iterates for g = tanh(w - 1) on the time scale t_k = sum a_i (6.1) against (6.3)."""
    noise = check_real(noise, "noise", low=0.0)
    n_iter = check_int(n_iter, "n_iter", minimum=1)
    gen = make_generator(seed)
    prob = PROBLEMS["tanh"]
    with course_style():
        fig, ax = new_figure(width=6.4, height=3.8)
        t_max = 0.0
        for i, c in enumerate((0.5, 0.1)):
            sched = PowerStep(1.0, 1.0, 1.0 / c)  # a_k = c / (1 + c k)
            t = sched.partial_sums(n_iter)
            w = robbins_monro(
                prob.g, torch.full((3,), prob.w1, dtype=torch.float64), sched, n_iter,
                noise=noise, generator=gen,
            )  # fmt: skip
            ax.plot(t, w[:, 0], lw=0.8, color=COLORS[i + 1], label=f"RM, a_1 = {c / (1 + c):.2f}")
            ax.plot(t, w[:, 1:], lw=0.5, alpha=0.5, color=COLORS[i + 1])
            t_max = max(t_max, float(t[-1]))
        ts = torch.linspace(0, t_max, 400, dtype=torch.float64)
        ax.plot(ts, tanh_flow(prob.w1, ts, prob.root), color="k", lw=2, label="ODE dw/dt = -g(w)")
        label_axes(ax, "ODE time t_k = a_1 + ... + a_(k-1)", "w", f"noise sd {noise:g}")
        ax.legend(fontsize=8)
    return fig
