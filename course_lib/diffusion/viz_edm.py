"""Chapter 05 part 2 figures and widgets of EDM's unified framework (section 9).

As in :mod:`.viz`, every ``*_widget`` redraws the matching ``*_figure`` (a static ``Figure``)
through :func:`course_lib.plotting.figure_widget`:

* (a) :func:`family_widget`: VP / VE / flow / EDM -> s(t) and sigma(t), the noised marginals
  x_t = s(t)(x_0 + sigma(t) eps) (9.1) and the probability-flow ODE trajectories (9.3);
* (b) :func:`sampler_lab_widget`: steps, rho, Euler vs Heun and S_churn -> trajectories and
  samples on EDM's schedule (9.7), with the NFE and the MMD (6.5) to fresh data.

Flow matching's widget (c) lives in :mod:`.viz_flow`.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..plotting import COLORS, course_style, figure_widget, label_axes, new_figure
from ..validation import check_int, check_real
from .edm import EDM, VE, VP, Family, Flow, edm_sample, edm_sigmas, stochastic_sample
from .metrics import mmd
from .mixtures import toy_mixture
from .samplers import Trajectory
from .viz import density_grid, draw_trajectories_and_samples

__all__ = [
    "FAMILIES",
    "family_figure",
    "family_widget",
    "sampler_lab_figure",
    "sampler_lab_widget",
]

#: the families of EDM Table 1 by name, with the sigma_max each is sampled from
FAMILIES: dict[str, Callable[[], Family]] = {"VP": VP, "VE": VE, "flow": Flow, "EDM": EDM}
_LIM = 3.2


def _family(name: str) -> Family:
    if name not in FAMILIES:
        raise ValueError(f"family must be one of {sorted(FAMILIES)}, got {name!r}")
    return FAMILIES[name]()


def family_figure(
    family: str = "EDM", n_steps: int = 18, *, n_traj: int = 16, seed: int = 0
) -> Figure:
    """Widget (a)'s figure: s(t), sigma(t); x_t at three noise levels; ODE trajectories (Heun)."""
    fam = _family(family)
    n_steps = check_int(n_steps, "n_steps", minimum=2)
    n_traj = check_int(n_traj, "n_traj", minimum=1)
    mix = toy_mixture()
    gen = torch.Generator().manual_seed(check_int(seed, "seed"))
    sig = edm_sigmas(n_steps, sigma_max=80.0)
    ts = fam.t_of_sigma(sig)
    t_curve = torch.linspace(float(ts[-2]), float(ts[0]), 300, dtype=torch.float64)
    x0 = mix.sample(600, generator=gen, dtype=torch.float64)
    eps = torch.randn(x0.shape, generator=gen, dtype=torch.float64)
    x_T = float(sig[0] * fam.s(ts[0])) * torch.randn(n_traj, 2, generator=gen, dtype=torch.float64)
    rec = Trajectory()
    res = edm_sample(mix.denoiser, x_T, sig, family=fam, solver="heun", callback=rec)
    traj = rec.stack(res).numpy()
    with course_style():
        fig, (ax1, ax2, ax3) = new_figure(1, 3, width=11.5, height=3.7)
        ax1.plot(t_curve, fam.sigma(t_curve), label=r"$\sigma(t)$")
        ax1.plot(t_curve, fam.s(t_curve), label="$s(t)$")
        ax1.set_yscale("log")
        ax1.legend()
        label_axes(ax1, "time t", "value", f"{family}: scale and noise level")
        X, Y, dens = density_grid(mix)
        ax2.contour(X, Y, dens, levels=6, colors="0.6", linewidths=0.6)
        for k, level in enumerate((0.1, 0.5, 1.5)):
            t = fam.t_of_sigma(torch.tensor(level, dtype=torch.float64))
            xt = fam.s(t) * (x0 + level * eps)  # eq. (9.1)
            ax2.scatter(
                xt[:, 0], xt[:, 1], s=3, alpha=0.5, color=COLORS[k], label=rf"$\sigma$={level}"
            )
        ax2.legend(
            markerscale=3, fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.18)
        )
        label_axes(ax2, "$x_1$", "$x_2$", r"$x_t = s(t)(x_0 + \sigma(t)\epsilon)$")
        for i in range(traj.shape[1]):
            c = COLORS[i % len(COLORS)]
            ax3.plot(traj[:, i, 0], traj[:, i, 1], lw=0.8, color=c, alpha=0.8)
            ax3.plot(traj[-1, i, 0], traj[-1, i, 1], "o", ms=3, color=c)
        ax3.contour(X, Y, dens, levels=6, colors="0.6", linewidths=0.6)
        span = max(_LIM, float(np.abs(traj[-4:]).max()))
        for ax in (ax2, ax3):
            ax.set_xlim(-span, span)
            ax.set_ylim(-span, span)
            ax.set_aspect("equal")
        label_axes(ax3, "$x_1$", "$x_2$", f"ODE paths (last steps), NFE = {res.nfe}")
    return fig


def family_widget(n_steps: int = 18) -> widgets.Box:
    """Widget (a): a family switcher redrawing :func:`family_figure`."""
    controls = {
        "family": widgets.ToggleButtons(options=list(FAMILIES), value="EDM", description="family"),
        "n_steps": widgets.IntSlider(
            value=n_steps, min=2, max=64, description="steps", continuous_update=False
        ),
    }
    return figure_widget(family_figure, controls)


def sampler_lab_figure(
    solver: str = "heun",
    n_steps: int = 18,
    rho: float = 7.0,
    S_churn: float = 0.0,
    *,
    denoiser: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    n: int = 1000,
    n_traj: int = 12,
    seed: int = 0,
) -> Figure:
    """Widget (b)'s figure: the sigma grid (9.7), trajectories and samples of Euler/Heun
    (Algorithm 1) or the churn sampler (Algorithm 2) on the EDM family; MMD in the title."""
    if solver not in ("euler", "heun"):
        raise ValueError(f"solver must be 'euler' or 'heun', got {solver!r}")
    n_steps = check_int(n_steps, "n_steps", minimum=1)
    rho = check_real(rho, "rho", low=0, low_open=True)
    churn = check_real(S_churn, "S_churn", low=0)
    mix = toy_mixture()
    model = denoiser if denoiser is not None else mix.denoiser
    gen = torch.Generator().manual_seed(check_int(seed, "seed"))
    sig = edm_sigmas(n_steps, rho=rho, dtype=torch.float32)
    x_T = float(sig[0]) * torch.randn(check_int(n, "n", minimum=2), 2, generator=gen)
    rec = Trajectory()
    if churn > 0:
        if solver != "heun":
            raise ValueError("the churn sampler (Algorithm 2) uses Heun steps; choose 'heun'")
        res = stochastic_sample(
            model,
            x_T,
            sig,
            S_churn=churn,
            S_tmin=0.01,
            S_tmax=50.0,
            generator=gen,
            callback=rec,
        )
    else:
        res = edm_sample(model, x_T, sig, solver=solver, callback=rec)
    x = res.x.detach().double()
    score = mmd(x, mix.sample(n, generator=gen))
    traj = rec.stack(res)[:, :n_traj].detach().double().numpy()
    X, Y, dens = density_grid(mix)
    with course_style():
        fig, (ax0, ax1, ax2) = new_figure(1, 3, width=11.5, height=3.7)
        ax0.semilogy(np.arange(n_steps), sig[:-1].numpy(), "o-", ms=3)
        ax0.xaxis.set_major_locator(MaxNLocator(integer=True))
        label_axes(ax0, "step i", r"$\sigma_i$", rf"schedule (9.7), $\rho$ = {rho:g}")
        draw_trajectories_and_samples(ax1, ax2, traj, x, (X, Y, dens))
        name = f"{solver}" + (f" + churn {churn:g}" if churn > 0 else "")
        label_axes(ax1, "$x_1$", "$x_2$", f"{name} trajectories")
        label_axes(ax2, "$x_1$", "$x_2$", f"NFE = {res.nfe}, MMD = {score:.3f}")
    return fig


def sampler_lab_widget(
    denoiser: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None, n: int = 1000
) -> widgets.Box:
    """Widget (b): steps, rho, solver and S_churn redrawing :func:`sampler_lab_figure`."""
    controls = {
        "solver": widgets.ToggleButtons(
            options=["euler", "heun"], value="heun", description="solver"
        ),
        "n_steps": widgets.IntSlider(
            value=18, min=1, max=100, description="steps", continuous_update=False
        ),
        "rho": widgets.FloatSlider(
            value=7.0, min=1.0, max=12.0, step=0.5, description="ρ", continuous_update=False
        ),
        "S_churn": widgets.FloatSlider(
            value=0.0, min=0.0, max=80.0, step=5.0, description="S_churn", continuous_update=False
        ),
    }
    return figure_widget(lambda **kw: sampler_lab_figure(denoiser=denoiser, n=n, **kw), controls)
