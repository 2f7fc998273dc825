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
# # Chapter 06a · Worked solutions
#
# Each solution derives the answer on its own (by the hand formulas of the notebook), then
# asserts that the chapter's checker accepts it. CI runs this notebook, so every published
# solution is verified. Runtime: a few seconds in either mode.
#
# **Mode.** Fast on a CPU, full where a GPU is present (the chapter notebook's first cell says
# more); `COURSE_FAST=0` or `COURSE_FAST=1` in the environment switches.

# %%
import math

from course_lib.checks import check

# %% [markdown]
# **06.1** The Jacobian is block lower triangular with diagonal $(1, 1, e^{s_1}, e^{s_2})$, so
# $\log|\det| = s_1 + s_2 = \tanh(x_1 + x_2) + \tanh(x_1 - x_2)$; the shift 0.7 does not matter.

# %%
x1, x2 = 0.4, -1.2
answer = math.tanh(x1 + x2) + math.tanh(x1 - x2)
assert check("06.1", answer)

# %% [markdown]
# **06.2** Zero conditioners make every coupling the identity (log-det 0), so
# $-\log p(x) = |x|^2/2 + \log 2\pi$ in two dimensions.

# %%
answer = 0.5 * (1.0**2 + 2.0**2) + math.log(2 * math.pi)
assert check("06.2", answer)

# %% [markdown]
# **06.3** The same $W$ acts on each of the $4\times 4 = 16$ pixels: $\log|\det| = 16\log|\det W|$,
# $\det W = 2\cdot 3 - 1\cdot 0.5 = 5.5$.

# %%
answer = 16 * math.log(abs(2 * 3 - 1 * 0.5))
assert check("06.3", answer)

# %% [markdown]
# **06.4** After the initialisation $g_c = -\log\mathrm{std}_c$, and the log-det of a vector
# (one pixel) is $\sum_c g_c = -\log(2\cdot 0.5\cdot 4)$.

# %%
answer = -(math.log(2) + math.log(0.5) + math.log(4))
assert check("06.4", answer)

# %% [markdown]
# **06.5** By (6.2), $-\log P(v) \le \mathbb E[-\log q(y)] - d\log\frac{\mathrm{high}-\mathrm{low}}{n}$
# with $d = 64$, $n = 17$ and bins of width $4/17$.

# %%
answer = 60.0 - 64 * math.log(4 / 17)
assert check("06.5", answer)
