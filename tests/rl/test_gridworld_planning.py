"""Grid world model, Bellman equations and planning: closed forms against independent routes."""

import random

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.rl import (
    GridWorld,
    TabularMDP,
    action_values,
    bellman_optimality_step,
    deterministic_policy,
    policy_evaluation,
    policy_iteration,
    truncated_policy_iteration,
    value_iteration,
)

WORLD = GridWorld()
MDP = WORLD.model()


def brute_force_vi(world: GridWorld, tol: float = 1e-12) -> list[float]:
    """Value iteration in plain Python floats over world.transition: an independent route."""
    v = [0.0] * world.n_states
    while True:
        new = []
        for s in range(world.n_states):
            best = -float("inf")
            for a in range(world.n_actions):
                s2, r = world.transition(s, a)
                best = max(best, r + world.gamma * v[s2])
            new.append(best)
        if max(abs(x - y) for x, y in zip(new, v, strict=True)) <= tol:
            return new
        v = new


def random_world(seed: int) -> GridWorld:
    rng = random.Random(seed)
    rows, cols = rng.randint(1, 5), rng.randint(2, 5)
    cells = [(r, c) for r in range(1, rows + 1) for c in range(1, cols + 1)]
    rng.shuffle(cells)
    return GridWorld(
        rows,
        cols,
        cells[1 : 1 + rng.randint(0, len(cells) // 2)],
        cells[0],
        r_boundary=rng.uniform(-2, 0),
        r_forbidden=rng.choice([-1.0, -10.0, -0.3]),
        r_target=rng.uniform(0.5, 2),
        r_other=rng.uniform(-0.2, 0.1),
        gamma=rng.choice([0.0, 0.5, 0.9, 0.95]),
    )


def test_classic_world_defaults_and_indexing():
    assert (WORLD.rows, WORLD.columns, WORLD.target, WORLD.gamma) == (5, 5, (4, 3), 0.9)
    assert WORLD.forbidden == ((2, 2), (2, 3), (3, 3), (4, 2), (4, 4), (5, 2))
    assert WORLD.state((1, 1)) == 0 and WORLD.state((4, 3)) == 17 and WORLD.state((5, 5)) == 24
    assert all(WORLD.state(WORLD.cell(s)) == s for s in range(25))
    assert MDP.P.shape == (25, 5, 25) and MDP.R.shape == (25, 5)
    assert WORLD.as_grid(torch.arange(25.0))[3, 2] == 17


def test_step_rules_of_the_classic_world():
    assert WORLD.transition(0, 0) == (0, -1.0)  # up from (1,1): bounced, r_boundary
    assert WORLD.transition(0, 3) == (0, -1.0)  # left from (1,1)
    assert WORLD.transition(0, 1) == (1, 0.0)  # right to (1,2): r_other
    assert WORLD.transition(1, 2) == (WORLD.state((2, 2)), -1.0)  # enter forbidden (2,2)
    assert WORLD.transition(WORLD.state((2, 2)), 4) == (WORLD.state((2, 2)), -1.0)
    assert WORLD.transition(WORLD.state((5, 3)), 0) == (17, 1.0)  # enter the target
    assert WORLD.transition(17, 4) == (17, 1.0)  # stay in the target
    assert WORLD.transition(17, 1) == (WORLD.state((4, 4)), -1.0)  # leave it: no terminal


@pytest.mark.parametrize("seed", range(12))
def test_tensor_model_matches_transition_rules(seed):
    world = random_world(seed)
    mdp = world.model()
    for s in range(world.n_states):
        for a in range(world.n_actions):
            s2, r = world.transition(s, a)
            assert mdp.P[s, a, s2] == 1 and mdp.P[s, a].sum() == 1 and mdp.R[s, a] == r


def test_optimal_values_against_brute_force_and_policy_evaluation():
    vi = value_iteration(MDP, tol=1e-13)
    brute = torch.tensor(brute_force_vi(WORLD), dtype=torch.float64)
    assert torch.allclose(vi.v, brute, atol=1e-10)
    # the greedy policy's own closed-form values equal v*: it is optimal
    assert torch.allclose(policy_evaluation(MDP, vi.actions), vi.v, atol=1e-10)
    # the textbook's figure, to one decimal: target 10, (1,1) 5.8, (5,5) 8.1
    assert abs(vi.v[17] - 10) < 1e-9 and abs(vi.v[0] - 5.832) < 1e-3 and abs(vi.v[24] - 8.1) < 1e-9


@pytest.mark.parametrize("seed", range(8))
def test_closed_form_equals_iterative_and_solves_bellman(seed):
    world = random_world(seed)
    mdp = world.model()
    g = torch.Generator().manual_seed(seed)
    pi = torch.rand(world.n_states, 5, generator=g, dtype=torch.float64)
    pi /= pi.sum(1, keepdim=True)
    closed = policy_evaluation(mdp, pi)
    iterative = policy_evaluation(mdp, pi, method="iterative", tol=1e-13)
    assert torch.allclose(closed, iterative, atol=1e-9)
    # Bellman equation (2.2) elementwise: v(s) = sum_a pi(a|s) q(s, a)
    q = action_values(mdp, closed)
    assert torch.allclose((pi * q).sum(1), closed, atol=1e-10)


@pytest.mark.parametrize("seed", range(10))
def test_vi_pi_and_truncated_pi_reach_the_same_optimum(seed):
    world = random_world(seed) if seed else WORLD
    mdp = world.model()
    vi = value_iteration(mdp, tol=1e-12)
    pi = policy_iteration(mdp)
    brute = torch.tensor(brute_force_vi(world), dtype=torch.float64)
    assert torch.allclose(pi.v, brute, atol=1e-8)
    assert torch.allclose(vi.v, brute, atol=1e-8)
    for j in (1, 3, 20):
        tpi = truncated_policy_iteration(mdp, j, tol=1e-12)
        assert torch.allclose(tpi.v, brute, atol=1e-8)
        assert torch.allclose(policy_evaluation(mdp, tpi.actions), brute, atol=1e-8)
    assert torch.allclose(policy_evaluation(mdp, pi.actions), brute, atol=1e-8)


@given(st.integers(0, 10_000))
@settings(max_examples=40, deadline=None)
def test_bellman_optimality_operator_is_a_gamma_contraction(seed):
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(25, generator=g, dtype=torch.float64) * 10
    w = torch.randn(25, generator=g, dtype=torch.float64) * 10
    tv, _ = bellman_optimality_step(MDP, v)
    tw, _ = bellman_optimality_step(MDP, w)
    assert (tv - tw).abs().max() <= MDP.gamma * (v - w).abs().max() + 1e-12


def test_value_iteration_error_shrinks_by_gamma_per_sweep():
    v_star = value_iteration(MDP, tol=1e-13).v
    v = torch.zeros(25, dtype=torch.float64)
    err = (v - v_star).abs().max()
    for _ in range(60):
        v, _ = bellman_optimality_step(MDP, v)
        new = (v - v_star).abs().max()
        assert new <= MDP.gamma * err + 1e-12
        err = new


@pytest.mark.parametrize(("alpha", "beta"), [(2.0, 0.0), (0.5, 3.0), (3.0, -1.0), (1.0, 10.0)])
def test_affine_reward_change_keeps_policy_and_maps_values(alpha, beta):
    base = value_iteration(MDP, tol=1e-13)
    changed = value_iteration(WORLD.with_rewards(alpha, beta).model(), tol=1e-13)
    assert torch.allclose(changed.v, alpha * base.v + beta / (1 - WORLD.gamma), atol=1e-8)
    # same greedy choice: the actions optimal before are optimal after
    assert torch.allclose(
        policy_evaluation(WORLD.with_rewards(alpha, beta).model(), base.actions),
        changed.v,
        atol=1e-8,
    )


def test_gamma_and_forbidden_reward_change_the_policy():
    def crossings(world, actions):
        hits = 0
        for s in range(world.n_states):
            for _ in range(10):
                s, _ = world.transition(s, int(actions[s]))
                hits += world.cell(s) in world.forbidden
        return hits

    far = value_iteration(MDP, tol=1e-13)
    assert crossings(WORLD, far.actions) > 0  # r_forbidden = -1, gamma = 0.9: shortcuts
    for world in (GridWorld(r_forbidden=-10.0), GridWorld(gamma=0.5)):
        assert crossings(world, value_iteration(world.model(), tol=1e-13).actions) == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"forbidden": ((6, 1),)}, ValueError, "not a cell of the 5x5 grid"),
        ({"forbidden": ((0, 2),)}, ValueError, "counted from 1"),
        ({"target": (2, 2)}, ValueError, "must not be a forbidden cell"),
        ({"target": (1.0, 2)}, TypeError, "pair of ints"),
        ({"target": (1, 2, 3)}, TypeError, "pair of ints"),
        ({"gamma": 1.0}, ValueError, "gamma must be a finite number in"),
        ({"gamma": -0.1}, ValueError, "gamma"),
        ({"r_target": float("nan")}, ValueError, "r_target"),
        ({"r_other": "0"}, TypeError, "r_other must be a real number"),
        ({"r_boundary": None}, TypeError, "r_boundary"),
        ({"rows": 0}, ValueError, "rows must be >= 1"),
        ({"forbidden": "ab"}, TypeError, "forbidden must be a sequence"),
    ],
)
def test_bad_configurations_raise_clear_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        GridWorld(**kwargs)


def test_bad_planning_inputs():
    with pytest.raises(ValueError, match=r"shape \(25, 5\)"):
        policy_evaluation(MDP, torch.ones(25, 4, dtype=torch.float64) / 4)
    with pytest.raises(ValueError, match="probability vector"):
        policy_evaluation(MDP, torch.ones(25, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match="method must be"):
        policy_evaluation(MDP, torch.zeros(25, dtype=torch.long), method="magic")
    with pytest.raises(TypeError, match="TabularMDP"):
        value_iteration("world")
    with pytest.raises(ValueError, match="gamma"):
        value_iteration(TabularMDP(MDP.P, MDP.R, 1.0))
    with pytest.raises(ValueError, match="R must have shape"):
        value_iteration(TabularMDP(MDP.P, MDP.R[:, :4], 0.9))
    with pytest.raises(ValueError, match=r"actions must lie in \[0, 4\]"):
        deterministic_policy(torch.tensor([0, 5]), 5)
    with pytest.raises(ValueError, match="s must be a state"):
        WORLD.cell(25)
    with pytest.raises(ValueError, match="a must be an action"):
        WORLD.transition(0, 5)
    with pytest.raises(ValueError, match="values must be a tensor of shape"):
        WORLD.as_grid(torch.zeros(24))
