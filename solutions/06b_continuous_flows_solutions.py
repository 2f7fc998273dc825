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
# # Chapter 06b · Worked solutions
#
# Each solution derives the answer on its own, then asserts that the chapter's checker accepts
# it. CI runs this notebook, so every published solution is verified. Runtime: a few seconds
# in either mode.
#
# **Mode.** Fast on a CPU, full where a GPU is present (the chapter notebook's first cell says
# more); `COURSE_FAST=0` or `COURSE_FAST=1` in the environment switches.

# %%
import math

from course_lib.checks import check

A = [[2.0, 1.0, 0.0], [-1.0, 3.0, 2.0], [4.0, 0.0, 1.0]]
d = 3

# %% [markdown]
# **06.6** Rademacher probes: $\operatorname{Var} = \sum_{i\ne j}(A_{ij}^2 + A_{ij}A_{ji})$, summed by hand.

# %%
var_rademacher = sum(A[i][j] ** 2 + A[i][j] * A[j][i] for i in range(d) for j in range(d) if i != j)
assert check("06.6", var_rademacher)

# %% [markdown]
# **06.7** Gaussian probes: $\operatorname{Var} = 2\|S\|_F^2$ with $S = (A + A^\top)/2$ (the same as
# $\|A\|_F^2 + \operatorname{tr}A^2$).

# %%
S = [[(A[i][j] + A[j][i]) / 2 for j in range(d)] for i in range(d)]
answer = 2 * sum(S[i][j] ** 2 for i in range(d) for j in range(d))
assert check("06.7", answer)

# %% [markdown]
# **06.8** $x_t = (1-t)x_0 + t x_1$ is $\mathcal N(0, \sigma_t^2 I)$ with $\sigma_t^2 = (1-t)^2c^2 + t^2$.
# The velocity that keeps it Gaussian scales $x$: $v = (\dot\sigma_t/\sigma_t)\,x$, with
# $\dot\sigma_t/\sigma_t = \tfrac12\frac{d}{dt}\log\sigma_t^2 = (t - (1-t)c^2)/\sigma_t^2$. Its
# divergence is $d$ times that.

# %%
c2, t, dim = 0.25, 0.5, 2
answer = dim * (t - (1 - t) * c2) / ((1 - t) ** 2 * c2 + t**2)
assert check("06.8", answer)

# %% [markdown]
# **06.9** The mean of $n$ probes has standard error $\sqrt{\operatorname{Var}/n} \le 0.1$, so
# $n \ge \operatorname{Var}/0.01$: the smallest integer above it.

# %%
answer = math.ceil(var_rademacher / 0.1**2 - 1e-9)
assert check("06.9", answer)
