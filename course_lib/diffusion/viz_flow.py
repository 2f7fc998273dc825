"""Chapter 05 part 2 figure and widget of flow matching and rectified flow (section 10).

As in :mod:`.viz`, :func:`flow_steps_widget` redraws :func:`flow_steps_figure` (a static
``Figure``) through :func:`course_lib.plotting.figure_widget`:

* (c) :func:`flow_steps_widget`: Euler steps k of a flow (exact marginal velocity or a reflowed
  network) -> paths, samples and the straightness (10.6).
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from ..plotting import COLORS, course_style, figure_widget, label_axes, new_figure
from ..validation import check_int
from .flow import flow_euler_sample, mixture_velocity, straightness
from .metrics import mmd
from .mixtures import toy_mixture
from .samplers import Trajectory
from .viz import density_grid

__all__ = ["flow_steps_figure", "flow_steps_widget"]

_LIM = 3.2


def flow_steps_figure(
    k: int = 1,
    model: str = "exact",
    *,
    velocities: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] | None = None,
    n: int = 1000,
    n_traj: int = 16,
    seed: int = 0,
) -> Figure:
    """Widget (c)'s figure: k-step Euler paths (10.4) and samples of the flow ``model`` (a key of
    ``velocities``; 'exact' is toy_mixture's marginal velocity 10.2), with MMD and S (10.6)."""
    k = check_int(k, "k", minimum=1)
    mix = toy_mixture()
    vels = {"exact": lambda x, t: mixture_velocity(mix, x.double(), t.double()).float()}
    vels.update(velocities or {})
    if model not in vels:
        raise ValueError(f"model must be one of {sorted(vels)}, got {model!r}")
    v = vels[model]
    gen = torch.Generator().manual_seed(check_int(seed, "seed"))
    x1 = torch.randn(check_int(n, "n", minimum=2), 2, generator=gen)
    with torch.no_grad():
        rec, rec_fine = Trajectory(), Trajectory()
        res = flow_euler_sample(v, x1, k, callback=rec)
        fine = rec_fine.stack(flow_euler_sample(v, x1[:n_traj], 64, callback=rec_fine)).numpy()
        s_val = straightness(v, x1[:500], 32)
    score = mmd(res.x.double(), mix.sample(n, generator=gen))
    traj = rec.stack(res)[:, :n_traj].numpy()
    X, Y, dens = density_grid(mix)
    with course_style():
        fig, (ax1, ax2) = new_figure(1, 2, width=8.6, height=4.0)
        for ax in (ax1, ax2):
            ax.contour(X, Y, dens, levels=8, colors="0.6", linewidths=0.6)
            ax.set_xlim(-_LIM, _LIM)
            ax.set_ylim(-_LIM, _LIM)
            ax.set_aspect("equal")
        for i in range(traj.shape[1]):
            c = COLORS[i % len(COLORS)]
            ax1.plot(fine[:, i, 0], fine[:, i, 1], lw=0.6, color=c, alpha=0.5, ls="--")
            ax1.plot(traj[:, i, 0], traj[:, i, 1], "-o", ms=2.5, lw=1.0, color=c)
        ax2.scatter(res.x[:, 0], res.x[:, 1], s=3, alpha=0.5, color=COLORS[0])
        label_axes(
            ax1,
            "$x_1$",
            "$x_2$",
            f"{model}: {k} Euler step{'s' if k != 1 else ''} (dashed: 64), S = {s_val:.3f}",
        )
        label_axes(ax2, "$x_1$", "$x_2$", f"samples: NFE = {k}, MMD = {score:.3f}")
    return fig


def flow_steps_widget(
    velocities: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] | None = None,
    n: int = 1000,
) -> widgets.Box:
    """Widget (c): Euler steps k and the flow (exact or reflowed) -> :func:`flow_steps_figure`."""
    names = ["exact", *sorted(velocities or {})]
    controls = {
        "k": widgets.IntSlider(
            value=1, min=1, max=32, description="steps k", continuous_update=False
        ),
        "model": widgets.ToggleButtons(options=names, value=names[-1], description="flow"),
    }
    return figure_widget(lambda **kw: flow_steps_figure(velocities=velocities, n=n, **kw), controls)
