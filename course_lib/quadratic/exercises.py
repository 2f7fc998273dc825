"""Chapter 02 exercises. References are computed by the library, never hard-coded.

Notebooks import :func:`course_lib.checks.check` and :func:`course_lib.checks.hint`;
this module only defines and registers the exercises (see :mod:`course_lib.checks`).
"""

from __future__ import annotations

import numpy as np
import torch

from ..checks import Exercise, ExerciseSet, float_answer, function_answer, integer_answer
from .forms import QuadraticForm
from .optim import conjugate_gradient, gd_optimal_step, gd_rate, heavy_ball_rate

__all__ = ["EXERCISES"]

F64 = torch.float64


def _symmetric_matrix() -> np.ndarray:
    # f = 3x1² + 4x1x2 - x2²: a_11 = 3, a_12 = 4, a_21 = 0, a_22 = -1
    form = QuadraticForm.from_coefficients([[3.0, 4.0], [0.0, -1.0]], [0.0, 0.0], 0.0)
    return form.A.numpy()


def _best_step_article_form() -> float:
    # f = xᵀAx + bᵀx + c with eig(A) = {1, 9}: the Hessian 2A has eigenvalues 2 and 18
    A = torch.diag(torch.tensor([1.0, 9.0], dtype=F64))
    mu = torch.linalg.eigvalsh(QuadraticForm(A).hessian())
    return gd_optimal_step(float(mu[0]), float(mu[-1]))


def _rates() -> np.ndarray:
    kappa = 200.0 / 2.0
    return np.array([gd_rate(kappa), heavy_ball_rate(kappa)])


def _dimensions() -> np.ndarray:
    A = torch.tensor([[1.0, -1.0, 0.0], [-1.0, 1.0, 0.0], [0.0, 0.0, 0.0]], dtype=F64)
    return np.array(
        [QuadraticForm(A, b).stationary().dimension for b in ([2.0, -2.0, 0.0], [2.0, 0.0, 0.0])]
    )


def _gradient(a, b, x):
    # f = xᵀax + bᵀx with a not symmetric: ∇f = (a + aᵀ)x + b = 2·sym(a)x + b
    return QuadraticForm(torch.as_tensor(a, dtype=F64), b).gradient(torch.as_tensor(x, dtype=F64))


def _cg_steps() -> int:
    g = torch.Generator().manual_seed(0)
    U, _ = torch.linalg.qr(torch.randn(6, 6, generator=g, dtype=F64))
    mu = torch.tensor([1.0, 1.0, 1.0, 4.0, 4.0, 9.0], dtype=F64)
    form = QuadraticForm.from_half_form((U * mu) @ U.T, torch.randn(6, generator=g, dtype=F64))
    x_star = form.stationary_point()
    hist = conjugate_gradient(form, torch.zeros(6, dtype=F64), 6)
    err = (hist - x_star).norm(dim=-1) / x_star.norm()
    return int(torch.nonzero(err < 1e-10)[0, 0])


_GRAD_CASES = [
    (np.array([[1.0, 2.0], [0.0, 3.0]]), np.array([1.0, -1.0]), np.array([0.5, 2.0])),
    (np.array([[0.0, 1.0], [-1.0, 0.0]]), np.array([0.0, 2.0]), np.array([1.0, 1.0])),
    (
        np.array([[2.0, -1.0, 4.0], [3.0, 0.0, 1.0], [0.0, 5.0, -2.0]]),
        np.array([1.0, 0.0, -1.0]),
        np.array([-1.0, 0.5, 2.0]),
    ),
]

EXERCISES = ExerciseSet(
    "02",
    [
        Exercise(
            "02.1",
            "Write f(x) = 3x1^2 + 4x1x2 - x2^2 as xᵀAx with A symmetric. Give A as a 2x2 array.",
            _symmetric_matrix,
            float_answer(6, shape=(2, 2)),
            inputs=(3, 4, -1),
            hints=(
                "The cross term 4x1x2 comes from two entries of A: A_12 x1x2 + A_21 x2x1.",
                "Symmetric means A_12 = A_21, so the cross-term coefficient is shared equally.",
                "A = (M + Mᵀ)/2 where M holds the polynomial's coefficients a_ij.",
            ),
        ),
        Exercise(
            "02.2",
            "For f(x) = xᵀAx + bᵀx + c (the article's form) with A symmetric positive "
            "definite, eigenvalues 1 and 9, what fixed step makes gradient descent converge "
            "fastest?",
            _best_step_article_form,
            float_answer(6),
            inputs=(1, 9),
            hints=(
                "The best step balances the slowest and the fastest eigen-directions of the "
                "Hessian, not of A.",
                "The Hessian of xᵀAx + bᵀx + c is 2A: its eigenvalues are twice those of A.",
                "η* = 2/(μ_min + μ_max) with μ the Hessian's eigenvalues.",
            ),
        ),
        Exercise(
            "02.3",
            "A Hessian's eigenvalues lie between 2 and 200. Give the per-iteration "
            "contraction factors of gradient descent with its best step and of heavy ball "
            "with its best parameters, as [gd, heavy_ball].",
            _rates,
            float_answer(6, shape=(2,)),
            inputs=(2, 200),
            hints=(
                "Both rates depend on the spectrum only through the condition number.",
                "κ = μ_max/μ_min; gradient descent's rate involves κ, heavy ball's √κ.",
                "(κ - 1)/(κ + 1) and (√κ - 1)/(√κ + 1).",
            ),
        ),
        Exercise(
            "02.4",
            "f(x) = xᵀAx + bᵀx in R^3 with A = [[1, -1, 0], [-1, 1, 0], [0, 0, 0]]. "
            "Give the dimension of the set of stationary points for b = (2, -2, 0) and for "
            "b = (2, 0, 0), as [dim1, dim2]; write -1 where there is no stationary point.",
            _dimensions,
            integer_answer(shape=(2,)),
            inputs=(3, 1, 2),
            hints=(
                "A is singular: find its null space first.",
                "∇f = 2Ax + b = 0 is solvable exactly when b is orthogonal to the null space "
                "of A; the solutions then form a translate of that null space.",
                "Here null(A) is spanned by (1, 1, 0) and (0, 0, 1); test b against both.",
            ),
        ),
        Exercise(
            "02.5",
            "Write grad(a, b, x) returning the gradient of f(x) = xᵀax + bᵀx at x, for a "
            "square matrix a that need NOT be symmetric (NumPy arrays in, a NumPy array out).",
            _gradient,
            function_answer(_GRAD_CASES, "grad(a, b, x) -> array of shape x.shape"),
            hints=(
                "Differentiate xᵀax with respect to x_k: x appears on both sides of a.",
                "∂/∂x_k Σ_ij a_ij x_i x_j = Σ_j a_kj x_j + Σ_i a_ik x_i.",
                "∇f = (a + aᵀ)x + b, which is 2ax + b only when a is symmetric.",
            ),
        ),
        Exercise(
            "02.6",
            "An SPD Hessian in R^6 has eigenvalues 1, 1, 1, 4, 4, 9. In exact arithmetic, "
            "after how many conjugate-gradient steps is the error zero from a generic start?",
            _cg_steps,
            integer_answer(),
            inputs=(6, 1, 4, 9),
            hints=(
                "CG's k-th error is p_k(H)e_0 for the best polynomial p_k of degree k with "
                "p_k(0) = 1.",
                "A polynomial that vanishes at every eigenvalue kills every component of e_0.",
                "Count the distinct eigenvalues.",
            ),
        ),
    ],
)
