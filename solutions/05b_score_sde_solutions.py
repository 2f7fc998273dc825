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
# # Chapter 05b · Solutions to the exercises (scores and SDEs)
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
# **05.5** $\log\mathcal N(x;m,v) = -\frac{(x-m)^2}{2v} - \frac12\log(2\pi v)$, so the score is
# $-(x-m)/v$.


# %%
def score(x, mean, var):
    return -(x - mean) / var


answer = score
assert check("05.5", answer)

# %% [markdown]
# **05.6** $B(t) = \beta_{\min}t + \tfrac12 t^2(\beta_{\max}-\beta_{\min})$ and $s(t) =
# \sqrt{1-e^{-B(t)}}$ (8.1).

# %%
t = 0.3
B = 0.1 * t + 0.5 * t**2 * (20 - 0.1)
answer = math.sqrt(1 - math.exp(-B))
print(f"s(0.3) = {answer:.6f}")
assert check("05.6", answer)

# %% [markdown]
# **05.7** $(x_0, x)$ is jointly Gaussian with $\operatorname{Cov}(x_0, x) = c^2$ and
# $\operatorname{Var}x = c^2+\sigma^2$,
# so $\mathbb E[x_0\mid x] = \frac{c^2}{c^2+\sigma^2}x$. (Tweedie gives the same: $x +
# \sigma^2\cdot(-x/(c^2+\sigma^2))$.)


# %%
def D(x, c, sigma):
    return c**2 / (c**2 + sigma**2) * x


answer = D
assert check("05.7", answer)

# %% [markdown]
# **05.8** VE: $f = 0$, $g(t)^2 = \sigma(t)^2\cdot 2\log(\sigma_{\max}/\sigma_{\min})$ with
# $\sigma(t) = \sigma_{\min}(\sigma_{\max}/\sigma_{\min})^t$. The marginal of $\mathcal N(0,1)$ data
# is
# $\mathcal N(0, 1 + \sigma(t)^2 - \sigma_{\min}^2)$, with score $-x/v(t)$. So (8.5) reads
# $dx/dt = -\tfrac12 g^2\cdot(-x/v) = \tfrac12 g^2 x / v$.


# %%
def drift(x, t, smin=0.01, smax=10.0):
    sig = smin * (smax / smin) ** t
    g2 = sig**2 * 2 * math.log(smax / smin)
    v = 1 + sig**2 - smin**2
    return 0.5 * g2 * x / v


answer = drift
assert check("05.8", answer)
