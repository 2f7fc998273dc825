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
# # Chapter 05d · Diffusion models IV: flow matching and rectified flow
#
# Notebook 05c wrote every diffusion model as $x_t = s(t)(x_0 + \sigma(t)\epsilon)$ and found that
# the *straight* path $x_t = (1-t)x_0 + t\epsilon$ (rectified flow, flow matching) is one member of
# the family. Here we take that path as the starting point, as Lipman et al. (2023, "Flow Matching
# for Generative Modeling") and Liu, Gong & Liu (2023, "Flow Straight and Fast: ... Rectified
# Flow") do: learn a velocity field by regressing on the conditional velocity $x_1 - x_0$,
# sample by integrating an ODE, and **reflow** to straighten the paths until one Euler step gives
# good samples. Every step is checked on the chapter's 2-D Gaussian mixture, where the marginal
# velocity is known exactly.
#
# **Learning goals.** After this notebook you can
# 1. write the conditional path and velocity, and derive the marginal velocity
#    $v(x,t) = (x - \mathbb E[x_0\mid x_t = x])/t$ from the denoiser;
# 2. explain why the conditional flow-matching loss has the marginal velocity as its minimiser;
# 3. train a velocity network and sample it with $k$ Euler steps;
# 4. measure the straightness of a flow and reduce it by reflow, trading a training run for
#    one-step sampling.
#
# **Prerequisites.** Notebook 05c (the unified perturbation and the denoiser interface); 05b's
# probability-flow ODE.
#
# **Runtime.** Fast mode (`COURSE_FAST=1`, as in CI): about 30 s on a 2-core CPU, including
# training the small network(s) (which are then cached on disk by config). Full mode:
# about 1.5 minutes on a 2-core CPU (larger samples, longer training); on a GPU the networks
# train there (`runtime.device()`).
#
# **Mode.** The set-up cell prints the mode this run uses: *fast* on a CPU, *full* where a GPU
# is present. To switch, start JupyterLab with `COURSE_FAST=0 make lab` (full) or
# `COURSE_FAST=1 make lab` (fast), or run `%env COURSE_FAST=0` before the set-up cell.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import math

import torch
from IPython.display import display

from course_lib import runtime
from course_lib.checks import assert_close, assert_within_se, check, hint  # noqa: F401
from course_lib.diffusion import (
    Flow,
    TrainConfig,
    cfm_loss,
    conditional_path,
    conditional_velocity,
    data_floor,
    flow_euler_sample,
    mixture_velocity,
    mmd,
    ode_derivative,
    straightness,
    toy_mixture,
    train_denoiser,
    viz_flow,
)
from course_lib.diffusion.derivations import fokker_planck_residual
from course_lib.diffusion.flow_objectives import exact_reflow_pool
from course_lib.source import show_source

gen = runtime.seed_all(2023)
DEVICE = runtime.device()
print(runtime.describe())

N_EVAL = runtime.pick(fast=1_000, full=4_000)  # samples per quality measurement
N_MC = runtime.pick(fast=200_000, full=1_000_000)  # Monte Carlo sizes for the checks
TRAIN_STEPS = runtime.pick(fast=2_000, full=8_000)
F64 = torch.float64
mix = toy_mixture()


def draw_data(n, g):
    return mix.sample(n, generator=g, dtype=F64)


def exact_v(x, t):
    """The exact marginal velocity (10.2) of the toy mixture, in float64."""
    return mixture_velocity(mix, x.double(), t.double()).to(x.dtype)


floor, floor_sd = data_floor(draw_data, N_EVAL, generator=gen)
print(f"data floor (MMD between two fresh data samples of {N_EVAL}): {floor:.4f} ± {floor_sd:.4f}")

# %% [markdown] slideshow={"slide_type": "notes"}
# **Lecture plan (45 min; speaker notes, not projected).** The trained velocity and the
# reflow model come from the cache (`ONLY="05" make warm`). §1 conditional paths (5 min) · §2 the
# marginal velocity and the continuity equation (10) · §3 conditional flow matching and training
# (8) · §4 straightness and the number of steps (7) · §5 reflow and the flow-steps widget (10) ·
# exercises 05.13 and 05.14, 05.14 done live (5). Skipped: the listing, the continuity-equation
# and transport checks, the reflow training set-up, exercise 05.15.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1 · Conditional paths
#
# **Convention** (05c's flow family; Esser et al. 2024 use the same): $t = 0$ is data, $t = 1$ is
# noise,
#
# $$x_t = (1-t)\,x_0 + t\,x_1,\qquad x_0\sim p_\text{data},\ x_1\sim\mathcal N(0, I),\qquad
# u = \frac{dx_t}{dt} = x_1 - x_0. \tag{10.1}$$
#
# (Liu et al. write the same path with the endpoints' names swapped.) Given the pair, the path is
# a straight line at constant speed. Its marginal at time $t$ is the data law scaled by $1-t$ and
# blurred by $\mathcal N(0, t^2 I)$, the flow row of (9.2).
#
# **Check (10.1).** The finite-difference derivative of the path is $u$; the sample covariance of
# $x_t$ is $(1-t)^2\operatorname{Cov}[x_0] + t^2 I$.

# %%
x0 = draw_data(N_MC, gen)
x1 = torch.randn(N_MC, 2, generator=gen, dtype=F64)
h, t = 1e-6, 0.4
fd = (
    conditional_path(x0[:1000], x1[:1000], t + h) - conditional_path(x0[:1000], x1[:1000], t - h)
) / (2 * h)
assert_close(fd, conditional_velocity(x0[:1000], x1[:1000]), atol=1e-7, label="dx_t/dt = x_1 - x_0")
xt = conditional_path(x0, x1, t)
cov_exact = (1 - t) ** 2 * mix.covariance() + t**2 * torch.eye(2, dtype=F64)
prod = (xt[:, 0] - xt[:, 0].mean()) * (xt[:, 1] - xt[:, 1].mean())
assert_within_se(prod.mean(), cov_exact[0, 1], float(prod.std()) / math.sqrt(N_MC), label="Cov_01")
sq = (xt[:, 0] - xt[:, 0].mean()) ** 2
assert_within_se(sq.mean(), cov_exact[0, 0], float(sq.std()) / math.sqrt(N_MC), label="Var_0")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2 · The marginal velocity
#
# Many conditional paths pass through the same point $x$ at time $t$; the flow that moves the
# *marginals* uses their average velocity,
#
# $$v(x,t) = \mathbb E[x_1 - x_0\mid x_t = x].$$
#
# From (10.1), $x_1 = (x_t - (1-t)x_0)/t$, so $x_1 - x_0 = (x_t - x_0)/t$ and
#
# $$v(x,t) = \frac{x - \mathbb E[x_0\mid x_t = x]}{t},\qquad
# \mathbb E[x_0\mid x_t = x] = D\!\Big(\frac{x}{1-t};\frac{t}{1-t}\Big), \tag{10.2}$$
#
# the denoiser of 05a at the scaled input (Tweedie with $a = 1-t$, $s = t$). For mixture data it is
# exact. (At $t = 1$, $x_1$ carries no information about $x_0$, so $\mathbb E[x_0\mid x_1] =
# \mathbb E[x_0]$.) The key lines of `mixture_velocity`:

# %% slideshow={"slide_type": "skip"}
show_source(mixture_velocity, "mixture-velocity")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check (10.2)** against an independent Monte Carlo estimate: weight data samples $x_0^{(j)}$ by
# the likelihood $\mathcal N(x; (1-t)x_0^{(j)}, t^2 I)$ (self-normalised importance sampling)
# and average $(x - x_0^{(j)})/t$. And: (10.2) is 05c's ODE (9.3) for the flow family.

# %%
xq = torch.tensor([[0.3, -0.2], [1.2, 0.8], [-1.0, -0.5], [0.0, 1.5]], dtype=F64)
for t in (0.2, 0.5, 0.8):
    logw = -((xq[:, None, :] - (1 - t) * x0[None]) ** 2).sum(-1) / (2 * t**2)
    w = torch.softmax(logw, dim=1)
    f = (xq[:, None, :] - x0[None]) / t
    mc = (w[..., None] * f).sum(1)
    se = ((w[..., None] ** 2) * (f - mc[:, None]) ** 2).sum(1).sqrt()
    err = (mixture_velocity(mix, xq, t) - mc).abs()
    print(f"t={t}: max |exact - MC| = {float(err.max()):.4f}, max 4 SE = {float(4 * se.max()):.4f}")
    assert torch.all(err < 4 * se + 1e-3)
    assert_close(
        mixture_velocity(mix, xq, t),
        ode_derivative(mix.denoiser, Flow(), xq, t),
        atol=1e-11,
        label=f"(10.2) = (9.3) for the flow family, t={t}",
    )

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The marginal velocity generates $p_t$.** A velocity field $v$ moves a density by the
# **continuity equation** (mass conservation: the change of mass in a region is the flux through
# its boundary; divergence theorem)
#
# $$\partial_t p_t(x) + \nabla\cdot\big(p_t(x)\,v(x,t)\big) = 0. \tag{10.7}$$
#
# Why does $v = \mathbb E[x_1 - x_0\mid x_t]$ satisfy it? For a test function $\varphi$,
# $\frac{d}{dt}\mathbb E\varphi(x_t) = \mathbb E[\nabla\varphi(x_t)\cdot(x_1 - x_0)] = \mathbb E[\nabla\varphi(x_t)\cdot v(x_t,t)]$
# (tower rule: condition on $x_t$), i.e. $\int\varphi\,\partial_t p_t = \int\nabla\varphi\cdot v\,p_t = -\int\varphi\,\nabla\cdot(p_t v)$.
# So the ODE $dx/dt = v$ started from $p_1 = \mathcal N(0,I)$ has the marginals $p_t$ at every $t$.
#
# **Check (10.7)** for the toy mixture: $\partial_t p_t$ by a central difference in $t$ of the exact
# density (6.1) with $a = 1-t$, $s = t$, and $\nabla\cdot(p_t v)$ by automatic differentiation of the exact
# velocity (10.2). A wrong field (the velocity at a shifted time) must break the balance.

# %% slideshow={"slide_type": "skip"}
x_ce = 1.5 * torch.randn(200, 2, generator=gen, dtype=F64)


def log_p_flow(x, t):
    return mix.log_prob(x, 1 - t, t)


for t_ce in (0.3, 0.7):
    lhs, rhs = fokker_planck_residual(
        log_p_flow, lambda x, t: mixture_velocity(mix, x, t), 0.0, x_ce, t_ce
    )
    assert_close(lhs, rhs, rtol=1e-5, atol=1e-7, label=f"continuity (10.7), t={t_ce}")
    lhs, bad = fokker_planck_residual(
        log_p_flow, lambda x, t: mixture_velocity(mix, x, t + 0.1), 0.0, x_ce, t_ce
    )
    assert float((lhs - bad).abs().max()) > 1e-2, "a wrong velocity must violate (10.7)"

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check: the marginal flow transports noise to data.** Euler's method on $dx/dt = v(x,t)$ from
# $t = 1$ to $0$ with $k$ uniform steps, $x_{t - 1/k} = x_t - v(x_t, t)/k$ (10.4), with 64 steps
# reaches the data law.

# %% slideshow={"slide_type": "skip"}
z = torch.randn(N_EVAL, 2, generator=gen, dtype=F64)
out64 = flow_euler_sample(exact_v, z, 64)
mmd64 = mmd(out64.x, draw_data(N_EVAL, gen))
print(f"exact flow, 64 Euler steps: MMD {mmd64:.4f} (floor {floor:.4f})")
assert mmd64 < 2 * floor

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3 · Conditional flow matching
#
# We cannot regress on $v$ (it needs the unknown data law), but we can regress on the
# *conditional* velocity. Because $v(x,t)$ is the conditional mean of $u = x_1 - x_0$ given
# $x_t = x$, for any field $\tilde v$
#
# **Convention:** every loss in this notebook is a *mean over coordinates* (the squared norm divided
# by $d = 2$), as the library's `cfm_loss` computes it; $\|\cdot\|^2$ below stands for that mean.
#
# $$\underbrace{\mathbb E\|\tilde v(x_t,t) - (x_1-x_0)\|^2}_{L_\text{CFM}(\tilde v)} =
# \underbrace{\mathbb E\|\tilde v(x_t,t) - v(x_t,t)\|^2}_{L_\text{FM}(\tilde v)} +
# \mathbb E\|v(x_t,t) - (x_1-x_0)\|^2 \tag{10.3}$$
#
# (the cross term vanishes by the tower rule), so both losses have the same minimiser: the
# marginal velocity. This is the flow analogue of denoising score matching (7.3).
#
# **Check (10.3).** For three different fields the gap $L_\text{CFM} - L_\text{FM}$ is the same
# constant, up to Monte Carlo error (same samples for all three).

# %% [markdown] slideshow={"slide_type": "notes"}
# **Notes for §3.** Misconception: "flow matching regresses the marginal velocity". It
# regresses the *conditional* velocity $x_1 - x_0$, which is known for every pair; (10.3) shows
# that its least-squares solution is the marginal velocity all the same, exactly as denoising
# score matching (7.3) recovers the score. The check: three different fields, one constant gap.

# %%
n = N_MC // 4
tq = torch.rand(n, generator=gen, dtype=F64).clamp(min=1e-3)
x0s, x1s = x0[:n], x1[:n]
xts = conditional_path(x0s, x1s, tq)
v_true = mixture_velocity(mix, xts, tq)
fields = {
    "exact": lambda x, t: mixture_velocity(mix, x, t),
    "exact + bias": lambda x, t: mixture_velocity(mix, x, t) + torch.tensor([0.3, -0.2], dtype=F64),
    "-x": lambda x, t: -x,
}
gaps = []
for name, fv in fields.items():
    l_cfm = ((fv(xts, tq) - (x1s - x0s)) ** 2).mean(1)  # mean over coordinates, as cfm_loss
    l_fm = ((fv(xts, tq) - v_true) ** 2).mean(1)
    gaps.append(l_cfm - l_fm)
    print(f"{name:>13}: L_CFM {float(l_cfm.mean()):.4f}, L_FM {float(l_fm.mean()):.4f}")
for g_ in gaps[1:]:
    diff = g_ - gaps[0]
    assert_within_se(diff.mean(), 0.0, float(diff.std()) / math.sqrt(n), label="gap difference")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Training.** `cfm_loss` draws $t\sim U(0,1)$ and $x_1\sim\mathcal N(0,I)$ per batch; part 1's MLP
# conditioned on $t$ (`VelocityNet`), part 1's training loop (objective `"cfm"`, network
# `"velocity_mlp"`, cached by config).

# %%
cfg = TrainConfig(net="velocity_mlp", objective="cfm", steps=TRAIN_STEPS, hidden=128, depth=3)
flow_model = train_denoiser(cfg, device=DEVICE).model.cpu()
with torch.no_grad():
    loss_trained = float(
        cfm_loss(flow_model, x0s.float(), generator=torch.Generator().manual_seed(1))
    )
    loss_exact = float(
        cfm_loss(
            lambda x, t: exact_v(x, t.clamp(min=1e-3)),
            x0s.float(),
            generator=torch.Generator().manual_seed(1),
        )
    )
print(f"L_CFM: trained {loss_trained:.4f}, exact marginal velocity {loss_exact:.4f} (the minimum)")
assert loss_exact - 0.01 < loss_trained < loss_exact + 0.1

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4 · Straightness and the number of steps
#
# One Euler step is exact only if every path is a straight line at constant speed. Liu et al.
# measure the deviation by the **straightness**
#
# $$S = \int_0^1\mathbb E\big\|(z_1 - z_0) - v(z_t, t)\big\|^2\,dt, \tag{10.6}$$
#
# along the ODE's own trajectories $z_t$ (zero iff all paths are straight). The marginal flow of
# a multimodal law is **not** straight: conditional paths cross, and averaging their velocities
# bends the marginal paths. **Check.** The exact flow's $S$ is far from zero, and one Euler step is
# far from the data law (more than 5× the floor) while 32 steps reach 2× the floor for the exact flow.

# %% slideshow={"slide_type": "fragment"}
z = torch.randn(N_EVAL, 2, generator=gen)
ref = draw_data(N_EVAL, gen)
S_exact = straightness(exact_v, z, 64)
S_trained = straightness(flow_model, z, 64)
print(f"straightness: exact flow {S_exact:.3f}, trained flow {S_trained:.3f}")
assert S_exact > 0.3
quality = {}
for name, fv in (("exact", exact_v), ("trained", flow_model)):
    quality[name] = [mmd(flow_euler_sample(fv, z, k).x.double(), ref) for k in (1, 2, 4, 8, 32)]
    print(name, [round(q, 4) for q in quality[name]], "for k = 1, 2, 4, 8, 32")
assert quality["trained"][-1] < 3 * floor
assert quality["exact"][0] > 5 * floor and quality["exact"][-1] < 2 * floor

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5 · Reflow
#
# Rectified flow's remedy (Liu et al.): draw $x_1\sim\mathcal N(0,I)$, solve the flow's ODE to get
# $x_0 = Z(x_1)$, and train a **new** velocity on these *coupled* pairs with the same loss (10.3).
# What is preserved: the **end-point marginals** — the pairs' $x_1$ are $\mathcal N(0, I)$ and their $x_0$
# follow the data law, so the new flow still maps noise to data. What changes: the **coupling** of
# $(x_0, x_1)$, and with it every intermediate marginal $p_t$, $0 < t < 1$, of the straight-line
# interpolation. Since the pairs came from non-crossing ODE paths, the straight lines between them
# cross much less: the new paths are nearly straight, and one Euler step nearly suffices. (10.5)
#
# We reflow the **exact** marginal flow: $2\times10^4$ pairs from 200 Euler steps
# (`exact_reflow_pool`), then train `VelocityNet` on them (data `"toy_mixture_reflow"`, objective
# `"reflow"`).
#
# **Check (10.5).** The coupled $x_0$ follow the data law and the $x_1$ are standard normal (the
# end points are preserved); at $t = 0.5$ the covariance of $x_t = (x_0 + x_1)/2$ under the reflow
# coupling differs from the independent coupling's $\tfrac14(\operatorname{Cov}[x_0] + I)$ by many
# standard errors (the middle marginal is **not** preserved).

# %%
pool = exact_reflow_pool().double()
pool_mmd = mmd(pool[:N_EVAL, :2], draw_data(N_EVAL, gen))
print(
    f"reflow pool: {pool.shape[0]} pairs; MMD of its x_0 to data {pool_mmd:.4f} (floor {floor:.4f})"
)
assert pool_mmd < 2 * floor
x1_pool = pool[:, 2:]
for i in range(2):
    sq_p = x1_pool[:, i] ** 2
    assert_within_se(
        sq_p.mean(), 1.0, float(sq_p.std()) / math.sqrt(sq_p.numel()), label=f"x_1 var {i}"
    )
mid = 0.5 * (pool[:, :2] + x1_pool)
mid_c = mid - mid.mean(0)
indep_cov = 0.25 * (mix.covariance() + torch.eye(2, dtype=F64))
z_cov = []
for i, j in ((0, 0), (1, 1), (0, 1)):
    prod_ij = mid_c[:, i] * mid_c[:, j]
    z_cov.append(
        float((prod_ij.mean() - indep_cov[i, j]) / (prod_ij.std() / math.sqrt(prod_ij.numel())))
    )
print(
    "Cov[x_0.5] reflow coupling - independent coupling, in standard errors: "
    + ", ".join(f"{z:+.1f}" for z in z_cov)
)
assert max(abs(z) for z in z_cov) > 10

# %% slideshow={"slide_type": "skip"}
cfg_rf = TrainConfig(
    data="toy_mixture_reflow",
    net="velocity_mlp",
    objective="reflow",
    steps=TRAIN_STEPS,
    hidden=128,
    depth=3,
)
reflow_model = train_denoiser(cfg_rf, device=DEVICE).model.cpu()

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check: reflow straightens.** Straightness falls by more than 10×, and one Euler step of the
# reflowed model beats one step of the original flow by more than 3× in MMD.

# %%
S_reflow = straightness(reflow_model, z, 64)
quality["reflow"] = [
    mmd(flow_euler_sample(reflow_model, z, k).x.double(), ref) for k in (1, 2, 4, 8, 32)
]
print(f"straightness: exact flow {S_exact:.3f} -> reflowed {S_reflow:.4f}")
print("reflow", [round(q, 4) for q in quality["reflow"]], "for k = 1, 2, 4, 8, 32")
assert S_reflow < 0.1 * S_exact
assert quality["reflow"][0] < quality["exact"][0] / 3

# %% [markdown] slideshow={"slide_type": "subslide"}
# Side by side: one Euler step of the exact flow (every sample lands in the same place; see
# exercise 05.14) and of the reflowed flow.

# %% slideshow={"slide_type": "fragment"}
display(viz_flow.flow_steps_figure(1, "exact"))
display(viz_flow.flow_steps_figure(1, "reflow", velocities={"reflow": reflow_model}))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Widget (c): flow steps.** Number of Euler steps $k$ and the flow (exact marginal or
# reflowed): $k$-step paths against the 64-step ones (dashed), samples, MMD and straightness.

# %%
# NBVAL_IGNORE_OUTPUT
viz_flow.flow_steps_widget({"reflow": reflow_model, "trained": flow_model})

# %% [markdown] slideshow={"slide_type": "notes"}
# **Reflow is not free.** The pairs cost an ODE solve each, and a learned reflow inherits the
# errors of the flow it distils; the new coupling is straighter, not exact. In practice one or
# two reflows, possibly followed by distillation, give few-step samplers (Liu et al. 2023).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# `check(id, answer)` says right or wrong (never the value); `hint("05.13")` gives hints one
# at a time.
#
# **05.13** 1-D data $\mathcal N(m, c^2)$, path $x_t = (1-t)x_0 + t x_1$ with noise
# $x_1\sim\mathcal N(0, 1)$: write `v(x, t, m, c)`, the marginal velocity (10.2), for $0 < t < 1$.
# Answer: a function `v(x, t, m, c) -> float`, to 8 significant digits.

# %%
answer = None
check("05.13", answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **05.14** With the exact marginal velocity of the toy mixture, where does **one** Euler step from
# $t = 1$ to $t = 0$ send every starting point? Give the 2-vector.
# Answer: a vector of 2 floats, to 6 significant digits.

# %%
answer = None
check("05.14", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **05.15** 1-D data $\mathcal N(0, c^2)$ with $c = 0.5$: the exact flow is
# $z_t = x_1\sqrt{(1-t)^2c^2 + t^2}$. Compute its straightness $S$ (10.6) to 3 significant digits.
# Answer: a float, to 3 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("05.15", answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# * The conditional path (10.1) is a straight line; the marginal velocity (10.2) is its conditional mean,
#   computed from the denoiser, and it satisfies the continuity equation (10.7): it generates $p_t$.
# * Conditional and marginal flow matching differ by a constant (10.3), so regressing on $x_1 - x_0$ learns $v$.
# * Marginal flows of multimodal data are curved (straightness 10.6); reflow (10.5) keeps the end-point
#   marginals at $t = 0$ and $t = 1$, changes the coupling (and the intermediate marginals) and straightens the paths.
#
# ## References
#
# * Y. Lipman, R. Chen, H. Ben-Hamu, M. Nickel, M. Le. *Flow Matching for Generative Modeling.* ICLR 2023.
# * X. Liu, C. Gong, Q. Liu. *Flow Straight and Fast: Learning to Generate and Transfer Data with Rectified Flow.* ICLR 2023.
# * M. S. Albergo, E. Vanden-Eijnden. *Building Normalizing Flows with Stochastic Interpolants.* ICLR 2023.
# * T. Karras et al. *Elucidating the Design Space of Diffusion-Based Generative Models.* NeurIPS 2022.
# * P. Esser et al. *Scaling Rectified Flow Transformers for High-Resolution Image Synthesis.* ICML 2024.
# * Seed article (Chinese): a unified derivation of diffusion models after EDM (基于 EDM 统一扩散模型框架), `shared/seeds/000_12b997980479caa7.txt`.
#
# **Glossary (中文 – English)**, terms of the seed article: 扩散模型 diffusion model · 加噪 noising ·
# 去噪 denoising · 得分/分数 score · 得分匹配 score matching · 概率流 probability flow ·
# 常微分方程 (ODE) ordinary differential equation · 随机微分方程 (SDE) stochastic differential equation ·
# 偏移系数 drift coefficient · 扩散系数 diffusion coefficient · 布朗运动 Brownian motion ·
# 逆向过程 reverse process · 预条件 preconditioning · 流匹配 flow matching · 整流/矫正流 rectified flow.
