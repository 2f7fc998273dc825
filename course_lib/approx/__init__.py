"""Chapter 03: stochastic approximation, from running means to Robbins–Monro and SGD.

Modules (each docstring carries its derivation and equation numbers):

* :mod:`.schedules` -- step sizes a_k as objects that know the RM conditions (2.3);
* :mod:`.mean`      -- incremental mean estimation (1.1)-(1.5);
* :mod:`.rm`        -- the Robbins–Monro algorithm (2.1)-(2.4), test problems, Dvoretzky (4.x);
* :mod:`.sgd`       -- SGD / mini-batch / batch GD as RM (5.x), least squares;
* :mod:`.ode`       -- the ODE view dw/dt = -g(w) (6.x);
* :mod:`.viz`       -- widgets and static figures; :mod:`.exercises` -- the chapter's exercises.
"""

from .mean import batch_means, constant_step_variance, estimator_weights, incremental_mean
from .ode import solve_mean_ode, tanh_flow
from .rm import (
    PROBLEMS,
    RootProblem,
    dvoretzky_moments,
    dvoretzky_process,
    gaussian_noise,
    robbins_monro,
    uniform_noise,
)
from .schedules import SCHEDULES, ConstantStep, PowerStep, StepSize, resolve_steps
from .sgd import (
    gradient_noise_ratio,
    least_squares_grad,
    least_squares_loss,
    least_squares_solution,
    minibatch_gd,
    sgd_least_squares,
    sgd_least_squares_moments,
    sgd_mean,
)

__all__ = [
    "PROBLEMS",
    "SCHEDULES",
    "ConstantStep",
    "PowerStep",
    "RootProblem",
    "StepSize",
    "batch_means",
    "constant_step_variance",
    "dvoretzky_moments",
    "dvoretzky_process",
    "estimator_weights",
    "gaussian_noise",
    "gradient_noise_ratio",
    "incremental_mean",
    "least_squares_grad",
    "least_squares_loss",
    "least_squares_solution",
    "minibatch_gd",
    "resolve_steps",
    "robbins_monro",
    "sgd_least_squares",
    "sgd_least_squares_moments",
    "sgd_mean",
    "solve_mean_ode",
    "tanh_flow",
    "uniform_noise",
]
