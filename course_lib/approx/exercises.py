"""Chapter 03 exercises. References are computed by the library, never hard-coded.

Notebooks import :func:`course_lib.checks.check` and :func:`course_lib.checks.hint`;
this module only defines and registers the exercises (see :mod:`course_lib.checks`).
"""

from __future__ import annotations

import torch

from ..checks import Exercise, ExerciseSet, float_answer, function_answer, integer_answer
from .rm import PROBLEMS, robbins_monro
from .schedules import ConstantStep, PowerStep
from .sgd import least_squares_solution, sgd_least_squares_moments

__all__ = ["EXERCISES", "EXERCISE_SCHEDULES", "LS_X", "LS_Y"]

#: 03.2: a_k = 1/sqrt(k), 1/(k+5), 0.01, 2/k^1.5, 10/k^0.75
EXERCISE_SCHEDULES = (
    PowerStep(1.0, 0.5),
    PowerStep(1.0, 1.0, 5.0),
    ConstantStep(0.01),
    PowerStep(2.0, 1.5),
    PowerStep(10.0, 0.75),
)

#: 03.3: the least-squares data (x_i, y_i) = ((1, t_i), y_i), t = 0, 1, 2, 3
LS_X = torch.tensor([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]], dtype=torch.float64)
LS_Y = torch.tensor([1.0, 3.0, 2.0, 5.0], dtype=torch.float64)


def _tanh_iterate() -> float:
    w = robbins_monro(PROBLEMS["tanh"].g, torch.tensor(3.0, dtype=torch.float64), PowerStep(), 5)
    return float(w[5])  # w_6


def _rm_flags() -> list[int]:
    return [int(s.satisfies_rm) for s in EXERCISE_SCHEDULES]


def _mbgd_variance(k: int, a: float, m: int) -> float:
    """Var of w_{k+1} for mean estimation with constant step a and batch m (Var X = 1):
    the exact second-moment recursion (5.6) with X = 1, y = +-1 (a two-point law)."""
    X = torch.ones(2, 1, dtype=torch.float64)
    y = torch.tensor([1.0, -1.0], dtype=torch.float64)
    _, P = sgd_least_squares_moments(
        X, y, torch.zeros(1, dtype=torch.float64), ConstantStep(a), k, batch_size=m
    )
    return float(P[k, 0, 0])


EXERCISES = ExerciseSet(
    "03",
    [
        Exercise(
            "03.1",
            "Run RM by hand on g(w) = tanh(w - 1) without noise, from w_1 = 3 with a_k = 1/k. "
            "What is w_6?",
            _tanh_iterate,
            float_answer(6),
            inputs=(1.0, 3.0, 6.0),
            hints=(
                "Apply the update w_(k+1) = w_k - a_k g(w_k) five times, starting at k = 1.",
                "Keep full precision between steps (math.tanh) and round only at the end; the "
                "first step uses a_1 = 1.",
                "w_2 = 3 - tanh(2), w_3 = w_2 - tanh(w_2 - 1)/2, and so on up to w_6.",
            ),
        ),
        Exercise(
            "03.2",
            "Which of these step sizes satisfy both RM conditions sum a_k = infinity and "
            "sum a_k^2 < infinity? (i) a_k = 1/sqrt(k), (ii) a_k = 1/(k + 5), (iii) a_k = 0.01, "
            "(iv) a_k = 2/k^1.5, (v) a_k = 10/k^0.75. Give a vector of five entries, 1 where "
            "both hold and 0 where not.",
            _rm_flags,
            integer_answer(shape=(5,)),
            inputs=(5, 2, 10),
            hints=(
                "Compare each series with an integral: sum k^(-p) diverges for p <= 1 and "
                "converges for p > 1. A shift k + 5 or a constant factor changes nothing.",
                "Apply the test twice: to a_k (exponent p) and to a_k^2 (exponent 2p).",
                "Both conditions hold exactly when 1/2 < p <= 1; a constant step has p = 0.",
            ),
        ),
        Exercise(
            "03.3",
            "Least squares (the quadratic form of Chapter 02): fit y = w_1 + w_2 t to the points "
            "(t, y) = (0, 1), (1, 3), (2, 2), (3, 5). SGD with a_k -> 0 converges to the "
            "minimiser w* of ||X w - y||^2. Give w* = (w_1, w_2).",
            lambda: least_squares_solution(LS_X, LS_Y).tolist(),
            float_answer(6, shape=(2,)),
            inputs=(0.0, 1.0, 3.0, 2.0, 5.0),
            hints=(
                "The root of the gradient X^T (X w - y) = 0 is the minimiser: these are the "
                "normal equations.",
                "Build X with a column of ones and a column of t; solve the 2x2 system "
                "(X^T X) w = X^T y.",
                "The slope is Cov(t, y)/Var(t) over the four points; the intercept makes the "
                "line pass through (mean t, mean y).",
            ),
        ),
        Exercise(
            "03.4",
            "Mean estimation by mini-batch SGD with a constant step: w_(j+1) = w_j - a (w_j - "
            "xbar_j), where xbar_j is the mean of m fresh i.i.d. samples of X with Var X = 1, "
            "and w_1 is a fixed number. Derive Var[w_(k+1)] and write it as a function "
            "var(k, a, m).",
            _mbgd_variance,
            function_answer(
                [(1, 0.5, 1), (3, 0.1, 4), (10, 0.3, 2), (50, 0.05, 8), (200, 1.5, 1)],
                "var(k, a, m) -> float, for integers k, m >= 1 and 0 < a < 2",
            ),
            hints=(
                "Write e_j = w_j - E[X]. The update is linear in e_j plus a noise term; the noise "
                "terms of different steps are independent.",
                "e_(j+1) = (1 - a) e_j + a (E[X] - xbar_j), and Var[xbar_j] = 1/m. Take variances "
                "step by step: v_(j+1) = (1 - a)^2 v_j + a^2 / m with v_1 = 0.",
                "Sum the geometric series: Var = (a^2/m) (1 - (1 - a)^(2k)) / (1 - (1 - a)^2).",
            ),
        ),
    ],
)
