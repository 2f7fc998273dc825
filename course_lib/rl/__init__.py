"""Chapter 04: Monte Carlo reinforcement learning in a grid world.

Modules (each docstring carries its derivation and equation numbers):

* :mod:`.gridworld`  -- the grid world (1.1)-(1.2), its tabular model P[s, a, s'], R[s, a];
* :mod:`.planning`   -- Bellman equations (2.x), optimality, value/policy iteration (3.x);
* :mod:`.montecarlo` -- returns, vectorised episodes, MC Basic, Exploring Starts,
  epsilon-greedy (4.x);
* :mod:`.env`        -- a gymnasium.Env with the same dynamics;
* :mod:`.viz`        -- grid figures and widgets; :mod:`.exercises` -- the chapter's exercises.
"""

from .gridworld import (
    ACTION_DELTAS,
    ACTIONS,
    GridWorld,
    TabularMDP,
    check_mdp,
    check_policy,
    deterministic_policy,
)
from .montecarlo import (
    Episodes,
    MCEstimate,
    MCResult,
    discounted_returns,
    epsilon_greedy_policy,
    epsilon_soft_mdp,
    first_visit_mask,
    mc_basic,
    mc_control,
    mc_epsilon_greedy,
    mc_evaluate,
    mc_exploring_starts,
    sample_episodes,
)
from .planning import (
    PlanningResult,
    action_values,
    bellman_expectation_step,
    bellman_optimality_step,
    greedy_actions,
    policy_evaluation,
    policy_iteration,
    policy_matrices,
    truncated_policy_iteration,
    value_iteration,
)

__all__ = [
    "ACTIONS",
    "ACTION_DELTAS",
    "Episodes",
    "GridWorld",
    "MCEstimate",
    "MCResult",
    "PlanningResult",
    "TabularMDP",
    "action_values",
    "bellman_expectation_step",
    "bellman_optimality_step",
    "check_mdp",
    "check_policy",
    "deterministic_policy",
    "discounted_returns",
    "epsilon_greedy_policy",
    "epsilon_soft_mdp",
    "first_visit_mask",
    "greedy_actions",
    "mc_basic",
    "mc_control",
    "mc_epsilon_greedy",
    "mc_evaluate",
    "mc_exploring_starts",
    "policy_evaluation",
    "policy_iteration",
    "policy_matrices",
    "sample_episodes",
    "truncated_policy_iteration",
    "value_iteration",
]
