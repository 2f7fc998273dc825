"""The bridges to diffusers / k-diffusion / torchdiffeq / torchcfm conventions.

Each reference below is written by hand from the peer's published formulas (diffusers'
``DDIMScheduler.set_timesteps`` and ``step``, k-diffusion's discrete eps wrapper, torchcfm's
path), in the peer's own index convention, so an off-by-one in the bridge fails.
"""

import math

import numpy as np
import pytest
import torch

from course_lib.diffusion import (
    EDM,
    VESDE,
    VPSDE,
    DiscreteEpsDenoiser,
    SubVPSDE,
    Trajectory,
    annealed_langevin,
    conditional_path,
    ddim_invert,
    ddim_sample,
    ddpm_sample,
    discrete_sigmas,
    edm_sample,
    edm_sigmas,
    flow_euler_sample,
    gaussian,
    make_noise_sampler,
    make_schedule,
    mixture_velocity,
    pf_drift,
    pf_ode_heun,
    reverse_sde_em,
    sde_time,
    stochastic_sample,
    time_grid,
    toy_mixture,
)

F64 = torch.float64


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


# --- timestep spacing -----------------------------------------------------------------
@pytest.mark.parametrize("T,n", [(1000, 10), (1000, 50), (1000, 3), (1000, 16), (100, 7), (10, 10)])
def test_diffusers_spacings_match_their_formulas_shifted_by_one(T, n):
    """diffusers (index k = 0..T-1): leading arange(n) * (T//n) (+ offset), trailing
    round(arange(T, 0, -T/n)) - 1, linspace linspace(0, T-1, n).round(); ours is k + 1."""
    sch = make_schedule("cosine", T)  # the spacing does not depend on the betas
    leading = np.arange(0, n) * (T // n)
    trailing = np.round(T - np.arange(n) * (T / n)) - 1  # arange(T, 0, -T/n), first n terms
    linspace = np.linspace(0, T - 1, n).round()
    for spacing, k in (("leading", leading), ("trailing", trailing), ("linspace", linspace)):
        ours = sch.timesteps(n, spacing).numpy()
        expected = np.sort(k.astype(np.int64))[::-1] + 1
        np.testing.assert_array_equal(ours, expected, err_msg=spacing)
        assert ours.dtype == np.int64 and len(set(ours.tolist())) == n
    offset = (
        sch.timesteps(n, "leading", steps_offset=1).numpy() if (n - 1) * (T // n) + 2 <= T else None
    )
    if offset is not None:
        np.testing.assert_array_equal(offset, np.sort(leading + 1)[::-1] + 1)


def test_trailing_starts_at_T_and_leading_ends_at_one():
    sch = make_schedule("linear", 1000)
    assert sch.timesteps(10, "trailing").tolist() == list(range(1000, 0, -100))
    assert sch.timesteps(10, "leading").tolist() == list(range(901, 0, -100))
    assert sch.timesteps(10, "leading", steps_offset=1).tolist() == list(range(902, 1, -100))
    # the shift: our alpha_bar_t is diffusers' alphas_cumprod[t - 1] (their linear betas)
    ac = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=F64), 0)
    assert torch.allclose(sch.alpha_bars[1:], ac, rtol=1e-12)


def test_uniform_and_linspace_differ_only_at_rounding_ties():
    sch = make_schedule("linear", 1000)
    u, lin = sch.timesteps(3, "uniform"), sch.timesteps(3, "linspace")
    # i (T-1)/(n-1) = 499.5 is a tie: diffusers rounds it to 500 (k), i.e. our 501
    assert lin.tolist() == [1000, 501, 1] and u.tolist() == [1000, 500, 1]
    assert torch.equal(
        sch.timesteps(10, "uniform"), sch.timesteps(10, "linspace")
    )  # 111 i: no ties


def test_spacing_bad_inputs():
    sch = make_schedule("linear", 100)
    with pytest.raises(ValueError, match="spacing must be one of"):
        sch.timesteps(10, "karras")
    with pytest.raises(ValueError, match="steps_offset applies to spacing='leading'"):
        sch.timesteps(10, "trailing", steps_offset=1)
    with pytest.raises(ValueError, match="pushes the last leading step"):
        sch.timesteps(10, "leading", steps_offset=10)
    with pytest.raises(ValueError, match="n_steps must be <= T"):
        sch.timesteps(101, "trailing")


# --- the eps-model adapter ------------------------------------------------------------
def _mixture_eps_model(mix, alphas_cumprod, calls=None):
    """The exact eps-model of mixture data in diffusers' convention: eps(x_k, k) = E[eps | x_k]
    with x_k = sqrt(ac[k]) x_0 + sqrt(1 - ac[k]) eps (from the mixture's score, eq. 6.3)."""

    def eps(x_k, k):
        if calls is not None:
            calls.append(k.clone())
        if k.is_floating_point():  # interpolated steps: only integer-valued ones are exact
            assert torch.allclose(k, k.round(), atol=1e-9), k
            k = k.round().long()
        ab = alphas_cumprod.to(x_k.device)[k]
        return mix.eps(x_k, ab.sqrt(), (1 - ab).sqrt())

    return eps


def test_adapter_equals_the_mixture_denoiser_on_the_grid():
    mix, sch = toy_mixture(), make_schedule("linear", 1000)
    ac = sch.alpha_bars[1:]
    x = 3 * torch.randn(40, 2, generator=_gen(1), dtype=F64)
    ks = torch.tensor([0, 1, 10, 250, 500, 999])
    for quantize in (True, False):
        calls = []
        den = DiscreteEpsDenoiser(_mixture_eps_model(mix, ac, calls), ac, quantize=quantize)
        for k in ks:
            sigma = discrete_sigmas(ac)[k]
            assert torch.allclose(den(x, sigma), mix.denoiser(x, sigma), rtol=1e-10, atol=1e-10)
        got = torch.stack([c[0] for c in calls]).double()
        assert torch.allclose(got, ks.double(), atol=1e-9)  # k(sigma_k) = k (diffusers' index)
    # a Schedule is the same adapter, sigma = 0 is the identity and never calls the model
    calls = []
    den = DiscreteEpsDenoiser(_mixture_eps_model(mix, ac, calls), sch)
    sig = torch.tensor([0.0] * 20 + [float(den.sigmas[5])] * 20, dtype=F64)
    out = den(x, sig)
    assert torch.equal(out[:20], x[:20]) and len(calls) == 1 and calls[0].numel() == 20
    assert torch.allclose(out[20:], mix.denoiser(x[20:], sig[20:]), atol=1e-10)


def test_adapter_step_lookup_between_grid_points():
    ac = make_schedule("cosine", 200).alpha_bars[1:]
    den = DiscreteEpsDenoiser(lambda x, k: torch.zeros_like(x), ac)
    log_s = den.sigmas.log()
    k = 37
    # the log-midpoint of sigma_37 and sigma_38, nudged: nearest is 37 or 38, interpolated 37.5
    mid = ((log_s[k] + log_s[k + 1]) / 2).exp()
    assert int(den.sigma_to_t(mid * 0.999)) == k and int(den.sigma_to_t(mid * 1.001)) == k + 1
    assert math.isclose(float(den.sigma_to_t(mid, quantize=False)), k + 0.5, abs_tol=1e-9)
    frac = den.sigma_to_t(torch.tensor([0.3, 1.0, 5.0], dtype=F64), quantize=False)
    assert torch.allclose(den.t_to_sigma(frac), torch.tensor([0.3, 1.0, 5.0], dtype=F64))
    # outside the trained range the end steps are used
    assert den.sigma_to_t(torch.tensor([1e-6, 1e6])).tolist() == [0, 199]
    assert den.sigma_to_t(torch.tensor([1e-6, 1e6]), quantize=False).tolist() == [0.0, 199.0]
    # a zero model gives D(x; sigma) = x, and the input scaling is x / sqrt(sigma^2 + 1)
    seen = []
    den2 = DiscreteEpsDenoiser(lambda x, k: seen.append(x) or torch.ones_like(x), ac)
    x = torch.ones(3, 2, dtype=F64)
    out = den2(x, 2.0)
    assert torch.allclose(seen[0], x / math.sqrt(5.0)) and torch.allclose(out, x - 2.0)


def test_adapter_bad_inputs():
    ac = make_schedule("linear", 50).alpha_bars[1:]
    with pytest.raises(TypeError, match="eps_model must be callable"):
        DiscreteEpsDenoiser("unet", ac)
    with pytest.raises(ValueError, match="strictly decreasing inside"):
        DiscreteEpsDenoiser(lambda x, k: x, ac.flip(0))
    with pytest.raises(ValueError, match="sigma must lie in"):
        DiscreteEpsDenoiser(lambda x, k: x, ac)(torch.zeros(2, 2), -1.0)
    with pytest.raises(ValueError, match="eps_model returned shape"):
        DiscreteEpsDenoiser(lambda x, k: x[:, :1], ac)(torch.zeros(2, 2), 1.0)


def _diffusers_ddim(eps_model, ac, ks, x, *, T, eta, final_alpha, noises):
    """DDIM as diffusers' DDIMScheduler.step writes it, in its index: prev = k - T//n,
    alpha_prev = ac[prev] or final_alpha, std = eta sqrt((1 - a_p)/(1 - a_t) (1 - a_t/a_p))."""
    step = T // len(ks)
    for j, k in enumerate(ks.tolist()):
        prev = k - step
        a_t = ac[k]
        a_p = ac[prev] if prev >= 0 else final_alpha
        e = eps_model(x, torch.full((x.shape[0],), k))
        x0 = (x - (1 - a_t).sqrt() * e) / a_t.sqrt()
        std = eta * ((1 - a_p) / (1 - a_t) * (1 - a_t / a_p)).sqrt()
        x = a_p.sqrt() * x0 + (1 - a_p - std**2).sqrt() * e
        if eta > 0:
            x = x + std * noises[j]
    return x


@pytest.mark.parametrize(
    "spacing,offset,set_alpha_to_one,eta",
    [
        ("leading", 1, False, 0.0),  # Stable Diffusion's scheduler config
        ("leading", 0, True, 0.0),
        ("trailing", 0, False, 0.0),
        ("trailing", 0, True, 0.5),
        ("leading", 1, False, 1.0),
    ],
)
def test_ddim_through_the_adapter_is_diffusers_ddim(spacing, offset, set_alpha_to_one, eta):
    T, n = 1000, 20
    mix, sch = toy_mixture(), make_schedule("linear", T)
    ac = sch.alpha_bars[1:]
    eps_model = _mixture_eps_model(mix, ac)
    x_T = torch.randn(64, 2, generator=_gen(2), dtype=F64)
    noises = torch.randn(n, 64, 2, generator=_gen(3), dtype=F64)
    ts = sch.timesteps(n, spacing, steps_offset=offset)
    ours = ddim_sample(
        DiscreteEpsDenoiser(eps_model, ac),
        x_T,
        ts,
        schedule=sch,
        eta=eta,
        set_alpha_to_one=set_alpha_to_one,
        noise=noises,
    )
    final = torch.tensor(1.0, dtype=F64) if set_alpha_to_one else ac[0]
    ref = _diffusers_ddim(
        eps_model, ac, ts - 1, x_T, T=T, eta=eta, final_alpha=final, noises=noises
    )
    assert ours.nfe == n
    assert torch.allclose(ours.x, ref, rtol=1e-10, atol=1e-10)
    if not set_alpha_to_one:  # the end point matters: alpha_bar_1 != 1
        other = ddim_sample(
            DiscreteEpsDenoiser(eps_model, ac), x_T, ts, schedule=sch, eta=eta, noise=noises
        )
        assert not torch.allclose(other.x, ref, atol=1e-4)


def test_diffusers_ddim_scheduler_if_installed():
    diffusers = pytest.importorskip("diffusers")
    T, n = 1000, 25
    mix, sch = toy_mixture(), make_schedule("linear", T)
    ac = sch.alpha_bars[1:]
    eps_model = _mixture_eps_model(mix, ac)
    for spacing, offset, one in (("leading", 1, False), ("trailing", 0, True)):
        sched = diffusers.DDIMScheduler(
            num_train_timesteps=T,
            beta_schedule="linear",
            beta_start=1e-4,
            beta_end=0.02,
            clip_sample=False,
            set_alpha_to_one=one,
            steps_offset=offset,
            timestep_spacing=spacing,
        )
        sched.alphas_cumprod = ac.clone()  # float64, so the comparison is exact
        sched.final_alpha_cumprod = torch.tensor(1.0, dtype=F64) if one else ac[0]
        sched.set_timesteps(n)
        x = torch.randn(32, 2, generator=_gen(4), dtype=F64)
        ts = sch.timesteps(n, spacing, steps_offset=offset)
        assert torch.equal(torch.as_tensor(sched.timesteps) + 1, ts)
        ours = ddim_sample(
            DiscreteEpsDenoiser(eps_model, ac), x, ts, schedule=sch, set_alpha_to_one=one
        ).x
        for k in sched.timesteps:
            e = eps_model(x, torch.full((32,), int(k)))
            x = sched.step(e, k, x, eta=0.0).prev_sample
        assert torch.allclose(ours, x, atol=1e-8)


# --- injected noise and callbacks -----------------------------------------------------
def test_injected_noise_reproduces_the_generator_run():
    mix, sch = toy_mixture(), make_schedule("linear", 50)
    x_T = torch.randn(16, 2, generator=_gen(5), dtype=F64)
    ts = sch.timesteps(10)
    for sampler, kw in ((ddpm_sample, {}), (ddim_sample, {"eta": 0.7})):
        ref = sampler(mix.denoiser, x_T, ts, schedule=sch, generator=_gen(6), **kw)
        # the generator's draws, in order: one per step, none on the last (to t = 0)
        g = _gen(6)
        draws = [torch.randn(16, 2, generator=g, dtype=F64) for _ in range(9)]
        table = torch.stack([*draws, torch.full((16, 2), float("nan"), dtype=F64)])
        by_table = sampler(mix.denoiser, x_T, ts, schedule=sch, noise=table, **kw)
        by_callable = sampler(
            mix.denoiser, x_T, ts, schedule=sch, noise=lambda i, x, d=draws: d[i], **kw
        )
        assert torch.equal(by_table.x, ref.x) and torch.equal(by_callable.x, ref.x)
        shifted = sampler(mix.denoiser, x_T, ts, schedule=sch, noise=table.roll(1, 0), **kw)
        assert not torch.allclose(torch.nan_to_num(shifted.x), ref.x)


def test_noise_reaches_every_stochastic_sampler():
    mix = toy_mixture()
    x = torch.randn(8, 2, generator=_gen(7), dtype=F64)
    zeros = torch.zeros(40, 8, 2, dtype=F64)
    # zero noise: Euler-Maruyama without its noise term is a deterministic Euler scheme
    ts = time_grid(40)
    a = reverse_sde_em(mix.denoiser, x, ts, sde=VPSDE(), noise=zeros)
    b = reverse_sde_em(mix.denoiser, x, ts, sde=VPSDE(), noise=lambda i, xx: torch.zeros_like(xx))
    assert torch.equal(a.x, b.x)
    sig = edm_sigmas(10)
    churn = stochastic_sample(mix.denoiser, 80 * x, sig, S_churn=20.0, noise=zeros[:10])
    plain = stochastic_sample(mix.denoiser, 80 * x, sig, S_churn=20.0, S_noise=0.0)
    assert torch.allclose(churn.x, plain.x, atol=1e-12)
    lang = annealed_langevin(mix.denoiser, x, [1.0, 0.5], n_steps_each=3, noise=zeros[:6])
    assert lang.nfe == 6 and torch.all(torch.isfinite(lang.x))


def test_noise_bad_inputs():
    mix, sch = toy_mixture(), make_schedule("linear", 100)
    x = torch.zeros(4, 2, dtype=F64)
    with pytest.raises(ValueError, match=r"noise must have shape \(n_steps, \*x.shape\)"):
        ddpm_sample(mix.denoiser, x, schedule=sch, noise=torch.zeros(99, 4, 2))
    with pytest.raises(ValueError, match="either noise= or generator="):
        ddpm_sample(mix.denoiser, x, schedule=sch, noise=torch.zeros(100, 4, 2), generator=_gen())
    with pytest.raises(TypeError, match="noise must be None, a tensor or a callable"):
        make_noise_sampler("randn", x, 3)
    with pytest.raises(ValueError, match=r"noise\(i, x\) must return a tensor of shape"):
        ddpm_sample(mix.denoiser, x, schedule=sch, noise=lambda i, xx: torch.zeros(3))
    with pytest.raises(TypeError, match="callback must be callable"):
        ddim_sample(mix.denoiser, x, schedule=sch, callback="print")


def test_callbacks_report_each_step_in_k_diffusion_form():
    mix, sch = toy_mixture(), make_schedule("linear", 100)
    x_T = torch.randn(10, 2, generator=_gen(8), dtype=F64)
    ts = sch.timesteps(5)
    rec = Trajectory()
    res = ddim_sample(mix.denoiser, x_T, ts, schedule=sch, callback=rec)
    assert [info["i"] for info in rec.infos] == list(range(5))
    assert [info["t"] for info in rec.infos] == ts.tolist()
    for info in rec.infos:
        ab = sch.alpha_bars[info["t"]]
        assert math.isclose(info["sigma"], float(((1 - ab) / ab).sqrt()), rel_tol=1e-12)
        den = mix.denoiser(info["x"] / ab.sqrt(), torch.full((10,), info["sigma"], dtype=F64))
        assert torch.allclose(info["denoised"], den, atol=1e-12)
    assert torch.equal(rec.stack(res)[0], x_T) and torch.equal(rec.stack(res)[-1], res.x)
    # inversion reports t = 0 first (no evaluation there: denoised = x)
    inv = Trajectory()
    ddim_invert(mix.denoiser, res.x, ts, schedule=sch, callback=inv)
    assert inv.infos[0]["t"] == 0 and torch.equal(inv.infos[0]["denoised"], res.x)
    # EDM: denoised is D(x/s; sigma) for every family, recovered from the ODE's drift
    sig = edm_sigmas(6)
    for fam in (EDM(),):
        rec = Trajectory()
        x = 80 * x_T
        edm_sample(mix.denoiser, x, sig, family=fam, callback=rec)
        first = rec.infos[0]
        assert first["sigma"] == float(sig[0])
        assert torch.allclose(first["denoised"], mix.denoiser(x, sig[0].expand(10)), atol=1e-9)
    st = Trajectory()
    stochastic_sample(mix.denoiser, 80 * x_T, sig, S_churn=10.0, generator=_gen(9), callback=st)
    info = st.infos[0]
    assert info["sigma_hat"] > info["sigma"] and not torch.equal(info["x_hat"], info["x"])
    assert torch.allclose(
        info["denoised"],
        mix.denoiser(info["x_hat"], torch.full((10,), info["sigma_hat"], dtype=F64)),
    )


def test_edm_callback_denoised_for_a_scaled_family():
    from course_lib.diffusion import VP

    mix, fam = toy_mixture(), VP()
    sig = edm_sigmas(5, sigma_max=50.0)
    t0 = fam.t_of_sigma(sig[0])
    x = float(fam.s(t0) * sig[0]) * torch.randn(6, 2, generator=_gen(10), dtype=F64)
    rec = Trajectory()
    edm_sample(mix.denoiser, x, sig, family=fam, callback=rec)
    for info in rec.infos:
        s = float(fam.s(torch.tensor(info["t"], dtype=F64)))
        want = mix.denoiser(info["x"] / s, torch.full((6,), info["sigma"], dtype=F64))
        assert torch.allclose(info["denoised"], want, atol=1e-8)


# --- the probability-flow drift under an adaptive solver ------------------------------
@pytest.mark.parametrize(
    "sde", [VPSDE(), SubVPSDE(), VESDE(0.01, 5.0)], ids=lambda s: type(s).__name__
)
def test_torchdiffeq_solves_the_pf_ode_of_a_gaussian(sde):
    """dopri5 on pf_drift from t = 1 to t0 maps x(1) to the exact x(t0) of the linear flow."""
    torchdiffeq = pytest.importorskip("torchdiffeq")
    m, c = 0.5, 0.4
    g = gaussian(torch.full((2,), m, dtype=F64), c**2 * torch.eye(2, dtype=F64))
    x1 = sde.prior_std() * torch.randn(20, 2, generator=_gen(11), dtype=F64)
    t0, t1 = torch.tensor(1e-3, dtype=F64), torch.tensor(1.0, dtype=F64)

    def var(t):  # Var x(t) = a^2 c^2 + std^2
        return sde.a(t) ** 2 * c**2 + sde.std(t) ** 2

    exact = sde.a(t0) * m + (var(t0) / var(t1)).sqrt() * (x1 - sde.a(t1) * m)
    out = torchdiffeq.odeint(
        lambda t, x: pf_drift(g.denoiser, sde, x, t),
        x1,
        torch.stack([t1, t0]),
        rtol=1e-6,
        atol=1e-6,
        method="dopri5",
        options={"step_t": torch.stack([t1, t0])},  # land on t0 instead of stepping past it
    )[-1]
    assert torch.allclose(out, exact, atol=1e-4), float((out - exact).abs().max())
    # and the fixed-step Heun of the library agrees with it
    heun = pf_ode_heun(g.denoiser, x1, time_grid(100), sde=sde).x
    assert torch.allclose(heun, exact, atol=5e-3)


def test_times_a_hair_outside_the_interval_are_clamped():
    sde, mix = VPSDE(), toy_mixture()
    x = torch.randn(5, 2, generator=_gen(12), dtype=F64)
    over = 1 + 5e-7
    assert float(sde_time(over)) == 1.0 and float(sde_time(-5e-7)) == 0.0
    assert torch.equal(pf_drift(mix.denoiser, sde, x, over), pf_drift(mix.denoiser, sde, x, 1.0))
    assert float(VESDE().std(-1e-7)) == 0.0 and float(sde.a(over)) == float(sde.a(1.0))
    with pytest.raises(ValueError, match="t must lie in"):
        sde.a(1.001)
    with pytest.raises(ValueError, match="needs t > 0"):
        pf_drift(mix.denoiser, sde, x, 0.0)
    with pytest.raises(ValueError, match="single time"):
        pf_drift(mix.denoiser, sde, x, torch.tensor([0.5, 0.6]))
    with pytest.raises(TypeError, match="sde must be an SDE"):
        pf_drift(mix.denoiser, "vp", x, 0.5)


def test_pf_drift_is_the_drift_the_euler_sampler_steps_with():
    from course_lib.diffusion import pf_ode_euler

    mix, sde = toy_mixture(), SubVPSDE()
    x = torch.randn(7, 2, generator=_gen(13), dtype=F64)
    ts = torch.tensor([0.8, 0.6], dtype=F64)
    one = pf_ode_euler(mix.denoiser, x, ts, sde=sde).x
    assert torch.allclose(one, x - 0.2 * pf_drift(mix.denoiser, sde, x, 0.8), atol=1e-12)


# --- flow matching: which end is data --------------------------------------------------
def test_flow_ends_are_named_and_torchcfm_is_the_mirror_image():
    x_data = torch.randn(6, 2, generator=_gen(14), dtype=F64)
    x_noise = torch.randn(6, 2, generator=_gen(15), dtype=F64)
    assert torch.equal(conditional_path(x_data=x_data, x_noise=x_noise, t=0.0), x_data)
    assert torch.equal(conditional_path(x_data=x_data, x_noise=x_noise, t=1.0), x_noise)
    # torchcfm: x0 = noise (source), x1 = data, mu_t = t x1 + (1 - t) x0 = ours at 1 - t
    t = 0.3
    torchcfm_mu = t * x_data + (1 - t) * x_noise
    assert torch.allclose(conditional_path(x_data, x_noise, 1 - t), torchcfm_mu, atol=1e-15)


def test_flow_sampler_takes_an_int_or_a_time_grid():
    mix = toy_mixture()
    x1 = torch.randn(30, 2, generator=_gen(16), dtype=F64)

    def v(x, t):
        return mixture_velocity(mix, x, t)

    by_int = flow_euler_sample(v, x1, 8)
    by_grid = flow_euler_sample(v, x1, torch.linspace(1, 0, 9, dtype=F64))
    assert by_int.nfe == by_grid.nfe == 8 and torch.allclose(by_int.x, by_grid.x, atol=1e-14)
    rec = Trajectory()
    flow_euler_sample(v, x1, 4, callback=rec)
    info = rec.infos[1]  # denoised = x - t v = E[x_0 | x_t] for the exact velocity (10.2)
    t = info["t"]
    want = mix.posterior_mean(
        info["x"], torch.full((30,), 1 - t, dtype=F64), torch.full((30,), t, dtype=F64)
    )
    assert t == 0.75 and torch.allclose(info["denoised"], want, atol=1e-12)
    with pytest.raises(ValueError, match="strictly decreasing"):
        flow_euler_sample(v, x1, torch.tensor([0.0, 1.0], dtype=F64))
    with pytest.raises(ValueError, match=r"inside|lie in \[0, 1\]"):
        flow_euler_sample(v, x1, torch.tensor([1.5, 0.0], dtype=F64))
