"""Checks that fail on small wrong changes to Chapter 04's formulas (issue 16, mutation testing).

Each test pins a behaviour that the main tests left free, against an independent route: a
tiny stochastic MDP solved with numpy (the linear solve (I - gamma P_pi)^-1 r_pi, loops over
s, a, s') and a brute-force search over all its deterministic policies; a discount other
than the grid world's 0.9; ties and the tolerance boundary of the greedy choice; iteration
counts and their limits; Monte Carlo returns on a one-state MDP whose episodes are
few enough to write down by hand (first-visit vs every-visit, horizons, running means over
batches); sampling laws within standard errors; epsilon-greedy probabilities; error
messages; and that a seeded generator (never the global RNG) drives every simulation.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from course_lib.rl import (
    PlanningResult,
    TabularMDP,
    action_values,
    bellman_expectation_step,
    bellman_optimality_step,
    greedy_actions,
    policy_evaluation,
    policy_iteration,
    policy_matrices,
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
        bellman_expectation_step(TINY, t(STOCH_PI), t(v)).numpy(), r_np + GAMMA * P_np @ v, rtol=1e-14
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
    with pytest.raises(ValueError, match=r"q must be a tensor of shape \(S, A\)"):
        greedy_actions(torch.zeros(3))


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
    with pytest.raises(ValueError, match=r"value iteration did not reach tol=1e-10 in 3 iterations"):
        value_iteration(TINY, max_iterations=3)
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
    with pytest.raises(ValueError, match=r"truncated policy iteration did not reach tol=1e-10 in 2"):
        truncated_policy_iteration(TINY, 1, max_iterations=2)
    with pytest.raises(ValueError, match="n_sweeps must be >= 1"):
        truncated_policy_iteration(TINY, 0)
    start = truncated_policy_iteration(TINY, 1, policy0=torch.tensor([0, 0, 0]), max_iterations=1, tol=1e3)
    r0, _ = np_policy_matrices(np.eye(2)[[0, 0, 0]])
    np.testing.assert_allclose(start.v.numpy(), r0, rtol=1e-14)


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
