"""Chapter 07 figures and widgets: the online-softmax stepper and the tiling view.

Each ``*_figure`` function returns a static ``Figure``; each ``*_widget`` returns an
ipywidgets box whose sliders redraw the same figure.
"""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from ..plotting import COLORS, course_style, figure_widget, label_axes, new_figure
from ..runtime import make_generator
from .io_model import (
    LOOP_ORDERS,
    replay_tiled_io,
    standard_io,
    tile_schedule,
    tiled_block_sizes,
    tiled_io,
    tiled_traffic_after,
)
from .reference import online_softmax_states, safe_softmax

__all__ = [
    "io_figure",
    "io_memory_figure",
    "online_softmax_figure",
    "online_softmax_widget",
    "tiling_figure",
    "tiling_widget",
]


def _demo_scores(n: int, d_v: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = make_generator(seed)
    x = 2.0 * torch.randn(n, generator=gen, dtype=torch.float64)
    v = torch.randn(n, d_v, generator=gen, dtype=torch.float64)
    return x, v


def online_softmax_figure(n: int = 24, chunk: int = 6, step: int = 1, seed: int = 0) -> Figure:
    """Scores seen after ``step`` chunks, the running max/sum (2.2) and the partial output (2.3)."""
    if not (isinstance(n, int) and isinstance(chunk, int) and n >= 1 and chunk >= 1):
        raise ValueError(f"n and chunk must be positive ints, got {n!r}, {chunk!r}")
    n_chunks = math.ceil(n / chunk)
    if not (isinstance(step, int) and 1 <= step <= n_chunks):
        raise ValueError(f"step must be in [1, {n_chunks}], got {step!r}")
    x, v = _demo_scores(n, 4, seed)
    states = list(online_softmax_states(x, chunk, v))
    st = states[step - 1]
    final = safe_softmax(x) @ v
    seen = min(step * chunk, n)
    with course_style():
        fig, (ax_x, ax_ml, ax_o) = new_figure(1, 3, width=12, height=3.4)
        idx = np.arange(n)
        colors = [COLORS[0] if i < seen else "#cccccc" for i in idx]
        ax_x.bar(idx, x.numpy(), color=colors)
        ax_x.axhline(
            st.m.item(), color=COLORS[3], ls="--", label=f"running max m = {st.m.item():.2f}"
        )
        for c in range(1, n_chunks):
            ax_x.axvline(c * chunk - 0.5, color="k", lw=0.5, alpha=0.4)
        ax_x.xaxis.set_major_locator(MaxNLocator(integer=True))
        label_axes(ax_x, "score index j", "score $x_j$", f"chunks 1..{step} of {n_chunks} seen")
        ax_x.legend(fontsize=8, loc="lower left")
        steps = np.arange(1, n_chunks + 1)
        ms = np.array([s.m.item() for s in states])
        ls = np.array([s.l.item() for s in states])
        ax_ml.plot(steps, ms, "o-", color=COLORS[3], label="m (running max)")
        ax_ml.plot(steps, np.log(ls) + ms, "s-", color=COLORS[0], label="m + log l (log-sum-exp)")
        ax_ml.axvline(step, color="k", lw=0.8)
        ax_ml.xaxis.set_major_locator(MaxNLocator(integer=True))
        label_axes(ax_ml, "chunks processed", "value", "running statistics")
        ax_ml.legend(fontsize=8)
        width = 0.38
        dims = np.arange(v.shape[1])
        ax_o.bar(
            dims - width / 2, st.normalised().numpy(), width, color=COLORS[0], label="o / l so far"
        )
        ax_o.bar(
            dims + width / 2, final.numpy(), width, color=COLORS[1], label="softmax(x) V (exact)"
        )
        label_axes(ax_o, "output dimension", "value", "partial output vs exact")
        ax_o.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax_o.legend(fontsize=8)
    return fig


def online_softmax_widget(n: int = 24, chunk: int = 6, seed: int = 0) -> widgets.Box:
    """Widget (a): a slider over chunks shows the running max, running sum and partial output."""
    n_chunks = math.ceil(n / chunk)
    controls = {"step": widgets.IntSlider(value=1, min=1, max=n_chunks, description="chunks")}
    return figure_widget(lambda step: online_softmax_figure(n, chunk, step, seed), controls)


def tiling_figure(
    n: int = 64, d: int = 16, block_q: int = 16, block_k: int = 16, step: int = 0,
    is_causal: bool = False, seed: int = 0, element_size: int = 2,
) -> Figure:  # fmt: skip
    """The N x N score matrix in tiles at one step of the tiled forward pass.

    Shows the tile on chip (Q_i and K_j, V_j loaded), tiles already done, the running max and
    log-sum-exp of the rows of Q_i, and the HBM bytes moved so far against standard attention.
    """
    schedule = tile_schedule(n, block_q, block_k, is_causal)
    if not (isinstance(step, int) and 0 <= step < len(schedule)):
        raise ValueError(f"step must be in [0, {len(schedule) - 1}], got {step!r}")
    i, j = schedule[step]
    gen = make_generator(seed)
    q = torch.randn(n, d, generator=gen, dtype=torch.float64)
    k = torch.randn(n, d, generator=gen, dtype=torch.float64)
    rows = slice(i * block_q, min((i + 1) * block_q, n))
    s = q[rows] @ k.T / math.sqrt(d)
    if is_causal:
        r = torch.arange(rows.start, rows.stop)[:, None]
        s = s.masked_fill(torch.arange(n)[None, :] > r, float("-inf"))
    upto = min((j + 1) * block_k, n)
    m = s[:, :upto].amax(dim=1)  # running max after K/V blocks 0..j
    lse = torch.logsumexp(s[:, :upto], dim=1)
    so_far = tiled_traffic_after(n, d, block_q, block_k, step, is_causal).bytes(element_size)
    with course_style():
        fig, (ax_t, ax_s, ax_b) = new_figure(1, 3, width=12.5, height=3.8)
        ax_t.set_xlim(0, n)
        ax_t.set_ylim(n, 0)
        ax_t.set_aspect("equal")
        for a, b in schedule[:step]:
            ax_t.add_patch(
                Rectangle((b * block_k, a * block_q), block_k, block_q, color=COLORS[0], alpha=0.25)
            )
        ax_t.add_patch(
            Rectangle((j * block_k, i * block_q), block_k, block_q, color=COLORS[3], alpha=0.8)
        )
        ax_t.add_patch(Rectangle((0, i * block_q), n, block_q, fill=False, ec=COLORS[1], lw=2))
        if is_causal:
            ax_t.plot([0, n], [0, n], color="k", lw=0.8, ls=":")
        label_axes(ax_t, "key index j (K/V blocks)", "query index i (Q blocks)",
                   f"step {step + 1}/{len(schedule)}: tile ({i}, {j}) on chip")  # fmt: skip
        ax_t.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax_t.yaxis.set_major_locator(MaxNLocator(integer=True))
        r_idx = np.arange(rows.start, rows.stop)
        ax_s.plot(r_idx, m.numpy(), "o-", ms=3, color=COLORS[3], label="running max m")
        ax_s.plot(r_idx, lse.numpy(), "s-", ms=3, color=COLORS[0], label="m + log l")
        ax_s.xaxis.set_major_locator(MaxNLocator(integer=True))
        label_axes(ax_s, "query row i in the block", "value", f"row statistics after K/V block {j}")
        ax_s.legend(fontsize=8)
        std = standard_io(n, d).bytes(element_size)
        ax_b.bar(["tiled so far", "standard (total)"], [so_far, std],
                 color=[COLORS[3], COLORS[2]])  # fmt: skip
        label_axes(ax_b, "", "HBM bytes", f"traffic ({element_size}-byte elements)")
    return fig


def tiling_widget(
    n: int = 64, d: int = 16, block_q: int = 16, block_k: int = 16, is_causal: bool = False
) -> widgets.Box:
    """Widget (b): a slider over K/V blocks (in FlashAttention-2 order) through the tiling.

    The slider counts steps from 1, as the figure's title does ("step 4/10" at slider 4).
    """
    n_steps = len(tile_schedule(n, block_q, block_k, is_causal))
    controls = {"step": widgets.IntSlider(value=1, min=1, max=n_steps, description="tile step")}
    return figure_widget(
        lambda step: tiling_figure(n, d, block_q, block_k, step - 1, is_causal), controls
    )


def io_figure(
    d: int = 64, m: int = 100_000, ns: tuple[int, ...] = (512, 1024, 2048, 4096, 8192, 16384)
) -> Figure:
    """HBM traffic (5.1) vs (5.2) against N, for head dim d and on-chip memory M (elements)."""
    with course_style():
        fig, ax = new_figure()
        ax.loglog(ns, [standard_io(n, d).total for n in ns], "o-", label="standard (5.1)")
        ax.loglog(ns, [tiled_io(n, d, m).total for n in ns], "s-", label=f"tiled (5.2), M = {m:,}")
        label_axes(ax, "sequence length N", "HBM elements moved", f"IO complexity, d = {d}")
        ax.legend(fontsize=8)
    return fig


def io_memory_figure(
    n: int = 4096, d: int = 64, ms: tuple[int, ...] | None = None, element_size: int = 2
) -> Figure:
    """Replayed HBM traffic of both loop orders against on-chip memory M, eqs. (5.2a)-(5.2b).

    Points are :func:`replay_tiled_io` counts, lines the closed forms; a dotted line marks
    M = 4 d^2, where the FlashAttention-2 order's B_r reaches its cap d and its traffic flattens.
    """
    if ms is None:
        ms = tuple(4 * d * 2**e for e in range(1, 12))
    styles = {
        "fa2": ("s", COLORS[0], "FA-2 order (Q outer)"),
        "fa1": ("o", COLORS[3], "FA-1 order (K/V outer)"),
    }
    with course_style():
        fig, ax = new_figure()
        for order in LOOP_ORDERS:
            marker, color, name = styles[order]
            replayed = [
                replay_tiled_io(n, d, *tiled_block_sizes(d, m), order).bytes(element_size)
                for m in ms
            ]
            model = [tiled_io(n, d, m, order).bytes(element_size) for m in ms]
            ax.loglog(ms, model, "-", color=color, lw=1, alpha=0.7)
            ax.loglog(ms, replayed, marker, color=color, ls="none", label=f"{name}, replay")
        ax.loglog(ms, [standard_io(n, d).bytes(element_size)] * len(ms), "--", color=COLORS[2],
                  label="standard (5.1)")  # fmt: skip
        ax.axvline(4 * d * d, color="k", ls=":", lw=1, label="M = 4 d²")
        label_axes(ax, "on-chip memory M (elements)", f"HBM bytes ({element_size}-byte elements)",
                   f"tiled traffic vs M, N = {n}, d = {d}")  # fmt: skip
        ax.legend(fontsize=8)
    return fig
