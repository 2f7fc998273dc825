"""Chapter 04 figures and widgets, in the style of the textbook's grid-world figures.

:func:`grid_figure` draws a grid with forbidden cells shaded, the target marked, values
written in the cells and policy arrows (a circle for "stay"). Each ``*_figure`` function
returns a static ``Figure``; each ``*_widget`` function returns an ipywidgets box whose
controls redraw the same figure into an ``ipywidgets.Image`` (its last child).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import ipywidgets as widgets
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle

from ..plotting import COLORS, course_style, figure_png, figure_widget, label_axes, new_figure
from ..runtime import make_generator
from ..validation import check_int, check_probability
from .gridworld import ACTION_DELTAS, GridWorld
from .montecarlo import epsilon_greedy_policy, epsilon_soft_mdp, mc_basic, mc_epsilon_greedy
from .planning import policy_evaluation, value_iteration

__all__ = [
    "draw_grid",
    "grid_figure",
    "gridworld_editor_widget",
    "mc_epsilon_greedy_figure",
    "mc_lab_widget",
    "optimal_policy_figure",
    "value_propagation_figure",
]

FORBIDDEN_COLOR = "#F5C16C"
TARGET_COLOR = "#8FD3F4"


def draw_grid(
    ax: Axes,
    world: GridWorld,
    values: torch.Tensor | None = None,
    actions: torch.Tensor | None = None,
    title: str | None = None,
) -> Axes:
    """Draw ``world`` into ``ax``: forbidden cells shaded, the target marked, ``values`` (S,)
    written in the cells (one decimal), ``actions`` (S,) as arrows (a circle for stay)."""
    ax.set_xlim(0.5, world.columns + 0.5)
    ax.set_ylim(world.rows + 0.5, 0.5)  # row 1 on top
    ax.set_aspect("equal")
    ax.grid(False)
    for r in range(1, world.rows + 1):
        for c in range(1, world.columns + 1):
            face = (
                TARGET_COLOR
                if (r, c) == world.target
                else FORBIDDEN_COLOR
                if (r, c) in world.forbidden
                else "white"
            )
            ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=face, edgecolor="0.4"))
    for s in range(world.n_states):
        r, c = world.cell(s)
        if values is not None:
            y = r + (0.28 if actions is not None else 0.0)
            ax.text(c, y, f"{float(values[s]):.1f}", ha="center", va="center", fontsize=8)
        if actions is not None:
            a = int(actions[s])
            d_row, d_col = ACTION_DELTAS[a]
            y0 = r - (0.1 if values is not None else 0.0)
            if d_row == d_col == 0:
                ax.add_patch(Circle((c, y0), 0.1, fill=False, color=COLORS[2], lw=1.5))
            else:
                ax.annotate(
                    "",
                    xy=(c + 0.32 * d_col, y0 + 0.32 * d_row),
                    xytext=(c - 0.12 * d_col, y0 - 0.12 * d_row),
                    arrowprops={"arrowstyle": "->", "color": COLORS[2], "lw": 1.5},
                )
    ax.set_xticks(range(1, world.columns + 1))
    ax.set_yticks(range(1, world.rows + 1))
    label_axes(ax, "column", "row", title)
    return ax


def grid_figure(
    world: GridWorld,
    values: torch.Tensor | None = None,
    actions: torch.Tensor | None = None,
    title: str | None = None,
) -> Figure:
    """One grid (see :func:`draw_grid`) as a figure."""
    with course_style():
        fig, ax = new_figure(width=0.9 * world.columns + 1, height=0.9 * world.rows + 0.8)
        draw_grid(ax, world, values, actions, title)
    return fig


def optimal_policy_figure(
    world: GridWorld | None = None,
    *,
    gamma: float | None = None,
    r_forbidden: float | None = None,
    r_boundary: float | None = None,
    r_target: float | None = None,
    r_other: float | None = None,
) -> Figure:
    """Optimal values v* and an optimal policy (value iteration (3.3)) of ``world`` (the
    classic one by default) with the given parameters replaced."""
    world = GridWorld() if world is None else world
    changes = {
        k: v
        for k, v in {
            "gamma": gamma,
            "r_forbidden": r_forbidden,
            "r_boundary": r_boundary,
            "r_target": r_target,
            "r_other": r_other,
        }.items()
        if v is not None
    }
    world = replace(world, **changes)
    vi = value_iteration(world.model(), tol=1e-10)
    return grid_figure(
        world,
        vi.v,
        vi.actions,
        f"v* and an optimal policy (γ = {world.gamma:g}, r_forbidden = {world.r_forbidden:g})",
    )


def value_propagation_figure(
    world: GridWorld | None = None, lengths: Sequence[int] = (1, 2, 3, 4, 8, 14)
) -> Figure:
    """MC Basic's values and greedy policy for several episode lengths L: with short
    episodes only states within L - 1 steps of the target see it."""
    world = GridWorld() if world is None else world
    lengths = [check_int(L, "length", minimum=1) for L in lengths]
    mdp = world.model()
    with course_style():
        n = len(lengths)
        ncols = min(n, 3)
        nrows = (n + ncols - 1) // ncols
        fig, axes = new_figure(nrows, ncols, width=3.2 * ncols, height=3.2 * nrows)
        flat = list(axes.ravel()) if hasattr(axes, "ravel") else [axes]
        for ax, L in zip(flat, lengths, strict=False):
            res = mc_basic(mdp, L)
            draw_grid(ax, world, res.v, res.actions, f"MC Basic, episode length {L}")
        for ax in flat[n:]:
            ax.set_visible(False)
            label_axes(ax, "column", "row")
    return fig


def mc_epsilon_greedy_figure(
    world: GridWorld | None = None,
    *,
    epsilon: float = 0.2,
    length: int = 100,
    n_episodes: int = 2_000,
    seed: int = 0,
) -> Figure:
    """MC epsilon-greedy (4.5): learned values (max_a q) and greedy arrows, beside the exact
    values of the best epsilon-greedy policy and v* with an optimal policy."""
    world = GridWorld() if world is None else world
    epsilon = check_probability(epsilon, "epsilon")
    mdp = world.model()
    res = mc_epsilon_greedy(
        mdp, epsilon, n_episodes, length, batch_size=100, generator=make_generator(seed)
    )
    v_learned = policy_evaluation(mdp, res.policy)
    best = value_iteration(epsilon_soft_mdp(mdp, epsilon), tol=1e-10)
    star = value_iteration(mdp, tol=1e-10)
    v_best = policy_evaluation(mdp, epsilon_greedy_policy(best.actions, 5, epsilon))
    with course_style():
        fig, axes = new_figure(1, 3, width=10.5, height=3.9)
        draw_grid(
            axes[0],
            world,
            v_learned,
            res.actions,
            f"MC ε-greedy (ε = {epsilon:g}, {n_episodes} episodes × {length})",
        )
        draw_grid(axes[1], world, v_best, best.actions, f"best ε-greedy policy (ε = {epsilon:g})")
        draw_grid(axes[2], world, star.v, star.actions, "optimal (greedy) policy, v*")
        gap = float((star.v - v_learned).mean())
        fig.suptitle(f"values of the policies as followed; mean gap to v*: {gap:.2f}", fontsize=10)
    return fig


def mc_lab_widget(
    epsilon: float = 0.2, length: int = 100, n_episodes: int = 1_000, seed: int = 0
) -> widgets.Box:
    """Widget (b): epsilon, episode length and number of episodes -> MC epsilon-greedy's
    learned values and policy beside the best epsilon-greedy policy and the optimum."""
    style = {"description_width": "initial"}
    options = [100, 300, 1_000, 3_000, 10_000]
    controls = {
        "epsilon": widgets.FloatSlider(
            value=epsilon, min=0.0, max=1.0, step=0.05, description="epsilon", style=style
        ),
        "length": widgets.IntSlider(
            value=length, min=5, max=300, step=5, description="length", style=style
        ),
        "n_episodes": widgets.SelectionSlider(
            options=sorted({*options, n_episodes}),
            value=n_episodes,
            description="episodes",
            style=style,
        ),
    }
    return figure_widget(lambda **v: mc_epsilon_greedy_figure(seed=seed, **v), controls)


def gridworld_editor_widget(world: GridWorld | None = None) -> widgets.Box:
    """Widget (a): choose a cell and toggle it forbidden (or make it the target), set gamma
    and the rewards -> the optimal values and policy arrows update."""
    world = GridWorld() if world is None else world
    style = {"description_width": "initial"}
    state = {"forbidden": set(world.forbidden), "target": world.target}
    sliders = {
        "gamma": widgets.FloatSlider(
            value=world.gamma, min=0.0, max=0.99, step=0.01, description="gamma", style=style
        ),
        "r_forbidden": widgets.FloatSlider(
            value=world.r_forbidden,
            min=-20,
            max=1,
            step=0.5,
            description="r_forbidden",
            style=style,
        ),
        "r_boundary": widgets.FloatSlider(
            value=world.r_boundary, min=-20, max=1, step=0.5, description="r_boundary", style=style
        ),
        "r_target": widgets.FloatSlider(
            value=world.r_target, min=-1, max=10, step=0.5, description="r_target", style=style
        ),
        "r_other": widgets.FloatSlider(
            value=world.r_other, min=-2, max=1, step=0.1, description="r_other", style=style
        ),
    }
    cells = [str(world.cell(s)) for s in range(world.n_states)]
    cell = widgets.Dropdown(options=cells, value=cells[0], description="cell")
    toggle = widgets.Button(description="toggle forbidden")
    target = widgets.Button(description="make target")
    note = widgets.Label(value="")
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="640px"))

    def chosen() -> tuple[int, int]:
        return world.cell(cells.index(cell.value))

    def refresh(_: object = None) -> None:
        current = GridWorld(
            world.rows,
            world.columns,
            tuple(sorted(state["forbidden"])),
            state["target"],
            **{k: w.value for k, w in sliders.items()},
        )
        image.value = figure_png(optimal_policy_figure(current))

    def on_toggle(_: object) -> None:
        c = chosen()
        if c == state["target"]:
            note.value = "the target cannot be forbidden: move the target first"
            return
        state["forbidden"] ^= {c}
        note.value = ""
        refresh()

    def on_target(_: object) -> None:
        state["target"] = chosen()
        state["forbidden"].discard(state["target"])
        note.value = ""
        refresh()

    for w in sliders.values():
        w.observe(refresh, names="value")
    toggle.on_click(on_toggle)
    target.on_click(on_target)
    refresh()
    top = widgets.VBox(
        [
            widgets.HBox(list(sliders.values())[:3]),
            widgets.HBox(list(sliders.values())[3:]),
        ]
    )
    return widgets.VBox([top, widgets.HBox([cell, toggle, target, note]), image])
