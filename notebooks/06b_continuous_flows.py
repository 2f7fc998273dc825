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

# %% [markdown] slideshow={"slide_type": "slide"}
# # Chapter 06b · Continuous normalizing flows, and back to flow matching
#
# Let the number of layers of a flow go to infinity, each layer a tiny step $x \mapsto x + v\,dt$:
# the flow becomes an ODE $dx/dt = v(x, t)$, and the sum of log-dets becomes an integral of a
# trace. This notebook derives that **instantaneous change of variables** from the continuity
# equation, estimates the trace cheaply (Hutchinson), computes exact log-likelihoods by one
# augmented ODE solve, and closes the loop with Chapter 05: a flow-matching model *is* a
# continuous flow, so its likelihood can be computed, and for the exact mixture velocity it
# must reproduce the mixture's exact density.
#
# **Learning goals.** After this notebook you can
# 1. derive $\frac{d}{dt}\log p_t(x_t) = -\operatorname{tr}(\partial v/\partial x)$ from the continuity
#    equation and from Jacobi's formula;
# 2. derive the mean and variance of Hutchinson's trace estimator for Rademacher and Gaussian
#    probes;
# 3. compute a CNF's log-likelihood with an adaptive ODE solver (`torchdiffeq`);
# 4. evaluate a flow-matching model's exact likelihood and compare it with the data's entropy.
#
# **Prerequisites.** Notebook 06a (change of variables); Chapter 05's flow matching
# (notebook 05d: data at $t = 0$, noise at $t = 1$, the exact mixture velocity).
#
# **Runtime.** Fast mode (`COURSE_FAST=1`, as in CI): about 90 s on a 2-core CPU (first run;
# the trained model is cached). Full mode: a few minutes on a GPU (longer training, more
# evaluation points, tighter checks).
#
# **Mode.** The set-up cell prints the mode this run uses: *fast* on a CPU, *full* where a GPU
# is present. To switch, start JupyterLab with `COURSE_FAST=0 make lab` (full) or
# `COURSE_FAST=1 make lab` (fast), or run `%env COURSE_FAST=0` before the set-up cell.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import math

import torch
from IPython.display import display
from torchdiffeq import odeint

from course_lib import runtime
from course_lib.checks import assert_close, assert_within_se, check, hint, standard_error  # noqa: F401
from course_lib.diffusion import mixture_velocity, viz_flow
from course_lib.flows import (
    FlowConfig,
    cnf_log_likelihood,
    continuity_residual,
    divergence_exact,
    divergence_hutchinson,
    heldout_nll,
    hutchinson_samples,
    hutchinson_variance,
    make_flow,
    mixture_entropy,
    probe_like,
    toy,
    train_flow,
    viz,
)
from course_lib.source import show_source

gen = runtime.seed_all(0)
DEVICE = runtime.device()
print(runtime.describe())

# Sizes: small in fast mode (CI), large in full mode. Nothing below edits them.
N_PROBES = runtime.pick(fast=100_000, full=2_000_000)
N_EXACT = runtime.pick(fast=4, full=32)
N_EVAL = runtime.pick(fast=300, full=5000)
FM_STEPS = runtime.pick(fast=2000, full=8000)

mix = toy("toy_mixture")


def velocity(x, t):
    """Chapter 05's exact marginal velocity (10.2) of the toy mixture (data at t = 0)."""
    return mixture_velocity(mix, x, t)


# %% [markdown] slideshow={"slide_type": "notes"}
# **Lecture plan (45 min; speaker notes, not projected).** The trained flow-matching
# CNF is cached (`ONLY="06" make warm`). §1 the instantaneous change of variables (10 min) · §2
# the trace, exact vs Hutchinson (10) · §3 the CNF log-likelihood as one augmented ODE solve (9) ·
# §4 flow matching is a CNF: the exact flow, the trained model, the flow-steps widget (11) ·
# exercise 06.6 live (5). Skipped: listings, Hutchinson on a velocity field, the NLL-vs-entropy
# check of the trained CNF, exercises 06.7–06.9.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1 · The instantaneous change of variables
#
# Points move by $dx/dt = v(x_t, t)$ and carry the density $p_t$. Mass is conserved, so $p_t$
# obeys the **continuity equation**
#
# $$\partial_t p_t + \nabla\cdot(p_t v) = 0. \tag{7.1}$$
#
# Along a trajectory, $\frac{d}{dt}\log p_t(x_t) = \partial_t \log p_t + v\cdot\nabla\log p_t$.
# Dividing (7.1) by $p_t$ and expanding $\nabla\cdot(p v) = p\,\nabla\cdot v + v\cdot\nabla p$:
#
# $$\frac{d}{dt}\log p_t(x_t) = -\nabla\cdot v(x_t, t) = -\operatorname{tr}\frac{\partial v}{\partial x}. \tag{7.2}$$
#
# **Check (7.1).** Chapter 05's exact flow-matching velocity and the exact noised mixture
# $p_t$ (a mixture with $a = 1 - t$, $s = t$) must satisfy (7.1): the residual
# $\partial_t\log p_t + v\cdot\nabla\log p_t + \nabla\cdot v$, all by autograd, is zero; a
# velocity 30 % too fast is not.


# %%
def log_density(x, t):
    return mix.log_prob(x, 1 - t, t)


xs = mix.sample(6, generator=gen, dtype=torch.float64)
for t in (0.1, 0.5, 0.9):
    res = continuity_residual(log_density, velocity, xs, t)
    wrong = continuity_residual(log_density, lambda x, s: 1.3 * velocity(x, s), xs, t)
    print(
        f"t = {t}: max |residual| {float(res.abs().max()):.1e}; 1.3 v gives {float(wrong.abs().max()):.2f}"
    )
    assert res.abs().max() < 1e-8 and wrong.abs().max() > 0.05

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The same result by Jacobians.** $J_t = \partial x_t/\partial x_0$ obeys
# $\dot J = (\partial v/\partial x)J$, and Jacobi's formula gives
# $\frac{d}{dt}\log|\det J_t| = \operatorname{tr}(J^{-1}\dot J) = \operatorname{tr}(\partial v/\partial x)$:
#
# $$\log|\det J_t| = \int_0^t \operatorname{tr}\frac{\partial v}{\partial x}(x_s, s)\,ds. \tag{7.3}$$
#
# It is (1.1) with infinitely many layers. **Check (7.3).** For a linear field $v = Bx$,
# $J_t = e^{tB}$ and $\log|\det e^{tB}| = t\operatorname{tr}B$ (matrix exponential, no ODE). For
# a nonlinear field, autograd differentiates through an RK4 solve to get $J_1$, compared with
# the integrated trace that `cnf_log_likelihood` accumulates.

# %% slideshow={"slide_type": "fragment"}
B = torch.tensor([[0.3, -1.0, 0.2], [0.8, -0.4, 0.0], [0.1, 0.5, -0.7]], dtype=torch.float64)
assert_close(
    torch.linalg.slogdet(torch.linalg.matrix_exp(0.7 * B))[1],
    0.7 * torch.trace(B),
    label="log det e^{tB}",
)


def field(x, t):
    return torch.tanh(x @ B.T) * (1 + t[:, None]) + torch.sin(x.flip(1))


def flow_map(x0):
    ts = torch.tensor([0.0, 1.0], dtype=torch.float64)
    rhs = lambda t, y: field(y[None], t.expand(1))[0]  # noqa: E731
    return odeint(rhs, x0, ts, method="rk4", options={"step_size": 0.01})[-1]


x0 = torch.tensor([0.2, -0.4, 0.9], dtype=torch.float64)
log_det_J = torch.linalg.slogdet(torch.autograd.functional.jacobian(flow_map, x0))[1]
logp, z = cnf_log_likelihood(field, x0[None], rtol=1e-10, atol=1e-12, return_noise=True)
integral = logp + 0.5 * (z**2).sum(1) + 1.5 * math.log(2 * math.pi)  # = int tr(dv/dx) dt
assert_close(integral[0], log_det_J, rtol=1e-7, atol=1e-7, label="(7.3) nonlinear field")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2 · The trace: exact, or Hutchinson's estimator
#
# The exact divergence needs $d$ backward passes, one per coordinate:

# %% slideshow={"slide_type": "skip"}
display(show_source(divergence_exact, "exact-trace"))

# %% [markdown]
# **Hutchinson's estimator.** For a random probe $\varepsilon$ with $\mathbb E[\varepsilon\varepsilon^\top] = I$,
# $\mathbb E[\varepsilon^\top A\varepsilon] = \operatorname{tr}(A\,\mathbb E[\varepsilon\varepsilon^\top]) = \operatorname{tr}A$ (7.5),
# and $\varepsilon^\top(\partial v/\partial x)\varepsilon$ costs **one** vector-Jacobian product.
# Its variance (7.6): with $S = (A + A^\top)/2$, $\varepsilon^\top A\varepsilon = \varepsilon^\top S\varepsilon$.
# Rademacher probes ($\pm1$): $\varepsilon^\top S\varepsilon = \operatorname{tr}S + 2\sum_{i<j}S_{ij}\varepsilon_i\varepsilon_j$, the
# products are uncorrelated with variance 1, so
# $\operatorname{Var} = 4\sum_{i<j}S_{ij}^2 = \sum_{i\ne j}(A_{ij}^2 + A_{ij}A_{ji})$. Gaussian probes:
# $\operatorname{Var} = 2\|S\|_F^2 = \|A\|_F^2 + \operatorname{tr}(A^2)$. (For a non-symmetric $A$ the
# familiar $2\|A\|_F^2 - 2\sum_i A_{ii}^2$ is wrong.)

# %% [markdown] slideshow={"slide_type": "notes"}
# **Notes for §2.** Misconception: "Hutchinson's estimator is biased". It is unbiased for
# any probe with $\mathbb E[\varepsilon\varepsilon^\top] = I$ (7.5); only its variance depends on
# the probe law (7.6), and the check asserts both. Point at the trap in the last sentence: the
# familiar variance formula holds for symmetric matrices only. Do not work out the variance for
# the exercise's matrix here: that is the live exercise 06.6.

# %% slideshow={"slide_type": "skip"}
display(show_source(divergence_hutchinson, "hutchinson"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check (7.5)-(7.6).** For a non-symmetric matrix, the sample mean lies within standard errors
# of $\operatorname{tr}A$ and the sample variance within its standard error of the closed form, for
# both probe kinds; the symmetric-only formula is many standard errors off. Then an
# independent route: enumerate all $2^3$ Rademacher probes exactly.

# %%
A = torch.tensor([[1.0, 2.0, -0.5], [-3.0, 0.5, 1.5], [0.7, -2.0, 2.0]], dtype=torch.float64)
for kind in ("rademacher", "gaussian"):
    s = hutchinson_samples(A, N_PROBES, kind, generator=gen)
    assert_within_se(s.mean(), torch.trace(A), standard_error(s), label=f"{kind}: mean vs tr A")
    var = float(s.var())
    se_var = math.sqrt(float(((s - s.mean()) ** 4).mean()) - var**2) / math.sqrt(N_PROBES)
    assert_within_se(var, hutchinson_variance(A, kind), se_var, label=f"{kind}: variance (7.6)")
symmetric_only = 2 * float((A**2).sum() - (torch.diagonal(A) ** 2).sum())
print(f"symmetric-only formula: {symmetric_only:.3f}")
assert abs(symmetric_only - hutchinson_variance(A, "rademacher")) > 1.0

signs = torch.cartesian_prod(*[torch.tensor([-1.0, 1.0], dtype=torch.float64)] * 3)
values = torch.einsum("ni,ij,nj->n", signs, A, signs)
assert_close(values.mean(), torch.trace(A), label="enumerated mean")
assert_close(
    values.var(unbiased=False), hutchinson_variance(A, "rademacher"), label="enumerated variance"
)

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (7.5) on a velocity field.** Hutchinson's divergence of the exact mixture velocity,
# averaged over probes, matches the exact divergence at each point.

# %% slideshow={"slide_type": "skip"}
x4 = xs[:3]
tt = torch.full((3,), 0.4, dtype=torch.float64)
_, exact_div = divergence_exact(velocity, x4, tt)
ests = torch.stack(
    [divergence_hutchinson(velocity, x4, tt, probe_like(x4, generator=gen))[1] for _ in range(400)]
)
for i in range(3):
    assert_within_se(
        ests[:, i].mean(), exact_div[i], standard_error(ests[:, i]), label=f"div at point {i}"
    )

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3 · The CNF log-likelihood: one augmented ODE solve
#
# Integrate (7.2) from the data side $t_0$ to the noise side $t = 1$:
#
# $$\log p_{t_0}(x) = \log\mathcal N(x_1; 0, I) + \int_{t_0}^{1}\nabla\cdot v(x_t, t)\,dt, \qquad x_{t_0} = x. \tag{7.4}$$
#
# The state $(x_t, \int\nabla\cdot v)$ solves one ODE; `torchdiffeq`'s adaptive Dormand–Prince
# solver controls the error, in float64 with tight tolerances for the checks.

# %% slideshow={"slide_type": "skip"}
display(show_source(cnf_log_likelihood, "cnf-likelihood"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check (7.4), closed form.** For $v = Bx$, $x_1 = e^{B}x$ and
# $\log p_0(x) = \log\mathcal N(e^{B}x; 0, I) + \operatorname{tr}B$.

# %%
x3 = torch.randn(5, 3, generator=gen, dtype=torch.float64)
logp = cnf_log_likelihood(lambda y, t: y @ B.T, x3, rtol=1e-10, atol=1e-12)
z_exact = x3 @ torch.linalg.matrix_exp(B).T
expected = -0.5 * (z_exact**2).sum(1) - 1.5 * math.log(2 * math.pi) + torch.trace(B)
assert_close(logp, expected, rtol=1e-8, atol=1e-8, label="linear CNF")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4 · Back to Chapter 05: flow matching is a CNF
#
# Chapter 05 trained a velocity by flow matching, with data at $t = 0$ and noise at $t = 1$,
# and gave the exact marginal velocity of a mixture:

# %% slideshow={"slide_type": "skip"}
display(show_source(mixture_velocity, "mixture-velocity"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check: the exact flow's likelihood is the exact density.** (10.2) is singular at
# $t = 0$ (a division by $t$), so start at $t_0 = 10^{-3}$: the marginal there is exactly the
# mixture with $a = 1 - t_0$, $s = t_0$. The CNF log-likelihood (7.4) of the exact velocity must
# equal that exact log-density within the ODE tolerance; forgetting the divergence integral is
# far off.

# %%
t0 = 1e-3
pts = mix.sample(N_EXACT, generator=gen, dtype=torch.float64)
logp, z = cnf_log_likelihood(velocity, pts, t0=t0, rtol=1e-7, atol=1e-9, return_noise=True)
exact = mix.log_prob(pts, 1 - t0, t0)
print("CNF:  ", logp.numpy().round(6), "\nexact:", exact.numpy().round(6))
assert_close(logp, exact, rtol=0, atol=1e-5, label="CNF of the exact flow vs the exact density")
no_divergence = -0.5 * (z**2).sum(1) - math.log(2 * math.pi)
assert (no_divergence - exact).abs().max() > 0.3

# %% [markdown] slideshow={"slide_type": "subslide"}
# **A trained flow-matching model.** The same objective as Chapter 05 (10.3), through the same
# cached training loop; its exact held-out NLL by (7.4), against the entropy of the data.

# %%
cfg = FlowConfig(
    family="cnf", data="toy_mixture", n_layers=1, steps=FM_STEPS, batch_size=512, lr=3e-3
)
fm_model = train_flow(cfg, device=DEVICE).model.cpu()
H = mixture_entropy(mix)
fm_nll, fm_se = heldout_nll(fm_model, mix, N_EVAL, rtol=1e-5, atol=1e-7)
identity_nll = heldout_nll(make_flow("realnvp", 2, 1).double(), mix, N_EVAL)[0]
print(
    f"entropy {H:.3f} | flow matching NLL {fm_nll:.3f} ± {fm_se:.3f} (gap {fm_nll - H:+.3f}) | untrained {identity_nll:.3f}"
)

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (8.1).** The trained CNF cannot beat the entropy (beyond 4 standard errors), must
# beat the untrained Gaussian by more than half a nat, and its KL gap to the data is below
# half a nat.

# %% slideshow={"slide_type": "skip"}
assert fm_nll > H - 4 * fm_se
assert fm_nll < identity_nll - 0.5
assert fm_nll - H < 0.5

# %% [markdown]
# The trained CNF's density (every grid point is one ODE solve) beside the exact one:

# %% slideshow={"slide_type": "fragment"}
display(
    viz.density_figure(
        "cnf", "toy_mixture", 1, steps=FM_STEPS, n_eval=N_EVAL, grid=40, batch_size=512, lr=3e-3
    )
)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Widget.** The exact mixture flow of section 4 integrated with $k$ Euler steps instead of an
# adaptive solver (Chapter 05d's widget): move $k$ to see what the discretisation does to the
# samples. The likelihoods above use an adaptive solve with tight tolerances instead.

# %%
# NBVAL_IGNORE_OUTPUT
viz_flow.flow_steps_widget(n=N_EVAL)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# `check(id, answer)` says right or wrong (never the value); `hint("06.6")` gives hints one at
# a time.
#
# **06.6** Hutchinson's estimator $\varepsilon^\top A\varepsilon$ with Rademacher probes for
# $A = \begin{pmatrix}2&1&0\\-1&3&2\\4&0&1\end{pmatrix}$: what is its variance? Derive it; do not
# simulate.
# Answer: a float, to 6 significant digits.

# %%
answer = None
check("06.6", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **06.7** The same matrix with standard Gaussian probes: what is the variance of
# $\varepsilon^\top A\varepsilon$?
# Answer: a float, to 6 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("06.7", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **06.8** Data $\mathcal N(0, 0.25\,I)$ in 2-D, path $x_t = (1-t)x_0 + t x_1$ of Chapter 05. Derive
# the exact marginal velocity and give its divergence at $t = 0.5$ (any $x$).
# Answer: a float, to 5 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("06.8", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **06.9** With Rademacher probes and the matrix of 06.6, how many independent probes must be
# averaged so that the standard error of the trace estimate is at most 0.1?
# Answer: an integer.

# %% slideshow={"slide_type": "skip"}
answer = None
check("06.9", answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# * The continuity equation (7.1) gives $\frac{d}{dt}\log p_t(x_t) = -\nabla\cdot v$ (7.2); Jacobi's
#   formula gives the same as the limit of stacked log-dets (7.3).
# * Hutchinson's estimator is unbiased with variance $\sum_{i\ne j}(A_{ij}^2 + A_{ij}A_{ji})$
#   (Rademacher) or $\|A\|_F^2 + \operatorname{tr}A^2$ (Gaussian).
# * A CNF's log-likelihood is one augmented ODE solve (7.4).
# * Chapter 05's flow matching trains a CNF without simulation; with the exact mixture velocity,
#   (7.4) reproduces the mixture's exact density, and a trained model's NLL sits above the entropy.
#
# ## References
#
# * R. T. Q. Chen, Y. Rubanova, J. Bettencourt, D. Duvenaud. *Neural Ordinary Differential
#   Equations*. NeurIPS 2018.
# * W. Grathwohl, R. T. Q. Chen, J. Bettencourt, I. Sutskever, D. Duvenaud. *FFJORD:
#   Free-form Continuous Dynamics for Scalable Reversible Generative Models*. ICLR 2019.
# * M. F. Hutchinson. *A stochastic estimator of the trace of the influence matrix for
#   Laplacian smoothing splines*. Communications in Statistics, 1990.
# * Y. Lipman, R. T. Q. Chen, H. Ben-Hamu, M. Nickel, M. Le. *Flow Matching for Generative
#   Modeling*. ICLR 2023.
# * Y. Song et al. *Score-Based Generative Modeling through Stochastic Differential Equations*.
#   ICLR 2021 (probability-flow ODE likelihoods).
# * `torchdiffeq` (R. T. Q. Chen), the adaptive ODE solvers used here.
# * The seed articles on continuous flows and on the Jacobian/continuity derivation are not in
#   `shared/seeds/`; the derivations above follow the papers.
