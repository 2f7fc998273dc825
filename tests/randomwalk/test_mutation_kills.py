"""Checks that fail on small wrong changes to Chapter 01's formulas (issue 16, mutation testing).

Each test pins a behaviour that the main tests left free: boundary starts and sizes, the
parameters at their extremes, the exact length and value of returned sequences, error
messages, and that a seeded generator (never the global RNG) drives every simulation.
"""

import math

import pytest
import sympy as sp
import torch
from scipy import stats

from course_lib.randomwalk import (
    arcsine_cdf,
    ballot_count,
    catalan,
    endpoint_mean_var,
    endpoint_pgf,
    endpoint_pgf_coefficients,
    endpoint_pmf,
    enumerate_paths,
    expected_duration,
    first_hitting_times,
    first_passage_pgf,
    first_passage_pmf,
    first_return_pgf,
    first_return_probabilities,
    first_return_times,
    hitting_time_pmf,
    last_return_pmf,
    path_count,
    reflected_path_count,
    renewal_convolution,
    return_pgf,
    return_probabilities,
    sample_endpoints,
    sample_paths,
    sample_steps,
    series_coefficients,
    simulate_ruin,
    step_pgf,
    truncated_mean_return_time,
    win_probability,
)
from course_lib.randomwalk.genfun import S
from course_lib.randomwalk.walks import log_binomial_pmf

# ---------------------------------------------------------------- generating functions (genfun)


@pytest.mark.parametrize("p", [sp.Rational(1, 2), sp.Rational(1, 3), sp.Rational(3, 4)])
def test_pgfs_at_s_zero_and_one(p):
    # Phi(0) = P(T_1 = 0) = 0 and Phi(1) = P(T_1 < inf) = min(1, p/q): a wrong numerator adds
    # a pole at s = 0 that the Taylor coefficients of s^0, s^1, ... never show.
    q = 1 - p
    assert sp.limit(first_passage_pgf(p), S, 0) == 0
    assert sp.simplify(first_passage_pgf(p).subs(S, 1) - sp.Min(1, p / q)) == 0
    assert sp.limit(first_return_pgf(p), S, 0) == 0  # F(0) = P(T_0 = 0) = 0
    assert sp.simplify(first_return_pgf(p).subs(S, 1) - (1 - abs(p - q))) == 0
    assert return_pgf(p).subs(S, 0) == 1  # U(0) = u_0 = 1
    assert step_pgf(p).subs(S, 2) == 2 * p + q / 2


def test_series_coefficients_has_exactly_order_plus_one_entries():
    for order in (0, 1, 5):
        coeffs = series_coefficients(1 / (1 - S), order)
        assert coeffs == [1] * (order + 1)
    assert series_coefficients(sp.exp(S), 3) == [1, 1, sp.Rational(1, 2), sp.Rational(1, 6)]


def test_float_and_boundary_p_become_exact_rationals():
    assert step_pgf(0.25) == S / 4 + sp.Rational(3, 4) / S
    assert step_pgf(sp.Integer(0)) == 1 / S and step_pgf(sp.Integer(1)) == S
    for bad in (sp.Rational(-1, 2), sp.Rational(3, 2), sp.I):
        with pytest.raises(ValueError, match=r"p must be a real number in \[0, 1\], got"):
            step_pgf(bad)
    assert endpoint_pgf_coefficients(1, sp.Rational(1, 3)) == {
        -1: sp.Rational(2, 3),
        1: sp.Rational(1, 3),
    }


def test_hitting_time_of_level_one_is_the_first_passage_law():
    # r = 1 is the only level where n = 1 is reachable: P(T_1 = 1) = p, eq. (5.4) = eq. (4.2)
    for p in (0.3, 0.5):
        hit = hitting_time_pmf(1, 11, p)
        passage = first_passage_pmf(6, p)
        torch.testing.assert_close(hit[1::2], passage, rtol=1e-12, atol=0)
        assert (hit[0::2] == 0).all()
        assert math.isclose(hit[1].item(), p, rel_tol=1e-12)
    assert hitting_time_pmf(1, 0).tolist() == [0.0]  # n = 0 < r: nothing, no division by 0


def test_first_passage_pmf_sizes_and_values():
    assert first_passage_pmf(1, 0.3).tolist() == [0.3]
    # P(T_1 = 3) = C_1 p^2 q = 0.3^2 * 0.7
    assert math.isclose(first_passage_pmf(2, 0.3)[1].item(), 0.3**2 * 0.7, rel_tol=1e-12)
    with pytest.raises(ValueError, match="m_max must be >= 1, got 0"):
        first_passage_pmf(0)


def test_return_and_first_return_values_at_small_n():
    # u_2 = 2pq, u_4 = 6 p^2 q^2; f_2 = 2pq, f_4 = 2 p^2 q^2 (f_2n = u_2n / (2n - 1))
    p, q = 0.3, 0.7
    u = return_probabilities(2, p)
    f = first_return_probabilities(2, p)
    torch.testing.assert_close(
        u, torch.tensor([1, 2 * p * q, 6 * (p * q) ** 2], dtype=torch.float64)
    )
    torch.testing.assert_close(
        f, torch.tensor([0, 2 * p * q, 2 * (p * q) ** 2], dtype=torch.float64)
    )
    assert u.dtype == f.dtype == torch.float64 and u.shape == (3,)
    # sum_n 2n f_2n up to n = 2: 2 f_2 + 4 f_4
    expected = 2 * 2 * p * q + 4 * 2 * (p * q) ** 2
    assert math.isclose(truncated_mean_return_time(2, p), expected, rel_tol=1e-12)


def test_catalan_rejects_negative_and_starts_at_one():
    assert catalan(0) == 1 and catalan(10) == 16796
    with pytest.raises(ValueError, match="m must be >= 0"):
        catalan(-1)


def test_renewal_convolution_values_and_checks():
    f = torch.tensor([0.0, 0.5, 0.25])
    u = torch.tensor([1.0, 2.0, 3.0])
    # c_0 = 1, c_1 = f_1 u_0, c_2 = f_1 u_1 + f_2 u_0
    assert renewal_convolution(f, u).tolist() == [1.0, 0.5, 1.25]
    assert renewal_convolution(f, u).dtype == torch.float64
    with pytest.raises(ValueError, match="f must be a 1-D tensor, got list"):
        renewal_convolution([0.0], u)
    with pytest.raises(ValueError, match="u must be a 1-D tensor, got Tensor"):
        renewal_convolution(f, u[None])
    with pytest.raises(ValueError, match="f and u must have one length, got 3 and 2"):
        renewal_convolution(f, u[:2])


def test_last_return_and_arcsine_boundaries():
    assert last_return_pmf(1).tolist() == [0.5, 0.5]  # L_2 = 0 or 2, each w.p. u_2 = 1/2
    with pytest.raises(ValueError, match="n_half must be >= 1"):
        last_return_pmf(0)
    assert arcsine_cdf(0.0).item() == 0.0 and math.isclose(arcsine_cdf(1.0).item(), 1.0)
    assert math.isclose(arcsine_cdf(0.5).item(), 0.5, rel_tol=1e-12)  # symmetric about 1/2
    assert arcsine_cdf(0.25).dtype == torch.float64
    for bad in (-0.1, 1.1):
        with pytest.raises(ValueError, match=r"x must lie in \[0, 1\]"):
            arcsine_cdf(bad)


# ---------------------------------------------------------------------------- gambler's ruin


@pytest.mark.parametrize("k, N", [(1, 6), (5, 6)])
def test_ruin_started_next_to_a_boundary(k, N):
    # a game started one step from 0 or N still plays: every duration >= 1, odd/even parity
    # of k fixes nothing else; win rate and mean duration follow (6.1)-(6.2)
    p, games = 0.4, 20_000
    won, dur = simulate_ruin(k, N, p, games, generator=torch.Generator().manual_seed(3))
    assert won.dtype == torch.bool and dur.dtype == torch.int64
    assert (dur >= 1).all()
    pw = win_probability(k, N, p)
    assert abs(won.double().mean().item() - pw) < 5 * math.sqrt(pw * (1 - pw) / games)
    d = dur.double()
    assert abs(d.mean().item() - expected_duration(k, N, p)) < 5 * d.std().item() / math.sqrt(games)


def test_ruin_started_on_a_boundary_is_already_over():
    won, dur = simulate_ruin(0, 5, 0.5, 7)
    assert not won.any() and (dur == 0).all()
    won, dur = simulate_ruin(5, 5, 0.5, 7)
    assert won.all() and (dur == 0).all()
    assert win_probability(1, 1, 0.3) == 1.0 and win_probability(0, 1, 0.3) == 0.0
    assert math.isclose(expected_duration(1, 2, 0.3), 1.0) and expected_duration(1, 2, 0.5) == 1.0
    won, dur = simulate_ruin(1, 2, 0.3, 1000, generator=torch.Generator().manual_seed(0))
    assert (dur == 1).all()  # one step always ends a game on {0, 1, 2} started at 1


def test_ruin_win_and_duration_closed_forms_at_a_glance():
    # p = 1/3, r = q/p = 2: P(win | 1) with N = 2 is (1 - 2)/(1 - 4) = 1/3
    assert math.isclose(win_probability(1, 2, 1 / 3), 1 / 3, rel_tol=1e-12)
    assert math.isclose(win_probability(2, 3, 0.5), 2 / 3, rel_tol=1e-12)
    assert expected_duration(2, 5, 0.5) == 6.0
    # D_1 with N = 3, p = 1/3: 1/(1/3) - 3/(1/3) * (1 - 2)/(1 - 8) = 3 - 9/7
    assert math.isclose(expected_duration(1, 3, 1 / 3), 3 - 9 / 7, rel_tol=1e-12)
    with pytest.raises(ValueError, match="N must be >= 1, got 0"):
        win_probability(0, 0, 0.5)


def test_simulate_ruin_is_driven_by_its_generator_only():
    state = torch.get_rng_state()
    a = simulate_ruin(3, 8, 0.45, 500, generator=torch.Generator().manual_seed(11))
    b = simulate_ruin(3, 8, 0.45, 500, generator=torch.Generator().manual_seed(11))
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG was not used
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


# ---------------------------------------------------------------------- walks and their laws


def test_sample_steps_replays_the_31_bit_uniform_rule():
    # X = +1 iff r < round(p 2^31) for r uniform on {0, ..., 2^31 - 1} from the same generator
    p = 0.3
    r = torch.empty(40, 50, dtype=torch.int32).random_(
        0, 2**31, generator=torch.Generator().manual_seed(9)
    )
    expected = torch.where(r < round(p * 2**31), 1, -1)
    steps = sample_steps(40, 50, p, generator=torch.Generator().manual_seed(9), dtype=torch.int64)
    assert steps.dtype == torch.int64 and torch.equal(steps, expected)
    assert sample_steps(2, 3).dtype == torch.int8
    paths = sample_paths(40, 50, p, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    assert paths.dtype == torch.float64
    torch.testing.assert_close(paths[:, 1:], expected.cumsum(1).double())


def test_symmetric_endpoints_replay_the_bit_count():
    # p = 1/2: each random 64-bit word contributes its set bits as up-steps
    n_walks, n_steps = 30, 100
    words = torch.randint(
        -(2**63), 2**63 - 1, (n_walks, 2), generator=torch.Generator().manual_seed(4)
    )
    words[:, -1] &= (1 << 36) - 1
    bits = ((words[:, :, None] >> torch.arange(64)) & 1).sum(dim=(1, 2))
    s = sample_endpoints(n_walks, n_steps, generator=torch.Generator().manual_seed(4))
    assert s.dtype == torch.int64 and torch.equal(s, 2 * bits - n_steps)


def test_general_endpoints_replay_the_steps_and_ignore_chunking():
    p, n_walks, n_steps = 0.7, 25, 40
    steps = sample_steps(n_walks, n_steps, p, generator=torch.Generator().manual_seed(8))
    for chunk in (None, 1, 40, 333):
        s = sample_endpoints(
            n_walks, n_steps, p, generator=torch.Generator().manual_seed(8), chunk_steps=chunk
        )
        assert torch.equal(s, steps.sum(1, dtype=torch.int64)), chunk
    with pytest.raises(ValueError, match="chunk_steps must be >= 1, got 0"):
        sample_endpoints(3, 4, chunk_steps=0)
    assert sample_endpoints(4, 0).tolist() == [0, 0, 0, 0]


def test_endpoint_pmf_edges():
    k, probs = endpoint_pmf(4, 1.0, dtype=torch.float32)
    assert probs.dtype == torch.float32 and k.dtype == torch.int64
    assert k.tolist() == [-4, -2, 0, 2, 4] and probs.tolist() == [0, 0, 0, 0, 1]
    k, probs = endpoint_pmf(0)
    assert k.tolist() == [0] and probs.tolist() == [1.0]
    # the log-pmf at the degenerate ends: 0 where the path is forced, -inf elsewhere
    n, j = torch.full((3,), 2.0, dtype=torch.float64), torch.arange(3, dtype=torch.float64)
    assert log_binomial_pmf(n, j, 0.0).tolist() == [0.0, -math.inf, -math.inf]
    assert log_binomial_pmf(n, j, 1.0).tolist() == [-math.inf, -math.inf, 0.0]
    assert endpoint_mean_var(10, 0.25) == (-5.0, 7.5)


# -------------------------------------------------------------------------- path counting


def test_path_counts_at_the_ends_of_the_range():
    assert path_count(4, 0, 4) == 1 and path_count(4, 0, -4) == 1  # all up / all down
    assert path_count(4, 0, 6) == 0 and path_count(4, 0, -6) == 0 and path_count(4, 0, 1) == 0
    assert path_count(0, 2, 2) == 1 and path_count(3, 1, 2) == 3
    for a, b in ((0, 1), (1, 0), (-1, 2)):
        with pytest.raises(ValueError, match=f"needs a > 0 and b > 0, got a={a}, b={b}"):
            reflected_path_count(4, a, b)
    assert reflected_path_count(2, 1, 1) == 1  # 1 -> 0 -> 1 is the only path touching 0
    assert ballot_count(1, 1) == 1 and ballot_count(3, 1) == 1 and ballot_count(4, 1) == 0
    with pytest.raises(ValueError, match="the ballot theorem needs k > 0, got 0"):
        ballot_count(4, 0)
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        ballot_count(0, 1)


def test_path_statistics_edges():
    single = torch.zeros(3, 1, dtype=torch.int64)  # S_0 only: nothing can be hit
    assert first_return_times(single).tolist() == [-1, -1, -1]
    assert first_hitting_times(single, 0).tolist() == [-1, -1, -1]
    shifted = torch.tensor([[5, 6, 5, 4], [5, 4, 3, 2]])  # returns to S_0 = 5, not to 0
    assert first_return_times(shifted).tolist() == [2, -1]
    with pytest.raises(TypeError, match="paths must be a torch.Tensor, got list"):
        first_return_times([[0, 1]])
    with pytest.raises(ValueError, match=r"shape \(n_walks, n_steps \+ 1\), got \(2, 0\)"):
        first_return_times(torch.zeros(2, 0))
    with pytest.raises(TypeError, match="level must be an int, got bool"):
        first_hitting_times(shifted, True)
    assert enumerate_paths(0).tolist() == [[0]]
    assert enumerate_paths(2).tolist() == [[0, -1, -2], [0, 1, 0], [0, -1, 0], [0, 1, 2]]
    with pytest.raises(ValueError, match="n must be <= 20, got 21"):
        enumerate_paths(21)
    # n = 20, the largest allowed, is still enumerated: on the meta device only the shape
    # (2^20 paths of 21 positions) is formed, no memory
    assert enumerate_paths(20, device="meta").shape == (2**20, 21)


def test_simulate_ruin_checks_the_generators_device():
    with pytest.raises(ValueError, match="generator lives on cpu"):
        simulate_ruin(1, 3, 0.5, 2, generator=torch.Generator(), device="meta")


@pytest.mark.gpu
def test_simulate_ruin_allocates_on_the_requested_device():
    won, dur = simulate_ruin(2, 5, 0.5, 100, generator=torch.Generator("cuda").manual_seed(0))
    assert won.device.type == dur.device.type == "cuda"
    won, dur = simulate_ruin(2, 5, 0.5, 100, device="cuda")
    assert won.device.type == dur.device.type == "cuda" and (dur >= 2).all()


# ------------------------------------------------ genfun: argument names, defaults, edge sizes


def test_genfun_errors_name_the_argument():
    for call, name in (
        (lambda: endpoint_pgf(-1), "n"),
        (lambda: endpoint_pgf_coefficients(-1), "n"),
        (lambda: series_coefficients(S, -1), "order"),
        (lambda: return_probabilities(-1), "n_max"),
        (lambda: hitting_time_pmf(1, -1), "n_max"),
    ):
        with pytest.raises(ValueError, match=f"^{name} must be >= 0, got -1$"):
            call()
    with pytest.raises(ValueError, match=r"^first_passage_pgf needs p < 1 \(for p = 1, T_1 = 1"):
        first_passage_pgf(sp.Integer(1))
    with pytest.raises(ValueError, match=r"^x must lie in \[0, 1\]$"):
        arcsine_cdf(2.0)


def test_endpoint_coefficients_of_the_empty_walk_and_of_a_second_symbol():
    # n = 0: s^0 phi^0 = 1 is a constant, whose polynomial needs its generator named
    assert endpoint_pgf_coefficients(0) == {0: 1}
    assert endpoint_pgf_coefficients(0, sp.Rational(1, 3)) == {0: 1}
    # a second symbol: the expansion variable must be s, not guessed
    t = sp.Symbol("t")
    assert series_coefficients(1 / (1 - t * S), 2) == [1, t, t**2]


def test_first_passage_pmf_default_is_the_symmetric_walk():
    torch.testing.assert_close(first_passage_pmf(4), first_passage_pmf(4, 0.5), rtol=0, atol=0)
    # P(T_1 = 1, 3, 5) = 1/2, 1/8, 1/16 for p = 1/2
    assert first_passage_pmf(3).tolist() == [0.5, 0.125, 0.0625]


@pytest.mark.gpu
def test_return_probabilities_live_on_the_requested_device():
    for values in (return_probabilities(3, 0.3, device="cuda"),
                   first_return_probabilities(3, 0.3, device="cuda")):  # fmt: skip
        assert values.device.type == "cuda" and values.dtype == torch.float64


# ------------------------------------------------------- paths: dtypes, step-one returns, names


def test_enumerated_paths_are_int64_and_path_errors_name_n():
    assert enumerate_paths(3).dtype == torch.int64  # S_0 column too, not a float zero column
    for call in (lambda: enumerate_paths(-1), lambda: path_count(-1, 0, 1)):
        with pytest.raises(ValueError, match="^n must be >= 0, got -1$"):
            call()


def test_a_return_at_step_one_counts():
    # any integer tensor is a path here: S_1 = S_0 is a return at time 1 (index 0 of S_1..S_n)
    paths = torch.tensor([[0, 0, 1], [3, 3, 3], [0, 1, 0]])
    assert first_return_times(paths).tolist() == [1, 1, 2]
    assert first_hitting_times(paths, 3).tolist() == [-1, 1, -1]


@pytest.mark.gpu
def test_enumerate_paths_and_empty_first_true_live_on_the_requested_device():
    paths = enumerate_paths(3, device="cuda")
    assert paths.device.type == "cuda" and paths.dtype == torch.int64
    empty = first_return_times(torch.zeros(2, 1, dtype=torch.int64, device="cuda"))
    assert empty.device.type == "cuda" and empty.tolist() == [-1, -1]


# ----------------------------------- walks: seeding, p != 1/2, boundary sizes, chunk sizes


@pytest.mark.parametrize("p", [0.5, 0.3])
def test_walk_samplers_use_only_their_generator(p):
    """Same seed -> identical numbers, another seed -> different ones, global RNG untouched.

    A sampler that dropped ``generator=`` would draw from the global RNG: its state would move
    and two seeded calls would disagree.
    """
    for sampler in (sample_steps, sample_paths, sample_endpoints):
        torch.manual_seed(123)
        state = torch.get_rng_state()
        a = sampler(20, 70, p, generator=torch.Generator().manual_seed(5))
        b = sampler(20, 70, p, generator=torch.Generator().manual_seed(5))
        c = sampler(20, 70, p, generator=torch.Generator().manual_seed(6))
        assert torch.equal(torch.get_rng_state(), state), sampler.__name__
        assert torch.equal(a, b) and not torch.equal(a, c), sampler.__name__
        # the global-RNG result (no generator, global seed 7) differs from the seeded one
        torch.manual_seed(7)
        assert not torch.equal(sampler(20, 70, p), a), sampler.__name__


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_step_frequency_and_endpoint_law_for_p_not_one_half(p):
    """P(X = +1) = p within 5 SE, and S_n ~ 2 Binomial(n, p) - n against scipy's binom.pmf."""
    g = torch.Generator().manual_seed(17)
    steps = sample_steps(400, 100, p, generator=g)
    m = steps.numel()
    up = (steps == 1).double().mean().item()
    assert set(steps.unique().tolist()) <= {-1, 1}
    assert abs(up - p) < 5 * math.sqrt(p * (1 - p) / m)
    n, walks = 9, 40_000
    s = sample_endpoints(walks, n, p, generator=g)
    counts = torch.bincount((s + n) // 2, minlength=n + 1)  # K = (S_n + n)/2 up-steps
    probs = stats.binom.pmf(range(n + 1), n, p)
    z = (counts.numpy() - walks * probs) / (walks * probs * (1 - probs) + 1e-300) ** 0.5
    assert counts.sum() == walks and abs(z).max() < 5


def test_walk_samplers_at_zero_and_one_step():
    """n = 0: S_0 = 0 only; n = 1: S_1 = X_1 = +-1 with P(+1) = p; zero walks give empty rows."""
    assert sample_steps(3, 0, 0.3).shape == (3, 0)
    assert sample_paths(3, 0, 0.3).tolist() == [[0], [0], [0]]
    assert sample_endpoints(3, 0, 0.3).tolist() == [0, 0, 0]
    assert sample_endpoints(0, 5).shape == (0,) and sample_endpoints(0, 5, 0.3).shape == (0,)
    assert sample_paths(0, 4).shape == (0, 5)
    g = torch.Generator().manual_seed(2)
    for p in (0.5, 0.25):
        s = sample_endpoints(20_000, 1, p, generator=g)
        assert set(s.unique().tolist()) == {-1, 1}
        assert abs((s == 1).double().mean().item() - p) < 5 * math.sqrt(p * (1 - p) / 20_000)
    assert sample_endpoints(4, 1, 1.0).tolist() == [1] * 4
    assert sample_endpoints(4, 1, 0.0).tolist() == [-1] * 4
    assert sample_paths(2, 3, 1.0).tolist() == [[0, 1, 2, 3]] * 2
    assert sample_paths(2, 3, 0.0).tolist() == [[0, -1, -2, -3]] * 2
    k, probs = endpoint_pmf(1, 0.3)
    assert k.tolist() == [-1, 1]
    torch.testing.assert_close(probs, torch.tensor([0.7, 0.3], dtype=torch.float64))


def test_endpoint_moments_by_hand():
    """E[S_n] = n (2p - 1), Var[S_n] = 4 n p (1 - p): n = 3, p = 0.8 gives 1.8 and 1.92."""
    mean, var = endpoint_mean_var(3, 0.8)
    assert math.isclose(mean, 1.8, rel_tol=1e-12) and math.isclose(var, 1.92, rel_tol=1e-12)
    assert endpoint_mean_var(0, 0.3) == (0.0, 0.0)
    with pytest.raises(ValueError, match="^n must be >= 0, got -1$"):
        endpoint_mean_var(-1)
    with pytest.raises(ValueError, match=r"^p must lie in \[0, 1\], got 1.5$"):
        endpoint_mean_var(2, 1.5)


@pytest.mark.parametrize(
    "p, n_walks, n_steps, chunk_steps, sizes",
    [
        # general path: rows = chunk_steps // n_steps walks per chunk (20 // 7 = 2)
        (0.3, 5, 7, 20, [2, 2, 1]),
        # a walk longer than a chunk still runs, one walk at a time
        (0.3, 3, 7, 3, [1, 1, 1]),
        # n = 0 counts as one step per walk: 2 // 1 = 2 walks per chunk
        (0.3, 5, 0, 2, [2, 2, 1]),
        # bit path: 64 steps per random number, so 64 * 2 // 50 = 2 walks per chunk
        (0.5, 5, 50, 2, [2, 2, 1]),
        # chunks never exceed the walks there are
        (0.5, 3, 10, 1000, [3]),
        # the CPU default is 2^18 per chunk: 2^18 // (2^17 + 1) = 1 walk, on both paths
        (0.3, 2, 2**17 + 1, None, [1, 1]),
        (0.5, 2, 64 * (2**17 + 1), None, [1, 1]),
    ],
)
def test_endpoint_chunks_hold_about_chunk_steps_random_numbers(
    monkeypatch, p, n_walks, n_steps, chunk_steps, sizes
):
    """Each chunk simulates the most walks whose random numbers fit in ``chunk_steps``.

    The documented memory bound: about ``chunk_steps`` 31-bit uniforms per chunk (general p)
    or ``chunk_steps`` 64-bit words (p = 1/2); the chunks cover every walk exactly once.
    """
    from course_lib.randomwalk import walks

    seen = []
    name = "_up_steps_symmetric" if p == 0.5 else "_up_steps_general"
    real = getattr(walks, name)

    def spy(*args):
        k = real(*args)
        seen.append(k.shape[0])
        return k

    monkeypatch.setattr(walks, name, spy)
    s = sample_endpoints(n_walks, n_steps, p, chunk_steps=chunk_steps)
    assert seen == sizes and s.shape == (n_walks,)


def test_step_threshold_is_exact_at_the_boundary_uniform():
    """X = +1 iff r < round(p 2^31): put the threshold right at a drawn r, then one above it.

    With r_0 the first 31-bit uniform of the seeded generator, p = (r_0 + 1) / 2^31 must make
    that step +1 and p = r_0 / 2^31 must make it -1 (exact binary fractions, so no rounding);
    an off-by-one in the comparison flips it. Both samplers of general p are checked.
    """
    r = torch.empty(4, 6, dtype=torch.int32).random_(
        0, 2**31, generator=torch.Generator().manual_seed(9)
    )
    r0 = r[0, 0].item()
    for t, first in ((r0 + 1, 1), (r0, -1)):
        p = t / 2**31
        expected = torch.where(r < t, 1, -1)
        assert expected[0, 0] == first
        steps = sample_steps(4, 6, p, generator=torch.Generator().manual_seed(9))
        assert torch.equal(steps.long(), expected)
        s = sample_endpoints(4, 6, p, generator=torch.Generator().manual_seed(9))
        assert torch.equal(s, expected.sum(1))


def test_walk_samplers_allocate_on_the_requested_device(monkeypatch):
    """device="meta" (no data, no GPU needed) must carry through every sampler and chunk.

    The up-step counts of every chunk are computed on that device too (not on the CPU and
    copied over); devices other than "cpu" and "cuda" use chunks of 2^22 random numbers.
    """
    from course_lib.randomwalk import walks

    assert sample_steps(2, 3, 0.3, device="meta").device.type == "meta"
    for p in (0.3, 0.0):
        k, probs = endpoint_pmf(3, p, device="meta")
        assert k.device.type == probs.device.type == "meta" and probs.shape == (4,)
    paths = sample_paths(2, 3, 0.3, device="meta")
    assert paths.device.type == "meta" and paths.shape == (2, 4) and paths.dtype == torch.int32
    seen = []

    def spying(real):
        def spy(*args):
            k = real(*args)
            seen.append((k.shape[0], k.device.type))
            return k

        return spy

    for name in ("_up_steps_symmetric", "_up_steps_general"):
        monkeypatch.setattr(walks, name, spying(getattr(walks, name)))
    for p in (0.5, 0.3):
        s = sample_endpoints(2, 100, p, device="meta")
        assert s.device.type == "meta" and s.shape == (2,) and s.dtype == torch.int64
    assert seen == [(2, "meta"), (2, "meta")]
    seen.clear()
    sample_endpoints(2, 2**21 + 1, 0.3, device="meta")  # 2^22 // (2^21 + 1) = 1 walk a chunk
    assert seen == [(1, "meta"), (1, "meta")]


def test_endpoint_sampler_checks_its_arguments_by_name():
    """Errors name the argument; a generator must live on the requested device."""
    for args, name in (((-1, 3), "n_walks"), ((3, -1), "n_steps")):
        with pytest.raises(ValueError, match=f"^{name} must be >= 0, got -1$"):
            sample_endpoints(*args)
    for sampler in (sample_paths, sample_endpoints):
        with pytest.raises(ValueError, match="^generator lives on cpu but device=meta"):
            sampler(2, 3, 0.3, generator=torch.Generator(), device="meta")
    # the default p is 1/2: E[S_4] = 0, Var[S_4] = 4 * 4 / 4 = 4
    assert endpoint_mean_var(4) == (0.0, 4.0)


def test_endpoint_buffers_fit_their_path():
    """p = 1/2 keeps 64 steps per word and allocates no per-step buffer; general p reuses two.

    Peak bytes of live tensors: under one byte per step for the bit path (200 x 640 steps,
    128 000 bytes), at least 5 bytes per step (int32 uniform + bool) for general p; the reused
    buffers have the chunk's shape, so no chunk resizes them (no resize warning).
    """
    import warnings

    from course_lib.attention.memory import peak_tensor_bytes

    steps = 200 * 640
    assert peak_tensor_bytes(sample_endpoints, 200, 640, 0.5)[1] < steps
    assert peak_tensor_bytes(sample_endpoints, 200, 640, 0.3)[1] >= 5 * steps
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sample_endpoints(5, 7, 0.3, chunk_steps=20, generator=torch.Generator().manual_seed(1))
    assert s.shape == (5,)
