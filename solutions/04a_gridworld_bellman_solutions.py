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
# # Chapter 04a · Worked solutions
#
# Each solution derives the answer on its own (by hand formulas, a small linear system or
# brute force), then asserts that the chapter's checker accepts it. CI runs this notebook,
# so every published solution is verified. Runtime: a few seconds in either mode.
#
# **Mode.** Fast on a CPU, full where a GPU is present (the chapter notebook's first cell says
# more); `COURSE_FAST=0` or `COURSE_FAST=1` in the environment switches.

# %%
import math

import numpy as np

from course_lib.checks import check
from course_lib.rl import GridWorld, value_iteration

# %% [markdown]
# **04.1** The rewards are $r_\text{forbidden} = -1$ (entering (4,2)), then $r_\text{target} = 1$
# at every later step (entering, then staying in the target):
# $v = -1 + \gamma \cdot 1/(1-\gamma) = -1 + 9 = 8$.

# %%
gamma = 0.9
answer = -1 + gamma * 1 / (1 - gamma)
print(answer)
assert check("04.1", answer)

# %% [markdown]
# **04.2** Bellman equations $v_1 = 1 + \gamma v_2$, $v_2 = 0 + \gamma v_1$ give
# $v_1 = 1/(1 - \gamma^2)$.


# %%
def v11(gamma: float) -> float:
    return 1 / (1 - gamma**2)


# the same from the 2x2 linear system (I - gamma P_pi) v = r_pi
P_pi, r_pi = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([1.0, 0.0])
assert math.isclose(np.linalg.solve(np.eye(2) - 0.9 * P_pi, r_pi)[0], v11(0.9))
assert check("04.2", v11)

# %% [markdown]
# **04.3** Going right: $0$ (enter (1,2)), $-1$ (enter the forbidden (1,3)), then $+1$ forever
# from the third step: $-\gamma + \gamma^2/(1-\gamma) = -0.9 + 8.1 = 7.2$. Staying put gives 0,
# and any detour only delays (there is no other way), so $v^* = 7.2$.

# %%
answer = -gamma + gamma**2 / (1 - gamma)
print(answer)
assert check("04.3", answer)

# %% [markdown]
# **04.4** By (3.6), $v^{*\prime}(1,1) = 2 v^*(1,1) + 1/(1 - 0.9)$, with $v^*(1,1)$ from value
# iteration in the classic world.

# %%
v_star = value_iteration(GridWorld().model(), tol=1e-13).v
answer = 2 * float(v_star[0]) + 1 / (1 - gamma)
print(answer)
assert check("04.4", answer)

# %% [markdown]
# **04.5** $B = \max_s |v^*(s)| = 10$ (the target). $\gamma^k B \le 10^{-3}$ iff
# $k \ge \log(10^{-3}/B)/\log\gamma \approx 87.4$, so $k = 88$.

# %%
B = float(v_star.abs().max())
k = math.ceil(math.log(1e-3 / B) / math.log(gamma))
print(B, k)
assert gamma**k * B <= 1e-3 < gamma ** (k - 1) * B
assert check("04.5", k)
