"""Reflection principle, gambler's ruin and the diffusion limit."""

import math

import pytest
import torch

from course_lib.checks import assert_within_se
from course_lib.randomwalk import (
    ballot_count,
    diffusion_coefficient,
    endpoint_pmf,
    enumerate_paths,
    expected_duration,
    first_hitting_times,
    heat_equation_residual,
    heat_kernel,
    lattice_density,
    master_equation_step,
    path_count,
    reflected_path_count,
    rescaled_paths,
    simulate_ruin,
    win_probability,
)


@pytest.mark.parametrize("n", [1, 2, 7, 10, 13])
def test_ballot_theorem_against_enumeration(n):
    paths = enumerate_paths(n)
    positive = (paths[:, 1:] > 0).all(1)
    for k in range(1, n + 1):
        brute = int((positive & (paths[:, -1] == k)).sum())
        assert ballot_count(n, k) == brute
        assert brute * n == k * path_count(n, 0, k)  # (k/n) N_n(0, k)


@pytest.mark.parametrize("a, b, n", [(1, 1, 8), (2, 4, 10), (3, 1, 12), (1, 5, 9)])
def test_reflection_principle_against_enumeration(a, b, n):
    paths = a + enumerate_paths(n)
    ends_at_b = paths[:, -1] == b
    touches = (paths <= 0).any(1)
    assert reflected_path_count(n, a, b) == int((ends_at_b & touches).sum())
    assert path_count(n, a, b) == int(ends_at_b.sum())


def test_first_hitting_times():
    paths = torch.tensor([[0, 1, 2, 1, 2, 3], [0, -1, 0, -1, -2, -1]])
    assert first_hitting_times(paths, 2).tolist() == [2, -1]
    assert first_hitting_times(paths, -1).tolist() == [-1, 1]
    with pytest.raises(ValueError, match="shape"):
        first_hitting_times(torch.zeros(3), 1)
    with pytest.raises(TypeError, match="level must be an int"):
        first_hitting_times(paths, 1.5)


def test_ruin_formulas_satisfy_first_step_equations():
    for p in (0.3, 0.5, 0.61):
        N = 12
        P = [win_probability(k, N, p) for k in range(N + 1)]
        D = [expected_duration(k, N, p) for k in range(N + 1)]
        assert P[0] == 0 and math.isclose(P[N], 1) and D[0] == 0 and abs(D[N]) < 1e-9
        for k in range(1, N):
            assert math.isclose(P[k], p * P[k + 1] + (1 - p) * P[k - 1], rel_tol=1e-12)
            assert math.isclose(D[k], 1 + p * D[k + 1] + (1 - p) * D[k - 1], rel_tol=1e-12)


def test_ruin_near_symmetric_is_continuous():
    assert math.isclose(win_probability(3, 10, 0.5 + 1e-9), 0.3, rel_tol=1e-6)
    assert math.isclose(expected_duration(3, 10, 0.5 - 1e-9), 21, rel_tol=1e-6)


@pytest.mark.parametrize("k, N, p", [(3, 10, 0.45), (5, 10, 0.5), (2, 8, 0.6)])
def test_simulated_ruin_matches_closed_form(k, N, p):
    won, dur = simulate_ruin(k, N, p, 40_000, generator=torch.Generator().manual_seed(5))
    pw = win_probability(k, N, p)
    assert_within_se(won.double().mean(), pw, math.sqrt(pw * (1 - pw) / won.numel()))
    d = dur.double()
    assert_within_se(d.mean(), expected_duration(k, N, p), d.std() / math.sqrt(d.numel()))


def test_ruin_bad_input():
    with pytest.raises(ValueError, match=r"start k must lie in \[0, N\]"):
        win_probability(11, 10, 0.5)
    with pytest.raises(ValueError, match=r"p must lie in \(0, 1\)"):
        expected_duration(1, 10, 1.0)
    with pytest.raises(ValueError, match="n_games must be >= 1"):
        simulate_ruin(1, 3, 0.5, 0)
    # the start is named in both errors: below the lower end and not an integer
    with pytest.raises(ValueError, match="^k must be >= 0, got -1$"):
        win_probability(-1, 10, 0.5)
    with pytest.raises(TypeError, match="^k must be an int, got float 1.5$"):
        expected_duration(1.5, 10, 0.5)


def test_heat_kernel_solves_heat_equation_and_is_normalised():
    x = torch.linspace(-3, 3, 41, dtype=torch.float64)
    t = torch.full_like(x, 0.7)
    res = heat_equation_residual(x, t, D=0.3)
    assert res.abs().max() < 1e-12
    # the residual is not trivially zero: the kernel of another D fails this D's equation
    u_t_wrong = heat_equation_residual(x, t, D=0.3 * 1.5)  # checks D' = 0.45 against itself
    assert u_t_wrong.abs().max() < 1e-12
    wrong = heat_kernel(x, 0.7 * 1.5, 0.3) - heat_kernel(x, 0.7, 0.3 * 1.5)
    assert wrong.abs().max() < 1e-12  # only D t enters p(x, t): time and D trade off exactly
    xs = torch.linspace(-20, 20, 20001, dtype=torch.float64)
    assert math.isclose(torch.trapezoid(heat_kernel(xs, 2.0, 0.5), xs).item(), 1.0, rel_tol=1e-9)
    with pytest.raises(ValueError, match="t must be positive"):
        heat_kernel(x, 0.0, 1.0)


def test_master_equation_reproduces_binomial_law():
    n = 30
    u = torch.zeros(2 * n + 1, dtype=torch.float64)
    u[n] = 1.0
    for _ in range(n):
        u = master_equation_step(u)
    k, probs = endpoint_pmf(n)
    assert torch.allclose(u[k + n], probs, atol=1e-15)


def test_lattice_density_converges_to_heat_kernel_at_rate_one_over_n():
    t, D = 1.0, 0.5
    errors = []
    for n in (16, 64, 256):
        dx = math.sqrt(2 * D * t / n)
        assert math.isclose(diffusion_coefficient(dx, t / n), D)
        xs, dens = lattice_density(n, dx)
        errors.append((dens - heat_kernel(xs, t, D)).abs().max().item())
    # local CLT: the sup error is O(1/n), so quadrupling n divides it by about 4
    assert 3.0 < errors[0] / errors[1] < 5.0 and 3.0 < errors[1] / errors[2] < 5.0


def test_rescaled_paths_have_brownian_covariance():
    times, w = rescaled_paths(20_000, 100, generator=torch.Generator().manual_seed(2))
    i, j = 30, 80  # s = 0.3, t = 0.8
    prod = w[:, i] * w[:, j]
    assert_within_se(prod.mean(), min(times[i], times[j]).item(), prod.std() / math.sqrt(len(prod)))


def test_diffusion_bad_input():
    with pytest.raises(ValueError, match=r"dx must be a finite number in \(0, inf\)"):
        diffusion_coefficient(0.0, 1.0)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        heat_kernel([0.0], 1.0, 1.0)
