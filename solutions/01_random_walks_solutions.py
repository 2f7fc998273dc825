# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,slideshow,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 01 · Worked solutions
#
# Each solution derives the answer on its own (by hand formulas or brute force), then asserts
# that the chapter's checker accepts it. CI runs this notebook, so every published solution
# is verified. Runtime: a few seconds in either mode.
#
# **Mode.** Fast on a CPU, full where a GPU is present (the chapter notebook's first cell says
# more); `COURSE_FAST=0` or `COURSE_FAST=1` in the environment switches.

# %%
import math

import torch

from course_lib.checks import check
from course_lib.randomwalk import enumerate_paths

# %% [markdown]
# **01.1** $S_{10} = 2$ needs $j = (10 + 2)/2 = 6$ up-steps and 4 down-steps, so by (1.1)
# $P(S_{10} = 2) = \binom{10}{6}\, 0.6^6\, 0.4^4$, rounded to the four significant digits asked.

# %%
exact = math.comb(10, 6) * 0.6**6 * 0.4**4
answer = float(f"{exact:.4g}")
print(exact, "->", answer)
assert check("01.1", answer)

# %% [markdown]
# **01.2** A return at time $2n$ chooses which $n$ of the $2n$ steps go up, each path having
# probability $2^{-2n}$: $u_{2n} = \binom{2n}{n} / 4^n$ (and $u_0 = 1$).


# %%
def u(n: int) -> float:
    return math.comb(2 * n, n) / 4**n


assert check("01.2", u)

# %% [markdown]
# **01.3** $F(1) = 1 - \sqrt{1 - 4pq} = 1 - \sqrt{(p - q)^2} = 1 - |p - q|$. For $p = 0.7$:
# $1 - 0.4 = 0.6$.

# %%
p = 0.7
answer = 1 - math.sqrt(1 - 4 * p * (1 - p))
assert check("01.3", answer)

# %% [markdown]
# **01.4** Brute force over all $2^{12}$ paths, and the ballot theorem (5.3) as a cross-check:
# $\frac{4}{12}\binom{12}{8} = 165$.

# %%
paths = enumerate_paths(12)
answer = int(((paths[:, 1:] > 0).all(dim=1) & (paths[:, -1] == 4)).sum())
assert answer == 4 * math.comb(12, 8) // 12
assert check("01.4", answer)

# %% [markdown]
# **01.5** With $r = q/p = 0.55/0.45$, (6.1) gives $P_3 = (1 - r^3)/(1 - r^{10})$. Solving
# the first-step recurrence as a linear system gives the same number.

# %%
p, N, k = 0.45, 10, 3
r = (1 - p) / p
answer = (1 - r**k) / (1 - r**N)
# cross-check: P_j = p P_(j+1) + q P_(j-1), P_0 = 0, P_N = 1, as a linear system
A = torch.zeros(N + 1, N + 1, dtype=torch.float64)
b = torch.zeros(N + 1, dtype=torch.float64)
A[0, 0] = A[N, N] = 1.0
b[N] = 1.0
for j in range(1, N):
    A[j, j], A[j, j + 1], A[j, j - 1] = 1.0, -p, -(1 - p)
assert math.isclose(torch.linalg.solve(A, b)[k].item(), answer, rel_tol=1e-12)
assert check("01.5", answer)

# %% [markdown]
# **01.6** $\operatorname{Var}[X_t] = \Delta x^2\, t / \Delta t$ must equal $2Dt$, so
# $D = \Delta x^2 / (2\Delta t) = 0.04 / 0.1 = 0.4$.

# %%
answer = 0.2**2 / (2 * 0.05)
assert check("01.6", answer)
