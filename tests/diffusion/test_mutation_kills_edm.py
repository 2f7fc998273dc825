"""Checks that fail on small wrong changes to Chapter 05's EDM and schedule formulas (issue 16).

Mutation testing of ``course_lib/diffusion/edm.py`` and ``course_lib/diffusion/schedules.py``.
Each test pins a behaviour that the main tests left free: non-default parameters (T != 1000,
sigma_data != 0.5, rho, the P_mean/P_std of the loss), the published defaults (Karras et al.
2022 eq. 5 and Table 1; Ho et al. 2020; Nichol & Dhariwal 2021), every timestep spacing and
the refill of steps merged by rounding, boundary values of every argument check, a non-zero
network inside the preconditioning, Algorithms 1-2 replayed by hand for two steps with an
analytic denoiser, and that a seeded generator (never the global RNG) drives the loss and the
stochastic sampler. Every expected value comes from an independent route: numpy/plain-Python
arithmetic written from the paper's formula, or a value computed by hand in a comment.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.diffusion.edm import (
    EDM,
    PREDICTIONS,
    VE,
    VP,
    EDMPrecond,
    Flow,
    edm_loss,
    edm_sample,
    edm_sigmas,
    from_denoised,
    loss_weight,
    ode_derivative,
    precond_coefficients,
    stochastic_sample,
    to_denoised,
)
from course_lib.diffusion.schedules import (
    SPACINGS,
    Schedule,
    alpha_bar_from_betas,
    check_schedule,
    cosine_betas,
    linear_betas,
    make_schedule,
)

F64 = torch.float64


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ================================================================ schedules.py
# ---------------------------------------------------------------- linear betas (1.4)
@pytest.mark.parametrize("T", [21, 250, 1000, 4000])
def test_linear_betas_rescale_by_1000_over_T(T):
    """Improved DDPM's rescaling: beta_1 = 1e-4 * 1000/T, beta_T = 0.02 * 1000/T, linear between
    (numpy, written from Ho et al.'s endpoints); beta_0 = 0 heads the length-(T+1) tensor."""
    b = linear_betas(T).numpy()
    scale = 1000.0 / T  # e.g. T = 250: beta_1 = 4e-4, beta_T = 0.08
    t = np.arange(1, T + 1)
    expected = 1e-4 * scale + (t - 1) / (T - 1) * (0.02 - 1e-4) * scale
    assert b.shape == (T + 1,) and b[0] == 0.0
    np.testing.assert_allclose(b[1:], expected, rtol=1e-12, atol=1e-15)


def test_linear_betas_custom_ends_and_boundaries():
    """beta_start/beta_end are the T = 1000 values; equal ends are allowed (a constant schedule);
    T = 20 makes the rescaled beta_end 0.02 * 50 = 1 exactly, which is refused, T = 21 is not."""
    b = linear_betas(500, 2e-4, 0.01).numpy()  # scale 2: 4e-4 .. 0.02
    np.testing.assert_allclose(b[[1, -1]], [4e-4, 0.02], rtol=1e-12)
    const = linear_betas(100, 0.003, 0.003).numpy()  # scale 10: every beta_t = 0.03
    np.testing.assert_allclose(const[1:], np.full(100, 0.03), rtol=1e-12)
    with pytest.raises(ValueError, match=r"T = 20 is too small: rescaled beta_end 1 would be >= 1"):
        linear_betas(20)
    assert math.isclose(float(linear_betas(21)[-1]), 0.02 * 1000 / 21, rel_tol=1e-12)
    with pytest.raises(ValueError, match=r"beta_end must be >= beta_start, got 0.001 < 0.002"):
        linear_betas(1000, 0.002, 0.001)
    with pytest.raises(ValueError, match=r"beta_start must be a finite number in \(0, 1\)"):
        linear_betas(1000, 0.0, 0.01)
    with pytest.raises(ValueError, match=r"beta_start must be a finite number in \(0, 1\)"):
        linear_betas(1000, 1.0, 0.01)
    with pytest.raises(ValueError, match=r"beta_end must be a finite number in \(0, 1\)"):
        linear_betas(1000, 1e-4, 0.0)
    with pytest.raises(ValueError, match=r"beta_end must be a finite number in \(0, 1\)"):
        linear_betas(1000, 1e-4, 1.0)
    with pytest.raises(ValueError, match="T must be >= 1, got 0"):
        linear_betas(0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, F64])
def test_schedule_dtypes_are_kept(dtype):
    """Both the prepended beta_0 and beta_1..T come in the requested dtype (a half-precision
    request must not be promoted to float32 by a float32 zero)."""
    assert linear_betas(100, dtype=dtype).dtype == dtype
    assert cosine_betas(100, dtype=dtype).dtype == dtype
    assert make_schedule("linear", 100, dtype=dtype).betas.dtype == dtype
    assert make_schedule("cosine", 100, dtype=dtype).betas.dtype == dtype


# ---------------------------------------------------------------- cosine betas (1.5)
@pytest.mark.parametrize("T,s,max_beta", [(40, 0.02, 0.5), (7, 0.0, 0.999), (1000, 0.008, 0.999)])
def test_cosine_betas_against_a_plain_python_loop(T, s, max_beta):
    """beta_t = min(1 - f(t)/f(t-1), max_beta), f(t) = cos^2(((t/T + s)/(1 + s)) pi/2)
    (Nichol & Dhariwal 2021, eq. 17), computed one t at a time with ``math``."""

    def f(t):
        return math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2

    expected = [0.0] + [min(1 - f(t) / f(t - 1), max_beta) for t in range(1, T + 1)]
    got = cosine_betas(T, s, max_beta).tolist()
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-13)


def test_cosine_clip_and_argument_boundaries():
    """With T = 1 the only step goes to alpha_bar_1 = cos^2(pi/2) ~ 0, so beta_1 is the clip
    value; s = 0 is allowed (closed end) and the clip must lie in (0, 1)."""
    assert float(cosine_betas(1)[1]) == 0.999
    assert float(cosine_betas(1, max_beta=0.3)[1]) == 0.3
    assert cosine_betas(10, s=0.0).shape == (11,)
    with pytest.raises(ValueError, match=r"s must be a finite number in \[0, inf\)"):
        cosine_betas(10, s=-0.01)
    with pytest.raises(ValueError, match=r"max_beta must be a finite number in \(0, 1\)"):
        cosine_betas(10, max_beta=1.0)
    with pytest.raises(ValueError, match=r"max_beta must be a finite number in \(0, 1\)"):
        cosine_betas(10, max_beta=0.0)
    with pytest.raises(ValueError, match="T must be >= 1, got 0"):
        cosine_betas(0)


# ---------------------------------------------------------------- alpha_bar (1.2) and Schedule
def test_alpha_bar_validation_at_the_boundaries():
    """betas of length 2 (T = 1) are the smallest schedule; beta_t = 0 or 1 for t >= 1 and a
    non-zero beta_0 are refused with their messages."""
    ab = alpha_bar_from_betas(torch.tensor([0.0, 0.25], dtype=F64))
    assert ab.tolist() == [1.0, 0.75]  # by hand: 1, 1 - 0.25
    msg = r"^betas must be a 1-D tensor of length T\+1 \(beta_0 = 0 first\)$"
    for bad in ([0.0, 0.1], torch.tensor([0.0]), torch.zeros(2, 2)):
        with pytest.raises(ValueError, match=msg):
            alpha_bar_from_betas(bad)
    with pytest.raises(ValueError, match=r"betas\[0\] must be 0 \(t = 0 is the data\), got 0.5"):
        alpha_bar_from_betas(torch.tensor([0.5, 0.1]))
    for bad in ([0.0, 0.1, 0.0], [0.0, 0.1, 1.0], [0.0, 0.0, 0.1], [0.0, 1.0, 0.1]):
        with pytest.raises(ValueError, match=r"^every beta_t for t >= 1 must lie in \(0, 1\)$"):
            alpha_bar_from_betas(torch.tensor(bad, dtype=F64))


def test_schedule_properties_and_sigmas_against_numpy():
    """T, alpha_t = 1 - beta_t, alpha_bar_t (numpy cumprod) and the noise-to-signal ratio
    sigma_t = sqrt((1 - alpha_bar_t)/alpha_bar_t) with sigma_0 = 0, on a T = 50 cosine schedule."""
    sch = make_schedule("cosine", 50)
    b = sch.betas.numpy()
    ab = np.cumprod(1 - b)
    assert sch.T == 50
    np.testing.assert_allclose(sch.alphas.numpy(), 1 - b, rtol=1e-14)
    np.testing.assert_allclose(sch.alpha_bars.numpy(), ab, rtol=1e-12)
    sig = sch.sigmas().numpy()
    assert sig[0] == 0.0
    np.testing.assert_allclose(sig, np.sqrt((1 - ab) / ab), rtol=1e-12)
    # by hand for a 2-step schedule: alpha_bar = (1, 0.8, 0.4), sigma = (0, 1/2, sqrt(3/2))
    two = Schedule(torch.tensor([0.0, 0.2, 0.5], dtype=F64))
    assert torch.allclose(two.sigmas(), torch.tensor([0.0, 0.5, math.sqrt(1.5)], dtype=F64))


def test_schedule_to_and_check_schedule():
    """``to`` changes the dtype (values kept); ``check_schedule`` returns its argument or raises
    TypeError naming the wrong type; an unknown kind is refused by name."""
    sch = make_schedule("linear", 30)
    s32 = sch.to(dtype=torch.float32)
    assert s32.betas.dtype == torch.float32 and s32.T == 30
    assert torch.allclose(s32.betas.double(), sch.betas, atol=1e-8)
    assert check_schedule(sch) is sch
    with pytest.raises(TypeError, match="schedule must be a Schedule, got str"):
        check_schedule("linear")
    with pytest.raises(ValueError, match="kind must be 'linear' or 'cosine', got 'sigmoid'"):
        make_schedule("sigmoid", 10)
    assert torch.equal(make_schedule("linear", 300).betas, linear_betas(300))
    assert torch.equal(make_schedule("cosine", 300).betas, cosine_betas(300))
    assert make_schedule().T == 1000 and torch.equal(make_schedule().betas, linear_betas(1000))


# ---------------------------------------------------------------- timesteps, every spacing
def _quadratic_by_hand(T: int, n: int) -> list[int]:
    """t_i = round(1 + (T - 1)(i/(n-1))^2) (half to even, as torch/numpy round), merged duplicates
    refilled with the largest t's not yet used, returned largest first."""
    ts = {int(np.round(1 + (T - 1) * (i / (n - 1)) ** 2)) for i in range(n)} if n > 1 else {1}
    for t in range(T, 0, -1):
        if len(ts) == n:
            break
        ts.add(t)
    return sorted(ts, reverse=True)


@pytest.mark.parametrize("T,n", [(1000, 10), (100, 7), (50, 50), (10, 8), (1000, 50), (30, 2)])
def test_quadratic_spacing_and_the_refill_of_merged_steps(T, n):
    """Quadratic grid t ~ 1 + (T - 1)(i/(n-1))^2 (denser near the data). For (10, 8) the values
    1, 1.18, 1.73, 2.65, 3.94, 5.59, 7.61, 10 round to 1, 1, 2, 3, 4, 6, 8, 10: one merged step,
    refilled with the largest unused t = 9; (1000, 50) merges several near t = 1."""
    sch = make_schedule("cosine", T)  # the grid does not depend on the betas
    ts = sch.timesteps(n, "quadratic")
    assert ts.tolist() == _quadratic_by_hand(T, n)
    assert ts.dtype == torch.int64 and ts.numel() == n
    if (T, n) == (10, 8):
        assert ts.tolist() == [10, 9, 8, 6, 4, 3, 2, 1]


@pytest.mark.parametrize("spacing", SPACINGS)
def test_every_spacing_with_n_equal_to_T_is_every_step(spacing):
    """n_steps = T is allowed (boundary of n <= T) and every spacing then returns T, ..., 1."""
    sch = make_schedule("linear", 25)
    assert sch.timesteps(25, spacing).tolist() == list(range(25, 0, -1))


@pytest.mark.parametrize("T,n", [(1000, 10), (100, 7), (37, 5)])
def test_uniform_spacing_by_hand(T, n):
    """uniform: t_i = round(1 + i (T - 1)/(n - 1)), i = 0..n-1, largest first (plain Python)."""
    sch = make_schedule("cosine", T)
    expected = sorted({round(1 + i * (T - 1) / (n - 1)) for i in range(n)}, reverse=True)
    assert sch.timesteps(n, "uniform").tolist() == expected
    assert sch.timesteps(n).tolist() == expected  # 'uniform' is the default


def test_spacings_list_and_leading_offset_at_its_boundary():
    """The five spacings are advertised; steps_offset may push the last leading step exactly to
    T (allowed) but not past it; a negative offset is refused."""
    assert SPACINGS == ("uniform", "quadratic", "linspace", "leading", "trailing")
    sch = make_schedule("linear", 100)
    # leading, T = 100, n = 10: t = 10 i + offset + 1; offset 9 ends exactly at t = 100
    assert sch.timesteps(10, "leading", steps_offset=9).tolist() == list(range(100, 9, -10))
    with pytest.raises(ValueError, match=r"pushes the last leading step to t = 101 > T = 100"):
        sch.timesteps(10, "leading", steps_offset=10)
    with pytest.raises(ValueError, match="steps_offset must be >= 0, got -1"):
        sch.timesteps(10, "leading", steps_offset=-1)
    with pytest.raises(ValueError, match="n_steps must be >= 1, got 0"):
        sch.timesteps(0)
    with pytest.raises(ValueError, match=r"n_steps must be <= T = 100, got 101"):
        sch.timesteps(101, "quadratic")
    with pytest.raises(
        ValueError, match="steps_offset applies to spacing='leading' only, got 'uniform'"
    ):
        sch.timesteps(10, "uniform", steps_offset=1)


# ================================================================ edm.py
# ---------------------------------------------------------------- preconditioning (9.5)
def _table1(sigma: float, sd: float) -> tuple[float, float, float, float]:
    """EDM Table 1 (Karras et al. 2022), written out with ``math``."""
    return (
        sd**2 / (sigma**2 + sd**2),
        sigma * sd / math.sqrt(sigma**2 + sd**2),
        1 / math.sqrt(sigma**2 + sd**2),
        math.log(sigma) / 4,
    )


@pytest.mark.parametrize("sd", [0.5, 0.8, 2.0])
def test_precond_coefficients_match_table_1(sd):
    """(c_skip, c_out, c_in, c_noise) and lambda(sigma) = (sigma^2 + sd^2)/(sigma sd)^2 at
    several sigma, for sigma_data != 0.5 too; the default sigma_data is 0.5."""
    sig = [0.002, 0.3, 1.0, 7.0, 80.0]
    got = precond_coefficients(torch.tensor(sig, dtype=F64), sd)
    for k in range(4):
        expected = [_table1(s, sd)[k] for s in sig]
        np.testing.assert_allclose(got[k].numpy(), expected, rtol=1e-13)
    lam = [(s**2 + sd**2) / (s * sd) ** 2 for s in sig]
    np.testing.assert_allclose(
        loss_weight(torch.tensor(sig, dtype=F64), sd).numpy(), lam, rtol=1e-12
    )
    default = precond_coefficients(0.3)
    assert all(
        math.isclose(float(a), b, rel_tol=1e-13)
        for a, b in zip(default, _table1(0.3, 0.5), strict=True)
    )
    assert math.isclose(float(loss_weight(0.3)), (0.09 + 0.25) / (0.15**2), rel_tol=1e-12)


def test_precond_bad_inputs_name_the_argument():
    """sigma must be > 0 and sigma_data > 0 (both ends open); EDMPrecond checks sigma_data too."""
    with pytest.raises(ValueError, match=r"sigma_data must be a finite number in \(0, inf\)"):
        precond_coefficients(1.0, sigma_data=0.0)
    with pytest.raises(ValueError, match="sigma"):
        precond_coefficients(0.0, 0.5)
    with pytest.raises(ValueError, match=r"sigma_data must be a finite number in \(0, inf\)"):
        EDMPrecond(nn.Identity(), sigma_data=0.0)
    with pytest.raises(TypeError, match="net must be an nn.Module, got str"):
        EDMPrecond("mlp")
    assert EDMPrecond(nn.Identity()).sigma_data == 0.5


class _Affine(nn.Module):
    """A fixed non-zero 'network' F(x_in, c) = 2 x_in + c (c broadcast over features)."""

    def __init__(self):
        super().__init__()
        self.seen: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, x_in, c):
        self.seen.append((x_in.clone(), torch.as_tensor(c).clone()))
        return 2 * x_in + torch.as_tensor(c).reshape(-1, *([1] * (x_in.dim() - 1)))


@pytest.mark.parametrize("sd", [0.5, 1.3])
def test_precond_forward_with_a_nonzero_network(sd):
    """D = c_skip x + c_out F(c_in x, c_noise) (Table 1) with F(u, c) = 2u + c, per-sample sigma
    and sigma_data != 0.5: computed element by element with ``math``."""
    net = _Affine()
    model = EDMPrecond(net, sd)
    x = torch.tensor([[0.7, -1.2, 3.0], [-2.0, 0.4, 1.1]], dtype=F64)
    sigma = torch.tensor([0.4, 3.0], dtype=F64)
    out = model(x, sigma)
    for b in range(2):
        c_skip, c_out, c_in, c_noise = _table1(float(sigma[b]), sd)
        for j in range(3):
            xv = float(x[b, j])
            expected = c_skip * xv + c_out * (2 * c_in * xv + c_noise)
            assert math.isclose(float(out[b, j]), expected, rel_tol=1e-12)
        # the network saw c_in x and c_noise = ln(sigma)/4
        x_in, c = net.seen[-1]
        assert math.isclose(float(x_in[b, 0]), c_in * float(x[b, 0]), rel_tol=1e-12)
        assert math.isclose(float(c.reshape(-1)[b]), c_noise, rel_tol=1e-12)
    # a scalar sigma is broadcast to the batch
    assert torch.allclose(model(x, 0.4)[0], out[0], rtol=1e-12)
    with pytest.raises(
        ValueError, match=r"x must have at least 2 dimension\(s\), got shape \(3,\)"
    ):
        model(torch.ones(3, dtype=F64), 1.0)
    with pytest.raises(ValueError, match=r"sigma must lie in \[0, inf\) \(finite\), got -1.0"):
        model(x, -1.0)
    with pytest.raises(ValueError, match=r"sigma must lie in \(0, inf\)"):
        model(x, 0.0)


# ---------------------------------------------------------------- time steps (9.7)
def _rho_grid(n: int, lo: float, hi: float, rho: float) -> list[float]:
    """EDM eq. 5: sigma_i = (hi^(1/rho) + i/(N-1)(lo^(1/rho) - hi^(1/rho)))^rho, then 0."""
    a, b = hi ** (1 / rho), lo ** (1 / rho)
    return [(a + i / (n - 1) * (b - a)) ** rho for i in range(n)] + [0.0]


def test_edm_sigmas_defaults_are_the_papers():
    """Table 1 / eq. 5 defaults: sigma_min = 0.002, sigma_max = 80, rho = 7 (N = 18 as in the
    paper's CIFAR-10 runs); float64 by default."""
    s = edm_sigmas(18)
    assert s.dtype == F64
    np.testing.assert_allclose(s.numpy(), _rho_grid(18, 0.002, 80.0, 7.0), rtol=1e-12, atol=0)
    assert float(s[0]) == 80.0 and math.isclose(float(s[-2]), 0.002, rel_tol=1e-12)


@pytest.mark.parametrize(
    "n,lo,hi,rho", [(2, 0.1, 10.0, 7.0), (6, 0.01, 3.0, 3.0), (4, 1.0, 2.0, 0.5)]
)
def test_edm_sigmas_non_default_parameters(n, lo, hi, rho):
    """Non-default sigma_min, sigma_max and rho (including rho < 1) against eq. 5 by hand."""
    s = edm_sigmas(n, sigma_min=lo, sigma_max=hi, rho=rho)
    np.testing.assert_allclose(s.numpy(), _rho_grid(n, lo, hi, rho), rtol=1e-12, atol=0)


def test_edm_sigmas_one_step_edge_dtype_and_errors():
    """N = 1 is the grid (sigma_max, 0) (eq. 5 has no i/(N-1) then); sigma_min = sigma_max is
    allowed (closed end); dtype is honoured; bad sizes and levels are refused by name."""
    assert edm_sigmas(1).tolist() == [80.0, 0.0]
    assert edm_sigmas(1, sigma_max=3.0, sigma_min=0.5).tolist() == [3.0, 0.0]
    assert edm_sigmas(1, sigma_max=3.0, sigma_min=3.0).tolist() == [3.0, 0.0]
    assert edm_sigmas(1, dtype=torch.float32).dtype == torch.float32
    s32 = edm_sigmas(5, dtype=torch.float32)
    assert s32.dtype == torch.float32 and s32.shape == (6,)
    with pytest.raises(ValueError, match="n_steps must be >= 1, got 0"):
        edm_sigmas(0)
    with pytest.raises(ValueError, match=r"sigma_max must be a finite number in \(0, inf\)"):
        edm_sigmas(4, sigma_max=0.0)
    with pytest.raises(ValueError, match=r"sigma_min must be a finite number in \(0, 80\]"):
        edm_sigmas(4, sigma_min=0.0)
    with pytest.raises(ValueError, match=r"rho must be a finite number in \(0, inf\)"):
        edm_sigmas(4, rho=0.0)


# ---------------------------------------------------------------- samplers: Algorithms 1 and 2
C2, M = 0.64, 0.3  # data N(M, C2): D(x; sigma) = M + (x - M) C2 / (C2 + sigma^2), exactly


def _d(x: float, sigma: float) -> float:
    return M + (x - M) * C2 / (C2 + sigma**2)


def _denoiser(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    sig = torch.as_tensor(sigma, dtype=x.dtype).reshape(-1, *([1] * (x.dim() - 1)))
    return M + (x - M) * C2 / (C2 + sig**2)


X0 = [1.7, -2.4]  # two one-dimensional samples


def _heun_by_hand(x: float, sig: list[float], heun: bool) -> float:
    """EDM Algorithm 1 for sigma(t) = t, s = 1: d = (x - D)/t, Euler, then the trapezoid
    unless t_{i+1} = 0."""
    for t, tn in zip(sig[:-1], sig[1:], strict=True):
        d = (x - _d(x, t)) / t
        xe = x + (tn - t) * d
        if heun and tn > 0:
            xe = x + (tn - t) * 0.5 * (d + (xe - _d(xe, tn)) / tn)
        x = xe
    return x


@pytest.mark.parametrize("solver", ["heun", "euler"])
def test_algorithm_1_replayed_by_hand_on_the_edm_family(solver):
    """Two steps 2 -> 0.8 -> 0 of the default (EDM) family; Heun costs 2N - 1 = 3 evaluations
    (no correction on the step to 0), Euler N = 2; the callback reports x, t, sigma and D."""
    sig = [2.0, 0.8, 0.0]
    seen = []
    out = edm_sample(
        _denoiser,
        torch.tensor(X0, dtype=F64)[:, None],
        torch.tensor(sig, dtype=F64),
        solver=solver,
        callback=seen.append,
    )
    assert out.nfe == (3 if solver == "heun" else 2)
    for b in range(2):
        assert math.isclose(
            float(out.x[b, 0]), _heun_by_hand(X0[b], sig, solver == "heun"), rel_tol=1e-12
        )
    assert [c["i"] for c in seen] == [0, 1] and [c["sigma"] for c in seen] == [2.0, 0.8]
    assert [c["t"] for c in seen] == [2.0, 0.8]
    assert torch.equal(seen[0]["x"], torch.tensor(X0, dtype=F64)[:, None])
    assert math.isclose(float(seen[0]["denoised"][0, 0]), _d(X0[0], 2.0), rel_tol=1e-12)
    x1 = _heun_by_hand(X0[1], sig[:2], solver == "heun")
    assert math.isclose(float(seen[1]["denoised"][1, 0]), _d(x1, 0.8), rel_tol=1e-12)


def test_algorithm_1_on_the_flow_family_by_hand():
    """The flow family (s = 1 - t, sigma = t/(1 - t)): times t_i = sigma_i/(1 + sigma_i) and the
    drift (9.3) (sigma'/sigma + s'/s) x - (sigma' s/sigma) D(x/s; sigma) with sigma' = 1/(1-t)^2,
    s' = -1, written out with ``math``; the callback's D is D(x/s; sigma)."""
    sig = [3.0, 0.5, 0.0]

    def drift(x, t):
        s, sg, dsg = 1 - t, t / (1 - t), 1 / (1 - t) ** 2
        return (dsg / sg - 1 / s) * x - dsg * s / sg * _d(x / s, sg)

    x = X0[0] * (1 - 0.75)  # x(t_0) = s(t_0) (x_0 + sigma eps), t_0 = 3/4
    ts = [s_ / (1 + s_) for s_ in sig]
    xs = [x]
    for i in range(2):
        t, tn = ts[i], ts[i + 1]
        d = drift(x, t)
        xe = x + (tn - t) * d
        if sig[i + 1] > 0:
            xe = x + (tn - t) * 0.5 * (d + drift(xe, tn))
        x = xe
        xs.append(x)
    seen = []
    out = edm_sample(
        _denoiser,
        torch.tensor([[xs[0]]], dtype=F64),
        torch.tensor(sig, dtype=F64),
        family=Flow(),
        callback=seen.append,
    )
    assert out.nfe == 3 and math.isclose(float(out.x), x, rel_tol=1e-12)
    assert [c["t"] for c in seen] == pytest.approx([0.75, 1 / 3], rel=1e-14)
    for c, xi, s_, t in zip(seen, xs[:2], sig[:2], ts[:2], strict=True):
        assert math.isclose(float(c["denoised"]), _d(xi / (1 - t), s_), rel_tol=1e-10)
    assert math.isclose(
        float(ode_derivative(_denoiser, Flow(), torch.tensor([[0.9]], dtype=F64), 0.4)),
        drift(0.9, 0.4),
        rel_tol=1e-12,
    )


def _algorithm_2_by_hand(x, sig, z, churn, tmin, tmax, snoise):
    """EDM Algorithm 2 with the fresh noise z[i] of step i, plain Python."""
    n = len(sig) - 1
    for i in range(n):
        t, tn = sig[i], sig[i + 1]
        gamma = min(churn / n, math.sqrt(2) - 1) if tmin <= t <= tmax else 0.0
        th = t + gamma * t
        xh = x + math.sqrt(th**2 - t**2) * snoise * z[i] if gamma > 0 else x
        d = (xh - _d(xh, th)) / th
        x = xh + (tn - th) * d
        if tn > 0:
            x = xh + (tn - th) * 0.5 * (d + (x - _d(x, tn)) / tn)
    return x


@pytest.mark.parametrize(
    "churn,tmin,tmax,snoise",
    [
        (0.6, 0.0, math.inf, 1.0),  # gamma = 0.6/3 = 0.2 at every step
        (30.0, 0.0, math.inf, 1.007),  # gamma capped at sqrt(2) - 1; the paper's S_noise
        (0.9, 1.0, 1.0, 0.5),  # only t = 1 is churned: S_tmin <= t <= S_tmax, both ends closed
        (0.9, 0.5, 1.9, 1.0),  # t = 2 is above S_tmax, t = 1 and 0.5 inside
    ],
)
def test_algorithm_2_replayed_by_hand(churn, tmin, tmax, snoise):
    """Three steps 2 -> 1 -> 0.5 -> 0 with a given noise table; the callback reports the churned
    state and level; the Heun step is skipped at t_{i+1} = 0 (nfe = 2N - 1)."""
    sig = [2.0, 1.0, 0.5, 0.0]
    z = torch.tensor([[[0.8]], [[-1.3]], [[0.45]]], dtype=F64)
    seen = []
    out = stochastic_sample(
        _denoiser,
        torch.tensor([[X0[0]]], dtype=F64),
        torch.tensor(sig, dtype=F64),
        S_churn=churn,
        S_tmin=tmin,
        S_tmax=tmax,
        S_noise=snoise,
        noise=z,
        callback=seen.append,
    )
    zs = [float(v) for v in z.reshape(-1)]
    expected = _algorithm_2_by_hand(X0[0], sig, zs, churn, tmin, tmax, snoise)
    assert out.nfe == 5 and math.isclose(float(out.x), expected, rel_tol=1e-12)
    gam = [min(churn / 3, math.sqrt(2) - 1) if tmin <= t <= tmax else 0.0 for t in sig[:-1]]
    assert [c["sigma"] for c in seen] == sig[:-1]
    assert [c["sigma_hat"] for c in seen] == pytest.approx(
        [t * (1 + g) for t, g in zip(sig[:-1], gam, strict=True)], rel=1e-14
    )
    c0 = seen[0]
    x_hat0 = X0[0] + math.sqrt(c0["sigma_hat"] ** 2 - 4.0) * snoise * zs[0]
    assert math.isclose(float(c0["x_hat"]), x_hat0, rel_tol=1e-12)
    assert math.isclose(float(c0["denoised"]), _d(x_hat0, c0["sigma_hat"]), rel_tol=1e-12)
    assert float(c0["x"]) == X0[0] and [c["i"] for c in seen] == [0, 1, 2]


def test_stochastic_sampler_is_seeded_by_its_generator():
    """Same seed -> identical samples; another seed or the global RNG -> different samples."""
    x = torch.tensor([[1.0], [-0.5], [2.0]], dtype=F64)
    sig = edm_sigmas(4, sigma_min=0.05, sigma_max=3.0)

    def run(gen):
        return stochastic_sample(_denoiser, x, sig, S_churn=2.0, generator=gen).x

    torch.manual_seed(0)
    a, b, c = run(_gen(3)), run(_gen(3)), run(_gen(4))
    torch.manual_seed(123)  # the global RNG in another state than the seeded generator
    g = run(None)
    assert torch.equal(a, b) and not torch.allclose(a, c) and not torch.allclose(a, g)


def test_stochastic_sampler_argument_checks():
    """S_tmax = S_tmin is allowed (one level churned), S_tmax < S_tmin, negative S_churn or S_noise
    are refused by name; S_noise = 0 churns the level without adding noise."""
    x, sig = torch.tensor([[1.0]], dtype=F64), torch.tensor([2.0, 1.0, 0.0], dtype=F64)
    stochastic_sample(_denoiser, x, sig, S_churn=1.0, S_tmin=1.0, S_tmax=1.0)
    with pytest.raises(ValueError, match="S_tmax must be >= S_tmin, got 0.5 < 1.0"):
        stochastic_sample(_denoiser, x, sig, S_tmin=1.0, S_tmax=0.5)
    with pytest.raises(ValueError, match=r"S_churn must be a finite number in \[0, inf\)"):
        stochastic_sample(_denoiser, x, sig, S_churn=-0.1)
    with pytest.raises(ValueError, match=r"S_tmin must be a finite number in \[0, inf\)"):
        stochastic_sample(_denoiser, x, sig, S_tmin=-0.1)
    with pytest.raises(ValueError, match=r"S_noise must be a finite number in \[0, inf\)"):
        stochastic_sample(_denoiser, x, sig, S_noise=-1.0)
    quiet = stochastic_sample(_denoiser, x, sig, S_churn=1.0, S_noise=0.0, generator=_gen(1))
    expected = _algorithm_2_by_hand(1.0, [2.0, 1.0, 0.0], [0.0, 0.0], 1.0, 0.0, math.inf, 0.0)
    assert math.isclose(float(quiet.x), expected, rel_tol=1e-12)


def test_sampler_grid_checks():
    """A grid needs >= 2 strictly decreasing values, the last >= 0; the solver and family are
    named in the errors; ode_derivative refuses sigma(t) = 0."""
    x = torch.tensor([[1.0]], dtype=F64)
    with pytest.raises(ValueError, match=r"sigmas must be 1-D with at least 2 values, got \(1,\)"):
        edm_sample(_denoiser, x, torch.tensor([1.0], dtype=F64))
    with pytest.raises(ValueError, match="^sigmas must be strictly decreasing and >= 0$"):
        edm_sample(_denoiser, x, torch.tensor([1.0, 1.0, 0.0], dtype=F64))
    with pytest.raises(ValueError, match="^sigmas must be strictly decreasing and >= 0$"):
        stochastic_sample(_denoiser, x, torch.tensor([2.0, 1.0, -0.5], dtype=F64))
    with pytest.raises(ValueError, match="^sigmas must be strictly decreasing and >= 0$"):
        edm_sample(_denoiser, x, torch.tensor([3.0, 1.0, 2.0, 0.0], dtype=F64))  # 1 < 2
    with pytest.raises(TypeError, match="^sigmas must be a torch.Tensor, got list"):
        edm_sample(_denoiser, x, [1.0, 0.0])
    with pytest.raises(ValueError, match="solver must be 'euler' or 'heun', got 'rk4'"):
        edm_sample(_denoiser, x, edm_sigmas(2), solver="rk4")
    with pytest.raises(TypeError, match=r"family must be a Family \(VP, VE, Flow, EDM\), got str"):
        edm_sample(_denoiser, x, edm_sigmas(2), family="EDM")
    with pytest.raises(ValueError, match=r"^the ODE drift needs sigma\(t\) > 0$"):
        ode_derivative(_denoiser, EDM(), x, 0.0)
    with pytest.raises(
        ValueError, match=r"^x must have at least 2 dimension\(s\), got shape \(1,\)"
    ):
        ode_derivative(_denoiser, EDM(), torch.ones(1, dtype=F64), 1.0)
    # a grid that stops above 0 uses the Heun correction on every step (2N evaluations)
    assert edm_sample(_denoiser, x, torch.tensor([2.0, 1.0, 0.5], dtype=F64)).nfe == 4


# ---------------------------------------------------------------- the loss (9.6)
def test_edm_loss_equals_the_weighted_denoising_loss():
    """The unit-variance regression (9.6) equals lambda(sigma) ||D_theta(x_0 + n; sigma) - x_0||^2
    averaged over batch and dims, lambda = (sigma^2 + sd^2)/(sigma sd)^2, with ln sigma =
    P_mean + P_std z drawn first (z, then n = sigma * eps) from the generator. Defaults
    P_mean = -1.2, P_std = 1.2 (EDM Table 1)."""
    sd = 0.8
    model = EDMPrecond(_Affine(), sd).double()
    x0 = torch.tensor([[0.5, -1.0], [1.5, 0.2], [-0.3, 0.9], [2.0, -2.0]], dtype=F64)
    for kw, (pm, ps) in (({}, (-1.2, 1.2)), ({"P_mean": 0.4, "P_std": 0.3}, (0.4, 0.3))):
        gen = _gen(7)
        z = torch.randn(4, generator=gen, dtype=F64)
        eps = torch.randn(4, 2, generator=gen, dtype=F64)
        total = 0.0
        for b in range(4):
            sigma = math.exp(pm + ps * float(z[b]))
            xb = x0[b : b + 1] + sigma * eps[b : b + 1]
            lam = (sigma**2 + sd**2) / (sigma * sd) ** 2
            db = model(xb, torch.tensor([sigma], dtype=F64))
            total += lam * float(((db - x0[b : b + 1]) ** 2).sum())
        got = float(edm_loss(model, x0, generator=_gen(7), **kw))
        assert math.isclose(got, total / 8, rel_tol=1e-10)


def test_edm_loss_is_seeded_by_its_generator_and_checks_inputs():
    """Same seed -> identical loss; another seed or the global RNG -> another loss."""
    model = EDMPrecond(_Affine(), 0.5).double()
    x0 = torch.randn(16, 3, generator=_gen(1), dtype=F64)
    torch.manual_seed(5)
    a = float(edm_loss(model, x0, generator=_gen(5)))
    b = float(edm_loss(model, x0, generator=_gen(5)))
    c = float(edm_loss(model, x0, generator=_gen(6)))
    torch.manual_seed(123)  # the global RNG in another state than the seeded generator
    g = float(edm_loss(model, x0))
    assert a == b and a != c and a != g
    with pytest.raises(TypeError, match="model must be an EDMPrecond, got _Affine"):
        edm_loss(_Affine(), x0)
    with pytest.raises(ValueError, match=r"P_std must be a finite number in \(0, inf\)"):
        edm_loss(model, x0, P_std=0.0)
    with pytest.raises(ValueError, match=r"P_mean must be a finite number in \(-inf, inf\)"):
        edm_loss(model, x0, P_mean=math.inf)
    with pytest.raises(
        ValueError, match=r"x0 must have at least 2 dimension\(s\), got shape \(5,\)"
    ):
        edm_loss(model, torch.ones(5, dtype=F64))
    with pytest.raises(TypeError, match="generator must be a torch.Generator or None"):
        edm_loss(model, x0, generator=5)


# ---------------------------------------------------------------- families (9.1)-(9.2)
@pytest.mark.parametrize("bmin,bmax", [(0.1, 20.0), (0.5, 3.0), (1.0, 1.0)])
def test_vp_family_with_any_betas_by_hand(bmin, bmax):
    """EDM Table 1 VP: sigma = sqrt(exp(beta_d t^2/2 + beta_min t) - 1), s = 1/sqrt(1 + sigma^2),
    their t-derivatives, and the inverse t(sigma), for non-default and constant beta
    (beta_min = beta_max is allowed: the inverse is then t = ln(1 + sigma^2)/beta_min)."""
    fam, bd = VP(bmin, bmax), bmax - bmin
    for t in (0.01, 0.37, 1.0):
        B = bd * t**2 / 2 + bmin * t
        sig = math.sqrt(math.exp(B) - 1)
        beta = bd * t + bmin
        assert math.isclose(float(fam.sigma(t)), sig, rel_tol=1e-12)
        assert math.isclose(float(fam.s(t)), 1 / math.sqrt(1 + sig**2), rel_tol=1e-12)
        assert math.isclose(float(fam.dsigma(t)), beta * math.exp(B) / (2 * sig), rel_tol=1e-12)
        assert math.isclose(float(fam.ds(t)), -0.5 * beta * math.exp(-B / 2), rel_tol=1e-12)
        assert math.isclose(float(fam.t_of_sigma(sig)), t, rel_tol=1e-12)
        a, b = fam.mean_std(t)
        assert math.isclose(float(a), math.exp(-B / 2), rel_tol=1e-12)
        assert math.isclose(float(b), math.exp(-B / 2) * sig, rel_tol=1e-12)
    assert repr(fam) == f"VP(beta_min={bmin:g}, beta_max={bmax:g})"


def test_vp_family_limits_and_errors():
    """t(sigma(1)) = 1 is allowed (clamped from rounding above 1), a level beyond sigma(1) is
    refused with its value; beta_max < beta_min and beta_min = 0 are refused."""
    fam = VP(0.5, 3.0)
    s1 = float(fam.sigma(1.0))
    assert float(fam.t_of_sigma(s1)) == pytest.approx(1.0, abs=1e-14)
    assert float(fam.t_of_sigma(s1)) <= 1.0
    assert float(fam.t_of_sigma(0.0)) == 0.0
    with pytest.raises(ValueError, match=r"sigma = 2.5 is beyond sigma\(1\) for this VP"):
        fam.t_of_sigma(2.5)  # by hand: sigma(1) = sqrt(e^(1.25 + 0.5) - 1) = 2.18 < 2.5
    with pytest.raises(ValueError, match=r"sigma = 2.6 is beyond sigma\(1\) for this VP"):
        fam.t_of_sigma(torch.tensor([1.0, 2.6], dtype=F64))
    with pytest.raises(ValueError, match=r"beta_max must be a finite number in \[0.5, inf\)"):
        VP(0.5, 0.4)
    with pytest.raises(ValueError, match=r"beta_min must be a finite number in \(0, inf\)"):
        VP(0.0, 1.0)
    assert VP().beta_min == 0.1 and VP().beta_max == 20.0  # Song et al.'s VP SDE defaults


def test_ve_flow_edm_families_by_hand():
    """VE: sigma = sqrt t, s = 1; flow: sigma = t/(1-t), s = 1 - t; EDM: sigma = t, s = 1; their
    derivatives, inverses, names, largest times and reprs."""
    t = torch.tensor([0.04, 0.25, 0.5], dtype=F64)
    ve, fl, ed = VE(), Flow(), EDM()
    assert torch.allclose(ve.sigma(t), torch.tensor([0.2, 0.5, math.sqrt(0.5)], dtype=F64))
    assert torch.allclose(ve.dsigma(t), torch.tensor([2.5, 1.0, 0.5 / math.sqrt(0.5)], dtype=F64))
    assert torch.equal(ve.s(t), torch.ones(3, dtype=F64))
    assert torch.equal(ve.ds(t), torch.zeros(3, dtype=F64))
    assert torch.allclose(
        ve.t_of_sigma(torch.tensor([0.2, 3.0], dtype=F64)), torch.tensor([0.04, 9.0], dtype=F64)
    )
    assert float(ve.sigma(400.0)) == 20.0  # no upper end on VE time
    assert torch.allclose(fl.sigma(t), torch.tensor([0.04 / 0.96, 1 / 3, 1.0], dtype=F64))
    assert torch.allclose(fl.dsigma(t), torch.tensor([1 / 0.96**2, 1 / 0.75**2, 4.0], dtype=F64))
    assert torch.allclose(fl.s(t), 1 - t) and torch.equal(fl.ds(t), -torch.ones(3, dtype=F64))
    assert torch.allclose(
        fl.t_of_sigma(torch.tensor([1 / 3, 1.0, 3.0], dtype=F64)),
        torch.tensor([0.25, 0.5, 0.75], dtype=F64),
    )
    assert torch.equal(ed.sigma(t), t) and torch.equal(ed.t_of_sigma(t), t)
    assert torch.equal(ed.dsigma(t), torch.ones(3, dtype=F64))
    assert torch.equal(ed.s(t), torch.ones(3, dtype=F64))
    assert torch.equal(ed.ds(t), torch.zeros(3, dtype=F64))
    assert float(ed.sigma(80.0)) == 80.0
    # sigma(t) and t_of_sigma return new tensors, not the caller's
    assert ed.sigma(t) is not t and ed.t_of_sigma(t) is not t
    assert [f.name for f in (VP(), ve, fl, ed)] == ["VP", "VE", "flow", "EDM"]
    assert (VP.t_max, VE.t_max, Flow.t_max, EDM.t_max) == (1.0, math.inf, 1.0, math.inf)
    assert [repr(f) for f in (ve, fl, ed)] == ["VE()", "Flow()", "EDM()"]
    with pytest.raises(
        ValueError, match=r"^sigma\(t\) = t/\(1 - t\) is infinite at t = 1; use t < 1$"
    ):
        fl.sigma(1.0)
    with pytest.raises(
        ValueError, match=r"^d sigma/dt = 1/\(1 - t\)\^2 is infinite at t = 1; use t < 1$"
    ):
        fl.dsigma(1.0)


# ---------------------------------------------------------------- devices (CUDA only)
@pytest.mark.gpu
def test_schedules_grids_samplers_and_loss_on_the_requested_device():
    """Every device= and .to(device) of the two modules: tensors are made where asked, and a CPU
    generator drives a CUDA computation to the CPU's numbers (the device-dropping mutants that
    a CPU-only run cannot see)."""
    dev = torch.device("cuda")
    assert linear_betas(100, device=dev).device.type == "cuda"
    assert cosine_betas(100, device=dev).device.type == "cuda"
    assert make_schedule("linear", 50, device=dev).betas.device.type == "cuda"
    sch = make_schedule("cosine", 50, device=dev)
    assert sch.betas.device.type == "cuda" and sch.sigmas().device.type == "cuda"
    for spacing in SPACINGS:
        assert sch.timesteps(10, spacing).device.type == "cuda", spacing
    assert sch.timesteps(50, "quadratic").device.type == "cuda"  # the refill branch
    moved = make_schedule("linear", 50).to(dev)
    assert moved.betas.device.type == "cuda" and moved.betas.dtype == F64
    assert edm_sigmas(5, device=dev).device.type == "cuda"
    assert edm_sigmas(1, device=dev).device.type == "cuda"
    sig = edm_sigmas(3, sigma_min=0.1, sigma_max=2.0)
    x = torch.randn(4, 2, generator=_gen(1), dtype=F64)
    for fam in (None, Flow()):
        cpu = edm_sample(_denoiser, x, sig, family=fam).x
        gpu = edm_sample(_denoiser, x.to(dev), sig, family=fam).x
        assert gpu.device.type == "cuda" and torch.allclose(gpu.cpu(), cpu, rtol=1e-10)
    cpu = stochastic_sample(_denoiser, x, sig, S_churn=1.0, generator=_gen(2)).x
    gpu = stochastic_sample(_denoiser, x.to(dev), sig, S_churn=1.0, generator=_gen(2)).x
    assert gpu.device.type == "cuda" and torch.allclose(gpu.cpu(), cpu, rtol=1e-10)
    model = EDMPrecond(_Affine(), 0.7).double()
    loss_cpu = edm_loss(model, x, generator=_gen(3))
    loss_gpu = edm_loss(model.to(dev), x.to(dev), generator=_gen(3))
    assert loss_gpu.device.type == "cuda"
    assert math.isclose(float(loss_gpu), float(loss_cpu), rel_tol=1e-10)
    # a generator on the GPU draws there (sigma's z as well as the noise), reproducibly
    xg = x.to(dev)
    a = edm_loss(model, xg, generator=torch.Generator(dev).manual_seed(4))
    b = edm_loss(model, xg, generator=torch.Generator(dev).manual_seed(4))
    assert a.device.type == "cuda" and float(a) == float(b)


# ---------------------------------------------------------------- predictions (9.4)
def test_predictions_by_hand_with_per_sample_sigma():
    """eps = (x - D)/sigma, score = (D - x)/sigma^2, v = alpha eps - sigma_vp D with alpha =
    1/sqrt(1 + sigma^2), sigma_vp = sigma/sqrt(1 + sigma^2), flow u = x_1 - x_0 = eps - D; one
    sigma per sample; 'x0' is D itself and needs no sigma (sigma = 0 allowed)."""
    x = torch.tensor([[1.0, -2.0], [0.5, 3.0], [-1.5, 0.25]], dtype=F64)
    d = torch.tensor([[0.2, -0.7], [1.1, 0.4], [-0.3, -0.9]], dtype=F64)
    sigma = torch.tensor([0.5, 2.0, 4.0], dtype=F64)
    got = {k: from_denoised(k, d, x, sigma) for k in PREDICTIONS}
    for b in range(3):
        s = float(sigma[b])
        alpha, s_vp = 1 / math.sqrt(1 + s**2), s / math.sqrt(1 + s**2)
        for j in range(2):
            xv, dv = float(x[b, j]), float(d[b, j])
            eps = (xv - dv) / s
            expected = {
                "x0": dv,
                "eps": eps,
                "score": (dv - xv) / s**2,
                "v": alpha * eps - s_vp * dv,
                "flow": eps - dv,
            }
            for k in PREDICTIONS:
                assert math.isclose(float(got[k][b, j]), expected[k], rel_tol=1e-12), k
                back = to_denoised(k, got[k], x, sigma)[b, j]
                assert math.isclose(float(back), dv, rel_tol=1e-12, abs_tol=1e-14), k
    assert PREDICTIONS == ("x0", "score", "eps", "v", "flow")
    assert torch.equal(from_denoised("x0", d, x, 0.0), d)
    assert torch.equal(to_denoised("x0", d, x, 0.0), d)


@pytest.mark.parametrize("kind", ["score", "eps", "v", "flow"])
def test_predictions_refuse_sigma_zero_by_name(kind):
    """sigma = 0 is refused for every prediction that divides by it (both directions)."""
    x = torch.ones(2, 2, dtype=F64)
    msg = f"the {kind!r} prediction needs sigma > 0"
    with pytest.raises(ValueError, match=msg):
        from_denoised(kind, x, x, torch.tensor([1.0, 0.0], dtype=F64))
    with pytest.raises(ValueError, match=msg):
        to_denoised(kind, x, x, 0.0)
    with pytest.raises(ValueError, match=r"sigma must lie in \[0, inf\) \(finite\), got -1.0"):
        to_denoised(kind, x, x, -1.0)


def test_prediction_checks_name_what_is_wrong():
    """Unknown kind, mismatched shapes and 1-D inputs are refused with their messages."""
    x = torch.zeros(3, 2, dtype=F64)
    with pytest.raises(
        ValueError, match=r"kind must be one of \('x0', 'score', 'eps', 'v', 'flow'\), got 'noise'"
    ):
        to_denoised("noise", x, x, 1.0)
    with pytest.raises(
        ValueError, match=r"denoised and x must have the same shape, got torch.Size\(\[3, 3\]\)"
    ):
        from_denoised("eps", torch.zeros(3, 3, dtype=F64), x, 1.0)
    with pytest.raises(ValueError, match=r"pred and x must have the same shape"):
        to_denoised("x0", torch.zeros(3, 3, dtype=F64), x, 1.0)
    with pytest.raises(ValueError, match=r"x must have at least 2 dimension\(s\)"):
        from_denoised("x0", torch.zeros(3, dtype=F64), torch.zeros(3, dtype=F64), 1.0)
    with pytest.raises(ValueError, match=r"pred must have at least 2 dimension\(s\)"):
        to_denoised("eps", torch.zeros(3, dtype=F64), x, 1.0)


def test_ve_and_edm_times_beyond_one_and_vp_clamp():
    """VE and EDM times have no upper end (t_max = inf) in every method; VP's inverse clamps a
    level a rounding above sigma(1) to t = 1 exactly (dt/dsigma ~ 1/4 there, so sigma(1)(1 + 1e-13)
    is ~ 5e-14 past t = 1, inside the 1e-12 slack)."""
    ve, ed = VE(), EDM()
    assert float(ve.dsigma(4.0)) == 0.25  # 1/(2 sqrt 4)
    assert float(ve.s(4.0)) == 1.0 and float(ve.ds(4.0)) == 0.0
    assert float(ve.t_of_sigma(3.0)) == 9.0
    assert float(ed.dsigma(80.0)) == 1.0 and float(ed.s(80.0)) == 1.0 and float(ed.ds(80.0)) == 0.0
    assert float(ed.t_of_sigma(80.0)) == 80.0
    fam = VP(0.5, 3.0)
    s1 = float(fam.sigma(1.0))
    assert float(fam.t_of_sigma(s1 * (1 + 1e-13))) == 1.0


def test_stochastic_sampler_draws_noise_only_where_it_churns():
    """Fresh noise is requested only on steps with gamma_i > 0 (S_tmin <= t_i <= S_tmax), once
    per such step, with the step index; S_churn = 0 requests none."""
    x, sig = torch.tensor([[1.0]], dtype=F64), torch.tensor([2.0, 1.0, 0.5, 0.0], dtype=F64)
    asked = []

    def noise(i, xx):
        asked.append(i)
        return torch.full_like(xx, 0.3)

    stochastic_sample(_denoiser, x, sig, S_churn=0.9, S_tmin=0.6, S_tmax=1.5, noise=noise)
    assert asked == [1]
    asked.clear()
    stochastic_sample(_denoiser, x, sig, S_churn=0.9, noise=noise)
    assert asked == [0, 1, 2]
    asked.clear()
    stochastic_sample(_denoiser, x, sig, S_churn=0.0, noise=noise)
    assert asked == []
    assert edm_sigmas(1).dtype == F64 and edm_sigmas(3).dtype == F64


def test_spacings_at_a_large_T_against_exact_rationals():
    """T = 10^6, n = 999: every spacing against exact rational arithmetic (``Fraction`` and
    Python's half-to-even ``round``): uniform round(1 + i (T-1)/(n-1)), linspace
    round(i (T-1)/(n-1)) + 1, quadratic round(1 + (T-1) i^2/(n-1)^2), trailing round(T - i T/n).
    At this size a float32 grid (a dropped ``dtype=torch.float64``) rounds 15-31 steps wrongly."""
    from fractions import Fraction

    T, n = 10**6, 999
    sch = Schedule(linear_betas(T))
    exact = {
        "uniform": [round(1 + Fraction(k * (T - 1), n - 1)) for k in range(n)],
        "linspace": [round(Fraction(k * (T - 1), n - 1)) + 1 for k in range(n)],
        "quadratic": [round(1 + Fraction((T - 1) * k * k, (n - 1) ** 2)) for k in range(n)],
        "trailing": [round(T - Fraction(k * T, n)) for k in range(n)],
    }
    for spacing, ts in exact.items():
        assert len(set(ts)) == n  # no merged steps at this size
        assert sch.timesteps(n, spacing).tolist() == sorted(ts, reverse=True), spacing
