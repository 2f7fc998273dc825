"""Chapter 01 exercises. References are computed by the library, never hard-coded.

The notebook imports ``check`` from here (or from :mod:`course_lib.checks`).
"""

from __future__ import annotations

from ..checks import Exercise, ExerciseSet, function_answer, numeric_answer
from .genfun import ever_return_probability, return_probabilities
from .paths import ballot_count
from .ruin import win_probability
from .scaling_limit import diffusion_coefficient
from .walks import endpoint_pmf


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
            "For p = 0.6, what is P(S_10 = 2)?",
            numeric_answer(lambda: _pmf_at(10, 0.6, 2), rtol=1e-6),
            hint="S_10 = 2 needs (10 + 2)/2 = 6 up-steps: C(10, 6) p^6 q^4.",
        ),
        Exercise(
            "01.2",
            "Write u(n) returning u_2n = P(S_2n = 0) for the symmetric walk.",
            function_answer(_u, [(0,), (1,), (2,), (5,), (30,)], rtol=1e-9),
            hint="Choose which n of the 2n steps go up: C(2n, n) / 4^n. u(0) is 1.",
        ),
        Exercise(
            "01.3",
            "For p = 0.7, what is the probability that the walk ever returns to 0?",
            numeric_answer(lambda: ever_return_probability(0.7), rtol=1e-9),
            hint="Evaluate F(s) = 1 - sqrt(1 - 4pq s^2) at s = 1; sqrt((p - q)^2) = |p - q|.",
        ),
        Exercise(
            "01.4",
            "How many paths of 12 steps from 0 end at 4 and stay strictly positive after step 0?",
            numeric_answer(lambda: ballot_count(12, 4), rtol=0, atol=0.5),
            hint="Ballot theorem: (k/n) times the number of all paths from 0 to k.",
        ),
        Exercise(
            "01.5",
            "A gambler with 3 units plays to reach 10, winning each bet with p = 0.45. "
            "What is the probability of reaching 10?",
            numeric_answer(lambda: win_probability(3, 10, 0.45), rtol=1e-6),
            hint="Use r = q/p and P = (1 - r^k) / (1 - r^N).",
        ),
        Exercise(
            "01.6",
            "A walker jumps dx = 0.2 every dt = 0.05. What diffusion coefficient D does its "
            "heat-equation limit have?",
            numeric_answer(lambda: diffusion_coefficient(0.2, 0.05), rtol=1e-9),
            hint="Var[X_t] = dx^2 t / dt must equal 2 D t.",
        ),
    ],
)

check = EXERCISES.check
