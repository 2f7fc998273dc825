"""Per-mode quality checks and MMD power on planted faults; the derivation routes of Chapter 05."""

import math

import pytest
import sympy as sp
import torch

from course_lib.diffusion import (
    VESDE,
    VPSDE,
    GaussianMixture,
    ddim_step,
    elbo_terms,
    gaussian,
    make_schedule,
    posterior_coefficients,
    toy_mixture,
)
from course_lib.diffusion.derivations import (
    ddim_coefficients,
    fokker_planck_residual,
    implicit_score_matching,
    neg_elbo_monte_carlo,
    posterior_by_completing_square,
    posterior_mean_mc,
)
from course_lib.diffusion.metrics import (
    check_modes,
    mmd,
    mmd2_unbiased,
    mode_statistics,
)

F64 = torch.float64
MIX = toy_mixture()


def _faults():
    wide = GaussianMixture(MIX.weights, MIX.means, 1.3**2 * MIX.covs)  # every mode 30 % too wide
    w = MIX.weights.clone()
    w[4] = 1e-9
    missing = GaussianMixture(w, MIX.means, MIX.covs)  # a 15 % mode lost
    equal = GaussianMixture(torch.ones(5), MIX.means, MIX.covs)  # wrong mode weights
    return {"30% too wide": wide, "mode missing": missing, "equal weights": equal}


def test_mode_statistics_recover_the_truth():
    x = MIX.sample(50_000, generator=torch.Generator().manual_seed(0))
    st = mode_statistics(MIX, x)
    assert torch.all((st["weights"] - MIX.weights).abs() < 4 * st["weights_se"])
    assert torch.all((st["covs"] - MIX.covs).abs() < 4 * st["covs_se"] + 1e-12)
    assert torch.all((st["width"] - 2).abs() < 4 * st["width_se"])


@pytest.mark.parametrize("seed", range(5))
def test_check_modes_passes_true_samples_at_n_1000(seed):
    x = MIX.sample(1000, generator=torch.Generator().manual_seed(100 + seed))
    assert check_modes(MIX, x) < 4


@pytest.mark.parametrize("fault", ["30% too wide", "mode missing", "equal weights"])
@pytest.mark.parametrize("seed", range(3))
def test_check_modes_fails_planted_faults_at_n_1000(fault, seed):
    x = _faults()[fault].sample(1000, generator=torch.Generator().manual_seed(seed))
    with pytest.raises(AssertionError, match="allowed"):
        check_modes(MIX, x, label=fault)


def test_two_floor_mmd_rule_misses_a_too_wide_mixture_but_not_a_missing_mode():
    """The documented limit of 'MMD < 2 x floor' at n = 1000 (metrics module docstring)."""
    g = torch.Generator().manual_seed(3)
    floor = (
        sum(mmd(MIX.sample(1000, generator=g), MIX.sample(1000, generator=g)) for _ in range(5)) / 5
    )
    faults = _faults()
    wide = mmd(faults["30% too wide"].sample(1000, generator=g), MIX.sample(1000, generator=g))
    missing = mmd(faults["mode missing"].sample(1000, generator=g), MIX.sample(1000, generator=g))
    assert missing > 2 * floor
    assert wide < 2 * floor  # the weakness that per-mode checks cover


def test_mmd2_unbiased_is_centred_under_the_null():
    g = torch.Generator().manual_seed(9)
    vals = torch.tensor(
        [
            mmd2_unbiased(MIX.sample(200, generator=g), MIX.sample(200, generator=g))
            for _ in range(15)
        ]
    )
    assert abs(float(vals.mean())) < 4 * float(vals.std()) / math.sqrt(15)


def test_quality_inputs_are_checked():
    with pytest.raises(TypeError, match="GaussianMixture"):
        mode_statistics("mixture", torch.zeros(5, 2))
    with pytest.raises(ValueError, match="shape"):
        mode_statistics(MIX, torch.zeros(5, 3))
    with pytest.raises(ValueError, match="at least 2"):
        mmd2_unbiased(torch.zeros(1, 2), torch.zeros(4, 2))


def test_completing_the_square_matches_the_library_posterior():
    d = posterior_by_completing_square()
    sch = make_schedule("linear", 1000)
    for t in (2, 40, 900):
        ab, ab_prev = sch.alpha_bars[t], sch.alpha_bars[t - 1]
        c0, ct, var = posterior_coefficients(ab, ab_prev)
        subs = {d["alpha"]: float(ab / ab_prev), d["ab_prev"]: float(ab_prev)}
        mean = d["mean"].subs(subs)
        assert math.isclose(float(sp.diff(mean, d["x0"])), float(c0), rel_tol=1e-10)
        assert math.isclose(float(sp.diff(mean, d["xt"])), float(ct), rel_tol=1e-10)
        assert math.isclose(float(d["var"].subs(subs)), float(var), rel_tol=1e-10)


def test_ddim_coefficients_reproduce_ddim_step_and_keep_the_marginal():
    d = ddim_coefficients()
    ab_t, ab_p, sig = 0.3, 0.7, 0.2
    k = float(d["k"].subs({d["ab_t"]: ab_t, d["ab_p"]: ab_p, d["sigma"]: sig}))
    m = float(d["m"].subs({d["ab_t"]: ab_t, d["ab_p"]: ab_p, d["sigma"]: sig}))
    assert math.isclose(k + m * math.sqrt(ab_t), math.sqrt(ab_p), rel_tol=1e-12)
    assert math.isclose(m**2 * (1 - ab_t) + sig**2, 1 - ab_p, rel_tol=1e-12)
    x0 = torch.randn(10, 2, dtype=F64)
    eps = torch.randn(10, 2, dtype=F64)
    xt = math.sqrt(ab_t) * x0 + math.sqrt(1 - ab_t) * eps
    z = torch.randn(10, 2, dtype=F64)
    eta = sig / math.sqrt((1 - ab_p) / (1 - ab_t) * (1 - ab_t / ab_p))
    lib = ddim_step(
        xt, x0, eps, torch.tensor(ab_t, dtype=F64), torch.tensor(ab_p, dtype=F64), eta, z
    )
    assert torch.allclose(k * x0 + m * xt + sig * z, lib, atol=1e-12)


def test_monte_carlo_neg_elbo_agrees_with_the_kl_form():
    small = make_schedule("linear", 50)
    x0 = MIX.sample(4000, generator=torch.Generator().manual_seed(1), dtype=F64)
    g = torch.Generator().manual_seed(2)
    mc = neg_elbo_monte_carlo(x0, MIX.denoiser, small, generator=g)
    kl = elbo_terms(x0, MIX.denoiser, small, generator=g)["total"]
    se = math.sqrt(float(mc.var() + kl.var()) / x0.shape[0])
    assert abs(float(mc.mean() - kl.mean())) < 4 * se
    # a planted error (a model at the wrong noise level) moves the bound by many standard errors
    worse = neg_elbo_monte_carlo(x0, lambda x, s: MIX.denoiser(x, 3 * s), small, generator=g)
    assert float(worse.mean() - mc.mean()) > 10 * se


def test_posterior_mean_mc_matches_the_mixture_denoiser():
    g = torch.Generator().manual_seed(4)
    prior = MIX.sample(200_000, generator=g, dtype=F64)
    x = torch.tensor([[0.2, -0.4], [1.0, 1.0], [-1.3, 0.6]], dtype=F64)
    mc, se = posterior_mean_mc(prior, x, 0.8, 0.6)
    exact = MIX.posterior_mean(x, 0.8, 0.6)
    assert torch.all((mc - exact).abs() < 4 * se + 1e-4)
    wrong = MIX.posterior_mean(x, 0.8, 0.9)
    assert torch.any((mc - wrong).abs() > 4 * se + 1e-4)


def _vp_mixture_logp(mix, sde):
    def log_p(x, t):
        tt = torch.tensor(t, dtype=F64)
        return mix.log_prob(x, float(sde.a(tt)), float(sde.std(tt)))

    return log_p


@pytest.mark.parametrize("kind", ["forward", "pf-ode", "reverse"])
def test_fokker_planck_residual_vanishes_for_the_vp_mixture(kind):
    sde = VPSDE()
    mix1 = GaussianMixture(
        torch.tensor([0.4, 0.6]), torch.tensor([[-1.0], [1.2]]), torch.tensor([[[0.1]], [[0.3]]])
    )
    log_p = _vp_mixture_logp(mix1, sde)
    t = 0.3
    tt = torch.tensor(t, dtype=F64)
    f, g2 = float(sde.f(tt)), float(sde.g(tt) ** 2)
    a, s = float(sde.a(tt)), float(sde.std(tt))
    x = torch.linspace(-3, 3, 41, dtype=F64)[:, None]

    def score(z):
        return mix1.score(z, a, s)

    drifts = {
        "forward": (lambda z, _: f * z, g2),
        "pf-ode": (lambda z, _: f * z - 0.5 * g2 * score(z), 0.0),
        "reverse": (lambda z, _: f * z - g2 * score(z), -g2),
    }
    drift, diff = drifts[kind]
    lhs, rhs = fokker_planck_residual(log_p, drift, diff, x, t)
    assert torch.allclose(lhs, rhs, rtol=1e-5, atol=1e-7)
    # planted error: the drift's sign flipped
    lhs, bad = fokker_planck_residual(log_p, lambda z, _: -drift(z, _), diff, x, t)
    assert not torch.allclose(lhs, bad, rtol=1e-3, atol=1e-4)


def test_implicit_minus_explicit_score_matching_is_model_free():
    g = torch.Generator().manual_seed(6)
    sigma = 0.5
    x = MIX.sample(20_000, generator=g, dtype=F64) + sigma * torch.randn(
        20_000, 2, generator=g, dtype=F64
    )
    true = MIX.score(x, 1.0, sigma)
    gaps = []
    for model in (
        lambda z: MIX.score(z, 1.0, sigma),
        lambda z: MIX.score(z, 1.0, 2 * sigma),
        lambda z: -z,
    ):
        ism = implicit_score_matching(model, x)
        esm = 0.5 * ((model(x) - true) ** 2).sum(1)
        gaps.append(esm - ism)
    for gp in gaps[1:]:
        d = gp - gaps[0]
        assert abs(float(d.mean())) < 4 * float(d.std()) / math.sqrt(x.shape[0])
    const = 0.5 * (true**2).sum(1)
    d = gaps[0] - const
    assert abs(float(d.mean())) < 4 * float(d.std()) / math.sqrt(x.shape[0])


def test_derivation_inputs_are_checked():
    with pytest.raises(ValueError, match="sigma2"):
        neg_elbo_monte_carlo(
            torch.zeros(2, 2), MIX.denoiser, make_schedule("linear", 50), sigma2="x"
        )
    with pytest.raises(ValueError, match="dimension"):
        posterior_mean_mc(torch.zeros(5, 2), torch.zeros(3, 1), 1.0, 1.0)
    with pytest.raises(TypeError, match="callable"):
        implicit_score_matching(3, torch.zeros(3, 2))
    with pytest.raises(ValueError, match="shape"):
        implicit_score_matching(lambda z: z[:, :1], torch.zeros(3, 2))


def test_ve_marginal_from_a_point_mass_is_the_heat_kernel_pde():
    ve = VESDE(0.01, 10.0)
    point = gaussian(torch.zeros(1, dtype=F64), torch.tensor([[1e-12]], dtype=F64))

    def log_p(x, t):
        return point.log_prob(x, 1.0, float(ve.std(torch.tensor(t, dtype=F64))))

    x = torch.linspace(-3, 3, 31, dtype=F64)[:, None]
    t = 0.5
    g2 = float(ve.g(torch.tensor(t, dtype=F64)) ** 2)
    lhs, rhs = fokker_planck_residual(log_p, lambda z, _: 0 * z, g2, x, t, h=1e-6)
    assert torch.allclose(lhs, rhs, rtol=1e-5, atol=1e-6)
    lhs, bad = fokker_planck_residual(log_p, lambda z, _: 0 * z, 2 * g2, x, t, h=1e-6)
    assert not torch.allclose(lhs, bad, rtol=1e-2, atol=1e-3)
