"""Chapter 05 (part 2) exercises. References are computed by the library, never hard-coded.

05.9-05.12 belong to notebook 05c (EDM), 05.13-05.15 to notebook 05d (flow matching).
Importing this module registers them; the notebooks import :func:`check` from here.
"""

from __future__ import annotations

import torch

from ..checks import Exercise, ExerciseSet, function_answer, numeric_answer
from .edm import EDM, edm_sigmas, from_denoised, ode_derivative, precond_coefficients, to_denoised
from .flow import mixture_velocity
from .mixtures import gaussian, toy_mixture

__all__ = ["EXERCISES", "check"]


def _gauss1(mean: float, var: float):
    return gaussian(
        torch.tensor([mean], dtype=torch.float64), torch.tensor([[var]], dtype=torch.float64)
    )


def _sigma_i(i: int, n: int, sigma_min: float, sigma_max: float, rho: float) -> float:
    return float(edm_sigmas(n, sigma_min=sigma_min, sigma_max=sigma_max, rho=rho)[i])


def _precond(sigma: float, sigma_data: float) -> tuple[float, float, float]:
    c_skip, c_out, c_in, _ = precond_coefficients(sigma, sigma_data)
    return float(c_skip), float(c_out), float(c_in)


def _edm_rhs(x: float, sigma: float, c: float) -> float:
    """dx/dsigma of the EDM ODE (9.3) (s = 1, sigma = t) for 1-D data N(0, c^2)."""
    mix = _gauss1(0.0, c**2)
    return float(
        ode_derivative(mix.denoiser, EDM(), torch.tensor([[x]], dtype=torch.float64), sigma)
    )


def _eps_from_v(v: float, x: float, sigma: float) -> float:
    vv, xx = torch.tensor([[v]], dtype=torch.float64), torch.tensor([[x]], dtype=torch.float64)
    return float(from_denoised("eps", to_denoised("v", vv, xx, sigma), xx, sigma))


def _velocity_1d(x: float, t: float, m: float, c: float) -> float:
    mix = _gauss1(m, c**2)
    return float(mixture_velocity(mix, torch.tensor([[x]], dtype=torch.float64), t))


def _gaussian_straightness(c: float, n: int = 200_000) -> float:
    """S (10.6) for 1-D data N(0, c^2): z_t = x_1 r(t), r = sqrt((1-t)^2 c^2 + t^2), so
    S = E[x_1^2] int_0^1 (r'(t) - (1 - c))^2 dt (midpoint rule)."""
    t = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    r = ((1 - t) ** 2 * c**2 + t**2).sqrt()
    dr = (t - (1 - t) * c**2) / r
    return float(((dr - (1 - c)) ** 2).mean())


EXERCISES = ExerciseSet(
    "05",
    [
        Exercise(
            "05.9",
            "Write sigma_i(i, N, sigma_min, sigma_max, rho): EDM's time step i of eq. (9.7) "
            "(i = 0..N, with sigma_N = 0).",
            function_answer(
                _sigma_i,
                [
                    (0, 18, 0.002, 80.0, 7.0),
                    (9, 18, 0.002, 80.0, 7.0),
                    (17, 18, 0.002, 80.0, 7.0),
                    (18, 18, 0.002, 80.0, 7.0),
                    (3, 10, 0.01, 10.0, 3.0),
                ],
                rtol=1e-9,
            ),
            hint="Interpolate linearly between sigma_max^(1/rho) and sigma_min^(1/rho) over "
            "i/(N-1), raise to the power rho; the last index N is 0.",
        ),
        Exercise(
            "05.10",
            "Write precond(sigma, sigma_data) returning (c_skip, c_out, c_in) of eq. (9.5).",
            function_answer(
                _precond, [(0.002, 0.5), (0.5, 0.5), (80.0, 0.5), (1.3, 1.0)], rtol=1e-9
            ),
            hint="c_skip = sd^2/(sigma^2 + sd^2), c_out = sigma sd / sqrt(sigma^2 + sd^2), "
            "c_in = 1/sqrt(sigma^2 + sd^2).",
        ),
        Exercise(
            "05.11",
            "1-D data N(0, c^2), EDM family (s = 1, sigma = t): write rhs(x, sigma, c) = dx/dsigma "
            "of the probability-flow ODE (9.3).",
            function_answer(
                _edm_rhs, [(1.0, 0.5, 1.0), (-2.0, 3.0, 0.5), (0.4, 0.05, 2.0)], rtol=1e-9
            ),
            hint="dx/dsigma = (x - D(x; sigma))/sigma, and D shrinks x by c^2/(c^2 + sigma^2).",
        ),
        Exercise(
            "05.12",
            "A network predicts v = (eps - sigma x_0)/sqrt(1 + sigma^2) at the scaled input "
            "x = x_0 + sigma eps. Write eps_from_v(v, x, sigma).",
            function_answer(
                _eps_from_v, [(0.3, 1.0, 0.5), (-1.0, 2.0, 3.0), (0.0, -0.5, 0.1)], rtol=1e-9
            ),
            hint="Two linear equations: x = x_0 + sigma eps and sqrt(1 + sigma^2) v = eps - sigma "
            "x_0. Eliminate x_0.",
        ),
        Exercise(
            "05.13",
            "1-D data N(m, c^2), path x_t = (1 - t) x_0 + t x_1: write v(x, t, m, c), the "
            "marginal velocity E[x_1 - x_0 | x_t = x] of eq. (10.2), for 0 < t < 1.",
            function_answer(
                _velocity_1d,
                [(0.5, 0.5, 0.0, 1.0), (1.0, 0.2, 2.0, 0.5), (-1.0, 0.9, 1.0, 0.3)],
                rtol=1e-8,
            ),
            hint="x_t ~ N((1-t) m, (1-t)^2 c^2 + t^2); E[x_0 | x_t] is a Gaussian regression; "
            "then v = (x - E[x_0 | x_t])/t.",
        ),
        Exercise(
            "05.14",
            "With the exact marginal velocity of the chapter's toy mixture, where does ONE Euler "
            "step from t = 1 to t = 0 send every starting point x_1? Give the 2-vector.",
            numeric_answer(lambda: toy_mixture().mean(), rtol=1e-6),
            hint="v(x, 1) = x - E[x_0 | x_1] and x_1 carries no information about x_0.",
        ),
        Exercise(
            "05.15",
            "1-D data N(0, c^2) with c = 0.5: compute the straightness S of eq. (10.6) of the "
            "exact flow (z_t = x_1 sqrt((1-t)^2 c^2 + t^2)) to 3 significant digits.",
            numeric_answer(lambda: _gaussian_straightness(0.5), rtol=2e-3),
            hint="The chord is z_1 - z_0 = (1 - c) x_1, the velocity is x_1 r'(t); E[x_1^2] = 1. "
            "Integrate (r'(t) - (1 - c))^2 numerically.",
        ),
    ],
)

check = EXERCISES.check
