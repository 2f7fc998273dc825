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
# # Chapter 03 · Worked solutions
#
# Each solution derives the answer on its own (by hand loops, integral tests or closed
# forms), then asserts that the chapter's checker accepts it. CI runs this notebook, so every
# published solution is verified. Runtime: a few seconds in either mode.
#
# **Mode.** Fast on a CPU, full where a GPU is present (the chapter notebook's first cell says
# more); `COURSE_FAST=0` or `COURSE_FAST=1` in the environment switches.

# %%
import math

import numpy as np

from course_lib.checks import check

# %% [markdown]
# **03.1** Five RM steps $w_{k+1} = w_k - \tanh(w_k - 1)/k$ from $w_1 = 3$, in full precision.

# %%
w = 3.0
for k in range(1, 6):
    w = w - math.tanh(w - 1.0) / k
print("w_6 =", w)
assert check("03.1", w)

# %% [markdown]
# **03.2** For $a_k = c/(k + k_0)^p$ the integral test gives $\sum a_k = \infty$ iff $p \le 1$
# and $\sum a_k^2 < \infty$ iff $2p > 1$. The exponents are (i) $1/2$, (ii) $1$, (iii) $0$,
# (iv) $1.5$, (v) $0.75$; only $1/2 < p \le 1$ passes both.

# %%
exponents = [0.5, 1.0, 0.0, 1.5, 0.75]
answer = [int(0.5 < p <= 1.0) for p in exponents]
print(answer)
assert check("03.2", answer)

# %% [markdown]
# **03.3** The normal equations $(X^\top X) w = X^\top y$ for the line $y = w_1 + w_2 t$:
# the slope is $\operatorname{Cov}(t, y)/\operatorname{Var}(t)$, and the line passes through
# $(\bar t, \bar y)$.

# %%
t = np.array([0.0, 1.0, 2.0, 3.0])
yv = np.array([1.0, 3.0, 2.0, 5.0])
slope = ((t - t.mean()) * (yv - yv.mean())).sum() / ((t - t.mean()) ** 2).sum()
intercept = yv.mean() - slope * t.mean()
print("w* =", intercept, slope)
assert check("03.3", [intercept, slope])

# %% [markdown]
# **03.4** With $e_j = w_j - \mathbb E[X]$, the update is
# $e_{j+1} = (1 - a)e_j + a(\mathbb E[X] - \bar x_j)$, the last term independent of $e_j$ with
# variance $a^2/m$. So $v_{j+1} = (1-a)^2 v_j + a^2/m$ with $v_1 = 0$, a geometric series:
#
# $$\operatorname{Var}[w_{k+1}] = \frac{a^2}{m}\,\frac{1 - (1-a)^{2k}}{1 - (1-a)^2}.$$
#
# For $k \to \infty$ and $m = 1$ this is the chapter's $a/(2 - a)$ (1.5).


# %%
def var(k, a, m):
    return a**2 / m * (1 - (1 - a) ** (2 * k)) / (1 - (1 - a) ** 2)


assert math.isclose(var(10**6, 0.1, 1), 0.1 / 1.9, rel_tol=1e-12)
assert check("03.4", var)
