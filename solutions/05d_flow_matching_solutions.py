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
# # Chapter 05d · Solutions to the exercises (flow matching and rectified flow)
#
# Each solution computes its answer from first principles and asserts that `check` accepts it.
# Runtime: a few seconds.
#
# **Mode.** Fast on a CPU, full where a GPU is present (the chapter notebook's first cell says
# more); `COURSE_FAST=0` or `COURSE_FAST=1` in the environment switches.

# %%
import torch

from course_lib import runtime
from course_lib.checks import check

runtime.seed_all(0)
print(runtime.describe())

# %% [markdown]
# **05.13** $x_t = (1-t)x_0 + tx_1$ is jointly Gaussian with $x_0$: $\mathbb E[x_t] = (1-t)m$,
# $\operatorname{Var}[x_t] = (1-t)^2c^2 + t^2$, $\operatorname{Cov}[x_0, x_t] = (1-t)c^2$. So
# $\mathbb E[x_0\mid x_t = x] = m + \frac{(1-t)c^2}{(1-t)^2c^2 + t^2}(x - (1-t)m)$ and
# $v = (x - \mathbb E[x_0\mid x_t = x])/t$ (10.2).


# %%
def v(x, t, m, c):
    post_mean = m + (1 - t) * c**2 / ((1 - t) ** 2 * c**2 + t**2) * (x - (1 - t) * m)
    return (x - post_mean) / t


answer = v
assert check("05.13", answer)

# %% [markdown]
# **05.14** At $t = 1$, $x_1$ is independent of $x_0$, so $\mathbb E[x_0\mid x_1] = \mathbb E[x_0]$ and
# $v(x, 1) = x - \mathbb E[x_0]$. One Euler step, $x - 1\cdot v(x, 1) = \mathbb E[x_0]$, sends
# **every** point to the data mean $\sum_k w_k\mu_k$ (the mixture's weights and means from
# `toy_mixture`'s definition).

# %%
w = torch.tensor([0.3, 0.2, 0.2, 0.15, 0.15], dtype=torch.float64)
mu = torch.tensor(
    [[-1.2, -0.8], [1.3, -0.9], [0.0, 1.4], [-1.4, 1.0], [1.4, 0.9]], dtype=torch.float64
)
answer = w @ mu
print(answer)
assert check("05.14", answer)

# %% [markdown]
# **05.15** With $r(t) = \sqrt{(1-t)^2c^2 + t^2}$: $z_0 = c\,x_1$, $z_1 = x_1$, the chord is
# $(1-c)x_1$ and the velocity is $x_1 r'(t)$, $r'(t) = (t - (1-t)c^2)/r(t)$. With $\mathbb E[x_1^2] = 1$,
# $S = \int_0^1 (r'(t) - (1-c))^2\,dt$; the midpoint rule with $10^5$ nodes is accurate far beyond
# three digits.

# %%
c, n = 0.5, 100_000
t = (torch.arange(n, dtype=torch.float64) + 0.5) / n
r = ((1 - t) ** 2 * c**2 + t**2).sqrt()
answer = float((((t - (1 - t) * c**2) / r - (1 - c)) ** 2).mean())
print(f"S = {answer:.5f}")
assert check("05.15", answer)
