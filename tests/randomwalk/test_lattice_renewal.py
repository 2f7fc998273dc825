"""Renewal equation, last-return (arcsine) law, walks on Z^d, and the variance check of (7.2)."""

import math

import pytest
import torch

from course_lib.randomwalk import (
    arcsine_cdf,
    diffusion_coefficient,
    first_return_probabilities,
    first_returns_from_returns,
    last_return_pmf,
    lattice_return_probabilities,
    master_equation_variance,
    renewal_convolution,
    return_probabilities,
    sample_lattice_first_returns,
    sample_paths,
    watson_return_sum,
)


@pytest.mark.parametrize("p", [0.5, 0.6, 0.85])
def test_renewal_equation_holds_for_the_closed_forms(p):
    u, f = return_probabilities(40, p), first_return_probabilities(40, p)
    torch.testing.assert_close(renewal_convolution(f, u), u, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "plant",
    [
        lambda f, n: f * 1.01,  # a perturbed coefficient
        lambda f, n: torch.where(n > 0, f * (2 * n - 1) / (2 * n + 1), f),  # u/(2n+1), not u/(2n-1)
        lambda f, n: torch.cat([f[:1], f[2:], f[-1:]]),  # off by one in the index
    ],
)
def test_renewal_check_fails_on_planted_errors(plant):
    u, f = return_probabilities(20), first_return_probabilities(20)
    bad = plant(f, torch.arange(21, dtype=torch.float64))
    assert not torch.allclose(renewal_convolution(bad, u), u, rtol=1e-6, atol=0)


def test_telescoping_and_no_return_probability():
    u, f = return_probabilities(30), first_return_probabilities(30)
    torch.testing.assert_close(f[1:], u[:-1] - u[1:], rtol=1e-10, atol=0)  # (3.5)
    torch.testing.assert_close(1 - torch.cumsum(f, 0), u, rtol=1e-12, atol=1e-15)


def test_last_return_law_sums_to_one_and_matches_brute_force_and_arcsine():
    n_half = 6
    pmf = last_return_pmf(n_half)
    assert abs(pmf.sum().item() - 1) < 1e-12
    # brute force over all 2^12 paths: the last zero of S_0..S_12
    steps = torch.tensor([[1 if (m >> b) & 1 else -1 for b in range(12)] for m in range(4096)])
    paths = torch.cat([torch.zeros(4096, 1, dtype=torch.long), steps.cumsum(1)], 1)
    last = torch.where(paths == 0, torch.arange(13), -1).amax(1)
    counts = torch.bincount(last // 2, minlength=7).double() / 4096
    torch.testing.assert_close(counts, pmf, rtol=1e-12, atol=0)
    big = last_return_pmf(2000)
    x = torch.tensor([0.1, 0.25, 0.5, 0.9], dtype=torch.float64)
    cdf = torch.cumsum(big, 0)[(x * 2000).long()]
    torch.testing.assert_close(cdf, arcsine_cdf(x), atol=5e-3, rtol=0)
    with pytest.raises(ValueError, match="x must lie in"):
        arcsine_cdf(1.5)


def test_lattice_return_probabilities_small_cases_by_counting():
    # closed walks of length 2 and 4 on Z^d: 2d and (2d)(2d - 1) + ... counted by enumeration
    for dim in (1, 2, 3):
        moves = [
            tuple((s if a == i else 0) for a in range(dim)) for i in range(dim) for s in (1, -1)
        ]
        for length in (2, 4):
            closed = 0
            for m in range(len(moves) ** length):
                pos = [0] * dim
                for _ in range(length):
                    m, r = divmod(m, len(moves))
                    pos = [x + y for x, y in zip(pos, moves[r], strict=True)]
                closed += pos == [0] * dim
            u = lattice_return_probabilities(2, dim)[length // 2].item()
            assert abs(u - closed / len(moves) ** length) < 1e-12, (dim, length)
    torch.testing.assert_close(lattice_return_probabilities(30, 1), return_probabilities(30))


def test_renewal_inversion_and_polya():
    u1 = return_probabilities(25)
    torch.testing.assert_close(first_returns_from_returns(u1), first_return_probabilities(25))
    u3 = lattice_return_probabilities(400, 3)
    watson = watson_return_sum()
    # second route to U(1): partial sum plus the tail of u_2n ~ 2 (3/(4 pi n))^(3/2)
    tail = 2 * (3 / (4 * math.pi)) ** 1.5 * 2 / math.sqrt(400)
    assert abs(u3.sum().item() + tail - watson) < 2e-3
    assert abs((1 - 1 / watson) - 0.3405) < 1e-4  # Polya's return probability in 3-D
    # 2-D: the partial sums grow like log(N) / pi (recurrence)
    u2 = lattice_return_probabilities(4000, 2).cumsum(0)
    assert abs((u2[4000] - u2[400]).item() - math.log(10) / math.pi) < 0.01
    with pytest.raises(ValueError, match="dim must be 1, 2 or 3"):
        lattice_return_probabilities(3, 4)
    with pytest.raises(ValueError, match="only dim = 3"):
        watson_return_sum(2)
    with pytest.raises(ValueError, match="u_0 must be 1"):
        first_returns_from_returns(torch.tensor([0.5, 0.1]))


@pytest.mark.parametrize("dim", [2, 3])
def test_simulated_lattice_returns_match_the_exact_law(dim):
    n_walks, n_half = 4000, 100
    g = torch.Generator().manual_seed(dim)
    t = sample_lattice_first_returns(n_walks, 2 * n_half, dim, generator=g)
    assert (t[t > 0] % 2 == 0).all()  # returns only at even times
    exact = first_returns_from_returns(lattice_return_probabilities(n_half, dim)).sum().item()
    est = (t > 0).double().mean().item()
    assert abs(est - exact) < 4 * math.sqrt(exact * (1 - exact) / n_walks)
    # a 30 % error in the return probability would be far outside the noise
    assert abs(est - 1.3 * exact) > 4 * math.sqrt(exact * (1 - exact) / n_walks)


def test_one_dimensional_lattice_walk_agrees_with_sample_paths_law():
    g = torch.Generator().manual_seed(11)
    t = sample_lattice_first_returns(6000, 20, 1, generator=g, chunk=7)
    f = first_return_probabilities(10)
    for m in (1, 2, 5):
        est = (t == 2 * m).double().mean().item()
        assert abs(est - f[m].item()) < 4 * math.sqrt(f[m].item() / 6000)
    assert sample_paths(2, 3).shape == (2, 4)


@pytest.mark.parametrize("dx, dt", [(0.1, 0.005), (0.3, 0.02)])
def test_master_equation_variance_grows_like_2Dt(dx, dt):
    n = 60
    var = master_equation_variance(dx, n)
    assert abs(var - 2 * diffusion_coefficient(dx, dt) * n * dt) < 1e-12
    # planted error: D = dx^2 / dt (the factor 2 forgotten) is caught
    assert abs(var - 2 * (dx**2 / dt) * n * dt) > 0.5 * var
