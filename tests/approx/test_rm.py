"""Robbins–Monro (2.1)-(2.4): exact iterates, convergence, the counter-examples, Dvoretzky."""

import math

import pytest
import torch

from course_lib.approx import (
    PROBLEMS,
    ConstantStep,
    PowerStep,
    constant_step_variance,
    dvoretzky_moments,
    dvoretzky_process,
    robbins_monro,
    uniform_noise,
)
from course_lib.checks import assert_within_se

F64 = torch.float64


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_exact_iterates_of_deterministic_tanh():
    w = robbins_monro(PROBLEMS["tanh"].g, torch.tensor(3.0, dtype=F64), PowerStep(), 50)
    v = 3.0
    for k in range(1, 51):  # hand loop in Python floats
        assert math.isclose(float(w[k - 1]), v, rel_tol=1e-14)
        v = v - math.tanh(v - 1.0) / k
    assert math.isclose(float(w[50]), v, rel_tol=1e-14)
    assert float(w[-1]) < float(w[10]) < 3.0  # monotone approach from above


def test_runs_and_dimensions_are_independent_and_seeded():
    w1 = torch.full((500, 3), 3.0, dtype=F64)
    a = robbins_monro(PROBLEMS["linear"].g, w1, PowerStep(), 40, noise=0.5, generator=gen(4))
    b = robbins_monro(PROBLEMS["linear"].g, w1, PowerStep(), 40, noise=0.5, generator=gen(4))
    assert a.shape == (41, 500, 3) and torch.equal(a, b)
    c = torch.corrcoef(a[-1].T)  # coordinates uncorrelated
    assert (c - torch.eye(3, dtype=F64)).abs().max() < 0.15


def test_admissible_schedule_converges_at_rate_sigma2_over_k():
    # linear g, a_k = 1/k: w_{k+1} - 1 = -(1/k) sum eta_i, so E[e^2] = sigma^2 / k exactly
    runs, sigma = 20_000, 0.8
    w = robbins_monro(
        PROBLEMS["linear"].g, torch.full((runs,), 3.0, dtype=F64), PowerStep(), 400,
        noise=sigma, generator=gen(1),
    )  # fmt: skip
    for k in (10, 100, 400):
        e2 = (w[k] - 1.0) ** 2
        exact = sigma**2 / k  # entry k holds w_{k+1}
        assert_within_se(e2.mean(), exact, e2.std() / math.sqrt(runs), label=f"E e_{k}^2")


def test_constant_step_spread_does_not_shrink():
    runs, sigma, a = 20_000, 1.0, 0.1
    w = robbins_monro(
        PROBLEMS["linear"].g, torch.full((runs,), 3.0, dtype=F64), ConstantStep(a), 2000,
        noise=sigma, generator=gen(2),
    )  # fmt: skip
    exact = constant_step_variance(a, sigma**2)  # e -> (1 - a) e - a eta: a s^2/(2 - a)
    for k in (500, 2000):
        assert_within_se(w[k].var(), exact, exact * math.sqrt(2 / runs), label=f"Var w_{k}")
    assert 0.9 < float(w[2000].var() / w[500].var()) < 1.1


def test_summable_steps_stop_short_of_the_root():
    # tanh has |g| <= 1 and |eta| <= 1/2, so |w_inf - w_1| <= 1.5 sum 1/k^2 < 4 = |w_1 - w*|
    sched, b = PowerStep(1.0, 2.0), 0.5
    w = robbins_monro(
        PROBLEMS["tanh"].g, torch.full((2000,), 5.0, dtype=F64), sched, 2000,
        noise=uniform_noise(b), generator=gen(3),
    )  # fmt: skip
    bound = 4.0 - (1 + b) * sched.total
    dist = (w[-1] - 1.0).abs()
    assert bound > 0.5 and bool((dist >= bound).all())
    assert (
        float((w[-1] - w[1000]).abs().max()) < 1.5e-3
    )  # 1.5 sum_{k>1000} 1/k^2  # the iterates have stopped


def test_vanishing_slope_crawls():
    a = PowerStep()
    w_flat = robbins_monro(PROBLEMS["flat"].g, torch.tensor(3.0, dtype=F64), a, 10_000)
    half = lambda w: 0.5 * (w - 1.0)  # noqa: E731 slope 1/2 > 0
    w_lin = robbins_monro(half, torch.tensor(3.0, dtype=F64), a, 10_000)
    e_flat, e_lin = (w_flat - 1).abs(), (w_lin - 1).abs()
    assert float(e_lin[100] / e_lin[10_000]) > 9  # ~ k^-1/2: 10x in 100x more steps
    assert float(e_flat[100] / e_flat[10_000]) < 1.5  # ~ (ln k)^-1/2
    # near the root g ~ e^3 and the ODE de/dt = -e^3 on t = ln k gives e ~ (2 ln k)^-1/2
    assert 0.8 < float(e_flat[10_000]) * math.sqrt(2 * math.log(10_000)) < 1.2


@pytest.mark.parametrize(
    "alpha, beta, converges",
    [
        (PowerStep(), PowerStep(), True),
        (PowerStep(1, 0.7), PowerStep(1, 0.8), True),
        (PowerStep(1, 2, 1), PowerStep(), False),  # sum alpha < inf
        (PowerStep(), PowerStep(1, 0.5), False),  # sum beta^2 = inf
    ],
)
def test_dvoretzky_simulation_matches_exact_moments(alpha, beta, converges):
    runs, n = 20_000, 400
    d = dvoretzky_process(alpha, beta, n, torch.ones(runs, dtype=F64), generator=gen(5))
    mean, var = dvoretzky_moments(alpha, beta, n, 1.0, 1.0)
    for k in (50, n):
        m2 = d[k] ** 2
        exact = mean[k] ** 2 + var[k]
        assert_within_se(m2.mean(), exact, m2.std() / math.sqrt(runs), label=f"E D_{k}^2")
    ms = float(mean[n] ** 2 + var[n])
    assert (ms < 0.01) is converges


def test_dvoretzky_closed_forms_of_the_inadmissible_cases():
    # prod_{k>=1} (1 - 1/(k+1)^2) = 1/2: the mean stalls at Delta_1 / 2
    mean, _ = dvoretzky_moments(PowerStep(1, 2, 1), PowerStep(), 100_000, 1.0, 1.0)
    assert math.isclose(float(mean[-1]), 0.5, rel_tol=1e-4)
    # alpha = 1/k, beta = k^-1/2: Var = (1/k^2) sum_i i = (k+1)/(2k) -> 1/2, not 0
    _, var = dvoretzky_moments(PowerStep(), PowerStep(1, 0.5), 1000, 1.0, 1.0)
    assert math.isclose(float(var[-1]), 1001 / 2000, rel_tol=1e-9)


def test_problems_declare_their_slope_bounds():
    e = torch.linspace(-6, 6, 20_001, dtype=F64, requires_grad=True)
    for p in PROBLEMS.values():
        (slope,) = torch.autograd.grad(p.g(e + p.root).sum(), e)
        assert float(slope.min()) >= p.slope_min - 1e-9 and float(slope.max()) <= p.slope_max + 1e-9
        assert float(p.g(torch.tensor(p.root, dtype=F64))) == 0.0
    assert PROBLEMS["linear"].satisfies_slope_condition
    assert not PROBLEMS["flat"].satisfies_slope_condition


def test_bad_inputs():
    w1 = torch.zeros(3, dtype=F64)
    with pytest.raises(TypeError, match="g must be callable"):
        robbins_monro(1.0, w1, PowerStep(), 3)
    with pytest.raises(ValueError, match="must return a tensor of shape"):
        robbins_monro(lambda w: w.sum(), w1, PowerStep(), 3)
    with pytest.raises(ValueError, match="noise must be"):
        robbins_monro(PROBLEMS["linear"].g, w1, PowerStep(), 3, noise=-1.0)
    with pytest.raises(TypeError, match="generator must be"):
        robbins_monro(PROBLEMS["linear"].g, w1, PowerStep(), 3, generator=0)
    with pytest.raises(TypeError, match="n_iter must be an int"):
        robbins_monro(PROBLEMS["linear"].g, w1, PowerStep(), 3.0)
    with pytest.raises(ValueError, match="overflowed"):
        robbins_monro(lambda w: w**3, w1 + 10, ConstantStep(1.0), 20)
    with pytest.raises(TypeError, match="delta1 must be a torch.Tensor"):
        dvoretzky_process(PowerStep(), PowerStep(), 3, 1.0)
