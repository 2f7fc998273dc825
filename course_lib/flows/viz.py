"""Chapter 06 figures and widgets.

Each ``*_figure`` function returns a static ``Figure`` (slides, CI, reading without a kernel);
each ``*_widget`` function returns an ipywidgets box whose controls redraw the same figure.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from ..diffusion import GaussianMixture
from ..plotting import course_style, figure_widget, label_axes, new_figure
from ..validation import check_int
from .data import mixture_entropy, toy
from .flow import Flow
from .training import MODEL_FAMILIES, FlowConfig, heldout_nll, model_log_prob, train_flow

__all__ = [
    "density_explorer_widget",
    "density_figure",
    "digits_samples_figure",
    "layer_by_layer_figure",
    "layer_by_layer_widget",
]

LIMIT = 3.2  # plotted square [-LIMIT, LIMIT]^2


def _grid(n: int) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    g = torch.linspace(-LIMIT, LIMIT, n, dtype=torch.float64)
    xx, yy = torch.meshgrid(g, g, indexing="xy")
    return xx.numpy(), yy.numpy(), torch.stack([xx.ravel(), yy.ravel()], 1)


def layer_by_layer_figure(
    flow: Flow, step: int, mix: GaussianMixture | None = None, *, n: int = 2000, seed: int = 0
) -> Figure:
    """Base samples z ~ N(0, I) after ``step`` of the flow's inverse layers (eq. 1.4), coloured by
    the angle of z, with the running mean log|det dh/dz|; exact data density contours if given."""
    if not isinstance(flow, Flow) or flow.dim != 2:
        raise ValueError("layer_by_layer_figure needs a 2-D Flow")
    step = check_int(step, "step")
    if step > len(flow.layers):
        raise ValueError(f"step must be <= {len(flow.layers)} (the number of layers), got {step}")
    p = next(flow.parameters())
    z = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed), dtype=p.dtype)
    h, logdet = flow.trajectory(z.to(p.device))[step]
    h, colour = h.cpu().numpy(), torch.atan2(z[:, 1], z[:, 0]).numpy()
    with course_style():
        fig, ax = new_figure(width=4.6, height=4.2)
        if mix is not None:
            xx, yy, pts = _grid(120)
            dens = mix.log_prob(pts).exp().reshape(xx.shape).numpy()
            ax.contour(xx, yy, dens, levels=6, colors="0.5", linewidths=0.7)
        ax.scatter(h[:, 0], h[:, 1], c=colour, cmap="twilight", s=3, alpha=0.8)
        ax.set_xlim(-LIMIT, LIMIT)
        ax.set_ylim(-LIMIT, LIMIT)
        ax.set_aspect("equal")
        name = type(flow.layers[len(flow.layers) - step]).__name__ if step else "base N(0, I)"
        label_axes(
            ax,
            "$x_1$ (data units)",
            "$x_2$ (data units)",
            f"after {step}/{len(flow.layers)} inverse layers ({name})\n"
            f"mean running log|det| = {float(logdet.mean()):+.3f} nats",
        )
    return fig


def layer_by_layer_widget(flow: Flow, mix: GaussianMixture | None = None, *, n: int = 2000):
    """Widget (a): a slider over the layers of ``flow``, redrawing :func:`layer_by_layer_figure`."""
    slider = widgets.IntSlider(value=0, min=0, max=len(flow.layers), description="layers")
    return figure_widget(lambda step: layer_by_layer_figure(flow, step, mix, n=n), {"step": slider})


def density_figure(
    family: str = "realnvp",
    data: str = "toy_mixture",
    n_layers: int = 6,
    *,
    steps: int = 800,
    n_eval: int = 1000,
    grid: int = 80,
    batch_size: int = 256,
    lr: float = 2e-3,
    device=None,
) -> Figure:
    """Learned density (a cached :func:`train_flow` model) beside the exact one, with the
    held-out NLL against the entropy H(p) (the gap is KL(p || q) in nats, eq. 8.1). ``steps``,
    ``batch_size`` and ``lr`` complete the :class:`FlowConfig` (and so pick the cache entry)."""
    cfg = FlowConfig(
        family=family, data=data, n_layers=n_layers, steps=steps, batch_size=batch_size, lr=lr
    )
    model = train_flow(cfg, device=device, progress=False).model
    mix = toy(data)
    ode = {"rtol": 1e-4, "atol": 1e-6} if family == "cnf" else {}
    nll, se = heldout_nll(model, mix, n_eval, **ode)
    entropy = mixture_entropy(mix)
    xx, yy, pts = _grid(grid if family != "cnf" else min(grid, 50))
    p = next(model.parameters())
    learned = model_log_prob(model, pts.to(device=p.device, dtype=p.dtype), **ode)
    learned = learned.exp().reshape(xx.shape).detach().cpu().numpy()
    exact = mix.log_prob(pts).exp().reshape(xx.shape).numpy()
    with course_style():
        fig, axes = new_figure(1, 2, width=8.0, height=3.9)
        vmax = float(exact.max())
        for ax, dens, title in (
            (
                axes[0],
                learned,
                f"{family}, {n_layers} layers" if family != "cnf" else "CNF (flow matching)",
            ),
            (axes[1], exact, "exact mixture density"),
        ):
            ax.pcolormesh(xx, yy, dens, cmap="magma", vmin=0, vmax=vmax, shading="auto")
            ax.set_aspect("equal")
            label_axes(ax, "$x_1$ (data units)", "$x_2$ (data units)", title)
        fig.suptitle(
            f"held-out NLL {nll:.3f} ± {se:.3f} nats vs entropy H = {entropy:.3f}: "
            f"gap {nll - entropy:.3f} nats",
            fontsize=9,
        )
    return fig


def density_explorer_widget(*, steps: int = 800, n_layers: int = 6, n_eval: int = 1000):
    """Widget (b): model family, data and number of layers -> :func:`density_figure`
    (each choice trains once, then comes from the cache)."""
    controls = {
        "family": widgets.Dropdown(
            options=list(MODEL_FAMILIES), value="realnvp", description="family"
        ),
        "data": widgets.Dropdown(options=["toy_mixture", "ring", "grid"], description="data"),
        "n_layers": widgets.IntSlider(value=n_layers, min=1, max=12, description="layers"),
    }
    return figure_widget(
        lambda family, data, n_layers: density_figure(
            family, data, n_layers, steps=steps, n_eval=n_eval
        ),
        controls,
    )


def digits_samples_figure(flow: Flow, *, n: int = 16, seed: int = 0) -> Figure:
    """``n`` samples of a 64-dimensional flow trained on dequantised digits, shown as 8x8 images
    (the flow's [-2, 2) coordinates mapped back to the 0..16 grey levels)."""
    if not isinstance(flow, Flow) or flow.dim != 64:
        raise ValueError("digits_samples_figure needs a Flow on 64-dimensional data")
    n = check_int(n, "n", minimum=1)
    x = flow.sample(n, generator=torch.Generator().manual_seed(seed)).cpu()
    levels = ((x + 2) / 4 * 17).clamp(0, 17).reshape(n, 8, 8).numpy()
    cols = min(n, 8)
    rows = -(-n // cols)
    with course_style():
        fig, axes = new_figure(rows, cols, width=1.0 * cols, height=1.1 * rows)
        for i, ax in enumerate(np.atleast_1d(axes).ravel()):
            ax.set_axis_off()
            if i < n:
                ax.imshow(levels[i], cmap="gray_r", vmin=0, vmax=17)
        fig.suptitle("flow samples, 8x8 pixels, grey level 0..16", fontsize=9)
    return fig
