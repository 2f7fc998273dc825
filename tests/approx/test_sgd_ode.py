"""SGD / MBGD / BGD as RM (5.x) on least squares and mean estimation; the ODE view (6.x)."""

import math

import numpy as np
import pytest
import torch

from course_lib.approx import (
    PROBLEMS,
    PowerStep,
    gradient_noise_ratio,
    least_squares_grad,
    least_squares_loss,
    least_squares_solution,
    robbins_monro,
    sgd_least_squares,
    sgd_least_squares_moments,
    sgd_mean,
    solve_mean_ode,
    tanh_flow,
)
from course_lib.checks import assert_within_se

F64 = torch.float64


def data(n=40, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, dtype=F64, generator=g)
    y = X @ torch.arange(1.0, d + 1, dtype=F64) + 0.5 * torch.randn(n, dtype=F64, generator=g)
    return X, y


def test_gradient_matches_autograd_and_minimiser_matches_normal_equations():
    X, y = data()
    w = torch.randn(5, 3, dtype=F64, requires_grad=True)
    (auto,) = torch.autograd.grad(least_squares_loss(X, y, w).sum(), w)
    assert torch.allclose(least_squares_grad(X, y, w), auto, atol=1e-12)
    w_star = least_squares_solution(X, y)
    assert torch.allclose(w_star, torch.linalg.solve(X.T @ X, X.T @ y), atol=1e-10)
    assert least_squares_grad(X, y, w_star).abs().max() < 1e-12


@pytest.mark.parametrize("batch_size", [1, 4, None])
def test_sgd_error_on_least_squares_matches_exact_moments(batch_size):
    X, y = data()
    w_star, n = least_squares_solution(X, y), 200
    runs = 4000 if batch_size else 50  # BGD is deterministic: a few runs show it
    sched = PowerStep(1.0, 1.0, 4.0)
    w1 = torch.zeros(3, dtype=F64)
    it = sgd_least_squares(
        X,
        y,
        w1.expand(runs, 3),
        sched,
        n,
        batch_size=batch_size,
        generator=torch.Generator().manual_seed(1),
    )
    _, P = sgd_least_squares_moments(X, y, w1, sched, n, batch_size=batch_size)
    for k in (20, n):
        e2 = ((it[k] - w_star) ** 2).sum(-1)
        exact = float(P[k].trace())
        if batch_size is None:  # BGD is deterministic
            assert torch.allclose(e2, torch.full_like(e2, exact), rtol=1e-10)
        else:
            assert_within_se(e2.mean(), exact, e2.std() / math.sqrt(runs), label=f"E|e_{k}|^2")
    # started at w*, the error is all gradient noise, and a batch of 8 divides it by ~8
    _, P1 = sgd_least_squares_moments(X, y, w_star, sched, n, batch_size=1)
    _, P8 = sgd_least_squares_moments(X, y, w_star, sched, n, batch_size=8)
    assert 6 < float(P1[-1].trace() / P8[-1].trace()) < 10


def test_gradient_noise_ratio_far_and_near():
    X, y = data()
    w_star = least_squares_solution(X, y)
    n = X.shape[0]
    u = torch.tensor([1.0, -1.0, 0.5], dtype=F64)
    s = torch.logspace(-4, 4, 9, dtype=F64)
    ratio = gradient_noise_ratio(X, y, w_star + s[:, None] * u)
    H = X.T @ X / n
    r = X @ w_star - y
    near = float((r**2 * (X**2).sum(1)).mean() / (H @ u).square().sum())  # E|b_i|^2 / |Hu|^2
    A = torch.einsum("ni,nj->nij", X, X)
    far = float(((A @ u - H @ u) ** 2).sum(-1).mean() / (H @ u).square().sum())
    assert math.isclose(float(ratio[0] * s[0] ** 2), near, rel_tol=1e-3)
    assert math.isclose(float(ratio[-1]), far, rel_tol=1e-3)
    assert bool((ratio[:3] > 100 * far).all())  # near w*: far noisier than far away


def test_mean_estimation_with_one_over_k_is_the_sample_mean_of_all_draws():
    g = torch.Generator().manual_seed(3)
    pts = torch.randn(100, 2, dtype=F64, generator=g)
    runs, k, m = 5000, 50, 4
    it = sgd_mean(pts, torch.zeros(runs, 2, dtype=F64), PowerStep(), k, batch_size=m, generator=g)
    mu = pts.mean(0)
    var_pt = ((pts - mu) ** 2).sum(1).mean()  # tr Cov of one uniform draw
    e2 = ((it[k] - mu) ** 2).sum(-1)
    assert_within_se(e2.mean(), var_pt / (k * m), e2.std() / math.sqrt(runs), label="MBGD")
    bgd = sgd_mean(pts, torch.zeros(1, 2, dtype=F64), PowerStep(), 3, batch_size=None)
    assert torch.allclose(bgd[1:, 0], mu.expand(3, 2), atol=1e-14)  # a_1 = 1 jumps to the mean


def test_tanh_flow_solves_the_ode_and_rm_tracks_it():
    t = torch.linspace(0, 6, 61, dtype=F64)
    ref = solve_mean_ode(lambda w: np.tanh(w - 1.0), 3.0, t)
    assert torch.allclose(tanh_flow(3.0, t), ref, atol=1e-8)
    gaps = []
    for c in (0.2, 0.1, 0.05):  # a_k = c / (1 + c k): t_k grows like log, steps shrink with c
        sched = PowerStep(1.0, 1.0, 1.0 / c)
        w = robbins_monro(PROBLEMS["tanh"].g, torch.tensor(3.0, dtype=F64), sched, 4000)
        gaps.append(float((w - tanh_flow(3.0, sched.partial_sums(4000))).abs().max()))
    assert all(1.7 < gaps[i] / gaps[i + 1] < 2.3 for i in range(2)), gaps  # Euler: O(step)


def test_bad_inputs():
    X, y = data()
    with pytest.raises(ValueError, match="same n"):
        sgd_least_squares(X, y[:-1], torch.zeros(2, 3, dtype=F64), PowerStep(), 3)
    with pytest.raises(ValueError, match="last dimension d = 3"):
        sgd_least_squares(X, y, torch.zeros(2, 2, dtype=F64), PowerStep(), 3)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        sgd_mean(X, torch.zeros(2, 3, dtype=F64), PowerStep(), 3, batch_size=0)
    with pytest.raises(ValueError, match="full column rank"):
        least_squares_solution(torch.ones(5, 2, dtype=F64), torch.ones(5, dtype=F64))
    with pytest.raises(ValueError, match="t must lie in"):
        tanh_flow(3.0, -1.0)
    with pytest.raises(ValueError, match="non-decreasing"):
        solve_mean_ode(np.tanh, 1.0, torch.tensor([1.0, 0.5]))
