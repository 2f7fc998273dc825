"""Checks that fail on small wrong changes to Chapter 03's formulas (issue 16, mutation testing).

Each test pins a behaviour that the main tests left free: the exact values of every
schedule at k = 1, 2 (worked by hand), the Robbins-Monro conditions at their boundaries,
two steps of every recursion replayed by hand with the same seeded draws, the exact SGD
moments (5.6) against a brute-force enumeration of every mini-batch sequence, the ODE
solution against its closed form, error messages, and that a seeded generator (never the
global RNG) drives every simulation.
"""

import itertools
import math

import numpy as np
import pytest
import torch

from course_lib.approx import (
    PROBLEMS,
    SCHEDULES,
    ConstantStep,
    PowerStep,
    RootProblem,
    batch_means,
    constant_step_variance,
    dvoretzky_moments,
    dvoretzky_process,
    estimator_weights,
    gaussian_noise,
    gradient_noise_ratio,
    incremental_mean,
    least_squares_grad,
    least_squares_loss,
    least_squares_solution,
    minibatch_gd,
    resolve_steps,
    robbins_monro,
    sgd_least_squares,
    sgd_least_squares_moments,
    sgd_mean,
    solve_mean_ode,
    tanh_flow,
    uniform_noise,
)

F64, F32 = torch.float64, torch.float32


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def t64(*v):
    return torch.tensor(v, dtype=F64)


# ---------------------------------------------------------------------------------------
# schedules.py
# ---------------------------------------------------------------------------------------
def test_power_step_values_at_k_1_2_by_hand():
    """a_k = c / (k + k0)^p at k = 1, 2 for non-default c, p, k0, and the defaults 1/k."""
    a = PowerStep(2.0, 0.5, 3.0).values(2)
    # by hand: 2 / sqrt(1 + 3) = 1, 2 / sqrt(2 + 3) = 2 / sqrt(5)
    assert a.dtype == F64 and torch.allclose(a, t64(1.0, 2 / math.sqrt(5)), rtol=1e-15)
    assert torch.equal(PowerStep().values(3), t64(1.0, 0.5, 1 / 3))  # c = p = 1, k0 = 0
    a32 = PowerStep(3.0, 2.0).values(2, dtype=F32)  # 3/1, 3/4
    assert a32.dtype == F32 and torch.equal(a32, torch.tensor([3.0, 0.75]))
    assert PowerStep().values(0).shape == (0,)


def test_constant_step_values_and_repr():
    """a_k = a for every k, in the asked dtype; the reprs name the parameters."""
    a = ConstantStep(0.25).values(3, dtype=F32)
    assert a.dtype == F32 and torch.equal(a, torch.full((3,), 0.25))
    assert ConstantStep(0.25).values(2).dtype == F64
    assert repr(ConstantStep(0.25)) == "ConstantStep(a=0.25)"
    assert repr(PowerStep(2, 0.5, 3)) == "PowerStep(c=2, p=0.5, k0=3)"
    assert ConstantStep(0.25).total == math.inf


def test_named_schedules_at_k_1_2():
    """The widget schedules are 1/k, 1/k^0.6, the constant 0.1 and 1/k^2 (by hand at k = 2)."""
    expect = {
        "1/k": (1.0, 0.5),
        "1/k^0.6": (1.0, 2**-0.6),
        "0.1 (constant)": (0.1, 0.1),
        "1/k^2": (1.0, 0.25),
    }
    assert set(SCHEDULES) == set(expect)
    for name, v in expect.items():
        assert torch.allclose(SCHEDULES[name].values(2), t64(*v), rtol=1e-15), name
    assert [SCHEDULES[n].satisfies_rm for n in expect] == [True, True, False, False]


def test_rm_conditions_at_the_boundaries_p_1_and_p_one_half():
    """sum a_k diverges iff p <= 1 and sum a_k^2 converges iff p > 1/2: both ends exactly."""
    assert PowerStep(1.0, 1.0).sum_diverges and PowerStep(1.0, 1.0).squares_summable
    assert not PowerStep(1.0, 1.0 + 1e-9).sum_diverges
    assert not PowerStep(1.0, 0.5).squares_summable and PowerStep(1.0, 0.5).sum_diverges
    assert PowerStep(1.0, 0.5 + 1e-9).squares_summable
    assert not PowerStep(1.0, 0.5).satisfies_rm and not PowerStep(1.0, 2.0).satisfies_rm
    assert not ConstantStep(1.0).satisfies_rm
    c = ConstantStep(0.3)
    assert c.sum_diverges is True and c.squares_summable is False


def test_power_step_total_is_a_hurwitz_zeta_value():
    """sum_k c (k + k0)^-p: for p = 2, k0 = 1, c = 2 it is 2 (pi^2/6 - 1) (Basel minus k = 1)."""
    assert math.isclose(PowerStep(2.0, 2.0, 1.0).total, 2 * (math.pi**2 / 6 - 1), rel_tol=1e-12)
    # p = 3, c = 1, k0 = 0: Apery's constant zeta(3) = 1.2020569031595942 (published value)
    assert math.isclose(PowerStep(1.0, 3.0).total, 1.2020569031595942, rel_tol=1e-12)


def test_partial_sums_start_at_zero_and_accumulate():
    """t_1 = 0, t_{k+1} = a_1 + ... + a_k (the ODE time), for a constant step: 0, a, 2a."""
    assert torch.equal(ConstantStep(0.5).partial_sums(2), t64(0.0, 0.5, 1.0))
    assert torch.equal(ConstantStep(0.5).partial_sums(0), t64(0.0))
    with pytest.raises(ValueError, match="n must be >= 0"):
        ConstantStep(0.5).partial_sums(-1)


def test_schedule_parameter_bounds():
    """c, p > 0 (open), k0 >= 0 (closed), a > 0 (open); the messages name the parameter."""
    assert PowerStep(1.0, 1.0, 0.0).k0 == 0.0
    for kwargs, name in [({"c": 0.0}, "c"), ({"p": 0.0}, "p"), ({"k0": -0.5}, "k0")]:
        with pytest.raises(ValueError, match=f"^{name} must be a finite number"):
            PowerStep(**kwargs)
    with pytest.raises(ValueError, match="^a must be a finite number in \\(0, inf\\)"):
        ConstantStep(0.0)
    with pytest.raises(ValueError, match="^n must be >= 0"):
        PowerStep().values(-1)
    with pytest.raises(ValueError, match="^n must be >= 0"):
        ConstantStep(1.0).values(-1)


def test_resolve_steps_from_every_kind_of_input():
    """A StepSize, a number (constant step) or a 1-D tensor of >= n entries, cut to n."""
    a = resolve_steps(PowerStep(), 2, dtype=F32)
    assert a.dtype == F32 and torch.equal(a, torch.tensor([1.0, 0.5]))
    assert resolve_steps(ConstantStep(0.5), 2, dtype=F32).dtype == F32
    a = resolve_steps(0.2, 3, dtype=F32)
    assert a.dtype == F32 and torch.equal(a, torch.full((3,), 0.2))
    assert resolve_steps(3, 2).dtype == F64  # an int is a real number too
    exact = torch.tensor([0.5, 0.0, 0.25])  # exactly n entries, one of them 0 (allowed)
    got = resolve_steps(exact, 3)
    assert got.dtype == F64 and torch.equal(got, exact.double())
    assert torch.equal(resolve_steps(t64(1.0, 2.0, 3.0, -4.0), 2), t64(1.0, 2.0))
    with pytest.raises(TypeError, match="^step_sizes must be a StepSize, .* tensor, got bool$"):
        resolve_steps(True, 2)
    with pytest.raises(ValueError, match="must be 1-D with at least n_iter = 2 entries"):
        resolve_steps(torch.ones(2, 2), 2)
    with pytest.raises(ValueError, match="^step_sizes must be finite and >= 0$"):
        resolve_steps(t64(1.0, math.inf), 2)
    with pytest.raises(ValueError, match="^step_sizes must have at least 1 dimension"):
        resolve_steps(torch.tensor(0.5), 2)
    with pytest.raises(TypeError, match="^step_sizes must be a floating-point tensor"):
        resolve_steps(torch.tensor([1, 2]), 2)
    with pytest.raises(ValueError, match="a must be a finite number"):
        resolve_steps(-0.1, 2)
    with pytest.raises(ValueError, match="n must be >= 0"):
        resolve_steps(0.1, -1)


@pytest.mark.gpu
def test_step_sizes_live_on_the_requested_device():
    """values(..., device=) and resolve_steps(..., device=) allocate on that device."""
    for sched in (PowerStep(2.0, 0.5, 3.0), ConstantStep(0.25)):
        a = sched.values(3, device="cuda")
        assert a.device.type == "cuda" and torch.equal(a.cpu(), sched.values(3))
        assert resolve_steps(sched, 3, device="cuda").device.type == "cuda"
    assert resolve_steps(0.5, 3, device="cuda").device.type == "cuda"
    assert resolve_steps(t64(1.0, 2.0), 2, device="cuda").device.type == "cuda"


# ---------------------------------------------------------------------------------------
# mean.py
# ---------------------------------------------------------------------------------------
def test_batch_means_match_numpy_running_means_on_two_dims():
    """out[k-1] = (1/k) sum_{i<=k} x_i, checked column by column against numpy."""
    x = torch.randn(5, 3, dtype=F64, generator=gen(2))
    ref = np.cumsum(x.numpy(), 0) / np.arange(1, 6)[:, None]
    out = batch_means(x)
    assert out.shape == (5, 3) and np.allclose(out.numpy(), ref, rtol=1e-14, atol=0)
    x32 = x.float()
    assert batch_means(x32).dtype == F32
    assert np.allclose(batch_means(x[:, 0]).numpy(), ref[:, 0], rtol=1e-14, atol=0)


def test_incremental_mean_two_steps_by_hand_and_its_defaults():
    """w_1 = w1 (default 0), w_2 = x_1, w_3 = (x_1 + x_2)/2 with a_k = 1/k; general steps."""
    x = torch.tensor([[4.0, -2.0], [2.0, 6.0]], dtype=F64)
    w = incremental_mean(x)
    assert w.shape == (3, 2)
    assert torch.equal(w, torch.tensor([[0.0, 0.0], [4.0, -2.0], [3.0, 2.0]], dtype=F64))
    assert np.allclose(w[1:].numpy(), np.cumsum(x.numpy(), 0) / np.array([[1], [2]]))
    # a = 0.5, w1 = 2: w_2 = 2 - 0.5 (2 - 4) = 3, w_3 = 3 - 0.5 (3 - 2) = 2.5 (first column)
    v = incremental_mean(x, 0.5, w1=2.0)
    assert torch.equal(v[:, 0], t64(2.0, 3.0, 2.5))
    # a tensor w1 per coordinate; a float32 sample keeps float32 steps
    u = incremental_mean(x.float(), PowerStep(1.0, 1.0, 1.0), w1=torch.tensor([1.0, 0.0]))
    # a_1 = 1/2, a_2 = 1/3: w_2 = 1 - (1 - 4)/2 = 2.5, w_3 = 2.5 - (2.5 - 2)/3 = 2.3333
    assert u.dtype == F32 and torch.allclose(u[:, 0], torch.tensor([1.0, 2.5, 7 / 3]))


def test_incremental_mean_keeps_the_sample_dtype_throughout():
    """In float32 each step (1.3) is float32 arithmetic (a numpy float32 replay agrees bit for
    bit), and a float w1 is stored in x's dtype (0.1 stays float64's 0.1)."""
    x = torch.randn(20, generator=gen(6))
    sched = PowerStep(0.9, 0.7, 1.0)
    w = incremental_mean(x, sched, w1=0.3)
    a = sched.values(20).float().numpy()
    v, ref = np.float32(0.3), [np.float32(0.3)]
    for k, xk in enumerate(x.numpy()):
        v = np.float32(v - np.float32(a[k] * np.float32(v - xk)))
        ref.append(v)
    assert w.dtype == F32 and np.array_equal(w.numpy(), np.array(ref, dtype=np.float32))
    assert float(incremental_mean(torch.ones(2, 3, dtype=F64), 0.5, w1=0.1)[0, 0]) == 0.1
    with pytest.raises(TypeError, match="^x must be a torch.Tensor"):
        batch_means([1.0, 2.0])
    with pytest.raises(ValueError, match="^x must have at least 1 dimension"):
        batch_means(torch.tensor(1.0))


@pytest.mark.gpu
def test_mean_estimators_live_on_the_samples_device():
    """Every tensor the estimators build (k, a_k, w_1, the output) is on x's device."""
    x = torch.randn(6, 2, dtype=F64, device="cuda")
    assert torch.allclose(batch_means(x).cpu(), batch_means(x.cpu()), rtol=1e-14)
    for steps in (None, PowerStep(1.0, 0.7), 0.3):
        w = incremental_mean(x, steps, w1=0.5)
        assert w.device.type == "cuda"
        assert torch.allclose(w.cpu(), incremental_mean(x.cpu(), steps, w1=0.5), rtol=1e-14)


def test_estimator_weights_by_hand_and_by_linearity():
    """(1.4): with a = (1/2, 1/4, 1/5) the weight of w_1 is (1/2)(3/4)(4/5) = 3/10 and the
    sample weights are (1/2 * 3/4 * 4/5, 1/4 * 4/5, 1/5) = (3/10, 1/5, 1/5); they sum to 1."""
    w1, lam = estimator_weights(t64(0.5, 0.25, 0.2), 3)
    assert math.isclose(float(w1), 0.3, rel_tol=1e-15)
    assert torch.allclose(lam, t64(0.3, 0.2, 0.2), rtol=1e-15)
    # independent route: the recursion (1.3) is linear, so feeding unit samples reads the weights
    a = PowerStep(0.7, 0.8, 1.0)
    w1, lam = estimator_weights(a, 4)
    w = incremental_mean(torch.eye(4, dtype=F64), a, w1=0.0)[-1]
    assert torch.allclose(lam, w, rtol=1e-14)
    assert math.isclose(float(w1) + float(lam.sum()), 1.0, rel_tol=1e-14)


def test_constant_step_variance_value_and_bounds():
    """a s^2 / (2 - a) = a^2 s^2 sum_j (1 - a)^(2j) (the unrolled (1.4)); 0 < a < 2, s^2 >= 0."""
    series = 0.5**2 * 3.0 * sum(0.5 ** (2 * j) for j in range(200))
    assert math.isclose(constant_step_variance(0.5, 3.0), series, rel_tol=1e-14)  # = 1
    assert constant_step_variance(1.5, 0.0) == 0.0
    with pytest.raises(ValueError, match="^a must be a finite number in \\(0, 2\\)"):
        constant_step_variance(0.0, 1.0)
    with pytest.raises(ValueError, match="^a must be"):
        constant_step_variance(2.0, 1.0)
    with pytest.raises(ValueError, match="^sigma2 must be a finite number"):
        constant_step_variance(0.5, -1.0)


# ---------------------------------------------------------------------------------------
# rm.py
# ---------------------------------------------------------------------------------------
def test_robbins_monro_two_noisy_steps_replayed_by_hand():
    """w_{k+1} = w_k - a_k (g(w_k) + sigma z_k) with z_k the seeded N(0, 1) draws, in order."""
    w1, sigma = t64(3.0, -1.0), 0.3
    sched = PowerStep(0.5, 1.0, 1.0)  # a_1 = 1/4, a_2 = 1/6
    w = robbins_monro(PROBLEMS["linear"].g, w1, sched, 2, noise=sigma, generator=gen(7))
    g = gen(7)
    z1 = torch.randn(2, dtype=F64, generator=g)
    w2 = w1 - 0.25 * (w1 - 1.0 + sigma * z1)
    z2 = torch.randn(2, dtype=F64, generator=g)
    w3 = w2 - (1 / 6) * (w2 - 1.0 + sigma * z2)
    assert w.shape == (3, 2)
    assert torch.allclose(w, torch.stack([w1, w2, w3]), rtol=1e-14, atol=0)
    # another seed gives other numbers; no noise (0 or None) gives the exact recursion
    other = robbins_monro(PROBLEMS["linear"].g, w1, sched, 2, noise=sigma, generator=gen(8))
    assert not torch.equal(other, w)
    for quiet in (0.0, None):
        e = robbins_monro(PROBLEMS["linear"].g, w1, sched, 2, noise=quiet)
        assert torch.allclose(e[2, 0], torch.tensor(1 + 2 * 0.75 * (5 / 6), dtype=F64))


def test_noise_models_draw_from_the_seeded_generator():
    """gaussian: sigma z; uniform: b (2u - 1), z and u from the same seeded generator."""
    w = torch.zeros(4, dtype=F64)
    eta = gaussian_noise(2.0)(w, gen(3))
    assert torch.equal(eta, 2.0 * torch.randn(4, dtype=F64, generator=gen(3)))
    eta = uniform_noise(0.5)(w, gen(3))
    assert torch.equal(eta, 0.5 * (2 * torch.rand(4, dtype=F64, generator=gen(3)) - 1))
    torch.manual_seed(3)  # without a generator: the global RNG, still bounded by b
    eta = uniform_noise(0.5)(w.float(), None)
    assert eta.dtype == F32 and bool((eta.abs() <= 0.5).all())
    assert torch.equal(eta, 0.5 * (2 * torch.rand(4, generator=gen(3)) - 1))
    assert torch.equal(gaussian_noise(0.0)(w, gen(1)), w)  # sigma = 0 is allowed
    with pytest.raises(ValueError, match="^sigma must be"):
        gaussian_noise(-1.0)
    with pytest.raises(ValueError, match="^b must be"):
        uniform_noise(-1.0)
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        uniform_noise(1.0)(w, 3)


def test_robbins_monro_with_a_callable_noise_and_its_errors():
    """A callable noise(w, generator) is used as given; bad g, shapes and overflow raise."""
    w = robbins_monro(PROBLEMS["linear"].g, t64(2.0), 1.0, 1, noise=lambda w, g: torch.ones_like(w))
    assert torch.equal(w[:, 0], t64(2.0, 0.0))  # 2 - 1 (1 + 1)
    with pytest.raises(TypeError, match="^g must be callable as g\\(w\\)"):
        robbins_monro(3.0, t64(1.0), 1.0, 1)
    with pytest.raises(ValueError, match="g\\(w\\) must return a tensor of shape \\(2,\\)"):
        robbins_monro(lambda w: w.sum(), t64(1.0, 2.0), 1.0, 1)
    with pytest.raises(ValueError, match="got float"):
        robbins_monro(lambda w: 1.0, t64(1.0), 1.0, 1)
    with pytest.raises(ValueError, match="the iterates overflowed"):
        robbins_monro(lambda w: w**3, t64(10.0), 1.0, 8)
    with pytest.raises(ValueError, match="n_iter must be >= 0"):
        robbins_monro(PROBLEMS["linear"].g, t64(1.0), 1.0, -1)
    with pytest.raises(ValueError, match="^noise must be"):
        robbins_monro(PROBLEMS["linear"].g, t64(1.0), 1.0, 1, noise=-0.5)
    assert robbins_monro(PROBLEMS["linear"].g, t64(1.0), 1.0, 0).shape == (1, 1)


def test_root_problems_by_hand():
    """g(1) = 0 for each problem; values at w = 2, 3 by hand (flat: e^3/(1 + e^2) = 1/2 at
    e = 1, 8/5 at e = 2); the declared slope bounds hold; the names carry the formulas."""
    w = t64(1.0, 2.0, 3.0)
    expect = {
        "linear": (0.0, 1.0, 2.0),
        "tanh": (0.0, math.tanh(1.0), math.tanh(2.0)),
        "flat": (0.0, 0.5, 1.6),
    }
    names = {
        "linear": "linear: g = w - 1",
        "tanh": "tanh: g = tanh(w - 1)",
        "flat": "flat: g = e^3/(1+e^2), e = w - 1",
    }
    for name, vals in expect.items():
        p = PROBLEMS[name]
        assert p.name == names[name]
        assert torch.allclose(p.g(w), t64(*vals), rtol=1e-15, atol=0), name
        assert (p.root, p.w1) == (1.0, 3.0)
        x = torch.linspace(-9.0, 11.0, 4001, dtype=F64, requires_grad=True)
        (slope,) = torch.autograd.grad(p.g(x).sum(), x)
        assert float(slope.min()) >= p.slope_min - 1e-12 and float(slope.max()) <= p.slope_max
        assert math.isclose(float(slope.max()), p.slope_max, rel_tol=1e-4)
    assert PROBLEMS["linear"].satisfies_slope_condition
    assert not PROBLEMS["tanh"].satisfies_slope_condition  # slope_min = 0 exactly: fails
    assert RootProblem("x", PROBLEMS["linear"].g, 1.0, 0.0, 1e-9, 1.0).satisfies_slope_condition


def test_dvoretzky_process_two_steps_replayed_by_hand_with_default_noise():
    """Delta_{k+1} = (1 - alpha_k) Delta_k + beta_k eta_k, eta ~ N(0, 1) by default."""
    alpha, beta = t64(0.5, 0.25), t64(1.0, 0.5)
    d1 = t64(2.0, -4.0)
    d = dvoretzky_process(alpha, beta, 2, d1, generator=gen(5))
    g = gen(5)
    e1 = torch.randn(2, dtype=F64, generator=g)
    d2 = 0.5 * d1 + 1.0 * e1
    d3 = 0.75 * d2 + 0.5 * torch.randn(2, dtype=F64, generator=g)
    assert d.shape == (3, 2) and torch.allclose(d, torch.stack([d1, d2, d3]), rtol=1e-14)
    quiet = dvoretzky_process(alpha, beta, 2, d1, noise=0.0)
    assert torch.equal(quiet, torch.stack([d1, 0.5 * d1, 0.375 * d1]))
    assert not torch.equal(dvoretzky_process(alpha, beta, 2, d1, generator=gen(6)), d)


def test_dvoretzky_moments_two_steps_by_hand():
    """(4.2) with alpha = (1/2, 1/4), beta = (1, 1/2), Delta_1 = 2, s^2 = 3: means 2, 1, 3/4;
    variances 0, 0 + 1 * 3 = 3, (3/4)^2 * 3 + (1/2)^2 * 3 = 39/16."""
    mean, var = dvoretzky_moments(t64(0.5, 0.25), t64(1.0, 0.5), 2, 2.0, 3.0)
    assert torch.equal(mean, t64(2.0, 1.0, 0.75))
    assert torch.allclose(var, t64(0.0, 3.0, 39 / 16), rtol=1e-15)
    with pytest.raises(ValueError, match="^sigma2 must be"):
        dvoretzky_moments(0.5, 0.5, 2, 1.0, -1.0)
    assert dvoretzky_moments(0.5, 0.5, 0, 1.0, 0.0)[1].shape == (1,)


def test_zero_noise_draws_nothing_from_the_generator():
    """noise = 0 means exact values of g: no N(0, 0) draws, the generator state is untouched."""
    g = gen(11)
    state = g.get_state()
    robbins_monro(PROBLEMS["linear"].g, t64(3.0, 2.0), 0.5, 3, noise=0.0, generator=g)
    dvoretzky_process(0.5, 1.0, 3, t64(1.0), noise=0.0, generator=g)
    assert torch.equal(g.get_state(), state)
    gaussian_noise(0.1)(t64(0.0), g)  # a real draw does move it (the check can fail)
    assert not torch.equal(g.get_state(), state)


def test_rm_and_dvoretzky_error_messages_in_full():
    """Each input check names the argument, what was expected and what came."""
    lin = PROBLEMS["linear"].g
    with pytest.raises(
        TypeError, match=r"^g must be callable as g\(w\) -> tensor shaped like w, got float$"
    ):
        robbins_monro(3.0, t64(1.0), 1.0, 1)
    with pytest.raises(TypeError, match=r"^w1 must be a torch.Tensor, got float$"):
        robbins_monro(lin, 1.0, 1.0, 1)
    with pytest.raises(
        ValueError, match=r"^g\(w\) must return a tensor of shape \(2,\), got \(\)$"
    ):
        robbins_monro(lambda w: w.sum(), t64(1.0, 2.0), 1.0, 1)
    with pytest.raises(
        ValueError,
        match=r"^the iterates overflowed \(inf/NaN\): g grows too fast for these step sizes; "
        r"use smaller steps or a start closer to the root$",
    ):
        robbins_monro(lambda w: w**3, t64(10.0), 1.0, 8)
    with pytest.raises(ValueError, match=r"^n_iter must be >= 0, got -2$"):
        dvoretzky_process(0.5, 1.0, -2, t64(1.0))
    with pytest.raises(TypeError, match=r"^generator must be a torch.Generator or None, got int$"):
        dvoretzky_process(0.5, 1.0, 1, t64(1.0), noise=0.0, generator=3)
    with pytest.raises(ValueError, match=r"^n_iter must be >= 0, got -1$"):
        dvoretzky_moments(0.5, 0.5, -1, 1.0, 1.0)
    with pytest.raises(TypeError, match=r"^delta1 must be a real number, got str 'a'$"):
        dvoretzky_moments(0.5, 0.5, 1, "a", 1.0)


def test_dvoretzky_scalar_start_and_float64_moments():
    """A 0-d Delta_1 is one run; (4.2) is evaluated in float64: with alpha = 1/3 the mean
    (2/3)^k and the variance 1, 1 + (2/3)^2 are not float32 numbers."""
    d = dvoretzky_process(1 / 3, 1.0, 2, torch.tensor(1.0, dtype=F64), noise=0.0)
    assert d.shape == (3,) and torch.allclose(d, t64(1.0, 2 / 3, 4 / 9), rtol=1e-15, atol=0)
    mean, var = dvoretzky_moments(1 / 3, 1.0, 2, 1.0, 1.0)
    assert mean.dtype == var.dtype == F64
    assert torch.allclose(mean, t64(1.0, 2 / 3, 4 / 9), rtol=1e-15, atol=0)  # f32: ~1e-8 off
    assert torch.allclose(var, t64(0.0, 1.0, 13 / 9), rtol=1e-15, atol=0)


def test_dvoretzky_process_and_uniform_noise_follow_the_devices():
    """On a second device (PyTorch's data-free "meta" device): the output of (4.1) lives on
    Delta_1's device; uniform draws are made on the generator's device (the global CPU RNG
    is left alone without a generator) and moved to w's device."""
    d = dvoretzky_process(0.5, 1.0, 2, torch.zeros(3, dtype=F64, device="meta"), noise=0.0)
    assert d.device.type == "meta" and d.shape == (3, 3)
    w = torch.zeros(4, dtype=F64, device="meta")
    cpu_state = torch.get_rng_state()
    eta = uniform_noise(1.0)(w, None)
    assert eta.device.type == "meta" and eta.shape == (4,)
    assert torch.equal(torch.get_rng_state(), cpu_state)
    g = gen(12)
    state = g.get_state()
    eta = uniform_noise(1.0)(w, g)
    assert eta.device.type == "meta" and eta.shape == (4,)
    assert not torch.equal(g.get_state(), state)  # the CPU generator made the draws


@pytest.mark.gpu
def test_rm_and_noise_live_on_the_iterates_device():
    """CUDA w_1 with a CPU generator: the same draws as on the CPU, iterates on CUDA."""
    w1 = t64(3.0, -1.0)
    noises = (0.3, uniform_noise(0.5))
    for noise in noises:
        cpu = robbins_monro(PROBLEMS["tanh"].g, w1, 0.5, 3, noise=noise, generator=gen(1))
        cuda = robbins_monro(PROBLEMS["tanh"].g, w1.cuda(), 0.5, 3, noise=noise, generator=gen(1))
        assert cuda.device.type == "cuda"
        assert torch.allclose(cuda.cpu(), cpu, rtol=1e-12)
    eta = uniform_noise(0.5)(w1.cuda(), None)
    assert eta.device.type == "cuda" and bool((eta.abs() <= 0.5).all())
    d = dvoretzky_process(0.5, 1.0, 2, w1.cuda(), generator=gen(2))
    assert d.device.type == "cuda"


# ---------------------------------------------------------------------------------------
# sgd.py
# ---------------------------------------------------------------------------------------
def small_data():
    X = torch.tensor([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]], dtype=F64)
    y = t64(1.0, 0.0, 3.0)
    return X, y


def test_least_squares_loss_and_solution_by_hand():
    """J(w) = (1/2n)||Xw - y||^2: at w = 0 it is (1 + 0 + 9)/6 = 5/3; w* by numpy lstsq."""
    X, y = small_data()
    assert math.isclose(float(least_squares_loss(X, y, t64(0.0, 0.0))), 5 / 3, rel_tol=1e-15)
    w = torch.randn(4, 2, dtype=F64, generator=gen(1))
    ref = ((w.numpy() @ X.numpy().T - y.numpy()) ** 2).sum(-1) / 6
    assert np.allclose(least_squares_loss(X, y, w).numpy(), ref, rtol=1e-14)
    # grad J(0) = -(1/n) X^T y = -(1/3)(4, 6)
    assert torch.allclose(least_squares_grad(X, y, t64(0.0, 0.0)), t64(-4 / 3, -2.0))
    ref = np.linalg.lstsq(X.numpy(), y.numpy(), rcond=None)[0]
    assert np.allclose(least_squares_solution(X, y).numpy(), ref, rtol=1e-12)


def test_sgd_least_squares_two_steps_replayed_with_the_seeded_indices():
    """I_k = randint(0, n, (runs, m)) from the generator, then (5.2) by hand per run."""
    X, y = small_data()
    w1 = t64(0.5, -0.5).expand(3, 2)
    a = (0.5, 0.25)
    out = sgd_least_squares(X, y, w1, t64(*a), 2, batch_size=2, generator=gen(9))
    g = gen(9)
    w = w1.numpy().copy()
    Xn, yn = X.numpy(), y.numpy()
    for k in range(2):
        idx = torch.randint(0, 3, (3, 2), generator=g).numpy()
        grad = np.zeros_like(w)
        for r in range(3):
            for j in idx[r]:
                grad[r] += Xn[j] * (Xn[j] @ w[r] - yn[j]) / 2
        w = w - a[k] * grad
        assert np.allclose(out[k + 1].numpy(), w, rtol=1e-14), k
    # the default batch size is 1 (SGD): the same as asking for it
    d = sgd_least_squares(X, y, w1, t64(*a), 2, generator=gen(9))
    assert torch.equal(d, sgd_least_squares(X, y, w1, t64(*a), 2, batch_size=1, generator=gen(9)))
    assert not torch.equal(d, sgd_least_squares(X, y, w1, t64(*a), 2, generator=gen(10)))


def test_bgd_is_deterministic_gradient_descent():
    """batch_size=None uses every point each step: w_{k+1} = w_k - a_k grad J(w_k) (5.1)."""
    X, y = small_data()
    w1 = t64(0.5, -0.5)
    out = sgd_least_squares(X, y, w1[None], 0.2, 2, batch_size=None)
    w = w1
    for _ in range(2):
        w = w - 0.2 * X.T @ (X @ w - y) / 3
    assert torch.allclose(out[-1, 0], w, rtol=1e-14)


def test_sgd_mean_replay_and_default_batch():
    """f = ||w - x||^2/2: w_{k+1} = w_k - a_k (w_k - mean of the sampled points)."""
    pts = torch.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, -1.0], [6.0, 0.0]], dtype=F64)
    w1 = torch.zeros(2, 2, dtype=F64)
    out = sgd_mean(pts, w1, 0.5, 2, generator=gen(4))
    g = gen(4)
    w = w1
    for _ in range(2):
        idx = torch.randint(0, 4, (2, 1), generator=g)
        w = w - 0.5 * (w - pts[idx[:, 0]])
    assert torch.allclose(out[-1], w, rtol=1e-15)
    assert not torch.equal(out, sgd_mean(pts, w1, 0.5, 2, generator=gen(5)))


def test_minibatch_gd_calls_the_sample_gradient_with_the_drawn_indices():
    """idx has shape (runs, m) with entries in 0..n-1; BGD passes every index 0..n-1."""
    seen = []

    def grad(w, idx):
        seen.append(idx.clone())
        return torch.zeros_like(w)

    minibatch_gd(grad, 5, torch.zeros(3, 2, dtype=F64), 0.1, 2, batch_size=4, generator=gen(2))
    g = gen(2)
    for idx in seen:
        assert torch.equal(idx, torch.randint(0, 5, (3, 4), generator=g))
    seen.clear()
    minibatch_gd(grad, 5, torch.zeros(3, 2, dtype=F64), 0.1, 1, batch_size=None)
    assert torch.equal(seen[0], torch.arange(5).expand(3, 5))
    seen.clear()
    minibatch_gd(grad, 1, torch.zeros(1, 2, dtype=F64), 0.1, 1)  # n = 1 is allowed
    assert seen[0].shape == (1, 1)
    with pytest.raises(TypeError, match="^sample_grad must be callable"):
        minibatch_gd(None, 5, torch.zeros(3, 2, dtype=F64), 0.1, 1)
    with pytest.raises(ValueError, match="^n_data must be >= 1"):
        minibatch_gd(grad, 0, torch.zeros(3, 2, dtype=F64), 0.1, 1)
    with pytest.raises(ValueError, match="^w1 must have shape \\(runs, d\\)"):
        minibatch_gd(grad, 5, torch.zeros(3, 2, 1, dtype=F64), 0.1, 1)
    with pytest.raises(ValueError, match="^n_iter must be >= 0"):
        minibatch_gd(grad, 5, torch.zeros(3, 2, dtype=F64), 0.1, -1)


def brute_force_moments(X, y, w1, a, m):
    """E[e_k] and E[e_k e_k^T] by enumerating every equally likely sequence of batches."""
    n, d = X.shape
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    batches = list(itertools.product(range(n), repeat=m))
    mus, Ps = [], []
    for k in range(len(a) + 1):
        mu, P = np.zeros(d), np.zeros((d, d))
        seqs = list(itertools.product(batches, repeat=k))
        for seq in seqs:
            w = w1.copy()
            for step, batch in zip(a, seq, strict=False):
                w = w - step * np.mean([X[j] * (X[j] @ w - y[j]) for j in batch], 0)
            e = w - w_star
            mu, P = mu + e / len(seqs), P + np.outer(e, e) / len(seqs)
        mus.append(mu)
        Ps.append(P)
    return np.array(mus), np.array(Ps)


@pytest.mark.parametrize("m", [1, 2])
def test_sgd_moments_match_brute_force_enumeration(m):
    """(5.6) against the exact average over all n^(m k) batch sequences (n = 3, k <= 2)."""
    X, y = small_data()
    w1 = t64(0.5, -0.5)
    a = (0.3, 0.2)
    mu, P = sgd_least_squares_moments(X, y, w1, t64(*a), 2, batch_size=m)
    bmu, bP = brute_force_moments(X.numpy(), y.numpy(), w1.numpy(), a, m)
    assert np.allclose(mu.numpy(), bmu, rtol=1e-12, atol=1e-14)
    assert np.allclose(P.numpy(), bP, rtol=1e-12, atol=1e-14)


def test_sgd_moments_defaults_and_bgd():
    """The default batch is 1; BGD (None) has no noise: P = e e^T of plain gradient descent."""
    X, y = small_data()
    w1 = t64(0.5, -0.5)
    d1 = sgd_least_squares_moments(X, y, w1, 0.3, 2)
    b1 = brute_force_moments(X.numpy(), y.numpy(), w1.numpy(), (0.3, 0.3), 1)
    assert np.allclose(d1[1].numpy(), b1[1], rtol=1e-12, atol=1e-14)
    mu, P = sgd_least_squares_moments(X, y, w1, 0.3, 2, batch_size=None)
    gd = sgd_least_squares(X, y, w1[None], 0.3, 2, batch_size=None)[:, 0]
    e = gd - least_squares_solution(X, y)
    assert torch.allclose(mu, e, rtol=1e-12, atol=1e-14)
    assert torch.allclose(P, e[:, :, None] * e[:, None, :], rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="^w1 must be one start of shape \\(d,\\)"):
        sgd_least_squares_moments(X, y, w1[None], 0.3, 2)
    with pytest.raises(ValueError, match="^batch_size must be >= 1"):
        sgd_least_squares_moments(X, y, w1, 0.3, 2, batch_size=0)


def test_gradient_noise_ratio_by_explicit_loops():
    """delta(w) = mean_i ||g_i - g||^2 / ||g||^2 with g_i = x_i (x_i^T w - y_i), loop by loop."""
    X, y = small_data()
    for w in ([0.5, -0.5], [3.0, 1.0]):
        g_i = [X[i].numpy() * (X[i].numpy() @ np.array(w) - float(y[i])) for i in range(3)]
        g = np.mean(g_i, 0)
        ref = np.mean([((gi - g) ** 2).sum() for gi in g_i]) / (g**2).sum()
        assert math.isclose(float(gradient_noise_ratio(X, y, t64(*w))), ref, rel_tol=1e-12)


def test_least_squares_shape_and_dtype_errors():
    """The checks on X, y and w say which shape or dtype was expected."""
    X, y = small_data()
    with pytest.raises(ValueError, match="^X must be \\(n, d\\) and y \\(n,\\)"):
        least_squares_loss(X[None], y, t64(0.0, 0.0))
    with pytest.raises(ValueError, match="^X must be \\(n, d\\)"):
        least_squares_loss(X, y[None], t64(0.0, 0.0))
    with pytest.raises(ValueError, match="share dtype and device"):
        least_squares_loss(X, y.float(), t64(0.0, 0.0))
    with pytest.raises(ValueError, match="^w must have last dimension d = 2"):
        least_squares_grad(X, y, t64(0.0))
    with pytest.raises(ValueError, match="^w1 must have last dimension"):
        sgd_mean(X, torch.zeros(2, 3, dtype=F64), 0.1, 1)


def test_sgd_input_errors_in_full():
    """Every check names its argument and says what was expected and what came (X of 3 dims
    or y of 2 dims fail even when the leading sizes agree)."""
    X, y = small_data()
    w0 = t64(0.0, 0.0)
    cases = [
        (
            TypeError,
            r"^X must be a torch.Tensor, got list$",
            lambda: least_squares_loss([1.0], y, w0),
        ),
        (
            TypeError,
            r"^y must be a torch.Tensor, got list$",
            lambda: least_squares_loss(X, [1.0], w0),
        ),
        (
            ValueError,
            r"^X must have at least 2 dimension\(s\), got shape \(3,\)$",
            lambda: least_squares_loss(X[:, 0], y, w0),
        ),
        (
            ValueError,
            r"^X must be \(n, d\) and y \(n,\) with the same n, got \(3, 2, 1\) and \(3,\)$",
            lambda: least_squares_loss(X[..., None], y, w0),
        ),
        (
            ValueError,
            r"^X must be \(n, d\) and y \(n,\) with the same n, got \(3, 2\) and \(3, 1\)$",
            lambda: least_squares_loss(X, y[:, None], w0),
        ),
        (
            TypeError,
            r"^w must be a torch.Tensor, got float$",
            lambda: least_squares_loss(X, y, 1.0),
        ),
        (
            TypeError,
            r"^data must be a torch.Tensor, got list$",
            lambda: sgd_mean([[1.0]], torch.zeros(1, 2, dtype=F64), 0.1, 1),
        ),
        (
            ValueError,
            r"^data must have at least 2 dimension\(s\), got shape \(3,\)$",
            lambda: sgd_mean(y, torch.zeros(1, 2, dtype=F64), 0.1, 1),
        ),
        (
            ValueError,
            r"^w1 must have last dimension d = 2, got shape \(2, 3\)$",
            lambda: sgd_least_squares(X, y, torch.zeros(2, 3, dtype=F64), 0.1, 1),
        ),
        (
            ValueError,
            r"^w1 must have last dimension d = 2, got shape \(3,\)$",
            lambda: sgd_least_squares_moments(X, y, torch.zeros(3, dtype=F64), 0.1, 1),
        ),
        (
            ValueError,
            r"^n_iter must be >= 0, got -1$",
            lambda: sgd_least_squares_moments(X, y, w0, 0.1, -1),
        ),
        (
            ValueError,
            r"^w1 must have at least 2 dimension\(s\), got shape \(2,\)$",
            lambda: minibatch_gd(lambda w, i: w, 5, w0, 0.1, 1),
        ),
        (  # BGD draws nothing, yet a wrong generator is still refused
            TypeError,
            r"^generator must be a torch.Generator or None, got int$",
            lambda: sgd_least_squares(X, y, w0[None], 0.1, 1, batch_size=None, generator=3),
        ),
        (
            TypeError,
            r"^sample_grad must be callable, got int$",
            lambda: minibatch_gd(3, 5, torch.zeros(3, 2, dtype=F64), 0.1, 1),
        ),
    ]
    for exc, msg, call in cases:
        with pytest.raises(exc, match=msg):
            call()


def test_minibatch_gd_builds_indices_and_iterates_on_w1s_device():
    """On a second device (PyTorch's data-free "meta" device): the index tensors handed to
    sample_grad (drawn or the full 0..n-1) and the iterate history live on w1's device,
    while the draws come from the CPU generator."""
    w1 = torch.zeros(3, 2, dtype=F64, device="meta")
    devices = []

    def grad(w, idx):
        devices.append(idx.device.type)
        return torch.zeros_like(w)

    for batch_size in (2, None):
        g = gen(3)
        state = g.get_state()
        out = minibatch_gd(grad, 5, w1, 0.1, 2, batch_size=batch_size, generator=g)
        assert out.device.type == "meta" and out.shape == (3, 3, 2)
        assert torch.equal(g.get_state(), state) == (batch_size is None)
    assert devices == ["meta"] * 4


@pytest.mark.gpu
def test_minibatch_gd_with_a_cuda_generator_draws_on_cuda():
    """A CUDA generator draws the indices on CUDA; a CUDA w1 gets a CUDA history."""
    X, y = small_data()
    w1 = t64(0.5, -0.5).expand(2, 2)
    g = torch.Generator(device="cuda").manual_seed(1)
    out = sgd_least_squares(X.cuda(), y.cuda(), w1.cuda(), 0.2, 3, generator=g)
    assert out.device.type == "cuda"
    g.manual_seed(1)
    seen = []

    def grad(w, idx):
        seen.append(idx)
        return torch.zeros_like(w)

    minibatch_gd(grad, 3, w1.cuda(), 0.2, 1, generator=g)
    g2 = torch.Generator(device="cuda").manual_seed(1)
    ref = torch.randint(0, 3, (2, 1), generator=g2, device="cuda")
    assert seen[0].device.type == "cuda" and torch.equal(seen[0], ref)


# ---------------------------------------------------------------------------------------
# ode.py
# ---------------------------------------------------------------------------------------
def test_tanh_flow_matches_the_closed_form_in_plain_floats():
    """w(t) = w* + asinh(sinh(w0 - w*) e^{-t}), default w* = 1, evaluated with math."""
    t = t64(0.0, 0.5, 2.0)
    for w0, root in ((1.1, 1.0), (-2.0, 0.5)):
        got = tanh_flow(w0, t, root) if root != 1.0 else tanh_flow(w0, t)
        ref = [root + math.asinh(math.sinh(w0 - root) * math.exp(-s)) for s in (0.0, 0.5, 2.0)]
        assert got.dtype == F64 and torch.allclose(got, t64(*ref), rtol=1e-15, atol=0)
    assert float(tanh_flow(3.0, 0.0)) == 3.0
    with pytest.raises(ValueError, match="^t must lie in \\[0, inf\\)"):
        tanh_flow(1.0, -1e-3)
    with pytest.raises(TypeError, match="^w0 must be a real number"):
        tanh_flow("1", 0.0)
    with pytest.raises(TypeError, match="^root must be a real number"):
        tanh_flow(1.0, 0.0, None)


def test_solve_mean_ode_is_accurate_on_exponential_decay():
    """dw/dt = -w: w = w0 e^{-t}; relative error 1e-8 at t <= 2 and 1e-3 down at e^{-20}."""
    t = t64(0.0, 0.5, 0.5, 2.0, 20.0)  # repeated times are allowed (non-decreasing)
    w = solve_mean_ode(lambda v: v, 1.5, t)
    ref = 1.5 * np.exp(-t.numpy())
    assert w.dtype == F64 and w.shape == (5,)
    assert np.allclose(w[:4].numpy(), ref[:4], rtol=1e-8, atol=0)
    assert math.isclose(float(w[4]), ref[4], rel_tol=1e-3)


def test_solve_mean_ode_at_time_zero_only_returns_w0():
    """Bug fixed: all-zero (or no) times return w(0) = w0 (solve_ivp cannot span [0, 0])."""
    assert torch.equal(solve_mean_ode(np.tanh, 2.0, t64(0.0, 0.0)), t64(2.0, 2.0))
    assert torch.equal(solve_mean_ode(np.tanh, -1.0, t64(0.0)), t64(-1.0))
    empty = solve_mean_ode(np.tanh, 2.0, torch.zeros(0, dtype=F64))
    assert empty.dtype == F64 and empty.shape == (0,)


def test_solve_mean_ode_errors():
    """A non-callable g, decreasing times and a blow-up (dw/dt = w^2 from 1, t = 2) raise."""
    with pytest.raises(TypeError, match="^g must be callable on NumPy arrays, got float"):
        solve_mean_ode(1.0, 1.0, t64(1.0))
    with pytest.raises(ValueError, match="^t must be non-decreasing"):
        solve_mean_ode(np.tanh, 1.0, t64(0.0, 2.0, 1.0))
    with pytest.raises(ValueError, match="^solve_ivp failed: "):
        solve_mean_ode(lambda v: -(v**2), 1.0, t64(2.0))
    with pytest.raises(ValueError, match="^t must lie in"):
        solve_mean_ode(np.tanh, 1.0, t64(-1.0))
    with pytest.raises(TypeError, match="^w0 must be a real number"):
        solve_mean_ode(np.tanh, "1", t64(1.0))
