"""Checks that fail on small wrong changes to Chapter 06's formulas (issue 16, mutation testing).

Each test pins a behaviour that the main tests left free, always against an independent
route: the full Jacobian from ``torch.autograd.functional.jacobian`` and its ``slogdet``,
closed forms of linear ODEs (x_t = exp(tB) x_0, int div = t tr B) and the Taylor
polynomials that one fixed step of a Runge-Kutta method gives on them, enumeration of all
Rademacher probes, values worked by hand; every ODE solver option, parities and odd sizes,
the soft clamp's branches, boundaries of the input checks, error messages, and that a seeded
generator (never the global RNG) draws every probe.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings

import numpy as np
import pytest
import torch
import torch.distributed.tensor  # noqa: F401  (see below)
import torchdiffeq  # noqa: F401
from scipy import stats

from course_lib.flows import (
    ActNorm,
    AdditiveCoupling,
    AffineCoupling,
    Conditioner,
    Flow,
    InvertibleConv1x1,
    Permutation,
    Scaling,
    augmented_dynamics,
    cnf_log_likelihood,
    continuity_residual,
    divergence_exact,
    divergence_hutchinson,
    hutchinson_samples,
    hutchinson_variance,
    jacobian_logdet,
    logdet_timing,
    make_flow,
    probe_like,
    soft_clamp,
    standard_normal_log_prob,
)

# The two imports above are lazy elsewhere (torch.testing.assert_close pulls in
# torch.distributed.tensor on its first call, cnf_log_likelihood imports torchdiffeq): done
# here, at collection, the forked mutation-testing workers inherit them instead of paying
# seconds each.

F64 = torch.float64
B_LIN = torch.tensor([[0.3, -1.0], [0.8, -0.4]], dtype=F64)  # tr = -0.1, B12 + B21 = -0.2
LOG_2PI = math.log(2 * math.pi)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=gen(seed), dtype=F64)


def jac_logdet(fn, x: torch.Tensor) -> torch.Tensor:
    """log|det d fn/dx| per sample from the full (B*d, B*d) autograd Jacobian of the batch map:
    its diagonal (d, d) blocks are the per-sample Jacobians (samples do not interact)."""
    b = x.shape[0]
    flat = x.reshape(b, -1)
    d = flat.shape[1]
    J = torch.autograd.functional.jacobian(lambda u: fn(u.reshape(x.shape)).reshape(b, d), flat)
    return torch.stack([torch.linalg.slogdet(J[i, :, i, :])[1] for i in range(b)])


def jac_per_sample(field, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """(B, d, d) Jacobians dv/dx of a velocity field by autograd, one sample at a time."""
    return torch.stack(
        [
            torch.autograd.functional.jacobian(
                lambda xi, i=i: field(xi[None], t[i : i + 1])[0], x[i]
            )
            for i in range(x.shape[0])
        ]
    )


def field3(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """A nonlinear, time-dependent field on R^3 (per-sample t)."""
    A = torch.tensor([[1.0, 2.0, -0.5], [-3.0, 0.5, 1.5], [0.7, -2.0, 2.0]], dtype=x.dtype)
    return torch.tanh(x @ A.T) * (1 + t[:, None]) + torch.sin(x.flip(1)) * t[:, None] ** 2


def linear_time_field(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """v = (1 + t) B x: the matrices commute, so x_t1 = exp(c B) x_t0, int div = c tr B with
    c = int_t0^t1 (1 + t) dt = (t1 - t0) + (t1^2 - t0^2)/2."""
    return (1 + t[:, None]) * (x @ B_LIN.T)


# ============================================================================ cnf.py


def test_exact_divergence_in_one_dimension_and_with_more_samples_than_coordinates():
    """d = 1 (a single backward pass): v = 0.5 x^2 (1 + t) has div = x (1 + t), by hand; and
    B = 5 > d = 3 against the trace of the autograd Jacobian, at a per-sample t."""
    x = torch.tensor([[0.5], [-2.0], [3.0]], dtype=F64)
    v, div = divergence_exact(lambda y, t: 0.5 * y**2 * (1 + t[:, None]), x, 0.5)
    torch.testing.assert_close(div, torch.tensor([0.75, -3.0, 4.5], dtype=F64))
    torch.testing.assert_close(v, 0.75 * x**2)
    x3, t3 = randn(5, 3, seed=1), torch.linspace(0.1, 0.9, 5, dtype=F64)
    v3, div3 = divergence_exact(field3, x3, t3)
    jac = jac_per_sample(field3, x3, t3)
    torch.testing.assert_close(div3, torch.diagonal(jac, dim1=1, dim2=2).sum(1))
    torch.testing.assert_close(v3, field3(x3, t3))


def test_divergences_are_detached_by_default_and_differentiable_with_create_graph():
    """Default: plain values with no graph. create_graph=True: d/dx of div flows back to x.
    v_i = x_i^3 / 3 has div = sum x_i^2, whose gradient is 2 x (by hand); the Hutchinson
    estimate with the probe (1, -1, 1) is sum_i x_i^2 probe_i^2, the same here."""

    def cube(y, t):
        return y**3 / 3

    x = randn(4, 3, seed=2)
    for fn in (
        lambda xx, **kw: divergence_exact(cube, xx, 0.2, **kw),
        lambda xx, **kw: divergence_hutchinson(
            cube, xx, 0.2, torch.tensor([1.0, -1.0, 1.0], dtype=F64).expand(4, 3), **kw
        ),
    ):
        v, div = fn(x)
        assert not v.requires_grad and not div.requires_grad
        torch.testing.assert_close(div, (x**2).sum(1))
        xg = x.clone().requires_grad_(True)
        v, div = fn(xg, create_graph=True)
        assert v.requires_grad and div.requires_grad
        (g,) = torch.autograd.grad(div.sum(), xg)
        torch.testing.assert_close(g, 2 * x)


def test_hutchinson_estimate_is_the_quadratic_form_of_the_autograd_jacobian():
    """probe^T (dv/dx) probe per sample for an arbitrary (non +-1) probe, B = 4 != d = 3."""
    x, t = randn(4, 3, seed=3), torch.full((4,), 0.6, dtype=F64)
    probe = randn(4, 3, seed=4)
    v, est = divergence_hutchinson(field3, x, 0.6, probe)
    jac = jac_per_sample(field3, x, t)
    torch.testing.assert_close(est, torch.einsum("bi,bij,bj->b", probe, jac, probe))
    torch.testing.assert_close(v, field3(x, t))


@pytest.mark.parametrize("kind", ["rademacher", "gaussian"])
def test_probes_are_seeded_and_do_not_touch_the_global_rng(kind):
    """Same seed -> identical probe whatever the global RNG state; another seed differs."""
    x = torch.zeros(6, 4, dtype=F64)
    torch.manual_seed(100)
    a = probe_like(x, kind, generator=gen(5))
    torch.manual_seed(200)
    b = probe_like(x, kind, generator=gen(5))
    assert torch.equal(a, b)
    assert not torch.equal(a, probe_like(x, kind, generator=gen(6)))
    assert a.dtype == F64 and a.shape == x.shape


def test_probe_laws_rademacher_signs_and_gaussian_moments():
    """Rademacher: only the values -1 and +1, both about half the time; the default kind. Gaussian:
    mean 0 and variance 1 within 5 standard errors (n = 40000: SE(mean) = 0.005,
    SE(var) = sqrt(2/n) = 0.0071), and not +-1. A 1-D x is accepted."""
    x = torch.zeros(40_000, dtype=F64)
    r = probe_like(x, generator=gen(7))
    assert set(r.unique().tolist()) == {-1.0, 1.0}
    assert abs(float(r.mean())) < 5 / math.sqrt(40_000)
    g = probe_like(x, "gaussian", generator=gen(7))
    assert abs(float(g.mean())) < 5 / math.sqrt(40_000)
    assert abs(float(g.var()) - 1) < 5 * math.sqrt(2 / 40_000)
    assert (g.abs() != 1).all()
    with pytest.raises(ValueError, match="kind must be one of"):
        probe_like(x, "uniform")


def test_hutchinson_samples_take_the_rademacher_quadratic_form_values():
    """Every Rademacher sample v^T A v is one of the 2^3 values from enumerating the probes;
    n = 1 works, n = 0 is refused; Gaussian samples are not of that finite set."""
    A = torch.tensor([[1.0, 2.0, -0.5], [-3.0, 0.5, 1.5], [0.7, -2.0, 2.0]], dtype=F64)
    values = {
        round(float(torch.tensor(s, dtype=F64) @ A @ torch.tensor(s, dtype=F64)), 9)
        for s in itertools.product([-1.0, 1.0], repeat=3)
    }
    samples = hutchinson_samples(A, 200, generator=gen(8))
    assert samples.shape == (200,)
    assert {round(float(s), 9) for s in samples} <= values
    assert len({round(float(s), 9) for s in samples}) > 1
    assert hutchinson_samples(A, 1, generator=gen(8)).shape == (1,)
    g = hutchinson_samples(A, 50, "gaussian", generator=gen(8))
    assert not {round(float(s), 9) for s in g} & values
    with pytest.raises(ValueError, match="n must be"):
        hutchinson_samples(A, 0)
    torch.manual_seed(1)
    a = hutchinson_samples(A, 30, generator=gen(9))
    torch.manual_seed(2)
    assert torch.equal(a, hutchinson_samples(A, 30, generator=gen(9)))


def test_hutchinson_variance_is_computed_in_double_and_is_zero_for_a_1x1():
    """A float32 input: the closed form (7.6) in float64 numpy from its exact values, to 1e-13
    (float32 arithmetic would be off by ~1e-7); the Rademacher value also by enumerating
    all 16 probes. A 1x1 matrix: v^T A v = A v^2 = A always, variance 0 (by hand)."""
    A = torch.randn(4, 4, generator=gen(10))  # float32
    a = A.double().numpy()
    off = ~np.eye(4, dtype=bool)
    rad = float(((a**2 + a * a.T)[off]).sum())
    gau = float((a**2).sum() + np.trace(a @ a))
    enum = [np.array(s) @ a @ np.array(s) for s in itertools.product([-1.0, 1.0], repeat=4)]
    assert math.isclose(rad, float(np.var(enum)), rel_tol=1e-12)
    assert math.isclose(hutchinson_variance(A), rad, rel_tol=1e-13)
    assert math.isclose(hutchinson_variance(A, "gaussian"), gau, rel_tol=1e-13)
    assert hutchinson_variance(torch.tensor([[3.0]])) == 0.0
    assert math.isclose(hutchinson_variance(torch.tensor([[3.0]]), "gaussian"), 18.0)  # 2 * 9


def test_augmented_dynamics_returns_the_velocity_and_its_divergence_at_time_t():
    """f(t, (x, a)) = (v(x, t), div v(x, t)) with t a 0-d tensor, B = 4 != d = 3; with a probe
    the divergence is probe^T (dv/dx) probe. The integral part a of the state is ignored."""
    x = randn(4, 3, seed=11)
    t = torch.tensor(0.7, dtype=F64)
    tt = torch.full((4,), 0.7, dtype=F64)
    jac = jac_per_sample(field3, x, tt)
    v, div = augmented_dynamics(field3)(t, (x, torch.ones(4, dtype=F64)))
    torch.testing.assert_close(v, field3(x, tt))
    torch.testing.assert_close(div, torch.diagonal(jac, dim1=1, dim2=2).sum(1))
    probe = randn(4, 3, seed=12)
    v, est = augmented_dynamics(field3, "hutchinson", probe)(t, (x, torch.zeros(4, dtype=F64)))
    torch.testing.assert_close(est, torch.einsum("bi,bij,bj->b", probe, jac, probe))


@pytest.mark.parametrize(("t0", "t1"), [(0.0, 1.0), (0.25, 0.75), (0.0, 0.5), (0.5, 1.0)])
def test_cnf_likelihood_of_a_time_dependent_linear_field_on_any_interval(t0, t1):
    """v = (1 + t) B x: z = exp(c B) x and log p = log N(z) + c tr B, c = (t1-t0) + (t1^2-t0^2)/2;
    the interval's end points 0 and 1 are allowed."""
    x = randn(5, 2, seed=13)
    c = (t1 - t0) + (t1**2 - t0**2) / 2
    z_exact = x @ torch.linalg.matrix_exp(c * B_LIN).T
    expected = -0.5 * (z_exact**2).sum(1) - LOG_2PI + c * torch.trace(B_LIN)
    logp, z = cnf_log_likelihood(
        linear_time_field, x, t0=t0, t1=t1, rtol=1e-8, atol=1e-10, return_noise=True
    )
    torch.testing.assert_close(z, z_exact, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(logp, expected, rtol=1e-6, atol=1e-6)
    plain = cnf_log_likelihood(linear_time_field, x, t0=t0, t1=t1, rtol=1e-8, atol=1e-10)
    assert isinstance(plain, torch.Tensor)
    torch.testing.assert_close(plain, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("method", ["dopri5", "dopri8", "bosh3", "fehlberg2", "adaptive_heun"])
def test_adaptive_solvers_step_exactly_onto_t1_where_the_field_ends(method):
    """A field that is NaN beyond t1 = 0.5: every adaptive solver must clip its steps at t1
    (otherwise it overshoots, sees NaN and fails); the result is the closed form."""

    def ends_at_half(y, t):
        return torch.where(t[:, None] > 0.5, torch.nan, y @ B_LIN.T)

    x = randn(3, 2, seed=14)
    logp, z = cnf_log_likelihood(
        ends_at_half, x, t1=0.5, rtol=1e-4, atol=1e-6, method=method, return_noise=True
    )
    z_exact = x @ torch.linalg.matrix_exp(0.5 * B_LIN).T
    torch.testing.assert_close(z, z_exact, rtol=1e-2, atol=1e-3)
    expected = -0.5 * (z_exact**2).sum(1) - LOG_2PI + 0.5 * torch.trace(B_LIN)
    torch.testing.assert_close(logp, expected, rtol=1e-2, atol=1e-3)


@pytest.mark.parametrize(("method", "order"), [("euler", 1), ("midpoint", 2), ("rk4", 4)])
def test_fixed_step_solvers_take_one_step_and_get_no_adaptive_options(method, order):
    """Fixed-grid methods step on the grid (t0, t1) = (0, 1): one step of an explicit
    Runge-Kutta method of order p = number of stages on dz/dt = B z gives the Taylor polynomial
    sum_{k<=p} B^k / k! (by hand); the divergence tr B is constant, so its integral is exact.
    No warning: the adaptive-only option step_t is not passed to them."""
    x = randn(4, 2, seed=15)
    poly = sum(torch.linalg.matrix_power(B_LIN, k) / math.factorial(k) for k in range(order + 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        logp, z = cnf_log_likelihood(lambda y, t: y @ B_LIN.T, x, method=method, return_noise=True)
    torch.testing.assert_close(z, x @ poly.T, rtol=1e-12, atol=1e-12)
    expected = -0.5 * (z**2).sum(1) - LOG_2PI + torch.trace(B_LIN)
    torch.testing.assert_close(logp, expected, rtol=1e-12, atol=1e-12)


def test_time_grid_is_in_double_precision():
    """One rk4 step from t0 = 0.1 to t1 = 0.7 on dz/dt = B z gives sum_{k<=4} (0.6 B)^k / k! to
    rounding (by hand, as above); a float32 grid would move t1 by ~1e-8 and z by ~1e-8."""
    x = randn(3, 2, seed=19)
    poly = sum(torch.linalg.matrix_power(0.6 * B_LIN, k) / math.factorial(k) for k in range(5))
    logp, z = cnf_log_likelihood(
        lambda y, t: y @ B_LIN.T, x, t0=0.1, t1=0.7, method="rk4", return_noise=True
    )
    torch.testing.assert_close(z, x @ poly.T, rtol=1e-13, atol=1e-14)
    expected = -0.5 * (z**2).sum(1) - LOG_2PI + 0.6 * torch.trace(B_LIN)
    torch.testing.assert_close(logp, expected, rtol=1e-13, atol=1e-13)


def test_exact_divergence_draws_no_random_numbers():
    """Only divergence='hutchinson' draws a probe: with the exact divergence neither a given
    generator nor the global RNG advances."""
    x = randn(3, 2, seed=20)
    g = gen(21)
    before = g.get_state()
    torch.manual_seed(22)
    cnf_log_likelihood(lambda y, t: y @ B_LIN.T, x, method="euler", generator=g)
    assert torch.equal(g.get_state(), before)
    cnf_log_likelihood(lambda y, t: y @ B_LIN.T, x, method="euler")
    after_call = torch.rand(1)
    torch.manual_seed(22)
    assert torch.equal(after_call, torch.rand(1))
    cnf_log_likelihood(
        lambda y, t: y @ B_LIN.T, x, method="euler", divergence="hutchinson", generator=g
    )
    assert not torch.equal(g.get_state(), before)


def test_tolerances_reach_the_solver_and_the_defaults_are_tight():
    """Each tolerance reaches the solver: with the other one loose (0.1), tightening rtol or atol
    alone changes the answer on a nonlinear field. The defaults (1e-6, 1e-8) are tight: on the
    linear field v = (1 + t) B x the error against the closed form is below 5e-6."""
    x = randn(4, 3, seed=16)
    loose = cnf_log_likelihood(field3, x, rtol=1e-1, atol=1e-1)
    assert (cnf_log_likelihood(field3, x, rtol=1e-1, atol=1e-6) - loose).abs().max() > 1e-3
    assert (cnf_log_likelihood(field3, x, rtol=1e-6, atol=1e-1) - loose).abs().max() > 1e-6
    x2 = randn(5, 2, seed=13)
    z_exact = x2 @ torch.linalg.matrix_exp(1.5 * B_LIN).T  # c = 1 + 1/2 on [0, 1]
    expected = -0.5 * (z_exact**2).sum(1) - LOG_2PI + 1.5 * torch.trace(B_LIN)
    assert (cnf_log_likelihood(linear_time_field, x2) - expected).abs().max() < 5e-6


def test_hutchinson_likelihood_uses_one_seeded_rademacher_probe_for_the_whole_solve():
    """Linear field B: dv/dx = B at all times, so the Hutchinson integral is p^T B p (t1 - t0)
    for the probe p, which takes the values tr B +- (B12 + B21) = -0.1 -+ 0.2, i.e. 0.1 or -0.3
    (by hand, d = 2). The same seed gives identical numbers whatever the global RNG; another
    seed or the exact divergence differ."""
    x = randn(40, 2, seed=17)

    def lin(y, t):
        return y @ B_LIN.T

    z_exact = x @ torch.linalg.matrix_exp(B_LIN).T
    base = -0.5 * (z_exact**2).sum(1) - LOG_2PI
    torch.manual_seed(1)
    a = cnf_log_likelihood(lin, x, divergence="hutchinson", generator=gen(3), rtol=1e-8, atol=1e-10)
    integral = a - base
    on_value = torch.minimum((integral - 0.1).abs(), (integral + 0.3).abs())
    assert on_value.max() < 1e-6
    assert (integral - 0.1).abs().min() < 1e-6 and (integral + 0.3).abs().min() < 1e-6
    torch.manual_seed(2)
    b = cnf_log_likelihood(lin, x, divergence="hutchinson", generator=gen(3), rtol=1e-8, atol=1e-10)
    assert torch.equal(a, b)
    c = cnf_log_likelihood(lin, x, divergence="hutchinson", generator=gen(4), rtol=1e-8, atol=1e-10)
    assert not torch.equal(a, c)
    exact = cnf_log_likelihood(lin, x, rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(exact - base, torch.full_like(base, -0.1), rtol=0, atol=1e-6)
    # the interval length scales the integral: t1 - t0 = 0.5 halves it
    half = cnf_log_likelihood(
        lin,
        x,
        t1=0.5,
        divergence="hutchinson",
        generator=gen(3),
        rtol=1e-10,
        atol=1e-12,
        return_noise=True,
    )
    z_half = x @ torch.linalg.matrix_exp(0.5 * B_LIN).T
    torch.testing.assert_close(
        half[0] + 0.5 * (z_half**2).sum(1) + LOG_2PI, 0.5 * integral, rtol=0, atol=1e-6
    )


def test_continuity_residual_with_a_per_sample_time():
    """A Gaussian N(0, s_t^2 I) with s_t = 1 + t spreads under v = x / (1 + t) (x_t = x_0 s_t /
    s_0 keeps the law N(0, s_t^2)): residual zero at per-sample times; v = 2x / (1 + t) is
    wrong, its residual is d/(1+t) + ... != 0 (by hand: -d/s + |x|^2/s^3 - ... ) -- nonzero."""

    def log_density(y, t):
        s = 1 + t
        return -0.5 * (y**2).sum(1) / s**2 - y.shape[1] * torch.log(s) - 0.5 * y.shape[1] * LOG_2PI

    x = randn(5, 2, seed=18)
    t = torch.linspace(0.0, 0.8, 5, dtype=F64)
    res = continuity_residual(log_density, lambda y, tt: y / (1 + tt[:, None]), x, t)
    assert res.abs().max() < 1e-12
    wrong = continuity_residual(log_density, lambda y, tt: 2 * y / (1 + tt[:, None]), x, t)
    assert wrong.abs().min() > 1e-3


def test_cnf_bad_inputs_name_the_problem():
    """Messages of the public checks, and the boundaries of t0, t1, rtol and atol."""

    def lin(y, t):
        return y @ B_LIN.T

    x = randn(3, 2)
    with pytest.raises(TypeError, match=r"velocity must be callable as v\(x, t\), got int"):
        divergence_exact(3, x, 0.5)
    with pytest.raises(ValueError, match=r"x must have shape \(B, d\), got \(3, 2, 2\)"):
        divergence_hutchinson(lin, torch.zeros(3, 2, 2), 0.5, torch.zeros(3, 2, 2))
    with pytest.raises(ValueError, match=r"probe must have the shape of x \(3, 2\), got \(3, 3\)"):
        divergence_hutchinson(lin, x, 0.5, torch.ones(3, 3))
    with pytest.raises(ValueError, match=r"A must be a square \(d, d\) matrix, got \(2, 3\)"):
        hutchinson_samples(torch.ones(2, 3), 4)
    with pytest.raises(ValueError, match="A must be a square"):
        hutchinson_variance(torch.ones(2, 2, 2))
    with pytest.raises(ValueError, match=r"kind must be one of \('rademacher', 'gaussian'\)"):
        hutchinson_variance(torch.eye(2), "uniform")
    with pytest.raises(ValueError, match="divergence must be 'exact' or 'hutchinson', got 'trace'"):
        augmented_dynamics(lin, "trace")
    with pytest.raises(
        ValueError, match=r"^divergence='hutchinson' needs a probe \(see probe_like\)$"
    ):
        augmented_dynamics(lin, "hutchinson")
    with pytest.raises(ValueError, match="need t1 > t0, got t0=0.6, t1=0.4"):
        cnf_log_likelihood(lin, x, t0=0.6, t1=0.4)
    with pytest.raises(ValueError, match="t1 must be a finite number in"):
        cnf_log_likelihood(lin, x, t1=1.01)
    with pytest.raises(ValueError, match="t0 must be a finite number in"):
        cnf_log_likelihood(lin, x, t0=-0.01)
    with pytest.raises(ValueError, match=r"t0 must be a finite number in \[0, 1\]"):
        cnf_log_likelihood(lin, x, t0=1.5)
    with pytest.raises(ValueError, match=r"t1 must be a finite number in \[0, 1\]"):
        cnf_log_likelihood(lin, x, t1=-0.5)
    with pytest.raises(ValueError, match="rtol must be a finite number in"):
        cnf_log_likelihood(lin, x, rtol=0.0)
    with pytest.raises(ValueError, match="atol must be a finite number in"):
        cnf_log_likelihood(lin, x, atol=0.0)
    with pytest.raises(TypeError, match=r"log_density must be callable as log p\(x, t\), got str"):
        continuity_residual("p", lin, x, 0.5)
    with pytest.raises(TypeError, match="velocity must be callable"):
        continuity_residual(lambda y, t: y.sum(1), None, x, 0.5)
    with pytest.raises(ValueError, match=r"t must be a scalar or have shape \(3,\), got 2 values"):
        continuity_residual(lambda y, t: y.sum(1), lin, x, torch.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match=r"t must be a scalar or have shape \(3,\)"):
        divergence_exact(lin, x, torch.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match=r"t must be a scalar or have shape \(3,\)"):
        divergence_hutchinson(lin, x, torch.tensor([0.1, 0.2]), torch.ones(3, 2))
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got list"):
        probe_like([1.0, 2.0])
    with pytest.raises(ValueError, match=r"x must have at least 1 dimension\(s\)"):
        probe_like(torch.tensor(1.0))
    with pytest.raises(TypeError, match="A must be a torch.Tensor, got list"):
        hutchinson_variance([[1.0]])
    with pytest.raises(ValueError, match=r"A must have at least 2 dimension\(s\)"):
        hutchinson_samples(torch.ones(3), 2)
    with pytest.raises(TypeError, match="n must be an int"):
        hutchinson_samples(torch.eye(2), 2.5)
    with pytest.raises(TypeError, match="probe must be a torch.Tensor"):
        divergence_hutchinson(lin, x, 0.5, None)
    with pytest.raises(ValueError, match=r"probe must have at least 2 dimension\(s\)"):
        divergence_hutchinson(lin, x, 0.5, torch.ones(2))
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        cnf_log_likelihood(lin, "x")
    with pytest.raises(ValueError, match=r"x must have at least 2 dimension\(s\)"):
        divergence_exact(lin, torch.ones(3), 0.5)


@pytest.mark.gpu
def test_cnf_on_cuda_matches_cpu():
    """Device placement: probes, the Hutchinson variance mask and the likelihood on CUDA."""
    A = torch.randn(3, 3, generator=gen(0), dtype=F64)
    assert math.isclose(hutchinson_variance(A.cuda()), hutchinson_variance(A), rel_tol=1e-12)
    x = randn(4, 2)
    for kind in ("rademacher", "gaussian"):
        # a CUDA generator draws on CUDA; a CPU generator draws on the CPU, then moves to x
        assert probe_like(x.cuda(), kind, generator=torch.Generator("cuda").manual_seed(0)).is_cuda
        on_cpu_gen = probe_like(x.cuda(), kind, generator=gen(0))
        assert on_cpu_gen.is_cuda
        assert torch.equal(on_cpu_gen.cpu(), probe_like(x, kind, generator=gen(0)))
    cpu = cnf_log_likelihood(linear_time_field, x, rtol=1e-8, atol=1e-10)
    gpu = cnf_log_likelihood(
        lambda y, t: (1 + t[:, None]) * (y @ B_LIN.T.cuda()), x.cuda(), rtol=1e-8, atol=1e-10
    )
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-7, atol=1e-7)


# ============================================================================ layers.py


def _perturb(module: torch.nn.Module, seed: int, scale: float = 0.5) -> torch.nn.Module:
    """Move every parameter off its (identity) initialisation, reproducibly, in float64."""
    module = module.double()
    g = gen(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return module


def _check_layer(layer, x: torch.Tensor) -> None:
    """forward/inverse round trip, and both log-dets against the autograd Jacobian."""
    z, logdet = layer(x)
    torch.testing.assert_close(logdet, jac_logdet(lambda u: layer(u)[0], x), rtol=1e-9, atol=1e-9)
    x_back, inv_logdet = layer.inverse(z)
    torch.testing.assert_close(x_back, x, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(
        inv_logdet, jac_logdet(lambda u: layer.inverse(u)[0], z), rtol=1e-9, atol=1e-9
    )


def test_soft_clamp_by_hand():
    """c tanh(s / c): soft_clamp(1, 2) = 2 tanh(1/2), soft_clamp(-3, 0.5) = -0.5 tanh(6)."""
    out = soft_clamp(torch.tensor([1.0, -3.0, 0.0], dtype=F64), 2.0)
    torch.testing.assert_close(
        out, torch.tensor([2 * math.tanh(0.5), -2 * math.tanh(1.5), 0.0], dtype=F64)
    )
    torch.testing.assert_close(
        soft_clamp(torch.tensor([-3.0], dtype=F64), 0.5),
        torch.tensor([-0.5 * math.tanh(6)], dtype=F64),
    )


@pytest.mark.parametrize("kind", ["additive", "affine"])
@pytest.mark.parametrize(("dim", "parity"), [(2, 0), (2, 1), (3, 0), (3, 1), (5, 0), (5, 1)])
def test_couplings_keep_the_conditioning_half_and_match_the_jacobian(kind, dim, parity):
    """Parity 0 keeps the first floor(d/2) coordinates, parity 1 the last d - floor(d/2)
    (odd d: the halves differ in size); log-dets of both directions against autograd."""
    torch.manual_seed(dim + parity)
    layer = (
        AdditiveCoupling(dim, parity, hidden=6, depth=1)
        if kind == "additive"
        else AffineCoupling(dim, parity, hidden=6, depth=1, clamp=1.5)
    )
    layer = _perturb(layer, dim + 10 * parity)
    x = randn(3, dim, seed=dim)
    z, _ = layer(x)
    first = dim // 2
    kept = slice(0, first) if parity == 0 else slice(first, dim)
    moved = slice(first, dim) if parity == 0 else slice(0, first)
    assert torch.equal(z[:, kept], x[:, kept])
    assert ((z[:, moved] - x[:, moved]).abs() > 1e-6).all()
    _check_layer(layer, x)


@pytest.mark.parametrize("clamp", [None, 0.3, 2.0])
def test_affine_coupling_every_clamp_against_the_jacobian(clamp):
    """clamp=None (raw s), a tight clamp 0.3 where tanh bends, and the default 2.0."""
    torch.manual_seed(3)
    layer = _perturb(AffineCoupling(4, 1, hidden=8, depth=2, clamp=clamp), 4, 1.0)
    _check_layer(layer, randn(5, 4, seed=5))


def test_affine_coupling_default_clamp_is_two():
    """Default clamp c = 2: on a huge input s saturates, so the log-det (the sum over the
    n_b = 1 transformed coordinate) tends to +-2 and never passes it; a raw scale of 50
    with clamp=None gives log-det 50 (by hand: z_b = x_b e^50)."""
    torch.manual_seed(0)
    layer = AffineCoupling(2, 0, hidden=4, depth=1).double()
    with torch.no_grad():
        layer.net.net[-1].bias.copy_(torch.tensor([50.0, 0.0], dtype=F64))  # s_raw = 50, t = 0
    x = torch.tensor([[0.3, 1.0]], dtype=F64)
    z, logdet = layer(x)
    torch.testing.assert_close(logdet, torch.tensor([2 * math.tanh(25.0)], dtype=F64))
    torch.testing.assert_close(z[0, 1], torch.tensor(math.exp(2 * math.tanh(25.0)), dtype=F64))
    raw = AffineCoupling(2, 0, hidden=4, depth=1, clamp=None).double()
    raw.load_state_dict(layer.state_dict())
    torch.testing.assert_close(raw(x)[1], torch.tensor([50.0], dtype=F64))


def test_conditioner_shape_depth_width_and_zero_last_layer():
    """depth hidden SiLU layers of width hidden, then a zero-initialised linear layer (so the
    coupling starts as the identity); defaults hidden 64, depth 2; the coupling's conditioner
    maps n_a -> out_factor * n_b (affine: scale and shift)."""
    net = Conditioner(3, 4, hidden=5, depth=3)
    linears = [m for m in net.net if isinstance(m, torch.nn.Linear)]
    silus = [m for m in net.net if isinstance(m, torch.nn.SiLU)]
    assert [(m.in_features, m.out_features) for m in linears] == [(3, 5), (5, 5), (5, 5), (5, 4)]
    assert len(silus) == 3
    assert torch.equal(net(torch.randn(2, 3)), torch.zeros(2, 4))
    default = Conditioner(2, 2)
    assert [
        (m.in_features, m.out_features) for m in default.net if isinstance(m, torch.nn.Linear)
    ] == [
        (2, 64),
        (64, 64),
        (64, 2),
    ]
    one = Conditioner(1, 1, hidden=1, depth=1)
    assert len([m for m in one.net if isinstance(m, torch.nn.Linear)]) == 2
    aff = AffineCoupling(5, 1)  # parity 1: n_a = 3, n_b = 2
    lin = [m for m in aff.net.net if isinstance(m, torch.nn.Linear)]
    assert (lin[0].in_features, lin[-1].out_features) == (3, 4) and lin[0].out_features == 64
    assert len(lin) == 3  # default depth 2
    assert AffineCoupling(5).n_a == 2  # default parity 0: n_a = floor(5/2)
    add = AdditiveCoupling(5)  # parity 0: n_a = 2, n_b = 3
    lin = [m for m in add.net.net if isinstance(m, torch.nn.Linear)]
    assert (lin[0].in_features, lin[-1].out_features) == (2, 3) and len(lin) == 3
    assert lin[0].out_features == 64
    x = randn(2, 5)
    for layer in (AffineCoupling(5).double(), AdditiveCoupling(5, 1).double()):
        z, logdet = layer(x)
        assert torch.equal(z, x) and torch.equal(logdet, torch.zeros(2, dtype=F64))


def test_scaling_by_hand():
    """z = x e^s, log-det = sum s: s = (log 2, -log 4) doubles x_1, quarters x_2, log-det -log 2."""
    layer = Scaling(2).double()
    assert torch.equal(layer.log_scale, torch.zeros(2, dtype=F64))
    with torch.no_grad():
        layer.log_scale.copy_(torch.tensor([math.log(2), -math.log(4)], dtype=F64))
    x = torch.tensor([[1.0, 4.0], [-2.0, 8.0], [0.5, 0.0]], dtype=F64)
    z, logdet = layer(x)
    torch.testing.assert_close(z, torch.tensor([[2.0, 1.0], [-4.0, 2.0], [1.0, 0.0]], dtype=F64))
    torch.testing.assert_close(logdet, torch.full((3,), -math.log(2), dtype=F64))
    back, inv = layer.inverse(z)
    torch.testing.assert_close(back, x)
    torch.testing.assert_close(inv, torch.full((3,), math.log(2), dtype=F64))
    _check_layer(Scaling(1).double(), randn(2, 1))


def test_actnorm_initialisation_by_hand_and_its_eps():
    """Channel values (0, 2): mean 1, unbiased std sqrt 2, so b = -1, g = -log(sqrt 2 + 1e-6);
    a constant channel has std 0 and g = -log(eps), eps = 1e-6 by default (and as given).
    Exactly 2 values per channel is enough (one image of 2 pixels, or 2 vectors)."""
    x = torch.tensor([[0.0, 5.0], [2.0, 5.0]], dtype=F64)
    layer = ActNorm(2).double()
    layer(x)
    torch.testing.assert_close(layer.bias, torch.tensor([-1.0, -5.0], dtype=F64))
    torch.testing.assert_close(
        layer.log_scale, torch.tensor([-math.log(math.sqrt(2) + 1e-6), -math.log(1e-6)], dtype=F64)
    )
    custom = ActNorm(2, eps=1e-3).double()
    custom(x)
    torch.testing.assert_close(custom.log_scale[1], torch.tensor(-math.log(1e-3), dtype=F64))
    img = ActNorm(1).double()
    img(torch.tensor([[[[0.0, 2.0]]]], dtype=F64))  # (B, C, H, W) = (1, 1, 1, 2)
    torch.testing.assert_close(img.bias, torch.tensor([-1.0], dtype=F64))
    assert bool(img.initialized)


def test_actnorm_and_invconv_on_images_against_the_jacobian():
    """(B, C, H, W) = (2, 3, 2, 4): per-channel broadcasting and the H W factor of the log-det."""
    x = randn(2, 3, 2, 4, seed=6)  # C = 3 != W = 4: a channel must not broadcast along W
    act = ActNorm(3).double()
    act.initialized.fill_(True)
    _check_layer(_perturb(act, 7), x)
    torch.manual_seed(8)
    _check_layer(_perturb(InvertibleConv1x1(3), 8, 0.3), x)


def test_invconv_from_a_weight_that_needs_pivoting_and_its_random_rotation():
    """A 3x3 weight with a zero leading entry (LU must permute): W is rebuilt exactly and
    log-det = HW log|det W|, det W = 12 (by hand, along the first row: 0 - 1 (2*1 - 0*(-1))
    + 2 (2*3 - 1*(-1)) = -2 + 14). The default initialisation is a rotation: W W^T = I and
    log-det 0, drawn from the global RNG (same seed, same W)."""
    W = torch.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0], [-1.0, 3.0, 1.0]], dtype=F64)
    layer = InvertibleConv1x1.from_weight(W).double()
    torch.testing.assert_close(layer.weight(), W)
    _, logdet = layer(randn(2, 3, 2, 2, seed=9))
    torch.testing.assert_close(logdet, torch.full((2,), 4 * math.log(12), dtype=F64))
    _check_layer(layer, randn(3, 3, seed=10))
    torch.manual_seed(11)
    rot = InvertibleConv1x1(4).double()
    Wr = rot.weight()
    torch.testing.assert_close(Wr @ Wr.T, torch.eye(4, dtype=F64), atol=1e-6, rtol=0)
    assert abs(float(rot(randn(2, 4))[1][0].detach())) < 1e-6
    torch.manual_seed(11)
    assert torch.equal(InvertibleConv1x1(4).double().weight(), Wr)


def test_invconv_singularity_threshold_is_relative_and_inclusive():
    """A pivot is singular when |u_cc| <= 1e-12 max(1, max|W|): exactly at 1e-12 it is refused,
    at 1.5e-12 accepted; for max|W| = 1e3 the threshold is 1e-9."""
    with pytest.raises(ValueError, match="weight must be invertible, got a singular matrix"):
        InvertibleConv1x1.from_weight(torch.diag(torch.tensor([1.0, 1e-12], dtype=F64)))
    InvertibleConv1x1.from_weight(torch.diag(torch.tensor([1.0, 1.5e-12], dtype=F64)))
    InvertibleConv1x1.from_weight(torch.diag(torch.tensor([0.5, 1.5e-12], dtype=F64)))
    with pytest.raises(ValueError, match="singular"):
        InvertibleConv1x1.from_weight(torch.diag(torch.tensor([1e3, 0.9e-9], dtype=F64)))
    InvertibleConv1x1.from_weight(torch.diag(torch.tensor([1e3, 1.1e-9], dtype=F64)))


def test_permutations_reverse_by_default_and_random_ones_follow_the_seed():
    """'reverse' (the default) maps (x1, x2, x3) to (x3, x2, x1); 'random' is a permutation fixed
    by ``seed`` (default 0), a different seed gives another one; log-dets 0 both ways."""
    x = torch.tensor([[1.0, 2.0, 3.0]], dtype=F64)
    z, logdet = Permutation(3)(x)
    assert torch.equal(z, torch.tensor([[3.0, 2.0, 1.0]], dtype=F64))
    assert torch.equal(logdet, torch.zeros(1, dtype=F64))
    y = torch.arange(8.0, dtype=F64)[None]
    p0 = Permutation(8, "random")
    z0, _ = p0(y)
    assert torch.equal(z0.sort().values, y)
    assert torch.equal(Permutation(8, "random", seed=0)(y)[0], z0)
    assert not torch.equal(Permutation(8, "random", seed=1)(y)[0], z0)
    back, inv = p0.inverse(z0)
    assert torch.equal(back, y) and torch.equal(inv, torch.zeros(1, dtype=F64))


def test_invconv_singularity_is_judged_in_double_precision():
    """A float32 weight whose second row is exactly 3 x the first is singular; its LU in
    float32 leaves a rounding-size pivot (~6e-8, above the 1e-12 threshold), in float64 one
    of ~1e-16, so the weight must be factorised in double to be refused."""
    with pytest.raises(ValueError, match="singular"):
        InvertibleConv1x1.from_weight(torch.tensor([[1.0, 2.0], [3.0, 6.0]]))
    with pytest.raises(ValueError, match="singular"):  # row 3 = row 1 + row 2
        InvertibleConv1x1.from_weight(
            torch.tensor([[1.0, 3.0, 5.0], [2.0, 7.0, 11.0], [3.0, 10.0, 16.0]])
        )


def test_invconv_random_rotation_is_the_q_factor_of_a_double_gaussian_draw():
    """The default W is Q of the QR factorisation of a 4x4 float64 standard normal matrix drawn
    from the global RNG: replayed here with numpy's QR of the same seeded draw (columns up to
    sign), to float32 rounding of the stored factors."""
    torch.manual_seed(12)
    a = torch.randn(4, 4, dtype=F64).numpy()
    q, _ = np.linalg.qr(a)
    torch.manual_seed(12)
    W = InvertibleConv1x1(4).weight().detach().double().numpy()
    signs = np.sign(np.sum(W * q, axis=0))
    np.testing.assert_allclose(W, q * signs, rtol=0, atol=1e-6)


def test_invconv_float32_layer_follows_a_float64_input():
    """A float32 layer on float64 images: z = W x per pixel and both log-dets come back in float64;
    z by an explicit loop over pixels with the layer's W in double, log-det = HW log|det W|."""
    W = torch.tensor([[2.0, 1.0, 0.0], [0.5, 3.0, -1.0], [1.0, 0.0, 1.5]])
    layer = InvertibleConv1x1.from_weight(W)  # float32 parameters
    x = randn(2, 3, 2, 2, seed=13)
    z, logdet = layer(x)
    assert z.dtype == logdet.dtype == F64
    Wd = layer.weight().detach().double()
    for i, j in itertools.product(range(2), range(2)):
        torch.testing.assert_close(z[:, :, i, j], x[:, :, i, j] @ Wd.T)
    expected = 4 * math.log(abs(np.linalg.det(W.double().numpy())))
    torch.testing.assert_close(logdet, torch.full((2,), expected, dtype=F64), rtol=1e-6, atol=0)
    back, inv = layer.inverse(z)
    assert back.dtype == inv.dtype == F64
    torch.testing.assert_close(back, x)
    torch.testing.assert_close(inv, -logdet)


def test_invconv_weight_follows_the_parameter_dtype():
    """A bfloat16 layer builds W = P L U in bfloat16 (no float32 identity mixed in)."""
    W = torch.tensor([[2.0, 1.0], [0.5, 3.0]])
    layer = InvertibleConv1x1.from_weight(W).to(torch.bfloat16)
    Wb = layer.weight()
    assert Wb.dtype == torch.bfloat16
    torch.testing.assert_close(Wb.float(), W, rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: AdditiveCoupling(0), ValueError, r"dim must be >= 1, got 0"),
        (lambda: AdditiveCoupling(3.0), TypeError, r"dim must be an int, got float 3.0"),
        (
            lambda: AffineCoupling(1),
            ValueError,
            r"a coupling splits x into two parts, so dim must be >= 2, got 1",
        ),
        (lambda: AdditiveCoupling(3, parity=2), ValueError, r"parity must be 0 or 1, got 2"),
        (lambda: AffineCoupling(3, parity=-1), ValueError, r"parity must be 0 or 1, got -1"),
        (
            lambda: AdditiveCoupling(3)(torch.zeros(2, 4)),
            ValueError,
            r"x must have shape \(B, 3\), got \(2, 4\)",
        ),
        (
            lambda: AdditiveCoupling(3).inverse(torch.zeros(2, 3, 1)),
            ValueError,
            r"z must have shape \(B, 3\), got \(2, 3, 1\)",
        ),
        (
            lambda: AffineCoupling(3)(torch.zeros(2, 4)),
            ValueError,
            r"x must have shape \(B, 3\), got \(2, 4\)",
        ),
        (
            lambda: AffineCoupling(3).inverse(torch.zeros(2, 3, 1)),
            ValueError,
            r"z must have shape \(B, 3\), got \(2, 3, 1\)",
        ),
        (
            lambda: AdditiveCoupling(2)(torch.zeros(3)),
            ValueError,
            r"x must have at least 2 dimension\(s\), got shape \(3,\)",
        ),
        (
            lambda: AffineCoupling(2).inverse(torch.zeros(3)),
            ValueError,
            r"z must have at least 2 dimension\(s\), got shape \(3,\)",
        ),
        (
            lambda: AffineCoupling(2)(torch.ones(3, 2, dtype=torch.long)),
            TypeError,
            r"x must be a floating-point tensor, got dtype torch.int64",
        ),
        (
            lambda: AffineCoupling(2, clamp=-1.0),
            ValueError,
            r"clamp must be a finite number in \(0, inf\), got -1.0",
        ),
        (
            lambda: AffineCoupling(2, clamp=0.0),
            ValueError,
            r"clamp must be a finite number in \(0, inf\), got 0.0",
        ),
        (lambda: Conditioner(0, 2), ValueError, r"in_dim must be >= 1, got 0"),
        (lambda: Conditioner(2, 0), ValueError, r"out_dim must be >= 1, got 0"),
        (lambda: Conditioner(2, 2, hidden=0), ValueError, r"hidden must be >= 1, got 0"),
        (lambda: Conditioner(2, 2, depth=0), ValueError, r"depth must be >= 1, got 0"),
        (lambda: AffineCoupling(3, hidden=0), ValueError, r"hidden must be >= 1, got 0"),
        (lambda: AdditiveCoupling(3, depth=0), ValueError, r"depth must be >= 1, got 0"),
        (lambda: Scaling(0), ValueError, r"dim must be >= 1, got 0"),
        (
            lambda: Scaling(2)(torch.zeros(3, 3)),
            ValueError,
            r"x must have shape \(B, 2\), got \(3, 3\)",
        ),
        (
            lambda: Scaling(2).inverse(torch.zeros(2, 3)),
            ValueError,
            r"z must have shape \(B, 2\), got \(2, 3\)",
        ),
        (lambda: ActNorm(0), ValueError, r"channels must be >= 1, got 0"),
        (
            lambda: ActNorm(2, eps=0.0),
            ValueError,
            r"eps must be a finite number in \(0, inf\), got 0.0",
        ),
        (
            lambda: ActNorm(3)(torch.randn(4, 2)),
            ValueError,
            r"x must have 3 channels in dimension 1 \(shape \(B, 3, \.\.\.\)\), got shape \(4, 2\)",
        ),
        (
            lambda: ActNorm(3).inverse(torch.zeros(2, 2)),
            ValueError,
            r"z must have 3 channels in dimension 1 \(shape \(B, 3, \.\.\.\)\), got shape \(2, 2\)",
        ),
        (
            lambda: ActNorm(2)(torch.zeros(3)),
            ValueError,
            r"x must have at least 2 dimension\(s\), got shape \(3,\)",
        ),
        (
            lambda: ActNorm(2)(torch.zeros(1, 2, 1, 1)),
            ValueError,
            r"actnorm's data-dependent initialisation needs at least 2 values per channel, "
            r"got a batch of shape \(1, 2, 1, 1\)",
        ),
        (lambda: InvertibleConv1x1(0), ValueError, r"channels must be >= 1, got 0"),
        (
            lambda: InvertibleConv1x1(2)(torch.zeros(3, 3)),
            ValueError,
            r"x must have 2 channels in dimension 1 \(shape \(B, 2, \.\.\.\)\), got shape \(3, 3\)",
        ),
        (
            lambda: InvertibleConv1x1(2).inverse(torch.zeros(3, 3)),
            ValueError,
            r"z must have 2 channels in dimension 1 \(shape \(B, 2, \.\.\.\)\), got shape \(3, 3\)",
        ),
        (
            lambda: InvertibleConv1x1.from_weight([[1.0]]),
            TypeError,
            r"weight must be a torch.Tensor, got list",
        ),
        (
            lambda: InvertibleConv1x1.from_weight(torch.ones(3)),
            ValueError,
            r"weight must have at least 2 dimension\(s\), got shape \(3,\)",
        ),
        (
            lambda: InvertibleConv1x1.from_weight(torch.ones(2, 3)),
            ValueError,
            r"weight must be a square \(C, C\) matrix, got \(2, 3\)",
        ),
        (
            lambda: InvertibleConv1x1.from_weight(torch.ones(2, 2, 2)),
            ValueError,
            r"weight must be a square \(C, C\) matrix, got \(2, 2, 2\)",
        ),
        (
            lambda: InvertibleConv1x1.from_weight(torch.diag(torch.tensor([1.0, 0.0]))),
            ValueError,
            r"the 1x1 convolution's weight must be invertible, got a singular matrix",
        ),
        (lambda: Permutation(0), ValueError, r"dim must be >= 1, got 0"),
        (
            lambda: Permutation(3, "shuffle"),
            ValueError,
            r"kind must be 'reverse' or 'random', got 'shuffle'",
        ),
        (
            lambda: Permutation(3, "random", seed=1.5),
            TypeError,
            r"seed must be an int, got float 1.5",
        ),
        (
            lambda: Permutation(2)(torch.zeros(3, 3)),
            ValueError,
            r"x must have shape \(B, 2\), got \(3, 3\)",
        ),
        (
            lambda: Permutation(2).inverse(torch.zeros(3, 3)),
            ValueError,
            r"z must have shape \(B, 2\), got \(3, 3\)",
        ),
    ],
)
def test_layer_bad_inputs_name_the_problem(make, error, message):
    """The full message of each layer check, anchored (what was expected and what came);
    the smallest valid sizes (dim 2 for a coupling, 1 elsewhere) are accepted."""
    with pytest.raises(error, match=f"^{message}$"):
        make()


def test_layer_smallest_valid_sizes_are_accepted():
    """dim = 2 is the smallest coupling; 1 channel, 1 coordinate and a 1x1 Conditioner are valid."""
    AdditiveCoupling(2)
    AffineCoupling(2, clamp=1e-3)
    Conditioner(1, 1, hidden=1, depth=1)
    x = randn(3, 1)
    for layer in (Scaling(1), Permutation(1), ActNorm(1), InvertibleConv1x1(1)):
        z, logdet = layer.double()(x)
        assert z.shape == (3, 1) and logdet.shape == (3,)


# ============================================================================ flow.py


def test_standard_normal_log_prob_against_scipy_on_vectors_and_images():
    """log N(z; 0, I) = sum of 1-D standard normal log-densities (scipy), for d = 2 (by hand:
    -|z|^2/2 - log 2 pi), d = 3, and images (B, C, H, W) flattened to d = C H W = 8."""
    z = torch.tensor([[1.0, 2.0], [0.0, -1.0]], dtype=F64)
    torch.testing.assert_close(
        standard_normal_log_prob(z), torch.tensor([-2.5 - LOG_2PI, -0.5 - LOG_2PI], dtype=F64)
    )
    for shape in [(4, 3), (2, 2, 2, 2)]:
        zz = randn(*shape, seed=30)
        expected = stats.norm.logpdf(zz.reshape(shape[0], -1).numpy()).sum(axis=1)
        torch.testing.assert_close(standard_normal_log_prob(zz), torch.from_numpy(expected))
    with pytest.raises(
        ValueError, match=r"^z must have at least 2 dimension\(s\), got shape \(3,\)$"
    ):
        standard_normal_log_prob(torch.zeros(3))


def test_linear_flow_log_prob_is_the_gaussian_density_of_its_inverse():
    """A linear flow z = A x (A = diag(e^s) W, a 1x1 convolution then a scaling) maps N(0, I) back
    to x ~ N(0, (A^T A)^{-1}): log_prob against scipy's multivariate normal; the forward
    log-det is log|det A| and the inverse's its negative (numpy determinant); B = 4 != d = 3."""
    W = torch.tensor([[2.0, 1.0, 0.0], [0.5, 3.0, -1.0], [1.0, 0.0, 1.5]], dtype=F64)
    s = torch.tensor([0.3, -0.7, 0.2], dtype=F64)
    scaling = Scaling(3).double()
    with torch.no_grad():
        scaling.log_scale.copy_(s)
    flow = Flow([InvertibleConv1x1.from_weight(W).double(), scaling], 3)
    A = (torch.diag(torch.exp(s)) @ W).numpy()
    x = randn(4, 3, seed=31)
    expected = stats.multivariate_normal(np.zeros(3), np.linalg.inv(A.T @ A)).logpdf(x.numpy())
    torch.testing.assert_close(flow.log_prob(x), torch.from_numpy(expected).to(F64))
    logabsdet = math.log(abs(np.linalg.det(A)))
    z, logdet = flow(x)
    torch.testing.assert_close(logdet, torch.full((4,), logabsdet, dtype=F64))
    back, inv = flow.inverse(z)
    torch.testing.assert_close(back, x)
    torch.testing.assert_close(inv, torch.full((4,), -logabsdet, dtype=F64))


def test_an_empty_flow_is_the_standard_normal():
    """No layers: f = identity, log-det 0 for each of the B = 3 samples (d = 2), log p = log N."""
    flow = Flow([], 2)
    x = randn(3, 2, seed=32)
    for h, logdet in (flow(x), flow.inverse(x)):
        assert torch.equal(h, x) and torch.equal(logdet, torch.zeros(3, dtype=F64))
    expected = stats.multivariate_normal(np.zeros(2), np.eye(2)).logpdf(x.numpy())
    torch.testing.assert_close(flow.log_prob(x), torch.from_numpy(expected))
    one = Flow([Scaling(1).double()], 1)  # d = 1 is allowed
    torch.testing.assert_close(
        one.log_prob(x[:, :1]), torch.from_numpy(stats.norm.logpdf(x[:, 0].numpy()))
    )


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Flow([], 0), ValueError, r"dim must be >= 1, got 0"),
        (lambda: Flow([], 2.0), TypeError, r"dim must be an int, got float 2.0"),
        (
            lambda: Flow([Scaling(2), torch.nn.Linear(2, 2)], 2),
            TypeError,
            r"layer 1 must be a FlowLayer, got Linear",
        ),
        # actnorm and the 1x1 convolution accept images: only the flow's own check refuses them
        (
            lambda: Flow([ActNorm(2), InvertibleConv1x1(2)], 2)(torch.ones(2, 2, 1)),
            ValueError,
            r"x must have shape \(B, 2\), got \(2, 2, 1\)",
        ),
        (
            lambda: Flow([ActNorm(2), InvertibleConv1x1(2)], 2).inverse(torch.ones(2, 2, 1)),
            ValueError,
            r"z must have shape \(B, 2\), got \(2, 2, 1\)",
        ),
        (
            lambda: Flow([], 2)(torch.zeros(4, 3)),
            ValueError,
            r"x must have shape \(B, 2\), got \(4, 3\)",
        ),
        (
            lambda: Flow([], 2).inverse(torch.zeros(4, 3)),
            ValueError,
            r"z must have shape \(B, 2\), got \(4, 3\)",
        ),
        (
            lambda: Flow([], 2)(torch.zeros(3)),
            ValueError,
            r"x must have at least 2 dimension\(s\), got shape \(3,\)",
        ),
        (
            lambda: Flow([], 2).inverse(torch.zeros(3)),
            ValueError,
            r"z must have at least 2 dimension\(s\), got shape \(3,\)",
        ),
        (
            lambda: make_flow("maf"),
            ValueError,
            r"family must be one of \('nice', 'realnvp', 'glow'\), got 'maf'",
        ),
        (lambda: make_flow("nice", 1), ValueError, r"dim must be >= 2, got 1"),
        (lambda: make_flow("nice", 2.0), TypeError, r"dim must be an int, got float 2.0"),
        (lambda: make_flow("nice", 2, 0), ValueError, r"n_layers must be >= 1, got 0"),
        (lambda: make_flow("nice", 2, 1.0), TypeError, r"n_layers must be an int, got float 1.0"),
        # nice has no affine coupling, so only make_flow's own check sees the clamp
        (
            lambda: make_flow("nice", clamp=0.0),
            ValueError,
            r"clamp must be a finite number in \(0, inf\), got 0.0",
        ),
        (
            lambda: make_flow("nice", clamp=-1.0),
            ValueError,
            r"clamp must be a finite number in \(0, inf\), got -1.0",
        ),
        (lambda: make_flow("nice", seed=1.5), TypeError, r"seed must be an int, got float 1.5"),
        (lambda: jacobian_logdet(3, randn(2, 2)), TypeError, r"fn must be callable, got int"),
        (
            lambda: jacobian_logdet(lambda u: u, torch.zeros(3)),
            ValueError,
            r"x must have at least 2 dimension\(s\), got shape \(3,\)",
        ),
        (
            lambda: jacobian_logdet(lambda u: u[:, :2], randn(4, 3)),
            ValueError,
            r"fn must map R\^D to R\^D, got a Jacobian of shape \(2, 3\)",
        ),
        (lambda: logdet_timing([2], repeats=0), ValueError, r"repeats must be >= 1, got 0"),
        (
            lambda: logdet_timing([2], repeats=1.0),
            TypeError,
            r"repeats must be an int, got float 1.0",
        ),
        (lambda: logdet_timing([2, 0]), ValueError, r"dim must be >= 1, got 0"),
        (lambda: logdet_timing([2.0]), TypeError, r"dim must be an int, got float 2.0"),
        (lambda: logdet_timing([2], seed=1.5), TypeError, r"seed must be an int, got float 1.5"),
    ],
)
def test_flow_bad_inputs_name_the_problem(make, error, message):
    """The full message of each check of flow.py, anchored."""
    with pytest.raises(error, match=f"^{message}$"):
        make()


def _structure(flow: Flow) -> list[tuple]:
    """(kind, parity, clamp, conditioner widths) per layer; the permutation's index order."""
    out = []
    for layer in flow.layers:
        kind = type(layer).__name__
        if isinstance(layer, (AdditiveCoupling, AffineCoupling)):
            widths = [
                (m.in_features, m.out_features)
                for m in layer.net.net
                if isinstance(m, torch.nn.Linear)
            ]
            out.append((kind, layer.parity, getattr(layer, "clamp", None), widths))
        elif isinstance(layer, Permutation):
            out.append((kind, layer.perm.tolist()))
        else:
            out.append((kind,))
    return out


def test_make_flow_builds_each_family_layer_by_layer():
    """d = 3 (n_a = 1, n_b = 2 at parity 0; n_a = 2, n_b = 1 at parity 1), 3 steps, hidden 5,
    depth 1, clamp 0.7: nice alternates the halves and ends with a scaling; realnvp keeps
    parity 0 with a reversing permutation between couplings; glow stacks actnorm, 1x1
    convolution and an affine coupling of alternating parity (written out by hand)."""
    add0 = ("AdditiveCoupling", 0, None, [(1, 5), (5, 2)])
    add1 = ("AdditiveCoupling", 1, None, [(2, 5), (5, 1)])
    aff0 = ("AffineCoupling", 0, 0.7, [(1, 5), (5, 4)])
    aff1 = ("AffineCoupling", 1, 0.7, [(2, 5), (5, 2)])
    rev = ("Permutation", [2, 1, 0])
    step = [("ActNorm",), ("InvertibleConv1x1",)]
    kw = {"hidden": 5, "depth": 1, "clamp": 0.7}
    assert _structure(make_flow("nice", 3, 3, **kw)) == [add0, add1, add0, ("Scaling",)]
    assert _structure(make_flow("realnvp", 3, 3, **kw)) == [aff0, rev, aff0, rev, aff0]
    assert _structure(make_flow("glow", 3, 3, **kw)) == [*step, aff0, *step, aff1, *step, aff0]
    assert _structure(make_flow("realnvp", 3, 1, **kw)) == [aff0]  # n_layers = 1 is allowed
    clamp_half = make_flow("glow", 2, 1, clamp=0.5)
    assert clamp_half.layers[-1].clamp == 0.5


def test_make_flow_defaults():
    """dim 2, 8 steps, hidden 64, depth 2, clamp 2, seed 0."""
    flow = make_flow("realnvp")
    assert flow.dim == 2
    aff = ("AffineCoupling", 0, 2.0, [(1, 64), (64, 64), (64, 2)])
    assert _structure(flow) == [aff] + [("Permutation", [1, 0]), aff] * 7
    assert len(make_flow("nice").layers) == 9
    seeded = make_flow("glow", 2, 2, seed=0).state_dict()
    for key, value in make_flow("glow", 2, 2).state_dict().items():
        assert torch.equal(value, seeded[key]), key


def test_make_flow_is_seeded_and_leaves_the_global_rng_alone():
    """Same seed -> identical parameters whatever the global RNG state; another seed differs;
    the global RNG is where it was (the next draw equals a replay of the seed)."""

    def params(flow):
        return torch.cat([p.detach().flatten() for p in flow.parameters()])

    torch.manual_seed(40)
    a = params(make_flow("glow", 3, 2, hidden=4, seed=7))
    after = torch.rand(1)
    torch.manual_seed(40)
    assert torch.equal(after, torch.rand(1))
    torch.manual_seed(41)
    assert torch.equal(a, params(make_flow("glow", 3, 2, hidden=4, seed=7)))
    assert not torch.equal(a, params(make_flow("glow", 3, 2, hidden=4, seed=8)))


def test_jacobian_logdet_by_hand_for_a_nonlinear_map_and_a_layer_returning_a_tuple():
    """f(u) = (u_0^3 + u_1, 2 sin u_1): J = [[3 u_0^2, 1], [0, 2 cos u_1]], log|det| =
    log|6 u_0^2 cos u_1| (by hand), B = 4 != d = 2. A layer (returning (z, logdet)) is taken
    whole: the Jacobian of its first output; a scaling by e^s has log|det| = sum s."""
    x = randn(4, 2, seed=33)

    def f(u):
        return torch.stack([u[:, 0] ** 3 + u[:, 1], 2 * torch.sin(u[:, 1])], dim=1)

    expected = torch.log((6 * x[:, 0] ** 2 * torch.cos(x[:, 1])).abs())
    torch.testing.assert_close(jacobian_logdet(f, x), expected)
    layer = Scaling(3).double()
    with torch.no_grad():
        layer.log_scale.copy_(torch.tensor([0.5, -1.0, 2.0], dtype=F64))
    torch.testing.assert_close(
        jacobian_logdet(layer, randn(2, 3)), torch.full((2,), 1.5, dtype=F64)
    )
    img = randn(2, 1, 2, 3, seed=34)  # u -> 2u on 6 pixels: log|det| = 6 log 2
    torch.testing.assert_close(
        jacobian_logdet(lambda u: 2 * u, img), torch.full((2,), 6 * math.log(2), dtype=F64)
    )


def test_logdet_timing_times_seeded_shifted_gaussian_matrices(monkeypatch):
    """Each d gets one warm-up and ``repeats`` timed slogdet calls (default 5) of the matrix
    randn(d, d) + sqrt(d) I drawn from a generator seeded with ``seed`` (default 0; one generator
    for all d, in order) in ``dtype`` (default float32), replayed here; the global RNG is not
    used. Each result is a non-negative time below the whole call's duration."""
    seen = []
    real = torch.linalg.slogdet

    def spy(a):
        seen.append(a.clone())
        return real(a)

    monkeypatch.setattr(torch.linalg, "slogdet", spy)

    def replay(dims, seed, dtype):
        g = gen(seed)
        return [
            torch.randn(d, d, generator=g, dtype=dtype) + math.sqrt(d) * torch.eye(d, dtype=dtype)
            for d in dims
        ]

    for kwargs, dims, repeats, seed, dtype in [
        ({}, [3, 2], 5, 0, torch.float32),
        ({"repeats": 1, "seed": 7, "dtype": F64}, [1, 3], 1, 7, F64),
    ]:
        seen.clear()
        torch.manual_seed(50)
        t0 = time.perf_counter()
        times = logdet_timing(dims, **kwargs)
        elapsed = time.perf_counter() - t0
        after = torch.rand(1)
        torch.manual_seed(50)
        assert torch.equal(after, torch.rand(1))
        assert len(times) == len(dims)
        assert all(0 <= t <= elapsed for t in times)
        expected = [a for a in replay(dims, seed, dtype) for _ in range(repeats + 1)]
        assert len(seen) == len(expected)
        for got, want in zip(seen, expected, strict=True):
            assert got.dtype == dtype
            torch.testing.assert_close(got, want, rtol=0, atol=1e-14)


@pytest.mark.gpu
def test_logdet_timing_on_cuda_times_the_seeded_matrix_there(monkeypatch):
    """device='cuda': the CPU-seeded draw plus sqrt(d) I is built on the GPU and timed there."""
    seen = []
    real = torch.linalg.slogdet

    def spy(a):
        seen.append(a)
        return real(a)

    monkeypatch.setattr(torch.linalg, "slogdet", spy)
    times = logdet_timing([3], repeats=1, device="cuda", dtype=F64, seed=2)
    assert len(times) == 1 and times[0] >= 0
    want = torch.randn(3, 3, generator=gen(2), dtype=F64) + math.sqrt(3) * torch.eye(3, dtype=F64)
    assert len(seen) == 2
    for a in seen:
        assert a.is_cuda
        torch.testing.assert_close(a.cpu(), want, rtol=0, atol=1e-14)
