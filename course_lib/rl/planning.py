"""Model-based planning on a :class:`~course_lib.rl.gridworld.TabularMDP` (notebook 04a).

For a policy pi (S, A), the policy's reward vector and transition matrix are

    r_pi(s) = sum_a pi(a|s) R(s, a),    P_pi(s, s') = sum_a pi(a|s) P(s, a, s').      (2.1)

Bellman equation (matrix form) and its two solutions:

    v_pi = r_pi + gamma P_pi v_pi                                                      (2.2)
    v_pi = (I - gamma P_pi)^{-1} r_pi                       (closed form)              (2.3)
    v_{k+1} = r_pi + gamma P_pi v_k  ->  v_pi                (iterative)               (2.4)
    q_pi(s, a) = R(s, a) + gamma sum_s' P(s, a, s') v_pi(s')  (q from v)              (2.5)

Bellman optimality equation, a contraction of modulus gamma in the max norm:

    v = T v := max_a [R(s, a) + gamma sum_s' P(s, a, s') v(s')]                       (3.1)
    ||T v - T w||_inf <= gamma ||v - w||_inf                                           (3.2)

and the three algorithms that solve it: value iteration v_{k+1} = T v_k (3.3); policy
iteration (exact evaluation (2.3), then greedy improvement) (3.4); truncated policy
iteration (j sweeps of (2.4) from the previous values, then improvement) (3.5).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..validation import check_int, check_real
from .gridworld import TabularMDP, check_mdp, check_policy, deterministic_policy

__all__ = [
    "PlanningResult",
    "action_values",
    "bellman_expectation_step",
    "bellman_optimality_step",
    "greedy_actions",
    "policy_evaluation",
    "policy_iteration",
    "policy_matrices",
    "truncated_policy_iteration",
    "value_iteration",
]


@dataclass(frozen=True)
class PlanningResult:
    """Values ``v`` (S,), action values ``q`` (S, A), a greedy deterministic policy
    ``actions`` (S,), the number of ``iterations`` and ``deltas``: ||v_{k+1} - v_k||_inf per
    iteration (value and truncated policy iteration) or per policy (policy iteration)."""

    v: torch.Tensor
    q: torch.Tensor
    actions: torch.Tensor
    iterations: int
    deltas: list[float] = field(default_factory=list)

    @property
    def policy(self) -> torch.Tensor:
        """The greedy policy as a one-hot (S, A) matrix."""
        return deterministic_policy(self.actions, self.q.shape[1], dtype=self.q.dtype)


def policy_matrices(mdp: TabularMDP, policy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """r_pi (S,) and P_pi (S, S) of (2.1)."""
    mdp = check_mdp(mdp)
    pi = check_policy(policy, mdp)
    r_pi = (pi * mdp.R).sum(-1)  # (2.1) r_pi(s) = sum_a pi(a|s) R(s, a)
    P_pi = torch.einsum("sa,sat->st", pi, mdp.P)  # (2.1) P_pi(s, s') = sum_a pi(a|s) P(s,a,s')
    return r_pi, P_pi


def bellman_expectation_step(
    mdp: TabularMDP, policy: torch.Tensor, v: torch.Tensor
) -> torch.Tensor:
    """One sweep of iterative policy evaluation (2.4): r_pi + gamma P_pi v."""
    r_pi, P_pi = policy_matrices(mdp, policy)
    return r_pi + mdp.gamma * P_pi @ _check_v(v, mdp)


def policy_evaluation(
    mdp: TabularMDP,
    policy: torch.Tensor,
    *,
    method: str = "closed",
    tol: float = 1e-12,
    max_sweeps: int = 100_000,
    v0: torch.Tensor | None = None,
) -> torch.Tensor:
    """State values v_pi (S,) of ``policy``: ``method="closed"`` solves (2.3) as a linear
    system; ``method="iterative"`` sweeps (2.4) from ``v0`` (default 0) until
    ||v_{k+1} - v_k||_inf <= tol (``ValueError`` if ``max_sweeps`` do not suffice)."""
    mdp = check_mdp(mdp)
    r_pi, P_pi = policy_matrices(mdp, policy)
    if method == "closed":
        # region: closed-form
        eye = torch.eye(mdp.n_states, dtype=P_pi.dtype, device=P_pi.device)
        return torch.linalg.solve(eye - mdp.gamma * P_pi, r_pi)  # (2.3)
        # endregion: closed-form
    if method != "iterative":
        raise ValueError(f"method must be 'closed' or 'iterative', got {method!r}")
    tol = check_real(tol, "tol", low=0.0, low_open=True)
    max_sweeps = check_int(max_sweeps, "max_sweeps", minimum=1)
    v = torch.zeros_like(r_pi) if v0 is None else _check_v(v0, mdp).clone()
    for _ in range(max_sweeps):
        # region: iterative
        v_next = r_pi + mdp.gamma * P_pi @ v  # (2.4)
        # endregion: iterative
        if (v_next - v).abs().max() <= tol:
            return v_next
        v = v_next
    raise ValueError(f"iterative policy evaluation did not reach tol={tol} in {max_sweeps} sweeps")


def action_values(mdp: TabularMDP, v: torch.Tensor) -> torch.Tensor:
    """q(s, a) = R(s, a) + gamma sum_s' P(s, a, s') v(s') (2.5), shape (S, A)."""
    mdp = check_mdp(mdp)
    return mdp.R + mdp.gamma * mdp.P @ _check_v(v, mdp)  # (2.5)


def greedy_actions(
    q: torch.Tensor, *, tol: float = 1e-9, prefer: torch.Tensor | None = None
) -> torch.Tensor:
    """A greedy deterministic policy (S,): for each state the first action whose value is
    within ``tol`` of the best (action order up, right, down, left, stay); with ``prefer``
    (S,), that action is kept whenever it is within ``tol`` of the best (so policy iteration
    does not cycle between tied actions)."""
    if not isinstance(q, torch.Tensor) or q.dim() != 2:
        raise ValueError(f"q must be a tensor of shape (S, A), got {getattr(q, 'shape', q)!r}")
    best = q.max(dim=1, keepdim=True).values
    near = q >= best - tol
    actions = near.to(torch.int8).argmax(dim=1)  # first near-maximiser
    if prefer is not None:
        keep = near.gather(1, prefer.long().unsqueeze(1)).squeeze(1)
        actions = torch.where(keep, prefer.long(), actions)
    return actions


def bellman_optimality_step(mdp: TabularMDP, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(T v, greedy actions) of the Bellman optimality operator (3.1)."""
    q = action_values(mdp, v)
    return q.max(dim=1).values, greedy_actions(q)


def value_iteration(
    mdp: TabularMDP,
    *,
    tol: float = 1e-10,
    max_iterations: int = 100_000,
    v0: torch.Tensor | None = None,
    n_iterations: int | None = None,
) -> PlanningResult:
    """Value iteration v_{k+1} = T v_k (3.3) from ``v0`` (default 0).

    Stops when ||v_{k+1} - v_k||_inf <= tol, or after exactly ``n_iterations`` sweeps when
    that is given (``n_iterations=L`` gives the L-step values T^L v0)."""
    mdp = check_mdp(mdp)
    tol = check_real(tol, "tol", low=0.0, low_open=True)
    v = (
        torch.zeros(mdp.n_states, dtype=mdp.R.dtype, device=mdp.R.device)
        if v0 is None
        else _check_v(v0, mdp).clone()
    )
    limit = check_int(max_iterations if n_iterations is None else n_iterations, "n_iterations")
    deltas: list[float] = []
    for _ in range(limit):
        # region: value-iteration
        q = mdp.R + mdp.gamma * mdp.P @ v  # (2.5) q_k(s, a) from v_k
        v_next = q.max(dim=1).values  # (3.3) v_{k+1} = max_a q_k(s, a)
        # endregion: value-iteration
        deltas.append(float((v_next - v).abs().max()))
        v = v_next
        if n_iterations is None and deltas[-1] <= tol:
            break
    else:
        if n_iterations is None:
            raise ValueError(
                f"value iteration did not reach tol={tol} in {max_iterations} iterations"
            )
    q = action_values(mdp, v)
    return PlanningResult(v, q, greedy_actions(q), len(deltas), deltas)


def policy_iteration(
    mdp: TabularMDP, *, policy0: torch.Tensor | None = None, max_iterations: int = 1_000
) -> PlanningResult:
    """Policy iteration (3.4): exact evaluation (2.3), then greedy improvement, until the
    policy no longer changes. ``policy0`` (S,) defaults to "stay" everywhere."""
    mdp = check_mdp(mdp)
    actions = _initial_actions(mdp, policy0)
    deltas: list[float] = []
    v_old = torch.zeros(mdp.n_states, dtype=mdp.R.dtype, device=mdp.R.device)
    for k in range(1, check_int(max_iterations, "max_iterations", minimum=1) + 1):
        # region: policy-iteration
        v = policy_evaluation(mdp, actions)  # (2.3) policy evaluation
        q = action_values(mdp, v)  # (2.5)
        improved = greedy_actions(q, prefer=actions)  # policy improvement
        # endregion: policy-iteration
        deltas.append(float((v - v_old).abs().max()))
        v_old = v
        if torch.equal(improved, actions):
            return PlanningResult(v, q, actions, k, deltas)
        actions = improved
    raise ValueError(f"policy iteration did not converge in {max_iterations} iterations")


def truncated_policy_iteration(
    mdp: TabularMDP,
    n_sweeps: int,
    *,
    tol: float = 1e-10,
    max_iterations: int = 100_000,
    policy0: torch.Tensor | None = None,
) -> PlanningResult:
    """Truncated policy iteration (3.5): ``n_sweeps`` = j sweeps of (2.4) from the previous
    values, then greedy improvement. j = 1 is value iteration, j -> infinity is policy
    iteration. Starts from v = 0 and ``policy0`` (default "stay"); stops when an
    iteration changes v by at most ``tol``."""
    mdp = check_mdp(mdp)
    n_sweeps = check_int(n_sweeps, "n_sweeps", minimum=1)
    tol = check_real(tol, "tol", low=0.0, low_open=True)
    actions = _initial_actions(mdp, policy0)
    v = torch.zeros(mdp.n_states, dtype=mdp.R.dtype, device=mdp.R.device)
    deltas: list[float] = []
    for k in range(1, check_int(max_iterations, "max_iterations", minimum=1) + 1):
        # region: truncated
        v_start = v
        for _ in range(n_sweeps):
            v = bellman_expectation_step(mdp, actions, v)  # (2.4), j times
        actions = greedy_actions(action_values(mdp, v), prefer=actions)  # improvement
        # endregion: truncated
        deltas.append(float((v - v_start).abs().max()))
        if deltas[-1] <= tol:
            q = action_values(mdp, v)
            return PlanningResult(v, q, greedy_actions(q), k, deltas)
    raise ValueError(
        f"truncated policy iteration did not reach tol={tol} in {max_iterations} iterations"
    )


def _initial_actions(mdp: TabularMDP, policy0: torch.Tensor | None) -> torch.Tensor:
    if policy0 is None:
        return torch.full((mdp.n_states,), mdp.n_actions - 1, dtype=torch.long, device=mdp.R.device)
    if (
        not isinstance(policy0, torch.Tensor)
        or policy0.is_floating_point()
        or policy0.shape != (mdp.n_states,)
    ):
        raise ValueError(f"policy0 must be an integer tensor of shape ({mdp.n_states},) of actions")
    check_policy(policy0, mdp, "policy0")
    return policy0.long().to(mdp.R.device)


def _check_v(v: object, mdp: TabularMDP) -> torch.Tensor:
    if not isinstance(v, torch.Tensor):
        raise TypeError(
            f"v must be a torch.Tensor of shape ({mdp.n_states},), got {type(v).__name__}"
        )
    if v.shape != (mdp.n_states,):
        raise ValueError(f"v must have shape ({mdp.n_states},), got {tuple(v.shape)}")
    return v.to(dtype=mdp.R.dtype, device=mdp.R.device)
