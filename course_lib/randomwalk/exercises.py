"""Chapter 01 exercises. References are computed by the library, never hard-coded.

Notebooks import :func:`course_lib.checks.check` and :func:`course_lib.checks.hint`;
this module only defines and registers the exercises (see :mod:`course_lib.checks`).
"""

from __future__ import annotations

from ..checks import Exercise, ExerciseSet, float_answer, function_answer, integer_answer
from . import (
    ballot_count,
    diffusion_coefficient,
    endpoint_pmf,
    ever_return_probability,
    return_probabilities,
    win_probability,
)

__all__ = ["EXERCISES"]


def _pmf_at(n: int, p: float, k: int) -> float:
    values, probs = endpoint_pmf(n, p)
    return float(probs[values == k].sum())


def _u(n: int) -> float:
    return float(return_probabilities(n, 0.5)[n])


EXERCISES = ExerciseSet(
    "01",
    [
        Exercise(
            "01.1",
            "For p = 0.6, what is P(S_10 = 2)? Use (1.1) by hand (not endpoint_pmf).",
            lambda: _pmf_at(10, 0.6, 2),
            float_answer(4),
            inputs=(0.6, 10, 2),
            hints=(
                "S_10 = 2 fixes how many of the 10 steps go up; their order is free.",
                "With K up-steps, S_n = 2K - n. Count the orderings of the up-steps with a "
                "binomial coefficient, then multiply by the probability of one such path.",
                "P(S_n = k) = C(n, (n + k)/2) p^((n + k)/2) q^((n - k)/2), with q = 1 - p.",
            ),
        ),
        Exercise(
            "01.2",
            "Write a function u(n) that returns u_2n = P(S_2n = 0) for the symmetric walk "
            "(math.comb helps).",
            _u,
            function_answer([(0,), (1,), (2,), (5,), (30,)], "u(n) -> float, for integers n >= 0"),
            hints=(
                "S_2n = 0 means exactly as many up-steps as down-steps.",
                "For the symmetric walk every path of 2n steps has the same probability; "
                "count the paths with n up-steps (math.comb).",
                "u_2n = C(2n, n) / 4^n, which also holds for n = 0.",
            ),
        ),
        Exercise(
            "01.3",
            "For p = 0.7, what is the probability that the walk ever returns to 0? Use F(1).",
            lambda: ever_return_probability(0.7),
            float_answer(6),
            inputs=(0.7, 0, 1),
            hints=(
                "Ever returning means the first-return time is finite: sum its pmf, i.e. "
                "evaluate the first-return generating function F(s) at s = 1.",
                "F(s) = 1 - sqrt(1 - 4pq s^2). Simplify 1 - 4pq using p + q = 1.",
                "1 - 4pq = (p - q)^2, so F(1) = 1 - |p - q|.",
            ),
        ),
        Exercise(
            "01.4",
            "How many paths of 12 steps from 0 end at 4 and stay strictly positive after "
            "step 0? Count by brute force with enumerate_paths or use (5.3).",
            lambda: ballot_count(12, 4),
            integer_answer(),
            inputs=(12, 0, 4),
            hints=(
                "A strictly positive path must start with an up-step; what remains is a path "
                "that never touches 0.",
                "Count all paths from 1 to 4 in the remaining steps, and subtract those that "
                "touch 0: reflect their part before the first visit to 0 (reflection principle).",
                "Ballot theorem (5.3): the count is (k/n) times the number of all paths from 0 "
                "to k in n steps.",
            ),
        ),
        Exercise(
            "01.5",
            "A gambler with 3 units plays until he has 10 or nothing, winning each bet with "
            "probability 0.45. What is the probability that he reaches 10?",
            lambda: win_probability(3, 10, 0.45),
            float_answer(6),
            inputs=(3, 10, 0.45),
            hints=(
                "Let P_j be the probability of reaching 10 from j units; condition on the "
                "outcome of the first bet.",
                "P_j = p P_(j+1) + q P_(j-1) with P_0 = 0 and P_N = 1: a linear recurrence "
                "whose characteristic roots are 1 and r = q/p.",
                "P_k = (1 - r^k) / (1 - r^N) with r = q/p.",
            ),
        ),
        Exercise(
            "01.6",
            "A walker jumps dx = 0.2 every dt = 0.05. What diffusion coefficient D does its "
            "heat-equation limit have?",
            lambda: diffusion_coefficient(0.2, 0.05),
            float_answer(6),
            inputs=(0.2, 0.05),
            hints=(
                "Compare variances: after time t the walker has made t/dt independent jumps.",
                "The heat equation du/dt = D d^2u/dx^2 spreads a point mass into a Gaussian "
                "whose variance grows like 2 D t.",
                "Var[X_t] = dx^2 t / dt must equal 2 D t.",
            ),
        ),
    ],
)
