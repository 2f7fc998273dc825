"""A ``gymnasium.Env`` for the grid world: the standard RL interface, same dynamics.

The wrapper steps one agent with :meth:`GridWorld.transition` (the rules (1.1)-(1.2)
written cell by cell), so other RL code can use the world; the tests compare it,
transition by transition, with the tensor model ``GridWorld.model()``. The task has no
terminal state: ``terminated`` is always False and ``truncated`` becomes True after
``max_episode_steps`` steps. Observations are state indices s = (row - 1) * columns +
(column - 1); actions 0..4 are up, right, down, left, stay.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from ..validation import check_int
from .gridworld import GridWorld

__all__ = ["GridWorldEnv"]


class GridWorldEnv(gym.Env):
    """The grid world as a gymnasium environment.

    ``reset(seed=..., options={"start": (row, column)})`` starts in the given cell; without
    a start option it starts at ``start`` (default the top-left cell (1, 1)) or, with
    ``random_start=True``, in a uniformly drawn cell from the env's seeded ``np_random``.
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(
        self,
        world: GridWorld | None = None,
        *,
        max_episode_steps: int = 100,
        start: tuple[int, int] = (1, 1),
        random_start: bool = False,
        render_mode: str | None = None,
    ) -> None:
        super().__init__()
        self.world = GridWorld() if world is None else world
        if not isinstance(self.world, GridWorld):
            raise TypeError(f"world must be a GridWorld, got {type(self.world).__name__}")
        self.max_episode_steps = check_int(max_episode_steps, "max_episode_steps", minimum=1)
        self.start_state = self.world.state(start)
        self.random_start = bool(random_start)
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Discrete(self.world.n_states)
        self.action_space = gym.spaces.Discrete(self.world.n_actions)
        self._state = self.start_state
        self._steps = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        super().reset(seed=seed)
        if options and "start" in options:
            self._state = self.world.state(tuple(options["start"]))
        elif self.random_start:
            self._state = int(self.np_random.integers(self.world.n_states))
        else:
            self._state = self.start_state
        self._steps = 0
        return self._state, {"cell": self.world.cell(self._state)}

    def step(self, action: Any) -> tuple[int, float, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(action):
            raise ValueError(
                f"action must be an int in [0, {self.world.n_actions - 1}], got {action!r}"
            )
        self._state, reward = self.world.transition(self._state, int(action))
        self._steps += 1
        truncated = self._steps >= self.max_episode_steps
        return self._state, float(reward), False, truncated, {"cell": self.world.cell(self._state)}

    def render(self) -> str | None:
        """Text picture of the grid: A agent, T target, # forbidden, . other cells."""
        if self.render_mode != "ansi":
            return None
        lines = []
        for r in range(1, self.world.rows + 1):
            row = []
            for c in range(1, self.world.columns + 1):
                s = self.world.state((r, c))
                mark = (
                    "T"
                    if (r, c) == self.world.target
                    else "#"
                    if (r, c) in self.world.forbidden
                    else "."
                )
                row.append("A" if s == self._state else mark)
            lines.append(" ".join(row))
        return "\n".join(lines)
