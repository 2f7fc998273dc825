"""Chapter 05 (part 1) exercises. References are computed by the library, never hard-coded.

05.1-05.4 belong to notebook 05a (DDPM, DDIM), 05.5-05.8 to notebook 05b (scores, SDEs).
"""

from __future__ import annotations

import torch

from ..checks import Exercise, ExerciseSet, function_answer, numeric_answer
from .forward import posterior_coefficients
from .losses import elbo_weight
from .mixtures import gaussian
from .samplers import ddim_sigma, score_from_denoiser
from .schedules import make_schedule
from .sde import VESDE, VPSDE


def _beta_tilde(ab_t: float, ab_prev: float) -> float:
    return float(
        posterior_coefficients(
            torch.tensor(ab_t, dtype=torch.float64), torch.tensor(ab_prev, dtype=torch.float64)
        )[2]
    )


def _ddim_sigma(ab_t: float, ab_prev: float, eta: float) -> float:
    return float(
        ddim_sigma(
            torch.tensor(ab_t, dtype=torch.float64), torch.tensor(ab_prev, dtype=torch.float64), eta
        )
    )


def _gaussian_1d(mean: float, var: float):
    return gaussian(
        torch.tensor([mean], dtype=torch.float64), torch.tensor([[var]], dtype=torch.float64)
    )


def _score_1d(x: float, mean: float, var: float) -> float:
    return float(_gaussian_1d(mean, var).score(torch.tensor([[x]], dtype=torch.float64))[0, 0])


def _denoiser_1d(x: float, c: float, sigma: float) -> float:
    mix = _gaussian_1d(0.0, c**2)
    return float(mix.denoiser(torch.tensor([[x]], dtype=torch.float64), sigma)[0, 0])


def _ve_pf_drift(x: float, t: float) -> float:
    """PF-ODE drift (8.5) of VESDE(0.01, 10) for data N(0, 1), computed from the exact score."""
    sde, mix = VESDE(0.01, 10.0), _gaussian_1d(0.0, 1.0)
    xx = torch.tensor([[x]], dtype=torch.float64)
    tt = torch.tensor(t, dtype=torch.float64)
    score = score_from_denoiser(mix.denoiser, xx, sde.a(tt), sde.std(tt))
    return float(sde.f(tt) * x - 0.5 * sde.g(tt) ** 2 * score[0, 0])


_AB = [(0.5, 0.6), (0.9, 0.95), (0.01, 0.2), (0.3, 1.0)]

EXERCISES = ExerciseSet(
    "05",
    [
        Exercise(
            "05.1",
            "For the linear schedule with T = 1000 (beta from 1e-4 to 0.02), what is alpha_bar_T?",
            numeric_answer(lambda: float(make_schedule("linear", 1000).alpha_bars[-1]), rtol=1e-4),
            hint="alpha_bar_T is the product of (1 - beta_t) over t = 1..T; "
            "torch.cumprod or a log-sum.",
        ),
        Exercise(
            "05.2",
            "Write beta_tilde(ab_t, ab_prev): the variance of q(x_prev | x_t, x_0) for a step from "
            "alpha_bar = ab_prev to ab_t (eq. 1.7, with beta = 1 - ab_t/ab_prev).",
            function_answer(_beta_tilde, _AB, rtol=1e-9),
            hint="beta_tilde = (1 - ab_prev)/(1 - ab_t) * beta, and beta = 1 - ab_t/ab_prev.",
        ),
        Exercise(
            "05.3",
            "Write sigma(ab_t, ab_prev, eta): the DDIM noise scale of eq. (4.1).",
            function_answer(
                _ddim_sigma, [(*ab, eta) for ab in _AB for eta in (0.0, 0.5, 1.0)], rtol=1e-9
            ),
            hint="eta * sqrt((1 - ab_prev)/(1 - ab_t)) * sqrt(1 - ab_t/ab_prev); "
            "at eta = 1 its square is beta_tilde.",
        ),
        Exercise(
            "05.4",
            "Linear schedule, T = 1000, reverse variance sigma_t^2 = beta_t: what weight "
            "lambda_t does the ELBO put on ||eps - eps_theta||^2 at t = 10 (eq. 2.3)?",
            numeric_answer(
                lambda: float(elbo_weight(make_schedule("linear", 1000), 10)), rtol=1e-6
            ),
            hint="lambda_t = beta_t^2 / (2 sigma_t^2 alpha_t (1 - alpha_bar_t)); "
            "with sigma_t^2 = beta_t it is beta_t / (2 alpha_t (1 - alpha_bar_t)).",
        ),
        Exercise(
            "05.5",
            "Write score(x, mean, var): d/dx log N(x; mean, var) in one dimension.",
            function_answer(
                _score_1d, [(0.0, 0.0, 1.0), (1.5, -0.5, 2.0), (-3.0, 1.0, 0.25)], rtol=1e-9
            ),
            hint="log N = -(x - mean)^2 / (2 var) + const.",
        ),
        Exercise(
            "05.6",
            "For the VP SDE with beta_min = 0.1, beta_max = 20, what is the marginal std s(t) "
            "at t = 0.3?",
            numeric_answer(lambda: float(VPSDE(0.1, 20.0).std(0.3)), rtol=1e-6),
            hint="s(t)^2 = 1 - exp(-B(t)) with B(t) = beta_min t + t^2 (beta_max - beta_min)/2.",
        ),
        Exercise(
            "05.7",
            "Data x_0 ~ N(0, c^2) in 1-D. Write D(x, c, sigma) = E[x_0 | x_0 + sigma eps = x].",
            function_answer(
                _denoiser_1d, [(1.0, 1.0, 0.5), (-2.0, 0.3, 1.0), (0.7, 2.0, 3.0)], rtol=1e-9
            ),
            hint="Both are Gaussian: the posterior mean shrinks x by c^2 / (c^2 + sigma^2) "
            "(or use Tweedie).",
        ),
        Exercise(
            "05.8",
            "VE SDE with sigma_min = 0.01, sigma_max = 10 and data N(0, 1) in 1-D: "
            "write drift(x, t), the right-hand side of the probability-flow ODE (8.5).",
            function_answer(_ve_pf_drift, [(1.0, 0.5), (-0.3, 0.9), (2.0, 0.1)], rtol=1e-7),
            hint="f = 0; g(t)^2 = sigma(t)^2 2 log(sigma_max/sigma_min); "
            "p_t = N(0, 1 + sigma(t)^2 - sigma_min^2).",
        ),
    ],
)

check = EXERCISES.check
