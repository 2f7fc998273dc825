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

# %% [markdown]
# # Chapter 04b · Worked solutions
#
# Each solution derives the answer on its own (by hand, from the model, or by a small
# simulation), then asserts that the chapter's checker accepts it. CI runs this notebook, so
# every published solution is verified. Runtime: a few seconds in either mode.
#
# **Mode.** Fast on a CPU, full where a GPU is present (the chapter notebook's first cell says
# more); `COURSE_FAST=0` or `COURSE_FAST=1` in the environment switches.

# %%
import math

import torch

from course_lib.checks import check
from course_lib.rl import GridWorld, epsilon_greedy_policy, policy_evaluation, value_iteration
from course_lib.rl.env import GridWorldEnv

world = GridWorld()
mdp = world.model()
gamma = world.gamma

# %% [markdown]
# **04.6** $G_0 = 0 - \gamma + 0 + \gamma^3 + \gamma^4 = -0.9 + 0.729 + 0.6561 = 0.4851$.

# %%
rewards = [0, -1, 0, 1, 1]
answer = sum(gamma**t * r for t, r in enumerate(rewards))
print(answer)
assert check("04.6", answer)

# %% [markdown]
# **04.7** In this world MC Basic's values are the $L$-step values $T^L 0$. The target is five
# moves from (1,1) (down, down, down, right into the forbidden (4,2), right). With $L = 5$ the
# only gain is $-\gamma^3 + \gamma^4 < 0$, worse than 0; with $L = 6$ one more target reward
# makes $-\gamma^3 + \gamma^4 + \gamma^5 > 0$; the detour avoiding forbidden cells is longer.
# Confirm by $L$-step value iteration.

# %%
assert -(gamma**3) + gamma**4 < 0 < -(gamma**3) + gamma**4 + gamma**5
first = next(L for L in range(1, 50) if value_iteration(mdp, n_iterations=L).v[0] != 0)
print(first)
assert check("04.7", first)

# %% [markdown]
# **04.8** With probability $1-\varepsilon$ the greedy action; with probability $\varepsilon$ a
# uniform draw over the five actions, which picks the greedy one with probability 1/5.


# %%
def p_greedy(epsilon: float) -> float:
    return 1 - epsilon + epsilon / 5


assert check("04.8", p_greedy)

# %% [markdown]
# **04.9** Evaluate the $\varepsilon$-greedy policy around the optimal one in closed form, and
# confirm with discounted returns of simulated episodes in the gymnasium environment.

# %%
pi = epsilon_greedy_policy(value_iteration(mdp, tol=1e-13).actions, 5, 0.2)
answer = float(policy_evaluation(mdp, pi)[world.state((4, 3))])
env = GridWorldEnv(world, max_episode_steps=100)
env.action_space.seed(0)
rng = torch.Generator().manual_seed(0)
returns = []
for episode in range(300):
    obs, _ = env.reset(seed=episode, options={"start": (4, 3)})
    g = 0.0
    for t in range(100):
        a = int(torch.multinomial(pi[obs], 1, generator=rng))
        obs, r, _, _, _ = env.step(a)
        g += gamma**t * r
    returns.append(g)
mean = sum(returns) / len(returns)
se = (sum((x - mean) ** 2 for x in returns) / (len(returns) - 1) / len(returns)) ** 0.5
print(f"exact {answer:.4f}, simulated {mean:.4f} ± {se:.4f}")
assert abs(mean - answer) < 4 * se
assert check("04.9", answer)

# %% [markdown]
# **04.10** $\sigma/\sqrt N \le 0.05$ iff $N \ge (2/0.05)^2 = 1600$.

# %%
N = math.ceil((2 / 0.05) ** 2)
assert 2 / math.sqrt(N) <= 0.05 < 2 / math.sqrt(N - 1)
assert check("04.10", N)
