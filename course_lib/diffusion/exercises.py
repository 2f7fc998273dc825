"""Chapter 05 exercises (both parts). References are computed by the library, never
hard-coded.

05.1-05.4 belong to notebook 05a (DDPM, DDIM), 05.5-05.8 to 05b (scores, SDEs), 05.9-05.12
to 05c (EDM) and 05.13-05.15 to 05d (flow matching). Notebooks import
:func:`course_lib.checks.check` and :func:`course_lib.checks.hint`; this module only
defines and registers the exercises (see :mod:`course_lib.checks`).
"""

from __future__ import annotations

import torch

from ..checks import Exercise, ExerciseSet, float_answer, function_answer
from . import (
    EDM,
    VESDE,
    VPSDE,
    ddim_sigma,
    edm_sigmas,
    elbo_weight,
    from_denoised,
    gaussian,
    make_schedule,
    mixture_velocity,
    ode_derivative,
    posterior_coefficients,
    precond_coefficients,
    score_from_denoiser,
    to_denoised,
    toy_mixture,
)

__all__ = ["EXERCISES"]


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


def _sigma_i(i: int, n: int, sigma_min: float, sigma_max: float, rho: float) -> float:
    return float(edm_sigmas(n, sigma_min=sigma_min, sigma_max=sigma_max, rho=rho)[i])


def _precond(sigma: float, sigma_data: float) -> tuple[float, float, float]:
    c_skip, c_out, c_in, _ = precond_coefficients(sigma, sigma_data)
    return float(c_skip), float(c_out), float(c_in)


def _edm_rhs(x: float, sigma: float, c: float) -> float:
    """dx/dsigma of the EDM ODE (9.3) (s = 1, sigma = t) for 1-D data N(0, c^2)."""
    mix = _gaussian_1d(0.0, c**2)
    return float(
        ode_derivative(mix.denoiser, EDM(), torch.tensor([[x]], dtype=torch.float64), sigma)
    )


def _eps_from_v(v: float, x: float, sigma: float) -> float:
    vv, xx = torch.tensor([[v]], dtype=torch.float64), torch.tensor([[x]], dtype=torch.float64)
    return float(from_denoised("eps", to_denoised("v", vv, xx, sigma), xx, sigma))


def _velocity_1d(x: float, t: float, m: float, c: float) -> float:
    mix = _gaussian_1d(m, c**2)
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
        # ---------------------------------------------------------------- 05a: DDPM, DDIM
        Exercise(
            "05.1",
            "For the linear schedule with T = 1000 (beta from 1e-4 to 0.02), what is alpha_bar_T?",
            lambda: float(make_schedule("linear", 1000).alpha_bars[-1]),
            float_answer(6),
            inputs=(1000, 1e-4, 0.02),
            hints=(
                "alpha_bar_t is a running product: alpha_bar_t = alpha_bar_(t-1) (1 - beta_t).",
                "Build the 1000 betas with torch.linspace in float64, then multiply all the "
                "(1 - beta_t): torch.prod, or exp of a sum of logs.",
            ),
        ),
        Exercise(
            "05.2",
            "Write beta_tilde(ab_t, ab_prev): the variance of q(x_prev | x_t, x_0) for a step "
            "from alpha_bar = ab_prev to ab_t (eq. 1.7, with beta = 1 - ab_t/ab_prev).",
            _beta_tilde,
            function_answer(_AB, "beta_tilde(ab_t, ab_prev) -> float"),
            hints=(
                "By Bayes, q(x_prev | x_t, x_0) is proportional to q(x_t | x_prev) "
                "q(x_prev | x_0); both are Gaussian in x_prev. Complete the square.",
                "Precisions add: 1/beta_tilde = 1/(1 - ab_prev) + alpha/beta, with "
                "alpha = ab_t/ab_prev and beta = 1 - alpha.",
                "beta_tilde = (1 - ab_prev)/(1 - ab_t) * beta.",
            ),
        ),
        Exercise(
            "05.3",
            "Write sigma(ab_t, ab_prev, eta): the DDIM noise scale of eq. (4.1), for eta in "
            "[0, 1].",
            _ddim_sigma,
            function_answer(
                [(*ab, eta) for ab in _AB for eta in (0.0, 0.5, 1.0)],
                "sigma(ab_t, ab_prev, eta) -> float",
            ),
            hints=(
                "eta interpolates between deterministic DDIM and DDPM; sigma grows linearly "
                "in eta.",
                "At the DDPM end, sigma^2 is the posterior variance beta_tilde of exercise 05.2.",
                "sigma = eta sqrt((1 - ab_prev)/(1 - ab_t)) sqrt(1 - ab_t/ab_prev).",
            ),
        ),
        Exercise(
            "05.4",
            "Linear schedule, T = 1000, reverse variance sigma_t^2 = beta_t: what weight "
            "lambda_t does the ELBO put on ||eps - eps_theta||^2 at t = 10 (eq. 2.3)?",
            lambda: float(elbo_weight(make_schedule("linear", 1000), 10)),
            float_answer(6),
            inputs=(1000, 10, 1e-4, 0.02),
            hints=(
                "The ELBO term at step t is a KL between two Gaussians with the same variance "
                "sigma_t^2: a squared difference of their means over 2 sigma_t^2.",
                "Write both means through eps: mu = (x_t - beta_t/sqrt(1 - alpha_bar_t) eps) / "
                "sqrt(alpha_t); their difference is a multiple of eps - eps_theta.",
                "lambda_t = beta_t^2 / (2 sigma_t^2 alpha_t (1 - alpha_bar_t)), here with "
                "sigma_t^2 = beta_t.",
            ),
        ),
        # ---------------------------------------------------------------- 05b: scores, SDEs
        Exercise(
            "05.5",
            "Write score(x, mean, var): d/dx log N(x; mean, var) in one dimension.",
            _score_1d,
            function_answer(
                [(0.0, 0.0, 1.0), (1.5, -0.5, 2.0), (-3.0, 1.0, 0.25)],
                "score(x, mean, var) -> float",
            ),
            hints=(
                "Take the logarithm first: only one term of log N depends on x.",
                "log N(x; mean, var) = -(x - mean)^2 / (2 var) + const.",
                "Differentiate that quadratic; the score points from x back towards the mean.",
            ),
        ),
        Exercise(
            "05.6",
            "For the VP SDE with beta_min = 0.1, beta_max = 20, what is the marginal std s(t) "
            "at t = 0.3?",
            lambda: float(VPSDE(0.1, 20.0).std(0.3)),
            float_answer(6),
            inputs=(0.1, 20, 0.3),
            hints=(
                "The VP SDE keeps the variance of unit-variance data at one: find the mean "
                "factor a(t) first, then s(t) follows.",
                "a(t) = exp(-B(t)/2) with B(t) the integral of beta(s) from 0 to t, and "
                "a(t)^2 + s(t)^2 = 1.",
                "B(t) = beta_min t + t^2 (beta_max - beta_min)/2 and s(t) = sqrt(1 - exp(-B(t))).",
            ),
        ),
        Exercise(
            "05.7",
            "Data x_0 ~ N(0, c^2) in 1-D. Write D(x, c, sigma) = E[x_0 | x_0 + sigma eps = x].",
            _denoiser_1d,
            function_answer(
                [(1.0, 1.0, 0.5), (-2.0, 0.3, 1.0), (0.7, 2.0, 3.0)], "D(x, c, sigma) -> float"
            ),
            hints=(
                "x_0 and x = x_0 + sigma eps are jointly Gaussian, so E[x_0 | x] is linear in x.",
                "Gaussian regression: E[x_0 | x] = Cov(x_0, x) / Var(x) times x (both means "
                "are zero).",
                "Cov(x_0, x) = c^2 and Var(x) = c^2 + sigma^2 (or use Tweedie's formula).",
            ),
        ),
        Exercise(
            "05.8",
            "VE SDE with sigma_min = 0.01, sigma_max = 10 and data N(0, 1) in 1-D: "
            "write drift(x, t), the right-hand side of the probability-flow ODE (8.5).",
            _ve_pf_drift,
            function_answer(
                [(1.0, 0.5), (-0.3, 0.9), (2.0, 0.1)], "drift(x, t) -> float", digits=7
            ),
            hints=(
                "The PF ODE is dx/dt = f(t) x - g(t)^2 score(x, t) / 2, and the VE SDE has "
                "no drift term f.",
                "With data N(0, 1) the noised marginal p_t is Gaussian, so its score is "
                "-x / Var(x_t), as in exercise 05.5.",
                "g(t)^2 = d sigma(t)^2/dt = 2 sigma(t)^2 log(sigma_max/sigma_min) and "
                "Var(x_t) = 1 + sigma(t)^2 - sigma_min^2.",
            ),
        ),
        # ---------------------------------------------------------------- 05c: EDM
        Exercise(
            "05.9",
            "Write sigma_i(i, N, sigma_min, sigma_max, rho): EDM's time step i of eq. (9.7) "
            "(i = 0..N, with sigma_N = 0).",
            _sigma_i,
            function_answer(
                [
                    (0, 18, 0.002, 80.0, 7.0),
                    (9, 18, 0.002, 80.0, 7.0),
                    (17, 18, 0.002, 80.0, 7.0),
                    (18, 18, 0.002, 80.0, 7.0),
                    (3, 10, 0.01, 10.0, 3.0),
                ],
                "sigma_i(i, N, sigma_min, sigma_max, rho) -> float",
            ),
            hints=(
                "EDM spaces the steps uniformly in sigma^(1/rho), not in sigma itself.",
                "Interpolate linearly between sigma_max^(1/rho) at the first index and "
                "sigma_min^(1/rho) at index N - 1, then raise to the power rho.",
                "sigma_i = (sigma_max^(1/rho) + i/(N - 1) (sigma_min^(1/rho) - "
                "sigma_max^(1/rho)))^rho for i < N; the extra index N is the final sigma_N.",
            ),
        ),
        Exercise(
            "05.10",
            "Write precond(sigma, sigma_data) returning (c_skip, c_out, c_in) of eq. (9.5).",
            _precond,
            function_answer(
                [(0.002, 0.5), (0.5, 0.5), (80.0, 0.5), (1.3, 1.0)],
                "precond(sigma, sigma_data) -> (c_skip, c_out, c_in), three floats",
            ),
            hints=(
                "c_in makes the network input unit-variance; c_skip and c_out make the "
                "network's training target unit-variance while c_out is as small as possible.",
                "The noisy input x_0 + sigma eps has variance sigma_data^2 + sigma^2.",
                "c_skip = sd^2/(sigma^2 + sd^2), c_out = sigma sd / sqrt(sigma^2 + sd^2), "
                "and c_in is the reciprocal of sqrt(sigma^2 + sd^2), with sd = sigma_data.",
            ),
        ),
        Exercise(
            "05.11",
            "1-D data N(0, c^2), EDM family (s = 1, sigma = t): write rhs(x, sigma, c) = "
            "dx/dsigma of the probability-flow ODE (9.3).",
            _edm_rhs,
            function_answer(
                [(1.0, 0.5, 1.0), (-2.0, 3.0, 0.5), (0.4, 0.05, 2.0)], "rhs(x, sigma, c) -> float"
            ),
            hints=(
                "With s = 1 and sigma = t the PF ODE is dx/dsigma = -sigma times the score of "
                "the noised data.",
                "Tweedie: score = (D(x; sigma) - x)/sigma^2, and the denoiser of exercise 05.7 "
                "applies.",
                "dx/dsigma = (x - D(x; sigma))/sigma with D(x; sigma) = c^2 x/(c^2 + sigma^2).",
            ),
        ),
        Exercise(
            "05.12",
            "A network predicts v = (eps - sigma x_0)/sqrt(1 + sigma^2) at the scaled input "
            "x = x_0 + sigma eps. Write eps_from_v(v, x, sigma).",
            _eps_from_v,
            function_answer(
                [(0.3, 1.0, 0.5), (-1.0, 2.0, 3.0), (0.0, -0.5, 0.1)],
                "eps_from_v(v, x, sigma) -> float",
            ),
            hints=(
                "Two unknowns, x_0 and eps, and two linear equations: the definition of x and "
                "the definition of v.",
                "Eliminate x_0 with x_0 = x - sigma eps.",
                "Solve sqrt(1 + sigma^2) v = eps - sigma (x - sigma eps) for eps.",
            ),
        ),
        # ---------------------------------------------------------------- 05d: flow matching
        Exercise(
            "05.13",
            "1-D data N(m, c^2), path x_t = (1 - t) x_0 + t x_1 with noise x_1 ~ N(0, 1): write "
            "v(x, t, m, c), the marginal velocity E[x_1 - x_0 | x_t = x] of eq. (10.2), for "
            "0 < t < 1.",
            _velocity_1d,
            function_answer(
                [(0.5, 0.5, 0.0, 1.0), (1.0, 0.2, 2.0, 0.5), (-1.0, 0.9, 1.0, 0.3)],
                "v(x, t, m, c) -> float",
                digits=8,
            ),
            hints=(
                "x_1 - x_0 = (x_t - x_0)/t, so knowing E[x_0 | x_t = x] is enough.",
                "x_t is Gaussian with mean (1 - t) m and variance (1 - t)^2 c^2 + t^2, and "
                "Cov(x_0, x_t) = (1 - t) c^2: E[x_0 | x_t] is a Gaussian regression.",
                "E[x_0 | x_t = x] = m + (1 - t) c^2 (x - (1 - t) m) / ((1 - t)^2 c^2 + t^2) and "
                "v = (x - E[x_0 | x_t = x])/t.",
            ),
        ),
        Exercise(
            "05.14",
            "With the exact marginal velocity of the chapter's toy mixture, where does ONE Euler "
            "step from t = 1 to t = 0 send every starting point x_1? Give the 2-vector.",
            lambda: toy_mixture().mean(),
            float_answer(6, shape=(2,)),
            inputs=(1, 0),
            hints=(
                "One Euler step from t = 1 to t = 0 maps x_1 to x_1 - v(x_1, 1).",
                "At t = 1 the point x_1 is pure noise, independent of the data point x_0: "
                "what is E[x_0 | x_1] then?",
                "v(x, 1) = x - E[x_0 | x_1 = x] = x - E[x_0]: compute the mixture's mean from "
                "its weights and component means.",
            ),
        ),
        Exercise(
            "05.15",
            "1-D data N(0, c^2) with c = 0.5: compute the straightness S of eq. (10.6) of the "
            "exact flow z_t = x_1 sqrt((1 - t)^2 c^2 + t^2).",
            lambda: _gaussian_straightness(0.5),
            float_answer(3),
            inputs=(0.5,),
            hints=(
                "S is the mean squared gap between the velocity dz_t/dt and the chord "
                "z_1 - z_0, averaged over t in [0, 1] and over x_1.",
                "dz_t/dt = x_1 r'(t) with r(t) = sqrt((1 - t)^2 c^2 + t^2); the chord is "
                "(1 - c) x_1; E[x_1^2] = 1.",
                "S = integral over [0, 1] of (r'(t) - (1 - c))^2 dt: evaluate it numerically, "
                "e.g. with a midpoint rule on many nodes.",
            ),
        ),
    ],
)
