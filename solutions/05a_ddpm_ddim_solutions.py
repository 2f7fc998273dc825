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
# # Chapter 05a · Solutions to the exercises (DDPM and DDIM)
#
# Each solution computes its answer from first principles (not with the library function the
# checker uses) and asserts that `check` accepts it. Runtime: a few seconds.
#
# **Mode.** Fast on a CPU, full where a GPU is present (the chapter notebook's first cell says
# more); `COURSE_FAST=0` or `COURSE_FAST=1` in the environment switches.

# %%
import math

import torch

from course_lib import runtime
from course_lib.checks import check

runtime.seed_all(0)
print(runtime.describe())

# %% [markdown]
# **05.1** $\bar\alpha_T = \prod_{t=1}^{T}(1-\beta_t)$ with $\beta_t$ linear from $10^{-4}$ to
# $0.02$.
# A sum of logarithms avoids underflow for long products.

# %%
T = 1000
betas = [1e-4 + (0.02 - 1e-4) * i / (T - 1) for i in range(T)]
answer = math.exp(sum(math.log1p(-b) for b in betas))
print(f"alpha_bar_T = {answer:.6e}")
assert check("05.1", answer)

# %% [markdown]
# **05.2** For a step from $\bar\alpha_{\text{prev}}$ to $\bar\alpha_t$, $\beta =
# 1-\bar\alpha_t/\bar\alpha_{\text{prev}}$
# and $\tilde\beta = \frac{1-\bar\alpha_{\text{prev}}}{1-\bar\alpha_t}\beta$ (1.7).


# %%
def beta_tilde(ab_t, ab_prev):
    beta = 1 - ab_t / ab_prev
    return (1 - ab_prev) / (1 - ab_t) * beta


answer = beta_tilde
assert check("05.2", answer)

# %% [markdown]
# **05.3** $\sigma_t(\eta) =
# \eta\sqrt{(1-\bar\alpha_{\text{prev}})/(1-\bar\alpha_t)}
# \sqrt{1-\bar\alpha_t/\bar\alpha_{\text{prev}}}$
# (4.1); at $\eta = 1$ its square is `beta_tilde`.


# %%
def ddim_sigma(ab_t, ab_prev, eta):
    return eta * math.sqrt((1 - ab_prev) / (1 - ab_t)) * math.sqrt(1 - ab_t / ab_prev)


assert math.isclose(ddim_sigma(0.5, 0.6, 1.0) ** 2, beta_tilde(0.5, 0.6))
answer = ddim_sigma
assert check("05.3", answer)

# %% [markdown]
# **05.4** With $\sigma_t^2 = \beta_t$, $\lambda_t = \beta_t/(2\alpha_t(1-\bar\alpha_t))$ (2.3). It
# is large
# at small $t$ (where $1-\bar\alpha_t$ is tiny) and small later, so $L_{\text{simple}}$ (weight 1)
# up-weights the noisy steps relative to the ELBO.

# %%
b = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
ab = torch.cumprod(1 - b, 0)


def lam(t):  # t = 1..T, tensors are 0-based
    return float(b[t - 1] / (2 * (1 - b[t - 1]) * (1 - ab[t - 1])))


answer = lam(10)
print(f"lambda_10 = {answer:.4f}, lambda_500 = {lam(500):.6f}, ratio {lam(10) / lam(500):.1f}")
assert lam(10) > 10 * lam(500)
assert check("05.4", answer)
