"""Monte Carlo: vectorised episodes, returns, MC evaluation within standard errors, MC Basic
against value iteration, Exploring Starts and epsilon-greedy control."""

import math

import pytest
import torch

from course_lib.rl import (
    GridWorld,
    TabularMDP,
    discounted_returns,
    epsilon_greedy_policy,
    epsilon_soft_mdp,
    first_visit_mask,
    mc_basic,
    mc_epsilon_greedy,
    mc_evaluate,
    mc_exploring_starts,
    policy_evaluation,
    sample_episodes,
    value_iteration,
)

WORLD = GridWorld()
MDP = WORLD.model()


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def uniform_policy(S=25, A=5):
    return torch.full((S, A), 1.0 / A, dtype=torch.float64)


def h_step_q(mdp, policy, H):
    """q^(H) = R + gamma P v^(H-1), with v^(m) from m sweeps of (2.4) from zero."""
    pi = policy
    r_pi = (pi * mdp.R).sum(1)
    P_pi = torch.einsum("sa,sat->st", pi, mdp.P)
    v = torch.zeros(mdp.n_states, dtype=torch.float64)
    for _ in range(H - 1):
        v = r_pi + mdp.gamma * P_pi @ v
    return mdp.R + mdp.gamma * mdp.P @ v


def test_episodes_follow_the_model_and_the_exploring_start():
    starts = torch.arange(125) // 5
    first = torch.arange(125) % 5
    ep = sample_episodes(
        MDP, uniform_policy(), 125, 12, start_states=starts, start_actions=first, generator=gen()
    )
    assert torch.equal(ep.states[:, 0], starts) and torch.equal(ep.actions[:, 0], first)
    for n in range(0, 125, 7):
        for t in range(11):
            s, a = int(ep.states[n, t]), int(ep.actions[n, t])
            s2, r = WORLD.transition(s, a)
            assert int(ep.states[n, t + 1]) == s2 and float(ep.rewards[n, t]) == r


def test_stochastic_dynamics_are_sampled_with_the_right_law():
    # a 2-state MDP with a coin-flip transition: the fraction of moves is 0.3 within SEs
    P = torch.tensor([[[0.7, 0.3]], [[0.0, 1.0]]], dtype=torch.float64)
    R = torch.zeros(2, 1, dtype=torch.float64)
    one = torch.ones(2, 1, dtype=torch.float64)
    start = torch.zeros(40_000, dtype=torch.long)
    ep = sample_episodes(
        TabularMDP(P, R, 0.9), one, 40_000, 2, start_states=start, generator=gen(3)
    )
    moved = (ep.states[:, 1] == 1).double().mean().item()
    assert abs(moved - 0.3) < 4 * math.sqrt(0.3 * 0.7 / 40_000)


def test_seeded_runs_are_identical_and_seeds_matter():
    a = sample_episodes(MDP, uniform_policy(), 50, 20, generator=gen(7))
    b = sample_episodes(MDP, uniform_policy(), 50, 20, generator=gen(7))
    c = sample_episodes(MDP, uniform_policy(), 50, 20, generator=gen(8))
    assert torch.equal(a.states, b.states) and torch.equal(a.actions, b.actions)
    assert not torch.equal(a.actions, c.actions)
    r1 = mc_exploring_starts(MDP, 300, 20, batch_size=100, generator=gen(1))
    r2 = mc_exploring_starts(MDP, 300, 20, batch_size=100, generator=gen(1))
    assert torch.equal(r1.q, r2.q) and torch.equal(r1.actions, r2.actions)


def test_discounted_returns_against_a_loop():
    r = torch.randn(4, 9, generator=gen(), dtype=torch.float64)
    for H in (None, 1, 3, 9, 20):
        G = discounted_returns(r, 0.8, H)
        for n in range(4):
            for t in range(9):
                stop = 9 if H is None else min(9, t + H)
                want = sum(0.8 ** (j - t) * float(r[n, j]) for j in range(t, stop))
                assert math.isclose(float(G[n, t]), want, abs_tol=1e-12)


def test_first_visit_mask_against_a_loop():
    ep = sample_episodes(MDP, uniform_policy(), 30, 25, generator=gen(2))
    mask = first_visit_mask(ep.states, ep.actions, 5)
    for n in range(30):
        seen = set()
        for t in range(25):
            pair = (int(ep.states[n, t]), int(ep.actions[n, t]))
            assert bool(mask[n, t]) == (pair not in seen)
            seen.add(pair)


def test_first_visit_mc_matches_exact_values_within_standard_errors():
    H, L = 15, 30
    pi = epsilon_greedy_policy(value_iteration(MDP).actions, 5, 0.4)
    est = mc_evaluate(MDP, pi, 20_000, L, horizon=H, generator=gen(11))
    exact = h_step_q(MDP, pi, H)
    ok = est.counts >= 30
    assert ok.float().mean() > 0.9
    z = ((est.q - exact) / est.se)[ok]
    assert z.abs().max() < 4.5, z.abs().max()
    # a 30 % error in the exact values would be detected
    z_wrong = ((est.q - 1.3 * exact) / est.se)[ok & (exact.abs() > 0.5)]
    assert z_wrong.abs().max() > 10


def test_deterministic_mc_evaluation_is_exact_l_step_values():
    actions = value_iteration(MDP).actions
    for L in (1, 4, 10):
        est = mc_evaluate(MDP, actions, 2000, L, horizon=L, generator=gen(L))
        seen = est.counts > 0
        exact = h_step_q(MDP, epsilon_greedy_policy(actions, 5, 0.0), L)
        assert torch.allclose(est.q[seen], exact[seen], atol=1e-12)
        assert (est.se[est.counts >= 2].abs() < 1e-12).all()


@pytest.mark.parametrize("L", [1, 2, 3, 5, 8, 13, 21, 30])
def test_mc_basic_reproduces_l_step_value_iteration_in_the_classic_world(L):
    mb = mc_basic(MDP, L, generator=gen(L))
    vi = value_iteration(MDP, n_iterations=L)
    assert torch.allclose(mb.v, vi.v, atol=1e-12, rtol=0)
    assert mb.iterations <= 10


def test_mc_basic_is_bounded_by_value_iteration_and_not_always_equal():
    # a stationary policy can never beat the finite-horizon optimum T^L 0 ...
    for seed, world in enumerate([GridWorld(4, 2, [(2, 2), (4, 2), (1, 1), (4, 1)], (1, 2)),
                                  GridWorld(r_forbidden=-10.0), GridWorld(gamma=0.5)]):  # fmt: skip
        for L in (1, 3, 6):
            mb = mc_basic(world.model(), L, generator=gen(seed))
            assert (mb.v <= value_iteration(world.model(), n_iterations=L).v + 1e-12).all()
    # ... and in this small world (target hemmed in by forbidden cells) it falls short
    small = GridWorld(4, 2, [(2, 2), (4, 2), (1, 1), (4, 1)], (1, 2)).model()
    gap = value_iteration(small, n_iterations=3).v - mc_basic(small, 3).v
    assert gap.max() > 0.05


def test_mc_basic_converges_to_optimal_with_long_episodes():
    mb = mc_basic(MDP, 200)
    v_star = value_iteration(MDP, tol=1e-13).v
    assert torch.allclose(policy_evaluation(MDP, mb.actions), v_star, atol=1e-8)


@pytest.mark.parametrize("first_visit", [True, False])
def test_exploring_starts_finds_a_near_optimal_policy(first_visit):
    res = mc_exploring_starts(
        MDP, 6000, 60, first_visit=first_visit, batch_size=500, generator=gen(5)
    )
    v_star = value_iteration(MDP, tol=1e-13).v
    v_res = policy_evaluation(MDP, res.actions)
    assert (v_res <= v_star + 1e-9).all()
    assert (v_star - v_res).mean() < 0.1, (v_star - v_res).mean()


def test_epsilon_soft_mdp_gives_the_best_epsilon_greedy_policy():
    v_star = value_iteration(MDP, tol=1e-13).v
    gaps = []
    for eps in (0.0, 0.1, 0.2, 0.5):
        best = value_iteration(epsilon_soft_mdp(MDP, eps), tol=1e-13)
        pi_eps = epsilon_greedy_policy(best.actions, 5, eps)
        assert torch.allclose(policy_evaluation(MDP, pi_eps), best.v, atol=1e-9)
        # no epsilon-greedy policy around another deterministic policy does better
        for seed in range(5):
            other = torch.randint(0, 5, (25,), generator=gen(seed))
            assert (
                policy_evaluation(MDP, epsilon_greedy_policy(other, 5, eps)) <= best.v + 1e-9
            ).all()
        gaps.append(float((v_star - best.v).mean()))
    assert gaps[0] < 1e-9 and gaps[0] < gaps[1] < gaps[2] < gaps[3]


def test_mc_epsilon_greedy_improves_towards_the_best_epsilon_greedy_policy():
    eps = 0.5
    res = mc_epsilon_greedy(MDP, eps, 3000, 80, batch_size=100, generator=gen(4))
    assert torch.allclose(
        res.policy.max(1).values, torch.full((25,), 1 - eps + eps / 5, dtype=torch.float64)
    )
    best = value_iteration(epsilon_soft_mdp(MDP, eps), tol=1e-13).v
    start = policy_evaluation(MDP, epsilon_greedy_policy(torch.full((25,), 4), 5, eps))
    learned = policy_evaluation(MDP, res.policy)
    assert (learned <= best + 1e-9).all()
    assert (best - learned).mean() < 0.2 * (best - start).mean()


def test_bad_monte_carlo_inputs():
    with pytest.raises(ValueError, match="length must be >= 1"):
        sample_episodes(MDP, uniform_policy(), 5, 0)
    with pytest.raises(ValueError, match="start_actions must lie"):
        sample_episodes(MDP, uniform_policy(), 2, 3, start_actions=torch.tensor([0, 5]))
    with pytest.raises(ValueError, match="start_states must be an integer tensor"):
        sample_episodes(MDP, uniform_policy(), 2, 3, start_states=torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="epsilon must lie in"):
        mc_epsilon_greedy(MDP, 1.5, 10, 10)
    with pytest.raises(ValueError, match="horizon must be <= length"):
        mc_evaluate(MDP, uniform_policy(), 10, 5, horizon=6)
    with pytest.raises(TypeError, match="first_visit must be a bool"):
        mc_exploring_starts(MDP, 10, 5, first_visit=1)
    with pytest.raises(TypeError, match="rewards must be a floating tensor"):
        discounted_returns(torch.ones(3), 0.9)
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        sample_episodes(MDP, uniform_policy(), 2, 3, generator=0)
