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
# # Chapter 07 · Worked solutions
#
# Each answer is derived on its own and then passed to the chapter's checker; CI runs this
# notebook, so every solution is verified. Runtime: a few seconds.
#
# **Mode.** Fast on a CPU, full where a GPU is present (the chapter notebook's first cell says
# more); `COURSE_FAST=0` or `COURSE_FAST=1` in the environment switches.

# %%
import math

import torch

from course_lib.attention import online_softmax_states
from course_lib.checks import check

# %% [markdown]
# **07.1** Standard attention reads $Q, K$ ($2Nd$), writes $S$ ($N^2$), reads $S$ ($N^2$),
# writes $P$ ($N^2$), reads $P$ and $V$ ($N^2 + Nd$) and writes $O$ ($Nd$): $4Nd + 4N^2$.

# %%
N, d = 4096, 64
answer = 4 * N * d + 4 * N**2
print(f"{answer:,} elements")
assert check("07.1", answer)

# %% [markdown]
# **07.2** Bring both sums to the common maximum $m = \max(m_1, m_2)$:
# $\ell = \ell_1 e^{m_1 - m} + \ell_2 e^{m_2 - m}$. Cross-check: combining the states of two
# halves of a row gives the state of the whole row.


# %%
def combine(m1: float, l1: float, m2: float, l2: float) -> tuple[float, float]:
    m = max(m1, m2)
    return m, l1 * math.exp(m1 - m) + l2 * math.exp(m2 - m)


x = torch.randn(30, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
*_, left = online_softmax_states(x[:11], 11)
*_, right = online_softmax_states(x[11:], 19)
*_, whole = online_softmax_states(x, 30)
m, l = combine(left.m.item(), left.l.item(), right.m.item(), right.l.item())
assert math.isclose(m, whole.m.item()) and math.isclose(l, whole.l.item(), rel_tol=1e-12)
assert check("07.2", combine)

# %% [markdown]
# **07.3** After chunk 1, $[0.5, 2.0]$: $m = 2$, $\ell = e^{-1.5} + 1$. Chunk 2, $[-1, 3]$, raises
# the max to 3, so the old sum is rescaled by $e^{2-3}$ and the new terms added:
# $\ell = (e^{-1.5} + 1)e^{-1} + e^{-4} + 1$.

# %%
answer = (math.exp(-1.5) + 1) * math.exp(-1) + math.exp(-4) + 1
assert check("07.3", answer)

# %% [markdown]
# **07.4** $B\,H\,N^2$ entries of 4 bytes: $16 \cdot 8192^2 \cdot 4 = 4\,\text{GiB}$.

# %%
answer = 1 * 16 * 8192**2 * 4
print(answer / 2**30, "GiB")
assert check("07.4", answer)

# %% [markdown]
# **07.5** $B_c = \lceil M / 4d \rceil = \lceil 49152 / 256 \rceil = 192$ and
# $B_r = \min(B_c, d) = 64$: here the query block is capped by the head dimension.

# %%
M, d = 49152, 64
B_c = math.ceil(M / (4 * d))
answer = (min(B_c, d), B_c)
print(answer)
assert check("07.5", answer)

# %% [markdown]
# **07.6** $QK^\top$ and $PV$ each take $2N^2d$ flops per head (a multiply and an add per
# term): $4\,BH\,N^2 d$, halved by the causal mask.

# %%
answer = 4 * 32 * 2048**2 * 128 / 2
print(f"{answer / 1e12:.3f} TFLOP")
assert check("07.6", answer)
