"""Chapter 05 figures and widgets.

Each ``*_figure`` function returns a static ``Figure`` (slides, CI, reading without a kernel);
each ``*_widget`` function returns an ipywidgets box whose controls redraw the same figure
into an ``ipywidgets.Image`` (PNG), so it works in any front end without an Output widget.

* (a) :func:`forward_diffusion_widget`: a t slider over the noised 2-D cloud and its exact
  marginal density (6.1);
* (b) :func:`sampler_explorer_widget`: sampler, number of steps and eta -> trajectories and
  samples, with the MMD to fresh data in the title.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter, NullLocator

from ..plotting import COLORS, course_style, figure_png, figure_widget, label_axes, new_figure
from ..validation import check_int, check_real
from .forward import q_sample
from .metrics import mmd
from .mixtures import GaussianMixture, toy_mixture
from .samplers import SAMPLERS, Trajectory, run_sampler
from .schedules import make_schedule
from .sde import VPSDE

__all__ = [
    "density_grid",
    "digits_figure",
    "figure_png",
    "forward_diffusion_figure",
    "forward_diffusion_widget",
    "quality_figure",
    "sampler_explorer_figure",
    "sampler_explorer_widget",
    "schedules_figure",
]

_LIM = 3.2


def density_grid(
    mixture: GaussianMixture, a: float = 1.0, s: float = 0.0, lim: float = _LIM, n: int = 120
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, Y, p_t) on an n x n grid over [-lim, lim]^2 for the marginal (6.1) with (a, s)."""
    n = check_int(n, "n", minimum=2)
    g = torch.linspace(-lim, lim, n, dtype=torch.float64)
    X, Y = torch.meshgrid(g, g, indexing="xy")
    pts = torch.stack([X.reshape(-1), Y.reshape(-1)], 1)
    dens = mixture.log_prob(pts, a, s).exp().reshape(n, n)
    return X.numpy(), Y.numpy(), dens.numpy()


def schedules_figure(T: int = 1000) -> Figure:
    """alpha_bar_t (eq. 1.2) and the signal-to-noise ratio of the linear and cosine schedules."""
    T = check_int(T, "T", minimum=2)
    with course_style():
        fig, (ax1, ax2) = new_figure(1, 2, width=8.0, height=3.2)
        for kind, color in (("linear", COLORS[0]), ("cosine", COLORS[1])):
            ab = make_schedule(kind, T).alpha_bars.numpy()
            t = np.arange(T + 1)
            ax1.plot(t, ab, color=color, label=kind)
            ax2.semilogy(t[1:], ab[1:] / (1 - ab[1:]), color=color, label=kind)
        label_axes(ax1, "step t", r"$\bar\alpha_t$", "signal kept")
        label_axes(ax2, "step t", r"SNR $\bar\alpha_t/(1-\bar\alpha_t)$", "signal-to-noise ratio")
        ax1.legend()
    return fig


def forward_diffusion_figure(
    t: int = 100, schedule: str = "linear", T: int = 1000, n: int = 1500, seed: int = 0
) -> Figure:
    """Noised cloud x_t = sqrt(ab_t) x_0 + sqrt(1 - ab_t) eps (1.3) beside its exact density
    (6.1)."""
    sch = make_schedule(schedule, check_int(T, "T", minimum=1))
    t = check_int(t, "t")
    if t > sch.T:
        raise ValueError(f"t must be <= T = {sch.T}, got {t}")
    mix = toy_mixture()
    gen = torch.Generator().manual_seed(check_int(seed, "seed"))
    x0 = mix.sample(check_int(n, "n", minimum=1), generator=gen, dtype=torch.float64)
    xt, _ = q_sample(x0, t, sch, generator=gen)
    ab = float(sch.alpha_bars[t])
    a, s = ab**0.5, (1 - ab) ** 0.5
    X, Y, dens = density_grid(mix, a, max(s, 1e-3))
    with course_style():
        fig, (ax1, ax2) = new_figure(1, 2, width=8.0, height=3.8)
        ax1.scatter(xt[:, 0], xt[:, 1], s=3, alpha=0.5, color=COLORS[0])
        ax2.contourf(X, Y, dens, levels=20, cmap="viridis")
        for ax in (ax1, ax2):
            ax.set_xlim(-_LIM, _LIM)
            ax.set_ylim(-_LIM, _LIM)
            ax.set_aspect("equal")
        label_axes(ax1, "$x_1$", "$x_2$", rf"samples of $x_t$, t = {t}, $\bar\alpha_t$ = {ab:.3f}")
        label_axes(ax2, "$x_1$", "$x_2$", r"exact density $q(x_t)$")
    return fig


def forward_diffusion_widget(t: int = 100, schedule: str = "linear", T: int = 1000) -> widgets.Box:
    """Widget (a): a t slider (and schedule choice) redrawing :func:`forward_diffusion_figure`."""
    controls = {
        "t": widgets.IntSlider(
            value=t, min=0, max=T, step=5, description="t", continuous_update=False
        ),
        "schedule": widgets.Dropdown(
            options=["linear", "cosine"], value=schedule, description="schedule"
        ),
    }
    return figure_widget(lambda **kw: forward_diffusion_figure(T=T, **kw), controls)


def _model_device(denoiser: object) -> torch.device:
    """The device of an ``nn.Module`` denoiser's weights (the CPU for plain functions)."""
    if isinstance(denoiser, torch.nn.Module):
        for p in denoiser.parameters():
            return p.device
    return torch.device("cpu")


def draw_trajectories_and_samples(ax_traj, ax_samples, traj, samples, density) -> None:
    """Sampler trajectories (steps, paths, 2) on one axis and final samples on another,
    both over the data density's contours ``density = (X, Y, dens)``."""
    X, Y, dens = density
    for ax in (ax_traj, ax_samples):
        ax.contour(X, Y, dens, levels=8, colors="0.6", linewidths=0.6)
        ax.set_xlim(-_LIM, _LIM)
        ax.set_ylim(-_LIM, _LIM)
        ax.set_aspect("equal")
    for i in range(traj.shape[1]):
        color = COLORS[i % len(COLORS)]
        ax_traj.plot(traj[:, i, 0], traj[:, i, 1], lw=0.8, color=color, alpha=0.8)
        ax_traj.plot(traj[-1, i, 0], traj[-1, i, 1], "o", ms=3, color=color)
    ax_samples.scatter(samples[:, 0], samples[:, 1], s=3, alpha=0.5, color=COLORS[0])


def sampler_explorer_figure(
    sampler: str = "ddim",
    n_steps: int = 20,
    eta: float = 0.0,
    *,
    denoiser: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    n: int = 1000,
    n_traj: int = 12,
    seed: int = 0,
) -> Figure:
    """Trajectories of ``n_traj`` points and ``n`` final samples of a sampler (exact score by
    default).

    The title gives the number of network evaluations and the MMD (6.5) to fresh data.
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    eta = check_real(eta, "eta", low=0)
    mix = toy_mixture()
    model = denoiser if denoiser is not None else mix.denoiser
    gen = torch.Generator().manual_seed(check_int(seed, "seed"))
    rec = Trajectory()
    res = run_sampler(
        sampler,
        model,
        check_int(n, "n", minimum=2),
        check_int(n_steps, "n_steps", minimum=1),
        schedule=make_schedule(),
        sde=VPSDE(),
        eta=eta,
        generator=gen,
        device=_model_device(model),
        callback=rec,
    )
    x = res.x.detach().cpu().double()
    traj = rec.stack(res)[:, :n_traj].detach().cpu().double().numpy()
    score = mmd(x, mix.sample(n, generator=gen))
    X, Y, dens = density_grid(mix)
    with course_style():
        fig, (ax1, ax2) = new_figure(1, 2, width=8.0, height=3.8)
        draw_trajectories_and_samples(ax1, ax2, traj, x, (X, Y, dens))
        label_axes(ax1, "$x_1$", "$x_2$", f"{sampler} trajectories (noise → data)")
        label_axes(ax2, "$x_1$", "$x_2$", f"samples: NFE = {res.nfe}, MMD = {score:.3f}")
    return fig


def sampler_explorer_widget(
    denoiser: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    n: int = 1000,
    samplers: tuple[str, ...] = SAMPLERS,
) -> widgets.Box:
    """Widget (b): sampler, number of steps and eta redrawing :func:`sampler_explorer_figure`.

    ``samplers`` limits the menu (05a offers only its own two); the eta slider is disabled
    for every sampler but DDIM, the only one that uses it.
    """
    samplers = tuple(samplers)
    if not samplers or any(name not in SAMPLERS for name in samplers):
        raise ValueError(f"samplers must be a non-empty subset of {SAMPLERS}, got {samplers}")
    first = "ddim" if "ddim" in samplers else samplers[0]
    controls = {
        "sampler": widgets.Dropdown(options=list(samplers), value=first, description="sampler"),
        "n_steps": widgets.IntSlider(
            value=20, min=1, max=200, description="steps", continuous_update=False
        ),
        "eta": widgets.FloatSlider(
            value=0.0, min=0.0, max=1.0, step=0.1, description="η", continuous_update=False
        ),
    }
    controls["eta"].disabled = first != "ddim"

    def toggle_eta(change: dict) -> None:
        controls["eta"].disabled = change["new"] != "ddim"

    controls["sampler"].observe(toggle_eta, names="value")
    return figure_widget(
        lambda **kw: sampler_explorer_figure(denoiser=denoiser, n=n, **kw), controls
    )


def quality_figure(
    rows: list[dict], floor: float, metric: str = "mmd", title: str = "sample quality vs cost"
) -> Figure:
    """Metric against NFE for each sampler (rows from :func:`.metrics.quality_table`), floor
    dashed; error bars are standard errors of the mean where rows carry ``mmd_sd`` and
    ``repeats`` > 1. Ticks on the NFE axis sit at the measured budgets."""
    if metric not in ("mmd", "swd"):
        raise ValueError(f"metric must be 'mmd' or 'swd', got {metric!r}")
    groups: dict[str, list[dict]] = {}
    for r in rows:
        key = r["sampler"] + (f" η={r['eta']:g}" if r["sampler"] == "ddim" else "")
        groups.setdefault(key, []).append(r)
    with course_style():
        fig, ax = new_figure(width=6.4, height=3.8)
        nfes = set()
        for key, rs in groups.items():
            x = [r["nfe"] for r in rs]
            y = [r[metric] for r in rs]
            reps = [r.get("repeats", 1) for r in rs]
            sd = [r.get(f"{metric}_sd", float("nan")) for r in rs]
            err = [
                s / np.sqrt(k) if k > 1 and np.isfinite(s) else 0.0
                for s, k in zip(sd, reps, strict=True)
            ]
            ax.errorbar(x, y, yerr=err, fmt="o-", ms=4, capsize=2, label=key)
            nfes.update(x)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ticks = sorted(nfes)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(FixedFormatter([str(t) for t in ticks]))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.axhline(floor, ls="--", color="0.3", label="data floor")
        ax.axhline(2 * floor, ls=":", color="0.5", label="2 × floor")
        label_axes(
            ax, "network evaluations (NFE, log scale)", f"{metric.upper()} (log scale)", title
        )
        ax.legend(fontsize=8)
    return fig


def digits_figure(images: torch.Tensor, n_cols: int = 8, title: str = "samples") -> Figure:
    """A grid of 8x8 images in [-1, 1] (shape (N, 1, 8, 8)), e.g. digits sampled by a model."""
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 1:
        raise ValueError("images must be a tensor of shape (N, 1, H, W)")
    n_cols = check_int(n_cols, "n_cols", minimum=1)
    imgs = images.detach().cpu().clamp(-1, 1).numpy()
    n_rows = -(-imgs.shape[0] // n_cols)
    with course_style():
        fig, axes = new_figure(n_rows, n_cols, width=1.0 * n_cols, height=1.0 * n_rows + 0.4)
        for i, ax in enumerate(np.atleast_1d(axes).ravel()):
            ax.axis("off")
            if i < imgs.shape[0]:
                ax.imshow(imgs[i, 0], cmap="gray_r", vmin=-1, vmax=1)
        fig.suptitle(title)
    return fig
