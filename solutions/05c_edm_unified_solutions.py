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
# # Chapter 05c · Solutions to the exercises (the EDM unified framework)
#
# Each solution computes its answer from first principles and asserts that `check` accepts it.
# Runtime: a few seconds.
#
# **Mode.** Fast on a CPU, full where a GPU is present (the chapter notebook's first cell says
# more); `COURSE_FAST=0` or `COURSE_FAST=1` in the environment switches.

# %%
import math

from course_lib import runtime
from course_lib.checks import check

runtime.seed_all(0)
print(runtime.describe())

# %% [markdown]
# **05.9** The steps are uniform in $\sigma^{1/\rho}$ between $\sigma_\max^{1/\rho}$ ($i = 0$) and
# $\sigma_\min^{1/\rho}$ ($i = N-1$); the extra index $N$ is the final $\sigma_N = 0$.


# %%
def sigma_i(i, N, sigma_min, sigma_max, rho):
    if i == N:
        return 0.0
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    return (hi + i / (N - 1) * (lo - hi)) ** rho


answer = sigma_i
assert check("05.9", answer)

# %% [markdown]
# **05.10** With $n^2 = \sigma^2 + \sigma_\text{data}^2$: $c_\text{skip} = \sigma_\text{data}^2/n^2$,
# $c_\text{out} = \sigma\sigma_\text{data}/n$, $c_\text{in} = 1/n$.


# %%
def precond(sigma, sigma_data):
    n = math.sqrt(sigma**2 + sigma_data**2)
    return sigma_data**2 / n**2, sigma * sigma_data / n, 1 / n


answer = precond
assert check("05.10", answer)

# %% [markdown]
# **05.11** $D(x;\sigma) = \frac{c^2}{c^2+\sigma^2}x$, so
# $dx/d\sigma = (x - D)/\sigma = \frac{\sigma}{c^2+\sigma^2}x$.


# %%
def rhs(x, sigma, c):
    return sigma / (c**2 + sigma**2) * x


answer = rhs
assert check("05.11", answer)

# %% [markdown]
# **05.12** From $x = x_0 + \sigma\epsilon$, $x_0 = x - \sigma\epsilon$; substituting into
# $\sqrt{1+\sigma^2}\,v = \epsilon - \sigma x_0 = \epsilon(1+\sigma^2) - \sigma x$ gives
# $\epsilon = (\sigma x + \sqrt{1+\sigma^2}\,v)/(1+\sigma^2)$.


# %%
def eps_from_v(v, x, sigma):
    return (sigma * x + math.sqrt(1 + sigma**2) * v) / (1 + sigma**2)


answer = eps_from_v
assert check("05.12", answer)
