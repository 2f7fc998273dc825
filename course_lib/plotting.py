"""The course's one figure style. Plot functions build and return a ``Figure``.

Figures are created with :func:`new_figure` (a ``matplotlib.figure.Figure`` that is not
registered with pyplot), so library code never leaks open figures or draws twice in a
notebook; notebooks display the returned object. Every axis gets a label with units.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = [
    "COLORS",
    "STYLE",
    "course_style",
    "figure_png",
    "figure_widget",
    "label_axes",
    "new_figure",
]

#: Colour-blind-safe palette (Okabe–Ito), in the order plots use it.
COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]

STYLE: dict[str, Any] = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=COLORS),
    "legend.frameon": False,
    "lines.linewidth": 1.6,
}


@contextmanager
def course_style() -> Iterator[None]:
    """Context manager applying :data:`STYLE` to figures created inside it."""
    with mpl.rc_context(STYLE):
        yield


def new_figure(
    nrows: int = 1, ncols: int = 1, *, width: float = 6.4, height: float = 3.6, **subplot_kw: Any
) -> tuple[Figure, Any]:
    """A styled ``Figure`` and its axes (one ``Axes`` or an array), pyplot-free."""
    if nrows < 1 or ncols < 1:
        raise ValueError(f"nrows and ncols must be >= 1, got {nrows}, {ncols}")
    with course_style():
        fig = Figure(figsize=(width, height), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=True, subplot_kw=subplot_kw or None)
    return fig, axes


def label_axes(ax: Axes, xlabel: str, ylabel: str, title: str | None = None) -> Axes:
    """Set both axis labels (include units) and an optional title; return ``ax``."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax


def figure_png(fig: Figure) -> bytes:
    """PNG bytes of a figure (what widgets display in their ``ipywidgets.Image``)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def figure_widget(draw: Callable[..., Figure], controls: dict[str, Any]) -> Any:
    """An ipywidgets box: ``controls`` above an image that ``draw(**values)`` refreshes.

    ``controls`` maps each keyword of ``draw`` to an ipywidgets control; every change of a
    control's value redraws the figure. The same ``draw`` function gives the static
    figure, so a widget and its slide/CI version never diverge.
    """
    import ipywidgets as widgets

    if not controls:
        raise ValueError("figure_widget needs at least one control")
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="960px"))

    def refresh(_: Any = None) -> None:
        image.value = figure_png(draw(**{name: c.value for name, c in controls.items()}))

    for control in controls.values():
        control.observe(refresh, names="value")
    refresh()
    return widgets.VBox([widgets.HBox(list(controls.values())), image])
