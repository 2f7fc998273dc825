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
# # Chapter 02 · Worked solutions
#
# Each solution derives the answer on its own (by hand formulas, brute force or an
# independent computation), then asserts that the chapter's checker accepts it. CI runs
# this notebook, so every published solution is verified. Runtime: a few seconds in either
# mode.
#
# **Mode.** Fast on a CPU, full where a GPU is present (the chapter notebook's first cell says
# more); `COURSE_FAST=0` or `COURSE_FAST=1` in the environment switches.

# %%
import math

import numpy as np
import torch

from course_lib.checks import check

# %% [markdown]
# **02.1** The cross term $4x_1x_2$ is $A_{12}x_1x_2 + A_{21}x_2x_1$; symmetry shares it
# equally, $A_{12} = A_{21} = 2$, and the squares give the diagonal. Check at random points
# that $x^\top Ax$ reproduces the polynomial.

# %%
A = np.array([[3.0, 2.0], [2.0, -1.0]])
pts = np.random.default_rng(0).normal(size=(10, 2))
poly = 3 * pts[:, 0] ** 2 + 4 * pts[:, 0] * pts[:, 1] - pts[:, 1] ** 2
assert np.allclose(np.einsum("ki,ij,kj->k", pts, A, pts), poly)
assert check("02.1", A)

# %% [markdown]
# **02.2** The Hessian of $x^\top Ax + b^\top x + c$ is $2A$, with eigenvalues $2$ and $18$;
# the best step is $2/(\mu_{\min} + \mu_{\max}) = 2/20$. Cross-check by scanning steps: the
# rate $\max(|1 - 2\eta|, |1 - 18\eta|)$ is smallest there.

# %%
answer = 2 / (2 * 1 + 2 * 9)
etas = np.linspace(0.001, 0.2, 199_001)
rates = np.maximum(np.abs(1 - 2 * etas), np.abs(1 - 18 * etas))
assert abs(etas[np.argmin(rates)] - answer) < 1e-5
assert check("02.2", answer)

# %% [markdown]
# **02.3** $\kappa = 200/2 = 100$: gradient descent contracts by $(\kappa-1)/(\kappa+1) = 99/101$,
# heavy ball by $(\sqrt\kappa - 1)/(\sqrt\kappa + 1) = 9/11$. Cross-check heavy ball through
# the spectral radius of its $2\times2$ iteration matrices at the best parameters.

# %%
kappa = 200 / 2
gd = (kappa - 1) / (kappa + 1)
hb = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
alpha = 4 / (math.sqrt(200) + math.sqrt(2)) ** 2
beta = hb**2
radius = max(
    np.abs(np.linalg.eigvals(np.array([[1 + beta - alpha * mu, -beta], [1, 0]]))).max()
    for mu in np.linspace(2, 200, 50)
)
assert abs(radius - hb) < 1e-6
assert check("02.3", [gd, hb])

# %% [markdown]
# **02.4** $A$ has rank 1 (its range is spanned by $(1, -1, 0)$), so $\operatorname{null}(A)$
# is spanned by $(1, 1, 0)$ and $(0, 0, 1)$: dimension 2. $b = (2, -2, 0)$ is orthogonal to
# both, so $2Ax = -b$ is solvable and the stationary set is a plane (dimension 2);
# $b = (2, 0, 0)$ has a component along $(1, 1, 0)$, so there is no stationary point ($-1$).
# Least squares confirms: the residual of $2Ax = -b$ vanishes only for the first $b$.

# %%
A = np.array([[1.0, -1.0, 0.0], [-1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
dims = []
for b in (np.array([2.0, -2.0, 0.0]), np.array([2.0, 0.0, 0.0])):
    x, *_ = np.linalg.lstsq(2 * A, -b, rcond=None)
    solvable = np.allclose(2 * A @ x, -b)
    dims.append(3 - np.linalg.matrix_rank(A) if solvable else -1)
assert check("02.4", dims)

# %% [markdown]
# **02.5** $\partial_k \sum_{ij} a_{ij}x_ix_j = \sum_j a_{kj}x_j + \sum_i a_{ik}x_i$, so
# $\nabla f = (a + a^\top)x + b$. Cross-check with autograd on a random non-symmetric $a$.


# %%
def grad(a, b, x):
    return (a + a.T) @ x + b


a_t = torch.randn(4, 4, dtype=torch.float64)
b_t = torch.randn(4, dtype=torch.float64)
x_t = torch.randn(4, dtype=torch.float64, requires_grad=True)
(g_auto,) = torch.autograd.grad(x_t @ a_t @ x_t + b_t @ x_t, x_t)
assert np.allclose(grad(a_t.numpy(), b_t.numpy(), x_t.detach().numpy()), g_auto.numpy())
assert check("02.5", grad)

# %% [markdown]
# **02.6** CG's error after $k$ steps is $P_k(H)e_0$ with the best $P_k$ of degree $k$,
# $P_k(0) = 1$. $P(\mu) = (1 - \mu)(1 - \mu/4)(1 - \mu/9)$ vanishes at every eigenvalue, so
# three steps suffice, and fewer cannot: a degree-2 polynomial cannot vanish at three points
# with $P(0) = 1$. Run it in float64 as a check: the error is at rounding level after step 3.

# %%
g = torch.Generator().manual_seed(5)
U, _ = torch.linalg.qr(torch.randn(6, 6, generator=g, dtype=torch.float64))
H = (U * torch.tensor([1.0, 1, 1, 4, 4, 9], dtype=torch.float64)) @ U.T
rhs = torch.randn(6, generator=g, dtype=torch.float64)
x_star = torch.linalg.solve(H, rhs)
x, r = torch.zeros(6, dtype=torch.float64), rhs.clone()
d, errors = r.clone(), []
for _ in range(4):  # plain CG, written out here independently of the library
    alpha = (r @ r) / (d @ H @ d)
    x, r_new = x + alpha * d, r - alpha * H @ d
    d, r = r_new + (r_new @ r_new) / (r @ r) * d, r_new
    errors.append(float((x - x_star).norm() / x_star.norm()))
answer = next(k + 1 for k, err in enumerate(errors) if err < 1e-10)
assert errors[1] > 1e-6
assert check("02.6", answer)
