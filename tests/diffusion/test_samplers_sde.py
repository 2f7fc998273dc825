"""Samplers, SDEs and exact mixture scores: each check fails if a formula is wrong."""

import math

import pytest
import torch

from course_lib.diffusion import (
    VESDE,
    VPSDE,
    GaussianMixture,
    SubVPSDE,
    Trajectory,
    annealed_langevin,
    data_floor,
    ddim_invert,
    ddim_sample,
    ddim_sigma,
    ddpm_sample,
    eps_from_denoiser,
    gaussian,
    geometric_sigmas,
    make_schedule,
    mmd,
    pf_ode_euler,
    pf_ode_heun,
    posterior_coefficients,
    reverse_sde_em,
    ring_mixture,
    score_from_denoiser,
    time_grid,
    toy_mixture,
)
from course_lib.diffusion.samplers import run_sampler


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# --- mixtures ------------------------------------------------------------------------
def test_mixture_score_is_the_gradient_of_its_log_density():
    mix = toy_mixture()
    x = torch.randn(50, 2, generator=gen(), dtype=torch.float64).requires_grad_(True)
    for a, s in ((1.0, 0.0), (0.8, 0.6), (0.1, 0.995)):
        (g,) = torch.autograd.grad(mix.log_prob(x, a, s).sum(), x)
        assert torch.allclose(mix.score(x.detach(), a, s), g, rtol=1e-9, atol=1e-10)


def test_mixture_density_integrates_to_one():
    mix = toy_mixture()
    g = torch.linspace(-7, 7, 701, dtype=torch.float64)
    X, Y = torch.meshgrid(g, g, indexing="xy")
    p = (
        mix.log_prob(torch.stack([X.reshape(-1), Y.reshape(-1)], 1), 0.7, 0.5)
        .exp()
        .reshape(701, 701)
    )
    assert math.isclose(float(torch.trapezoid(torch.trapezoid(p, g), g)), 1.0, rel_tol=1e-6)


def test_denoiser_is_the_posterior_mean_by_monte_carlo():
    """Tweedie / (6.4): D(x; sigma) = E[x_0 | x_0 + sigma eps = x], estimated by importance
    weights."""
    mix = ring_mixture(4, 1.5, 0.3)
    sigma = 0.7
    x = torch.tensor([[0.4, 1.1], [-1.0, -0.2]], dtype=torch.float64)
    x0 = mix.sample(400000, generator=gen(1), dtype=torch.float64)
    logw = -((x[:, None, :] - x0[None]) ** 2).sum(-1) / (2 * sigma**2)  # likelihood of x given x_0
    w = torch.softmax(logw, dim=1)
    est = w @ x0
    ess = 1 / (w**2).sum(1)
    se = x0.std(0) / ess.sqrt()[:, None]
    assert torch.all((est - mix.denoiser(x, sigma)).abs() < 5 * se)


def test_eps_and_score_from_denoiser_agree_with_the_mixture():
    mix = toy_mixture()
    x = torch.randn(20, 2, generator=gen(2), dtype=torch.float64)
    a, s = 0.6, 0.8
    x0_hat, eps_hat = eps_from_denoiser(mix.denoiser, x, a, s)
    assert torch.allclose(eps_hat, mix.eps(x, a, s), atol=1e-10)
    assert torch.allclose(x0_hat, mix.posterior_mean(x, a, s), atol=1e-10)
    assert torch.allclose(score_from_denoiser(mix.denoiser, x, a, s), mix.score(x, a, s), atol=1e-9)


# --- DDPM / DDIM -----------------------------------------------------------------------
def test_ddim_sigma_at_eta_one_is_the_posterior_variance():
    sch = make_schedule("cosine", 100)
    ab = sch.alpha_bars
    for t in (2, 30, 100):
        _, _, var = posterior_coefficients(ab[t], ab[t - 1])
        assert math.isclose(
            float(ddim_sigma(ab[t], ab[t - 1], 1.0) ** 2), float(var), rel_tol=1e-12
        )


def test_ddim_eta_one_equals_ddpm_on_adjacent_steps():
    """Same noise draws: DDIM(eta=1) over all T steps reproduces DDPM ancestral sampling."""
    mix = toy_mixture()
    sch = make_schedule("linear", 100)
    x_T = torch.randn(64, 2, generator=gen(3), dtype=torch.float64)
    path_a, path_b = Trajectory(), Trajectory()
    a = ddpm_sample(mix.denoiser, x_T, schedule=sch, generator=gen(4), callback=path_a)
    b = ddim_sample(mix.denoiser, x_T, schedule=sch, eta=1.0, generator=gen(4), callback=path_b)
    assert a.nfe == b.nfe == 100
    assert torch.allclose(path_a.stack(a), path_b.stack(b), atol=1e-9)
    c = ddim_sample(mix.denoiser, x_T, schedule=sch, eta=0.0, generator=gen(4))
    assert not torch.allclose(a.x, c.x, atol=1e-3)  # eta = 0 is a different sampler


def test_ddim_keeps_the_marginals_for_gaussian_data():
    """For data N(m, c^2 I), DDIM with any eta maps N(0, I)-like x_T to the data law."""
    m, c = 0.5, 0.3
    g = gaussian(torch.full((2,), m, dtype=torch.float64), c**2 * torch.eye(2, dtype=torch.float64))
    sch = make_schedule("linear", 1000)
    for eta in (0.0, 0.5):
        x_T = torch.randn(20000, 2, generator=gen(5), dtype=torch.float64)
        x = ddim_sample(
            g.denoiser, x_T, sch.timesteps(100), schedule=sch, eta=eta, generator=gen(6)
        ).x
        assert abs(float(x.mean()) - m) < 5 * c / math.sqrt(x.numel())
        assert abs(float(x.std()) - c) < 0.02


def test_ddim_inversion_error_shrinks_with_steps():
    mix = toy_mixture()
    sch = make_schedule("linear", 1000)
    x0 = mix.sample(200, generator=gen(7), dtype=torch.float64)
    errs = []
    for n in (10, 50, 250):
        ts = sch.timesteps(n)
        z = ddim_invert(mix.denoiser, x0, ts, schedule=sch).x
        back = ddim_sample(mix.denoiser, z, ts, schedule=sch).x
        errs.append(float((back - x0).norm(dim=1).mean()))
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 0.2 * errs[0]
    assert errs[2] < 0.05


def test_exact_score_samplers_reach_the_data_floor():
    """With the exact score and enough steps each sampler's MMD is within 2x the data floor.

    Tolerance: the floor is the mean MMD of 5 pairs of fresh data samples (n = 2000); a sample
    from the right law gives about the floor, and 2x leaves room for its sampling noise (the
    floor's standard deviation is 15-25 % of its mean) while components 30 % too wide or
    too narrow already exceed 2x (see test_mmd_sees_a_wrong_spread).
    """
    mix = toy_mixture()
    sch, sde = make_schedule(), VPSDE()
    n = 2000
    floor, _ = data_floor(lambda k, g: mix.sample(k, generator=g), n, generator=gen(8))
    for name, steps, eta in (
        ("ddim", 50, 0.0),
        ("ddpm", 200, 0.0),
        ("ddim", 200, 1.0),
        ("sde_em", 500, 0.0),
        ("pf_heun", 50, 0.0),
    ):
        res = run_sampler(
            name,
            mix.denoiser,
            n,
            steps,
            schedule=sch,
            sde=sde,
            eta=eta,
            generator=gen(9),
            dtype=torch.float64,
        )
        score = mmd(res.x, mix.sample(n, generator=gen(10)))
        assert score < 2 * floor, f"{name} ({steps} steps): MMD {score:.4f} vs floor {floor:.4f}"
    # and the metric does see a wrong distribution
    wrong = run_sampler("ddim", mix.denoiser, n, 2, schedule=sch, sde=sde, generator=gen(9)).x
    assert mmd(wrong, mix.sample(n, generator=gen(10))) > 3 * floor


def test_mmd_sees_a_wrong_spread():
    mix = toy_mixture()
    n = 2000
    floor, _ = data_floor(lambda k, g: mix.sample(k, generator=g), n, generator=gen(20))
    for factor in (0.7, 1.3):
        wrong = GaussianMixture(mix.weights, mix.means, mix.covs * factor**2)
        assert mmd(wrong.sample(n, generator=gen(21)), mix.sample(n, generator=gen(22))) > 2 * floor


# --- SDEs and the probability-flow ODE ---------------------------------------------------
@pytest.mark.parametrize("sde", [VPSDE(), SubVPSDE(), VESDE(0.01, 10.0)], ids=["vp", "subvp", "ve"])
def test_sde_marginals_solve_the_moment_odes(sde):
    """da/dt = f a and d(s^2)/dt = 2 f s^2 + g^2 (autograd on t)."""
    t = torch.linspace(0.05, 0.95, 7, dtype=torch.float64).requires_grad_(True)
    a, s2 = sde.a(t) + 0 * t, sde.std(t) ** 2  # (+ 0 t keeps VE's constant a(t) in the graph)
    (da,) = torch.autograd.grad(a.sum(), t)
    (ds2,) = torch.autograd.grad(s2.sum(), t)
    td = t.detach()
    assert torch.allclose(da, sde.f(td) * a.detach(), rtol=1e-8)
    assert torch.allclose(ds2, 2 * sde.f(td) * s2.detach() + sde.g(td) ** 2, rtol=1e-8)
    assert float(sde.std(0.0)) == 0.0 and math.isclose(float(sde.a(0.0)), 1.0)


def test_vp_sde_is_the_limit_of_the_ddpm_chain():
    """log alpha_bar_i = sum log(1 - beta(t_j)/N) -> -B(t_i) = log a(t_i)^2 with an O(1/N) error."""
    sde = VPSDE(0.1, 20.0)
    errs = []
    for N in (100, 1000):
        ab = sde.discretize(N).alpha_bars
        t = torch.arange(N + 1, dtype=torch.float64) / N
        errs.append(float((ab.log() - 2 * sde.a(t).log()).abs().max()))
    assert 7 < errs[0] / errs[1] < 13  # first order in 1/N
    assert errs[1] < 0.1


@pytest.mark.parametrize("sde", [VPSDE(), SubVPSDE(), VESDE(0.01, 10.0)], ids=["vp", "subvp", "ve"])
def test_pf_ode_matches_the_closed_form_for_gaussian_data(sde):
    """Data N(m, c^2): x(t) = a(t) m + sqrt(v(t)/v(1)) (x(1) - a(1) m), v = a^2 c^2 + s^2."""
    m, c = (
        torch.tensor([0.5, -1.0], dtype=torch.float64),
        torch.tensor([0.3, 0.8], dtype=torch.float64),
    )
    g = gaussian(m, torch.diag(c**2))
    x1 = sde.prior_std() * torch.randn(100, 2, generator=gen(11), dtype=torch.float64)
    t0, t1 = torch.tensor(1e-3, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)

    def v(t):
        return sde.a(t) ** 2 * c**2 + sde.std(t) ** 2

    exact = sde.a(t0) * m + (v(t0) / v(t1)).sqrt() * (x1 - sde.a(t1) * m)
    errs = {}
    for solver in (pf_ode_euler, pf_ode_heun):
        errs[solver.__name__] = [
            float((solver(g.denoiser, x1, time_grid(n), sde=sde).x - exact).abs().max())
            for n in (50, 200)
        ]
    e_euler, e_heun = errs["pf_ode_euler"], errs["pf_ode_heun"]
    assert e_euler[1] < e_euler[0] / 2.5  # first order: 4x the steps -> about 4x smaller
    assert e_heun[1] < e_heun[0] / 8  # second order: about 16x smaller
    assert e_heun[1] < 1e-3


def test_reverse_sde_recovers_gaussian_data():
    m, c = 0.5, 0.4
    g = gaussian(
        torch.full((1,), m, dtype=torch.float64), torch.tensor([[c**2]], dtype=torch.float64)
    )
    sde = VPSDE()
    x1 = torch.randn(20000, 1, generator=gen(12), dtype=torch.float64)
    x = reverse_sde_em(g.denoiser, x1, time_grid(500), sde=sde, generator=gen(13)).x
    assert abs(float(x.mean()) - m) < 5 * c / math.sqrt(x.numel()) + 0.01
    assert abs(float(x.std()) - c) < 0.02


def test_annealed_langevin_reaches_the_target_for_gaussian_data():
    c = 0.5
    g = gaussian(torch.zeros(1, dtype=torch.float64), torch.tensor([[c**2]], dtype=torch.float64))
    sig = geometric_sigmas(5.0, 0.01, 10)
    x = 5.0 * torch.randn(5000, 1, generator=gen(14), dtype=torch.float64)
    res = annealed_langevin(g.denoiser, x, sig, n_steps_each=100, step_lr=2e-5, generator=gen(15))
    # the last level's law is N(0, c^2 + 0.01^2); Langevin's step bias is O(step)
    assert abs(float(res.x.std()) - math.sqrt(c**2 + 1e-4)) < 0.03
    assert res.nfe == 1000


def test_samplers_reject_bad_input():
    mix = toy_mixture()
    sch = make_schedule("linear", 100)
    x = torch.zeros(4, 2)
    with pytest.raises(TypeError, match="denoiser must be callable"):
        ddim_sample("exact", x, schedule=sch)
    with pytest.raises(ValueError, match="strictly decreasing"):
        ddim_sample(mix.denoiser, x, torch.tensor([1, 50]), schedule=sch)
    with pytest.raises(ValueError, match="eta must be"):
        ddim_sample(mix.denoiser, x, schedule=sch, eta=-1.0)
    with pytest.raises(ValueError, match="sigma2 must be"):
        ddpm_sample(mix.denoiser, x, schedule=sch, sigma2="learned")
    with pytest.raises(TypeError, match="sde must be an SDE"):
        pf_ode_euler(mix.denoiser, x, time_grid(5), sde="vp")
    with pytest.raises(ValueError, match="strictly decreasing"):
        pf_ode_euler(mix.denoiser, x, time_grid(5).flip(0), sde=VPSDE())
    with pytest.raises(ValueError, match="sampler must be one of"):
        run_sampler("euler", mix.denoiser, 4, 5, schedule=sch, sde=VPSDE())
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        ddim_sample(mix.denoiser, x, schedule=sch, eta=0.5, generator=0)
    with pytest.raises(ValueError, match="t must lie in"):
        VPSDE().a(1.5)
    with pytest.raises(ValueError, match="x must have shape"):
        mix.score(torch.zeros(3, 3))
    with pytest.raises(ValueError, match="positive definite"):
        gaussian(torch.zeros(2), torch.diag(torch.tensor([1.0, -1.0])))


def test_dsm_loss_is_smallest_at_the_score_and_equals_scaled_eps_loss():
    from course_lib.diffusion import dsm_loss

    mix = toy_mixture()
    x0 = mix.sample(20000, generator=gen(30), dtype=torch.float64)
    sigma = 0.4

    def exact(x, s):
        return mix.score(x, 1.0, s)

    def wide(x, s):
        return mix.score(x, 1.0, 1.3 * s)

    # same noise draws (same seed): a paired comparison
    le = dsm_loss(exact, x0, sigma, generator=gen(31))
    lw = dsm_loss(wide, x0, sigma, generator=gen(31))
    assert float(lw) > float(le)
    # sigma^2 ||s + eps/sigma||^2 = ||eps - eps_hat||^2 with eps_hat = -sigma s
    eps = torch.randn(x0.shape, generator=gen(31), dtype=torch.float64)
    eps_hat = -sigma * mix.score(x0 + sigma * eps, 1.0, sigma)
    assert torch.isclose(le, ((eps - eps_hat) ** 2).sum(1).mean(), rtol=1e-10)
    with pytest.raises(ValueError, match=r"sigma must lie in \(0, inf\) \(finite\), got 0.0..0.0"):
        dsm_loss(exact, x0, 0.0)


def test_more_bad_inputs():
    from course_lib.diffusion import sample_toy

    mix = toy_mixture()
    x = torch.zeros(4, 2)
    with pytest.raises(ValueError, match="strictly decreasing"):
        annealed_langevin(mix.denoiser, x, [0.1, 1.0])
    with pytest.raises(TypeError, match="n_steps_each must be an int"):
        annealed_langevin(mix.denoiser, x, [1.0, 0.1], n_steps_each=2.5)
    with pytest.raises(ValueError, match="unknown toy data set"):
        sample_toy("swiss_roll", 10)
    with pytest.raises(ValueError, match="sigma_max"):
        VESDE(1.0, 0.5)
    with pytest.raises(ValueError, match="t_min"):
        time_grid(10, t_min=0.0)
