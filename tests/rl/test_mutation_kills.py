"""Checks that fail on small wrong changes to Chapter 04's formulas (issue 16, mutation testing).

Each test pins a behaviour that the main tests left free, against an independent route: a
tiny stochastic MDP solved with numpy (the linear solve (I - gamma P_pi)^-1 r_pi, loops over
s, a, s') and a brute-force search over all its deterministic policies; a discount other
than the grid world's 0.9; ties and the tolerance boundary of the greedy choice; iteration
counts and their limits; Monte Carlo returns on a one-state MDP whose episodes are
few enough to write down by hand (first-visit vs every-visit, horizons, running means over
batches); episodes replayed from the same seeded uniforms; sampling laws within standard
errors; epsilon-greedy probabilities; ties kept by policy improvement; a 2 x 3 grid world
whose steps and model are worked out by hand; error messages in full; and that a seeded
generator (never the global RNG) drives every simulation.
"""

from __future__ import annotations

import inspect
import itertools
import math
import re

import numpy as np
import pytest
import torch

from course_lib.rl import (
    GridWorld,
    MCResult,
    PlanningResult,
    TabularMDP,
    action_values,
    bellman_expectation_step,
    bellman_optimality_step,
    check_mdp,
    check_policy,
    deterministic_policy,
    discounted_returns,
    epsilon_greedy_policy,
    epsilon_soft_mdp,
    first_visit_mask,
    greedy_actions,
    mc_basic,
    mc_control,
    mc_epsilon_greedy,
    mc_evaluate,
    mc_exploring_starts,
    policy_evaluation,
    policy_iteration,
    policy_matrices,
    sample_episodes,
    truncated_policy_iteration,
    value_iteration,
)

F64 = torch.float64

# A tiny stochastic MDP: 3 states, 2 actions, gamma = 0.7 (not the grid world's 0.9).
P_NP = np.array(
    [
        [[0.6, 0.4, 0.0], [0.1, 0.2, 0.7]],
        [[0.0, 0.5, 0.5], [0.9, 0.0, 0.1]],
        [[0.3, 0.3, 0.4], [0.0, 0.0, 1.0]],
    ]
)
R_NP = np.array([[1.0, 0.0], [-0.5, 2.0], [0.3, -1.0]])
GAMMA = 0.7
TINY = TabularMDP(torch.tensor(P_NP), torch.tensor(R_NP), GAMMA)


def np_policy_matrices(pi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """r_pi and P_pi of (2.1) by explicit loops over s, a, s'."""
    S, A = pi.shape
    r = np.zeros(S)
    P = np.zeros((S, S))
    for s in range(S):
        for a in range(A):
            r[s] += pi[s, a] * R_NP[s, a]
            for s2 in range(S):
                P[s, s2] += pi[s, a] * P_NP[s, a, s2]
    return r, P


def np_values(pi: np.ndarray, gamma: float = GAMMA) -> np.ndarray:
    """v_pi = (I - gamma P_pi)^-1 r_pi by numpy's linear solve, (2.3)."""
    r, P = np_policy_matrices(pi)
    return np.linalg.solve(np.eye(len(r)) - gamma * P, r)


def np_q(v: np.ndarray, gamma: float = GAMMA) -> np.ndarray:
    """q(s, a) = R(s, a) + gamma sum_s' P(s, a, s') v(s') by loops, (2.5)."""
    q = np.array(R_NP)
    for s, a, s2 in itertools.product(range(3), range(2), range(3)):
        q[s, a] += gamma * P_NP[s, a, s2] * v[s2]
    return q


def brute_force_optimum() -> tuple[np.ndarray, tuple[int, ...]]:
    """v* and the optimal policy by evaluating all 2^3 deterministic policies: an optimal
    policy dominates every other in every state."""
    best_v, best_pi = None, None
    for actions in itertools.product(range(2), repeat=3):
        v = np_values(np.eye(2)[list(actions)])
        if best_v is None or (v >= best_v - 1e-12).all():
            best_v, best_pi = v, actions
    for actions in itertools.product(range(2), repeat=3):
        assert (np_values(np.eye(2)[list(actions)]) <= best_v + 1e-12).all()
    return best_v, best_pi


V_STAR, PI_STAR = brute_force_optimum()
STOCH_PI = np.array([[0.25, 0.75], [0.6, 0.4], [1.0, 0.0]])


def t(a) -> torch.Tensor:
    return torch.tensor(a, dtype=F64)


# ============================================================================ planning.py


def test_policy_matrices_and_one_bellman_sweep_against_loops():
    """(2.1) r_pi, P_pi and (2.4) r_pi + gamma P_pi v for a stochastic policy, v != 0."""
    r, P = policy_matrices(TINY, t(STOCH_PI))
    r_np, P_np = np_policy_matrices(STOCH_PI)
    np.testing.assert_allclose(r.numpy(), r_np, rtol=1e-14)
    np.testing.assert_allclose(P.numpy(), P_np, rtol=1e-14)
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(
        bellman_expectation_step(TINY, t(STOCH_PI), t(v)).numpy(),
        r_np + GAMMA * P_np @ v,
        rtol=1e-14,
    )


def test_policy_evaluation_closed_and_iterative_against_numpy_solve():
    """Both methods give numpy's (I - gamma P_pi)^-1 r_pi for gamma = 0.7 and for gamma = 0
    (v = r_pi: one sweep, by hand); the iterative one from any v0 and with its default tol."""
    want = np_values(STOCH_PI)
    np.testing.assert_allclose(policy_evaluation(TINY, t(STOCH_PI)).numpy(), want, rtol=1e-12)
    it = policy_evaluation(TINY, t(STOCH_PI), method="iterative")
    np.testing.assert_allclose(it.numpy(), want, rtol=0, atol=1e-10)
    from_v0 = policy_evaluation(TINY, t(STOCH_PI), method="iterative", v0=t([50.0, -9.0, 3.0]))
    np.testing.assert_allclose(from_v0.numpy(), want, rtol=0, atol=1e-10)
    # started at the solution, one sweep changes nothing: done within max_sweeps = 1
    at_v = policy_evaluation(TINY, t(STOCH_PI), method="iterative", v0=t(want), max_sweeps=1)
    np.testing.assert_allclose(at_v.numpy(), want, rtol=1e-12)
    myopic = TabularMDP(TINY.P, TINY.R, 0.0)
    r_np, _ = np_policy_matrices(STOCH_PI)
    for method in ("closed", "iterative"):
        np.testing.assert_allclose(
            policy_evaluation(myopic, t(STOCH_PI), method=method).numpy(), r_np, rtol=1e-14
        )


def test_iterative_evaluation_tol_and_sweep_limits():
    """gamma = 0: the first sweep gives r_pi, the second changes nothing, so exactly 2 sweeps are
    needed from v0 = 0 (1 is not enough); a loose tol stops after the first sweep."""
    myopic = TabularMDP(TINY.P, TINY.R, 0.0)
    r_np, _ = np_policy_matrices(STOCH_PI)
    v = policy_evaluation(myopic, t(STOCH_PI), method="iterative", max_sweeps=2)
    np.testing.assert_allclose(v.numpy(), r_np)
    with pytest.raises(ValueError, match=r"did not reach tol=1e-12 in 1 sweeps"):
        policy_evaluation(myopic, t(STOCH_PI), method="iterative", max_sweeps=1)
    # |r_pi|_inf = 0.75 + ... : with tol = max|r_pi| the first sweep already stops, from v0 = 0
    tol = float(np.abs(r_np).max())
    one = policy_evaluation(myopic, t(STOCH_PI), method="iterative", tol=tol, max_sweeps=1)
    np.testing.assert_allclose(one.numpy(), r_np)
    with pytest.raises(ValueError, match="tol must be"):
        policy_evaluation(TINY, t(STOCH_PI), method="iterative", tol=0.0)
    with pytest.raises(ValueError, match="max_sweeps must be >= 1"):
        policy_evaluation(TINY, t(STOCH_PI), method="iterative", max_sweeps=0)
    with pytest.raises(ValueError, match="method must be 'closed' or 'iterative', got 'exact'"):
        policy_evaluation(TINY, t(STOCH_PI), method="exact")


def test_action_values_against_loops():
    """(2.5) for an arbitrary v."""
    v = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(action_values(TINY, t(v)).numpy(), np_q(v), rtol=1e-14)
    # a float32 v is taken in the MDP's dtype (float64): same q up to v's float32 rounding
    v32 = torch.tensor(v, dtype=torch.float32)
    q32 = action_values(TINY, v32)
    assert q32.dtype == F64
    np.testing.assert_allclose(q32.numpy(), np_q(v32.double().numpy()), rtol=1e-14)
    assert bellman_optimality_step(TINY, v32)[0].dtype == F64


def test_greedy_actions_ties_tolerance_boundary_and_preference():
    """First near-maximiser within tol (the boundary q = best - tol counts as near); a preferred
    action is kept when near, replaced when not."""
    q = t([[1.0, 1.0 + 5e-10, 0.5], [0.0, 2.0, 2.0], [3.0, 1.0, 3.0 - 1e-3], [0.0, 0.5, 1.0]])
    assert greedy_actions(q).tolist() == [0, 1, 0, 2]
    assert greedy_actions(q, tol=1e-11).tolist() == [1, 1, 0, 2]
    assert greedy_actions(q, tol=0.5).tolist() == [0, 1, 0, 1]  # 0.5 = 1.0 - 0.5 exactly
    prefer = torch.tensor([1, 2, 2, 0])
    assert greedy_actions(q, prefer=prefer).tolist() == [1, 2, 0, 2]
    assert greedy_actions(q, tol=1e-2, prefer=prefer).tolist() == [1, 2, 2, 2]
    with pytest.raises(
        ValueError, match=r"q must be a tensor of shape \(S, A\), got torch.Size\(\[3\]\)"
    ):
        greedy_actions(torch.zeros(3))
    with pytest.raises(ValueError, match=r"q must be a tensor of shape \(S, A\), got \[1, 2\]"):
        greedy_actions([1, 2])


def test_bellman_optimality_step_against_loops():
    """(3.1): T v = max_a q and its greedy actions, for an arbitrary v."""
    v = np.array([2.0, -1.0, 0.5])
    tv, acts = bellman_optimality_step(TINY, t(v))
    np.testing.assert_allclose(tv.numpy(), np_q(v).max(1), rtol=1e-14)
    assert acts.tolist() == np_q(v).argmax(1).tolist()


def test_value_iteration_reaches_the_brute_force_optimum_and_counts_sweeps():
    """v* of the 8 deterministic policies; the greedy policy is the brute-force optimal one; the
    deltas are ||v_{k+1} - v_k||_inf of the numpy sweeps, one per iteration, the last <= tol."""
    vi = value_iteration(TINY)
    np.testing.assert_allclose(vi.v.numpy(), V_STAR, rtol=0, atol=1e-9)
    assert tuple(vi.actions.tolist()) == PI_STAR
    np.testing.assert_allclose(vi.q.numpy(), np_q(V_STAR), rtol=0, atol=1e-9)
    v, deltas = np.zeros(3), []
    while True:
        new = np_q(v).max(1)
        deltas.append(np.abs(new - v).max())
        v = new
        if deltas[-1] <= 1e-10:
            break
    assert vi.iterations == len(deltas) == len(vi.deltas)
    np.testing.assert_allclose(vi.deltas, deltas, rtol=1e-9, atol=1e-14)
    assert isinstance(vi, PlanningResult)
    assert torch.equal(vi.policy, torch.eye(2, dtype=F64)[vi.actions])


def test_value_iteration_fixed_number_of_sweeps_and_limits():
    """n_iterations = L gives T^L v0 exactly (numpy loop), also L = 0 (v0 itself) and past
    convergence; max_iterations too small raises; tol is used."""
    v0 = np.array([1.0, 5.0, -3.0])
    for L in (0, 1, 3):
        v = v0.copy()
        for _ in range(L):
            v = np_q(v).max(1)
        res = value_iteration(TINY, n_iterations=L, v0=t(v0))
        np.testing.assert_allclose(res.v.numpy(), v, rtol=1e-14)
        assert res.iterations == L
    many = value_iteration(TINY, n_iterations=200)
    assert many.iterations == 200
    np.testing.assert_allclose(many.v.numpy(), V_STAR, rtol=0, atol=1e-12)
    with pytest.raises(
        ValueError, match=r"value iteration did not reach tol=1e-10 in 3 iterations"
    ):
        value_iteration(TINY, max_iterations=3)
    # gamma = 0: the first sweep moves v from 0 to max_a R = (1, 2, 0.3), a change of exactly 2;
    # tol = 2 is met (<=) at once, the second sweep would change nothing
    myopic = value_iteration(TabularMDP(TINY.P, TINY.R, 0.0), tol=2.0)
    assert myopic.iterations == 1 and myopic.deltas == [2.0]
    loose = value_iteration(TINY, tol=0.5)
    assert loose.deltas[-1] <= 0.5 < loose.deltas[-2]
    with pytest.raises(ValueError, match="tol must be"):
        value_iteration(TINY, tol=0.0)


def test_policy_iteration_against_brute_force_and_its_counts():
    """Policy iteration from 'stay' (the last action, default) and from another start reaches the
    brute-force optimum; deltas[0] = ||v_pi0 - 0||; too few iterations raise."""
    pi = policy_iteration(TINY)
    assert tuple(pi.actions.tolist()) == PI_STAR
    np.testing.assert_allclose(pi.v.numpy(), V_STAR, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pi.q.numpy(), np_q(V_STAR), rtol=0, atol=1e-12)
    stay = policy_iteration(TINY, policy0=torch.tensor([1, 1, 1]))
    assert stay.deltas == pi.deltas and stay.iterations == pi.iterations
    assert pi.deltas[0] == pytest.approx(np.abs(np_values(np.eye(2)[[1, 1, 1]])).max(), rel=1e-12)
    assert len(pi.deltas) == pi.iterations >= 2
    with pytest.raises(ValueError, match=r"policy iteration did not converge in 1 iterations"):
        policy_iteration(TINY, policy0=torch.tensor([1, 1, 1]), max_iterations=1)
    start = torch.tensor(PI_STAR)  # already optimal: one evaluation confirms it
    one = policy_iteration(TINY, policy0=start, max_iterations=1)
    assert one.iterations == 1 and one.actions.tolist() == list(PI_STAR)


def test_policy_iteration_deltas_follow_the_numpy_policy_sequence():
    """Policy iteration redone in numpy (solve, then argmax of q; no ties on TINY): the same
    sequence of policies, deltas[k] = ||v_k - v_{k-1}||_inf with v_{-1} = 0, same count."""
    actions, v_old, deltas = [1, 1, 1], np.zeros(3), []
    while True:
        v = np_values(np.eye(2)[actions])
        deltas.append(np.abs(v - v_old).max())
        v_old = v
        improved = np_q(v).argmax(1).tolist()
        if improved == actions:
            break
        actions = improved
    res = policy_iteration(TINY)
    assert res.iterations == len(deltas) >= 2
    np.testing.assert_allclose(res.deltas, deltas, rtol=1e-10, atol=1e-13)


def test_policy_iteration_keeps_a_tied_optimal_action():
    """Both actions of a one-state MDP are worth the same (R = 1 each, by hand v = 1/(1 - 0.7)):
    starting from action 1 the first improvement keeps it, so one iteration suffices; value
    iteration and the greedy choice take the first action, 0."""
    tie = TabularMDP(torch.ones(1, 2, 1, dtype=F64), t([[1.0, 1.0]]), GAMMA)
    res = policy_iteration(tie, policy0=torch.tensor([1]))
    assert res.actions.tolist() == [1] and res.iterations == 1
    np.testing.assert_allclose(res.v.numpy(), [1 / (1 - GAMMA)], rtol=1e-14)
    assert policy_iteration(tie).actions.tolist() == [1]  # default start: 'stay', the last action
    tpi = truncated_policy_iteration(tie, 3, policy0=torch.tensor([1]))
    assert tpi.actions.tolist() == [0]  # its final greedy step takes the first of the tie
    assert value_iteration(tie).actions.tolist() == [0]


@pytest.mark.parametrize("j", [1, 2, 7])
def test_truncated_policy_iteration_against_brute_force(j):
    """Any j reaches v* and the optimal policy; the deltas end at <= tol; tol is used."""
    res = truncated_policy_iteration(TINY, j)
    np.testing.assert_allclose(res.v.numpy(), V_STAR, rtol=0, atol=1e-8)
    assert tuple(res.actions.tolist()) == PI_STAR
    np.testing.assert_allclose(res.q.numpy(), np_q(res.v.numpy()), rtol=1e-12)
    assert res.deltas[-1] <= 1e-10 and res.iterations == len(res.deltas)
    loose = truncated_policy_iteration(TINY, j, tol=0.3)
    assert loose.deltas[-1] <= 0.3 and all(d > 0.3 for d in loose.deltas[:-1])


def test_truncated_policy_iteration_first_iteration_by_hand():
    """From v = 0 and 'stay' (action 1), the first iteration's j sweeps give the j-step values
    of 'stay' (numpy loop), so deltas[0] = their max norm."""
    r, P = np_policy_matrices(np.eye(2)[[1, 1, 1]])
    for j in (1, 3):
        v = np.zeros(3)
        for _ in range(j):
            v = r + GAMMA * P @ v
        res = truncated_policy_iteration(TINY, j, max_iterations=1, tol=1e3)
        np.testing.assert_allclose(res.v.numpy(), v, rtol=1e-14)
        assert res.deltas[0] == pytest.approx(np.abs(v).max(), rel=1e-14)
    with pytest.raises(
        ValueError, match=r"truncated policy iteration did not reach tol=1e-10 in 2"
    ):
        truncated_policy_iteration(TINY, 1, max_iterations=2)
    with pytest.raises(ValueError, match="n_sweeps must be >= 1"):
        truncated_policy_iteration(TINY, 0)
    with pytest.raises(ValueError, match=r"tol must be a finite number in \(0, inf\), got 0.0"):
        truncated_policy_iteration(TINY, 2, tol=0.0)
    # gamma = 0, from 'stay': the first iteration moves v from 0 to R(., 1) = (0, 2, -1), a
    # change of exactly 2, which meets tol = 2 (<=)
    myopic = truncated_policy_iteration(TabularMDP(TINY.P, TINY.R, 0.0), 1, tol=2.0)
    assert myopic.iterations == 1 and myopic.deltas == [2.0]
    # exactly max_iterations iterations are allowed: one fewer than needed raises
    k = truncated_policy_iteration(TINY, 1, tol=0.3).iterations
    assert k >= 2
    assert truncated_policy_iteration(TINY, 1, tol=0.3, max_iterations=k).iterations == k
    with pytest.raises(ValueError, match=f"in {k - 1} iterations"):
        truncated_policy_iteration(TINY, 1, tol=0.3, max_iterations=k - 1)
    start = truncated_policy_iteration(
        TINY, 1, policy0=torch.tensor([0, 0, 0]), max_iterations=1, tol=1e3
    )
    r0, _ = np_policy_matrices(np.eye(2)[[0, 0, 0]])
    np.testing.assert_allclose(start.v.numpy(), r0, rtol=1e-14)


def test_truncated_policy_iteration_keeps_a_tied_action_while_evaluating():
    """j = 2, gamma = 0.5, by hand. States: 0 moves to 1 (a0) or to 2 (a1), reward 0; 1 stays,
    reward 0; 2 stays, reward 1 for a0 and 0 for a1; 3 stays, reward 1. From v = 0 and 'stay'
    (a1 everywhere):
    it 1: v = (0, 0, 0, 1) -> (0, 0, 0, 1.5), delta 1.5; in state 0 both actions are worth
      gamma v(1) = gamma v(2) = 0: the tie keeps a1 (to state 2); state 2 switches to a0;
    it 2: v = (0, 0, 1, 1.75) -> (0.5, 0, 1.5, 1.875), delta 1.5 (state 2); now a1 is strictly
      best in state 0 (gamma 1.5 > 0);
    it 3: v = (0.75, 0, 1.75, 1.9375) -> (0.875, 0, 1.875, 1.96875), delta 0.375 <= tol = 0.4.
    Had the tie switched state 0 to a0 (towards state 1), it 2 would end at v(0) = 0 and it 3
    would change v(0) by 0.875 > tol."""
    P = torch.zeros(4, 2, 4, dtype=F64)
    P[0, 0, 1] = P[0, 1, 2] = 1.0
    P[1, :, 1] = P[2, :, 2] = P[3, :, 3] = 1.0
    R = t([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    res = truncated_policy_iteration(TabularMDP(P, R, 0.5), 2, tol=0.4)
    assert res.deltas == [1.5, 1.5, 0.375] and res.iterations == 3
    assert res.v.tolist() == [0.875, 0.0, 1.875, 1.96875]


def test_planning_iteration_caps_are_the_documented_defaults():
    """A caller who leaves the caps alone gets ValueError after 10^5 sweeps (iterative
    evaluation, value iteration, truncated policy iteration) or 10^3 policies (policy
    iteration). Running into them takes 10^5 sweeps, too slow for a unit test, so the
    defaults are read off the signatures. This guards an edit of a default, not a mutmut
    mutant: mutmut's trampoline keeps the original signature."""
    caps = {
        (policy_evaluation, "max_sweeps"): 100_000,
        (value_iteration, "max_iterations"): 100_000,
        (policy_iteration, "max_iterations"): 1_000,
        (truncated_policy_iteration, "max_iterations"): 100_000,
    }
    for (fn, name), cap in caps.items():
        assert inspect.signature(fn).parameters[name].default == cap, fn.__name__


def test_policy_iteration_gives_up_after_1000_policies_by_default(monkeypatch):
    """An improvement step that never settles (here: one that flips every action each time)
    stops policy iteration after its default cap of 10^3 policies, and the error names it.

    (Under mutmut the signature test above cannot see a changed default: the trampoline keeps
    the original signature. The 10^5-sweep caps would need 10^5 sweeps, seconds per test.)"""
    from course_lib.rl import planning

    calls = []

    def flip(q, *, tol=1e-9, prefer=None):
        calls.append(1)
        return 1 - prefer

    monkeypatch.setattr(planning, "greedy_actions", flip)
    with pytest.raises(ValueError, match=r"^policy iteration did not converge in 1000 iterations$"):
        planning.policy_iteration(TINY, policy0=torch.tensor([0, 0, 0]))
    assert len(calls) == 1_000


def test_planning_bad_inputs_name_the_problem():
    """Messages of the value-vector and initial-policy checks."""
    with pytest.raises(TypeError, match=r"v must be a torch.Tensor of shape \(3,\), got list"):
        action_values(TINY, [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"v must have shape \(3,\), got \(2,\)"):
        bellman_optimality_step(TINY, torch.zeros(2, dtype=F64))
    with pytest.raises(ValueError, match=r"policy0 must be an integer tensor of shape \(3,\)"):
        policy_iteration(TINY, policy0=torch.zeros(3, dtype=F64))
    with pytest.raises(ValueError, match=r"policy0 must be an integer tensor of shape \(3,\)"):
        truncated_policy_iteration(TINY, 2, policy0=torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="policy0 must be an integer"):
        policy_iteration(TINY, policy0=[0, 0, 0])
    with pytest.raises(ValueError, match="max_iterations must be >= 1"):
        policy_iteration(TINY, max_iterations=0)
    with pytest.raises(ValueError, match=r"actions must lie in \[0, 1\]"):
        policy_iteration(TINY, policy0=torch.tensor([0, 2, 0]))
    with pytest.raises(ValueError, match="n_iterations must be >= 0, got -1"):
        value_iteration(TINY, n_iterations=-1)
    with pytest.raises(TypeError, match="n_iterations must be an int"):
        value_iteration(TINY, max_iterations=2.5)
    with pytest.raises(ValueError, match="max_iterations must be >= 1"):
        truncated_policy_iteration(TINY, 2, max_iterations=0)
    with pytest.raises(TypeError, match="n_sweeps must be an int"):
        truncated_policy_iteration(TINY, 2.0)


# ============================================================================ montecarlo.py

# One state, two actions, every move returns to the state: R(0, 0) = 1, R(0, 1) = 0.2,
# gamma = 0.5. Its episodes are few enough to write down by hand.
ONE = TabularMDP(torch.ones(1, 2, 1, dtype=F64), t([[1.0, 0.2]]), 0.5)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def se_of(values: list[float]) -> float:
    """Standard error of a mean: sqrt(unbiased variance / n), by numpy."""
    x = np.asarray(values)
    return float(np.sqrt(x.var(ddof=1) / len(x)))


def test_discounted_returns_by_hand():
    """r = (1, 2, 3), gamma = 0.5: G = (1 + 1 + 0.75, 2 + 1.5, 3) = (2.75, 3.5, 3); horizon 2:
    (1 + 1, 3.5, 3); gamma = 1 (allowed): (6, 5, 3); gamma = 0: the rewards."""
    r = t([[1.0, 2.0, 3.0], [0.0, -4.0, 8.0]])
    np.testing.assert_allclose(discounted_returns(r, 0.5)[0].numpy(), [2.75, 3.5, 3.0])
    np.testing.assert_allclose(discounted_returns(r, 0.5)[1].numpy(), [0.0, 0.0, 8.0])
    np.testing.assert_allclose(discounted_returns(r, 0.5, 2)[0].numpy(), [2.0, 3.5, 3.0])
    np.testing.assert_allclose(discounted_returns(r, 1.0)[0].numpy(), [6.0, 5.0, 3.0])
    np.testing.assert_allclose(discounted_returns(r, 1.0, 1).numpy(), r.numpy())
    np.testing.assert_allclose(discounted_returns(r, 0.0).numpy(), r.numpy())
    with pytest.raises(ValueError, match=r"gamma must be a finite number in \[0, 1\]"):
        discounted_returns(r, 1.5)
    with pytest.raises(ValueError, match="horizon must be >= 1"):
        discounted_returns(r, 0.5, 0)
    with pytest.raises(TypeError, match=r"rewards must be a floating tensor of shape \(N, L\)"):
        discounted_returns(torch.ones(2, 3, dtype=torch.long), 0.5)


def test_first_visit_mask_by_hand():
    """Pairs s * A + a: (0,1), (1,0), (1,0), (0,1) -> first visits T, T, F, F; a later episode
    is independent; an empty batch gives an empty mask."""
    states = torch.tensor([[0, 1, 1, 0], [2, 2, 0, 2]])
    actions = torch.tensor([[1, 0, 0, 1], [0, 1, 0, 0]])
    assert first_visit_mask(states, actions, 2).tolist() == [
        [True, True, False, False],
        [True, True, True, False],
    ]
    empty = first_visit_mask(
        torch.zeros(2, 0, dtype=torch.long), torch.zeros(2, 0, dtype=torch.long), 2
    )
    assert empty.shape == (2, 0)


def test_epsilon_greedy_probabilities_by_hand():
    """(4.5) with |A| = 4, eps = 0.2: 1 - 0.2 + 0.05 = 0.85 on the greedy action, 0.05 elsewhere;
    eps = 1 is uniform, eps = 0 greedy; eps outside [0, 1] is refused."""
    pi = epsilon_greedy_policy(torch.tensor([2, 0]), 4, 0.2)
    np.testing.assert_allclose(pi.numpy(), [[0.05, 0.05, 0.85, 0.05], [0.85, 0.05, 0.05, 0.05]])
    np.testing.assert_allclose(
        epsilon_greedy_policy(torch.tensor([1]), 4, 1.0).numpy(), [[0.25] * 4]
    )
    np.testing.assert_allclose(
        epsilon_greedy_policy(torch.tensor([1]), 2, 0.0).numpy(), [[0.0, 1.0]]
    )
    with pytest.raises(ValueError, match="epsilon must lie in"):
        epsilon_greedy_policy(torch.tensor([1]), 2, -0.1)


def test_epsilon_soft_mdp_against_loops():
    """P_eps(s, a) = (1 - eps) P(s, a) + eps mean_b P(s, b), likewise R; gamma unchanged."""
    eps = 0.3
    soft = epsilon_soft_mdp(TINY, eps)
    P = np.zeros_like(P_NP)
    R = np.zeros_like(R_NP)
    for s, a in itertools.product(range(3), range(2)):
        P[s, a] = (1 - eps) * P_NP[s, a] + eps * (P_NP[s, 0] + P_NP[s, 1]) / 2
        R[s, a] = (1 - eps) * R_NP[s, a] + eps * (R_NP[s, 0] + R_NP[s, 1]) / 2
    np.testing.assert_allclose(soft.P.numpy(), P, rtol=1e-14)
    np.testing.assert_allclose(soft.R.numpy(), R, rtol=1e-14)
    assert soft.gamma == GAMMA
    with pytest.raises(ValueError, match="epsilon must lie in"):
        epsilon_soft_mdp(TINY, 1.1)


def test_sampled_starts_actions_and_successors_follow_their_laws():
    """n = 30000 episodes of TINY: uniform start states, actions from a stochastic policy, and
    successors from P(s, a, .), each frequency within 5 standard errors sqrt(p(1-p)/n)."""
    n = 30_000
    pi = t([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    ep = sample_episodes(TINY, pi, n, 2, generator=gen(1))
    for s in range(3):
        assert abs(float((ep.states[:, 0] == s).double().mean()) - 1 / 3) < 5 * math.sqrt(2 / 9 / n)
    for s in range(3):
        rows = ep.states[:, 0] == s
        m = int(rows.sum())
        p1 = float(pi[s, 1])
        freq = float((ep.actions[rows, 0] == 1).double().mean())
        assert abs(freq - p1) < 5 * math.sqrt(p1 * (1 - p1) / m)
    rows = (ep.states[:, 0] == 1) & (ep.actions[:, 0] == 0)  # P(1, 0, .) = (0, 0.5, 0.5)
    m = int(rows.sum())
    nxt = ep.states[rows, 1]
    assert int((nxt == 0).sum()) == 0
    assert abs(float((nxt == 2).double().mean()) - 0.5) < 5 * math.sqrt(0.25 / m)
    np.testing.assert_array_equal(ep.rewards.numpy(), R_NP[ep.states.numpy(), ep.actions.numpy()])
    # a three-action policy: the last action is drawn too (inverse CDF up to the last index)
    three = TabularMDP(torch.ones(1, 3, 1, dtype=F64), torch.zeros(1, 3, dtype=F64), 0.9)
    acts = sample_episodes(three, t([[0.2, 0.3, 0.5]]), n, 1, generator=gen(2)).actions[:, 0]
    for a, p in enumerate((0.2, 0.3, 0.5)):
        assert abs(float((acts == a).double().mean()) - p) < 5 * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("kind", ["episodes", "evaluate", "basic", "control"])
def test_every_simulation_is_seeded_by_its_generator_only(kind):
    """Same seed -> identical numbers whatever the global RNG state; another seed differs."""
    pi = t([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])

    def run(seed):
        g = gen(seed)
        if kind == "episodes":
            ep = sample_episodes(TINY, pi, 40, 6, generator=g)
            return torch.cat([ep.states, ep.actions], 1).double()
        if kind == "evaluate":
            est = mc_evaluate(TINY, pi, 60, 5, generator=g)
            return torch.cat([est.q, est.counts], 1)
        if kind == "basic":
            return mc_basic(TINY, 4, episodes_per_pair=3, max_iterations=1, generator=g).q
        res = mc_epsilon_greedy(TINY, 0.3, 50, 5, batch_size=20, generator=g)
        return torch.cat([res.q, res.counts], 1)

    torch.manual_seed(1)
    a = run(5)
    torch.manual_seed(2)
    b = run(5)
    assert torch.equal(a, b)
    assert not torch.equal(a, run(6))


def _counts(est_or_res):
    c = est_or_res.counts
    return int(c[0, 0]), int(c[0, 1])


def test_mc_evaluate_first_and_every_visit_returns_by_hand():
    """ONE, policy 'always action 0', L = 3. By hand, G_t = r_{t+1} + 0.5 G_{t+1}:
    start (0,0): rewards 1, 1, 1 -> G = 1.75, 1.5, 1, pairs (0,0) x 3;
    start (0,1): rewards 0.2, 1, 1 -> G = 0.95, 1.5, 1, pairs (0,1), (0,0), (0,0).
    With n01 = count of (0,1) (only ever a start) and n00 = n - n01 starts from (0,0):
    first visit: q(0,1) = 0.95, q(0,0) = (1.75 n00 + 1.5 n01) / (n00 + n01);
    every visit: q(0,0) = (4.25 n00 + 2.5 n01) / (3 n00 + 2 n01) over 3 n00 + 2 n01 returns.
    Starts are uniform over the 2 pairs: n01 ~ Bin(n, 1/2)."""
    n = 400
    policy = torch.tensor([0])
    first = mc_evaluate(ONE, policy, n, 3, generator=gen(3))
    c00, n01 = _counts(first)
    n00 = n - n01
    assert c00 == n00 + n01 and abs(n01 - n / 2) < 5 * math.sqrt(n / 4)
    want = [1.75] * n00 + [1.5] * n01
    np.testing.assert_allclose(first.q.numpy(), [[np.mean(want), 0.95]], rtol=1e-13)
    np.testing.assert_allclose(first.se[0, 0].item(), se_of(want), rtol=1e-10)
    assert abs(first.se[0, 1].item()) < 1e-12  # all (0,1) returns equal 0.95
    every = mc_evaluate(ONE, policy, n, 3, first_visit=False, generator=gen(3))
    assert _counts(every) == (3 * n00 + 2 * n01, n01)
    want = [1.75, 1.5, 1.0] * n00 + [1.5, 1.0] * n01
    np.testing.assert_allclose(every.q.numpy(), [[np.mean(want), 0.95]], rtol=1e-13)
    np.testing.assert_allclose(every.se[0, 0].item(), se_of(want), rtol=1e-10)


def test_mc_evaluate_horizons_by_hand():
    """Same episodes; with horizon H only visits at t <= L - H count, with G_t^H (4.2):
    H = 2: start (0,0): G^2 = 1.5, 1.5; start (0,1): G^2 = 0.2 + 0.5 = 0.7, then 1.5, so
      q = (1.5, 0.7), first visit counts (n00 + n01, n01), every visit (2 n00 + n01, n01);
    H = 3 = L: only t = 0: q = (1.75, 0.95), counts (n00, n01);
    H = 1: G^1 = r: q = (1, 0.2), counts (3 n00 + 2 n01, n01) for every visit.
    A pair with a single return has se NaN; one never seen has q = 0 and count 0."""
    n = 300
    policy = torch.tensor([0])
    base = mc_evaluate(ONE, policy, n, 3, generator=gen(4))
    n01 = _counts(base)[1]
    n00 = n - n01
    h2 = mc_evaluate(ONE, policy, n, 3, horizon=2, generator=gen(4))
    np.testing.assert_allclose(h2.q.numpy(), [[1.5, 0.7]], rtol=1e-13)
    assert _counts(h2) == (n00 + n01, n01)
    h2e = mc_evaluate(ONE, policy, n, 3, horizon=2, first_visit=False, generator=gen(4))
    np.testing.assert_allclose(h2e.q.numpy(), [[1.5, 0.7]], rtol=1e-13)
    assert _counts(h2e) == (2 * n00 + n01, n01)
    h3 = mc_evaluate(ONE, policy, n, 3, horizon=3, first_visit=False, generator=gen(4))
    np.testing.assert_allclose(h3.q.numpy(), [[1.75, 0.95]], rtol=1e-13)
    assert _counts(h3) == (n00, n01)
    h1 = mc_evaluate(ONE, policy, n, 3, horizon=1, first_visit=False, generator=gen(4))
    np.testing.assert_allclose(h1.q.numpy(), [[1.0, 0.2]], rtol=1e-13)
    assert _counts(h1) == (3 * n00 + 2 * n01, n01)
    single = mc_evaluate(ONE, policy, 1, 3, horizon=3, generator=gen(0))
    seen = single.counts[0] > 0
    assert int(single.counts.sum()) == 1
    assert torch.isnan(single.se[0, seen]).all()
    assert (single.q[0, ~seen] == 0).all() and (single.counts[0, ~seen] == 0).all()


def test_mc_basic_by_hand_and_its_defaults():
    """ONE, L = 2, from the default 'stay' (action 1): q = (1 + 0.5 * 0.2, 0.2 + 0.5 * 0.2)
    = (1.1, 0.3); greedy -> action 0: q = (1.5, 0.2 + 0.5) = (1.5, 0.7); unchanged, stop.
    So 2 iterations, history (1.1, 1.5), counts = episodes per pair."""
    res = mc_basic(ONE, 2, episodes_per_pair=3, generator=gen(0))
    assert isinstance(res, MCResult)
    np.testing.assert_allclose(res.q.numpy(), [[1.5, 0.7]], rtol=1e-14)
    assert res.iterations == 2 and res.actions.tolist() == [0]
    np.testing.assert_allclose([float(h[0]) for h in res.history], [1.1, 1.5], rtol=1e-14)
    np.testing.assert_allclose(res.counts.numpy(), [[3.0, 3.0]])
    np.testing.assert_allclose(res.policy.numpy(), [[1.0, 0.0]])
    np.testing.assert_allclose(res.v.numpy(), [1.5])
    first = mc_basic(ONE, 2, max_iterations=1)
    np.testing.assert_allclose(first.q.numpy(), [[1.1, 0.3]], rtol=1e-14)
    assert first.iterations == 1 and first.actions.tolist() == [0]  # greedy for q = (1.1, 0.3)
    np.testing.assert_allclose(first.counts.numpy(), [[1.0, 1.0]])
    start0 = mc_basic(ONE, 2, policy0=torch.tensor([0]))
    assert start0.iterations == 1
    with pytest.raises(ValueError, match="episodes_per_pair must be >= 1"):
        mc_basic(ONE, 2, episodes_per_pair=0)
    with pytest.raises(ValueError, match=r"policy0 must lie in \[0, 1\]"):
        mc_basic(ONE, 2, policy0=torch.tensor([2]))


def test_mc_basic_averages_episodes_per_pair_within_standard_errors():
    """TINY, policy 'always 0', L = 2: G_0 = R(s, a) + gamma R(s_1, 0) with s_1 ~ P(s, a, .);
    its mean is q^(2)(s, a) = R + gamma P r_0 and its variance gamma^2 Var r_0(s_1) (numpy);
    the mean of m = 3000 episodes per pair is within 5 standard errors."""
    m = 3000
    res = mc_basic(
        TINY,
        2,
        episodes_per_pair=m,
        max_iterations=1,
        policy0=torch.tensor([0, 0, 0]),
        generator=gen(7),
    )
    r0 = R_NP[:, 0]
    mean = R_NP + GAMMA * P_NP @ r0
    var = GAMMA**2 * (P_NP @ r0**2 - (P_NP @ r0) ** 2)
    random = var > 1e-12
    z = (res.q.numpy()[random] - mean[random]) / np.sqrt(var[random] / m)
    assert np.abs(z).max() < 5, z
    np.testing.assert_allclose(res.q.numpy()[~random], mean[~random], rtol=1e-12)  # no noise
    np.testing.assert_allclose(res.counts.numpy(), np.full((3, 2), float(m)))


def test_mc_control_running_means_over_batches_by_hand():
    """Exploring starts on ONE, L = 3, first visit. Batch 1 follows 'stay' (action 1):
    start (0,0): rewards 1, .2, .2 -> G = 1.15, .3, .2, pairs (0,0), (0,1), (0,1);
    start (0,1): rewards .2 x 3 -> G = .35, .3, .2, pairs (0,1) x 3.
    Then greedy is action 0 (1.15 > .35). Batch 2 follows action 0:
    start (0,0): G = 1.75, 1.5, 1 on (0,0); start (0,1): G = .95 on (0,1), then 1.5, 1 on (0,0).
    With a_xy, b_xy the start counts of each batch (recovered from the counts of a one-batch
    run with the same seed), the running means pool both batches:
    q(0,0) = (1.15 a00 + 1.75 b00 + 1.5 b01) / (a00 + b00 + b01),
    q(0,1) = (.3 a00 + .35 a01 + .95 b01) / (a00 + a01 + b01)."""
    one = mc_exploring_starts(ONE, 100, 3, batch_size=100, generator=gen(8))
    a00, c01 = _counts(one)
    a01 = c01 - a00
    assert a00 + a01 == 100
    np.testing.assert_allclose(
        one.q.numpy(), [[1.15, (0.3 * a00 + 0.35 * a01) / (a00 + a01)]], rtol=1e-13
    )
    assert one.actions.tolist() == [0] and one.iterations == 100
    two = mc_exploring_starts(ONE, 200, 3, batch_size=100, generator=gen(8))
    d00, d01 = np.subtract(_counts(two), _counts(one))
    b01 = d01
    b00 = d00 - b01
    assert b00 + b01 == 100
    q00 = (1.15 * a00 + 1.75 * b00 + 1.5 * b01) / (a00 + b00 + b01)
    q01 = (0.3 * a00 + 0.35 * a01 + 0.95 * b01) / (a00 + a01 + b01)
    np.testing.assert_allclose(two.q.numpy(), [[q00, q01]], rtol=1e-13)
    np.testing.assert_allclose([float(h[0]) for h in two.history], [1.15, q00], rtol=1e-13)
    assert two.iterations == 200 and two.actions.tolist() == [0]
    np.testing.assert_allclose(two.policy.numpy(), [[1.0, 0.0]])


def test_mc_control_batches_and_the_defaults_of_the_two_variants():
    """Batches of batch_size, the last one shorter (250 = 100 + 100 + 50: 3 history entries);
    MC epsilon-greedy defaults to every visit (every step counts: n L returns) and batches of
    100; MC Exploring Starts to first visit and batches of 1000."""
    res = mc_exploring_starts(ONE, 250, 2, batch_size=100, generator=gen(9))
    assert res.iterations == 250 and len(res.history) == 3
    eg = mc_epsilon_greedy(ONE, 0.5, 250, 3, generator=gen(9))
    assert len(eg.history) == 3 and int(eg.counts.sum()) == 750
    es = mc_exploring_starts(ONE, 1200, 3, generator=gen(9))
    assert len(es.history) == 2
    assert int(es.counts.sum()) < 3 * 1200  # first visit: revisits of a pair do not count
    assert int(es.counts.sum()) >= 1200


def test_mc_epsilon_greedy_follows_the_epsilon_greedy_policy_without_exploring_starts():
    """One batch on ONE, L = 1, eps = 0.4 around the initial 'stay' (action 1): every action is
    drawn from the policy, P(a = 1) = 1 - 0.4 + 0.4/2 = 0.8 (within 5 SE); returns are the
    rewards, q = (1, 0.2); the final policy is epsilon-greedy around the new greedy action 0:
    (0.8, 0.2). With eps = 0 and no exploring starts action 0 is never tried."""
    n = 4000
    res = mc_epsilon_greedy(ONE, 0.4, n, 1, batch_size=n, generator=gen(10))
    frac = float(res.counts[0, 1]) / n
    assert abs(frac - 0.8) < 5 * math.sqrt(0.16 / n)
    np.testing.assert_allclose(res.q.numpy(), [[1.0, 0.2]], rtol=1e-12)
    np.testing.assert_allclose(res.policy.numpy(), [[0.8, 0.2]], rtol=1e-14)
    greedy = mc_control(
        ONE, 50, 2, epsilon=0.0, exploring=False, first_visit=True, batch_size=50, generator=gen(10)
    )
    assert _counts(greedy) == (0, 50)
    explore = mc_control(
        ONE, 50, 2, epsilon=0.0, exploring=True, first_visit=True, batch_size=50, generator=gen(10)
    )
    assert _counts(explore)[0] > 0


def test_monte_carlo_bad_inputs_name_the_problem():
    """Messages and boundaries of the index checks (S - 1 allowed, S and -1 refused)."""
    pi = t([[0.5, 0.5]] * 3)
    ep = sample_episodes(TINY, pi, 2, 2, start_states=torch.tensor([2, 0]), generator=gen(0))
    assert ep.states[:, 0].tolist() == [2, 0]
    with pytest.raises(ValueError, match=r"start_states must lie in \[0, 2\]"):
        sample_episodes(TINY, pi, 2, 2, start_states=torch.tensor([3, 0]))
    with pytest.raises(ValueError, match=r"start_states must lie in \[0, 2\]"):
        sample_episodes(TINY, pi, 2, 2, start_states=torch.tensor([-1, 0]))
    with pytest.raises(
        ValueError, match=r"start_actions must be an integer tensor of shape \(2,\)"
    ):
        sample_episodes(TINY, pi, 2, 2, start_actions=torch.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match="n_episodes must be >= 1"):
        sample_episodes(TINY, pi, 0, 2)
    with pytest.raises(ValueError, match="n_episodes must be >= 1"):
        mc_evaluate(TINY, pi, 0, 2)
    with pytest.raises(ValueError, match="horizon must be <= length=2, got 3"):
        mc_evaluate(TINY, pi, 5, 2, horizon=3)
    mc_evaluate(TINY, pi, 5, 2, horizon=2)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        mc_exploring_starts(TINY, 5, 2, batch_size=0)
    with pytest.raises(TypeError, match="exploring must be a bool"):
        mc_control(TINY, 5, 2, epsilon=0.1, exploring=1, first_visit=True, batch_size=5)
    with pytest.raises(ValueError, match="epsilon must lie in"):
        mc_control(TINY, 5, 2, epsilon=2.0, exploring=True, first_visit=True, batch_size=5)
    with pytest.raises(TypeError, match="first_visit must be a bool"):
        mc_evaluate(TINY, pi, 5, 2, first_visit=None)
    with pytest.raises(ValueError, match="length must be >= 1"):
        mc_evaluate(TINY, pi, 5, 0)
    with pytest.raises(ValueError, match="horizon must be >= 1"):
        mc_evaluate(TINY, pi, 5, 2, horizon=0)
    with pytest.raises(ValueError, match="max_iterations must be >= 1"):
        mc_basic(TINY, 2, max_iterations=0)
    with pytest.raises(ValueError, match=r"policy0 must be an integer tensor of shape \(3,\)"):
        mc_basic(TINY, 2, policy0=torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="n_episodes must be >= 1"):
        mc_exploring_starts(TINY, 0, 2)
    with pytest.raises(ValueError, match="length must be >= 1"):
        mc_epsilon_greedy(TINY, 0.1, 5, 0)
    with pytest.raises(ValueError, match="length must be >= 1"):
        sample_episodes(TINY, pi, 5, 0)


def _inverse_cdf(probs: np.ndarray, u: float) -> int:
    """The first index i with u < p_0 + ... + p_i (the last index if rounding leaves none)."""
    cdf = np.cumsum(probs)
    return int(min(np.searchsorted(cdf, u, side="right"), len(probs) - 1))


def test_sample_episodes_replay_the_seeded_draws():
    """Episodes rebuilt in numpy from the same generator's float64 uniforms, in the documented
    order: n start states s = floor(S u), then L x n action draws, then (random dynamics only)
    L x n successor draws, each by inverse CDF. Deterministic dynamics (the 2 x 3 grid world)
    draw no successors: the generator is left exactly after n + n L uniforms."""
    n, L = 5, 4
    pi = np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    g = gen(11)
    ep = sample_episodes(TINY, t(pi), n, L, generator=g)
    r = gen(11)
    s = (torch.rand(n, generator=r, dtype=F64).numpy() * 3).astype(int)
    u_a = torch.rand(n * L, generator=r, dtype=F64).numpy().reshape(L, n)
    u_s = torch.rand(n * L, generator=r, dtype=F64).numpy().reshape(L, n)
    for step in range(L):
        a = np.array([_inverse_cdf(pi[s[i]], u_a[step, i]) for i in range(n)])
        assert ep.states[:, step].tolist() == s.tolist()
        assert ep.actions[:, step].tolist() == a.tolist()
        np.testing.assert_array_equal(ep.rewards[:, step].numpy(), R_NP[s, a])
        s = np.array([_inverse_cdf(P_NP[s[i], a[i]], u_s[step, i]) for i in range(n)])
    assert torch.equal(torch.rand(3, generator=g), torch.rand(3, generator=r))
    # deterministic dynamics: successors looked up in the hand table, no draws for them
    uniform = torch.full((6, 5), 0.2, dtype=F64)
    g = gen(12)
    ep = sample_episodes(SMALL.model(), uniform, n, L, generator=g)
    r = gen(12)
    s = (torch.rand(n, generator=r, dtype=F64).numpy() * 6).astype(int)
    u_a = torch.rand(n * L, generator=r, dtype=F64).numpy().reshape(L, n)
    for step in range(L):
        a = [_inverse_cdf(np.full(5, 0.2), u) for u in u_a[step]]
        assert ep.states[:, step].tolist() == s.tolist()
        assert ep.actions[:, step].tolist() == a
        assert ep.rewards[:, step].tolist() == [
            SMALL_TABLE[si][ai][1] for si, ai in zip(s, a, strict=True)
        ]
        s = np.array([SMALL_TABLE[si][ai][0] for si, ai in zip(s, a, strict=True)])
    assert torch.equal(torch.rand(3, generator=g), torch.rand(3, generator=r))
    # given starts: no start draw; the first action draws are made (and ignored)
    g = gen(13)
    ep = sample_episodes(
        SMALL.model(),
        uniform,
        2,
        1,
        start_states=torch.tensor([5, 0]),
        start_actions=torch.tensor([4, 1]),
        generator=g,
    )
    assert ep.states.tolist() == [[5], [0]] and ep.actions.tolist() == [[4], [1]]
    assert ep.rewards.tolist() == [[T], [F]]
    r = gen(13)
    torch.rand(2, generator=r, dtype=F64)
    assert torch.equal(torch.rand(3, generator=g), torch.rand(3, generator=r))


def test_sampling_from_a_row_that_sums_to_slightly_less_than_one():
    """check_policy accepts rows within allclose's tolerance of 1, here 0.5 + (0.5 - 1e-5). A
    uniform u at or above that total has no index whose cumulative probability exceeds it: the
    sampler takes the last action then, never an index past it. Replayed from the seed: the
    2^18 action draws hold such u, and a_0 = 0 exactly where u < 0.5."""
    n = 2**18
    row = [0.5, 0.5 - 1e-5]
    ep = sample_episodes(ONE, t([row]), n, 1, generator=gen(0))
    r = gen(0)
    torch.rand(n, generator=r, dtype=F64)  # the start states (one state)
    u = torch.rand(n, generator=r, dtype=F64)
    assert int((u >= row[0] + row[1]).sum()) > 0
    assert torch.equal(ep.actions[:, 0], (u >= 0.5).long())


def test_mc_evaluate_standard_error_of_two_returns_by_hand():
    """ONE, policy 'always 0', L = 2, every visit, one episode from (0,0): returns
    G_0 = 1 + 0.5 = 1.5 and G_1 = 1 on the pair (0,0): mean 1.25, unbiased variance
    (0.25^2 + 0.25^2) / 1 = 0.125, se = sqrt(0.125 / 2) = 0.25; (0,1) unseen: count 0, se NaN."""
    seed = next(s for s in range(100) if torch.rand(1, generator=gen(s), dtype=F64) < 0.5)
    est = mc_evaluate(ONE, torch.tensor([0]), 1, 2, first_visit=False, generator=gen(seed))
    assert est.counts.tolist() == [[2.0, 0.0]]
    assert est.q.tolist() == [[1.25, 0.0]]
    assert est.se[0, 0].item() == 0.25 and math.isnan(est.se[0, 1].item())
    # first visit: only G_0 = 1.5 counts, a single return: q = 1.5, se NaN
    first = mc_evaluate(ONE, torch.tensor([0]), 1, 2, generator=gen(seed))
    assert first.counts.tolist() == [[1.0, 0.0]] and first.q.tolist() == [[1.5, 0.0]]
    assert math.isnan(first.se[0, 0].item())


def test_mc_results_follow_a_float32_mdp():
    """A float32 MDP gives float32 values, counts and policies (MC Basic, ES, eps-greedy),
    a float64 one float64."""
    one32 = TabularMDP(ONE.P.float(), ONE.R.float(), 0.5)
    basic = mc_basic(one32, 2, generator=gen(0))
    es = mc_exploring_starts(one32, 20, 2, batch_size=10, generator=gen(0))
    eg = mc_epsilon_greedy(one32, 0.2, 20, 2, batch_size=10, generator=gen(0))
    for res in (basic, es, eg):
        assert res.q.dtype == res.counts.dtype == res.policy.dtype == torch.float32
    np.testing.assert_allclose(basic.q.numpy(), [[1.5, 0.7]], rtol=1e-6)
    np.testing.assert_allclose(eg.policy.numpy(), [[0.9, 0.1]], rtol=1e-6)
    est = mc_evaluate(one32, torch.tensor([0]), 10, 2, generator=gen(0))
    assert est.q.dtype == est.se.dtype == torch.float32
    assert mc_basic(ONE, 2, generator=gen(0)).counts.dtype == F64  # and float64 stays float64


def test_mc_control_keeps_a_tied_action():
    """Both actions of a one-state MDP earn 1, so returns of equal length tie. MC Basic (L = 3:
    q = 1 + 0.5 + 0.25 for both) keeps the initial 'stay' (action 1) and stops after one
    iteration; with L = 1 every return is 1, and MC ES and eps-greedy keep 'stay' too."""
    tie = TabularMDP(torch.ones(1, 2, 1, dtype=F64), t([[1.0, 1.0]]), 0.5)
    basic = mc_basic(tie, 3, generator=gen(0))
    assert basic.iterations == 1 and basic.actions.tolist() == [1]
    np.testing.assert_allclose(basic.q.numpy(), [[1.75, 1.75]], rtol=1e-14)
    es = mc_exploring_starts(tie, 40, 1, batch_size=10, generator=gen(0))
    assert es.actions.tolist() == [1] and es.policy.tolist() == [[0.0, 1.0]]
    eg = mc_epsilon_greedy(tie, 0.5, 40, 1, batch_size=10, generator=gen(0))
    assert eg.actions.tolist() == [1] and eg.policy.tolist() == [[0.25, 0.75]]


def test_monte_carlo_messages_in_full():
    """Anchored messages (the name and what came), checked through each public entry point."""
    pi = t([[0.5, 0.5]] * 3)
    with pytest.raises(
        ValueError,
        match=r"^start_actions must be an integer tensor of shape \(2,\), got torch.Size\(\[3\]\)$",
    ):
        sample_episodes(TINY, pi, 2, 2, start_actions=torch.tensor([0, 1, 1]))
    with pytest.raises(
        ValueError,
        match=r"^start_states must be an integer tensor of shape \(2,\), got torch.Size\(\[2\]\)$",
    ):
        sample_episodes(TINY, pi, 2, 2, start_states=t([0.0, 1.0]))
    with pytest.raises(
        ValueError, match=r"^start_states must be an integer tensor of shape \(2,\), got \[0, 1\]$"
    ):
        sample_episodes(TINY, pi, 2, 2, start_states=[0, 1])
    with pytest.raises(ValueError, match=r"^start_actions must lie in \[0, 1\]$"):
        sample_episodes(TINY, pi, 2, 2, start_actions=torch.tensor([0, 2]))
    with pytest.raises(TypeError, match=r"^generator must be a torch.Generator or None, got int$"):
        sample_episodes(TINY, pi, 2, 2, generator=3)
    with pytest.raises(ValueError, match=r"^n_episodes must be >= 1, got 0$"):
        sample_episodes(TINY, pi, 0, 2)
    with pytest.raises(ValueError, match=r"^length must be >= 1, got 0$"):
        sample_episodes(TINY, pi, 2, 0)
    with pytest.raises(ValueError, match=r"^horizon must be <= length=2, got 3$"):
        mc_evaluate(TINY, pi, 5, 2, horizon=3)
    with pytest.raises(ValueError, match=r"^horizon must be >= 1, got 0$"):
        mc_evaluate(TINY, pi, 5, 2, horizon=0)
    with pytest.raises(ValueError, match=r"^n_episodes must be >= 1, got 0$"):
        mc_evaluate(TINY, pi, 0, 2)
    with pytest.raises(ValueError, match=r"^length must be >= 1, got 0$"):
        mc_evaluate(TINY, pi, 5, 0)
    with pytest.raises(TypeError, match=r"^first_visit must be a bool, got NoneType None$"):
        mc_evaluate(TINY, pi, 5, 2, first_visit=None)
    with pytest.raises(ValueError, match=r"^episodes_per_pair must be >= 1, got 0$"):
        mc_basic(TINY, 2, episodes_per_pair=0)
    with pytest.raises(ValueError, match=r"^max_iterations must be >= 1, got 0$"):
        mc_basic(TINY, 2, max_iterations=0)
    with pytest.raises(
        ValueError,
        match=r"^policy0 must be an integer tensor of shape \(3,\), got torch.Size\(\[2\]\)$",
    ):
        mc_basic(TINY, 2, policy0=torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"^epsilon must lie in \[0, 1\], got 2.0$"):
        mc_epsilon_greedy(TINY, 2.0, 5, 2)
    with pytest.raises(ValueError, match=r"^epsilon must lie in \[0, 1\], got -0.1$"):
        epsilon_greedy_policy(torch.tensor([1]), 2, -0.1)
    with pytest.raises(ValueError, match=r"^epsilon must lie in \[0, 1\], got 1.1$"):
        epsilon_soft_mdp(TINY, 1.1)
    kw = {"epsilon": 0.1, "exploring": True, "first_visit": True, "batch_size": 5}
    for bad, error, message in [
        ({"epsilon": 2.0}, ValueError, r"epsilon must lie in \[0, 1\], got 2.0"),
        ({"exploring": 1}, TypeError, r"exploring must be a bool, got int 1"),
        ({"first_visit": "yes"}, TypeError, r"first_visit must be a bool, got str 'yes'"),
        ({"batch_size": 0}, ValueError, r"batch_size must be >= 1, got 0"),
    ]:
        with pytest.raises(error, match=f"^{message}$"):
            mc_control(TINY, 5, 2, **(kw | bad))
    with pytest.raises(ValueError, match=r"^n_episodes must be >= 1, got 0$"):
        mc_control(TINY, 0, 2, **kw)
    with pytest.raises(ValueError, match=r"^length must be >= 1, got 0$"):
        mc_control(TINY, 5, 0, **kw)
    with pytest.raises(ValueError, match=r"^batch_size must be >= 1, got 0$"):
        mc_epsilon_greedy(TINY, 0.1, 5, 2, batch_size=0)
    with pytest.raises(TypeError, match=r"^rewards must be a floating tensor of shape \(N, L\)$"):
        discounted_returns(t([1.0, 2.0]), 0.5)
    with pytest.raises(ValueError, match=r"^gamma must be a finite number in \[0, 1\], got -0.5$"):
        discounted_returns(t([[1.0]]), -0.5)
    with pytest.raises(ValueError, match=r"^horizon must be >= 1, got 0$"):
        discounted_returns(t([[1.0]]), 0.5, 0)


def test_mc_evaluate_starts_are_the_drawn_pairs():
    """mc_evaluate draws n uniforms u first and starts episode i from the pair
    floor(S A u_i) = s * A + a (replayed from the same seed); then the episodes' own draws
    (n L actions, n L successors on TINY). With L = 1 each episode has one first visit: the
    counts are the histogram of the drawn pairs and q = R on every pair seen (also for MC
    Exploring Starts, and for a pair seen once)."""
    n = 40
    pi = t([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    g = gen(21)
    est = mc_evaluate(TINY, pi, n, 1, generator=g)
    r = gen(21)
    pairs = (torch.rand(n, generator=r, dtype=F64).numpy() * 6).astype(int)
    counts = np.bincount(pairs, minlength=6).reshape(3, 2)
    assert est.counts.numpy().tolist() == counts.tolist()
    np.testing.assert_array_equal(est.q.numpy(), np.where(counts > 0, R_NP, 0.0))
    torch.rand(2 * n, generator=r, dtype=F64)
    assert torch.equal(torch.rand(3, generator=g), torch.rand(3, generator=r))
    # MC Exploring Starts draws its start pairs the same way, batch by batch
    es = mc_exploring_starts(TINY, n, 1, batch_size=n, generator=gen(22))
    pairs = (torch.rand(n, generator=gen(22), dtype=F64).numpy() * 6).astype(int)
    counts = np.bincount(pairs, minlength=6).reshape(3, 2)
    assert es.counts.numpy().tolist() == counts.tolist()
    np.testing.assert_array_equal(es.q.numpy(), np.where(counts > 0, R_NP, 0.0))
    # a pair with a single return has that return as its mean
    single = mc_exploring_starts(TINY, 1, 1, generator=gen(23))
    seen = single.counts.numpy() > 0
    assert single.counts.numpy()[seen].tolist() == [1.0]
    assert single.q.numpy()[seen].tolist() == R_NP[seen].tolist()


def test_mc_basic_stops_at_its_default_cap_when_the_policy_cycles():
    """Three-step returns can make MC Basic cycle. gamma = 0.5; in state 0, a0 stays (reward 1),
    a1 moves to the absorbing state 1 (reward 2); state 1 pays -0.25 whatever is done. With
    L = 3, q(0, a1) = 2 - 0.125 - 0.0625 = 1.8125 always, while q(0, a0) = 1 + 0.5 * 2 - 0.0625
    = 1.9375 when the policy takes a1 in state 0 and 1 + 0.5 + 0.25 = 1.75 when it takes a0:
    each policy's greedy successor is the other one. So the loop runs to max_iterations
    (default 100), with history alternating 1.9375, 1.8125."""
    P = torch.zeros(2, 2, 2, dtype=F64)
    P[0, 0, 0] = P[0, 1, 1] = P[1, 0, 1] = P[1, 1, 1] = 1.0
    cycle = TabularMDP(P, t([[1.0, 2.0], [-0.25, -0.25]]), 0.5)
    res = mc_basic(cycle, 3, generator=gen(0))
    assert res.iterations == len(res.history) == 100
    assert [float(h[0]) for h in res.history[:3]] == [1.9375, 1.8125, 1.9375]
    assert res.q.tolist() == [[1.75, 1.8125], [-0.4375, -0.4375]]
    assert mc_basic(cycle, 3, max_iterations=7, generator=gen(0)).iterations == 7


def test_mc_control_default_batch_sizes():
    """MC ES works in batches of 1000 episodes by default, MC eps-greedy in batches of 100:
    one episode more than a batch makes a second, one-episode batch."""
    es = mc_exploring_starts(ONE, 1001, 1, generator=gen(1))
    assert es.iterations == 1001 and len(es.history) == 2
    assert len(mc_exploring_starts(ONE, 1000, 1, generator=gen(1)).history) == 1
    eg = mc_epsilon_greedy(ONE, 0.5, 101, 1, generator=gen(1))
    assert eg.iterations == 101 and len(eg.history) == 2
    assert len(mc_epsilon_greedy(ONE, 0.5, 100, 1, generator=gen(1)).history) == 1


def test_monte_carlo_checks_come_before_any_work():
    """Each entry point checks its own arguments first, so a bad length or horizon is named
    even when another argument (n_episodes, batch_size, the policy) is bad too."""
    pi = t([[0.5, 0.5]] * 3)
    with pytest.raises(ValueError, match=r"^length must be >= 1, got 0$"):
        mc_evaluate(TINY, pi, 5, 0, horizon=1)
    with pytest.raises(ValueError, match=r"^horizon must be >= 1, got 0$"):
        mc_evaluate(TINY, pi, 0, 2, horizon=0)
    with pytest.raises(ValueError, match=r"^n_episodes must be >= 1, got 0$"):
        mc_evaluate(TINY, "no policy", 0, 2)
    with pytest.raises(ValueError, match=r"^length must be >= 1, got 0$"):
        mc_control(TINY, 5, 0, epsilon=0.1, exploring=True, first_visit=True, batch_size=0)


@pytest.mark.gpu
def test_monte_carlo_on_cuda_matches_cpu():
    """Device placement: an MDP on CUDA driven by a CPU generator gives the CPU run's numbers,
    with every result tensor on CUDA (first-visit masks, episodes, MC evaluation, Basic, ES,
    eps-greedy); a CUDA generator drives CUDA draws."""
    cuda = TabularMDP(TINY.P.cuda(), TINY.R.cuda(), GAMMA)
    pi = t([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    states, actions = torch.tensor([[0, 1, 1, 0]]), torch.tensor([[1, 0, 0, 1]])
    mask = first_visit_mask(states.cuda(), actions.cuda(), 2)
    assert mask.is_cuda and torch.equal(mask.cpu(), first_visit_mask(states, actions, 2))
    runs = [
        lambda m: mc_evaluate(m, pi, 30, 4, generator=gen(1)),
        lambda m: mc_basic(m, 3, episodes_per_pair=2, max_iterations=3, generator=gen(2)),
        lambda m: mc_basic(m, 3, policy0=torch.tensor([0, 1, 0]), generator=gen(5)),
        lambda m: mc_exploring_starts(m, 60, 3, batch_size=20, generator=gen(3)),
        lambda m: mc_epsilon_greedy(m, 0.3, 60, 3, batch_size=20, generator=gen(4)),
    ]
    starts = {"start_states": torch.tensor([2, 0, 1]), "start_actions": torch.tensor([1, 1, 0])}
    for kwargs in ({}, starts):
        ep_cpu = sample_episodes(TINY, pi, 3, 5, generator=gen(6), **kwargs)
        ep_cuda = sample_episodes(cuda, pi, 3, 5, generator=gen(6), **kwargs)
        for name in ("states", "actions", "rewards"):
            got = getattr(ep_cuda, name)
            assert got.is_cuda and torch.equal(got.cpu(), getattr(ep_cpu, name)), name
    # a CUDA generator draws on CUDA: reproducible, results on CUDA
    cuda_gen = [mc_evaluate(cuda, pi, 30, 4, generator=torch.Generator("cuda").manual_seed(7))]
    cuda_gen.append(mc_evaluate(cuda, pi, 30, 4, generator=torch.Generator("cuda").manual_seed(7)))
    assert cuda_gen[0].q.is_cuda and torch.equal(cuda_gen[0].q, cuda_gen[1].q)
    for run in runs:
        on_cpu, on_cuda = run(TINY), run(cuda)
        for name in ("q", "counts", "actions", "policy", "se"):
            if hasattr(on_cuda, name):
                got, want = getattr(on_cuda, name), getattr(on_cpu, name)
                assert got.is_cuda, name
                torch.testing.assert_close(got.cpu(), want, rtol=1e-12, atol=1e-12, equal_nan=True)


# ============================================================================ gridworld.py

# A 2 x 3 world by hand: (1,2) forbidden, target (2,3), rewards -2 / -5 / 3 / 0.25.
#   s0 (1,1)  s1 (1,2)=F  s2 (1,3)
#   s3 (2,1)  s4 (2,2)    s5 (2,3)=T
SMALL = GridWorld(
    2,
    3,
    forbidden=[(1, 2)],
    target=(2, 3),
    r_boundary=-2,
    r_forbidden=-5.0,
    r_target=3.0,
    r_other=0.25,
    gamma=0.5,
)
B, F, T, O = -2.0, -5.0, 3.0, 0.25
# (next state, reward) for up, right, down, left, stay (1.1)-(1.2), worked out on the picture
SMALL_TABLE = [
    [(0, B), (1, F), (3, O), (0, B), (0, O)],
    [(1, B), (2, O), (4, O), (0, O), (1, F)],
    [(2, B), (2, B), (5, T), (1, F), (2, O)],
    [(0, O), (4, O), (3, B), (3, B), (3, O)],
    [(1, F), (5, T), (4, B), (3, O), (4, O)],
    [(2, O), (5, B), (5, B), (4, O), (5, T)],
]


def test_small_world_steps_and_model_by_hand():
    """Both routes, transition and the tensor model, give the hand table of a 2 x 3 world
    (more columns than rows; bouncing off the boundary beside the target costs r_boundary,
    staying in the target earns r_target; the forbidden cell can be entered and stayed in)."""
    assert SMALL.n_states == 6 and SMALL.n_actions == 5
    assert [SMALL.cell(s) for s in range(6)] == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]
    assert SMALL.state((2, 1)) == 3 and SMALL.state([1, 3]) == 2
    mdp = SMALL.model()
    assert mdp.P.dtype == F64 and mdp.R.dtype == F64 and mdp.gamma == 0.5
    P = torch.zeros(6, 5, 6, dtype=F64)
    R = torch.zeros(6, 5, dtype=F64)
    for s, row in enumerate(SMALL_TABLE):
        for a, (s2, r) in enumerate(row):
            assert SMALL.transition(s, a) == (s2, r), (s, a)
            P[s, a, s2], R[s, a] = 1.0, r
    assert torch.equal(mdp.P, P) and torch.equal(mdp.R, R)
    m32 = SMALL.model(dtype=torch.float32)
    assert m32.P.dtype == m32.R.dtype == torch.float32
    assert torch.equal(m32.R.double(), R) and torch.equal(m32.P.double(), P)
    assert SMALL.as_grid(torch.arange(6)).tolist() == [[0, 1, 2], [3, 4, 5]]


def test_grid_world_normalises_its_configuration():
    """Rewards become floats, cells tuples; forbidden cells are deduplicated and sorted; a list
    is a cell too; the rewards map r -> alpha r + beta, the rest is kept."""
    assert SMALL.r_boundary == -2.0 and isinstance(SMALL.r_boundary, float)
    assert SMALL.forbidden == ((1, 2),)
    w = GridWorld(3, 2, forbidden=[(3, 1), [1, 2], (3, 1)], target=[2, 2])
    assert w.forbidden == ((1, 2), (3, 1)) and w.target == (2, 2)
    assert (w.rows, w.columns, w.n_states) == (3, 2, 6)
    assert GridWorld(1, 1, forbidden=(), target=(1, 1)).model().P.shape == (1, 5, 1)
    numpy_ints = GridWorld(np.int64(2), np.int64(3), forbidden=(), target=(1, 1), gamma=0)
    assert type(numpy_ints.rows) is int and type(numpy_ints.columns) is int
    assert type(numpy_ints.gamma) is float and numpy_ints.gamma == 0.0
    moved = SMALL.with_rewards(2.0, 1.0)
    assert (moved.r_boundary, moved.r_forbidden, moved.r_target, moved.r_other) == (
        -3.0,
        -9.0,
        7.0,
        1.5,
    )
    assert (moved.rows, moved.columns, moved.forbidden, moved.target, moved.gamma) == (
        2,
        3,
        ((1, 2),),
        (2, 3),
        0.5,
    )


def test_deterministic_policy_and_check_policy():
    """One-hot rows; defaults: 5 actions, float64. check_policy turns an integer policy into
    that one-hot in the MDP's dtype, and a float32 stochastic one into the MDP's dtype."""
    pi = deterministic_policy(torch.tensor([4, 0, 2]))
    assert pi.dtype == F64 and pi.tolist() == [
        [0, 0, 0, 0, 1],
        [1, 0, 0, 0, 0],
        [0, 0, 1, 0, 0],
    ]
    assert deterministic_policy(torch.tensor([1]), 2, dtype=torch.float32).dtype == torch.float32
    mdp32 = SMALL.model(dtype=torch.float32)
    one_hot = check_policy(torch.tensor([4, 0, 1, 2, 3, 4]), mdp32)
    assert one_hot.dtype == torch.float32 and one_hot.argmax(1).tolist() == [4, 0, 1, 2, 3, 4]
    soft = check_policy(torch.full((3, 2), 0.5, dtype=torch.float32), TINY)
    assert soft.dtype == F64 and soft.tolist() == [[0.5, 0.5]] * 3
    # rows pass within allclose's atol + rtol = 1e-6 + 1e-5 of 1 (1.05e-5 off: only just)
    near = t([[0.5, 0.5 + 1.05e-5]] * 3)
    assert torch.equal(check_policy(near, TINY), near)
    with pytest.raises(ValueError, match=r"^each row of policy must be a probability vector"):
        check_policy(t([[0.5, 0.5 + 1.15e-5]] * 3), TINY)


@pytest.mark.gpu
def test_grid_world_model_and_policies_on_cuda():
    """model(device="cuda") puts P and R on CUDA; check_policy moves a CPU policy, integer or
    stochastic, to the MDP's device."""
    mdp = SMALL.model(device="cuda")
    assert mdp.P.is_cuda and mdp.R.is_cuda
    assert torch.equal(mdp.P.cpu(), SMALL.model().P) and torch.equal(mdp.R.cpu(), SMALL.model().R)
    assert check_policy(torch.tensor([4, 0, 1, 2, 3, 4]), mdp).is_cuda
    assert check_policy(torch.full((6, 5), 0.2, dtype=torch.float32), mdp).is_cuda


def test_grid_world_bad_inputs_name_the_problem():
    """Full messages of every check in gridworld.py, with the bounds: cells 1..rows and
    1..columns, states 0..S-1, actions 0..4."""
    cases = [
        ({"rows": 0}, ValueError, r"rows must be >= 1, got 0"),
        ({"columns": 0}, ValueError, r"columns must be >= 1, got 0"),
        (
            {"forbidden": 5},
            TypeError,
            r"forbidden must be a sequence of \(row, column\) cells, got 5",
        ),
        (
            {"forbidden": b"ab"},
            TypeError,
            r"forbidden must be a sequence of \(row, column\) cells, got b'ab'",
        ),
        (
            {"forbidden": [(1, 6)]},
            ValueError,
            r"forbidden cell \(1, 6\) is not a cell of the 5x5 grid "
            r"\(rows 1\.\.5, columns 1\.\.5, counted from 1 at the top left\)",
        ),
        (
            {"target": (6, 1)},
            ValueError,
            r"target \(6, 1\) is not a cell of the 5x5 grid "
            r"\(rows 1\.\.5, columns 1\.\.5, counted from 1 at the top left\)",
        ),
        (
            {"target": (True, 1)},
            TypeError,
            r"target must be a \(row, column\) pair of ints, got \(True, 1\)",
        ),
        ({"target": "ab"}, TypeError, r"target must be a \(row, column\) pair of ints, got 'ab'"),
        ({"target": (2, 2)}, ValueError, r"the target \(2, 2\) must not be a forbidden cell"),
        ({"r_forbidden": "x"}, TypeError, r"r_forbidden must be a real number, got str 'x'"),
        (
            {"r_target": math.inf},
            ValueError,
            r"r_target must be a finite number in \(-inf, inf\), got inf",
        ),
        ({"gamma": 1.0}, ValueError, r"gamma must be a finite number in \[0, 1\), got 1\.0"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=f"^{message}$"):
            GridWorld(**kwargs)
    assert GridWorld(target=(5, 5)).target == (5, 5)  # the last row and column are cells
    w = GridWorld(2, 3, forbidden=(), target=(1, 1))
    with pytest.raises(ValueError, match=r"^s must be a state in \[0, 5\], got 6$"):
        w.cell(6)
    with pytest.raises(ValueError, match=r"^s must be >= 0, got -1$"):
        w.cell(-1)
    with pytest.raises(ValueError, match=r"^a must be an action in \[0, 4\], got 5$"):
        w.transition(0, 5)
    with pytest.raises(ValueError, match=r"^a must be >= 0, got -1$"):
        w.transition(0, -1)
    with pytest.raises(ValueError, match=r"^values must be a tensor of shape \(6,\), got \(5,\)$"):
        w.as_grid(torch.zeros(5))
    with pytest.raises(ValueError, match=r"^values must be a tensor of shape \(6,\), got list$"):
        w.as_grid([0.0] * 6)
    with pytest.raises(
        ValueError,
        match=r"^cell \(3, 1\) is not a cell of the 2x3 grid \(rows 1\.\.2, columns 1\.\.3, "
        r"counted from 1 at the top left\)$",
    ):
        w.state((3, 1))


def test_check_mdp_and_check_policy_messages():
    """Full messages of the model and policy checks; rows of P and of a policy must be >= 0
    (a row (1.5, -0.5) sums to 1 and is still refused) and sum to 1 within torch.allclose's
    atol + rtol = 1e-6 + 1e-5."""
    P, R = TINY.P, TINY.R
    with pytest.raises(
        TypeError, match=r"^mdp must be a TabularMDP \(GridWorld.model\(\)\), got str$"
    ):
        check_mdp("mdp")
    for bad_P in (P[:, :, :2], P[0]):
        with pytest.raises(
            ValueError,
            match=rf"^P must have shape \(S, A, S\), got {re.escape(str(tuple(bad_P.shape)))}$",
        ):
            check_mdp(TabularMDP(bad_P, R, 0.5))
    with pytest.raises(ValueError, match=r"^R must have shape \(3, 2\) \(S, A\), got \(3, 3\)$"):
        check_mdp(TabularMDP(P, torch.zeros(3, 3, dtype=F64), 0.5))
    with pytest.raises(
        TypeError, match=r"^P and R must be floating point, got torch.float64 and torch.int64$"
    ):
        check_mdp(TabularMDP(P, R.long(), 0.5))
    with pytest.raises(
        TypeError, match=r"^P and R must be floating point, got torch.int64 and torch.float64$"
    ):
        check_mdp(TabularMDP(P.long(), R, 0.5))
    row = r"^every row P\[s, a, :\] must be a probability vector \(>= 0, sum 1\)$"
    for bad in (t([[1.5, -0.5]]), t([[0.6, 0.401]])):
        with pytest.raises(ValueError, match=row):
            check_mdp(
                TabularMDP(bad.reshape(1, 1, 2).expand(2, 1, 2), torch.zeros(2, 1, dtype=F64), 0.5)
            )
    ok = t([[0.5, 0.5 - 1.05e-5]]).reshape(1, 1, 2).expand(2, 1, 2)  # within 1e-6 + 1e-5
    assert check_mdp(TabularMDP(ok, torch.zeros(2, 1, dtype=F64), 0.0)).gamma == 0.0
    off = t([[0.5, 0.5 - 1.15e-5]]).reshape(1, 1, 2).expand(2, 1, 2)
    with pytest.raises(ValueError, match=row):
        check_mdp(TabularMDP(off, torch.zeros(2, 1, dtype=F64), 0.0))
    with pytest.raises(ValueError, match=r"^gamma must be a finite number in \[0, 1\), got 1$"):
        check_mdp(TabularMDP(P, R, 1))
    with pytest.raises(
        TypeError, match=r"^pi must be a torch.Tensor \(S, A\) or \(S,\), got list$"
    ):
        check_policy([0, 1, 0], TINY, "pi")
    with pytest.raises(
        TypeError, match=r"^policy must be a torch.Tensor \(S, A\) or \(S,\), got tuple$"
    ):
        check_policy((0, 1, 0), TINY)
    with pytest.raises(ValueError, match=r"^an integer pi must have shape \(3,\), got \(2,\)$"):
        check_policy(torch.tensor([0, 1]), TINY, "pi")
    with pytest.raises(ValueError, match=r"^pi must have shape \(3, 2\), got \(3, 3\)$"):
        check_policy(torch.full((3, 3), 1 / 3, dtype=F64), TINY, "pi")
    for bad in (t([[1.5, -0.5]] * 3), t([[0.6, 0.401]] * 3)):
        with pytest.raises(
            ValueError, match=r"^each row of pi must be a probability vector \(>= 0, sum 1\)$"
        ):
            check_policy(bad, TINY, "pi")
    with pytest.raises(
        TypeError, match=r"^actions must be a 1-D integer tensor of action indices$"
    ):
        deterministic_policy(torch.zeros(2, 1, dtype=torch.long))
    with pytest.raises(
        TypeError, match=r"^actions must be a 1-D integer tensor of action indices$"
    ):
        deterministic_policy(t([0.0]))
    with pytest.raises(ValueError, match=r"^n_actions must be >= 1, got 0$"):
        deterministic_policy(torch.tensor([0]), 0)
    with pytest.raises(ValueError, match=r"^actions must lie in \[0, 4\], got \[-1, 2\]$"):
        deterministic_policy(torch.tensor([-1, 2]))
    with pytest.raises(ValueError, match=r"^actions must lie in \[0, 2\], got \[3\]$"):
        deterministic_policy(torch.tensor([3]), 3)
    assert deterministic_policy(torch.zeros(0, dtype=torch.long)).shape == (0, 5)
