"""Tests for course_lib.diffusion.edm: families, predictions, preconditioning, samplers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.diffusion import (
    EDM,
    VE,
    VP,
    VPSDE,
    EDMPrecond,
    Flow,
    TrainConfig,
    ddim_step,
    edm_loss,
    edm_sample,
    edm_sigmas,
    eps_from_denoiser,
    from_denoised,
    gaussian,
    loss_weight,
    make_schedule,
    ode_derivative,
    precond_coefficients,
    score_from_denoiser,
    stochastic_sample,
    to_denoised,
    toy_mixture,
    train_denoiser,
)
from course_lib.diffusion.nets import MLP
from course_lib.diffusion.samplers import Trajectory

F64 = torch.float64
FAMILIES = [VP(), VE(), Flow(), EDM()]


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- families ---------------------------------------------------------------------------
def test_vp_family_matches_part1_vp_sde():
    t = torch.linspace(1e-3, 1.0, 200, dtype=F64)
    fam, sde = VP(0.1, 20.0), VPSDE(0.1, 20.0)
    a, b = fam.mean_std(t)
    assert torch.allclose(a, sde.a(t), rtol=0, atol=1e-15)
    assert torch.allclose(b, sde.std(t), rtol=0, atol=1e-15)
    assert torch.allclose(fam.sigma(t), sde.sigma(t), rtol=1e-13)


def test_flow_family_is_linear_interpolation():
    t = torch.linspace(0.0, 0.99, 50, dtype=F64)
    a, b = Flow().mean_std(t)
    assert torch.allclose(a, 1 - t, atol=1e-15) and torch.allclose(b, t, atol=1e-15)


@pytest.mark.parametrize("fam", FAMILIES, ids=lambda f: f.name)
def test_family_derivatives_and_inverse(fam):
    t = torch.linspace(0.05, 0.9, 17, dtype=F64)
    h = 1e-6
    fd_sig = (fam.sigma(t + h) - fam.sigma(t - h)) / (2 * h)
    fd_s = (fam.s(t + h) - fam.s(t - h)) / (2 * h)
    assert torch.allclose(fam.dsigma(t), fd_sig, rtol=1e-7, atol=1e-8)
    assert torch.allclose(fam.ds(t), fd_s, rtol=1e-7, atol=1e-8)
    assert torch.allclose(fam.t_of_sigma(fam.sigma(t)), t, rtol=1e-12)


def test_family_bad_inputs():
    with pytest.raises(ValueError):
        Flow().sigma(1.0)
    with pytest.raises(ValueError):
        VP().sigma(1.5)
    with pytest.raises(ValueError):
        EDM().sigma(-0.1)
    with pytest.raises(ValueError):
        VP().t_of_sigma(1e6)  # beyond sigma(1)
    with pytest.raises(ValueError):
        VP(beta_min=0.0)


def test_ode_derivative_matches_part1_pf_ode_on_vp():
    """(9.3) for the VP family equals f x - g^2/2 grad log p_t of part 1's VP SDE (8.5)."""
    mix, fam, sde = toy_mixture(), VP(), VPSDE()
    x = torch.randn(64, 2, generator=_gen(1), dtype=F64)
    for t in (0.05, 0.3, 0.9):
        tt = torch.tensor(t, dtype=F64)
        score = score_from_denoiser(mix.denoiser, x, sde.a(tt), sde.std(tt))
        ref = sde.f(tt) * x - 0.5 * sde.g(tt) ** 2 * score
        got = ode_derivative(mix.denoiser, fam, x, t)
        assert torch.allclose(got, ref, rtol=1e-10, atol=1e-10)


# --- predictions ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["x0", "score", "eps", "v", "flow"])
def test_prediction_round_trip(kind):
    x = torch.randn(32, 2, generator=_gen(2), dtype=F64)
    d = torch.randn(32, 2, generator=_gen(3), dtype=F64)
    sigma = torch.rand(32, generator=_gen(4), dtype=F64) * 5 + 0.01
    back = to_denoised(kind, from_denoised(kind, d, x, sigma), x, sigma)
    assert torch.allclose(back, d, rtol=1e-12, atol=1e-12)


def test_predictions_match_definitions():
    mix = toy_mixture()
    x = torch.randn(40, 2, generator=_gen(5), dtype=F64) * 2
    sigma = 0.7
    d = mix.denoiser(x, sigma)
    assert torch.allclose(from_denoised("score", d, x, sigma), mix.score(x, 1.0, sigma), atol=1e-12)
    assert torch.allclose(from_denoised("eps", d, x, sigma), mix.eps(x, 1.0, sigma), atol=1e-12)
    # v = alpha eps - sigma_vp x_0 for known x_0, eps (denoised = x_0 makes eps exact)
    x0 = torch.randn(40, 2, generator=_gen(6), dtype=F64)
    eps = torch.randn(40, 2, generator=_gen(7), dtype=F64)
    xs = x0 + sigma * eps
    alpha, sig_vp = 1 / math.sqrt(1 + sigma**2), sigma / math.sqrt(1 + sigma**2)
    assert torch.allclose(from_denoised("v", x0, xs, sigma), alpha * eps - sig_vp * x0, atol=1e-12)
    # flow velocity = x_1 - x_0 for x_t = (1 - t) x_0 + t x_1, scaled input x_t / (1 - t)
    t = sigma / (1 + sigma)
    xt = (1 - t) * x0 + t * eps
    assert torch.allclose(from_denoised("flow", x0, xt / (1 - t), sigma), eps - x0, atol=1e-12)


def test_prediction_bad_inputs():
    x = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="kind"):
        from_denoised("noise", x, x, 1.0)
    with pytest.raises(ValueError, match="sigma > 0"):
        from_denoised("eps", x, x, 0.0)
    with pytest.raises(ValueError, match="shape"):
        to_denoised("eps", torch.zeros(3, 3), x, 1.0)
    with pytest.raises(TypeError):
        from_denoised("eps", [1.0], x, 1.0)


# --- preconditioning --------------------------------------------------------------------
@pytest.mark.parametrize("sigma", [0.002, 0.1, 0.5, 2.0, 80.0])
def test_preconditioning_unit_variances(sigma):
    """c_in x and the effective target (y - c_skip x)/c_out have unit variance (eq. 9.5-9.6)."""
    sd, n = 0.5, 400_000
    gen = _gen(8)
    y = sd * torch.randn(n, generator=gen, dtype=F64)
    x = y + sigma * torch.randn(n, generator=gen, dtype=F64)
    c_skip, c_out, c_in, c_noise = precond_coefficients(sigma, sd)
    assert abs(float((c_in * x).var()) - 1) < 0.01
    assert abs(float(((y - c_skip * x) / c_out).var()) - 1) < 0.01
    assert math.isclose(float(c_noise), math.log(sigma) / 4)
    assert math.isclose(float(loss_weight(sigma, sd) * c_out**2), 1.0, rel_tol=1e-12)


def test_preconditioning_bad_inputs():
    with pytest.raises(ValueError):
        precond_coefficients(0.0)
    with pytest.raises(ValueError):
        precond_coefficients(1.0, sigma_data=-1.0)
    with pytest.raises(TypeError):
        EDMPrecond("not a net")


class _Zero(nn.Module):
    def forward(self, x, c):
        return torch.zeros_like(x)


def test_edm_precond_forward_and_loss_of_zero_network():
    """D = c_skip x + c_out F; with F = 0 the loss is E[target^2] = 1 for data of std sigma_data."""
    sd = 0.5
    model = EDMPrecond(_Zero(), sd)
    x = torch.randn(10, 2, generator=_gen(9), dtype=F64)
    c_skip, *_ = precond_coefficients(torch.full((10,), 0.3, dtype=F64), sd)
    assert torch.allclose(model(x, torch.tensor(0.3, dtype=F64)), c_skip[:, None] * x)
    y = sd * torch.randn(200_000, 2, generator=_gen(10), dtype=F64)
    loss = edm_loss(model, y, generator=_gen(11))
    assert abs(float(loss) - 1) < 0.02
    with pytest.raises(TypeError):
        edm_loss(_Zero(), y)
    with pytest.raises(ValueError):
        edm_loss(model, y, P_std=0.0)


class _ExactF(nn.Module):
    """The raw network F* = (D* - c_skip x)/c_out of the exact mixture denoiser D* (eq. 9.5)."""

    def __init__(self, mix, sd):
        super().__init__()
        self.mix, self.sd = mix, sd

    def forward(self, x_in, c):
        sigma = (4 * c).exp()
        c_skip, c_out, c_in, _ = precond_coefficients(sigma, self.sd)
        x = x_in / c_in[:, None]
        return (self.mix.denoiser(x, sigma) - c_skip[:, None] * x) / c_out[:, None]


def test_edm_training_lands_between_zero_and_exact(tmp_path):
    """The weighted loss (9.6): exact denoiser <= trained network < the skip-only network F = 0."""
    sd, mix = 0.5, toy_mixture()
    cfg = TrainConfig(
        net="edm_mlp", objective="edm", steps=300, hidden=64, depth=2, extra={"sigma_data": sd}
    )
    res = train_denoiser(cfg, cache_folder=tmp_path, progress=False)
    assert isinstance(res.model, EDMPrecond) and res.model.sigma_data == sd
    y = mix.sample(50_000, generator=_gen(20), dtype=F64)

    def loss(m):
        return float(edm_loss(m, y, generator=_gen(21)))

    exact, zero = loss(EDMPrecond(_ExactF(mix, sd), sd)), loss(EDMPrecond(_Zero(), sd))
    trained = loss(res.model.double())
    assert exact - 0.02 < trained < 0.85 * zero, (exact, trained, zero)
    assert train_denoiser(cfg, cache_folder=tmp_path, progress=False).from_cache


# --- time steps -------------------------------------------------------------------------
def test_edm_sigmas():
    s = edm_sigmas(18, sigma_min=0.002, sigma_max=80.0, rho=7.0)
    assert s.shape == (19,) and s[-1] == 0
    assert math.isclose(float(s[0]), 80.0) and math.isclose(float(s[-2]), 0.002, rel_tol=1e-12)
    assert torch.all(s[1:] < s[:-1])
    inner = s[:-1] ** (1 / 7)  # uniform in sigma^(1/rho)
    assert torch.allclose(inner[1:] - inner[:-1], (inner[1] - inner[0]).expand(17), atol=1e-12)
    lin = edm_sigmas(5, sigma_min=1.0, sigma_max=5.0, rho=1.0)
    assert torch.allclose(lin, torch.tensor([5.0, 4, 3, 2, 1, 0], dtype=F64))
    with pytest.raises(ValueError):
        edm_sigmas(10, sigma_min=5.0, sigma_max=1.0)
    with pytest.raises(TypeError):
        edm_sigmas(10.0)


# --- samplers ---------------------------------------------------------------------------
def test_ddim_is_euler_on_the_edm_ode():
    """One DDIM (eta = 0) step on x_t equals one Euler step of dx/dsigma = (x - D)/sigma on
    x_t / sqrt(ab_t), eq. (9.8)."""
    mix, sched = toy_mixture(), make_schedule("linear", 1000)
    ab = sched.alpha_bars
    x = torch.randn(50, 2, generator=_gen(12), dtype=F64)
    for t, tp in ((900, 700), (400, 390), (50, 1)):
        x0_hat, eps_hat = eps_from_denoiser(mix.denoiser, x, ab[t].sqrt(), (1 - ab[t]).sqrt())
        ddim = ddim_step(x, x0_hat, eps_hat, ab[t], ab[tp], 0.0)
        sig = ((1 - ab[[t, tp]]) / ab[[t, tp]]).sqrt()
        euler = edm_sample(mix.denoiser, x / ab[t].sqrt(), sig, family=EDM(), solver="euler")
        assert euler.nfe == 1
        assert torch.allclose(euler.x * ab[tp].sqrt(), ddim, rtol=1e-12, atol=1e-12)


def _gaussian_error(solver: str, n: int, family) -> float:
    """|x(sigma_end) - exact| for data N(0, c^2 I): x(sigma) = x(sigma_0) sqrt((c^2 + sigma^2)/
    (c^2 + sigma_0^2)) in the scaled variable (the PF-ODE map is linear)."""
    c, s_hi, s_lo = 0.7, 5.0, 0.05
    mix = gaussian(torch.zeros(2), c**2 * torch.eye(2))
    sig = edm_sigmas(n, sigma_min=s_lo, sigma_max=s_hi, rho=7.0)[:-1]  # no final zero
    xs = torch.randn(20, 2, generator=_gen(13), dtype=F64) * math.sqrt(c**2 + s_hi**2)
    t0, t1 = family.t_of_sigma(sig[0]), family.t_of_sigma(sig[-1])
    out = edm_sample(mix.denoiser, xs * family.s(t0), sig, family=family, solver=solver).x
    exact = xs * math.sqrt((c**2 + s_lo**2) / (c**2 + s_hi**2)) * family.s(t1)
    return float((out - exact).abs().max())


@pytest.mark.parametrize("family", [EDM(), VP(), Flow()], ids=lambda f: f.name)
def test_heun_is_second_order_euler_first(family):
    ns = np.array([8, 16, 32, 64])
    heun = [_gaussian_error("heun", int(n), family) for n in ns]
    euler = [_gaussian_error("euler", int(n), family) for n in ns]
    slope_h = np.polyfit(np.log(ns), np.log(heun), 1)[0]
    slope_e = np.polyfit(np.log(ns), np.log(euler), 1)[0]
    assert -2.4 < slope_h < -1.7, heun
    assert -1.3 < slope_e < -0.8, euler


def test_sampler_nfe_and_stochastic_reduces_to_heun():
    mix = toy_mixture()
    sig = edm_sigmas(10)
    x = 80.0 * torch.randn(100, 2, generator=_gen(14), dtype=F64)
    path = Trajectory()
    heun = edm_sample(mix.denoiser, x, sig, solver="heun", callback=path)
    euler = edm_sample(mix.denoiser, x, sig, solver="euler")
    assert heun.nfe == 2 * 10 - 1 and euler.nfe == 10
    assert path.stack(heun).shape == (11, 100, 2)
    st = stochastic_sample(mix.denoiser, x, sig, S_churn=0.0)
    assert st.nfe == heun.nfe and torch.allclose(st.x, heun.x, atol=1e-12)
    a = stochastic_sample(mix.denoiser, x, sig, S_churn=40.0, generator=_gen(15))
    b = stochastic_sample(mix.denoiser, x, sig, S_churn=40.0, generator=_gen(15))
    assert torch.equal(a.x, b.x) and not torch.allclose(a.x, heun.x)


def test_sampler_bad_inputs():
    mix, x = toy_mixture(), torch.zeros(4, 2, dtype=F64)
    with pytest.raises(ValueError, match="solver"):
        edm_sample(mix.denoiser, x, edm_sigmas(4), solver="rk4")
    with pytest.raises(ValueError, match="decreasing"):
        edm_sample(mix.denoiser, x, torch.tensor([1.0, 2.0], dtype=F64))
    with pytest.raises(TypeError, match="family"):
        edm_sample(mix.denoiser, x, edm_sigmas(4), family="vp")
    with pytest.raises(TypeError):
        edm_sample("nope", x, edm_sigmas(4))
    with pytest.raises(ValueError):
        stochastic_sample(mix.denoiser, x, edm_sigmas(4), S_churn=-1.0)
    with pytest.raises(ValueError):
        stochastic_sample(mix.denoiser, x, edm_sigmas(4), S_tmin=2.0, S_tmax=1.0)


def test_edm_precond_mlp_runs_in_samplers():
    model = EDMPrecond(MLP(2, 16, 1, 8), 0.5).double()
    x = torch.randn(5, 2, generator=_gen(16), dtype=F64)
    out = edm_sample(model, x, edm_sigmas(3), solver="heun")
    assert out.x.shape == (5, 2) and torch.all(torch.isfinite(out.x))
