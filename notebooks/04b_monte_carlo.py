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
# # Chapter 04b · Monte Carlo reinforcement learning
#
# Notebook 04a computed values from the model $P, R$. Without a model, the agent can only
# play episodes and watch rewards. A value is an expected return, so it can be **estimated
# by the mean of sampled returns** (Chapter 03's mean estimation). This notebook builds the
# three Monte Carlo control algorithms of the textbook on that idea, MC Basic, MC
# Exploring Starts and MC $\varepsilon$-greedy, and checks each against the exact
# planning results of 04a.
#
# **Learning goals.** After this notebook you can
# 1. estimate action values from sampled returns, with standard errors, and check them against exact values;
# 2. explain MC Basic as policy iteration with Monte Carlo evaluation, and what the episode length does;
# 3. use first-visit and every-visit returns with exploring starts;
# 4. explain why MC $\varepsilon$-greedy converges to the best $\varepsilon$-greedy policy, and measure how far that is from optimal.
#
# **Prerequisites.** Notebook 04a (Bellman equations, policy iteration); Chapter 03 (mean
# estimation, standard errors); a little PyTorch.
#
# **Runtime.** Fast mode (`COURSE_FAST=1`, as in CI): about 30 s on a 2-core CPU. Full mode
# (10x more episodes, so the checks are tighter): about 2 min on a 2-core CPU; the episodes
# run on the GPU when one is present.
#
# **Mode.** The set-up cell prints the mode this run uses: *fast* on a CPU, *full* where a GPU
# is present. To switch, start JupyterLab with `COURSE_FAST=0 make lab` (full) or
# `COURSE_FAST=1 make lab` (fast), or run `%env COURSE_FAST=0` before the set-up cell.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import torch
from IPython.display import display

from course_lib import runtime
from course_lib.checks import assert_close, check, hint  # noqa: F401
from course_lib.rl import (
    GridWorld,
    epsilon_greedy_policy,
    epsilon_soft_mdp,
    mc_basic,
    mc_control,
    mc_epsilon_greedy,
    mc_evaluate,
    mc_exploring_starts,
    policy_evaluation,
    sample_episodes,
    value_iteration,
    viz,
)
from course_lib.source import show_source

gen = runtime.seed_all(0)
DEVICE = runtime.device()
print(runtime.describe())
torch.set_printoptions(precision=3, sci_mode=False)

# Sizes: small in fast mode (CI), large in full mode. Nothing below edits them.
N_EVAL = runtime.pick(fast=10_000, full=200_000)
N_ES = runtime.pick(fast=4_000, full=40_000)
N_EPS = runtime.pick(fast=3_000, full=30_000)

world = GridWorld()
mdp = world.model(device=DEVICE)
mdp_cpu = world.model()
S, A = mdp.n_states, mdp.n_actions
v_star = value_iteration(mdp_cpu, tol=1e-13)
gen_dev = runtime.make_generator(0, DEVICE)

# %% [markdown] slideshow={"slide_type": "notes"}
# **Lecture plan (45 min; speaker notes, not projected).** §1 values as means of returns,
# with its check (10 min) · §2 MC Basic (8) · §3 how long episodes must be, the value-propagation
# figure (7) · §4 exploring starts, first visit vs every visit (7) · §5 ε-greedy: the optimality
# gap, then learning (7) · widget (b), the MC ε-greedy lab (3) · exercise 04.6 live (3). Skipped:
# listings, the small-world MC Basic example, exercises 04.7–04.10. On §3's figure, ask first
# which cells keep the value 0 for short episodes, then reveal it.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1 · Values as means of returns
#
# An episode $s_0, a_0, r_1, s_1, a_1, r_2, \dots$ of length $L$ has returns
#
# $$G_t = \sum_{k=0}^{L-t-1} \gamma^k r_{t+k+1}, \qquad G_t = r_{t+1} + \gamma G_{t+1}, \tag{4.1}$$
#
# and $q_\pi(s, a) = \mathbb E[G_t \mid s_t = s, a_t = a]$. The mean of $n$ independent returns
# estimates it with standard error $\sigma/\sqrt n$. To compare with an exact value without
# truncation bias, keep only the first $H$ rewards of each return:
#
# $$G_t^H = \sum_{k=0}^{H-1} \gamma^k r_{t+k+1}, \qquad \mathbb E[G_t^H] = q_\pi^{(H)}(s, a) = R(s,a) + \gamma \sum_{s'}P(s,a,s')\, v_\pi^{(H-1)}(s'), \tag{4.2}$$
#
# where $v_\pi^{(m)}$ is $m$ sweeps of (2.4) from zero. Episodes are generated vectorised:
# every episode of a batch advances one step per tensor operation, on any device.

# %% slideshow={"slide_type": "skip"}
display(show_source(sample_episodes, "vectorised-step"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check (4.1)–(4.2).** Evaluate an $\varepsilon$-greedy policy ($\varepsilon = 0.4$, a
# stochastic policy) by first-visit Monte Carlo with exploring starts, and compare every
# action value with the exact $q_\pi^{(H)}$ from the model, within 4.5 standard errors
# (125 pairs). First visits of different episodes are independent, so the standard errors
# are honest. A 30 % error in the exact values would fail by far.

# %%
H, L_eval = 15, 30
pi_eval = epsilon_greedy_policy(v_star.actions, A, 0.4)
est = mc_evaluate(mdp, pi_eval.to(DEVICE), N_EVAL, L_eval, horizon=H, generator=gen_dev)
r_pi = (pi_eval * mdp_cpu.R).sum(1)
P_pi = torch.einsum("sa,sat->st", pi_eval, mdp_cpu.P)
v_h = torch.zeros(S, dtype=torch.float64)
for _ in range(H - 1):
    v_h = r_pi + world.gamma * P_pi @ v_h  # (2.4), H - 1 sweeps
q_exact = mdp_cpu.R + world.gamma * mdp_cpu.P @ v_h  # (4.2)
q_hat, se, n_ret = est.q.cpu(), est.se.cpu(), est.counts.cpu()
ok = n_ret >= 30
z = (q_hat - q_exact)[ok] / se[ok]
print(f"{int(ok.sum())} pairs with >= 30 returns; max |z| = {z.abs().max():.2f}")
assert ok.float().mean() > 0.9 and z.abs().max() < 4.5
z_wrong = (q_hat - 1.3 * q_exact)[ok & (q_exact.abs() > 0.5)] / se[ok & (q_exact.abs() > 0.5)]
assert z_wrong.abs().max() > 10  # the check has the power to see a 30 % error

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2 · MC Basic
#
# **MC Basic** (4.3) is policy iteration with the model-based evaluation replaced by sampled
# returns: for every pair $(s, a)$ run episodes of length $L$ that start with $a$ in $s$ and
# then follow $\pi_k$; $q_k(s, a)$ is the mean of their returns $G_0$; then
# $\pi_{k+1}(s) = \arg\max_a q_k(s, a)$.

# %% slideshow={"slide_type": "skip"}
display(show_source(mc_basic, "mc-basic"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# In a deterministic world with a deterministic policy one episode per pair gives the exact
# $L$-step return $q_{\pi}^{(L)}(s,a)$. A stationary policy cannot collect more in $L$ steps
# than the best $L$-step plan, which is what $L$ sweeps of value iteration from $v = 0$
# compute, $T^L 0$. In this world MC Basic's fixed point reaches it: **MC Basic with episode
# length $L$ reproduces $L$-step value iteration from zero**.
#
# **Check.** For $L = 1, \dots, 30$: MC Basic's values $\max_a q(s,a)$ equal $T^L 0$ to
# rounding error.

# %%
for L in range(1, 31):
    mb = mc_basic(mdp, L, generator=gen_dev)
    vi_L = value_iteration(mdp_cpu, n_iterations=L).v
    assert torch.allclose(mb.v.cpu(), vi_L, atol=1e-12, rtol=0), L
print("MC Basic (length L) == L sweeps of value iteration from 0, for L = 1..30")

# %% [markdown] slideshow={"slide_type": "skip"}
# This is a property of the world, not a theorem: the best $L$-step plan may need a
# different action in the same cell at different times, which no stationary policy can do.
# In a 4×2 world whose target sits behind forbidden cells, MC Basic with $L = 3$ falls short
# of $T^3 0$ (it is never above it: checked in `tests/rl`).

# %% slideshow={"slide_type": "skip"}
small = GridWorld(4, 2, [(2, 2), (4, 2), (1, 1), (4, 1)], (1, 2)).model()
shortfall = value_iteration(small, n_iterations=3).v - mc_basic(small, 3).v
print("T^3 0 - MC Basic values in the 4x2 world:", shortfall)
assert shortfall.min() >= -1e-12 and shortfall.max() > 0.05

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3 · How long must episodes be?
#
# With episodes of length $L$ a state only sees rewards within $L$ steps; if the target is
# more than $L$ moves away, the state's value stays at 0 (it can at best avoid penalties).
# As $L$ grows the values approach $v^*$, with $\|v_L - v^*\|_\infty \le \gamma^L \|v^*\|_\infty$
# by the contraction (3.2).

# %% slideshow={"slide_type": "fragment"}
display(viz.value_propagation_figure(world, lengths=(1, 2, 3, 4, 6, 14)))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check.** The number of moves from each cell to the target (breadth-first search over
# the moves): MC Basic's value is exactly 0 for every cell farther than $L$ moves, and the
# distance to $v^*$ obeys the contraction bound.

# %%
target = world.state(world.target)
dist = torch.full((S,), -1)
dist[target], frontier = 0, [target]
while frontier:
    nxt = []
    for s in range(S):
        if dist[s] < 0 and any(world.transition(s, a)[0] in frontier for a in range(A)):
            dist[s] = dist[frontier[0]] + 1
            nxt.append(s)
    frontier = nxt
print(world.as_grid(dist))
for L in (1, 2, 3, 5, 8, 12, 20, 40):
    v_L = mc_basic(mdp, L).v.cpu()
    assert (v_L[dist > L] == 0).all(), L
    assert (v_L - v_star.v).abs().max() <= world.gamma**L * v_star.v.abs().max() + 1e-9
    print(
        f"L = {L:2d}: cells with value 0: {int((v_L == 0).sum()):2d}, ||v_L - v*|| = {(v_L - v_star.v).abs().max():.3f}"
    )

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4 · MC Exploring Starts: first visit and every visit
#
# MC Basic wastes episodes: one episode visits many pairs, but only its first pair is used.
# **MC Exploring Starts** (4.4) starts episodes from random pairs, lets every pair visited in
# the episode contribute its return $G_t$, keeps running means, and improves the policy
# greedily after each batch of episodes. *First-visit* uses only a pair's first occurrence
# in an episode; *every-visit* uses all of them.

# %% slideshow={"slide_type": "skip"}
display(show_source(mc_control, "mc-control"))

# %% [markdown]
# **Check.** Both variants find policies whose exact values (2.3) are within 0.15 of $v^*$
# on average over the cells (and never above it, which would contradict optimality).

# %%
for first_visit in (True, False):
    es = mc_exploring_starts(
        mdp, N_ES, 60, first_visit=first_visit, batch_size=500, generator=gen_dev
    )
    v_es = policy_evaluation(mdp_cpu, es.actions.cpu())
    gap = (v_star.v - v_es).mean().item()
    print(f"{'first' if first_visit else 'every'}-visit: mean gap to v* = {gap:.3f}")
    assert (v_es <= v_star.v + 1e-9).all() and gap < 0.15

# %% [markdown] slideshow={"slide_type": "notes"}
# **Notes for §4–§5.** Misconception: "Monte Carlo needs a model". It needs only episodes;
# this notebook uses the model only to *check* the estimates against exact values. Then ask:
# exploring starts are unrealistic for a robot, what replaces them and at what cost (discussion
# question 2)? That is §5, where the trap is "ε-greedy learns the optimal policy": it learns the
# best ε-greedy policy, whose gap to the optimum grows with ε (asserted on the next slide).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5 · MC $\varepsilon$-greedy
#
# Exploring starts need an episode to start from every pair, which a real agent often cannot
# arrange. Instead, keep the policy **$\varepsilon$-greedy**, so every action keeps a chance:
#
# $$\pi(a|s) = \begin{cases} 1 - \frac{\varepsilon(|\mathcal A| - 1)}{|\mathcal A|} & a = a^*(s) \\ \frac{\varepsilon}{|\mathcal A|} & \text{otherwise.}\end{cases} \tag{4.5}$$
#
# MC $\varepsilon$-greedy (every-visit, long episodes from ordinary starts) then searches only
# among $\varepsilon$-greedy policies. The best of them is the optimal policy of the MDP in
# which "choosing $a$" means "following (4.5) around $a$": $P_\varepsilon(s,a) = (1-\varepsilon)P(s,a)
# + \varepsilon\,\overline{P}(s)$, same for $R$ (`epsilon_soft_mdp`). Its values are below $v^*$,
# and the gap grows with $\varepsilon$. For large $\varepsilon$ even its greedy part is no
# longer optimal: near forbidden cells, random moves are costly, so it keeps a distance.

# %%
table = {}
for eps in (0.0, 0.1, 0.2, 0.5):
    best = value_iteration(epsilon_soft_mdp(mdp_cpu, eps), tol=1e-13)
    v_eps = policy_evaluation(mdp_cpu, epsilon_greedy_policy(best.actions, A, eps))
    assert_close(v_eps, best.v, atol=1e-9, label=f"eps={eps}: values of the best eps-greedy policy")
    greedy_part = policy_evaluation(mdp_cpu, best.actions)
    table[eps] = ((v_star.v - v_eps).mean().item(), (v_star.v - greedy_part).max().item())
for eps, (gap, greedy_loss) in table.items():
    print(
        f"eps = {eps}: mean gap of the best eps-greedy policy {gap:.3f}; its greedy part loses {greedy_loss:.3f}"
    )

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check.** The gap is 0 at $\varepsilon = 0$ and grows with $\varepsilon$; the greedy part
# is optimal for $\varepsilon \le 0.1$ and not for $\varepsilon = 0.5$. And no
# $\varepsilon$-greedy policy around another deterministic policy beats the best one.

# %%
gaps = [table[e][0] for e in (0.0, 0.1, 0.2, 0.5)]
assert gaps[0] < 1e-9 and gaps[0] < gaps[1] < gaps[2] < gaps[3]
assert table[0.1][1] < 1e-9 and table[0.5][1] > 0.1
best_02 = value_iteration(epsilon_soft_mdp(mdp_cpu, 0.2), tol=1e-13).v
for seed in range(20):
    other = torch.randint(0, A, (S,), generator=torch.Generator().manual_seed(seed))
    assert (
        policy_evaluation(mdp_cpu, epsilon_greedy_policy(other, A, 0.2)) <= best_02 + 1e-9
    ).all()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Now learn it. **Check.** MC $\varepsilon$-greedy with $\varepsilon = 0.2$, started from
# "stay everywhere", closes most of the gap to the best $\varepsilon$-greedy policy (at least
# 75 % of it, on average over the cells; exact values by (2.3)), and never exceeds it.

# %%
eps = 0.2
res = mc_epsilon_greedy(mdp, eps, N_EPS, 80, batch_size=100, generator=gen_dev)
v_learned = policy_evaluation(mdp_cpu, res.policy.cpu())
v_start = policy_evaluation(mdp_cpu, epsilon_greedy_policy(torch.full((S,), 4), A, eps))
closed = 1 - (best_02 - v_learned).mean() / (best_02 - v_start).mean()
print(f"MC eps-greedy closed {closed:.1%} of the gap after {res.iterations} episodes")
assert (v_learned <= best_02 + 1e-9).all() and closed > 0.75
display(viz.mc_epsilon_greedy_figure(world, epsilon=eps, length=80, n_episodes=N_EPS))

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Widget (b): the MC $\varepsilon$-greedy lab
# Move $\varepsilon$, the episode length and the number of episodes: the learned values and
# greedy arrows (left) next to the best $\varepsilon$-greedy policy (middle) and the optimum
# (right). Large $\varepsilon$: the learned policy is close to the best $\varepsilon$-greedy
# one, but that one is far from optimal.

# %%
# NBVAL_IGNORE_OUTPUT
viz.mc_lab_widget(epsilon=0.2, length=80, n_episodes=1_000)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# Each exercise ends in `check(id, answer)` (right or wrong, and the kind of mistake where it
# is recognisable; never the expected value). `hint("04.6")` gives hints one at a time.
# Worked solutions: `solutions/04b_monte_carlo_solutions.ipynb`.
#
# **04.6** An episode of the grid world has the rewards $r_1, \dots, r_5 = 0, -1, 0, 1, 1$ and
# $\gamma = 0.9$. What is its discounted return $G_0$?
# Answer: a float, to 6 significant digits.

# %%
answer = None
check("04.6", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **04.7** MC Basic in the classic world with episode length $L$: what is the smallest $L$ for
# which the top-left cell (1,1) gets a nonzero value? Reason with the $L$-step values (or run
# `mc_basic` for increasing $L$).
# Answer: an integer.

# %% slideshow={"slide_type": "skip"}
answer = None
check("04.7", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **04.8** Write a function `p_greedy(epsilon)` returning the probability that the
# $\varepsilon$-greedy policy (4.5) with the five grid-world actions takes its greedy action.
# Answer: a function `p_greedy(epsilon) -> float`, to 9 significant digits.

# %% slideshow={"slide_type": "skip"}
p_greedy = None
check("04.8", p_greedy)

# %% [markdown] slideshow={"slide_type": "skip"}
# **04.9** Take the optimal policy of the classic world and make it $\varepsilon$-greedy with
# $\varepsilon = 0.2$. What is the exact value of the target cell (4,3) under this policy?
# (Optimal: 10.) Use policy evaluation.
# Answer: a float, to 4 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("04.9", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **04.10** The returns from a state-action pair have standard deviation 2. How many
# independent returns (first visits) are needed for the standard error of their mean to be
# at most 0.05?
# Answer: an integer.

# %% slideshow={"slide_type": "skip"}
answer = None
check("04.10", answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# * A value is an expected return: Monte Carlo estimates it by the mean of sampled returns,
#   with standard error $\sigma/\sqrt n$; truncated returns $G^H$ have exactly known means.
# * MC Basic = policy iteration with Monte Carlo evaluation. In this deterministic world, with
#   episode length $L$ it reproduces $L$ sweeps of value iteration from zero; cells more than
#   $L$ moves from the target keep value 0, so episodes must be long enough to reach it.
# * MC Exploring Starts reuses every pair of an episode (first-visit or every-visit).
# * MC $\varepsilon$-greedy needs no exploring starts but converges to the best
#   $\varepsilon$-greedy policy, whose gap to $v^*$ grows with $\varepsilon$; for large
#   $\varepsilon$ its greedy part is not optimal either.
#
# ## References
#
# S. Zhao, *Mathematical Foundations of Reinforcement Learning*, Springer /
# Tsinghua University Press, 2025, chapter 5 (Monte Carlo methods) and chapter 6 (mean
# estimation). R. S. Sutton and A. G. Barto, *Reinforcement Learning: An Introduction*, 2nd
# ed., MIT Press, 2018, chapter 5.
