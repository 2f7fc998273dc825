"""Chapter 04 exercises (04.1-04.5 in notebook 04a, 04.6-04.10 in 04b).

References are computed by the library (planning, Monte Carlo, the grid world's rules),
never hard-coded. Notebooks import :func:`course_lib.checks.check` and ``hint``.
"""

from __future__ import annotations

import math

import torch

from ..checks import Exercise, ExerciseSet, float_answer, function_answer, integer_answer
from .gridworld import GridWorld, TabularMDP
from .montecarlo import discounted_returns, epsilon_greedy_policy, mc_basic
from .planning import policy_evaluation, value_iteration

__all__ = ["EXERCISES"]

CLASSIC = GridWorld()


def _value_under(
    world: GridWorld, actions: dict[tuple[int, int], int], cell: tuple[int, int]
) -> float:
    """v_pi(cell) in closed form (2.3) for a deterministic policy given on some cells
    (every other cell: stay)."""
    pi = torch.full((world.n_states,), 4, dtype=torch.long)
    for c, a in actions.items():
        pi[world.state(c)] = a
    return float(policy_evaluation(world.model(), pi)[world.state(cell)])


def _two_state_value(gamma: float) -> float:
    """v((1,1)) in a 1x2 world, target (1,2): right from (1,1), left from (1,2)."""
    world = GridWorld(1, 2, (), (1, 2), gamma=float(gamma))
    return _value_under(world, {(1, 1): 1, (1, 2): 3}, (1, 1))


def _affine_value() -> float:
    return float(value_iteration(CLASSIC.with_rewards(2.0, 1.0).model(), tol=1e-13).v[0])


def _contraction_sweeps() -> int:
    bound = float(
        value_iteration(CLASSIC.model(), tol=1e-13).v.abs().max()
    )  # ||v0 - v*|| for v0 = 0
    return math.ceil(math.log(1e-3 / bound) / math.log(CLASSIC.gamma) - 1e-12)


def _episode_return() -> float:
    rewards = torch.tensor([[0.0, -1.0, 0.0, 1.0, 1.0]], dtype=torch.float64)
    return float(discounted_returns(rewards, 0.9)[0, 0])


def _first_length_reaching_corner() -> int:
    mdp = CLASSIC.model()
    for L in range(1, 100):
        if abs(float(mc_basic(mdp, L).v[0])) > 1e-12:
            return L
    raise RuntimeError("no episode length up to 99 reaches (1, 1)")


def _greedy_probability(epsilon: float) -> float:
    return float(epsilon_greedy_policy(torch.tensor([0]), 5, float(epsilon))[0, 0])


def _epsilon_greedy_target_value() -> float:
    mdp: TabularMDP = CLASSIC.model()
    star = value_iteration(mdp, tol=1e-13)
    pi = epsilon_greedy_policy(star.actions, 5, 0.2)
    return float(policy_evaluation(mdp, pi)[CLASSIC.state(CLASSIC.target)])


def _episodes_needed() -> int:
    # SE = sigma / sqrt(N) <= 0.05 with sigma = 2
    return math.ceil((2.0 / 0.05) ** 2 - 1e-9)


EXERCISES = ExerciseSet(
    "04",
    [
        Exercise(
            "04.1",
            "In the classic world (gamma = 0.9) an agent in cell (4,1) moves right into the "
            "forbidden cell (4,2), then right into the target (4,3), and then stays there "
            "forever. What is the state value of (4,1) under this policy? Compute the return "
            "by hand.",
            lambda: _value_under(CLASSIC, {(4, 1): 1, (4, 2): 1, (4, 3): 4}, (4, 1)),
            float_answer(4),
            inputs=(4, 1, 2, 3, 0.9),
            hints=(
                "Write down the rewards of the first steps and of the steps that follow, "
                "then discount each by gamma^t.",
                "The first reward is r_forbidden, the second r_target, and every later reward "
                "is r_target too (staying in the target pays).",
                "v = r_forbidden + gamma r_target / (1 - gamma), since the tail is a "
                "geometric series.",
            ),
        ),
        Exercise(
            "04.2",
            "A 1x2 world: cell (1,1) and the target (1,2), no forbidden cells, r_target = 1, "
            "r_other = 0. The policy moves right in (1,1) and left in (1,2). Write a function "
            "v11(gamma) returning the state value of (1,1) for this policy, derived from the "
            "Bellman equation.",
            _two_state_value,
            function_answer([(0.0,), (0.5,), (0.9,), (0.99,)], "v11(gamma) -> float"),
            hints=(
                "The agent alternates between the two cells: write one Bellman equation per "
                "state, v = r + gamma v(next).",
                "Moving right from (1,1) enters the target (reward 1); moving left from (1,2) "
                "enters an ordinary cell (reward 0).",
                "v1 = 1 + gamma v2 and v2 = 0 + gamma v1; substitute and solve for v1.",
            ),
        ),
        Exercise(
            "04.3",
            "A 1x4 world (one row): target (1,4), forbidden cell (1,3), r_forbidden = -1, "
            "r_boundary = -1, r_target = 1, r_other = 0, gamma = 0.9. What is the optimal "
            "state value v*((1,1))?",
            lambda: float(
                value_iteration(GridWorld(1, 4, [(1, 3)], (1, 4)).model(), tol=1e-13).v[0]
            ),
            float_answer(4),
            inputs=(1, 4, 3, -1, 0.9),
            hints=(
                "Two candidates: reach the target and stay there, or avoid the forbidden cell "
                "and collect nothing; compare their returns.",
                "The way to the target passes through (1,3) at the second step; once in the "
                "target, staying pays r_target every step.",
                "Going right: 0 + gamma (-1) + gamma^2 / (1 - gamma); staying at (1,1): 0. "
                "Take the larger.",
            ),
        ),
        Exercise(
            "04.4",
            "Every reward of the classic world is replaced by 2r + 1 (gamma stays 0.9). What "
            "is the new optimal value of the top-left cell (1,1)? Use the affine-invariance "
            "result rather than a new value iteration (then check with one).",
            _affine_value,
            float_answer(4),
            inputs=(2, 1, 0.9),
            hints=(
                "The optimal policy does not change under r -> alpha r + beta with alpha > 0; "
                "what happens to each discounted return?",
                "Each return becomes alpha G + beta (1 + gamma + gamma^2 + ...).",
                "v' = alpha v* + beta / (1 - gamma), with v*((1,1)) from value iteration.",
            ),
        ),
        Exercise(
            "04.5",
            "Value iteration in the classic world starts from v0 = 0, so ||v0 - v*||_inf = "
            "max_s |v*(s)|. Using only the contraction bound ||v_k - v*||_inf <= gamma^k "
            "||v0 - v*||_inf, what is the smallest number of sweeps k that guarantees an error "
            "of at most 1e-3?",
            _contraction_sweeps,
            integer_answer(),
            inputs=(0, 1e-3, 0.9),
            hints=(
                "Find max_s |v*(s)| first (value_iteration), then solve the inequality for k.",
                "gamma^k B <= 1e-3 with B = max |v*|; take logarithms (log gamma < 0 flips "
                "the inequality).",
                "k = ceil(log(1e-3 / B) / log(gamma)).",
            ),
        ),
        Exercise(
            "04.6",
            "An episode of the grid world has the rewards r_1, ..., r_5 = 0, -1, 0, 1, 1 and "
            "gamma = 0.9. What is its discounted return G_0?",
            _episode_return,
            float_answer(6),
            inputs=(0, -1, 1, 0.9),
            hints=(
                "G_0 weights the reward r_(t+1) by gamma^t.",
                "Work backwards: G_4 = r_5, G_t = r_(t+1) + gamma G_(t+1).",
                "G_0 = 0 - gamma + 0 + gamma^3 + gamma^4.",
            ),
        ),
        Exercise(
            "04.7",
            "MC Basic in the classic world with episode length L: what is the smallest L for "
            "which the top-left cell (1,1) gets a nonzero value? Reason with the L-step values "
            "(or run mc_basic for increasing L).",
            _first_length_reaching_corner,
            integer_answer(),
            inputs=(1,),
            hints=(
                "With episode length L, a state's value collects only rewards r_1..r_L; with "
                "this world's mc_basic its value equals the L-step optimum from zero.",
                "The target is five moves away from (1,1); a route that crosses a forbidden "
                "cell pays -1 on the way, and rewards after reaching the target must outweigh "
                "it. A route that detours is longer.",
                "Compute the L-step value of (1,1) for L = 1, 2, ... with value_iteration("
                "mdp, n_iterations=L) and find the first nonzero one.",
            ),
        ),
        Exercise(
            "04.8",
            "Write a function p_greedy(epsilon) returning the probability that the epsilon-greedy "
            "policy (4.5) with the five grid-world actions takes its greedy action.",
            _greedy_probability,
            function_answer([(0.05,), (0.1,), (0.3,), (0.5,)], "p_greedy(epsilon) -> float"),
            hints=(
                "With probability epsilon the action is drawn uniformly from all five "
                "actions, which include the greedy one.",
                "Add the probability 1 - epsilon of acting greedily to the greedy action's "
                "share of the uniform draw.",
                "1 - epsilon + epsilon / 5.",
            ),
        ),
        Exercise(
            "04.9",
            "Take the optimal policy of the classic world and make it epsilon-greedy with "
            "epsilon = 0.2. What is the exact value of the target cell (4,3) under this "
            "policy? (Optimal: 10.) Use policy evaluation.",
            _epsilon_greedy_target_value,
            float_answer(4),
            inputs=(0.2, 4, 3, 10),
            hints=(
                "Build the policy with epsilon_greedy_policy(value_iteration(mdp).actions, 5, "
                "0.2).",
                "Evaluate it with the closed form (2.3): policy_evaluation(mdp, policy).",
                "Index the result at state (4 - 1) * 5 + (3 - 1).",
            ),
        ),
        Exercise(
            "04.10",
            "The returns from a state-action pair have standard deviation 2. How many "
            "independent returns (first visits) are needed for the standard error of their mean "
            "to be at most 0.05?",
            _episodes_needed,
            integer_answer(),
            inputs=(2, 0.05),
            hints=(
                "Chapter 03: the mean of N independent samples has standard deviation sigma / "
                "sqrt(N).",
                "Solve sigma / sqrt(N) <= 0.05 for N and round up.",
                "N = ceil((sigma / 0.05)^2).",
            ),
        ),
    ],
)
