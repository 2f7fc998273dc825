"""Incremental mean estimation (1.1)-(1.5) and the step-size conditions (2.3)."""

import math
from fractions import Fraction

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.approx import (
    ConstantStep,
    PowerStep,
    batch_means,
    constant_step_variance,
    estimator_weights,
    incremental_mean,
    resolve_steps,
)
from course_lib.checks import assert_within_se


@given(st.lists(st.integers(-1000, 1000), min_size=1, max_size=40))
@settings(max_examples=50, deadline=None)
def test_incremental_update_is_the_batch_mean_exactly_in_rationals(xs):
    # (1.2) in exact rational arithmetic equals (1.1) for every k
    w = Fraction(7)  # w_1 is arbitrary
    for k, x in enumerate(xs, start=1):
        w = w - Fraction(1, k) * (w - x)
        assert w == Fraction(sum(xs[:k]), k)


def test_incremental_mean_matches_batch_mean_in_float64_for_every_k():
    x = torch.randn(5000, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    w = incremental_mean(x)
    assert w.shape == (5001, 3)
    exact = torch.tensor(
        [[math.fsum(x[:k, j].tolist()) / k for j in range(3)] for k in range(1, 5001)],
        dtype=torch.float64,
    )
    assert torch.allclose(w[1:], exact, rtol=0, atol=1e-13)
    assert torch.allclose(batch_means(x), exact, rtol=0, atol=1e-13)


def test_general_steps_give_the_weighted_average_14():
    x = torch.randn(60, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    for sched in (ConstantStep(0.2), PowerStep(0.7, 0.8), PowerStep(1.0, 2.0, 1.0)):
        w = incremental_mean(x, sched, w1=2.5)
        w1_weight, lam = estimator_weights(sched, 60)
        assert math.isclose(float(w1_weight + lam.sum()), 1.0, rel_tol=1e-12)
        assert math.isclose(float(w[-1]), float(w1_weight * 2.5 + lam @ x), rel_tol=1e-12)
    # a_k = 1/k weighs every sample 1/n
    _, lam = estimator_weights(PowerStep(), 10)
    assert torch.allclose(lam, torch.full((10,), 0.1, dtype=torch.float64))


def test_constant_step_variance_does_not_shrink():
    gen = torch.Generator().manual_seed(2)
    a, runs = 0.1, 20_000
    x = 2.0 * torch.randn(400, runs, dtype=torch.float64, generator=gen)  # sigma^2 = 4
    w = incremental_mean(x, a)
    exact = constant_step_variance(a, 4.0)
    for k in (200, 400):
        v = w[k].var()
        assert_within_se(v, exact, exact * math.sqrt(2 / runs), label=f"Var w_{k}")
    # 1/k: variance sigma^2 / k instead
    w = incremental_mean(x)
    assert_within_se(w[400].var(), 4 / 400, 4 / 400 * math.sqrt(2 / runs))


@pytest.mark.parametrize(
    "sched, diverges, summable",
    [
        (ConstantStep(0.1), True, False),
        (PowerStep(1, 1), True, True),
        (PowerStep(3, 0.6, 10), True, True),
        (PowerStep(1, 0.5), True, False),
        (PowerStep(1, 2), False, True),
        (PowerStep(1, 1.5), False, True),
    ],
)
def test_schedule_conditions(sched, diverges, summable):
    assert sched.sum_diverges is diverges and sched.squares_summable is summable
    assert sched.satisfies_rm is (diverges and summable)
    # the partial sums agree: over [10^4, 10^6) a divergent series gains at least what it
    # gained over [10^2, 10^4) (equal for 1/k), a convergent power series at most 100^(1-q)
    a = sched.values(1_000_000)
    s = [float(a[:n].sum()) for n in (100, 10_000, 1_000_000)]
    q = [float((a[:n] ** 2).sum()) for n in (100, 10_000, 1_000_000)]
    assert (s[2] - s[1] > 0.8 * (s[1] - s[0])) is diverges
    assert (q[2] - q[1] < 0.8 * (q[1] - q[0])) is summable


def test_summable_total_matches_partial_sums():
    assert math.isclose(PowerStep(1, 2).total, math.pi**2 / 6, rel_tol=1e-12)
    s = PowerStep(0.5, 3, 2.0)
    assert math.isclose(s.total, float(s.values(200_000).sum()), rel_tol=1e-9)
    assert PowerStep().total == math.inf
    t = PowerStep().partial_sums(4)
    assert torch.allclose(t, torch.tensor([0, 1, 1.5, 1.5 + 1 / 3, 1.5 + 1 / 3 + 0.25]).double())


def test_bad_inputs():
    with pytest.raises(ValueError, match="a must be"):
        ConstantStep(0.0)
    with pytest.raises(ValueError, match="p must be"):
        PowerStep(1.0, -1.0)
    with pytest.raises(TypeError, match="step_sizes must be"):
        resolve_steps("1/k", 5)
    with pytest.raises(ValueError, match="at least n_iter = 5"):
        resolve_steps(torch.ones(3), 5)
    with pytest.raises(ValueError, match="finite and >= 0"):
        resolve_steps(torch.tensor([1.0, -1.0]), 2)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        incremental_mean([1.0, 2.0])
    with pytest.raises(TypeError, match="floating-point"):
        batch_means(torch.arange(4))
    with pytest.raises(ValueError, match="a must be"):
        constant_step_variance(2.0, 1.0)
