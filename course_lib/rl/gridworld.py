"""The grid world of Chapter 04 (notebook 04a, section 1) and its tabular model.

A ``rows x columns`` grid; cells are named ``(row, column)`` counted from 1 at the top
left, and state ``s = (row - 1) * columns + (column - 1)``. Five actions, in this order,

    a_0 = up, a_1 = right, a_2 = down, a_3 = left, a_4 = stay,                    (1.1)

move the agent deterministically. The reward of one step is decided in this order (1.2):

* the move would leave the grid: the agent is bounced back (stays) and gets ``r_boundary``;
* otherwise the next cell is the target: ``r_target`` (entering it *or* staying in it);
* otherwise the next cell is forbidden: ``r_forbidden`` (the agent may enter it);
* otherwise ``r_other``.

There is no terminal state: the task continues after the target. The model is the pair of
tensors ``P[s, a, s']`` (probability of ``s'`` after ``a`` in ``s``; one-hot here) and
``R[s, a]`` (expected immediate reward), with the discount ``gamma`` in ``[0, 1)``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, replace

import torch

from ..validation import check_int, check_real

__all__ = [
    "ACTIONS",
    "ACTION_DELTAS",
    "ACTION_NAMES",
    "GridWorld",
    "TabularMDP",
    "check_mdp",
    "check_policy",
    "deterministic_policy",
]

#: The five actions in the course's order (1.1).
ACTIONS = ("up", "right", "down", "left", "stay")
ACTION_NAMES = ACTIONS
#: (d_row, d_column) of each action: rows grow downwards.
ACTION_DELTAS = ((-1, 0), (0, 1), (1, 0), (0, -1), (0, 0))

Cell = tuple[int, int]


@dataclass(frozen=True)
class TabularMDP:
    """A finite MDP as tensors: ``P`` (S, A, S') transition probabilities, ``R`` (S, A)
    expected rewards, discount ``gamma`` in [0, 1). Every planning and Monte Carlo
    function of :mod:`course_lib.rl` takes one (see :meth:`GridWorld.model`)."""

    P: torch.Tensor
    R: torch.Tensor
    gamma: float

    @property
    def n_states(self) -> int:
        return self.P.shape[0]

    @property
    def n_actions(self) -> int:
        return self.P.shape[1]


def check_mdp(mdp: object) -> TabularMDP:
    """A :class:`TabularMDP` with consistent shapes, rows of P summing to 1, gamma in [0, 1)."""
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a TabularMDP (GridWorld.model()), got {type(mdp).__name__}")
    P, R = mdp.P, mdp.R
    if P.dim() != 3 or P.shape[0] != P.shape[2]:
        raise ValueError(f"P must have shape (S, A, S), got {tuple(P.shape)}")
    if R.shape != P.shape[:2]:
        raise ValueError(f"R must have shape {tuple(P.shape[:2])} (S, A), got {tuple(R.shape)}")
    if not P.is_floating_point() or not R.is_floating_point():
        raise TypeError(f"P and R must be floating point, got {P.dtype} and {R.dtype}")
    if (P < 0).any() or not torch.allclose(P.sum(-1), torch.ones_like(P[..., 0]), atol=1e-6):
        raise ValueError("every row P[s, a, :] must be a probability vector (>= 0, sum 1)")
    check_real(mdp.gamma, "gamma", low=0.0, high=1.0, high_open=True)
    return mdp


def check_policy(policy: object, mdp: TabularMDP, name: str = "policy") -> torch.Tensor:
    """A stochastic policy ``pi[s, a]`` (S, A): non-negative rows summing to 1, on the
    MDP's device and dtype. An integer vector (S,) of actions is turned into a one-hot
    (deterministic) policy."""
    if not isinstance(policy, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor (S, A) or (S,), got {type(policy).__name__}"
        )
    S, A = mdp.n_states, mdp.n_actions
    if not policy.is_floating_point():
        if policy.shape != (S,):
            raise ValueError(f"an integer {name} must have shape ({S},), got {tuple(policy.shape)}")
        return deterministic_policy(policy, A, dtype=mdp.P.dtype).to(mdp.P.device)
    if policy.shape != (S, A):
        raise ValueError(f"{name} must have shape ({S}, {A}), got {tuple(policy.shape)}")
    pi = policy.to(dtype=mdp.P.dtype, device=mdp.P.device)
    if (pi < 0).any() or not torch.allclose(pi.sum(-1), torch.ones_like(pi[:, 0]), atol=1e-6):
        raise ValueError(f"each row of {name} must be a probability vector (>= 0, sum 1)")
    return pi


def deterministic_policy(
    actions: torch.Tensor, n_actions: int = 5, *, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """One-hot policy ``pi[s, a] = 1{a = actions[s]}`` from a vector of action indices."""
    if not isinstance(actions, torch.Tensor) or actions.is_floating_point() or actions.dim() != 1:
        raise TypeError("actions must be a 1-D integer tensor of action indices")
    n_actions = check_int(n_actions, "n_actions", minimum=1)
    if actions.numel() and (actions.min() < 0 or actions.max() >= n_actions):
        raise ValueError(f"actions must lie in [0, {n_actions - 1}], got {actions.tolist()}")
    return torch.nn.functional.one_hot(actions.long(), n_actions).to(dtype)


def _check_cell(cell: object, rows: int, columns: int, name: str) -> Cell:
    if (
        not isinstance(cell, (tuple, list))
        or len(cell) != 2
        or not all(isinstance(c, numbers.Integral) and not isinstance(c, bool) for c in cell)
    ):
        raise TypeError(f"{name} must be a (row, column) pair of ints, got {cell!r}")
    r, c = int(cell[0]), int(cell[1])
    if not (1 <= r <= rows and 1 <= c <= columns):
        raise ValueError(
            f"{name} {cell!r} is not a cell of the {rows}x{columns} grid "
            f"(rows 1..{rows}, columns 1..{columns}, counted from 1 at the top left)"
        )
    return (r, c)


@dataclass(frozen=True)
class GridWorld:
    """A grid world configuration; the defaults are the classic 5x5 teaching world.

    ``forbidden`` and ``target`` are ``(row, column)`` cells counted from 1 at the top left.
    Rewards follow (1.2); ``gamma`` must lie in [0, 1). Invalid configurations raise
    ``ValueError``/``TypeError`` naming what was expected and what came.
    """

    rows: int = 5
    columns: int = 5
    forbidden: tuple[Cell, ...] = ((2, 2), (2, 3), (3, 3), (4, 2), (4, 4), (5, 2))
    target: Cell = (4, 3)
    r_boundary: float = -1.0
    r_forbidden: float = -1.0
    r_target: float = 1.0
    r_other: float = 0.0
    gamma: float = 0.9

    def __post_init__(self) -> None:
        rows = check_int(self.rows, "rows", minimum=1)
        columns = check_int(self.columns, "columns", minimum=1)
        if isinstance(self.forbidden, (str, bytes)) or not hasattr(self.forbidden, "__iter__"):
            raise TypeError(
                f"forbidden must be a sequence of (row, column) cells, got {self.forbidden!r}"
            )
        forbidden = tuple(
            sorted({_check_cell(c, rows, columns, "forbidden cell") for c in self.forbidden})
        )
        target = _check_cell(self.target, rows, columns, "target")
        if target in forbidden:
            raise ValueError(f"the target {target} must not be a forbidden cell")
        for name in ("r_boundary", "r_forbidden", "r_target", "r_other"):
            object.__setattr__(self, name, check_real(getattr(self, name), name))
        gamma = check_real(self.gamma, "gamma", low=0.0, high=1.0, high_open=True)
        object.__setattr__(self, "rows", rows)
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "forbidden", forbidden)
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "gamma", gamma)

    # ------------------------------------------------------------------ indexing
    @property
    def n_states(self) -> int:
        return self.rows * self.columns

    @property
    def n_actions(self) -> int:
        return len(ACTIONS)

    def state(self, cell: Cell) -> int:
        """s = (row - 1) * columns + (column - 1) for a (row, column) cell counted from 1."""
        r, c = _check_cell(cell, self.rows, self.columns, "cell")
        return (r - 1) * self.columns + (c - 1)

    def cell(self, s: int) -> Cell:
        """The (row, column) cell of state s (inverse of :meth:`state`)."""
        s = check_int(s, "s")
        if s >= self.n_states:
            raise ValueError(f"s must be a state in [0, {self.n_states - 1}], got {s}")
        return (s // self.columns + 1, s % self.columns + 1)

    def as_grid(self, values: torch.Tensor) -> torch.Tensor:
        """Per-state values (S,) shaped (rows, columns) for display (row 1 on top)."""
        if not isinstance(values, torch.Tensor) or values.shape != (self.n_states,):
            shape = (
                tuple(values.shape) if isinstance(values, torch.Tensor) else type(values).__name__
            )
            raise ValueError(f"values must be a tensor of shape ({self.n_states},), got {shape}")
        return values.reshape(self.rows, self.columns)

    # ------------------------------------------------------------------ dynamics
    def transition(self, s: int, a: int) -> tuple[int, float]:
        """(next state, reward) of action ``a`` in state ``s``: the rules (1.1)-(1.2)."""
        row, col = self.cell(s)
        a = check_int(a, "a")
        if a >= self.n_actions:
            raise ValueError(f"a must be an action in [0, {self.n_actions - 1}], got {a}")
        # region: step-rule
        d_row, d_col = ACTION_DELTAS[a]
        new_row, new_col = row + d_row, col + d_col
        if not (1 <= new_row <= self.rows and 1 <= new_col <= self.columns):
            return s, self.r_boundary  # bounced back at the boundary
        if (new_row, new_col) == self.target:
            return self.state((new_row, new_col)), self.r_target  # entering or staying
        if (new_row, new_col) in self.forbidden:
            return self.state((new_row, new_col)), self.r_forbidden
        return self.state((new_row, new_col)), self.r_other
        # endregion: step-rule

    def model(
        self, *, dtype: torch.dtype = torch.float64, device: str | torch.device | None = None
    ) -> TabularMDP:
        """The tabular model P[s, a, s'] (one-hot rows) and R[s, a], built with tensor
        operations for all (s, a) at once: an implementation of (1.1)-(1.2) independent of
        :meth:`transition` (the tests and the gymnasium wrapper compare the two)."""
        S, A = self.n_states, self.n_actions
        s = torch.arange(S)
        row, col = (s // self.columns).unsqueeze(1), (s % self.columns).unsqueeze(1)  # from 0
        delta = torch.tensor(ACTION_DELTAS)
        new_row, new_col = row + delta[:, 0], col + delta[:, 1]  # (S, A)
        outside = (new_row < 0) | (new_row >= self.rows) | (new_col < 0) | (new_col >= self.columns)
        s_next = torch.where(outside, s.unsqueeze(1), new_row * self.columns + new_col)
        is_forbidden = torch.zeros(S, dtype=torch.bool)
        for r, c in self.forbidden:
            is_forbidden[self.state((r, c))] = True
        R = torch.full((S, A), self.r_other, dtype=dtype)
        R[is_forbidden[s_next]] = self.r_forbidden
        R[s_next == self.state(self.target)] = self.r_target
        R[outside] = self.r_boundary  # (1.2): the boundary rule comes first
        P = torch.nn.functional.one_hot(s_next, S).to(dtype)
        return TabularMDP(P.to(device), R.to(device), self.gamma)

    def with_rewards(self, alpha: float, beta: float) -> GridWorld:
        """The same world with every reward mapped r -> alpha * r + beta."""
        names = ("r_boundary", "r_forbidden", "r_target", "r_other")
        return replace(self, **{n: alpha * getattr(self, n) + beta for n in names})
