"""Chapter 02: quadratic forms, their extrema, and how optimisers see them.

Modules (each docstring carries its derivation and equation numbers):

* :mod:`.forms`   -- f(x) = xᵀAx + bᵀx + c from coefficients, symmetrisation, gradient and
  Hessian in the article's and the convenient form, stationary sets and their kinds (1.x-4.x);
* :mod:`.optim`   -- gradient descent, heavy ball, Newton, conjugate gradients and their
  theoretical rates (5.x-8.x);
* :mod:`.bridges` -- the Gaussian log-density and least squares as quadratic forms (9.x);
* :mod:`.viz`     -- widgets and static figures; :mod:`.exercises` -- the chapter's exercises.
"""

from .bridges import gaussian_log_density_form, least_squares_form
from .forms import (
    KINDS,
    LEVEL_SETS_2D,
    QuadraticForm,
    Stationary,
    as_vector,
    grid_classify,
    polynomial_value,
)
from .optim import (
    cg_error_bound,
    conjugate_gradient,
    conjugate_gradient_iterates,
    gd_optimal_step,
    gd_rate,
    gd_rate_for_step,
    gradient_descent,
    gradient_descent_iterates,
    heavy_ball,
    heavy_ball_iterates,
    heavy_ball_parameters,
    heavy_ball_rate,
    heavy_ball_rate_for,
    measured_rate,
    newton,
    random_spd,
)

__all__ = [
    "KINDS",
    "LEVEL_SETS_2D",
    "QuadraticForm",
    "Stationary",
    "as_vector",
    "cg_error_bound",
    "conjugate_gradient",
    "conjugate_gradient_iterates",
    "gaussian_log_density_form",
    "gd_optimal_step",
    "gd_rate",
    "gd_rate_for_step",
    "gradient_descent",
    "gradient_descent_iterates",
    "grid_classify",
    "heavy_ball",
    "heavy_ball_iterates",
    "heavy_ball_parameters",
    "heavy_ball_rate",
    "heavy_ball_rate_for",
    "least_squares_form",
    "measured_rate",
    "newton",
    "polynomial_value",
    "random_spd",
]
