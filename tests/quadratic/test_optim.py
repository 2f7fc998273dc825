"""Optimisers on quadratics: measured rates against theory, Newton, CG termination, bounds."""

import math

import pytest
import torch

from course_lib.quadratic import (
    QuadraticForm,
    cg_error_bound,
    conjugate_gradient,
    gd_optimal_step,
    gd_rate,
    gd_rate_for_step,
    gradient_descent,
    heavy_ball,
    heavy_ball_parameters,
    heavy_ball_rate,
    heavy_ball_rate_for,
    measured_rate,
    newton,
    random_spd,
)

F64 = torch.float64


def _problem(n, kappa, seed, spectrum="geometric", batch=3):
    g = torch.Generator().manual_seed(seed)
    H, mu = random_spd(n, kappa, spectrum=spectrum, generator=g)
    p = torch.randn(n, generator=g, dtype=F64)
    f = QuadraticForm.from_half_form(H, p, 0.0)
    x0 = torch.randn(batch, n, generator=g, dtype=F64)
    return f, mu, x0, torch.linalg.solve(H, p)


def _steps_to(rho, tol=1e-10):
    return int(math.log(tol) / math.log(rho))


def test_random_spd_has_the_asked_spectrum():
    H, mu = random_spd(30, 250.0, generator=torch.Generator().manual_seed(0))
    ev = torch.linalg.eigvalsh(H)
    assert torch.allclose(ev, mu, rtol=1e-10)
    assert math.isclose(float(ev[-1] / ev[0]), 250.0, rel_tol=1e-9)
    assert torch.allclose(H, H.T)


@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
@pytest.mark.parametrize("spectrum", ["geometric", "uniform"])
def test_gradient_descent_rate_matches_theory(kappa, spectrum):
    f, mu, x0, x_star = _problem(40, kappa, seed=int(kappa), spectrum=spectrum)
    eta = gd_optimal_step(float(mu[0]), float(mu[-1]))
    K = _steps_to(gd_rate(kappa))
    err = (gradient_descent(f, x0, eta, K) - x_star).norm(dim=-1)  # (K + 1, batch)
    for b in range(x0.shape[0]):
        rate = measured_rate(err[:, b])
        assert abs(rate / gd_rate(kappa) - 1) < 0.10
        # and the exponent -log(rate), which a rate near 1 hides, within 10 % too
        assert abs(math.log(rate) / math.log(gd_rate(kappa)) - 1) < 0.10
    # a plausible slip, the step of the other form (half of eta*), is measurably slower
    slow = (gradient_descent(f, x0, eta / 2, K) - x_star).norm(dim=-1)
    assert abs(math.log(measured_rate(slow[:, 0])) / math.log(gd_rate(kappa)) - 1) > 0.3
    assert float(slow[-1, 0]) > 10 * float(err[-1, 0])


def test_gradient_descent_error_follows_the_eigenbasis_recursion():
    f, mu, x0, x_star = _problem(12, 30.0, seed=5, batch=1)
    H = f.hessian()
    lam, V = torch.linalg.eigh(H)
    eta, K = 0.05, 25
    hist = gradient_descent(f, x0[0], eta, K)
    e0 = V.T @ (x0[0] - x_star)
    for k in (1, 7, 25):  # e_k = V diag((1 - η μ)^k) Vᵀ e_0   (5.1)
        assert torch.allclose(hist[k] - x_star, V @ ((1 - eta * lam) ** k * e0), atol=1e-12)
    assert math.isclose(
        gd_rate_for_step(gd_optimal_step(1.0, 30.0), mu), gd_rate(30.0), rel_tol=1e-12
    )
    # any other step is slower
    for eta in (0.5 * 2 / 31, 1.2 * 2 / 31):
        assert gd_rate_for_step(eta, mu) > gd_rate(30.0)


@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_heavy_ball_rate_matches_theory(kappa):
    f, mu, x0, x_star = _problem(40, kappa, seed=7 + int(kappa))
    alpha, beta = heavy_ball_parameters(float(mu[0]), float(mu[-1]))
    rho = heavy_ball_rate(kappa)
    K = _steps_to(rho)
    err = (heavy_ball(f, x0, alpha, beta, K) - x_star).norm(dim=-1)
    for b in range(x0.shape[0]):
        rate = measured_rate(err[:, b])
        assert abs(rate / rho - 1) < 0.10
        assert abs(math.log(rate) / math.log(rho) - 1) < 0.10
    # the companion matrices' spectral radius is the closed form, and it beats GD
    assert math.isclose(heavy_ball_rate_for(alpha, beta, mu), rho, rel_tol=1e-6)
    assert rho < gd_rate(kappa)
    assert math.isclose(math.sqrt(beta), rho, rel_tol=1e-12)


def test_newton_converges_in_one_step_from_any_start():
    f, _, x0, x_star = _problem(15, 1e4, seed=9, batch=6)
    hist = newton(f, x0, 2)
    assert hist.shape == (3, 6, 15)
    assert torch.allclose(hist[1], x_star.expand(6, 15), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("n", [2, 5, 12])
def test_cg_terminates_in_at_most_n_steps(n):
    f, mu, x0, x_star = _problem(n, 50.0, seed=n, spectrum="uniform")
    hist = conjugate_gradient(f, x0, n)
    scale = (x0 - x_star).norm(dim=-1)
    assert float(((hist[n] - x_star).norm(dim=-1) / scale).max()) < 1e-10
    if n > 2:  # and not earlier: n distinct eigenvalues need all n steps
        assert float(((hist[n - 2] - x_star).norm(dim=-1) / scale).min()) > 1e-6


def test_cg_finishes_in_as_many_steps_as_distinct_eigenvalues():
    g = torch.Generator().manual_seed(2)
    U, _ = torch.linalg.qr(torch.randn(9, 9, generator=g, dtype=F64))
    mu = torch.tensor([1.0, 1, 1, 4, 4, 4, 9, 9, 9], dtype=F64)
    f = QuadraticForm.from_half_form((U * mu) @ U.T, torch.randn(9, generator=g, dtype=F64))
    x0 = torch.zeros(9, dtype=F64)
    hist = conjugate_gradient(f, x0, 3)
    x_star = f.stationary_point()
    assert float((hist[3] - x_star).norm() / x_star.norm()) < 1e-10
    assert float((hist[2] - x_star).norm() / x_star.norm()) > 1e-4


@pytest.mark.parametrize("kappa", [30.0, 1000.0])
def test_cg_obeys_the_chebyshev_bound_in_the_energy_norm(kappa):
    f, mu, x0, x_star = _problem(200, kappa, seed=11)
    H = f.hessian()
    K = 40
    e = conjugate_gradient(f, x0, K) - x_star
    energy = ((e @ H) * e).sum(-1).sqrt()  # ‖e_k‖_H
    ratio = energy / energy[0]
    for k in range(K + 1):
        assert bool((ratio[k] <= cg_error_bound(kappa, k) * (1 + 1e-9)).all()), k
    # the energy norm never increases (x_k minimises over a growing subspace)
    assert bool((energy[1:] <= energy[:-1] * (1 + 1e-12)).all())


def test_theory_helpers_and_bad_inputs():
    assert gd_optimal_step(1.0, 9.0) == 0.2
    assert gd_rate(1.0) == 0.0 and heavy_ball_rate(1.0) == 0.0
    assert math.isclose(cg_error_bound(100.0, 2), 2 * (9 / 11) ** 2)
    assert math.isclose(measured_rate([1.0, 0.5, 0.25, 0.125, 0.0625]), 0.5)
    f, _, x0, _ = _problem(4, 10.0, seed=0)
    with pytest.raises(ValueError, match="mu_max must be"):
        gd_optimal_step(2.0, 1.0)
    with pytest.raises(ValueError, match="mu_min must be"):
        heavy_ball_parameters(0.0, 1.0)
    with pytest.raises(ValueError, match="kappa must be"):
        gd_rate(0.5)
    with pytest.raises(ValueError, match="step must be"):
        gradient_descent(f, x0, -1.0, 3)
    with pytest.raises(ValueError, match="momentum must be"):
        heavy_ball(f, x0, 0.1, 1.0, 3)
    with pytest.raises(ValueError, match=r"x0 must have shape \(\.\.\., 4\)"):
        gradient_descent(f, torch.zeros(3, dtype=F64), 0.1, 3)
    with pytest.raises(TypeError, match="QuadraticForm"):
        newton(torch.eye(4), x0)
    with pytest.raises(ValueError, match="positive definite"):
        conjugate_gradient(
            QuadraticForm(torch.diag(torch.tensor([1.0, -1.0], dtype=F64))),
            torch.zeros(2, dtype=F64),
            2,
        )
    with pytest.raises(ValueError, match="positive and finite"):
        measured_rate([1.0, 0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="spectrum must be"):
        random_spd(4, 10.0, spectrum="random")
    with pytest.raises(TypeError, match="n_steps must be an int"):
        newton(f, x0, 1.0)


def _dtype_device_run(dtype, device):
    g = torch.Generator(device=device).manual_seed(0)
    H, mu = random_spd(16, 20.0, generator=g, dtype=dtype, device=device)
    p = torch.randn(16, generator=g, dtype=dtype, device=device)
    f = QuadraticForm.from_half_form(H, p)
    x0 = torch.randn(5, 16, generator=g, dtype=dtype, device=device)
    x_star = torch.linalg.solve(H.double(), p.double())
    eta = gd_optimal_step(float(mu[0]), float(mu[-1]))
    alpha, beta = heavy_ball_parameters(float(mu[0]), float(mu[-1]))
    for hist in (
        gradient_descent(f, x0, eta, 300),
        heavy_ball(f, x0, alpha, beta, 120),
        conjugate_gradient(f, x0, 24),  # n = 16 steps plus a few for rounding
        newton(f, x0, 1),
    ):
        assert hist.dtype == dtype and hist.device.type == torch.device(device).type
        assert hist.shape[1:] == (5, 16)
        err = (hist[-1].double() - x_star).norm(dim=-1) / (x0.double() - x_star).norm(dim=-1)
        assert float(err.max()) < (1e-4 if dtype == torch.float32 else 1e-9)


def test_optimisers_follow_dtype_and_batch_on_cpu():
    _dtype_device_run(torch.float32, "cpu")
    _dtype_device_run(torch.float64, "cpu")


@pytest.mark.gpu
def test_optimisers_run_on_cuda():
    _dtype_device_run(torch.float32, "cuda")
    _dtype_device_run(torch.float64, "cuda")
