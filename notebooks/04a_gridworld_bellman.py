# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,slideshow,-all
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # Chapter 04a · The grid world and the Bellman equations
#
# An agent walks on a 5×5 grid. Some cells are forbidden (it may enter them, at a price),
# one cell is the target, and every step pays a reward. How good is a policy, and which
# policy is best? This notebook answers both questions with the **Bellman equation** (the
# value of a policy) and the **Bellman optimality equation** (the best values), each solved
# two ways, with a check cell after every step that fails if the math is wrong. Notebook 04b
# then learns the same values from sampled episodes (Monte Carlo).
#
# **Learning goals.** After this notebook you can
# 1. write a finite MDP as tensors $P[s, a, s']$, $R[s, a]$ and step it as a `gymnasium.Env`;
# 2. compute discounted returns, state values and action values of a policy;
# 3. solve the Bellman equation in closed form $v = (I - \gamma P_\pi)^{-1} r_\pi$ and iteratively;
# 4. prove numerically that the Bellman optimality operator is a $\gamma$-contraction;
# 5. run value iteration, policy iteration and truncated policy iteration to the same optimum;
# 6. predict how $\gamma$, $r_\text{forbidden}$ and an affine reward change $r \to \alpha r + \beta$ act on the optimal policy.
#
# **Prerequisites.** Linear algebra (matrix inverse, max norm), conditional expectation, a
# little PyTorch. Chapter 03 (mean estimation) helps for 04b.
#
# **Runtime.** Fast mode (`COURSE_FAST=1`, as in CI): about 15 s on a 2-core CPU. Full mode:
# about the same (everything here is exact linear algebra on 25 states).
#
# **Mode.** The set-up cell prints the mode this run uses: *fast* on a CPU, *full* where a GPU
# is present. To switch, start JupyterLab with `COURSE_FAST=0 make lab` (full) or
# `COURSE_FAST=1 make lab` (fast), or run `%env COURSE_FAST=0` before the set-up cell.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import torch
from gymnasium.utils.env_checker import check_env
from IPython.display import display

from course_lib import runtime
from course_lib.checks import assert_close, check, hint  # noqa: F401
from course_lib.rl import (
    GridWorld,
    action_values,
    bellman_optimality_step,
    policy_evaluation,
    policy_iteration,
    policy_matrices,
    truncated_policy_iteration,
    value_iteration,
    viz,
)
from course_lib.rl.env import GridWorldEnv
from course_lib.source import show_source

gen = runtime.seed_all(0)
print(runtime.describe())
torch.set_printoptions(precision=3, sci_mode=False)

# %% [markdown] slideshow={"slide_type": "notes"}
# **Lecture plan (45 min; speaker notes, not projected).** §1 the grid world and its
# model tensors (5 min) · §2 returns and the Bellman equation, closed form and iteration (10) ·
# action values (3) · §3 the Bellman optimality equation and value iteration (8) · §4 policy
# iteration and truncated policy iteration (6) · §5 what the optimal policy depends on, affine
# reward changes (6) · widget (a), the grid-world editor (4) · exercise 04.1 live (3). Skipped:
# listings, the returns check of (2.2), the brute-force value iteration, the forbidden-visits
# check, exercises 04.2–04.5.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1 · The grid world
#
# Cells are $(\text{row}, \text{column})$, counted from 1 at the top left; state
# $s = (\text{row}-1)\cdot 5 + (\text{column}-1)$. The five actions, in this order, are
#
# $$a_0 = \uparrow,\quad a_1 = \rightarrow,\quad a_2 = \downarrow,\quad a_3 = \leftarrow,\quad a_4 = \text{stay}. \tag{1.1}$$
#
# Moves are deterministic. The reward of a step is (1.2): $r_\text{boundary} = -1$ if the
# move would leave the grid (the agent is bounced back); else $r_\text{target} = +1$ if the
# next cell is the target (entering it or staying in it); else $r_\text{forbidden} = -1$ if
# it is forbidden; else $r_\text{other} = 0$. The task goes on after the target: no terminal
# state. Discount $\gamma = 0.9$. The rule, as the library writes it:

# %%
world = GridWorld()
display(show_source(GridWorld.transition, "step-rule"))
display(viz.grid_figure(world, title="the classic world: forbidden cells shaded, target blue"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# The model as tensors: $P[s, a, s']$ is the probability of $s'$ after action $a$ in $s$
# (one-hot rows here) and $R[s, a]$ the expected reward. `GridWorld.model()` builds both
# with tensor operations for all pairs at once, a second implementation of (1.1)–(1.2).
#
# **Check (1.1)–(1.2).** The tensor model agrees with the cell-by-cell rule for all 125
# pairs, and a `gymnasium.Env` that steps with the rule passes gymnasium's own checker and
# agrees transition by transition.

# %%
mdp = world.model()
S, A = mdp.n_states, mdp.n_actions
env = GridWorldEnv(world)
check_env(env, skip_render_check=True)
for s in range(S):
    for a in range(A):
        s_rule, r_rule = world.transition(s, a)
        env.reset(options={"start": world.cell(s)})
        s_env, r_env, terminated, truncated, _ = env.step(a)
        assert mdp.P[s, a, s_rule] == 1 and mdp.R[s, a] == r_rule
        assert (s_env, r_env, terminated) == (s_rule, r_rule, False)
print(f"P: {tuple(mdp.P.shape)}, R: {tuple(mdp.R.shape)}; model, rule and gymnasium env agree")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2 · Returns and the Bellman equation
#
# Along a trajectory the discounted return is $G_t = R_{t+1} + \gamma R_{t+2} + \gamma^2 R_{t+3} + \dots$,
# and the state value of a policy $\pi$ is $v_\pi(s) = \mathbb E[G_t \mid S_t = s]$. Since
# $G_t = R_{t+1} + \gamma G_{t+1}$, with
#
# $$r_\pi(s) = \sum_a \pi(a|s) R(s, a),\qquad P_\pi(s, s') = \sum_a \pi(a|s) P(s, a, s') \tag{2.1}$$
#
# the values satisfy the **Bellman equation** in matrix form,
#
# $$v_\pi = r_\pi + \gamma P_\pi v_\pi, \tag{2.2}$$
#
# a linear system with the closed-form solution ($I - \gamma P_\pi$ is invertible because
# $\|\gamma P_\pi\|_\infty = \gamma < 1$)
#
# $$v_\pi = (I - \gamma P_\pi)^{-1} r_\pi, \tag{2.3}$$
#
# and the iterative solution $v_{k+1} = r_\pi + \gamma P_\pi v_k \to v_\pi$. (2.4)

# %% slideshow={"slide_type": "skip"}
display(show_source(policy_evaluation, "closed-form"), show_source(policy_evaluation, "iterative"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# Take a stochastic policy: the uniform random one, and a deterministic one (the optimal
# policy of section 3; any would do).
#
# **Check (2.3) = (2.4).** Closed form and iteration agree for both policies.

# %%
uniform = torch.full((S, A), 1 / A, dtype=torch.float64)
greedy = value_iteration(mdp).actions  # a deterministic policy, as action indices
for name, pi in [("uniform", uniform), ("deterministic", greedy)]:
    v_closed = policy_evaluation(mdp, pi)
    v_iter = policy_evaluation(mdp, pi, method="iterative", tol=1e-13)
    assert_close(v_iter, v_closed, atol=1e-10, label=f"{name}: iterative (2.4) vs closed (2.3)")
v_uniform = policy_evaluation(mdp, uniform)
print(world.as_grid(v_uniform))

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (2.2) against returns.** An independent route: roll the deterministic policy out
# in the gymnasium environment for 400 steps from every start cell and add up the discounted
# rewards; the neglected tail is at most $\gamma^{400}\max|r|/(1-\gamma) \approx 10^{-17}$.

# %% slideshow={"slide_type": "skip"}
v_det = policy_evaluation(mdp, greedy)
returns = torch.zeros(S, dtype=torch.float64)
rollout = GridWorldEnv(world, max_episode_steps=400)
for s in range(S):
    obs, _ = rollout.reset(options={"start": world.cell(s)})
    for t in range(400):
        obs, r, _, _, _ = rollout.step(int(greedy[obs]))
        returns[s] += world.gamma**t * r
assert_close(returns, v_det, atol=1e-9, label="discounted returns of rollouts vs (2.3)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Action values
#
# The action value is the return after taking $a$ in $s$ and following $\pi$ afterwards:
#
# $$q_\pi(s, a) = R(s, a) + \gamma \sum_{s'} P(s, a, s')\, v_\pi(s'), \qquad v_\pi(s) = \sum_a \pi(a|s)\, q_\pi(s, a). \tag{2.5}$$
#
# **Check (2.5).** Averaging $q_\pi$ over the policy gives back $v_\pi$ for the uniform
# policy, and for the deterministic policy $q_\pi(s, \pi(s)) = v_\pi(s)$.

# %%
q_uniform = action_values(mdp, v_uniform)
assert_close((uniform * q_uniform).sum(1), v_uniform, atol=1e-10, label="sum_a pi q = v (uniform)")
q_det = action_values(mdp, v_det)
assert_close(
    q_det.gather(1, greedy[:, None]).squeeze(1), v_det, atol=1e-10, label="q(s, pi(s)) = v"
)
r_pi, P_pi = policy_matrices(mdp, uniform)
assert_close(P_pi.sum(1), torch.ones(S, dtype=torch.float64), label="rows of P_pi sum to 1")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3 · The Bellman optimality equation
#
# The best values satisfy the **Bellman optimality equation** $v = T v$ with
#
# $$(T v)(s) = \max_a \Big[R(s, a) + \gamma \sum_{s'} P(s, a, s')\, v(s')\Big]. \tag{3.1}$$
#
# $T$ is a contraction of modulus $\gamma$ in the max norm: since
# $|\max_a x_a - \max_a y_a| \le \max_a |x_a - y_a|$,
#
# $$\|T v - T w\|_\infty \le \gamma\, \|v - w\|_\infty, \tag{3.2}$$
#
# so (Banach) it has one fixed point $v^*$ and **value iteration** $v_{k+1} = T v_k$ (3.3)
# converges to it from any start, with $\|v_k - v^*\|_\infty \le \gamma^k \|v_0 - v^*\|_\infty$.
#
# **Check (3.2).** Random pairs $v, w$: the ratio $\|Tv - Tw\|/\|v - w\|$ never exceeds $\gamma$.

# %% slideshow={"slide_type": "fragment"}
ratios = []
for _ in range(200):
    v1 = 10 * torch.randn(S, generator=gen, dtype=torch.float64)
    v2 = 10 * torch.randn(S, generator=gen, dtype=torch.float64)
    t1, _ = bellman_optimality_step(mdp, v1)
    t2, _ = bellman_optimality_step(mdp, v2)
    ratios.append(float((t1 - t2).abs().max() / (v1 - v2).abs().max()))
print(f"largest ratio over 200 pairs: {max(ratios):.4f} (gamma = {world.gamma})")
assert max(ratios) <= world.gamma + 1e-12

# %% slideshow={"slide_type": "skip"}
display(show_source(value_iteration, "value-iteration"))
vi = value_iteration(mdp, tol=1e-13)
print(f"value iteration: {vi.iterations} sweeps to ||v_k+1 - v_k|| <= 1e-13")
display(viz.grid_figure(world, vi.v, vi.actions, "v* and an optimal policy (value iteration)"))

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (3.3) against brute force.** An independent route: value iteration in plain
# Python floats over `world.transition` (no tensors, no `P`), run to $10^{-12}$; and the
# error of the tensor iterates shrinks at least by $\gamma$ per sweep. Finally, the greedy
# policy of $v^*$ evaluated in closed form (2.3) has the values $v^*$: it is optimal.

# %% slideshow={"slide_type": "skip"}
v_brute = [0.0] * S
while True:
    new = [
        max(r + world.gamma * v_brute[s2] for s2, r in (world.transition(s, a) for a in range(A)))
        for s in range(S)
    ]
    done = max(abs(x - y) for x, y in zip(new, v_brute, strict=True)) <= 1e-12
    v_brute = new
    if done:
        break
assert_close(vi.v, v_brute, atol=1e-10, label="tensor VI vs plain-Python VI")
v_k, err = torch.zeros(S, dtype=torch.float64), float(vi.v.abs().max())
for _ in range(50):
    v_k, _ = bellman_optimality_step(mdp, v_k)
    new_err = float((v_k - vi.v).abs().max())
    assert new_err <= world.gamma * err + 1e-12
    err = new_err
assert_close(policy_evaluation(mdp, vi.actions), vi.v, atol=1e-10, label="v_(greedy policy) = v*")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4 · Policy iteration and truncated policy iteration
#
# **Policy iteration** (3.4) alternates exact evaluation (2.3) with greedy improvement
# $\pi_{k+1}(s) \in \arg\max_a q_{\pi_k}(s, a)$; each improvement cannot lower any value
# and there are finitely many deterministic policies, so it stops at an optimal one.
# **Truncated policy iteration** (3.5) replaces exact evaluation by $j$ sweeps of (2.4)
# from the previous values: $j = 1$ is value iteration, $j \to \infty$ policy iteration.

# %% slideshow={"slide_type": "skip"}
display(
    show_source(policy_iteration, "policy-iteration"),
    show_source(truncated_policy_iteration, "truncated"),
)

# %% [markdown]
# **Check.** The three algorithms reach the same optimal values (and their policies, evaluated
# exactly, have those values); policy iteration needs the fewest iterations.

# %%
pi_res = policy_iteration(mdp)
assert_close(pi_res.v, vi.v, atol=1e-9, label="policy iteration vs value iteration")
counts = {"value iteration": vi.iterations, "policy iteration": pi_res.iterations}
for j in (2, 5, 20):
    tpi = truncated_policy_iteration(mdp, j, tol=1e-12)
    assert_close(tpi.v, vi.v, atol=1e-9, label=f"truncated PI, j = {j}")
    assert_close(policy_evaluation(mdp, tpi.actions), vi.v, atol=1e-9, label=f"its policy, j = {j}")
    counts[f"truncated PI, j = {j}"] = tpi.iterations
print(counts)
assert counts["policy iteration"] < counts["truncated PI, j = 20"] < counts["value iteration"]

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5 · What the optimal policy depends on
#
# **The discount rate.** With $\gamma = 0.9$ the agent is far-sighted: some optimal paths
# cut through forbidden cells (pay $-1$ once, reach the target sooner). With $\gamma = 0.5$
# the target's future rewards are worth little, and the optimal policy never enters a
# forbidden cell. **The forbidden reward.** With $r_\text{forbidden} = -10$ the agent
# detours around forbidden cells too.

# %%
display(viz.optimal_policy_figure(gamma=0.5))
display(viz.optimal_policy_figure(r_forbidden=-10.0))

# %% [markdown] slideshow={"slide_type": "notes"}
# **Notes for §5.** Two misconceptions. "The optimal policy depends on the reward
# values": an affine change $\alpha r + \beta$ with $\alpha > 0$ leaves it unchanged and only moves
# the values (3.6), checked on the next slide. "A larger $\gamma$ is always better": $\gamma$
# changes *which* policy is optimal, not just how fast value iteration converges; in the left
# figure the short-sighted agent ($\gamma = 0.5$) never enters a forbidden cell (the skipped
# forbidden-visits check asserts it). Then open the editor widget and try $\gamma = 0.5$ live.

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check.** Follow each optimal policy for 10 steps from every start cell and count the
# visits to forbidden cells.


# %% slideshow={"slide_type": "skip"}
def forbidden_visits(w: GridWorld, actions: torch.Tensor, steps: int = 10) -> int:
    visits = 0
    for s in range(w.n_states):
        for _ in range(steps):
            s, _ = w.transition(s, int(actions[s]))
            visits += w.cell(s) in w.forbidden
    return visits


visits = {}
for label, w in [
    ("gamma 0.9, r_forbidden -1", world),
    ("gamma 0.5, r_forbidden -1", GridWorld(gamma=0.5)),
    ("gamma 0.9, r_forbidden -10", GridWorld(r_forbidden=-10.0)),
]:
    visits[label] = forbidden_visits(w, value_iteration(w.model(), tol=1e-13).actions)
print(visits)
assert visits["gamma 0.9, r_forbidden -1"] > 0
assert visits["gamma 0.5, r_forbidden -1"] == visits["gamma 0.9, r_forbidden -10"] == 0

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Affine reward changes
#
# If every reward becomes $\alpha r + \beta$ with $\alpha > 0$, every return of every policy
# becomes $\alpha G + \beta/(1 - \gamma)$, the same for all actions. So the optimal policies do
# not change and
#
# $$v^{*\prime} = \alpha v^* + \frac{\beta}{1 - \gamma}. \tag{3.6}$$
#
# **Check (3.6).** Solve the changed world from scratch and compare; the old optimal policy
# is still optimal in the new world.

# %%
for alpha, beta in [(2.0, 1.0), (0.5, -3.0), (5.0, 10.0)]:
    changed = world.with_rewards(alpha, beta).model()
    v_new = value_iteration(changed, tol=1e-13).v
    assert_close(
        v_new,
        alpha * vi.v + beta / (1 - world.gamma),
        atol=1e-8,
        label=f"(3.6) a={alpha}, b={beta}",
    )
    assert_close(
        policy_evaluation(changed, vi.actions), v_new, atol=1e-8, label="old policy optimal"
    )

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Widget (a): the grid-world editor
# Pick a cell and toggle it forbidden (or make it the target); move $\gamma$ and the
# rewards. The optimal values and policy arrows are recomputed by value iteration. Try
# $\gamma = 0.5$, then $r_\text{forbidden} = -10$, then a wall of forbidden cells.

# %%
# NBVAL_IGNORE_OUTPUT
viz.gridworld_editor_widget()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# Each exercise ends in `check(id, answer)`, which says whether your answer is right and,
# when it recognises the mistake, its kind (sign, factor of two, off by one, not an integer);
# it never shows the expected value. Stuck? `hint("04.1")` prints a first hint; call it again
# for the next one. Replace `None` with your answer. Worked solutions:
# `solutions/04a_gridworld_bellman_solutions.ipynb`.
#
# **04.1** In the classic world ($\gamma = 0.9$) an agent in cell (4,1) moves right into the
# forbidden cell (4,2), then right into the target (4,3), and then stays there forever. What
# is the state value of (4,1) under this policy? Compute the return by hand.
# Answer: a float, to 4 significant digits.

# %%
answer = None
check("04.1", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **04.2** A 1×2 world: cell (1,1) and the target (1,2), no forbidden cells, $r_\text{target} = 1$,
# $r_\text{other} = 0$. The policy moves right in (1,1) and left in (1,2). Write a function
# `v11(gamma)` returning the state value of (1,1) for this policy, derived from the Bellman
# equation (2.2).
# Answer: a function `v11(gamma) -> float`, to 9 significant digits.

# %% slideshow={"slide_type": "skip"}
v11 = None
check("04.2", v11)

# %% [markdown] slideshow={"slide_type": "skip"}
# **04.3** A 1×4 world (one row): target (1,4), forbidden cell (1,3), $r_\text{forbidden} =
# r_\text{boundary} = -1$, $r_\text{target} = 1$, $r_\text{other} = 0$, $\gamma = 0.9$. What is
# the optimal state value $v^*((1,1))$?
# Answer: a float, to 4 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("04.3", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **04.4** Every reward of the classic world is replaced by $2r + 1$ ($\gamma$ stays 0.9).
# What is the new optimal value of the top-left cell (1,1)? Use (3.6) rather than a new value
# iteration (then check with one).
# Answer: a float, to 4 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("04.4", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **04.5** Value iteration in the classic world starts from $v_0 = 0$, so
# $\|v_0 - v^*\|_\infty = \max_s |v^*(s)|$. Using only the contraction bound
# $\|v_k - v^*\|_\infty \le \gamma^k \|v_0 - v^*\|_\infty$, what is the smallest number of
# sweeps $k$ that guarantees an error of at most $10^{-3}$?
# Answer: an integer.

# %% slideshow={"slide_type": "skip"}
answer = None
check("04.5", answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# * A finite MDP is two tensors, $P[s, a, s']$ and $R[s, a]$, plus $\gamma$; the same dynamics
#   run as a `gymnasium.Env` for other RL code.
# * The Bellman equation $v_\pi = r_\pi + \gamma P_\pi v_\pi$ is linear: closed form
#   $(I - \gamma P_\pi)^{-1} r_\pi$ or iteration; $q_\pi$ follows from $v_\pi$ in one step.
# * The optimality operator is a $\gamma$-contraction, so value iteration converges
#   geometrically; policy iteration and truncated policy iteration reach the same $v^*$.
# * $\gamma$ sets the horizon (0.5: the agent avoids every forbidden cell; 0.9: it cuts
#   through some), as does the price of forbidden cells; an affine reward change
#   $\alpha r + \beta$ ($\alpha > 0$) leaves optimal policies alone and maps $v^* \to \alpha v^* + \beta/(1-\gamma)$.
#
# ## References
#
# S. Zhao, *Mathematical Foundations of Reinforcement Learning*, Springer /
# Tsinghua University Press, 2025, chapters 1–4 (the grid world, Bellman equation, Bellman
# optimality equation, value and policy iteration). R. S. Sutton and A. G. Barto,
# *Reinforcement Learning: An Introduction*, 2nd ed., MIT Press, 2018, chapters 3–4.
# Gymnasium documentation, `gymnasium.Env` and `utils.env_checker`.
