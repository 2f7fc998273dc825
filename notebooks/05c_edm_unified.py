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
# # Chapter 05c · Diffusion models III: the EDM unified framework
#
# Notebooks 05a and 05b met DDPM, DDIM, SMLD and the VP/VE SDEs as separate inventions. Karras,
# Aittala, Aila & Laine (2022, "Elucidating the Design Space of Diffusion-Based Generative
# Models", **EDM**) showed that they differ only in a handful of independent choices: how the
# data are scaled and noised over time ($s(t)$, $\sigma(t)$), which time steps the solver visits,
# which ODE/SDE solver it uses, and how the network is wrapped (preconditioning) and weighted in
# training. This notebook derives the framework step by step and checks every step numerically on
# the chapter's 2-D Gaussian mixture, whose exact denoiser makes each claim testable without
# training error.
#
# **Learning goals.** After this notebook you can
# 1. write VP, VE, rectified flow and EDM as one perturbation $x_t = s(t)(x_0 + \sigma(t)\epsilon)$;
# 2. derive the probability-flow ODE in terms of the denoiser $D(x;\sigma)$ and convert between
#    denoiser, score, $\epsilon$-, $v$- and flow predictions;
# 3. show that DDIM is Euler's method on EDM's ODE, and why Heun's second-order step with the
#    $\rho$-schedule reaches data quality in a few dozen evaluations;
# 4. use the stochastic sampler (churn) and the preconditioning $c_\text{skip}, c_\text{out},
#    c_\text{in}, c_\text{noise}$ with its loss weight, and train a small EDM model.
#
# **Prerequisites.** Notebooks 05a (DDPM/DDIM, the denoiser interface) and 05b (scores, the VP
# and VE SDEs, the probability-flow ODE); Heun's method for ODEs.
#
# **Runtime.** Fast mode (`COURSE_FAST=1`, as in CI): about 25 s on a 2-core CPU, including
# training the small network(s) (which are then cached on disk by config). Full mode:
# about 1 minute on a 2-core CPU (larger samples, longer training); on a GPU the networks
# train there (`runtime.device()`).
#
# **Mode.** The set-up cell prints the mode this run uses: *fast* on a CPU, *full* where a GPU
# is present. To switch, start JupyterLab with `COURSE_FAST=0 make lab` (full) or
# `COURSE_FAST=1 make lab` (fast), or run `%env COURSE_FAST=0` before the set-up cell.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import math

import numpy as np
import torch
from IPython.display import display

from course_lib import runtime
from course_lib.checks import assert_close, assert_within_se, check, hint  # noqa: F401
from course_lib.diffusion import (
    EDM,
    VE,
    VESDE,
    VP,
    VPSDE,
    EDMPrecond,
    Flow,
    TrainConfig,
    data_floor,
    ddim_step,
    edm_loss,
    edm_sample,
    edm_sigmas,
    eps_from_denoiser,
    from_denoised,
    gaussian,
    loss_weight,
    make_schedule,
    mmd,
    ode_derivative,
    precond_coefficients,
    score_from_denoiser,
    stochastic_sample,
    to_denoised,
    toy_mixture,
    train_denoiser,
    viz_edm,
)
from course_lib.source import show_source

gen = runtime.seed_all(2022)
DEVICE = runtime.device()
print(runtime.describe())

N_EVAL = runtime.pick(fast=1_000, full=4_000)  # samples per quality measurement
N_MC = runtime.pick(fast=200_000, full=1_000_000)  # Monte Carlo sizes for the checks
TRAIN_STEPS = runtime.pick(fast=2_000, full=8_000)
F64 = torch.float64
mix = toy_mixture()


def draw_data(n, g):
    return mix.sample(n, generator=g, dtype=F64)


floor, floor_sd = data_floor(draw_data, N_EVAL, generator=gen)
print(f"data floor (MMD between two fresh data samples of {N_EVAL}): {floor:.4f} ± {floor_sd:.4f}")

# %% [markdown] slideshow={"slide_type": "notes"}
# **Lecture plan (45 min; speaker notes, not projected).** The EDM model trains once and
# is cached (`ONLY="05" make warm`). §1 one perturbation $x = s(t)(x_0 + \sigma(t)\epsilon)$ and the
# table of families (8 min) · §2 the probability-flow ODE through the denoiser, widget (a) (10) ·
# §4 DDIM is Euler on EDM's ODE (6) · §5 time steps and Heun (8) · §7 preconditioning and
# training (9) · exercises 05.9 and 05.10, 05.10 done live (4). Left for reading: §3 (one model,
# many parameterisations), §6 (churn) and widget (b), the derivative and VE time-change checks,
# exercises 05.11–05.12.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1 · One perturbation for every model
#
# Every forward process of this chapter has a Gaussian marginal $x_t = a(t)x_0 + b(t)\epsilon$.
# Write $a = s(t)$ (a **scale**) and $b = s(t)\sigma(t)$ (so $\sigma = b/a$ is the noise-to-signal
# ratio):
#
# $$x_t = s(t)\,\big(x_0 + \sigma(t)\,\epsilon\big),\qquad \epsilon\sim\mathcal N(0, I). \tag{9.1}$$
#
# Dividing by $s(t)$ gives the variance-exploding variable $x_0 + \sigma\epsilon$, which is exactly
# what the denoiser $D(x;\sigma) = \mathbb E[x_0\mid x_0+\sigma\epsilon = x]$ of 05a takes. The
# models differ only in $s$ and $\sigma$ (EDM Table 1, $\beta_d = \beta_\max - \beta_\min$):
#
# | family | $\sigma(t)$ | $s(t)$ |
# |---|---|---|
# | VP (DDPM, VP SDE) | $\sqrt{e^{\frac12\beta_d t^2 + \beta_\min t} - 1}$ | $1/\sqrt{1+\sigma(t)^2}$ |
# | VE (SMLD, VE SDE, after a time change) | $\sqrt t$ | $1$ |
# | flow matching / rectified flow | $t/(1-t)$ | $1 - t$ |
# | EDM | $t$ | $1$ |  (9.2)
#
# The flow row is the straight path $x_t = (1-t)x_0 + t\epsilon$ of notebook 05d. The VE row is
# 05b's VE SDE on another clock: there $\sigma_\text{SDE}(t) = \sigma_\min(\sigma_\max/\sigma_\min)^t$ and the marginal std
# is $\sqrt{\sigma_\text{SDE}(t)^2 - \sigma_\min^2}$ (8.3); EDM's VE row uses the time $t' = \sigma_\text{SDE}(t)^2 - \sigma_\min^2$, so
# that $\sigma(t') = \sqrt{t'}$ is that std. A time change does not move the paths, only re-labels them.
#
# **Check (9.2).** The VP row is part 1's VP SDE: mean coefficient $s(t)$ and standard deviation
# $s(t)\sigma(t)$ agree with `VPSDE` to machine precision; the flow row is the linear interpolation.
#
#
# **Check the VE time change.** Along $t' = \tau(t) = \sigma_\text{SDE}(t)^2 - \sigma_\min^2$, the VE row's ODE (9.3)
# times $d\tau/dt$ must equal 05b's probability-flow drift (8.5) of `VESDE` at time $t$ (chain rule),
# and $\sigma(\tau(t))$ must equal `VESDE.std(t)`.

# %% slideshow={"slide_type": "skip"}
ve_sde, h_t = VESDE(0.01, 10.0), 1e-6
x_ve = 2 * torch.randn(200, 2, generator=gen, dtype=F64)
for t_ve in (0.2, 0.5, 0.9):

    def tau(u):
        return float(ve_sde.std(u)) ** 2

    dtau = (tau(t_ve + h_t) - tau(t_ve - h_t)) / (2 * h_t)
    tt_ve = torch.tensor(t_ve, dtype=F64)
    s_ve = ve_sde.std(tt_ve)
    drift_sde = -0.5 * ve_sde.g(tt_ve) ** 2 * score_from_denoiser(mix.denoiser, x_ve, 1.0, s_ve)
    assert_close(
        ode_derivative(mix.denoiser, VE(), x_ve, tau(t_ve)) * dtau,
        drift_sde,
        rtol=1e-6,
        atol=1e-8,
        label=f"VE row = VE SDE after t' = tau(t), t={t_ve}",
    )
    assert_close(
        VE().sigma(torch.tensor(tau(t_ve), dtype=F64)), s_ve, rtol=1e-12, label="sigma(tau)"
    )

# %%
t = torch.linspace(1e-3, 1.0, 500, dtype=F64)
vp, sde = VP(0.1, 20.0), VPSDE(0.1, 20.0)
a, b = vp.mean_std(t)
assert_close(a, sde.a(t), rtol=0, atol=1e-15, label="VP: s(t) = a(t) of the VP SDE")
assert_close(b, sde.std(t), rtol=0, atol=1e-15, label="VP: s(t) sigma(t) = std of the VP SDE")
tf = torch.linspace(0.0, 0.99, 100, dtype=F64)
a, b = Flow().mean_std(tf)
assert_close(a, 1 - tf, atol=1e-15, label="flow: s = 1 - t")
assert_close(b, tf, atol=1e-15, label="flow: s sigma = t")

# %% [markdown] slideshow={"slide_type": "skip"}
# The ODE below needs $\dot s$ and $\dot\sigma$. **Check** each family's derivatives against
# central finite differences, and the inverse $t = \sigma^{-1}(\sigma)$ that turns a noise level into
# a time.

# %% slideshow={"slide_type": "skip"}
tt = torch.linspace(0.05, 0.9, 40, dtype=F64)
h = 1e-6
for fam in (VP(), VE(), Flow(), EDM()):
    assert_close(
        fam.dsigma(tt),
        (fam.sigma(tt + h) - fam.sigma(tt - h)) / (2 * h),
        rtol=1e-7,
        atol=1e-8,
        label=f"{fam.name}: d sigma/dt",
    )
    assert_close(
        fam.ds(tt), (fam.s(tt + h) - fam.s(tt - h)) / (2 * h), rtol=1e-7, atol=1e-8, label="ds/dt"
    )
    assert_close(fam.t_of_sigma(fam.sigma(tt)), tt, rtol=1e-12, label=f"{fam.name}: inverse")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2 · The probability-flow ODE in terms of the denoiser
#
# The marginal of (9.1) is a rescaled, noised data law: $p(x; t) = s^{-d}\,p(x/s;\sigma)$ with
# $p(\cdot;\sigma) = p_\text{data} * \mathcal N(0,\sigma^2 I)$. Its probability-flow ODE (EDM eq. 4)
# is
#
# $$\frac{dx}{dt} = \frac{\dot s}{s}x - s^2\dot\sigma\sigma\,\nabla_x\log p\!\left(\frac{x}{s};\sigma\right), \tag{9.3}$$
#
# with $\nabla_x$ acting on the composite $x\mapsto\log p(x/s;\sigma)$, i.e. $s^{-1}\nabla_y\log p(y;\sigma)$
# at $y = x/s$. (Derivation sketch: $y = x/s$ satisfies the VE ODE
# $dy/dt = -\dot\sigma\sigma\nabla_y\log p(y;\sigma)$ of 05b, since the VE SDE with
# $g^2 = d\sigma^2/dt$ has probability-flow drift $-\frac12 g^2\nabla\log p$; then
# $dx/dt = \dot s y + s\,dy/dt$.) With Tweedie, $\nabla\log p(y;\sigma) = (D(y;\sigma) - y)/\sigma^2$,
# so
#
# $$\frac{dx}{dt} = \Big(\frac{\dot\sigma}{\sigma} + \frac{\dot s}{s}\Big)x - \frac{\dot\sigma s}{\sigma}D\!\left(\frac{x}{s};\sigma\right).$$
#
# For EDM's family ($s=1$, $\sigma=t$) this is simply $dx/d\sigma = (x - D(x;\sigma))/\sigma$.
#
# The key lines of `ode_derivative`:

# %% slideshow={"slide_type": "skip"}
show_source(ode_derivative, "ode-derivative")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check (9.3).** For the VP family it must equal 05b's probability-flow drift
# $f(t)x - \frac12 g(t)^2\nabla\log p_t(x)$ (8.5), computed from the SDE's $f$, $g$ and the score.

# %%
x = torch.randn(500, 2, generator=gen, dtype=F64)
for t_ in (0.02, 0.3, 0.7, 1.0):
    tt_ = torch.tensor(t_, dtype=F64)
    score = score_from_denoiser(mix.denoiser, x, sde.a(tt_), sde.std(tt_))
    drift_sde = sde.f(tt_) * x - 0.5 * sde.g(tt_) ** 2 * score
    assert_close(
        ode_derivative(mix.denoiser, VP(), x, t_),
        drift_sde,
        rtol=1e-10,
        atol=1e-10,
        label=f"EDM ODE (9.3) vs VP PF-ODE (8.5), t={t_}",
    )

# %% [markdown] slideshow={"slide_type": "subslide"}
# All four families share the noised marginals at equal $\sigma$ (up to the scale $s$), so solving
# each one's ODE from noise must land on the data law. **Check.** Heun's method (section 4) with 18
# steps from $\sigma_\max = 80$ and the exact denoiser reaches MMD within 2× the data floor for VP,
# flow matching and EDM. VE's $\sigma = \sqrt t$ makes its paths badly curved in $t$, so the same
# budget is visibly worse: the *parameterisation of time* matters for the solver, not for the
# marginals.

# %%
sig18 = edm_sigmas(18)
results = {}
for fam in (VP(), VE(), Flow(), EDM()):
    t0 = fam.t_of_sigma(sig18[0])
    x_T = float(sig18[0] * fam.s(t0)) * torch.randn(N_EVAL, 2, generator=gen, dtype=F64)
    out = edm_sample(mix.denoiser, x_T, sig18, family=fam, solver="heun")
    results[fam.name] = mmd(out.x, draw_data(N_EVAL, gen))
    print(f"{fam.name:>4}: Heun, {out.nfe} evaluations, MMD {results[fam.name]:.4f}")
for name in ("VP", "flow", "EDM"):
    assert results[name] < 2 * floor, name
assert results["VE"] > results["EDM"]

# %% slideshow={"slide_type": "skip"}
display(viz_edm.family_figure("VP"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Widget (a): family switcher.** Pick a family: $s(t)$ and $\sigma(t)$, the noised marginals at
# three noise levels, and the ODE paths from noise (the exact denoiser, Heun).

# %%
# NBVAL_IGNORE_OUTPUT
viz_edm.family_widget()

# %% [markdown] slideshow={"slide_type": "skip"}
# ## 3 · One model, many parameterisations
#
# A network may output $D$ itself, the noise $\epsilon$, the score, Salimans & Ho's $v$ or a flow
# velocity $u$; all are affine in $D$ at fixed $(x,\sigma)$, with $x = x_0 + \sigma\epsilon$:
#
# $$\nabla\log p = \frac{D - x}{\sigma^2},\quad \hat\epsilon = \frac{x - D}{\sigma},\quad
# v = \frac{\hat\epsilon - \sigma D}{\sqrt{1+\sigma^2}},\quad u = \frac{x - (1+\sigma)D}{\sigma}. \tag{9.4}$$
#
# ($v = \alpha\epsilon - \sigma_\text{VP}x_0$ for the VP input $x/\sqrt{1+\sigma^2}$; $u =
# \mathbb E[x_1 - x_0\mid x_t]$ for the straight path $x_t = (1-t)x_0 + tx_1$, $\sigma = t/(1-t)$.)
#
# **Check (9.4).** Score and $\epsilon$ agree with the mixture's own (6.2)-(6.3); $v$ and $u$ agree
# with their definitions for known $x_0, \epsilon$; every conversion inverts.

# %% slideshow={"slide_type": "skip"}
sigma = 0.8
x = 2 * torch.randn(300, 2, generator=gen, dtype=F64)
d = mix.denoiser(x, sigma)
assert_close(
    from_denoised("score", d, x, sigma), mix.score(x, 1.0, sigma), atol=1e-12, label="score"
)
assert_close(from_denoised("eps", d, x, sigma), mix.eps(x, 1.0, sigma), atol=1e-12, label="eps")
x0 = draw_data(300, gen)
eps = torch.randn(300, 2, generator=gen, dtype=F64)
xs = x0 + sigma * eps
alpha, sig_vp = 1 / math.sqrt(1 + sigma**2), sigma / math.sqrt(1 + sigma**2)
assert_close(from_denoised("v", x0, xs, sigma), alpha * eps - sig_vp * x0, atol=1e-12, label="v")
tflow = sigma / (1 + sigma)
xt = (1 - tflow) * x0 + tflow * eps
assert_close(
    from_denoised("flow", x0, xt / (1 - tflow), sigma), eps - x0, atol=1e-12, label="flow u"
)
for kind in ("x0", "score", "eps", "v", "flow"):
    back = to_denoised(kind, from_denoised(kind, d, x, sigma), x, sigma)
    assert_close(back, d, atol=1e-12, label=f"round trip {kind}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4 · DDIM is Euler's method on EDM's ODE
#
# One Euler step of $dx/d\sigma = (x - D)/\sigma$ from $\sigma$ to $\sigma'$ gives
#
# $$x' = x + (\sigma' - \sigma)\frac{x - D}{\sigma} = D + \frac{\sigma'}{\sigma}(x - D). \tag{9.8}$$
#
# DDIM (4.1, $\eta=0$) on $x_t = \sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\epsilon$ is
# $x_{t'} = \sqrt{\bar\alpha_{t'}}\hat x_0 + \sqrt{1-\bar\alpha_{t'}}\hat\epsilon$. Divide by
# $\sqrt{\bar\alpha_{t'}}$ and write $\sigma_t = \sqrt{(1-\bar\alpha_t)/\bar\alpha_t}$: $x_{t'}/\sqrt{\bar\alpha_{t'}}
# = \hat x_0 + \sigma_{t'}\hat\epsilon$ with $\hat\epsilon = (x_t/\sqrt{\bar\alpha_t} - \hat x_0)/\sigma_t$,
# which is (9.8). DDIM's good behaviour at few steps comes from integrating the ODE whose paths are
# nearly straight in $\sigma$.
#
# **Check (9.8)** against 05a's `ddim_step`, on the linear schedule, for big and small jumps.

# %% [markdown] slideshow={"slide_type": "notes"}
# **Notes for §4.** Misconception: "DDIM is a different model". It samples the same
# trained network; with $\eta = 0$ one DDIM step is exactly one Euler step of EDM's ODE in
# $\sigma$ (9.8), which the check confirms against 05a's `ddim_step`. Ask why so few steps
# suffice: the paths are nearly straight in $\sigma$, which leads to §5's choice of time steps.
# Then ask whether more steps always help, and come back to it with §5's quality table.

# %% slideshow={"slide_type": "fragment"}
schedule = make_schedule("linear", 1000)
ab = schedule.alpha_bars
x = torch.randn(400, 2, generator=gen, dtype=F64)
for t_, tp in ((1000, 800), (500, 480), (30, 1)):
    x0_hat, eps_hat = eps_from_denoiser(mix.denoiser, x, ab[t_].sqrt(), (1 - ab[t_]).sqrt())
    ddim = ddim_step(x, x0_hat, eps_hat, ab[t_], ab[tp], 0.0)
    sig_pair = ((1 - ab[[t_, tp]]) / ab[[t_, tp]]).sqrt()
    euler = edm_sample(mix.denoiser, x / ab[t_].sqrt(), sig_pair, family=EDM(), solver="euler")
    assert_close(euler.x * ab[tp].sqrt(), ddim, rtol=1e-12, atol=1e-12, label=f"DDIM {t_}->{tp}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5 · Time steps and Heun's second-order solver
#
# EDM visits noise levels (EDM eq. 5)
#
# $$\sigma_i = \Big(\sigma_\max^{1/\rho} + \tfrac{i}{N-1}\big(\sigma_\min^{1/\rho} - \sigma_\max^{1/\rho}\big)\Big)^\rho,\quad i < N,\qquad \sigma_N = 0, \tag{9.7}$$
#
# uniform in $\sigma^{1/\rho}$: $\rho = 1$ is uniform in $\sigma$, $\rho\to\infty$ geometric;
# $\rho = 7$ concentrates steps at small $\sigma$ where the paths bend (data detail).
#
# **Heun** (EDM Algorithm 1): an Euler predictor $\tilde x = x_i + (t_{i+1}-t_i)d_i$, then the
# trapezoid $x_{i+1} = x_i + (t_{i+1}-t_i)\frac12(d_i + d(\tilde x, t_{i+1}))$; the correction is
# skipped on the last step to $\sigma = 0$ (the ODE is singular there), so $N$ steps cost $2N-1$
# evaluations.
#
# **Check: orders of convergence.** For Gaussian data $\mathcal N(0, c^2I)$, $D = \frac{c^2}{c^2+\sigma^2}x$
# and the ODE $dx/d\sigma = x\sigma/(c^2+\sigma^2)$ has the closed-form solution
# $x(\sigma) = x(\sigma_0)\sqrt{(c^2+\sigma^2)/(c^2+\sigma_0^2)}$. The error at $\sigma = 0.05$ falls
# like $N^{-1}$ for Euler and $N^{-2}$ for Heun.

# %%
c, s_hi, s_lo = 0.7, 5.0, 0.05
g2 = gaussian(torch.zeros(2, dtype=F64), c**2 * torch.eye(2, dtype=F64))
xs = math.sqrt(c**2 + s_hi**2) * torch.randn(50, 2, generator=gen, dtype=F64)
exact = xs * math.sqrt((c**2 + s_lo**2) / (c**2 + s_hi**2))
ns = np.array([8, 16, 32, 64])
errors = {}
for solver in ("euler", "heun"):
    errors[solver] = [
        float(
            (
                edm_sample(
                    g2.denoiser,
                    xs,
                    edm_sigmas(int(n), sigma_min=s_lo, sigma_max=s_hi)[:-1],
                    solver=solver,
                ).x
                - exact
            )
            .abs()
            .max()
        )
        for n in ns
    ]
slopes = {k: np.polyfit(np.log(ns), np.log(v), 1)[0] for k, v in errors.items()}
print(
    f"log-log slope of the error against N: Euler {float(slopes['euler']):.2f}, "
    f"Heun {float(slopes['heun']):.2f}"
)
assert -1.3 < slopes["euler"] < -0.8 and -2.4 < slopes["heun"] < -1.7

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Quality against evaluations** with the exact mixture denoiser: Euler and Heun on the
# $\rho = 7$ grid and Heun on a uniform grid ($\rho = 1$). **Check.** Heun with $\rho = 7$ reaches
# 2× the data floor within 40 evaluations; the uniform grid wastes its steps at large $\sigma$.

# %%
rows = []
x_T = 80.0 * torch.randn(N_EVAL, 2, generator=gen, dtype=F64)
ref = draw_data(N_EVAL, gen)
for n_steps in (5, 10, 20, 40):
    for solver, rho in (("euler", 7.0), ("heun", 7.0), ("heun", 1.0)):
        out = edm_sample(mix.denoiser, x_T, edm_sigmas(n_steps, rho=rho), solver=solver)
        rows.append((solver, rho, n_steps, out.nfe, mmd(out.x, ref)))
for r in rows:
    print(f"{r[0]:>5} rho={r[1]:>3}: steps {r[2]:>2}, NFE {r[3]:>2}, MMD {r[4]:.4f}")
best = min(r[3] for r in rows if r[0] == "heun" and r[1] == 7.0 and r[4] < 2 * floor)
print(f"Heun (rho = 7) within 2x the floor at {best} evaluations")
assert best <= 40
assert rows[-1][4] > rows[-2][4]  # at 40 steps, rho = 1 is worse than rho = 7

# %% [markdown] slideshow={"slide_type": "skip"}
# ## 6 · The stochastic sampler (churn)
#
# EDM Algorithm 2 alternates the ODE with Langevin-like "churn": at each step with
# $S_\min\le t_i\le S_\max$ it raises the noise level to $\hat t_i = (1+\gamma_i)t_i$,
# $\gamma_i = \min(S_\text{churn}/N, \sqrt2-1)$, by adding fresh noise of variance
# $S_\text{noise}^2(\hat t_i^2 - t_i^2)$, then takes a Heun step from $\hat t_i$ to $t_{i+1}$. The
# added noise exactly matches the marginal at $\hat t_i$, so (with an exact denoiser) each step
# keeps the correct law; the churn corrects errors made by earlier steps.
#
# **Check.** With the exact denoiser the churn sampler still reaches the data law, is
# reproducible with a seeded generator, and $S_\text{churn} = 0$ is exactly Algorithm 1.

# %% slideshow={"slide_type": "skip"}
sig = edm_sigmas(20)
x_T = 80.0 * torch.randn(N_EVAL, 2, generator=gen, dtype=F64)
heun = edm_sample(mix.denoiser, x_T, sig)
plain = stochastic_sample(mix.denoiser, x_T, sig, S_churn=0.0)
assert_close(plain.x, heun.x, atol=1e-12, label="S_churn = 0 is Algorithm 1")
churn = [
    stochastic_sample(
        mix.denoiser,
        x_T,
        sig,
        S_churn=30.0,
        S_tmin=0.01,
        S_tmax=50.0,
        generator=torch.Generator().manual_seed(7),
    )
    for _ in range(2)
]
assert torch.equal(churn[0].x, churn[1].x)
churn_mmd = mmd(churn[0].x, draw_data(N_EVAL, gen))
print(f"churn sampler: NFE {churn[0].nfe}, MMD {churn_mmd:.4f} (floor {floor:.4f})")
assert churn_mmd < 2 * floor

# %% [markdown] slideshow={"slide_type": "skip"}
# **Widget (b): sampler lab.** Steps, $\rho$, Euler vs Heun and $S_\text{churn}$; the title
# gives the evaluations and the MMD to fresh data. Its static companion:

# %% slideshow={"slide_type": "skip"}
display(viz_edm.sampler_lab_figure("euler", 8, 7.0))

# %% slideshow={"slide_type": "skip"}
# NBVAL_IGNORE_OUTPUT
viz_edm.sampler_lab_widget()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7 · Preconditioning and the training loss
#
# A raw network should see inputs and produce outputs of unit variance at every noise level. EDM
# wraps a raw network $F_\theta$ as
#
# $$D_\theta(x;\sigma) = c_\text{skip}(\sigma)x + c_\text{out}(\sigma)F_\theta\big(c_\text{in}(\sigma)x, c_\text{noise}(\sigma)\big),$$
# $$c_\text{skip} = \frac{\sigma_\text{data}^2}{\sigma^2+\sigma_\text{data}^2},\quad
# c_\text{out} = \frac{\sigma\sigma_\text{data}}{\sqrt{\sigma^2+\sigma_\text{data}^2}},\quad
# c_\text{in} = \frac{1}{\sqrt{\sigma^2+\sigma_\text{data}^2}},\quad c_\text{noise} = \tfrac14\ln\sigma,\quad
# \lambda(\sigma) = \frac{1}{c_\text{out}^2}. \tag{9.5}$$
#
# For data of standard deviation $\sigma_\text{data}$ (mean 0) and $x = x_0 + n$, $n\sim\mathcal N(0,\sigma^2)$:
# $\operatorname{Var}(x) = \sigma^2 + \sigma_\text{data}^2$, so $c_\text{in}$ normalises the input. The network
# must produce the **effective target** $(x_0 - c_\text{skip}x)/c_\text{out}$. Choose $c_\text{skip}$ to make the
# part left to the network, $x_0 - c_\text{skip}x$, as small as possible:
# $\operatorname{Var}(x_0 - c\,x) = (1-c)^2\sigma_\text{data}^2 + c^2\sigma^2$ is minimised at
# $c_\text{skip} = \sigma_\text{data}^2/(\sigma^2+\sigma_\text{data}^2)$, with minimum $\sigma^2\sigma_\text{data}^2/(\sigma^2+\sigma_\text{data}^2)$.
# Then $c_\text{out}$ is the square root of that minimum, which makes the effective target's variance one.
# (Dividing by $c_\text{out}$ first would not do: $(x_0 - c\,x)/c_\text{out}(c)$ has variance 1 for every $c$
# when $c_\text{out}$ is chosen to normalise it.) With $\lambda = 1/c_\text{out}^2$ the loss becomes a plain
# unit-variance regression:
#
# $$\lambda\|D_\theta - x_0\|^2 = \big\|F_\theta - (x_0 - c_\text{skip}x)/c_\text{out}\big\|^2,\qquad
# \ln\sigma\sim\mathcal N(P_\text{mean}, P_\text{std}^2). \tag{9.6}$$
#
# **Check (9.5).** Numerically, for Gaussian data of std $\sigma_\text{data}$ at five noise levels: the
# least-squares slope of $x_0$ on $x$ is $c_\text{skip}$ (the minimiser of $\operatorname{Var}(x_0 - c\,x)$), the
# residual variance is $c_\text{out}^2$, and the input and effective target have unit variance.

# %%
sd = 0.5
for sigma in (0.002, 0.1, 0.5, 3.0, 80.0):
    y = sd * torch.randn(N_MC, generator=gen, dtype=F64)
    xn = y + sigma * torch.randn(N_MC, generator=gen, dtype=F64)
    c_skip, c_out, c_in, c_noise = precond_coefficients(sigma, sd)
    slope = float((y * xn).mean() / (xn * xn).mean())  # argmin_c of mean (y - c x)^2
    resid = (y - slope * xn).var()
    se_slope = math.sqrt(float(resid) / (N_MC * float((xn * xn).mean())))
    assert_within_se(slope, float(c_skip), se_slope, label=f"c_skip = argmin Var, sigma={sigma}")
    assert_within_se(
        resid, float(c_out) ** 2, float(c_out) ** 2 * math.sqrt(2 / N_MC), label="c_out^2"
    )
    for name, z in (("c_in x", c_in * xn), ("target", (y - c_skip * xn) / c_out)):
        v = z.var()
        # the variance of a sample variance of Gaussians is 2 sigma^4 / n
        assert_within_se(v, 1.0, math.sqrt(2 / N_MC), label=f"Var({name}) at sigma={sigma}")
    assert math.isclose(float(loss_weight(sigma, sd) * c_out**2), 1.0, rel_tol=1e-12)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Training.** The chapter's toy data have a per-coordinate standard deviation of about 1.1, so we
# use $\sigma_\text{data} = 1$, $P_\text{mean} = -1.2$, $P_\text{std} = 1.2$, part 1's MLP inside
# `EDMPrecond` and part 1's training loop (registered as objective `"edm"`, network `"edm_mlp"`,
# cached on disk by config).

# %%
print("per-coordinate data std:", mix.covariance().diag().sqrt().numpy().round(3))
cfg = TrainConfig(
    net="edm_mlp",
    objective="edm",
    steps=TRAIN_STEPS,
    hidden=128,
    depth=3,
    extra={"sigma_data": 1.0},
)
res = train_denoiser(cfg, device=DEVICE)
model = res.model
print(f"from cache: {res.from_cache}; final loss {float(res.losses[-200:].mean()):.4f}")

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (9.6).** On fresh data the trained network's weighted loss lies between the exact
# denoiser's (the minimum) and that of the skip-only model $F = 0$ (which is optimal only for
# Gaussian data of std $\sigma_\text{data}$).


# %% slideshow={"slide_type": "skip"}
class ExactF(torch.nn.Module):
    """The raw network F* = (D* - c_skip x) / c_out of the exact denoiser D* (eq. 9.5)."""

    def forward(self, x_in, c):
        sigma = (4 * c).exp()
        c_skip, c_out, c_in, _ = precond_coefficients(sigma, 1.0)
        x = x_in / c_in[:, None]
        return (mix.denoiser(x, sigma) - c_skip[:, None] * x) / c_out[:, None]


class ZeroF(torch.nn.Module):
    def forward(self, x_in, c):
        return torch.zeros_like(x_in)


y = draw_data(N_MC // 4, gen)
losses = {
    name: float(edm_loss(m, y, generator=torch.Generator().manual_seed(1)))
    for name, m in (
        ("exact", EDMPrecond(ExactF(), 1.0)),
        ("trained", model.cpu().double()),
        ("F = 0", EDMPrecond(ZeroF(), 1.0)),
    )
}
print("weighted loss (9.6): " + ", ".join(f"{name} {value:.4f}" for name, value in losses.items()))
assert losses["exact"] - 0.01 < losses["trained"] < losses["F = 0"]

# %% [markdown] slideshow={"slide_type": "subslide"}
# Sampling the trained model with Heun on the $\rho = 7$ grid (the same code as the exact
# denoiser; only $D$ changed):

# %%
x_T = 80.0 * torch.randn(N_EVAL, 2, generator=gen, dtype=F64)
trained = edm_sample(model, x_T, edm_sigmas(18))
trained_mmd = mmd(trained.x, draw_data(N_EVAL, gen))
print(
    f"trained EDM model, Heun 18 steps ({trained.nfe} NFE): MMD {trained_mmd:.4f}, floor {floor:.4f}"
)
assert trained_mmd < 3 * floor  # a small network, a few seconds of training
display(viz_edm.sampler_lab_figure("heun", 18, 7.0, denoiser=model.float()))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# `check(id, answer)` says right or wrong (never the value); `hint("05.9")` gives hints one
# at a time.
#
# **05.9** Write `sigma_i(i, N, sigma_min, sigma_max, rho)`: EDM's time step (9.7), with
# $\sigma_N = 0$.
# Answer: a function `sigma_i(i, N, sigma_min, sigma_max, rho) -> float`, to 9 significant digits.

# %%
answer = None
check("05.9", answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **05.10** Write `precond(sigma, sigma_data)` returning `(c_skip, c_out, c_in)` of (9.5).
# Answer: a function `precond(sigma, sigma_data) -> (c_skip, c_out, c_in), three floats`, to 9
# significant digits.

# %%
answer = None
check("05.10", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **05.11** 1-D data $\mathcal N(0, c^2)$, EDM family: write `rhs(x, sigma, c)` $= dx/d\sigma$ of the
# probability-flow ODE (9.3).
# Answer: a function `rhs(x, sigma, c) -> float`, to 9 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("05.11", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **05.12** A network predicts $v = (\epsilon - \sigma x_0)/\sqrt{1+\sigma^2}$ at the scaled input
# $x = x_0 + \sigma\epsilon$. Write `eps_from_v(v, x, sigma)`.
# Answer: a function `eps_from_v(v, x, sigma) -> float`, to 9 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("05.12", answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# * Every model is $x_t = s(t)(x_0 + \sigma(t)\epsilon)$ (9.1); VP, VE, flow and EDM differ in $s$, $\sigma$ (9.2), and
#   05b's VE SDE is the VE row after the time change $t' = \sigma(t)^2 - \sigma_\min^2$.
# * The probability-flow ODE in terms of the denoiser (9.3) is one solver target for all of them; DDIM is its Euler step (9.8).
# * Heun on the $\rho$-grid (9.7) reaches data quality in a few dozen evaluations; churn adds controlled noise.
# * Preconditioning (9.5): $c_\text{skip}$ minimises $\operatorname{Var}(x_0 - c_\text{skip}x)$, $c_\text{out}$ is that minimum's square root, and the loss (9.6) becomes a unit-variance regression.
#
# ## References
#
# * T. Karras, M. Aittala, T. Aila, S. Laine. *Elucidating the Design Space of Diffusion-Based Generative Models.* NeurIPS 2022.
# * Y. Song et al. *Score-Based Generative Modeling through Stochastic Differential Equations.* ICLR 2021.
# * J. Song, C. Meng, S. Ermon. *Denoising Diffusion Implicit Models.* ICLR 2021.
# * T. Salimans, J. Ho. *Progressive Distillation for Fast Sampling of Diffusion Models.* ICLR 2022 (v-prediction).
# * J. Ho, A. Jain, P. Abbeel. *Denoising Diffusion Probabilistic Models.* NeurIPS 2020.
# * Seed article (Chinese): a unified derivation of diffusion models after EDM (基于 EDM 统一扩散模型框架), `shared/seeds/000_12b997980479caa7.txt`.
#
# **Glossary (中文 – English)**, terms of the seed article: 扩散模型 diffusion model · 加噪 noising ·
# 去噪 denoising · 得分/分数 score · 得分匹配 score matching · 概率流 probability flow ·
# 常微分方程 (ODE) ordinary differential equation · 随机微分方程 (SDE) stochastic differential equation ·
# 偏移系数 drift coefficient · 扩散系数 diffusion coefficient · 布朗运动 Brownian motion ·
# 逆向过程 reverse process · 预条件 preconditioning · 流匹配 flow matching · 整流/矫正流 rectified flow.
