"""Schedules, forward process, posterior and ELBO: closed forms against independent computations."""

import math

import pytest
import torch

from course_lib.diffusion import (
    Schedule,
    bayes_posterior_on_grid,
    cosine_betas,
    elbo_terms,
    elbo_weight,
    eps_from_x0,
    eps_loss,
    eps_prediction,
    gaussian,
    gaussian_kl,
    gaussian_nll,
    iterate_chain,
    linear_betas,
    make_schedule,
    posterior_mean_var,
    q_sample,
    sample_timesteps,
    toy_mixture,
    x0_from_eps,
)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_linear_schedule_matches_ho_et_al():
    b = linear_betas(1000)
    assert b.shape == (1001,) and b[0] == 0
    assert math.isclose(b[1], 1e-4) and math.isclose(b[-1], 0.02)
    ab = make_schedule("linear").alpha_bars
    # alpha_bar_T by an independent log-sum
    assert math.isclose(
        float(ab[-1]), math.exp(sum(math.log(1 - float(x)) for x in b[1:])), rel_tol=1e-10
    )
    assert 0 < ab[-1] < 1e-4  # x_T is essentially pure noise


def test_cosine_schedule_reproduces_its_alpha_bar():
    T, s = 1000, 0.008
    ab = make_schedule("cosine", T).alpha_bars
    t = torch.arange(T + 1, dtype=torch.float64)
    f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    # unclipped steps reproduce f(t)/f(0) exactly; the clip (0.999) only touches the very end
    assert torch.allclose(ab[:-1], (f / f[0])[:-1], rtol=1e-9, atol=1e-12)
    assert torch.all(cosine_betas(T)[1:] <= 0.999)


def test_one_shot_marginal_matches_the_iterated_chain():
    sch = make_schedule("linear", 200)
    x0 = torch.full((20000, 1), 1.5, dtype=torch.float64)
    t = 120
    chain = iterate_chain(x0, t, sch, generator=gen(1))
    ab = float(sch.alpha_bars[t])
    mean, var = math.sqrt(ab) * 1.5, 1 - ab
    se_mean = math.sqrt(var / x0.shape[0])
    assert abs(float(chain.mean()) - mean) < 5 * se_mean
    se_var = var * math.sqrt(2 / x0.shape[0])
    assert abs(float(chain.var()) - var) < 5 * se_var
    one_shot, _ = q_sample(x0, t, sch, generator=gen(2))
    assert abs(float(one_shot.mean()) - mean) < 5 * se_mean


def test_iterated_moments_exactly():
    # propagate mean and variance through (1.1) deterministically: m <- sqrt(a) m, v <- a v + b
    sch = make_schedule("cosine", 300)
    m, v = 2.0, 0.0
    for t in range(1, 301):
        a, b = float(sch.alphas[t]), float(sch.betas[t])
        m, v = math.sqrt(a) * m, a * v + b
        if t in (1, 50, 299):
            ab = float(sch.alpha_bars[t])
            assert math.isclose(m, math.sqrt(ab) * 2.0, rel_tol=1e-10)
            assert math.isclose(v, 1 - ab, rel_tol=1e-10)


@pytest.mark.parametrize("t", [2, 10, 500, 1000])
def test_posterior_matches_bayes_rule_on_a_grid(t):
    sch = make_schedule("linear", 1000)
    x0, xt = 0.8, -0.3
    grid = torch.linspace(-6, 6, 200001, dtype=torch.float64)
    dens = bayes_posterior_on_grid(x0, xt, t, sch, grid)
    mean_num = torch.trapezoid(grid * dens, grid)
    var_num = torch.trapezoid((grid - mean_num) ** 2 * dens, grid)
    mu, var = posterior_mean_var(
        torch.tensor([[x0]]).double(), torch.tensor([[xt]]).double(), t, sch
    )
    assert math.isclose(float(mean_num), float(mu), rel_tol=1e-6, abs_tol=1e-8)
    assert math.isclose(float(var_num), float(var), rel_tol=1e-4)


def test_posterior_variance_formula():
    sch = make_schedule("linear", 1000)
    x = torch.zeros(1, 1, dtype=torch.float64)
    for t in (2, 100, 1000):
        _, var = posterior_mean_var(x, x, t, sch)
        ab, abp, b = sch.alpha_bars[t], sch.alpha_bars[t - 1], sch.betas[t]
        assert math.isclose(float(var), float((1 - abp) / (1 - ab) * b), rel_tol=1e-12)


def test_eps_x0_round_trip():
    sch = make_schedule()
    x0 = torch.randn(10, 2, generator=gen(), dtype=torch.float64)
    t = torch.randint(1, 1001, (10,), generator=gen(3))
    xt, eps = q_sample(x0, t, sch, generator=gen(4))
    ab = sch.alpha_bars[t]
    assert torch.allclose(x0_from_eps(xt, eps, ab), x0, atol=1e-9)
    assert torch.allclose(eps_from_x0(xt, x0, ab), eps, atol=1e-6)


def test_eps_x0_conversions_reject_alpha_bar_outside_its_range():
    xt, other = torch.ones(3, 2), torch.zeros(3, 2)
    # alpha_bar = 0 divides by sqrt(0) in (1.3) inverted for x_0; 1.5 takes sqrt(1 - 1.5)
    for bad in (0.0, 1.5, -0.1, math.nan, torch.tensor([0.5, 0.0, 0.5])):
        with pytest.raises(ValueError, match=r"alpha_bar must lie in \(0, 1\]"):
            x0_from_eps(xt, other, bad)
    # alpha_bar = 1 (no noise) leaves no noise to recover
    for bad in (1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match=r"alpha_bar must lie in \[0, 1\)"):
            eps_from_x0(xt, other, bad)
    with pytest.raises(ValueError, match=r"xt and eps must have the same shape, got \(3, 2\)"):
        x0_from_eps(xt, torch.zeros(3, 1), 0.5)
    with pytest.raises(TypeError, match="x0 must be a torch.Tensor, got list"):
        eps_from_x0(xt, [0.0], 0.5)
    # the ends that stay allowed give the exact identities x_0 = x_t and eps = x_t
    assert torch.equal(x0_from_eps(xt, other, 1.0), xt)
    assert torch.equal(eps_from_x0(xt, other, 0.0), xt)


def test_gaussian_kl_against_monte_carlo():
    m1, v1, m2, v2 = 0.3, 0.5, -0.2, 1.7
    z = torch.randn(400000, generator=gen(5), dtype=torch.float64)
    x = m1 + math.sqrt(v1) * z
    logq = -0.5 * ((x - m1) ** 2 / v1 + math.log(2 * math.pi * v1))
    logp = -0.5 * ((x - m2) ** 2 / v2 + math.log(2 * math.pi * v2))
    d = logq - logp
    kl = gaussian_kl(torch.tensor(m1), torch.tensor(v1), torch.tensor(m2), torch.tensor(v2))
    assert abs(float(d.mean()) - float(kl)) < 5 * float(d.std()) / math.sqrt(d.numel())
    assert (
        float(
            gaussian_kl(torch.tensor(1.0), torch.tensor(2.0), torch.tensor(1.0), torch.tensor(2.0))
        )
        == 0
    )


def test_kl_term_is_weighted_eps_error():
    """L_{t-1} = lambda_t ||eps - eps_theta||^2 + C_t (eq. 2.3) for an arbitrary (wrong) model."""
    sch = make_schedule("linear", 50)
    x0 = torch.randn(64, 2, generator=gen(6), dtype=torch.float64)

    def bad_denoiser(x, sigma):  # deliberately imperfect
        return 0.7 * x + 0.1

    for sigma2 in ("beta", "beta_tilde"):
        terms = elbo_terms(x0, bad_denoiser, sch, sigma2=sigma2, generator=gen(7))
        t = torch.arange(2, 51)
        lam = elbo_weight(sch, t, sigma2)
        ab, abp, b = sch.alpha_bars[t], sch.alpha_bars[t - 1], sch.betas[t]
        bt = (1 - abp) / (1 - ab) * b
        s2 = b if sigma2 == "beta" else bt
        C = 2 / 2 * (bt / s2 - 1 - torch.log(bt / s2))  # d = 2
        predicted = lam[:, None] * terms["eps_sq"] + C[:, None]
        assert torch.allclose(terms["kl"], predicted, rtol=1e-8, atol=1e-10)


def test_elbo_is_tight_when_the_reverse_model_is_exact():
    """Data N(0, I): every marginal is N(0, I) and q(x_{t-1} | x_t) = N(sqrt(alpha_t) x_t, beta_t)
    exactly, so the exact denoiser with sigma_t^2 = beta_t makes E[-ELBO] = E[-log p(x_0)]."""
    std = gaussian(torch.zeros(2, dtype=torch.float64), torch.eye(2, dtype=torch.float64))
    sch = make_schedule("linear", 200)
    x0 = std.sample(512, generator=gen(8), dtype=torch.float64)
    nelbo = elbo_terms(x0, std.denoiser, sch, sigma2="beta", generator=gen(9))["total"]
    gap = nelbo - (-std.log_prob(x0))
    se = float(gap.std()) / math.sqrt(gap.numel())
    assert abs(float(gap.mean())) < 4 * se + 1e-3


def test_elbo_bounds_the_likelihood_and_penalises_a_worse_model():
    mix = toy_mixture()
    sch = make_schedule("linear", 200)
    x0 = mix.sample(256, generator=gen(8), dtype=torch.float64)
    nll = -mix.log_prob(x0)
    exact = elbo_terms(x0, mix.denoiser, sch, sigma2="beta_tilde", generator=gen(9))["total"] - nll
    se = float(exact.std()) / math.sqrt(exact.numel())
    assert float(exact.mean()) > -4 * se  # -ELBO >= -log p(x_0)

    def blurred(x, sigma):  # the exact denoiser at twice the noise level: a worse model
        return mix.denoiser(x, 2.0 * sigma)

    # same generator seed: the same x_t draws, so the difference is a paired comparison
    worse = elbo_terms(x0, blurred, sch, sigma2="beta_tilde", generator=gen(9))["total"] - nll
    d = worse - exact
    assert float(d.mean()) > 4 * float(d.std()) / math.sqrt(d.numel())


def test_eps_loss_is_zero_mean_error_for_exact_noise():
    sch = make_schedule("linear", 100)
    x0 = torch.randn(32, 2, generator=gen(10), dtype=torch.float64)
    t = torch.randint(1, 101, (32,), generator=gen(11))
    noise = torch.randn(32, 2, generator=gen(12), dtype=torch.float64)
    assert float(eps_loss(lambda xt, tt: noise, x0, sch, t=t, noise=noise)) == 0.0
    assert math.isclose(float(eps_loss(lambda xt, tt: noise + 1, x0, sch, t=t, noise=noise)), 2.0)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(TypeError, match="T must be an int"):
        linear_betas(10.0)
    with pytest.raises(ValueError, match="too small"):
        linear_betas(10)
    with pytest.raises(ValueError, match="kind must be"):
        make_schedule("quadratic")
    with pytest.raises(ValueError, match="betas\\[0\\] must be 0"):
        Schedule(torch.tensor([0.1, 0.2]))
    sch = make_schedule("linear", 100)
    x = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="t must lie in 0..100"):
        q_sample(x, 101, sch)
    with pytest.raises(TypeError, match="x0 must be a torch.Tensor"):
        q_sample([1.0, 2.0], 1, sch)
    with pytest.raises(TypeError, match="schedule must be a Schedule"):
        q_sample(x, 1, "linear")
    with pytest.raises(ValueError, match="same shape"):
        posterior_mean_var(x, torch.zeros(3, 3), 5, sch)
    with pytest.raises(ValueError, match="t must lie in 1..100"):
        posterior_mean_var(x, x, 0, sch)
    with pytest.raises(ValueError, match=r"var1 must lie in \(0, inf\) \(finite\), got 0.0..0.0"):
        gaussian_kl(torch.tensor(0.0), torch.tensor(0.0), torch.tensor(0.0), torch.tensor(1.0))
    with pytest.raises(ValueError, match=r"var must lie in \(0, inf\)"):
        gaussian_nll(torch.tensor(0.0), torch.tensor(0.0), -1.0)
    with pytest.raises(ValueError, match=r"t must lie in 1..100, got 0..3"):
        elbo_weight(sch, torch.tensor([0, 3]))
    with pytest.raises(TypeError, match="t must be an int or an integer tensor"):
        elbo_weight(sch, 2.5)
    with pytest.raises(ValueError, match=r"alpha_bar must lie in \(0, 1\]"):
        eps_prediction(lambda x, s: x, x, 0.0)
    with pytest.raises(TypeError, match="denoiser must be callable"):
        eps_prediction(None, x, 0.5)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device='cuda' was asked for"):
            sample_timesteps(4, 10, device="cuda")
    with pytest.raises(ValueError, match="n_steps must be <= T"):
        sch.timesteps(101)


def test_marginal_coefficients_and_errors():
    from course_lib.diffusion import marginal_coefficients

    sch = make_schedule("cosine", 100)
    a, s = marginal_coefficients(sch, torch.tensor([0, 50, 100]))
    assert torch.allclose(a**2 + s**2, torch.ones(3, dtype=torch.float64))
    assert float(a[0]) == 1.0 and float(s[0]) == 0.0
    with pytest.raises(ValueError, match="t must lie in 0..100"):
        marginal_coefficients(sch, 101)
    with pytest.raises(TypeError, match="integer"):
        marginal_coefficients(sch, 0.5)
