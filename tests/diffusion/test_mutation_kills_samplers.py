"""Checks that fail on small wrong changes to Chapter 05's forward process, samplers and flow
matching (issue 16, mutation testing of ``forward.py``, ``samplers.py`` and ``flow.py``).

Each test pins a behaviour that the main tests left free. The samplers are replayed by hand
for one to three steps, with the noise passed in, on a hand-made schedule with T = 5 and a
non-linear noise-prediction network, against the paper's own form of each update: DDPM
ancestral sampling in the eps form of Ho et al. (2020, eq. 11, with sigma_t^2 = beta_t or
beta-tilde_t), DDIM in Song et al.'s form (2021, eq. 12), Euler-Maruyama, Euler and Heun for
the VP SDE with its coefficients written out, annealed Langevin (Song & Ermon 2019) and the
Euler steps of a flow. The library goes through x0_hat and the posterior coefficients
instead, so the two routes share no code. Further: the forward marginal and posterior against
Gaussian conditioning, every option (eta, clipping, ``sigma2``, ``set_alpha_to_one``, step
skipping, one and two steps), the boundary of every range check with the error message, the
callback dictionaries, and that a seeded generator (never the global RNG) drives every draw.
"""

from __future__ import annotations

import math

import pytest
import torch

from course_lib.diffusion import VESDE, VPSDE, Schedule, gaussian, make_schedule, toy_mixture
from course_lib.diffusion.flow import (
    VelocityNet,
    cfm_loss,
    conditional_path,
    conditional_velocity,
    flow_euler_sample,
    flow_grid,
    mixture_velocity,
    reflow_pairs,
    straightness,
)
from course_lib.diffusion.forward import (
    bayes_posterior_on_grid,
    eps_from_x0,
    iterate_chain,
    marginal_coefficients,
    posterior_coefficients,
    posterior_mean_var,
    q_sample,
    x0_from_eps,
)
from course_lib.diffusion.nets import MLP
from course_lib.diffusion.samplers import (
    SampleResult,
    Trajectory,
    annealed_langevin,
    check_callback,
    ddim_invert,
    ddim_sample,
    ddim_sigma,
    ddim_step,
    ddpm_sample,
    denoiser_from_score,
    eps_from_denoiser,
    geometric_sigmas,
    make_noise_sampler,
    pf_drift,
    pf_ode_euler,
    pf_ode_heun,
    reverse_sde_em,
    run_sampler,
    score_from_denoiser,
    time_grid,
)

F64 = torch.float64

#: A hand-made schedule, T = 5 (index 0 holds beta_0 = 0, the course's convention).
BETAS = [0.0, 0.1, 0.2, 0.3, 0.25, 0.4]


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def small_schedule() -> Schedule:
    return Schedule(torch.tensor(BETAS, dtype=F64))


def ab_hand(t: int) -> float:
    """alpha_bar_t = prod_{s <= t} (1 - beta_s), eq. (1.2), in plain floats."""
    return math.prod(1 - b for b in BETAS[1 : t + 1])


def eps_net(y: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """A non-linear, non-zero noise prediction eps(y; sigma) at the VE-scaled input y."""
    return torch.sin(1.3 * y) * (0.5 + sigma.reshape(-1, *([1] * (y.dim() - 1)))) + 0.2


def denoiser(y: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """D(y; sigma) = y - sigma eps(y; sigma): the denoiser whose eps_hat is ``eps_net``."""
    return y - sigma.reshape(-1, *([1] * (y.dim() - 1))) * eps_net(y, sigma)


def eps_at(x: torch.Tensor, ab: float) -> torch.Tensor:
    """eps_hat at x = sqrt(ab) x_0 + sqrt(1 - ab) eps: the network at y = x / sqrt(ab)."""
    sig = torch.full((x.shape[0],), math.sqrt((1 - ab) / ab), dtype=x.dtype)
    return eps_net(x / math.sqrt(ab), sig)


def x_start(b: int = 3, seed: int = 1, shape=(2,)) -> torch.Tensor:
    return torch.randn((b, *shape), generator=gen(seed), dtype=F64)


def close(a: torch.Tensor, b: torch.Tensor, rtol: float = 1e-10, atol: float = 1e-12) -> bool:
    """allclose at float64 round-off (torch's default rtol = 1e-5 would let float32 slips and
    small wrong constants through)."""
    return torch.allclose(a, b, rtol=rtol, atol=atol)


def assert_seeded(draw) -> None:
    """Same seed: identical numbers; another seed: different ones. A mutant that draws from the
    global RNG instead of ``generator`` gives two different results for the same seed."""
    a, b, c = draw(gen(11)), draw(gen(11)), draw(gen(12))
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


# =======================================================================================
# forward.py
# =======================================================================================
def test_marginal_coefficients_match_the_hand_product_and_check_t():
    """(sqrt(ab_t), sqrt(1 - ab_t)) with ab_t multiplied out by hand; t in 0..T inclusive,
    as an int or an int32/int64 tensor; float t is a TypeError."""
    sch = small_schedule()
    for t in (0, 2, 5):
        a, s = marginal_coefficients(sch, t)
        assert math.isclose(float(a), math.sqrt(ab_hand(t)), rel_tol=1e-12)
        assert math.isclose(float(s), math.sqrt(1 - ab_hand(t)), rel_tol=1e-12, abs_tol=1e-15)
    a, s = marginal_coefficients(sch, torch.tensor([1, 4], dtype=torch.int32))
    assert close(a, torch.tensor([math.sqrt(ab_hand(1)), math.sqrt(ab_hand(4))], dtype=F64))
    with pytest.raises(ValueError, match=r"^t must lie in 0\.\.5, got 6\.\.6"):
        marginal_coefficients(sch, 6)
    with pytest.raises(ValueError, match=r"^t must lie in 0\.\.5, got -1\.\.-1"):
        marginal_coefficients(sch, -1)
    with pytest.raises(TypeError, match="^t must be an int or an integer tensor, got dtype"):
        marginal_coefficients(sch, 1.0)


def test_q_sample_with_given_noise_per_sample_t_and_seeding():
    """x_t = sqrt(ab_t) x_0 + sqrt(1 - ab_t) eps, eq. (1.3), with one t per sample; t = 0
    returns x_0 and t = T is allowed; the generator alone drives the draw."""
    sch = small_schedule()
    x0, eps = x_start(3, 1), x_start(3, 2)
    for t in ([0, 3, 5], torch.tensor([0, 3, 5]), torch.tensor([0, 3, 5], dtype=torch.int32)):
        xt, e = q_sample(x0, t if isinstance(t, torch.Tensor) else torch.tensor(t), sch, noise=eps)
        assert e is eps
        for row, tt in enumerate([0, 3, 5]):
            want = math.sqrt(ab_hand(tt)) * x0[row] + math.sqrt(1 - ab_hand(tt)) * eps[row]
            assert close(xt[row], want)
    # a python int and a one-entry tensor are broadcast to every sample
    for t in (4, torch.tensor([4]), torch.tensor(4)):
        xt, _ = q_sample(x0, t, sch, noise=eps)
        assert close(xt, math.sqrt(ab_hand(4)) * x0 + math.sqrt(1 - ab_hand(4)) * eps)
    assert_seeded(lambda g: q_sample(x0, 2, sch, generator=g)[0])
    with pytest.raises(ValueError, match=r"^t must lie in 0\.\.5, got range 0\.\.6"):
        q_sample(x0, torch.tensor([0, 1, 6]), sch, noise=eps)
    with pytest.raises(ValueError, match=r"^t must lie in 0\.\.5, got range -1\.\.2"):
        q_sample(x0, torch.tensor([2, -1, 0]), sch, noise=eps)
    with pytest.raises(ValueError, match="^t must be >= 0, got -1"):
        q_sample(x0, -1, sch, noise=eps)
    with pytest.raises(ValueError, match=r"^t must have one entry per sample \(3\), got 2"):
        q_sample(x0, torch.tensor([1, 2]), sch, noise=eps)
    with pytest.raises(TypeError, match="^t must be an int or an integer tensor, got dtype"):
        q_sample(x0, torch.tensor([1.0, 2.0, 3.0]), sch, noise=eps)
    with pytest.raises(TypeError, match="^t must be an int"):
        q_sample(x0, 2.5, sch, noise=eps)
    with pytest.raises(
        ValueError, match=r"^noise must have the shape of x0 \(3, 2\), got \(3, 1\)"
    ):
        q_sample(x0, 1, sch, noise=eps[:, :1])


def test_iterate_chain_replays_the_markov_steps_by_hand():
    """x_s = sqrt(1 - beta_s) x_{s-1} + sqrt(beta_s) eps_s, eq. (1.1), with the eps_s drawn in
    order from the same seed; the path keeps x_0..x_{t_end}; t_end = T allowed, T + 1 not."""
    sch = small_schedule()
    x0 = x_start(4, 3)
    g = gen(7)
    x, path = x0, [x0]
    for s in range(1, 6):
        x = math.sqrt(1 - BETAS[s]) * x + math.sqrt(BETAS[s]) * torch.randn(
            x.shape, generator=g, dtype=F64
        )
        path.append(x)
    got = iterate_chain(x0, 5, sch, generator=gen(7), keep_path=True)
    assert got.shape == (6, 4, 2)
    assert close(got, torch.stack(path))
    assert close(iterate_chain(x0, 5, sch, generator=gen(7)), x)
    assert torch.equal(iterate_chain(x0, 0, sch, generator=gen(7)), x0)
    assert_seeded(lambda g: iterate_chain(x0, 2, sch, generator=g))
    with pytest.raises(ValueError, match="^t_end must be <= T = 5, got 6"):
        iterate_chain(x0, 6, sch)


def test_posterior_coefficients_equal_gaussian_conditioning():
    """q(x_{t'} | x_t, x_0) by conditioning the joint Gaussian of (x_{t'}, x_t) given x_0:
    x_{t'} = sqrt(ab') x_0 + sqrt(1 - ab') e1, x_t = sqrt(ab/ab') x_{t'} + sqrt(1 - ab/ab') e2,
    so Cov = sqrt(ab/ab') (1 - ab'), mean = sqrt(ab') x_0 + Cov/(1 - ab) (x_t - sqrt(ab) x_0),
    var = (1 - ab') - Cov^2/(1 - ab). ab' = 1 (the end point) is allowed."""
    for ab, abp in ((0.3, 0.8), (0.05, 0.5), (0.6, 1.0)):
        c0, ct, var = posterior_coefficients(
            torch.tensor(ab, dtype=F64), torch.tensor(abp, dtype=F64)
        )
        cov = math.sqrt(ab / abp) * (1 - abp)
        assert math.isclose(float(ct), cov / (1 - ab), rel_tol=1e-12, abs_tol=1e-15)
        assert math.isclose(
            float(c0), math.sqrt(abp) - cov / (1 - ab) * math.sqrt(ab), rel_tol=1e-12
        )
        assert math.isclose(float(var), (1 - abp) - cov**2 / (1 - ab), rel_tol=1e-9, abs_tol=1e-15)
    for ab, abp in ((0.5, 0.5), (0.0, 0.5), (0.5, 1.0 + 1e-9), (0.7, 0.5)):
        with pytest.raises(ValueError, match="^need 0 < alpha_bar_t < alpha_bar_prev <= 1"):
            posterior_coefficients(torch.tensor(ab, dtype=F64), torch.tensor(abp, dtype=F64))
    with pytest.raises(ValueError, match=r"alpha_bar_t in 0\.5\.\.0\.5 and alpha_bar_prev in 0\.5"):
        posterior_coefficients(torch.tensor(0.5), torch.tensor(0.5))


def test_posterior_mean_var_per_sample_and_t_one():
    """mu_tilde and beta_tilde (1.6)-(1.7) per sample; t = 1 allowed (variance 0, mean x_0)
    and t = 0 rejected; the variance comes shaped (B, 1) to broadcast."""
    sch = small_schedule()
    x0, xt = x_start(2, 4), x_start(2, 5)
    mean, var = posterior_mean_var(x0, xt, torch.tensor([1, 4]), sch)
    assert var.shape == (2, 1)
    assert close(mean[0], x0[0])
    assert float(var[0]) == pytest.approx(0.0, abs=1e-15)
    ab, abp = ab_hand(4), ab_hand(3)
    cov = math.sqrt(ab / abp) * (1 - abp)  # Gaussian conditioning, as above
    want = math.sqrt(abp) * x0[1] + cov / (1 - ab) * (xt[1] - math.sqrt(ab) * x0[1])
    assert close(mean[1], want)
    assert float(var[1]) == pytest.approx((1 - abp) - cov**2 / (1 - ab), rel=1e-12)
    with pytest.raises(ValueError, match=r"^t must lie in 1\.\.5"):
        posterior_mean_var(x0, xt, 0, sch)
    with pytest.raises(ValueError, match=r"^x0 and xt must have the same shape, got \(2, 2\)"):
        posterior_mean_var(x0, xt[:, :1], 1, sch)


def test_x0_eps_inversions_by_hand_at_their_open_ends():
    """x_0 = (x_t - sqrt(1-ab) eps)/sqrt(ab) allows ab = 1 (x_0 = x_t) but not ab = 0;
    eps = (x_t - sqrt(ab) x_0)/sqrt(1-ab) allows ab = 0 (eps = x_t) but not ab = 1; a (B,)
    alpha_bar applies one value per sample."""
    xt, e = x_start(2, 6), x_start(2, 7)
    assert close(x0_from_eps(xt, e, 1.0), xt)
    assert close(eps_from_x0(xt, e, 0.0), xt)
    ab = torch.tensor([0.25, 0.64], dtype=F64)
    got = x0_from_eps(xt, e, ab)
    assert close(got[0], (xt[0] - math.sqrt(0.75) * e[0]) / 0.5)
    assert close(got[1], (xt[1] - 0.6 * e[1]) / 0.8)
    got = eps_from_x0(xt, e, ab)
    assert close(got[0], (xt[0] - 0.5 * e[0]) / math.sqrt(0.75))
    assert close(got[1], (xt[1] - 0.8 * e[1]) / 0.6)
    with pytest.raises(ValueError, match=r"^alpha_bar must lie in \(0, 1\]"):
        x0_from_eps(xt, e, 0.0)
    with pytest.raises(ValueError, match=r"^alpha_bar must lie in \[0, 1\)"):
        eps_from_x0(xt, e, 1.0)


def test_bayes_posterior_on_grid_is_the_closed_form_density():
    """The grid density by Bayes' rule equals the Gaussian N(mu_tilde, beta_tilde) written out
    by Gaussian conditioning (t = 2 and t = T allowed, t = 1 and T + 1 not, 1-D grids only)."""
    sch = small_schedule()
    grid = torch.linspace(-6, 6, 4001, dtype=F64)
    for t, x0, xt in ((2, 0.7, -0.4), (5, -1.2, 0.9)):
        ab, abp = ab_hand(t), ab_hand(t - 1)
        cov = math.sqrt(ab / abp) * (1 - abp)
        m = math.sqrt(abp) * x0 + cov / (1 - ab) * (xt - math.sqrt(ab) * x0)
        v = (1 - abp) - cov**2 / (1 - ab)
        want = torch.exp(-((grid - m) ** 2) / (2 * v)) / math.sqrt(2 * math.pi * v)
        got = bayes_posterior_on_grid(x0, xt, t, sch, grid)
        assert close(got, want, atol=1e-6)
    with pytest.raises(ValueError, match="^t must be >= 2"):
        bayes_posterior_on_grid(0.0, 0.0, 1, sch, grid)
    with pytest.raises(ValueError, match="^t must be <= T = 5, got 6"):
        bayes_posterior_on_grid(0.0, 0.0, 6, sch, grid)
    with pytest.raises(ValueError, match=r"^grid must be 1-D, got shape \(2, 3\)"):
        bayes_posterior_on_grid(0.0, 0.0, 2, sch, torch.zeros(2, 3))


# =======================================================================================
# samplers.py: the model interface and the noise source
# =======================================================================================
def test_eps_from_denoiser_per_sample_levels_and_the_s_zero_limit():
    """x0_hat = D(x/a; s/a), eps_hat = (x - a x0_hat)/s with one (a, s) per sample; at s = 0
    eps_hat = 0 and its gradient stays finite (no 0/0 in the branch that is not taken)."""
    x = x_start(3, 8).requires_grad_(True)
    a = torch.tensor([0.9, 0.5, 0.7], dtype=F64)
    s = torch.tensor([0.3, 0.8, 0.0], dtype=F64)
    x0_hat, eps_hat = eps_from_denoiser(denoiser, x, a, s)
    y = x.detach() / a[:, None]
    assert close(x0_hat, denoiser(y, s / a))
    assert close(eps_hat[:2], eps_net(y, s / a)[:2])
    assert torch.equal(eps_hat[2], torch.zeros(2, dtype=F64))
    (grad,) = torch.autograd.grad(eps_hat.sum(), x)
    assert torch.all(torch.isfinite(grad))
    assert torch.equal(grad[2], torch.zeros(2, dtype=F64))
    with pytest.raises(ValueError, match=r"^a must lie in \(0, inf\)"):
        eps_from_denoiser(denoiser, x, 0.0, 0.5)
    with pytest.raises(ValueError, match=r"^s must lie in \[0, inf\)"):
        eps_from_denoiser(denoiser, x, 1.0, -0.1)
    with pytest.raises(
        ValueError, match=r"^the denoiser returned shape \(3, 1\) for input \(3, 2\)"
    ):
        eps_from_denoiser(lambda y, sig: y[:, :1], x, 1.0, 0.5)


def test_score_and_denoiser_from_score_on_gaussian_data():
    """For data N(m, c^2 I) the noised marginal is N(a m, (a^2 c^2 + s^2) I), whose score is
    -(x - a m)/(a^2 c^2 + s^2); the score needs s > 0. A VE score wrapped as a denoiser gives
    D = x + sigma^2 score, the posterior mean (c^2 x + sigma^2 m)/(c^2 + sigma^2)."""
    m, c = 0.4, 0.7
    g = gaussian(torch.full((2,), m, dtype=F64), c**2 * torch.eye(2, dtype=F64))
    x = x_start(3, 9)
    for a, s in ((1.0, 0.5), (0.6, 0.8)):
        want = -(x - a * m) / (a**2 * c**2 + s**2)
        assert close(score_from_denoiser(g.denoiser, x, a, s), want)
    with pytest.raises(ValueError, match=r"^s \(the score needs s > 0\) must lie in \(0, inf\)"):
        score_from_denoiser(g.denoiser, x, 1.0, 0.0)
    sig = torch.tensor([0.3, 0.9, 1.5], dtype=F64)
    d = denoiser_from_score(lambda y, sg: -(y - m) / (c**2 + sg[:, None] ** 2))
    want = (c**2 * x + sig[:, None] ** 2 * m) / (c**2 + sig[:, None] ** 2)
    assert close(d(x, sig), want)
    with pytest.raises(TypeError, match="^score must be callable"):
        denoiser_from_score(1.0)


def test_make_noise_sampler_sources_and_errors():
    """None: draws from the generator; a tensor: slot i at step i, cast to x's dtype; a callable:
    checked and cast; noise and generator together, wrong shapes and types are errors."""
    x = torch.zeros(2, 3, dtype=F64)
    table = torch.randn(4, 2, 3, generator=gen(1))  # float32, cast to float64
    ns = make_noise_sampler(table, x, 4)
    for i in (0, 3):
        assert ns(i, x).dtype == F64
        assert torch.equal(ns(i, x), table[i].double())
    assert callable(make_noise_sampler(torch.zeros(0, 2, 3), x, 0))  # n_steps = 0 is allowed
    ns = make_noise_sampler(lambda i, xx: torch.full(xx.shape, float(i)), x, 4)
    assert ns(2, x).dtype == F64 and torch.equal(ns(2, x), torch.full((2, 3), 2.0, dtype=F64))
    g = gen(5)
    ns = make_noise_sampler(None, x, 4, g)
    want = torch.randn(2, 3, generator=gen(5), dtype=F64)
    assert torch.equal(ns(0, x), want)
    with pytest.raises(ValueError, match="^give either noise= or generator=, not both"):
        make_noise_sampler(table, x, 4, gen(0))
    with pytest.raises(TypeError, match="^generator must be a torch.Generator"):
        make_noise_sampler(table, x, 4, 0)
    with pytest.raises(
        ValueError, match=r"^noise must have shape \(n_steps, \*x.shape\) = \(3, 2, 3\)"
    ):
        make_noise_sampler(table, x, 3)
    with pytest.raises(ValueError, match="^n_steps must be >= 0"):
        make_noise_sampler(None, x, -1)
    with pytest.raises(
        TypeError, match=r"^noise must be None, a tensor or a callable noise\(i, x\), got list$"
    ):
        make_noise_sampler([0.0], x, 1)
    bad = make_noise_sampler(lambda i, xx: torch.zeros(3), x, 1)
    with pytest.raises(
        ValueError, match=r"^noise\(i, x\) must return a tensor of shape \(2, 3\), got \(3,\)"
    ):
        bad(0, x)
    bad = make_noise_sampler(lambda i, xx: [0.0], x, 1)
    with pytest.raises(
        ValueError, match=r"^noise\(i, x\) must return a tensor of shape .* got list$"
    ):
        bad(0, x)


def test_callback_and_trajectory_checks():
    """A callback must be callable; Trajectory.stack needs a SampleResult and stacks the
    reported states then the result."""
    assert check_callback(None) is None
    with pytest.raises(TypeError, match=r"^callback must be callable as callback\(info: dict\)"):
        check_callback(3)
    rec = Trajectory()
    rec({"x": torch.zeros(1, 2)})
    with pytest.raises(TypeError, match="^result must be a SampleResult, got Tensor"):
        rec.stack(torch.ones(1, 2))
    st = rec.stack(SampleResult(torch.ones(1, 2), 1))
    assert torch.equal(st, torch.stack([torch.zeros(1, 2), torch.ones(1, 2)]))


# =======================================================================================
# samplers.py: DDPM and DDIM replayed by hand
# =======================================================================================
def ddpm_by_hand(x, ts, noise, sigma2):
    """Ho et al. (2020) eq. 11 with step skipping (alpha = ab_t/ab_t', beta = 1 - alpha):
    x_{t'} = (x_t - beta/sqrt(1 - ab_t) eps_hat)/sqrt(alpha) + sigma z, sigma^2 = beta-tilde
    = (1 - ab_t')/(1 - ab_t) beta or beta; no noise on the last step (to t' = 0)."""
    grid = [*ts, 0]
    for i, (t, tp) in enumerate(zip(grid[:-1], grid[1:], strict=True)):
        ab, abp = ab_hand(t), ab_hand(tp)
        alpha = ab / abp
        beta = 1 - alpha
        x = (x - beta / math.sqrt(1 - ab) * eps_at(x, ab)) / math.sqrt(alpha)
        if tp > 0:
            var = (1 - abp) / (1 - ab) * beta if sigma2 == "beta_tilde" else beta
            x = x + math.sqrt(var) * noise[i]
    return x


def ddim_by_hand(x, ts, noise, eta, ab_end=1.0):
    """Song et al. (2021) eq. 12: x_{t'} = sqrt(ab') (x_t - sqrt(1 - ab) eps)/sqrt(ab)
    + sqrt(1 - ab' - sigma^2) eps + sigma z, sigma^2 = eta^2 (1 - ab')/(1 - ab) (1 - ab/ab')
    (their eq. 16); ab' = ab_end on the last step."""
    grid = [*ts, 0]
    for i, (t, tp) in enumerate(zip(grid[:-1], grid[1:], strict=True)):
        ab = ab_hand(t)
        abp = ab_hand(tp) if tp > 0 else ab_end
        e = eps_at(x, ab)
        var = eta**2 * (1 - abp) / (1 - ab) * (1 - ab / abp)
        x0 = (x - math.sqrt(1 - ab) * e) / math.sqrt(ab)
        x = math.sqrt(abp) * x0 + math.sqrt(1 - abp - var) * e + math.sqrt(var) * noise[i]
    return x


@pytest.mark.parametrize("sigma2", ["beta_tilde", "beta"])
@pytest.mark.parametrize("ts", [None, [5, 3, 1], [4, 2], [3]])
def test_ddpm_replays_ho_eq_11(sigma2, ts):
    """All T steps, skipped steps, a grid below T and a single step; one noise slot per step."""
    sch = small_schedule()
    x = x_start(3, 2)
    grid = [5, 4, 3, 2, 1] if ts is None else ts
    noise = torch.randn(len(grid), 3, 2, generator=gen(3), dtype=F64)
    got = ddpm_sample(
        denoiser,
        x,
        None if ts is None else torch.tensor(ts),
        schedule=sch,
        sigma2=sigma2,
        noise=noise,
    )
    assert got.nfe == len(grid)
    assert close(got.x, ddpm_by_hand(x, grid, noise, sigma2))


def test_ddpm_callback_seeding_and_grid_checks():
    """The callback sees {i, x, t, sigma = sqrt((1 - ab)/ab), denoised = D(x/a; s/a)} before each
    step; a seeded generator alone drives the draws; the grid must decrease inside 1..T."""
    sch = small_schedule()
    x = x_start(3, 2)
    rec = Trajectory()
    noise = torch.randn(2, 3, 2, generator=gen(4), dtype=F64)
    res = ddpm_sample(denoiser, x, torch.tensor([5, 2]), schedule=sch, noise=noise, callback=rec)
    assert [info["i"] for info in rec.infos] == [0, 1]
    assert [info["t"] for info in rec.infos] == [5, 2]
    assert torch.equal(rec.infos[0]["x"], x)
    for info, t, xs in zip(rec.infos, (5, 2), (x, None), strict=True):
        ab = ab_hand(t)
        assert info["sigma"] == pytest.approx(math.sqrt((1 - ab) / ab), rel=1e-12)
        xs = info["x"] if xs is None else xs
        sig = torch.full((3,), math.sqrt((1 - ab) / ab), dtype=F64)
        assert close(info["denoised"], denoiser(xs / math.sqrt(ab), sig))
    assert torch.equal(rec.stack(res)[-1], res.x)
    assert_seeded(
        lambda g: ddpm_sample(denoiser, x, torch.tensor([5, 2]), schedule=sch, generator=g).x
    )
    for bad in ([5, 5, 1], [5, 0], [6, 2], [2, 4], []):
        with pytest.raises(
            ValueError, match=r"^timesteps must be strictly decreasing within 1\.\.5"
        ):
            ddpm_sample(denoiser, x, torch.tensor(bad, dtype=torch.long), schedule=sch)
    with pytest.raises(ValueError, match="^sigma2 must be 'beta' or 'beta_tilde', got 'learned'"):
        ddpm_sample(denoiser, x, schedule=sch, sigma2="learned")


@pytest.mark.parametrize("eta", [0.0, 0.6, 1.0])
@pytest.mark.parametrize("ts", [None, [5, 2], [3]])
def test_ddim_replays_song_eq_12(eta, ts):
    """DDIM with eta = 0 (deterministic), 0 < eta < 1 and eta = 1, on all, skipped and single
    steps; the last step lands on alpha_bar = 1 and adds no noise."""
    sch = small_schedule()
    x = x_start(3, 5)
    grid = [5, 4, 3, 2, 1] if ts is None else ts
    noise = torch.randn(len(grid), 3, 2, generator=gen(6), dtype=F64)
    got = ddim_sample(
        denoiser, x, None if ts is None else torch.tensor(ts), schedule=sch, eta=eta, noise=noise
    )
    assert got.nfe == len(grid)
    assert close(got.x, ddim_by_hand(x, grid, noise, eta))


@pytest.mark.parametrize("eta", [0.0, 0.5])
def test_ddim_without_set_alpha_to_one_ends_on_alpha_bar_one(eta):
    """set_alpha_to_one=False: the last step lands on ab_1 (diffusers' alphas_cumprod[0]), and
    with eta > 0 it adds its noise slot too."""
    sch = small_schedule()
    x = x_start(3, 5)
    noise = torch.randn(2, 3, 2, generator=gen(6), dtype=F64)
    got = ddim_sample(
        denoiser,
        x,
        torch.tensor([5, 3]),
        schedule=sch,
        eta=eta,
        noise=noise,
        set_alpha_to_one=False,
    )
    assert close(got.x, ddim_by_hand(x, [5, 3], noise, eta, ab_end=ab_hand(1)))
    with pytest.raises(TypeError, match="^set_alpha_to_one must be a bool"):
        ddim_sample(denoiser, x, schedule=sch, set_alpha_to_one=1)


def test_ddim_callback_seeding_and_eta_checks():
    """Callback dict as for DDPM; seeded draws with eta > 0; eta = 0 accepted, eta < 0 not."""
    sch = small_schedule()
    x = x_start(3, 5)
    rec = Trajectory()
    ddim_sample(denoiser, x, torch.tensor([4, 1]), schedule=sch, callback=rec)
    assert [(info["i"], info["t"]) for info in rec.infos] == [(0, 4), (1, 1)]
    ab = ab_hand(4)
    assert rec.infos[0]["sigma"] == pytest.approx(math.sqrt((1 - ab) / ab), rel=1e-12)
    sig = torch.full((3,), math.sqrt((1 - ab) / ab), dtype=F64)
    assert close(rec.infos[0]["denoised"], denoiser(x / math.sqrt(ab), sig))
    assert torch.equal(rec.infos[0]["x"], x)
    assert_seeded(
        lambda g: (
            ddim_sample(denoiser, x, torch.tensor([5, 2]), schedule=sch, eta=0.5, generator=g).x
        )
    )
    with pytest.raises(ValueError, match=r"^eta must be a finite number in \[0, inf\)"):
        ddim_sample(denoiser, x, schedule=sch, eta=-0.1)


def test_ddim_sigma_and_step_by_hand():
    """sigma_t(eta) of Song et al. eq. 16; one step with eta > 0 needs noise, eta = 0 ignores
    it; when sigma^2 > 1 - ab' (eta > 1) the eps direction is clamped to 0, not NaN."""
    ab, abp = 0.3, 0.7
    want = 0.4 * math.sqrt((1 - abp) / (1 - ab) * (1 - ab / abp))
    assert float(ddim_sigma(torch.tensor(ab), torch.tensor(abp), 0.4)) == pytest.approx(want)
    assert float(ddim_sigma(torch.tensor(ab), torch.tensor(abp), 0)) == 0.0
    with pytest.raises(ValueError, match=r"^eta must be a finite number in \[0, inf\)"):
        ddim_sigma(torch.tensor(ab), torch.tensor(abp), -1)
    x, x0, e, z = x_start(2, 1), x_start(2, 2), x_start(2, 3), x_start(2, 4)
    abt, abpt = torch.tensor(ab, dtype=F64), torch.tensor(abp, dtype=F64)
    got = ddim_step(x, x0, e, abt, abpt, 0.0)
    assert close(got, math.sqrt(abp) * x0 + math.sqrt(1 - abp) * e)
    assert torch.equal(ddim_step(x, x0, e, abt, abpt, 0.0, z), got)
    with pytest.raises(ValueError, match="^eta > 0 needs noise"):
        ddim_step(x, x0, e, abt, abpt, 0.5)
    s2 = 0.5**2 * (1 - abp) / (1 - ab) * (1 - ab / abp)
    got = ddim_step(x, x0, e, abt, abpt, 0.5, z)
    assert close(got, math.sqrt(abp) * x0 + math.sqrt(1 - abp - s2) * e + math.sqrt(s2) * z)
    big = 3.0  # sigma^2 = 9 (1 - ab')/(1 - ab)(1 - ab/ab') > 1 - ab'
    s2 = big**2 * (1 - abp) / (1 - ab) * (1 - ab / abp)
    assert s2 > 1 - abp
    got = ddim_step(x, x0, e, abt, abpt, big, z)
    assert close(got, math.sqrt(abp) * x0 + math.sqrt(s2) * z)


def test_ddim_invert_replays_the_encoder_by_hand():
    """Encoding up the grid 0 -> 2 -> 5: from t = 0, x0_hat = x and eps_hat = 0 (no evaluation),
    then x_{t+} = sqrt(ab_+) x0_hat + sqrt(1 - ab_+) eps_hat; nfe = 1; callback per step."""
    sch = small_schedule()
    x = x_start(3, 7)
    rec = Trajectory()
    res = ddim_invert(denoiser, x, torch.tensor([5, 2]), schedule=sch, callback=rec)
    x2 = math.sqrt(ab_hand(2)) * x
    e = eps_at(x2, ab_hand(2))
    x0 = (x2 - math.sqrt(1 - ab_hand(2)) * e) / math.sqrt(ab_hand(2))
    x5 = math.sqrt(ab_hand(5)) * x0 + math.sqrt(1 - ab_hand(5)) * e
    assert res.nfe == 1
    assert close(res.x, x5)
    assert [(info["i"], info["t"]) for info in rec.infos] == [(0, 0), (1, 2)]
    assert rec.infos[0]["sigma"] == 0.0 and torch.equal(rec.infos[0]["denoised"], x)
    assert close(rec.infos[1]["x"], x2) and close(rec.infos[1]["denoised"], x0)
    assert rec.infos[1]["sigma"] == pytest.approx(math.sqrt((1 - ab_hand(2)) / ab_hand(2)))
    assert ddim_invert(denoiser, x, schedule=sch).nfe == 4  # all 5 steps, one without a call


# =======================================================================================
# samplers.py: continuous time, replayed with the VP SDE's coefficients written out
# =======================================================================================
B_MIN, B_MAX = 0.3, 7.0  # a non-default VP SDE


def vp_terms(t: float):
    """(f, g, a, std) of the VP SDE by hand: beta(t) = b_min + t (b_max - b_min),
    f = -beta/2, g = sqrt(beta), a = exp(-B/2), std = sqrt(1 - exp(-B)), B = int_0^t beta."""
    beta = B_MIN + t * (B_MAX - B_MIN)
    big_b = B_MIN * t + 0.5 * t**2 * (B_MAX - B_MIN)
    return -0.5 * beta, math.sqrt(beta), math.exp(-0.5 * big_b), math.sqrt(1 - math.exp(-big_b))


def score_by_hand(x: torch.Tensor, t: float) -> torch.Tensor:
    """grad log p_t = -eps_hat/std, eps_hat the network at y = x/a, sigma = std/a (eq. 3.1)."""
    _, _, a, s = vp_terms(t)
    return -eps_net(x / a, torch.full((x.shape[0],), s / a, dtype=x.dtype)) / s


def drift_by_hand(x: torch.Tensor, t: float, k: float) -> torch.Tensor:
    """f x - k g^2 score: k = 1/2 for the probability-flow ODE (8.5), 1 for the reverse SDE."""
    f, g, _, _ = vp_terms(t)
    return f * x - k * g**2 * score_by_hand(x, t)


def test_pf_drift_by_hand_and_its_time_checks():
    """dx/dt = f x - g^2/2 score at a number or a 0-dim tensor time; t = 0 (singular score),
    a time vector, and a non-SDE are errors."""
    sde = VPSDE(B_MIN, B_MAX)
    x = x_start(3, 1)
    for t in (0.4, torch.tensor(0.4, dtype=F64), 1.0):
        assert close(pf_drift(denoiser, sde, x, t), drift_by_hand(x, float(t), 0.5))
    with pytest.raises(ValueError, match=r"^the probability-flow drift needs t > 0 \(the score"):
        pf_drift(denoiser, sde, x, 0.0)
    with pytest.raises(ValueError, match=r"^t must be a single time, got shape \(2,\)"):
        pf_drift(denoiser, sde, x, torch.tensor([0.3, 0.4]))
    with pytest.raises(TypeError, match="^sde must be an SDE"):
        pf_drift(denoiser, "vp", x, 0.5)


def test_reverse_sde_em_replays_by_hand():
    """x <- x + (f x - g^2 score) dt + g sqrt(-dt) z_i, no noise on the last step; callback
    {i, x, t, sigma = std/a, denoised}; a seeded generator alone drives the draws."""
    sde = VPSDE(B_MIN, B_MAX)
    ts = torch.tensor([0.9, 0.5, 0.2], dtype=F64)
    x = x_start(3, 2)
    noise = torch.randn(2, 3, 2, generator=gen(3), dtype=F64)
    rec = Trajectory()
    res = reverse_sde_em(denoiser, x, ts, sde=sde, noise=noise, callback=rec)
    want = x
    for i, (t, tn) in enumerate(((0.9, 0.5), (0.5, 0.2))):
        dt = tn - t
        want = want + drift_by_hand(want, t, 1.0) * dt
        if i == 0:
            want = want + vp_terms(t)[1] * math.sqrt(-dt) * noise[i]
    assert res.nfe == 2
    assert close(res.x, want)
    assert [(info["i"], info["t"]) for info in rec.infos] == [(0, 0.9), (1, 0.5)]
    _, _, a, s = vp_terms(0.5)
    assert rec.infos[1]["sigma"] == pytest.approx(s / a, rel=1e-12)
    sig = torch.full((3,), s / a, dtype=F64)
    assert close(rec.infos[1]["denoised"], denoiser(rec.infos[1]["x"] / a, sig))
    assert_seeded(lambda g: reverse_sde_em(denoiser, x, ts, sde=sde, generator=g).x)


@pytest.mark.parametrize("heun", [False, True])
def test_pf_ode_euler_and_heun_replay_two_steps(heun):
    """Euler: x <- x + d(x, t) dt; Heun: predictor x + d1 dt, then x + (d1 + d2)/2 dt with d2 at
    (x_pred, t_next); nfe = steps (Euler) or 2 steps (Heun); callback at the step's start."""
    sde = VPSDE(B_MIN, B_MAX)
    ts = torch.tensor([0.9, 0.5, 0.2], dtype=F64)
    x = x_start(3, 4)
    rec = Trajectory()
    run = pf_ode_heun if heun else pf_ode_euler
    res = run(denoiser, x, ts, sde=sde, callback=rec)
    want = x
    for t, tn in ((0.9, 0.5), (0.5, 0.2)):
        d1 = drift_by_hand(want, t, 0.5)
        if heun:
            d2 = drift_by_hand(want + d1 * (tn - t), tn, 0.5)
            want = want + 0.5 * (d1 + d2) * (tn - t)
        else:
            want = want + d1 * (tn - t)
    assert res.nfe == (4 if heun else 2)
    assert close(res.x, want)
    assert [(info["i"], info["t"]) for info in rec.infos] == [(0, 0.9), (1, 0.5)]
    _, _, a, s = vp_terms(0.9)
    assert rec.infos[0]["sigma"] == pytest.approx(s / a, rel=1e-12)
    assert torch.equal(rec.infos[0]["x"], x)
    sig = torch.full((3,), s / a, dtype=F64)
    assert close(rec.infos[0]["denoised"], denoiser(x / a, sig))


def test_time_grid_check_ts_and_their_boundaries():
    """time_grid: n + 1 uniform times t_max..t_min in float64 (defaults 1 and 1e-3); the
    solvers take grids inside (0, 1] with >= 2 strictly decreasing points."""
    assert close(
        time_grid(4, t_max=0.9, t_min=0.1), torch.tensor([0.9, 0.7, 0.5, 0.3, 0.1], dtype=F64)
    )
    g = time_grid(1)
    assert g.dtype == F64 and g.tolist() == [1.0, 1e-3]
    with pytest.raises(ValueError, match="^n_steps must be >= 1"):
        time_grid(0)
    with pytest.raises(ValueError, match=r"^t_max must be a finite number in \[0, 1\]"):
        time_grid(3, t_max=1.01)
    with pytest.raises(ValueError, match=r"^t_min must be a finite number in \(0, 0\.5\)"):
        time_grid(3, t_max=0.5, t_min=0.5)
    sde = VPSDE(B_MIN, B_MAX)
    x = x_start(2, 1)
    assert pf_ode_euler(denoiser, x, torch.tensor([1.0, 1e-9], dtype=F64), sde=sde).nfe == 1
    for bad in ([0.5], [0.5, 0.5], [0.3, 0.5]):
        with pytest.raises(ValueError, match="^ts must be a 1-D strictly decreasing grid"):
            pf_ode_euler(denoiser, x, torch.tensor(bad, dtype=F64), sde=sde)
    with pytest.raises(ValueError, match="^ts must be a 1-D strictly decreasing grid"):
        pf_ode_euler(denoiser, x, torch.tensor([[0.5, 0.2]], dtype=F64), sde=sde)
    with pytest.raises(ValueError, match=r"^ts must lie in \(0, 1\], got \[0\.0, 0\.5\]"):
        pf_ode_euler(denoiser, x, torch.tensor([0.5, 0.0], dtype=F64), sde=sde)
    with pytest.raises(ValueError, match=r"^ts must lie in \(0, 1\], got \[0\.5, 1\.5\]"):
        pf_ode_euler(denoiser, x, torch.tensor([1.5, 0.5], dtype=F64), sde=sde)


def test_geometric_sigmas_by_hand_and_bounds():
    """sigma_max .. sigma_min in geometric progression: (8, 1, 4) -> 8, 4, 2, 1 (float64)."""
    s = geometric_sigmas(8.0, 1.0, 4)
    assert s.dtype == F64
    assert close(s, torch.tensor([8.0, 4.0, 2.0, 1.0], dtype=F64))
    assert close(geometric_sigmas(3.0, 0.5, 2), torch.tensor([3.0, 0.5], dtype=F64))
    with pytest.raises(ValueError, match="^n_levels must be >= 2"):
        geometric_sigmas(3.0, 0.5, 1)
    with pytest.raises(ValueError, match=r"^sigma_min must be a finite number in \(0, 3"):
        geometric_sigmas(3.0, 3.0, 3)
    with pytest.raises(ValueError, match=r"^sigma_max must be a finite number in \(0, inf\)"):
        geometric_sigmas(0.0, 0.1, 3)


def test_annealed_langevin_replays_two_levels_by_hand():
    """Song & Ermon (2019) Alg. 1: alpha_l = lr sigma_l^2/sigma_L^2, score = (D(x; sigma_l) - x)
    / sigma_l^2, x <- x + alpha_l/2 score + sqrt(alpha_l) z_i; one noise slot per update."""
    sigmas = [1.2, 0.5]
    x = x_start(3, 5)
    noise = torch.randn(4, 3, 2, generator=gen(6), dtype=F64)
    rec = Trajectory()
    res = annealed_langevin(
        denoiser, x, sigmas, n_steps_each=2, step_lr=0.05, noise=noise, callback=rec
    )
    want, i = x, 0
    for sig in sigmas:
        alpha = 0.05 * (sig / 0.5) ** 2
        for _ in range(2):
            d = denoiser(want, torch.full((3,), sig, dtype=F64))
            want = want + alpha / 2 * (d - want) / sig**2 + math.sqrt(alpha) * noise[i]
            i += 1
    assert res.nfe == 4
    assert close(res.x, want)
    assert [(info["i"], info["level"], info["sigma"]) for info in rec.infos] == [
        (0, 0, 1.2),
        (1, 0, 1.2),
        (2, 1, 0.5),
        (3, 1, 0.5),
    ]
    assert torch.equal(rec.infos[0]["x"], x)
    assert close(rec.infos[0]["denoised"], denoiser(x, torch.full((3,), 1.2, dtype=F64)))
    # one level, one update each, with the defaults n_steps_each = 10 and step_lr = 2e-5 pinned
    one = annealed_langevin(denoiser, x, [0.7], n_steps_each=1, noise=noise[:1])
    d = denoiser(x, torch.full((3,), 0.7, dtype=F64))
    assert close(one.x, x + 1e-5 * (d - x) / 0.49 + math.sqrt(2e-5) * noise[0])
    assert annealed_langevin(denoiser, x, [0.7], generator=gen(1)).nfe == 10
    assert_seeded(lambda g: annealed_langevin(denoiser, x, sigmas, n_steps_each=1, generator=g).x)
    for bad in ([], [0.5, 0.0], [0.5, 0.5], [0.2, 0.5]):
        with pytest.raises(ValueError, match="^sigmas must be positive and strictly decreasing"):
            annealed_langevin(denoiser, x, bad)
    with pytest.raises(ValueError, match="^n_steps_each must be >= 1"):
        annealed_langevin(denoiser, x, sigmas, n_steps_each=0)
    with pytest.raises(ValueError, match=r"^step_lr must be a finite number in \(0, inf\)"):
        annealed_langevin(denoiser, x, sigmas, step_lr=0.0)


@pytest.mark.parametrize("name", ["ddpm", "ddim", "sde_em", "pf_euler", "pf_heun"])
def test_run_sampler_wires_each_sampler(name):
    """run_sampler draws x_T (float32, shape (n, 2) by default) and then every later draw from
    one generator, and passes schedule.timesteps(n_steps), eta, t_min and the callback on."""
    sch = small_schedule()
    sde = VPSDE(B_MIN, B_MAX)
    rec = Trajectory()
    got = run_sampler(
        name,
        denoiser,
        3,
        2,
        schedule=sch,
        sde=sde,
        eta=0.5,
        t_min=0.05,
        generator=gen(8),
        callback=rec,
    )
    g = gen(8)
    z = torch.randn(3, 2, generator=g)
    ts = sch.timesteps(2)
    if name == "ddpm":
        want = ddpm_sample(denoiser, z, ts, schedule=sch, generator=g)
    elif name == "ddim":
        want = ddim_sample(denoiser, z, ts, schedule=sch, eta=0.5, generator=g)
    else:
        grid = time_grid(2, t_min=0.05)
        run = {"sde_em": reverse_sde_em, "pf_euler": pf_ode_euler, "pf_heun": pf_ode_heun}[name]
        kw = {"generator": g} if name == "sde_em" else {}
        want = run(denoiser, sde.prior_std() * z, grid, sde=sde, **kw)
    assert got.x.dtype == torch.float32 and got.x.shape == (3, 2)
    assert torch.equal(got.x, want.x) and got.nfe == want.nfe
    assert len(rec.infos) == 2
    assert_seeded(
        lambda g: run_sampler(name, denoiser, 3, 2, schedule=sch, sde=sde, eta=0.5, generator=g).x
    )


def test_run_sampler_options_and_checks():
    """Shape, dtype and the global RNG (generator=None) work; n and n_steps must be >= 1."""
    sch = small_schedule()
    sde = VPSDE(B_MIN, B_MAX)
    res = run_sampler(
        "pf_euler", denoiser, 2, 1, schedule=sch, sde=sde, shape=(3, 1), dtype=F64, device="cpu"
    )
    assert res.x.shape == (2, 3, 1) and res.x.dtype == F64
    res = run_sampler("ddim", denoiser, 2, 1, schedule=sch, sde=sde)
    assert res.x.shape == (2, 2)
    with pytest.raises(ValueError, match="^n must be >= 1"):
        run_sampler("ddim", denoiser, 0, 1, schedule=sch, sde=sde)
    with pytest.raises(ValueError, match="^n_steps must be >= 1"):
        run_sampler("ddim", denoiser, 1, 0, schedule=sch, sde=sde)
    with pytest.raises(TypeError, match="^generator must be a torch.Generator"):
        run_sampler("ddim", denoiser, 1, 1, schedule=sch, sde=sde, generator=1)
    with pytest.raises(ValueError, match=r"^sampler must be one of \('ddpm'"):
        run_sampler("euler", denoiser, 1, 1, schedule=sch, sde=sde)


# =======================================================================================
# flow.py (t = 0 data, t = 1 noise: x_t = (1 - t) x_0 + t x_1)
# =======================================================================================
def vel(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """A non-linear velocity v(x, t) = t x + cos(x)/2 (curved paths), t of shape (B,)."""
    return t.reshape(-1, *([1] * (x.dim() - 1))) * x + 0.5 * torch.cos(x)


def test_conditional_path_and_velocity_per_sample():
    """x_t = (1 - t) x_0 + t x_1 with one t per sample (ends 0 and 1 included); u = x_1 - x_0."""
    x0, x1 = x_start(3, 1), x_start(3, 2)
    t = torch.tensor([0.0, 0.25, 1.0], dtype=F64)
    got = conditional_path(x0, x1, t)
    assert torch.equal(got[0], x0[0]) and torch.equal(got[2], x1[2])
    assert close(got[1], 0.75 * x0[1] + 0.25 * x1[1])
    assert torch.equal(conditional_velocity(x0, x1), x1 - x0)
    with pytest.raises(ValueError, match="^x_data and x_noise must have the same shape"):
        conditional_velocity(x0, x1[:2])
    with pytest.raises(ValueError, match=r"^t must lie in \[0, 1\]"):
        conditional_path(x0, x1, -0.1)


def test_mixture_velocity_closed_form_for_gaussian_data_and_t_one():
    """Data N(m, c^2 I): E[x_0 | x_t = x] = m + (1-t) c^2 / ((1-t)^2 c^2 + t^2) (x - (1-t) m)
    (Gaussian conditioning), v = (x - E[x_0 | x])/t; at t = 1, v = x - m. Rows with t < 1 and
    t = 1 mixed in one call; a float32 input stays float32."""
    m, c = 0.6, 0.8
    g = gaussian(torch.full((2,), m, dtype=F64), c**2 * torch.eye(2, dtype=F64))
    x = x_start(3, 3)
    t = torch.tensor([0.3, 1.0, 0.7], dtype=F64)
    got = mixture_velocity(g, x, t)
    for row in range(3):
        tt = float(t[row])
        post = m + (1 - tt) * c**2 / ((1 - tt) ** 2 * c**2 + tt**2) * (x[row] - (1 - tt) * m)
        assert close(got[row], (x[row] - post) / tt)
    assert close(mixture_velocity(g, x, 1.0), x - m)
    x32 = x.float()
    assert mixture_velocity(g, x32, t.float()).dtype == torch.float32
    assert mixture_velocity(g, x32, 1.0).dtype == torch.float32
    with pytest.raises(ValueError, match=r"^the marginal velocity \(10\.2\) needs t > 0$"):
        mixture_velocity(g, x, torch.tensor([0.5, 0.0, 0.5], dtype=F64))
    with pytest.raises(ValueError, match=r"^t must lie in \[0, 1\]"):
        mixture_velocity(g, x, 1.2)
    with pytest.raises(TypeError, match="^mix must be a GaussianMixture, got str"):
        mixture_velocity("mix", x, 0.5)


def test_cfm_loss_by_hand_and_its_draws():
    """Given x_1 and t: mean over entries of (v(x_t, t) - (x_1 - x_0))^2. Otherwise x_1 ~ N(0, I)
    then t ~ U(0, 1) are drawn, in that order and in x_0's dtype, from the generator alone."""
    x0, x1 = x_start(4, 1), x_start(4, 2)
    t = torch.tensor([0.1, 0.4, 0.6, 0.95], dtype=F64)
    xt = (1 - t[:, None]) * x0 + t[:, None] * x1
    want = ((vel(xt, t) - (x1 - x0)) ** 2).mean()
    assert close(cfm_loss(vel, x0, x_noise=x1, t=t), want, rtol=1e-13)
    g = gen(9)
    x1g = torch.randn(4, 2, generator=g, dtype=F64)
    tg = torch.rand(4, generator=g, dtype=F64)
    xt = (1 - tg[:, None]) * x0 + tg[:, None] * x1g
    want = ((vel(xt, tg) - (x1g - x0)) ** 2).mean()
    assert close(cfm_loss(vel, x0, generator=gen(9)), want, rtol=1e-13)
    assert_seeded(lambda g: cfm_loss(vel, x0, generator=g))
    assert_seeded(lambda g: cfm_loss(vel, x0, x_noise=x1, generator=g))
    with pytest.raises(TypeError, match="^velocity must be callable as v"):
        cfm_loss(None, x0)
    with pytest.raises(TypeError, match="^generator must be a torch.Generator"):
        cfm_loss(vel, x0, x_noise=x1, t=t, generator=3)
    with pytest.raises(ValueError, match=r"^t must lie in \[0, 1\]"):
        cfm_loss(vel, x0, x_noise=x1, t=t + 0.1)


def test_flow_grid_values_and_checks():
    """An int k: k + 1 uniform times 1..0; a tensor: as given, strictly decreasing in [0, 1]."""
    assert flow_grid(4) == [1.0, 0.75, 0.5, 0.25, 0.0]
    assert flow_grid(1) == [1.0, 0.0]
    got = flow_grid(torch.tensor([1.0, 0.4, 0.0], dtype=torch.float32))
    assert got == pytest.approx([1.0, 0.4, 0.0], abs=1e-7) and isinstance(got[1], float)
    with pytest.raises(ValueError, match=r"^grid \(the number of steps\) must be >= 1"):
        flow_grid(0)
    for bad in ([0.5], [1.0, 0.5, 0.5], [0.2, 0.5]):
        with pytest.raises(ValueError, match="^grid must be a 1-D strictly decreasing tensor"):
            flow_grid(torch.tensor(bad))
    with pytest.raises(ValueError, match="^grid must be a 1-D strictly decreasing tensor"):
        flow_grid(torch.tensor([[1.0, 0.0]]))
    with pytest.raises(ValueError, match=r"^grid times must lie in \[0, 1\], got \[-0\.1"):
        flow_grid(torch.tensor([1.0, -0.1], dtype=F64))
    with pytest.raises(ValueError, match=r"^grid times must lie in \[0, 1\], got \[0\.0, 1\.5\]"):
        flow_grid(torch.tensor([1.5, 0.0], dtype=F64))


def test_flow_euler_sample_replays_a_non_uniform_grid():
    """x <- x + (t_next - t) v(x, t) on 1 -> 0.6 -> 0.1 -> 0; callback {i, x, t, velocity,
    denoised = x - t v}; nfe = 3."""
    x = x_start(3, 4)
    rec = Trajectory()
    res = flow_euler_sample(vel, x, torch.tensor([1.0, 0.6, 0.1, 0.0], dtype=F64), callback=rec)
    want = x
    states = []
    for t, tn in ((1.0, 0.6), (0.6, 0.1), (0.1, 0.0)):
        states.append(want)
        want = want + (tn - t) * vel(want, torch.full((3,), t, dtype=F64))
    assert res.nfe == 3
    assert close(res.x, want)
    assert [(info["i"], info["t"]) for info in rec.infos] == [(0, 1.0), (1, 0.6), (2, 0.1)]
    v1 = vel(states[1], torch.full((3,), 0.6, dtype=F64))
    assert close(rec.infos[1]["x"], states[1])
    assert close(rec.infos[1]["velocity"], v1)
    assert close(rec.infos[1]["denoised"], states[1] - 0.6 * v1)
    with pytest.raises(TypeError, match="^velocity must be callable"):
        flow_euler_sample("v", x, 2)


def straightness_by_hand(x1: torch.Tensor, n: int) -> float:
    """(10.6) on an n-step Euler grid: mean over steps of E ||(z_1 - z_0) - v(z_t, t)||^2."""
    z, vs = x1, []
    for k in range(n):
        t = 1.0 - k / n
        v = vel(z, torch.full((x1.shape[0],), t, dtype=x1.dtype))
        vs.append(v)
        z = z - v / n
    chord = x1 - z
    return sum(float(((chord - v) ** 2).flatten(1).sum(1).mean()) for v in vs) / n


def test_straightness_by_hand_on_images_and_its_default():
    """S on (B, 2, 2) inputs (the squared deviation summed over all coordinates of a sample),
    for 3 steps and for the default 100; zero for a constant velocity (straight paths)."""
    x1 = x_start(3, 5, shape=(2, 2))
    assert straightness(vel, x1, 3) == pytest.approx(straightness_by_hand(x1, 3), rel=1e-12)
    assert straightness(vel, x1) == pytest.approx(straightness_by_hand(x1, 100), rel=1e-10)
    assert straightness(lambda x, t: torch.ones_like(x), x1, 4) == pytest.approx(0.0, abs=1e-28)
    with pytest.raises(ValueError, match="^n_steps must be >= 1"):
        straightness(vel, x1, 0)


def test_reflow_pairs_replay_defaults_and_seeding():
    """x_noise ~ N(0, I) of shape (n, 2) in float64 from the generator, x_data = its 100-step
    Euler solution (the defaults); n_steps, dim and dtype as given; n, dim >= 1."""
    x0, x1 = reflow_pairs(vel, 3, generator=gen(4))
    want1 = torch.randn(3, 2, generator=gen(4), dtype=F64)
    assert x1.dtype == F64 and torch.equal(x1, want1)
    assert close(x0, flow_euler_sample(vel, want1, 100).x)
    x0, x1 = reflow_pairs(vel, 2, dim=3, n_steps=2, generator=gen(4), dtype=torch.float32)
    want1 = torch.randn(2, 3, generator=gen(4))
    assert torch.equal(x1, want1)
    z = want1 - 0.5 * vel(want1, torch.ones(2))
    z = z - 0.5 * vel(z, torch.full((2,), 0.5))
    assert close(x0, z, atol=1e-6)
    assert_seeded(lambda g: reflow_pairs(vel, 3, n_steps=1, generator=g)[0])
    x0, x1 = reflow_pairs(vel, 2, n_steps=1, device="cpu")  # global RNG
    assert x0.shape == (2, 2)
    with pytest.raises(ValueError, match="^n must be >= 1"):
        reflow_pairs(vel, 0)
    with pytest.raises(ValueError, match="^dim must be >= 1"):
        reflow_pairs(vel, 2, dim=0)
    with pytest.raises(TypeError, match="^generator must be a torch.Generator"):
        reflow_pairs(vel, 2, generator="seed")
    with pytest.raises(TypeError, match="^velocity must be callable"):
        reflow_pairs(3, 2)


def test_velocity_net_defaults_and_forward():
    """VelocityNet.mlp() is the MLP(dim=2, hidden=128, depth=3, emb_dim=32) of its signature;
    forward passes t (a scalar or (B,), checked in [0, 1]) on as one value per sample."""
    net = VelocityNet.mlp()
    ref = MLP(2, 128, 3, 32)
    assert [p.shape for p in net.parameters()] == [p.shape for p in ref.parameters()]
    torch.manual_seed(0)
    net = VelocityNet.mlp(dim=3, hidden=8, depth=2, emb_dim=4).double()
    assert [tuple(p.shape) for p in net.net.parameters()][0] == (8, 7)
    x = x_start(2, 6, shape=(3,))
    got = net(x, 0.3)
    assert close(got, net.net(x, torch.full((2,), 0.3, dtype=F64)))
    assert close(net(x, torch.tensor([0.3, 0.3], dtype=F64)), got)
    with pytest.raises(ValueError, match=r"^t must lie in \[0, 1\]"):
        net(x, 1.5)
    with pytest.raises(TypeError, match="^net must be an nn.Module, got str"):
        VelocityNet("net")


def test_float32_inputs_stay_float32():
    """The float64 schedule is cast to the input's dtype: a float32 chain, DDIM/DDPM sampler,
    DDIM encoder and single DDIM step return float32 (close to the float64 run)."""
    sch = small_schedule()
    x64 = x_start(3, 1)
    x = x64.float()
    out = iterate_chain(x, 3, sch, generator=gen(1))
    assert out.dtype == torch.float32
    assert close(out, iterate_chain(x64, 3, sch, generator=gen(1)).float(), atol=1e-6)
    for run in (ddim_sample, ddpm_sample, ddim_invert):
        kw = {} if run is ddim_invert else {"noise": torch.zeros(2, 3, 2)}
        out = run(denoiser, x, torch.tensor([4, 2]), schedule=sch, **kw)
        assert out.x.dtype == torch.float32
    ab, abp = torch.tensor(0.3, dtype=F64), torch.tensor(0.7, dtype=F64)
    assert ddim_step(x, x, x, ab, abp, 0.5, x).dtype == torch.float32


def test_steps_without_noise_draw_nothing():
    """A step that adds no noise asks for no draw: eta = 0 DDIM never calls ``noise``, DDIM
    with eta > 0 and DDPM skip the last step (to alpha_bar = 1), reverse EM skips its last step.
    So a generator shared with later code is advanced only by the draws actually used."""
    sch = small_schedule()
    x = x_start(3, 2)
    ts = torch.tensor([5, 3, 1])

    def recorder():
        calls = []

        def noise(i, xx):
            calls.append(i)
            return torch.zeros_like(xx)

        return calls, noise

    calls, noise = recorder()
    ddim_sample(denoiser, x, ts, schedule=sch, eta=0.0, noise=noise)
    assert calls == []
    calls, noise = recorder()
    ddim_sample(denoiser, x, ts, schedule=sch, eta=0.5, noise=noise)
    assert calls == [0, 1]
    calls, noise = recorder()
    ddim_sample(denoiser, x, ts, schedule=sch, eta=0.5, noise=noise, set_alpha_to_one=False)
    assert calls == [0, 1, 2]
    calls, noise = recorder()
    ddpm_sample(denoiser, x, ts, schedule=sch, noise=noise)
    assert calls == [0, 1]
    calls, noise = recorder()
    grid = torch.tensor([0.9, 0.6, 0.3], dtype=F64)
    reverse_sde_em(denoiser, x, grid, sde=VPSDE(B_MIN, B_MAX), noise=noise)
    assert calls == [0]
    g = gen(3)
    ddim_sample(denoiser, x, ts, schedule=sch, eta=0.5, generator=g)
    g2 = gen(3)
    for _ in range(2):
        torch.randn(x.shape, generator=g2, dtype=F64)
    assert torch.equal(torch.randn(2, generator=g), torch.randn(2, generator=g2))


def test_forward_functions_name_their_bad_arguments():
    """Each check names the argument it rejects."""
    sch = small_schedule()
    x = x_start(2, 1)
    with pytest.raises(TypeError, match="^x0 must be a torch.Tensor"):
        iterate_chain([1.0], 2, sch)
    with pytest.raises(TypeError, match="^t_end must be an int"):
        iterate_chain(x, 2.5, sch)
    with pytest.raises(TypeError, match="^x0 must be a torch.Tensor"):
        posterior_mean_var([1.0], x, 1, sch)
    with pytest.raises(TypeError, match="^xt must be a torch.Tensor"):
        posterior_mean_var(x, [1.0], 1, sch)
    with pytest.raises(TypeError, match="^x0 must be a torch.Tensor"):
        q_sample([1.0], 1, sch)
    with pytest.raises(ValueError, match=r"^xt and x0 must have the same shape, got \(2, 2\)"):
        eps_from_x0(x, x[:, :1], 0.5)
    with pytest.raises(ValueError, match=r"^xt and eps must have the same shape, got \(2, 2\)"):
        x0_from_eps(x, x[:, :1], 0.5)
    with pytest.raises(TypeError, match="^grid must be a torch.Tensor"):
        bayes_posterior_on_grid(0.0, 0.0, 2, sch, [0.0, 1.0])


def test_float32_arithmetic_is_done_in_float32():
    """A float32 input is computed in float32 throughout: the chain (1.1) with float32 betas
    and the inversions of (1.3) with a float32 alpha_bar equal a float32 replay bit for bit
    (Ho et al.'s linear schedule, T = 1000, whose float32 and float64 sqrt(1 - beta_t) differ
    in the last bit at several t)."""
    from course_lib.diffusion import make_schedule

    sch = make_schedule("linear", 1000)
    b32 = sch.betas.float()
    x0 = torch.randn(64, 2, generator=gen(2))
    g = gen(3)
    x = x0
    for s in range(1, 9):
        x = (1 - b32[s]).sqrt() * x + b32[s].sqrt() * torch.randn(x.shape, generator=g)
    assert torch.equal(iterate_chain(x0, 8, sch, generator=gen(3)), x)
    xt, e = torch.randn(64, 2, generator=gen(4)), torch.randn(64, 2, generator=gen(5))
    for v in sch.alpha_bars[1::50].tolist():
        ab = torch.tensor(v, dtype=torch.float32)
        assert torch.equal(x0_from_eps(xt, e, v), (xt - (1 - ab).sqrt() * e) / ab.sqrt())
        assert torch.equal(eps_from_x0(xt, e, v), (xt - ab.sqrt() * e) / (1 - ab).sqrt())


def test_inversions_take_an_elementwise_alpha_bar_and_the_grid_density_is_float64():
    """alpha_bar of x's full shape applies entry by entry (it is not read as one value per
    sample); the Bayes grid density is computed in float64 even on a float32 grid."""
    xt, e = x_start(2, 1), x_start(2, 2)
    ab = torch.tensor([[0.25, 0.64], [0.36, 0.81]], dtype=F64)
    assert close(x0_from_eps(xt, e, ab), (xt - (1 - ab).sqrt() * e) / ab.sqrt())
    assert close(eps_from_x0(xt, e, ab), (xt - ab.sqrt() * e) / (1 - ab).sqrt())
    sch = small_schedule()
    grid = torch.linspace(-5, 5, 2001)
    got = bayes_posterior_on_grid(0.4, -0.3, 3, sch, grid)
    assert got.dtype == F64
    ab3, ab2 = ab_hand(3), ab_hand(2)
    cov = math.sqrt(ab3 / ab2) * (1 - ab2)
    m = math.sqrt(ab2) * 0.4 + cov / (1 - ab3) * (-0.3 - math.sqrt(ab3) * 0.4)
    v = (1 - ab2) - cov**2 / (1 - ab3)
    g64 = grid.double()
    want = torch.exp(-((g64 - m) ** 2) / (2 * v)) / math.sqrt(2 * math.pi * v)
    assert close(got, want, rtol=1e-7, atol=1e-9)


@pytest.mark.gpu
def test_forward_process_on_cuda_with_a_cpu_schedule():
    """x on CUDA, the schedule (and t, alpha_bar, the generator) on the CPU: every result lives
    on CUDA and equals the CPU computation."""
    sch = small_schedule()
    x0, eps = x_start(3, 1), x_start(3, 2)
    xc, ec = x0.cuda(), eps.cuda()
    t = torch.tensor([1, 3, 5])
    got, _ = q_sample(xc, t, sch, noise=ec)
    assert got.device.type == "cuda"
    assert close(got.cpu(), q_sample(x0, t, sch, noise=eps)[0])
    assert q_sample(xc, 2, sch, noise=ec)[0].device.type == "cuda"
    got = iterate_chain(xc, 3, sch, generator=gen(1))
    assert got.device.type == "cuda"
    assert close(got.cpu(), iterate_chain(x0, 3, sch, generator=gen(1)))
    mean, var = posterior_mean_var(xc, ec, t, sch)
    assert mean.device.type == var.device.type == "cuda"
    assert close(mean.cpu(), posterior_mean_var(x0, eps, t, sch)[0])
    ab = torch.tensor([0.3, 0.5, 0.7], dtype=F64)
    assert x0_from_eps(xc, ec, ab).device.type == "cuda"
    assert eps_from_x0(xc, ec, 0.5).device.type == "cuda"
    a, s = marginal_coefficients(sch.to("cuda"), 3)
    assert a.device.type == s.device.type == "cuda"


def test_flow_functions_name_their_bad_arguments_and_use_the_global_rng_without_generator():
    """Tensors of at least 2 dimensions (batch first) named in the error; a non-callable
    velocity is named by its type; without a generator cfm_loss draws x_1 and t from the global
    RNG (reproducible under torch.manual_seed)."""
    x = x_start(3, 1)
    mix = toy_mixture()
    with pytest.raises(ValueError, match=r"^x_data must have at least 2 dimension"):
        conditional_velocity(x[0], x[1])
    with pytest.raises(TypeError, match=r"^velocity must be callable as v\(x, t\), got int$"):
        flow_euler_sample(3, x, 2)
    with pytest.raises(TypeError, match="^x must be a torch.Tensor"):
        mixture_velocity(mix, [1.0, 2.0], 0.5)
    with pytest.raises(ValueError, match="^x must have at least 2 dimension"):
        mixture_velocity(mix, x[0], 0.5)
    with pytest.raises(TypeError, match="^x_data must be a torch.Tensor"):
        cfm_loss(vel, [1.0])
    with pytest.raises(ValueError, match="^x_data must have at least 2 dimension"):
        cfm_loss(vel, x[0])
    torch.manual_seed(5)
    a = cfm_loss(vel, x)
    torch.manual_seed(5)
    assert torch.equal(cfm_loss(vel, x), a)
    torch.manual_seed(5)
    b = cfm_loss(vel, x, x_noise=x_start(3, 2))
    torch.manual_seed(5)
    assert torch.equal(cfm_loss(vel, x, x_noise=x_start(3, 2)), b)


def test_run_sampler_scales_the_start_by_the_prior_std():
    """For the VE SDE (prior std sqrt(sigma_max^2 - sigma_min^2) = 5 here, not 1) the continuous
    samplers start from prior_std * z."""
    sde = VESDE(0.5, math.sqrt(25.25))  # prior_std = sqrt(25.25 - 0.25) = 5
    sch = small_schedule()
    got = run_sampler("pf_euler", denoiser, 3, 2, schedule=sch, sde=sde, generator=gen(8))
    z = torch.randn(3, 2, generator=gen(8))
    want = pf_ode_euler(denoiser, 5.0 * z, time_grid(2), sde=sde)
    assert torch.equal(got.x, want.x)


def test_sampler_inputs_are_checked_by_name():
    """x must be batched (>= 2 dims); a long bad grid shows its first five steps."""
    x = x_start(3, 1)
    with pytest.raises(ValueError, match=r"^x must have at least 2 dimension"):
        eps_from_denoiser(denoiser, x[0], 1.0, 0.5)
    with pytest.raises(ValueError, match=r"^x must have at least 2 dimension"):
        score_from_denoiser(denoiser, x[0], 1.0, 0.5)
    with pytest.raises(TypeError, match=r"^denoiser must be callable as D\(x, sigma\), got int"):
        eps_from_denoiser(3, x, 1.0, 0.5)
    sch = make_schedule("cosine", 10)
    with pytest.raises(ValueError, match=r"within 1\.\.10, got \[10, 9, 8, 7, 6\]\.\.\.$"):
        ddim_sample(denoiser, x, torch.tensor([10, 9, 8, 7, 6, 5, 5]), schedule=sch)
    with pytest.raises(ValueError, match=r"^timesteps must be strictly decreasing within 1\.\.10"):
        ddpm_sample(denoiser, x, torch.tensor([10, 11]), schedule=sch)
    with pytest.raises(ValueError, match=r"^x must have at least 2 dimension"):
        ddim_sample(denoiser, x[0], schedule=sch)
    with pytest.raises(ValueError, match=r"^x must have at least 2 dimension"):
        ddpm_sample(denoiser, x[0], schedule=sch)
    with pytest.raises(ValueError, match=r"^x must have at least 2 dimension"):
        ddim_invert(denoiser, x[0], schedule=sch)
    with pytest.raises(TypeError, match=r"^callback must be callable"):
        ddim_invert(denoiser, x, schedule=sch, callback=1)


def test_flow_grid_checks_its_last_time_and_dtype():
    """The end of a longer grid is checked (not its second point); an integer grid is
    rejected by name."""
    with pytest.raises(ValueError, match=r"^grid times must lie in \[0, 1\], got \[-0\.1, 1\.0\]"):
        flow_grid(torch.tensor([1.0, 0.5, -0.1], dtype=F64))
    with pytest.raises(TypeError, match="^grid must be a floating-point tensor"):
        flow_grid(torch.tensor([1, 0]))


def test_flow_grid_is_float64_and_velocity_net_checks_x():
    """k uniform steps are float64 times (1/3 to 1e-12, which float32 misses by 1e-8);
    VelocityNet names a bad x."""
    assert flow_grid(3) == pytest.approx([1.0, 2 / 3, 1 / 3, 0.0], rel=1e-12, abs=1e-15)
    net = VelocityNet.mlp(dim=2, hidden=4, depth=1, emb_dim=4)
    with pytest.raises(ValueError, match="^x must have at least 2 dimension"):
        net(torch.zeros(2), 0.5)
    with pytest.raises(TypeError, match="^x must be a torch.Tensor"):
        net([0.0, 0.0], 0.5)


def test_eps_hat_is_zero_at_s_zero_even_for_an_imperfect_network():
    """At s = 0, eps_hat = 0 (its limit) whatever the network returns, not x - a D(x/a; 0)."""
    x = x_start(2, 3)
    _, eps_hat = eps_from_denoiser(lambda y, sig: 0.9 * y + 0.1, x, 0.8, 0.0)
    assert torch.equal(eps_hat, torch.zeros_like(x))


def test_ddim_step_with_float_alpha_bars_keeps_float64_precision():
    """Python-float alpha_bars in a float64 step give sigma_t(eta) and sqrt(ab') to float64
    round-off (Song et al. eq. 12 by hand), not float32's 1e-8."""
    x, x0, e, z = x_start(2, 1), x_start(2, 2), x_start(2, 3), x_start(2, 4)
    ab, abp, eta = 0.3, 0.7, 0.5
    s2 = eta**2 * (1 - abp) / (1 - ab) * (1 - ab / abp)
    want = math.sqrt(abp) * x0 + math.sqrt(1 - abp - s2) * e + math.sqrt(s2) * z
    got = ddim_step(x, x0, e, ab, abp, eta, z)
    assert got.dtype == F64
    assert close(got, want, rtol=1e-13, atol=1e-14)


def test_run_sampler_ddim_is_deterministic_by_default():
    """eta defaults to 0: after the start draw x_T, DDIM takes nothing from the generator, so
    run_sampler equals eta = 0 DDIM from the same x_T and leaves the generator where x_T did."""
    sch, sde = small_schedule(), VPSDE(B_MIN, B_MAX)
    g = gen(8)
    got = run_sampler("ddim", denoiser, 3, 2, schedule=sch, sde=sde, generator=g)
    g_ref = gen(8)
    z = torch.randn(3, 2, generator=g_ref)
    want = ddim_sample(denoiser, z, sch.timesteps(2), schedule=sch, eta=0.0)
    assert torch.equal(got.x, want.x)
    assert torch.equal(g.get_state(), g_ref.get_state())


@pytest.mark.parametrize("name", ["ddim", "pf_euler"])
def test_run_sampler_rejects_zero_steps_before_drawing(name):
    """n_steps = 0 is refused by run_sampler itself, before x_T is drawn: the generator is
    left untouched."""
    sch, sde = small_schedule(), VPSDE(B_MIN, B_MAX)
    g = gen(5)
    with pytest.raises(ValueError, match=r"^n_steps must be >= 1, got 0$"):
        run_sampler(name, denoiser, 2, 0, schedule=sch, sde=sde, generator=g)
    assert torch.equal(g.get_state(), gen(5).get_state())


def test_ode_solvers_check_ts_fully_with_their_messages():
    """The whole grid is checked: a rise after the second point, the last time at 0, a list
    instead of a tensor and a non-SDE are refused with messages that name what came."""
    sde = VPSDE(B_MIN, B_MAX)
    x = x_start(2, 1)
    for run in (pf_ode_euler, pf_ode_heun, reverse_sde_em):
        with pytest.raises(
            ValueError, match=r"^ts must be a 1-D strictly decreasing grid with at least 2 points$"
        ):
            run(denoiser, x, torch.tensor([1.0, 0.5, 0.7], dtype=F64), sde=sde)
        with pytest.raises(ValueError, match=r"^ts must lie in \(0, 1\], got \[0\.0, 1\.0\]$"):
            run(denoiser, x, torch.tensor([1.0, 0.5, 0.0], dtype=F64), sde=sde)
        with pytest.raises(TypeError, match=r"^ts must be a torch\.Tensor, got list$"):
            run(denoiser, x, [1.0, 0.5], sde=sde)
        with pytest.raises(
            TypeError, match=r"^sde must be an SDE \(VPSDE, SubVPSDE, VESDE\), got int$"
        ):
            run(denoiser, x, torch.tensor([1.0, 0.5], dtype=F64), sde=3)


def test_pf_drift_checks_x_first_and_names_the_sde_type():
    """x is checked (type, then >= 2 dims) before the time; a non-SDE is named by its type."""
    sde = VPSDE(B_MIN, B_MAX)
    with pytest.raises(TypeError, match=r"^x must be a torch\.Tensor, got list$"):
        pf_drift(denoiser, sde, [[0.0, 1.0]], 0.5)
    with pytest.raises(ValueError, match=r"^x must have at least 2 dimension\(s\), got shape"):
        pf_drift(denoiser, sde, torch.zeros(2, dtype=F64), 0.0)
    with pytest.raises(
        TypeError, match=r"^sde must be an SDE \(VPSDE, SubVPSDE, VESDE\), got int$"
    ):
        pf_drift(denoiser, 3, x_start(2, 1), 0.5)


def test_pf_drift_of_a_float32_x_rounds_g_to_float32_first():
    """A float32 x is computed in float32: with the VE SDE (f = 0) and D = 0 (score = -x/s^2),
    the drift equals a float32 replay from the float32-rounded g(t) and std(t) bit for bit
    (g^2 taken in float64 and rounded afterwards differs in the last bit at some t)."""
    sde = VESDE()
    x = torch.randn(64, 2, generator=gen(0))
    for t in torch.linspace(0.05, 1.0, 20, dtype=F64):
        g32, s32 = sde.g(t).float(), sde.std(t).float()
        score = -(x / s32) / s32
        got = pf_drift(lambda y, sig: torch.zeros_like(y), sde, x, t)
        assert got.dtype == torch.float32
        assert torch.equal(got, -(0.5 * g32**2) * score)
