"""Generating functions: series coefficients against closed forms and brute force."""

import math

import pytest
import sympy as sp
import torch

from course_lib.randomwalk import (
    catalan,
    endpoint_pgf,
    endpoint_pgf_coefficients,
    endpoint_pmf,
    enumerate_paths,
    ever_return_probability,
    first_passage_pgf,
    first_passage_pmf,
    first_return_pgf,
    first_return_probabilities,
    first_return_times,
    hitting_time_pmf,
    return_pgf,
    return_probabilities,
    series_coefficients,
    step_pgf,
    truncated_mean_return_time,
)
from course_lib.randomwalk.genfun import HALF, S


@pytest.mark.parametrize("p", [HALF, sp.Rational(1, 3)])
def test_pgf_coefficients_are_the_exact_pmf(p):
    n = 9
    coeffs = endpoint_pgf_coefficients(n, p)
    k, probs = endpoint_pmf(n, float(p))
    assert set(coeffs) == set(k.tolist())
    for kk, pr in zip(k.tolist(), probs.tolist(), strict=True):
        assert math.isclose(float(coeffs[kk]), pr, rel_tol=1e-12)
    # exactness: the coefficient is the rational C(n, j) p^j q^(n-j)
    assert coeffs[1] == sp.binomial(9, 5) * p**5 * (1 - p) ** 4


def test_pgf_derivative_gives_the_mean():
    p = sp.Rational(2, 5)
    mean = sp.diff(endpoint_pgf(7, p), S).subs(S, 1)
    assert mean == 7 * (2 * p - 1)
    assert step_pgf(p).subs(S, 1) == 1


@pytest.mark.parametrize("p", [HALF, sp.Rational(1, 4)])
def test_U_and_F_series_match_closed_forms(p):
    order = 16
    u_series = series_coefficients(return_pgf(p), order)
    f_series = series_coefficients(first_return_pgf(p), order)
    u = return_probabilities(order // 2, float(p))
    f = first_return_probabilities(order // 2, float(p))
    for n in range(order // 2 + 1):
        assert math.isclose(float(u_series[2 * n]), u[n].item(), rel_tol=1e-12)
        assert math.isclose(float(f_series[2 * n]), f[n].item(), rel_tol=1e-12, abs_tol=1e-15)
    # returns happen only at even times: every odd coefficient vanishes
    assert all(u_series[m] == 0 and f_series[m] == 0 for m in range(1, order + 1, 2))
    # F = 1 - 1/U as power series
    diff = sp.series(first_return_pgf(p) - (1 - 1 / return_pgf(p)), S, 0, order + 1).removeO()
    assert sp.simplify(diff) == 0


def test_renewal_identity_u_equals_f_convolved_with_u():
    # u_2n = sum_k f_2k u_(2n-2k) for n >= 1, the coefficient form of U = 1 + F U
    u = return_probabilities(40, 0.37)
    f = first_return_probabilities(40, 0.37)
    for n in range(1, 41):
        assert math.isclose(
            u[n].item(), sum(f[k] * u[n - k] for k in range(1, n + 1)).item(), rel_tol=1e-10
        )


def test_first_return_law_against_brute_force():
    n = 14
    paths = enumerate_paths(n)
    t = first_return_times(paths)
    f = first_return_probabilities(n // 2)
    for m in range(1, n // 2 + 1):
        assert math.isclose((t == 2 * m).double().mean().item(), f[m].item(), rel_tol=1e-12)
    # no return by time 2m has probability u_2m (symmetric walk)
    u = return_probabilities(n // 2)
    assert math.isclose(((t < 0) | (t > n)).double().mean().item(), u[n // 2].item(), rel_tol=1e-12)


@pytest.mark.parametrize("p, expected", [(0.5, 1.0), (0.7, 0.6), (0.2, 0.4)])
def test_ever_return_probability_is_F_at_one(p, expected):
    assert math.isclose(ever_return_probability(p), expected, rel_tol=1e-12)
    total = first_return_probabilities(4000, p).sum().item()
    tail_ok = 0.02 if p == 0.5 else 1e-9  # symmetric: the tail ~ 1/sqrt(pi n) decays slowly
    assert abs(total - expected) < tail_ok


def test_expected_return_time_is_infinite_in_shape():
    # sum_{n<=N} 2n f_2n ~ 2 sqrt(N / pi) -> infinity
    for N in (10**3, 10**5):
        ratio = truncated_mean_return_time(N) / (2 * math.sqrt(N / math.pi))
        assert abs(ratio - 1) < 2 / math.sqrt(N)
    # a biased walk that returns does so in finite mean time
    assert truncated_mean_return_time(2000, 0.7) < 10


def test_catalan_and_first_passage():
    assert [catalan(m) for m in range(8)] == [1, 1, 2, 5, 14, 42, 132, 429]
    p = sp.Rational(3, 5)
    coeffs = series_coefficients(first_passage_pgf(p), 12)
    pmf = first_passage_pmf(6, float(p))
    for m in range(1, 7):
        assert coeffs[2 * m] == 0
        assert math.isclose(float(coeffs[2 * m - 1]), pmf[m - 1].item(), rel_tol=1e-12)
        assert coeffs[2 * m - 1] == catalan(m - 1) * p**m * (1 - p) ** (m - 1)


def test_hitting_time_theorem_against_brute_force():
    n, r = 13, 3
    paths = enumerate_paths(n)
    hits = (paths[:, 1:] == r).to(torch.uint8).argmax(1) + 1
    reached = (paths[:, 1:] == r).any(1)
    exact = hitting_time_pmf(r, n)
    for m in range(n + 1):
        observed = ((hits == m) & reached).double().mean().item()
        assert math.isclose(observed, exact[m].item(), abs_tol=1e-15)


def test_bad_input():
    with pytest.raises(ValueError, match="p must lie in"):
        return_probabilities(3, 1.2)
    with pytest.raises(ValueError, match="p must be a real number in"):
        step_pgf(sp.Rational(3, 2))
    with pytest.raises(ValueError, match="p < 1"):
        first_passage_pgf(1.0)
    with pytest.raises(ValueError, match="r must be >= 1"):
        hitting_time_pmf(0, 5)
    with pytest.raises(TypeError, match="m must be an int"):
        catalan(2.5)


def test_degenerate_walks_have_point_mass_laws():
    assert hitting_time_pmf(3, 9, 1.0).tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert hitting_time_pmf(3, 9, 0.0).sum().item() == 0
    assert first_passage_pmf(3, 1.0).tolist() == [1, 0, 0]
    assert return_probabilities(3, 0.0).tolist() == [1, 0, 0, 0]
    assert ever_return_probability(0.0) == 0.0


@pytest.mark.parametrize("p", [0.5, 0.3])
def test_hitting_time_law_sums_to_the_passage_probability(p):
    # P(T_r < inf) = (p/q)^r for p < q, and 1 for p >= q
    r = 2
    total = hitting_time_pmf(r, 20_000, p).sum().item()
    expected = min(1.0, (p / (1 - p)) ** r)
    assert abs(total - expected) < (0.02 if p == 0.5 else 1e-9)
