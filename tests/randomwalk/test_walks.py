"""The binomial law of S_n, its moments, and the simulators that must agree with it."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from course_lib.checks import assert_pmf_matches, assert_within_se
from course_lib.randomwalk import (
    endpoint_mean_var,
    endpoint_pmf,
    sample_endpoints,
    sample_paths,
    sample_steps,
)


@given(n=st.integers(0, 60), p=st.sampled_from([0.0, 1.0]) | st.floats(1e-9, 1 - 1e-9))
@settings(max_examples=60, deadline=None)
def test_pmf_matches_scipy_binomial(n, p):
    k, probs = endpoint_pmf(n, p)
    expected = stats.binom.pmf((k.numpy() + n) // 2, n, p)
    assert torch.allclose(probs, torch.from_numpy(expected), rtol=1e-9, atol=1e-300)
    assert math.isclose(float(probs.sum()), 1.0, rel_tol=1e-9)


def test_pmf_large_n_is_finite_and_normalised():
    k, probs = endpoint_pmf(10_000, 0.3)
    assert torch.isfinite(probs).all() and math.isclose(probs.sum().item(), 1.0, rel_tol=1e-9)
    mean, var = endpoint_mean_var(10_000, 0.3)
    kf = k.double()
    assert math.isclose(float((kf * probs).sum()), mean, rel_tol=1e-9)
    assert math.isclose(float(((kf - mean) ** 2 * probs).sum()), var, rel_tol=1e-8)


@pytest.mark.parametrize("p", [0.5, 0.3, 0.85])
def test_simulated_endpoints_follow_binomial_law(p):
    n, m = 41, 100_000
    s = sample_endpoints(m, n, p, generator=torch.Generator().manual_seed(1))
    assert ((s + n) % 2 == 0).all() and s.abs().max() <= n
    k, probs = endpoint_pmf(n, p)
    counts = torch.bincount(s + n, minlength=2 * n + 1)[k + n]
    assert_pmf_matches(counts, probs)
    mean, var = endpoint_mean_var(n, p)
    assert_within_se(s.double().mean(), mean, math.sqrt(var / m))


def test_symmetric_fast_path_handles_partial_words():
    # p = 1/2 sums random bits; n not a multiple of 64 must mask the last word exactly.
    for n in (1, 63, 64, 65, 130):
        s = sample_endpoints(20_000, n, 0.5, generator=torch.Generator().manual_seed(n))
        assert s.abs().max() <= n and ((s + n) % 2 == 0).all()
        assert_within_se(s.double().var(), n, se=n * math.sqrt(2 / 20_000) * 1.2, k=5)


def test_chunking_does_not_change_the_law():
    g = torch.Generator().manual_seed(3)
    s = sample_endpoints(30_000, 25, 0.6, generator=g, chunk_steps=1000)
    k, probs = endpoint_pmf(25, 0.6)
    assert_pmf_matches(torch.bincount(s + 25, minlength=51)[k + 25], probs)


def test_paths_start_at_zero_and_move_by_one():
    paths = sample_paths(50, 30, 0.4, generator=torch.Generator().manual_seed(0))
    assert paths.shape == (50, 31) and (paths[:, 0] == 0).all()
    assert (paths.diff(dim=1).abs() == 1).all()


def test_seeded_runs_are_identical():
    a = sample_paths(10, 20, generator=torch.Generator().manual_seed(7))
    b = sample_paths(10, 20, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b)
    e1 = sample_endpoints(100, 100, generator=torch.Generator().manual_seed(7))
    e2 = sample_endpoints(100, 100, generator=torch.Generator().manual_seed(7))
    assert torch.equal(e1, e2)


def test_degenerate_p_gives_deterministic_walks():
    assert (sample_steps(5, 10, 1.0) == 1).all()
    assert (sample_steps(5, 10, 0.0) == -1).all()
    assert (sample_endpoints(5, 10, 1.0) == 10).all()
    k, probs = endpoint_pmf(6, 0.0)
    assert probs[k == -6].item() == 1.0 and probs.sum().item() == 1.0


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"p": 1.5}, ValueError, r"p must lie in \[0, 1\], got 1.5"),
        ({"p": -0.1}, ValueError, "p must lie in"),
        ({"p": float("nan")}, ValueError, "p must lie in"),
        ({"p": "0.5"}, TypeError, "p must be a real number"),
        ({"n_steps": -1}, ValueError, "n_steps must be >= 0, got -1"),
        ({"n_steps": 2.0}, TypeError, "n_steps must be an int"),
        ({"n_walks": True}, TypeError, "n_walks must be an int"),
        ({"dtype": torch.uint8}, TypeError, "signed integer or float dtype"),
    ],
)
def test_bad_input_raises_clear_errors(kwargs, error, match):
    args = {"n_walks": 3, "n_steps": 4, "p": 0.5} | kwargs
    with pytest.raises(error, match=match):
        sample_paths(**args)


def test_pmf_bad_input():
    with pytest.raises(ValueError, match="n must be >= 0"):
        endpoint_pmf(-3)
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        endpoint_pmf(3, dtype=torch.int64)


def test_generator_device_mismatch_is_reported():
    with pytest.raises(ValueError, match="generator lives on cpu"):
        sample_steps(2, 2, generator=torch.Generator(), device="meta")
    with pytest.raises(TypeError, match="torch.Generator"):
        sample_steps(2, 2, generator=42)


@pytest.mark.gpu
def test_cuda_simulation_matches_law():
    g = torch.Generator(device="cuda").manual_seed(0)
    s = sample_endpoints(200_000, 33, 0.5, generator=g)
    assert s.device.type == "cuda"
    k, probs = endpoint_pmf(33, 0.5)
    assert_pmf_matches(torch.bincount(s.cpu() + 33, minlength=67)[k + 33], probs)
