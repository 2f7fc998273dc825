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
# # Chapter 05b · Diffusion models II: scores, Langevin dynamics and the SDE view
#
# Notebook 05a trained a network to predict noise. Here the same object appears as the
# **score** $\nabla_x \log p(x)$ of the noised data: Langevin dynamics samples with it, denoising
# score matching learns it, and in the continuous-time limit DDPM and SMLD become stochastic
# differential equations whose reverse-time SDE and **probability-flow ODE** are the samplers.
# As in 05a, 2-D Gaussian mixtures give exact scores, so every sampler is tested without
# training error, and the network trained in 05a (loaded from the cache) shows the learned case.
#
# **Learning goals.** After this notebook you can
# 1. compute scores, run Langevin dynamics and annealed Langevin dynamics (SMLD);
# 2. explain why the minimiser of the denoising score-matching loss is the score, and check it;
# 3. write the VP, VE and sub-VP SDEs as limits of the discrete chains, with their marginals;
# 4. write the reverse-time SDE and the probability-flow ODE, and solve them with
#    Euler–Maruyama, Euler and Heun;
# 5. compare samplers by quality against the number of network evaluations.
#
# **Prerequisites.** Notebook 05a; Itô SDEs at the level of "$dx = f\,dt + g\,dw$ means
# $x_{k+1} = x_k + f\Delta t + g\sqrt{\Delta t}\,z$"; Chapter 01's diffusion limit.
#
# **Runtime.** Fast mode (`COURSE_FAST=1`, as in CI): about 2 minutes on a 2-core CPU with the
# network loaded from the cache written by 05a. Full mode: about
# 4.5 minutes on a 2-core CPU (larger samples, the quality table up to 500 steps); on a GPU the
# network and samplers run there (`runtime.device()`).
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
    VESDE,
    VPSDE,
    GaussianMixture,
    SubVPSDE,
    TrainConfig,
    annealed_langevin,
    data_floor,
    dsm_loss,
    gaussian,
    geometric_sigmas,
    make_schedule,
    mmd,
    pf_ode_euler,
    pf_ode_heun,
    quality_table,
    reverse_sde_em,
    score_from_denoiser,
    time_grid,
    toy_mixture,
    train_denoiser,
    viz,
)
from course_lib.diffusion.derivations import (
    fokker_planck_residual,
    implicit_score_matching,
    posterior_mean_mc,
)
from course_lib.diffusion.metrics import mode_statistics
from course_lib.randomwalk import heat_kernel

gen = runtime.seed_all(2025)
DEVICE = runtime.device()
print(runtime.describe())

N_EVAL = runtime.pick(fast=1_000, full=4_000)  # samples per quality measurement
N_MC = runtime.pick(fast=50_000, full=500_000)  # Monte Carlo sizes for the checks
STEPS = runtime.pick(fast=(10, 20, 50, 100), full=(10, 20, 50, 100, 200, 500))
REPEATS = 3  # independent runs per cell of the quality table (error bars)
TRAIN_STEPS = runtime.pick(fast=3_000, full=12_000)  # the same config as 05a: a cache hit
mix = toy_mixture()

# %% [markdown] slideshow={"slide_type": "notes"}
# **Lecture plan (45 min; speaker notes, not projected).** The denoiser trained in 05a
# comes from the cache (`ONLY="05" make warm`). §1 the score and Tweedie's formula (7 min) · §2
# Langevin and annealed Langevin (7) · §3 denoising score matching (7) · §4 the SDE view and the
# Fokker–Planck equation (9) · §5 the reverse SDE and the probability-flow ODE (7) · §6's quality
# figure and the sampler widget (4) · exercises 05.5 and 05.6, 05.6 done live (4). Skipped: the
# Tweedie, SMLD, implicit-score-matching and SDE-moment checks, the link to Chapter 01 (in the
# notes of §4), §6's sweep and its table.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1 · The score
#
# The **score** of a density is $\nabla_x \log p(x)$: a vector field pointing uphill in
# log-density, blind to the normalising constant. For a Gaussian,
# $\nabla_x \log\mathcal N(x;\mu,\Sigma) = -\Sigma^{-1}(x-\mu)$. For the noised mixture
# $p_t = \sum_k w_k\mathcal N(a\mu_k, C_k)$, $C_k = a^2\Sigma_k + s^2 I$ (6.1), it is the
# responsibility-weighted average of the component scores
#
# $$\nabla_x\log p_t(x) = -\sum_k r_k(x)\,C_k^{-1}(x - a\mu_k),\qquad
# r_k(x) = \frac{w_k\mathcal N(x; a\mu_k, C_k)}{p_t(x)}. \tag{6.2}$$
#
# **Check (6.2)** against automatic differentiation of $\log p_t$.

# %%
x = torch.randn(200, 2, generator=gen, dtype=torch.float64).requires_grad_(True)
for a, s in ((1.0, 0.0), (0.8, 0.6), (0.2, 0.98)):
    (autograd_score,) = torch.autograd.grad(mix.log_prob(x, a, s).sum(), x)
    assert_close(
        mix.score(x.detach(), a, s),
        autograd_score,
        rtol=1e-9,
        atol=1e-10,
        label=f"score (6.2), a={a}, s={s}",
    )

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Tweedie's formula** links the score and the denoiser of 05a. *Derivation.* For $x = a x_0 + s\varepsilon$,
# $p_t(x) = \int p_0(x_0)\,\mathcal N(x; a x_0, s^2 I)\,dx_0$. Differentiate under the integral:
# $\nabla_x\mathcal N(x; ax_0, s^2I) = \mathcal N(x; ax_0, s^2I)\,(a x_0 - x)/s^2$, so
#
# $$\nabla\log p_t(x) = \frac{1}{p_t(x)}\int p_0(x_0)\mathcal N(x;ax_0,s^2I)\frac{ax_0 - x}{s^2}dx_0
# = \frac{a\,\mathbb E[x_0\mid x] - x}{s^2},$$
#
# i.e. $\mathbb E[x_0\mid x] = (x + s^2\nabla\log p_t(x))/a$ and, since $\varepsilon = (x - a x_0)/s$,
# $\mathbb E[\varepsilon\mid x] = -s\nabla\log p_t(x)$ (6.3). So the ε-network of 05a **is** a score model:
# $s_\theta(x, t) = -\hat\varepsilon(x)/s$.
#
# **Check (6.3) by two independent routes:** the score by automatic differentiation of $\log p_t$,
# and the posterior mean by self-normalised importance sampling over data draws; then the
# library's `score_from_denoiser` against the mixture's score.

# %% slideshow={"slide_type": "skip"}
prior = mix.sample(N_MC, generator=gen, dtype=torch.float64)
xq = torch.tensor([[0.4, -0.3], [1.1, 0.9], [-1.2, -0.4]], dtype=torch.float64)
for a_q, s_q in ((0.9, 0.4), (0.6, 0.8)):
    xr = xq.clone().requires_grad_(True)
    (g_auto,) = torch.autograd.grad(mix.log_prob(xr, a_q, s_q).sum(), xr)
    tweedie = (xq + s_q**2 * g_auto) / a_q
    mc_mean, mc_se = posterior_mean_mc(prior, xq, a_q, s_q)
    z = ((tweedie - mc_mean) / (mc_se + 1e-12)).abs().max()
    print(
        f"a = {a_q}, s = {s_q}: largest |Tweedie(autograd) - MC posterior mean| / SE = {float(z):.2f}"
    )
    assert float(z) < 4

# %% slideshow={"slide_type": "skip"}
xd = x.detach()
a, s = 0.6, 0.8
assert_close(
    score_from_denoiser(mix.denoiser, xd, a, s),
    mix.score(xd, a, s),
    rtol=1e-8,
    atol=1e-10,
    label="score from the denoiser (Tweedie)",
)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2 · Langevin dynamics
#
# To sample from $p$ knowing only its score, iterate
#
# $$x_{k+1} = x_k + \tfrac{\alpha}{2}\nabla_x\log p(x_k) + \sqrt{\alpha}\,z_k,\qquad z_k\sim\mathcal N(0,I). \tag{7.1}$$
#
# As $\alpha\to 0$ and $k\to\infty$ the law of $x_k$ tends to $p$ (it discretises the Langevin SDE
# $dx = \tfrac12\nabla\log p\,dt + dw$, whose stationary law is $p$). For $p = \mathcal N(0, c^2)$ in 1-D,
# (7.1) is the linear recursion $x_{k+1} = (1 - \tfrac{\alpha}{2c^2})x_k + \sqrt\alpha z_k$, whose
# stationary variance is exactly $v_\alpha = \alpha / (1 - (1 - \alpha/(2c^2))^2)$: close to $c^2$,
# with an $O(\alpha)$ bias.
#
# **Check.** Run many chains and compare the variance with $v_\alpha$.

# %% slideshow={"slide_type": "fragment"}
c = 0.5
g1 = gaussian(torch.zeros(1, dtype=torch.float64), torch.tensor([[c**2]], dtype=torch.float64))
alpha = 0.05
xs = 3 * torch.randn(N_MC, 1, generator=gen, dtype=torch.float64)
for _ in range(300):
    xs = (
        xs
        + 0.5 * alpha * g1.score(xs)
        + math.sqrt(alpha) * torch.randn(xs.shape, generator=gen, dtype=torch.float64)
    )
v_alpha = alpha / (1 - (1 - alpha / (2 * c**2)) ** 2)
sq = xs.squeeze() ** 2
assert_within_se(
    sq.mean(), v_alpha, float(sq.std()) / math.sqrt(N_MC), label="Langevin stationary variance"
)
print(f"target c^2 = {c**2}, stationary v_alpha = {v_alpha:.5f} (bias O(alpha))")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Annealed Langevin dynamics (SMLD).** With multimodal data, Langevin at the data score mixes
# badly between modes and the score is poorly known far from the data. Song & Ermon perturb the
# data at levels $\sigma_1 > \dots > \sigma_L$ and run (7.1) on $p_{\sigma_i}$ in turn, with step
# $\alpha_i = \epsilon\,\sigma_i^2/\sigma_L^2$ (7.2). With the exact mixture score:


# %%
def draw_data(n, g):
    return mix.sample(n, generator=g)


floor, floor_sd = data_floor(draw_data, N_EVAL, generator=gen)
sigmas = geometric_sigmas(5.0, 0.01, 20)
x_init = 5.0 * torch.randn(N_EVAL, 2, generator=gen, dtype=torch.float64)
smld = annealed_langevin(mix.denoiser, x_init, sigmas, n_steps_each=50, step_lr=2e-5, generator=gen)
smld_mmd = mmd(smld.x, draw_data(N_EVAL, gen))
print(
    f"annealed Langevin, {smld.nfe} evaluations: MMD {smld_mmd:.4f} (data floor {floor:.4f} ± {floor_sd:.4f})"
)

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check.** Annealed Langevin with the exact score reaches the data law: MMD within 2× the
# floor (this catches lost modes; see 05a for what it misses) and the mode weights within 4
# standard errors (the responsibility-weighted weights of eq. 6.8).

# %% slideshow={"slide_type": "skip"}
assert smld_mmd < 2 * floor
st_smld = mode_statistics(mix, smld.x)
z_w = ((st_smld["weights"] - st_smld["true_weights"]) / st_smld["weights_se"]).abs().max()
print(f"largest |z| of the mode weights: {float(z_w):.2f}")
assert float(z_w) < 4

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3 · Denoising score matching
#
# We cannot regress on $\nabla\log p_\sigma$ directly: it is unknown. Vincent (2011) showed that for
# $\tilde x = x_0 + \sigma\varepsilon$
#
# $$\mathbb E_{x_0,\varepsilon}\big\|s(\tilde x) + \varepsilon/\sigma\big\|^2
# = \mathbb E_{\tilde x}\big\|s(\tilde x) - \nabla\log p_\sigma(\tilde x)\big\|^2 + \text{const}, \tag{7.3}$$
#
# because $-\varepsilon/\sigma = \nabla_{\tilde x}\log p(\tilde x\mid x_0)$ and, for every $\tilde x$,
# $\mathbb E[\nabla\log p(\tilde x\mid x_0)\mid\tilde x] = \nabla\log p_\sigma(\tilde x)$: the cross
# terms agree, so the two losses differ by a constant free of $s$. The minimiser of the left side is
# therefore the score of the **noised** data. (With $s = -\hat\varepsilon/\sigma$ the left side is
# 05a's $\varepsilon$-loss (2.4) at one noise level, divided by $\sigma^2$.)
#
# **Check (7.3).** For three different models the gap DSM − (explicit score matching) is the same
# constant, up to Monte Carlo error (same samples for all three).

# %%
sigma = 0.5
x0 = mix.sample(N_MC, generator=gen, dtype=torch.float64)
eps = torch.randn(x0.shape, generator=gen, dtype=torch.float64)
xt = x0 + sigma * eps
true_score = mix.score(xt, 1.0, sigma)
models = {
    "exact score": lambda z: mix.score(z, 1.0, sigma),
    "too wide": lambda z: mix.score(z, 1.0, 1.5 * sigma),
    "zero": lambda z: torch.zeros_like(z),
}
gaps = {}
for name, model_fn in models.items():
    dsm = ((model_fn(xt) + eps / sigma) ** 2).sum(1)
    esm = ((model_fn(xt) - true_score) ** 2).sum(1)
    gaps[name] = dsm - esm
    print(
        f"{name:12s}: DSM {dsm.mean():.4f}  ESM {esm.mean():.4f}  DSM - ESM {gaps[name].mean():.4f}"
    )
for name in ("too wide", "zero"):
    d = gaps[name] - gaps["exact score"]
    assert_within_se(
        d.mean(), 0.0, float(d.std()) / math.sqrt(N_MC), label=f"gap({name}) - gap(exact)"
    )

# %% [markdown] slideshow={"slide_type": "skip"}
# **Hyvärinen's implicit score matching.** Before denoising score matching, Hyvärinen (2005) removed
# the unknown $\nabla\log p$ from the explicit objective $J_\text{ESM}(s) = \tfrac12\mathbb E_p\|s - \nabla\log p\|^2$
# by integrating by parts. Expand the square: the term $\tfrac12\mathbb E\|\nabla\log p\|^2$ is free of $s$,
# and the cross term, in 1-D for clarity, is
# $-\int p\,s\,(\log p)'\,dx = -\int s\,p'\,dx = \int s'\,p\,dx$ (boundary terms vanish when
# $p\,s\to 0$ at infinity). Coordinate by coordinate in $d$ dimensions:
#
# $$J_\text{ESM}(s) = \underbrace{\mathbb E_p\big[\operatorname{tr}\nabla_x s(x) + \tfrac12\|s(x)\|^2\big]}_{J_\text{ISM}(s)}
# + \tfrac12\mathbb E_p\|\nabla\log p\|^2. \tag{7.4}$$
#
# **Check (7.4).** On samples of the noised mixture $p_\sigma$, $J_\text{ESM} - J_\text{ISM}$ is the same
# for three different models (the trace by automatic differentiation) and equals
# $\tfrac12\mathbb E\|\nabla\log p_\sigma\|^2$, within Monte Carlo error.

# %% slideshow={"slide_type": "skip"}
x_ism = xt[:20_000]
score_ism = mix.score(x_ism, 1.0, sigma)
ism_gaps = {}
for name, model_fn in models.items():
    j_ism = implicit_score_matching(model_fn, x_ism)
    j_esm = 0.5 * ((model_fn(x_ism) - score_ism) ** 2).sum(1)
    ism_gaps[name] = j_esm - j_ism
half_sq = 0.5 * (score_ism**2).sum(1)
for name, gap in ism_gaps.items():
    d = gap - half_sq
    print(f"{name:12s}: J_ESM - J_ISM - 1/2 E|score|^2 = {float(d.mean()):+.4f}")
    se = float(d.std()) / math.sqrt(d.numel())
    if se > 0:
        assert_within_se(d.mean(), 0.0, se, label=f"(7.4), {name}")
    else:  # a model whose gap is the same at every point (the zero model): exact equality
        assert_close(d.mean(), 0.0, atol=1e-12, label=f"(7.4), {name}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check: the minimiser is the score.** Data $\mathcal N(m, c^2)$ in 1-D: the noised density is
# $\mathcal N(m, c^2+\sigma^2)$ with the linear score $-(x-m)/(c^2+\sigma^2)$. Fitting
# $s(x) = w x + b$ by least squares to the DSM targets $-\varepsilon/\sigma$ must give
# $w = -1/(c^2+\sigma^2)$ and $b = m/(c^2+\sigma^2)$, within the regression's standard error.

# %%
m_1d, c_1d = 0.7, 0.4
x0_1d = m_1d + c_1d * torch.randn(N_MC, generator=gen, dtype=torch.float64)
e_1d = torch.randn(N_MC, generator=gen, dtype=torch.float64)
xt_1d = x0_1d + sigma * e_1d
design = torch.stack([xt_1d, torch.ones_like(xt_1d)], 1)
coef = torch.linalg.lstsq(design, (-e_1d / sigma)[:, None]).solution.squeeze()
resid = -e_1d / sigma - design @ coef
cov = resid.var() * torch.linalg.inv(design.T @ design)  # OLS covariance of (w, b)
v = c_1d**2 + sigma**2
assert_within_se(coef[0], -1 / v, float(cov[0, 0].sqrt()), label="slope w = -1/(c^2 + sigma^2)")
assert_within_se(
    coef[1], m_1d / v, float(cov[1, 1].sqrt()), label="intercept b = m/(c^2 + sigma^2)"
)

# %% [markdown] slideshow={"slide_type": "skip"}
# The library's `dsm_loss` weights each level by $\sigma^2$, $\sigma^2\,\mathbb E\|s(\tilde x) + \varepsilon/\sigma\|^2
# = \mathbb E\|\sigma s(\tilde x) + \varepsilon\|^2$ (2.5), so all levels count alike; the exact score
# attains the smallest value of it:

# %% slideshow={"slide_type": "skip"}
dsm_exact = dsm_loss(
    lambda z, sg: mix.score(z, 1.0, sigma),
    x0[:5000],
    sigma,
    generator=torch.Generator().manual_seed(1),
)
dsm_wide = dsm_loss(
    lambda z, sg: mix.score(z, 1.0, 1.5 * sigma),
    x0[:5000],
    sigma,
    generator=torch.Generator().manual_seed(1),
)
print(f"sigma^2-weighted DSM: exact {float(dsm_exact):.4f} < too wide {float(dsm_wide):.4f}")
assert dsm_exact < dsm_wide

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4 · The SDE view
#
# Let the number of steps $N\to\infty$ with $\beta_i = \beta(t_i)/N$, $t_i = i/N$. DDPM's step
# $x_i = \sqrt{1-\beta_i}\,x_{i-1} + \sqrt{\beta_i}\,z$ becomes, since $\sqrt{1-\beta(t)\Delta t}
# \approx 1 - \tfrac12\beta(t)\Delta t$, the **variance-preserving** SDE
#
# $$dx = -\tfrac12\beta(t)\,x\,dt + \sqrt{\beta(t)}\,dw,\quad a(t) = e^{-\frac12 B(t)},\ s(t)^2 = 1 - e^{-B(t)},
# \ B(t) = \textstyle\int_0^t\beta. \tag{8.1}$$
#
# SMLD's chain $x_i = x_{i-1} + \sqrt{\sigma_i^2 - \sigma_{i-1}^2}\,z$ becomes the
# **variance-exploding** SDE $dx = \sqrt{d\sigma^2(t)/dt}\;dw$ with the geometric noise levels
# $\sigma(t) = \sigma_\min(\sigma_\max/\sigma_\min)^t$, i.e. $g(t) = \sigma(t)\sqrt{2\ln(\sigma_\max/\sigma_\min)}$; started at
# $x_0$ at $t = 0$ it has $a = 1$ and the marginal standard deviation
# $s(t) = \sqrt{\sigma(t)^2 - \sigma_\min^2}$ (8.3) (the variance accumulated since $t = 0$, where
# $\sigma(0) = \sigma_\min$). The **sub-VP** SDE keeps the
# VP drift with $g(t)^2 = \beta(t)(1 - e^{-2B(t)})$, so $s(t) = 1 - e^{-B(t)}$ (8.2). For a linear SDE
# $dx = f(t)x\,dt + g(t)\,dw$ the marginal is $a(t)x_0 + s(t)\varepsilon$ with
# $\dot a = f a$ and $\tfrac{d}{dt}s^2 = 2fs^2 + g^2$.
#
# **Check (8.1)–(8.3).** The stated $a(t), s(t)$ solve these moment equations (autograd in $t$) for
# all three SDEs, and DDPM's $\log\bar\alpha_i$ tends to $\log a(t_i)^2$ with an $O(1/N)$ error.

# %% slideshow={"slide_type": "skip"}
t = torch.linspace(0.05, 0.95, 9, dtype=torch.float64).requires_grad_(True)
for sde in (VPSDE(), SubVPSDE(), VESDE(0.01, 10.0)):
    a_t, s2_t = sde.a(t) + 0 * t, sde.std(t) ** 2
    (da,) = torch.autograd.grad(a_t.sum(), t)
    (ds2,) = torch.autograd.grad(s2_t.sum(), t)
    td = t.detach()
    name = type(sde).__name__
    assert_close(da, sde.f(td) * a_t.detach(), rtol=1e-8, atol=1e-12, label=f"{name}: da/dt = f a")
    assert_close(
        ds2, 2 * sde.f(td) * s2_t.detach() + sde.g(td) ** 2, rtol=1e-8, label=f"{name}: ds^2/dt"
    )

# %% slideshow={"slide_type": "skip"}
vp = VPSDE(0.1, 20.0)
errs = {}
for N in (100, 1000, 10000):
    ab = vp.discretize(N).alpha_bars
    tt = torch.arange(N + 1, dtype=torch.float64) / N
    errs[N] = float((ab.log() - 2 * vp.a(tt).log()).abs().max())
    print(f"N = {N:6d}: max |log alpha_bar_i - log a(t_i)^2| = {errs[N]:.2e}")
assert 7 < errs[100] / errs[1000] < 13 and 7 < errs[1000] / errs[10000] < 13  # O(1/N)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The Fokker–Planck equation, in 1-D
# For $dx = F(x,t)\,dt + g(t)\,dw$ and a smooth test function $\varphi$, Itô's formula gives
# $d\varphi(x) = \varphi'F\,dt + \tfrac12\varphi''g^2\,dt + \varphi' g\,dw$. Take expectations (the $dw$ term has mean 0):
# $\frac{d}{dt}\int\varphi\,p_t = \int(\varphi' F + \tfrac12 g^2\varphi'')\,p_t$. Integrate by parts on the right
# (once and twice) to move the derivatives onto $p_t$; as $\varphi$ is arbitrary,
#
# $$\partial_t p_t = -\partial_x\big(F\,p_t\big) + \tfrac12 g^2\,\partial_x^2 p_t. \tag{8.6}$$
#
# **From (8.6) to the probability-flow ODE.** Write the diffusion term as transport:
# $\tfrac12 g^2\partial_x^2 p = \partial_x\big(\tfrac12 g^2 p\,\partial_x\log p\big)$. Then
# $\partial_t p_t = -\partial_x\big[(F - \tfrac12 g^2\partial_x\log p_t)\,p_t\big]$, which is the **continuity
# equation** $\partial_t p + \partial_x(p\,v) = 0$ (8.7) of the deterministic flow $dx/dt = v = F - \tfrac12 g^2\nabla\log p_t$:
# (8.5) moves the same marginals with no noise at all.
#
# **The reverse SDE.** Split the diffusion term differently:
# $\partial_t p = -\partial_x[(F - g^2\partial_x\log p)\,p] - \tfrac12 g^2\partial_x^2 p$. Read backwards in time
# ($\tau = 1 - t$), this is a Fokker–Planck equation with drift $-(F - g^2\nabla\log p)$ and *positive*
# diffusion $\tfrac12 g^2$: the reverse SDE (8.4) run with $dt < 0$.
#
# **Check (8.6), (8.7) and the reverse form** on the VP SDE and a 1-D two-component mixture, whose
# $p_t$ is exact (6.1): $\partial_t p$ by a central difference in $t$, the $x$-derivatives by automatic
# differentiation. All three forms must hold to round-off; flipping the drift's sign must break them.

# %% [markdown] slideshow={"slide_type": "notes"}
# **Notes for §4: the link to Chapter 01 (its cells are skipped).** The VE SDE has no
# drift, so its Fokker–Planck equation (8.6) *is* a heat equation,
# $\partial_t p = \tfrac12 g(t)^2\partial_x^2 p$: Brownian motion on the clock $\tau = s(t)^2$, the
# heat equation that Chapter 01's random walk tends to. The notebook checks it by simulating the
# VE SDE from a point mass. Before §5, ask what the probability-flow ODE gives that the reverse
# SDE does not (likelihoods, deterministic inversion) and what it loses (discussion question 2).

# %% slideshow={"slide_type": "skip"}
vp_fp = VPSDE()
mix1 = GaussianMixture(
    torch.tensor([0.4, 0.6]), torch.tensor([[-1.0], [1.2]]), torch.tensor([[[0.1]], [[0.3]]])
)


def log_p_vp(x, t):
    tt = torch.tensor(t, dtype=torch.float64)
    return mix1.log_prob(x, float(vp_fp.a(tt)), float(vp_fp.std(tt)))


x_fp = torch.linspace(-3, 3, 61, dtype=torch.float64)[:, None]
for t_fp in (0.1, 0.4):
    tt = torch.tensor(t_fp, dtype=torch.float64)
    f_t, g2 = float(vp_fp.f(tt)), float(vp_fp.g(tt) ** 2)
    a_t, s_t = float(vp_fp.a(tt)), float(vp_fp.std(tt))

    def drift_with(c, f_t=f_t, g2=g2, a_t=a_t, s_t=s_t):
        """F(x) = f x - c g^2 score: c = 0 forward, 1/2 PF-ODE, 1 reverse-SDE form."""
        return lambda z, _: f_t * z - c * g2 * mix1.score(z, a_t, s_t)

    forms = {
        "Fokker-Planck (8.6)": (drift_with(0.0), g2),
        "PF-ODE continuity (8.7)": (drift_with(0.5), 0.0),
        "reverse SDE form": (drift_with(1.0), -g2),
    }
    for name, (drift, diff) in forms.items():
        lhs, rhs = fokker_planck_residual(log_p_vp, drift, diff, x_fp, t_fp)
        assert_close(lhs, rhs, rtol=1e-5, atol=1e-7, label=f"{name}, t={t_fp}")
        lhs, bad = fokker_planck_residual(
            log_p_vp, lambda z, _, d=drift: -d(z, _), diff, x_fp, t_fp
        )
        assert float((lhs - bad).abs().max()) > 1e-2, f"{name}: a flipped drift must fail"

# %% [markdown] slideshow={"slide_type": "skip"}
# **Link to Chapter 01.** There the random walk with steps $\pm\Delta x$ every $\Delta t$ tended to
# the heat equation $\partial_t u = D\,\partial_x^2 u$ (7.2 of Chapter 01). The VE SDE has no drift, so
# (8.6) *is* a heat equation, $\partial_t p = \tfrac12 g(t)^2\partial_x^2 p$: Brownian motion run on the clock
# $\tau = s(t)^2$. A point mass at 0 therefore spreads as the heat kernel with $D = \tfrac12$ at time $\tau$.
#
# **Check, by simulation.** Run the VE SDE itself from a point mass with Euler–Maruyama
# ($x_{k+1} = x_k + g(t_k)\sqrt{\Delta t}\,z_k$, nothing Gaussian assumed about the result beyond its
# increments) and compare the empirical distribution function with the heat kernel's at
# $\tau = s(t)^2$ (Kolmogorov–Smirnov distance below its 0.1 % critical value $1.95/\sqrt n$), and the
# variance with $\tau$ within 4 standard errors.

# %% slideshow={"slide_type": "skip"}
ve = VESDE(0.01, 10.0)
n_ve, n_steps_ve = N_MC // 5, 400
xs_ve = torch.zeros(n_ve, dtype=torch.float64)
t_grid = torch.linspace(0.0, 0.6, n_steps_ve + 1, dtype=torch.float64)
checkpoints = {200: 0.3, 400: 0.6}
for k in range(n_steps_ve):
    dt = float(t_grid[k + 1] - t_grid[k])
    g_mid = float(ve.g(0.5 * (t_grid[k] + t_grid[k + 1])))  # midpoint g: exact variance to O(dt^2)
    xs_ve = xs_ve + g_mid * math.sqrt(dt) * torch.randn(n_ve, generator=gen, dtype=torch.float64)
    if k + 1 in checkpoints:
        t_ve = checkpoints[k + 1]
        tau = float(ve.std(t_ve)) ** 2
        srt, _ = torch.sort(xs_ve)
        ecdf = torch.arange(1, n_ve + 1, dtype=torch.float64) / n_ve
        # the heat kernel's distribution function: trapezoid integral of Chapter 01's kernel
        cdf_at = torch.cumulative_trapezoid(heat_kernel(srt, tau, 0.5), srt)
        cdf_at = torch.cat([cdf_at.new_zeros(1), cdf_at]) + float(
            torch.special.ndtr(srt[:1] / math.sqrt(tau))
        )
        ks = float((ecdf - cdf_at).abs().max())
        print(
            f"t = {t_ve}: tau = s(t)^2 = {tau:.4f}, KS distance {ks:.4f} (limit {1.95 / math.sqrt(n_ve):.4f})"
        )
        assert ks < 1.95 / math.sqrt(n_ve)
        sq_ve = xs_ve**2
        assert_within_se(
            sq_ve.mean(), tau, float(sq_ve.std()) / math.sqrt(n_ve), label=f"Var at t={t_ve}"
        )

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5 · Reverse time: the reverse SDE and the probability-flow ODE
#
# Anderson (1982): the forward SDE run backwards in time is again an SDE,
#
# $$dx = \big[f(t)x - g(t)^2\nabla_x\log p_t(x)\big]dt + g(t)\,d\bar w, \tag{8.4}$$
#
# with $dt<0$ and $\bar w$ a reverse-time Brownian motion. Its only unknown is the score — exactly
# what the network learned. Moreover the **deterministic** ODE
#
# $$\frac{dx}{dt} = f(t)x - \tfrac12 g(t)^2\nabla_x\log p_t(x) \tag{8.5}$$
#
# has the same marginals $p_t$ (its Fokker–Planck equation is the forward one with the diffusion
# term rewritten as transport). We solve (8.4) with Euler–Maruyama and (8.5) with Euler or Heun, all
# through the same denoiser interface: $\nabla\log p_t(x) = -(x - a\,D(x/a; s/a))/s^2$.
#
# **Check: the PF-ODE on Gaussian data.** For data $\mathcal N(m, \mathrm{diag}(c^2))$, $p_t$ is
# Gaussian with variance $v(t) = a^2c^2 + s^2$ and (8.5) is linear; its solution is
# $x(t) = a(t)m + \sqrt{v(t)/v(1)}\,(x(1) - a(1)m)$. Euler's error falls like $1/N$, Heun's like $1/N^2$.

# %%
m_g = torch.tensor([0.5, -1.0], dtype=torch.float64)
c_g = torch.tensor([0.3, 0.8], dtype=torch.float64)
gauss = gaussian(m_g, torch.diag(c_g**2))
t0, t1 = torch.tensor(1e-3, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)
for sde in (VPSDE(), VESDE(0.01, 10.0)):
    x1 = sde.prior_std() * torch.randn(500, 2, generator=gen, dtype=torch.float64)

    def v_of(tt, sde=sde):
        return sde.a(tt) ** 2 * c_g**2 + sde.std(tt) ** 2

    exact = sde.a(t0) * m_g + (v_of(t0) / v_of(t1)).sqrt() * (x1 - sde.a(t1) * m_g)
    for solver in (pf_ode_euler, pf_ode_heun):
        e = [
            float((solver(gauss.denoiser, x1, time_grid(n), sde=sde).x - exact).abs().max())
            for n in (50, 200)
        ]
        print(
            f"{type(sde).__name__} {solver.__name__:12s}: max error {e[0]:.2e} (50 steps) -> {e[1]:.2e} (200 steps)"
        )
        assert e[1] < e[0] / (2.5 if solver is pf_ode_euler else 8)  # order 1 and order 2

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check: the reverse SDE recovers Gaussian data.** Euler–Maruyama on (8.4) from $\mathcal N(0,I)$
# gives the data mean and standard deviation (Euler–Maruyama has an $O(\Delta t)$ bias; 500 steps).

# %%
x1 = torch.randn(N_MC // 2, 2, generator=gen, dtype=torch.float64)
out = reverse_sde_em(gauss.denoiser, x1, time_grid(500), sde=VPSDE(), generator=gen).x
for d in range(2):
    assert_within_se(
        out[:, d].mean(), m_g[d], float(c_g[d]) / math.sqrt(out.shape[0]), label=f"mean, coord {d}"
    )
    assert_close(
        out[:, d].std(), c_g[d], rtol=0.03, label=f"std, coord {d} (3 %: EM bias + sampling)"
    )

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6 · Quality against the number of network evaluations
#
# All five samplers (DDPM ancestral, DDIM η = 0 and η = 1 on step-skipped grids of the linear schedule;
# reverse-SDE Euler–Maruyama and PF-ODE Euler on the VP SDE it discretises), with the exact mixture
# score and with the network trained in 05a (loaded from the cache: same config).

# %% slideshow={"slide_type": "skip"}
config = TrainConfig(data="toy_mixture", net="mlp", steps=TRAIN_STEPS, hidden=128, depth=3)
trained = train_denoiser(config, device=DEVICE)
print(
    "loaded from cache" if trained.from_cache else "trained now (run 05a first to reuse its cache)"
)
model = trained.model

# %% slideshow={"slide_type": "skip"}
schedule, vp = make_schedule("linear", 1000), VPSDE()
tables = {}
for label, den in (("exact score", mix.denoiser), ("trained model", model)):
    tables[label] = quality_table(
        den,
        draw_data,
        steps=STEPS,
        n=N_EVAL,
        repeats=REPEATS,
        schedule=schedule,
        sde=vp,
        device=DEVICE,
    )
print(f"data floor: MMD {floor:.4f} ± {floor_sd:.4f} (two fresh data samples of {N_EVAL})")
for label, rows in tables.items():
    print(f"\n{label}:   NFE " + " ".join(f"{k:>7d}" for k in STEPS))
    for i in range(0, len(rows), len(STEPS)):
        r0 = rows[i]
        name = r0["sampler"] + (f" η={r0['eta']:g}" if r0["sampler"] == "ddim" else "")
        print(f"  {name:12s} MMD " + " ".join(f"{r['mmd']:7.4f}" for r in rows[i : i + len(STEPS)]))

# %%
display(viz.quality_figure(tables["exact score"], floor, title="quality vs cost: exact score"))
display(
    viz.quality_figure(tables["trained model"], floor, title="quality vs cost: trained network")
)

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check.** Each cell is the mean of 3 independent runs (error bars: standard errors). With the
# exact score, deterministic DDIM reaches twice the floor within 50 evaluations; every sampler does
# at 100 steps or more; the trained model's DDIM (η = 0) stays within 3×. These are the only claims
# asserted: the order of the curves at equal cost is within the noise at this sample size.

# %% slideshow={"slide_type": "skip"}
exact_rows = tables["exact score"]
best_ddim = min(
    r["mmd"] for r in exact_rows if r["sampler"] == "ddim" and r["eta"] == 0 and r["nfe"] <= 50
)
assert best_ddim < 2 * floor, best_ddim
for name in ("ddpm", "ddim", "sde_em", "pf_euler"):
    final = min(r["mmd"] for r in exact_rows if r["sampler"] == name and r["steps"] >= 100)
    assert final < 2 * floor, (name, final)
assert (
    min(r["mmd"] for r in tables["trained model"] if r["sampler"] == "ddim" and r["eta"] == 0)
    < 3 * floor
)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Widget: sampler explorer with the trained network
# The same widget as in 05a, now worth trying with `sde_em`, `pf_euler` and `pf_heun`: the ODE
# trajectories are smooth and deterministic, the SDE ones jitter, and both end on the data.

# %%
# NBVAL_IGNORE_OUTPUT
viz.sampler_explorer_widget(denoiser=model)

# %% slideshow={"slide_type": "skip"}
display(viz.sampler_explorer_figure("pf_heun", 10, denoiser=model))
display(viz.sampler_explorer_figure("sde_em", 100, denoiser=model))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# `check(id, answer)` says right or wrong (never the value); `hint("05.5")` gives hints one
# at a time.
#
# **05.5** Write `score(x, mean, var)`: $\frac{d}{dx}\log\mathcal N(x;\text{mean},\text{var})$ in 1-D.
# Answer: a function `score(x, mean, var) -> float`, to 9 significant digits.

# %%
answer = None
check("05.5", answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **05.6** For the VP SDE with $\beta_{\min} = 0.1$, $\beta_{\max} = 20$, what is $s(0.3)$?
# Answer: a float, to 6 significant digits.

# %%
answer = None
check("05.6", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **05.7** Data $x_0\sim\mathcal N(0, c^2)$ in 1-D. Write `D(x, c, sigma)` $= \mathbb E[x_0\mid x_0 + \sigma\varepsilon = x]$.
# Answer: a function `D(x, c, sigma) -> float`, to 9 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("05.7", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **05.8** VE SDE with $\sigma_{\min} = 0.01$, $\sigma_{\max} = 10$ and data $\mathcal N(0, 1)$ in 1-D:
# write `drift(x, t)`, the right-hand side of the probability-flow ODE (8.5).
# Answer: a function `drift(x, t) -> float`, to 7 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("05.8", answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# * The score $\nabla\log p$ drives Langevin sampling (7.1); annealing over noise levels (7.2) fixes mixing.
# * Tweedie's formula (6.3) makes a denoiser, an ε-predictor and a score the same model.
# * Explicit, implicit (7.4) and denoising (7.3) score matching differ by constants: all are minimised by the score.
# * The VP, sub-VP and VE SDEs (8.1)–(8.3) are the chains' continuous limits; the Fokker–Planck
#   equation (8.6) rewritten as transport gives the probability-flow ODE (8.5, 8.7), rewritten with
#   the opposite sign gives the reverse SDE (8.4): all share the marginals $p_t$.
# * Quality against cost is measured with repeats and error bars; only what the noise allows is asserted.
#
# ## References
#
# * Y. Song, J. Sohl-Dickstein, D. Kingma, A. Kumar, S. Ermon, B. Poole. *Score-Based Generative Modeling through Stochastic Differential Equations.* ICLR 2021.
# * Y. Song, S. Ermon. *Generative Modeling by Estimating Gradients of the Data Distribution.* NeurIPS 2019 (SMLD).
# * A. Hyvärinen. *Estimation of Non-Normalized Statistical Models by Score Matching.* JMLR 6 (2005).
# * P. Vincent. *A Connection Between Score Matching and Denoising Autoencoders.* Neural Computation 23 (2011).
# * B. Efron. *Tweedie's Formula and Selection Bias.* JASA 106 (2011).
# * B. D. O. Anderson. *Reverse-time diffusion equation models.* Stoch. Proc. Appl. 12 (1982).
# * J. Ho, A. Jain, P. Abbeel. *Denoising Diffusion Probabilistic Models.* NeurIPS 2020.
# * Seed article (Chinese): a unified derivation of diffusion models after EDM (基于 EDM 统一扩散模型框架), `shared/seeds/000_12b997980479caa7.txt`.
#
# **Glossary (中文 – English)**, terms of the seed article: 扩散模型 diffusion model · 加噪 noising ·
# 去噪 denoising · 得分/分数 score · 得分匹配 score matching · 概率流 probability flow ·
# 常微分方程 (ODE) ordinary differential equation · 随机微分方程 (SDE) stochastic differential equation ·
# 偏移系数 drift coefficient · 扩散系数 diffusion coefficient · 布朗运动 Brownian motion ·
# 逆向过程 reverse process · 预条件 preconditioning · 流匹配 flow matching · 整流/矫正流 rectified flow.
