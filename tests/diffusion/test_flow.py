"""Tests for course_lib.diffusion.flow: paths, marginal velocity, loss, sampling, reflow."""

from __future__ import annotations

import math

import pytest
import torch

from course_lib.diffusion import (
    Flow,
    TrainConfig,
    VelocityNet,
    cfm_loss,
    conditional_path,
    conditional_velocity,
    flow_euler_sample,
    from_denoised,
    gaussian,
    mixture_velocity,
    mmd,
    ode_derivative,
    reflow_pairs,
    straightness,
    toy_mixture,
    train_denoiser,
)
from course_lib.diffusion.flow_objectives import exact_reflow_pool
from course_lib.diffusion.samplers import Trajectory

F64 = torch.float64


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_conditional_path_and_velocity():
    x0 = torch.randn(10, 2, generator=_gen(1), dtype=F64)
    x1 = torch.randn(10, 2, generator=_gen(2), dtype=F64)
    assert torch.allclose(conditional_path(x0, x1, 0.0), x0)
    assert torch.allclose(conditional_path(x0, x1, 1.0), x1)
    h, t = 1e-6, 0.37
    fd = (conditional_path(x0, x1, t + h) - conditional_path(x0, x1, t - h)) / (2 * h)
    assert torch.allclose(fd, conditional_velocity(x0, x1), atol=1e-8)
    with pytest.raises(ValueError, match="shape"):
        conditional_path(x0, x1[:5], 0.5)
    with pytest.raises(ValueError, match="t must lie"):
        conditional_path(x0, x1, 1.5)


@pytest.mark.parametrize("t", [0.15, 0.5, 0.85])
def test_mixture_velocity_matches_monte_carlo(t):
    """v(x, t) = E[x_1 - x_0 | x_t = x] by self-normalised importance sampling over x_0."""
    mix = toy_mixture()
    x = torch.tensor([[0.3, -0.2], [1.2, 0.8], [-1.0, -0.5]], dtype=F64)
    x0 = mix.sample(400_000, generator=_gen(3), dtype=F64)
    # p(x_t = x | x_0) = N(x; (1 - t) x_0, t^2 I): posterior weights of the samples x_0
    logw = -((x[:, None, :] - (1 - t) * x0[None]) ** 2).sum(-1) / (2 * t**2)
    w = torch.softmax(logw, dim=1)
    x1 = (x[:, None, :] - (1 - t) * x0[None]) / t  # x_1 fixed by (x_t, x_0)
    mc = (w[..., None] * (x1 - x0[None])).sum(1)
    # standard error of a self-normalised importance-sampling mean: sqrt(sum w^2 (f - mean)^2)
    se = ((w[..., None] ** 2) * (x1 - x0[None] - mc[:, None]) ** 2).sum(1).sqrt()
    assert torch.all(1 / (w**2).sum(1) > 300)  # effective sample size
    err = (mixture_velocity(mix, x, t) - mc).abs()
    assert torch.all(err < 5 * se + 1e-3), (err, se)


def test_mixture_velocity_is_the_flow_family_ode():
    """(10.2) = the EDM ODE (9.3) of the Flow family = the 'flow' prediction of (9.4)."""
    mix = toy_mixture()
    x = torch.randn(30, 2, generator=_gen(4), dtype=F64)
    for t in (0.1, 0.6, 0.95):
        v = mixture_velocity(mix, x, t)
        assert torch.allclose(v, ode_derivative(mix.denoiser, Flow(), x, t), atol=1e-11)
        sigma = t / (1 - t)
        xs = x / (1 - t)
        pred = from_denoised("flow", mix.denoiser(xs, sigma), xs, sigma)
        assert torch.allclose(v, pred, atol=1e-11)
    assert torch.allclose(mixture_velocity(mix, x, 1.0), x - mix.mean())


def test_gaussian_flow_reaches_closed_form():
    """Data N(0, c^2 I): the flow ODE maps x_1 to x_0 = c x_1; Euler error falls like 1/k."""
    c = 0.6
    mix = gaussian(torch.zeros(2), c**2 * torch.eye(2))
    x1 = torch.randn(50, 2, generator=_gen(5), dtype=F64)

    def v(x, t):
        return mixture_velocity(mix, x, t)

    errs = [float((flow_euler_sample(v, x1, k).x - c * x1).abs().max()) for k in (50, 100, 200)]
    assert errs[2] < 0.02
    assert 1.7 < errs[0] / errs[1] < 2.3 and 1.7 < errs[1] / errs[2] < 2.3


def test_cfm_loss_minimised_by_marginal_velocity():
    mix = toy_mixture()
    x0 = mix.sample(100_000, generator=_gen(6), dtype=F64)

    def exact(x, t):
        return mixture_velocity(mix, x, t.clamp(min=1e-4))

    losses = [
        float(cfm_loss(lambda x, t, b=b: exact(x, t) + b, x0, generator=_gen(7)))
        for b in (0.0, 0.1, -0.1)
    ]
    assert losses[0] < min(losses[1:])
    # a bias b adds exactly |b|^2 = 2 b^2 (per-coordinate mean: b^2) to the loss
    assert math.isclose(losses[1] - losses[0], 0.01, rel_tol=0.1)


def test_flow_sampler_and_straightness():
    point = gaussian(torch.tensor([1.0, -1.0]), 1e-6 * torch.eye(2))
    x1 = torch.randn(200, 2, generator=_gen(8), dtype=F64)

    def v(x, t):
        return mixture_velocity(point, x, t)

    # a (near) point mass: every path is a straight line, one Euler step is exact
    assert straightness(v, x1, 20) < 1e-4
    one = flow_euler_sample(v, x1, 1)
    assert one.nfe == 1 and torch.allclose(one.x, torch.tensor([1.0, -1.0], dtype=F64), atol=1e-2)
    mix = toy_mixture()
    assert straightness(lambda x, t: mixture_velocity(mix, x, t), x1, 20) > 0.3
    path = Trajectory()
    traj = path.stack(flow_euler_sample(v, x1, 4, callback=path))
    assert traj.shape == (5, 200, 2) and torch.equal(traj[0], x1)


def test_reflow_straightens_and_keeps_the_marginal(tmp_path):
    mix = toy_mixture()
    pool = exact_reflow_pool()
    assert pool.shape[1] == 4
    ref = mix.sample(4000, generator=_gen(9))
    assert mmd(pool[:4000, :2], ref) < 0.06  # the coupled x_0 follow the data
    cfg = TrainConfig(
        data="toy_mixture_reflow",
        net="velocity_mlp",
        objective="reflow",
        steps=600,
        hidden=64,
        depth=3,
    )
    model = train_denoiser(cfg, cache_folder=tmp_path, progress=False).model
    assert isinstance(model, VelocityNet)
    x1 = torch.randn(2000, 2, generator=_gen(10))

    def exact(x, t):
        return mixture_velocity(mix, x.double(), t.double()).float()

    s_before, s_after = straightness(exact, x1, 50), straightness(model, x1, 50)
    assert s_after < 0.1 * s_before, (s_before, s_after)
    m_before = mmd(flow_euler_sample(exact, x1, 1).x, ref)
    m_after = mmd(flow_euler_sample(model, x1, 1).x, ref)
    assert m_after < m_before / 3, (m_before, m_after)


def test_reflow_pairs_and_bad_inputs():
    mix = toy_mixture()

    def v(x, t):
        return mixture_velocity(mix, x, t)

    x0, x1 = reflow_pairs(v, 7, n_steps=5, generator=_gen(11))
    assert x0.shape == x1.shape == (7, 2)
    assert torch.allclose(x0, flow_euler_sample(v, x1, 5).x)
    with pytest.raises(TypeError):
        flow_euler_sample("v", x1, 3)
    with pytest.raises(ValueError):
        flow_euler_sample(v, x1, 0)
    with pytest.raises(ValueError, match="t > 0"):
        mixture_velocity(mix, x1, 0.0)
    with pytest.raises(TypeError):
        mixture_velocity("mix", x1, 0.5)
    with pytest.raises(TypeError):
        VelocityNet("net")
