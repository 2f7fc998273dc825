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
# # Chapter 05a · Diffusion models I: DDPM and DDIM
#
# A diffusion model destroys data by adding Gaussian noise in many small steps, and learns to
# undo one step at a time. This notebook derives the discrete-time model of Ho et al. (2020,
# **DDPM**) and its deterministic cousin (Song, Meng & Ermon 2021, **DDIM**), and checks every
# step numerically. The data are 2-D Gaussian mixtures, whose noised densities, scores and
# denoisers are known **exactly**, so each sampler can be tested without any training error;
# a small trained network then shows the learned case.
#
# **Learning goals.** After this notebook you can
# 1. write the forward chain, its β schedules (linear, cosine) and the one-shot marginal $q(x_t\mid x_0)$;
# 2. derive the posterior $q(x_{t-1}\mid x_t, x_0)$ and check it against Bayes' rule;
# 3. write the ELBO as a sum of Gaussian KL terms and see the ε-prediction loss as a reweighted ELBO;
# 4. train a small denoiser and sample from it with ancestral (DDPM) sampling;
# 5. derive DDIM's non-Markovian family, its η parameter, step skipping and deterministic inversion;
# 6. measure sample quality (MMD, sliced Wasserstein) against the data-vs-data floor.
#
# **Prerequisites.** Gaussian densities and completing the square, KL divergence, a little PyTorch
# (training loop). Chapter 01's diffusion limit is used again in 05b.
#
# **Runtime.** Fast mode (`COURSE_FAST=1`, as in CI): about 40 s on a 2-core CPU, training
# included (the trained model is cached in `.course_cache/`, so 05b and re-runs load it).
# Full mode: about 2.5 minutes on a 2-core CPU (longer training, the 8×8 digits); on a GPU the
# training and sampling run there (`runtime.device()`).
#
# **Mode.** The set-up cell prints the mode this run uses: *fast* on a CPU, *full* where a GPU
# is present. To switch, start JupyterLab with `COURSE_FAST=0 make lab` (full) or
# `COURSE_FAST=1 make lab` (fast), or run `%env COURSE_FAST=0` before the set-up cell.

# %%
# %matplotlib inline
import math

import torch
from IPython.display import display

from course_lib import runtime
from course_lib.checks import assert_close, assert_within_se, check, hint  # noqa: F401
from course_lib.diffusion import (
    TrainConfig,
    Trajectory,
    bayes_posterior_on_grid,
    data_floor,
    ddim_invert,
    ddim_sample,
    ddim_sigma,
    ddpm_sample,
    elbo_terms,
    elbo_weight,
    gaussian,
    gaussian_kl,
    iterate_chain,
    make_schedule,
    mmd,
    posterior_coefficients,
    posterior_mean_var,
    q_sample,
    sliced_wasserstein,
    toy_mixture,
    train_denoiser,
    viz,
)
from course_lib.source import show_source

gen = runtime.seed_all(2024)
DEVICE = runtime.device()
print(runtime.describe())

# Sizes: small in fast mode (CI), large in full mode. Nothing below edits them.
N_CHAIN = runtime.pick(fast=20_000, full=200_000)  # samples for the moment checks
N_EVAL = runtime.pick(fast=2_000, full=5_000)  # samples per quality measurement
TRAIN_STEPS = runtime.pick(fast=3_000, full=12_000)

# %% [markdown]
# ## 1 · The forward chain and its schedules
#
# Fix $T$ steps and variances $0 < \beta_t < 1$. The forward (noising) process is the Markov chain
#
# $$q(x_t \mid x_{t-1}) = \mathcal N\!\left(x_t;\ \sqrt{1-\beta_t}\,x_{t-1},\ \beta_t I\right),
# \qquad t = 1, \dots, T. \tag{1.1}$$
#
# The factor $\sqrt{1-\beta_t}$ keeps the variance of unit-variance data at 1. Write
# $\alpha_t = 1 - \beta_t$ and $\bar\alpha_t = \prod_{s \le t} \alpha_s$ (with $\bar\alpha_0 = 1$) (1.2).
# Two standard schedules: **linear**, $\beta_t$ from $10^{-4}$ to $0.02$ over $T = 1000$ (1.4), and
# **cosine**, $\bar\alpha_t = f(t)/f(0)$ with $f(t) = \cos^2\!\big(\tfrac{t/T + s}{1+s}\tfrac{\pi}{2}\big)$,
# $s = 0.008$ (1.5), which destroys information more evenly.

# %%
schedule = make_schedule("linear", 1000)
cosine = make_schedule("cosine", 1000)
print("linear: beta_1 =", float(schedule.betas[1]), " beta_T =", float(schedule.betas[-1]))
print(
    "alpha_bar_T: linear", float(schedule.alpha_bars[-1]), " cosine", float(cosine.alpha_bars[-1])
)
display(viz.schedules_figure(1000))

# %% [markdown]
# **Check (1.2), (1.5).** $\bar\alpha_t$ is the running product of $1 - \beta_t$ (here recomputed as
# $\exp\sum\log$), and the cosine schedule reproduces its defining $f(t)/f(0)$.

# %%
t = torch.arange(1001, dtype=torch.float64)
assert_close(
    schedule.alpha_bars,
    torch.exp(torch.cumsum(torch.log1p(-schedule.betas), 0)),
    rtol=1e-10,
    label="alpha_bar = prod(1 - beta)",
)
f = torch.cos((t / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2
assert_close(
    cosine.alpha_bars[:-1], (f / f[0])[:-1], rtol=1e-9, atol=1e-12, label="cosine alpha_bar"
)
assert float(schedule.alpha_bars[-1]) < 1e-4  # x_T carries almost no signal

# %% [markdown]
# ## 2 · The one-shot marginal $q(x_t \mid x_0)$
#
# Unrolling (1.1), $x_t = \sqrt{\alpha_t}x_{t-1} + \sqrt{\beta_t}\varepsilon_t$ is a linear combination
# of $x_0$ and independent Gaussians: the mean coefficients multiply to $\sqrt{\bar\alpha_t}$ and the
# variances add, $\alpha_t(1-\bar\alpha_{t-1}) + \beta_t = 1 - \bar\alpha_t$. Hence
#
# $$q(x_t\mid x_0) = \mathcal N\!\left(\sqrt{\bar\alpha_t}\,x_0,\ (1-\bar\alpha_t)I\right),\qquad
# x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon. \tag{1.3}$$
#
# The library's `q_sample` draws it in one shot:

# %%
show_source(q_sample, "q-sample")

# %% [markdown]
# **Check (1.3).** Run the chain (1.1) step by step from a fixed $x_0$ and compare the sample mean and
# variance of $x_t$ with $\sqrt{\bar\alpha_t}x_0$ and $1-\bar\alpha_t$ (within 4 standard errors);
# the one-shot draw must agree too.

# %%
x0_fixed = torch.full((N_CHAIN, 1), 1.5, dtype=torch.float64)
t_check = 300
chain = iterate_chain(x0_fixed, t_check, schedule, generator=gen)
shot, _ = q_sample(x0_fixed, t_check, schedule, generator=gen)
ab = float(schedule.alpha_bars[t_check])
mean, var = math.sqrt(ab) * 1.5, 1 - ab
for name, x in (("iterated chain", chain), ("one shot", shot)):
    assert_within_se(x.mean(), mean, math.sqrt(var / N_CHAIN), label=f"{name}: mean")
    sq = (x - x.mean()) ** 2
    assert_within_se(sq.mean(), var, float(sq.std()) / math.sqrt(N_CHAIN), label=f"{name}: var")

# %% [markdown]
# ### Widget (a): forward diffusion
# Our data: a 2-D mixture of five anisotropic Gaussians with unequal weights. Move $t$: the cloud
# $x_t$ (left) and its exact density $q(x_t) = \sum_k w_k\,\mathcal N(\sqrt{\bar\alpha_t}\mu_k,\,
# \bar\alpha_t\Sigma_k + (1-\bar\alpha_t)I)$ (right, eq. 6.1) melt into $\mathcal N(0, I)$. Compare the
# linear and cosine schedules at the same $t$.

# %%
# NBVAL_IGNORE_OUTPUT
viz.forward_diffusion_widget(t=200)

# %%
display(viz.forward_diffusion_figure(t=0))
display(viz.forward_diffusion_figure(t=300))

# %% [markdown]
# ## 3 · The posterior $q(x_{t-1} \mid x_t, x_0)$
#
# By Bayes' rule and the Markov property,
# $q(x_{t-1}\mid x_t, x_0) \propto q(x_t \mid x_{t-1})\,q(x_{t-1}\mid x_0)$, a product of two Gaussians
# in $x_{t-1}$. Collecting the quadratic and linear terms in $x_{t-1}$ (precision
# $\alpha_t/\beta_t + 1/(1-\bar\alpha_{t-1})$) gives
#
# $$q(x_{t-1}\mid x_t,x_0) = \mathcal N(\tilde\mu_t, \tilde\beta_t I),\quad
# \tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1-\bar\alpha_t}x_0
#   + \frac{\sqrt{\alpha_t}\,(1-\bar\alpha_{t-1})}{1-\bar\alpha_t}x_t, \tag{1.6}$$
#
# $$\tilde\beta_t = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\,\beta_t. \tag{1.7}$$

# %%
x0_1d = torch.tensor([[0.8]], dtype=torch.float64)
xt_1d = torch.tensor([[-0.3]], dtype=torch.float64)
for t_post in (2, 50, 700):
    mu, var = posterior_mean_var(x0_1d, xt_1d, t_post, schedule)
    print(f"t = {t_post:4d}: mu_tilde = {float(mu):+.6f}, beta_tilde = {float(var):.6g}")

# %% [markdown]
# **Check (1.6)–(1.7) against Bayes' rule.** Multiply the two densities on a fine grid, normalise
# numerically, and compare the mean and variance of the result with the closed form.

# %%
grid = torch.linspace(-6, 6, 200_001, dtype=torch.float64)
for t_post in (2, 50, 700):
    dens = bayes_posterior_on_grid(0.8, -0.3, t_post, schedule, grid)
    m_num = torch.trapezoid(grid * dens, grid)
    v_num = torch.trapezoid((grid - m_num) ** 2 * dens, grid)
    mu, var = posterior_mean_var(x0_1d, xt_1d, t_post, schedule)
    assert_close(m_num, mu.squeeze(), rtol=1e-6, atol=1e-9, label=f"t={t_post}: mean")
    assert_close(v_num, var.squeeze(), rtol=1e-4, label=f"t={t_post}: variance")

# %% [markdown]
# ## 4 · The ELBO and its Gaussian KL terms
#
# The reverse model $p_\theta(x_{t-1}\mid x_t) = \mathcal N(\mu_\theta(x_t,t), \sigma_t^2 I)$ is
# trained on the negative evidence lower bound $-\log p_\theta(x_0) \le L$ with
#
# $$L = \underbrace{\mathrm{KL}(q(x_T\mid x_0)\,\|\,\mathcal N(0,I))}_{L_T}
# + \sum_{t=2}^{T}\underbrace{\mathrm{KL}(q(x_{t-1}\mid x_t,x_0)\,\|\,p_\theta(x_{t-1}\mid x_t))}_{L_{t-1}}
# \underbrace{- \log p_\theta(x_0\mid x_1)}_{L_0}. \tag{2.1}$$
#
# Every term is a KL between Gaussians; per coordinate
# $\mathrm{KL}(\mathcal N(m_1,v_1)\|\mathcal N(m_2,v_2)) = \tfrac12\big[\log\tfrac{v_2}{v_1} +
# \tfrac{v_1 + (m_1-m_2)^2}{v_2} - 1\big]$ (2.2).
#
# **Check (2.2)** against a Monte Carlo average of $\log q - \log p$ under $q$.

# %%
m1, v1, m2, v2 = 0.3, 0.5, -0.2, 1.7
z = torch.randn(N_CHAIN * 5, generator=gen, dtype=torch.float64)
xs = m1 + math.sqrt(v1) * z
log_ratio = 0.5 * (math.log(v2 / v1) - (xs - m1) ** 2 / v1 + (xs - m2) ** 2 / v2)
kl = gaussian_kl(torch.tensor(m1), torch.tensor(v1), torch.tensor(m2), torch.tensor(v2))
assert_within_se(
    log_ratio.mean(), kl, float(log_ratio.std()) / math.sqrt(xs.numel()), label="KL (2.2)"
)

# %% [markdown]
# ## 5 · The ε-prediction loss is a reweighted ELBO
#
# Parametrise the mean through a noise prediction with the same map that (1.6) applies to the true
# noise: $\mu_\theta = \frac{1}{\sqrt{\alpha_t}}\big(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\,
# \varepsilon_\theta(x_t,t)\big)$. Then $\tilde\mu_t - \mu_\theta = \frac{\beta_t}{\sqrt{\alpha_t}
# \sqrt{1-\bar\alpha_t}}(\varepsilon_\theta - \varepsilon)$ and, by (2.2),
#
# $$L_{t-1} = \lambda_t\,\|\varepsilon - \varepsilon_\theta(x_t, t)\|^2 + C_t,\qquad
# \lambda_t = \frac{\beta_t^2}{2\sigma_t^2\,\alpha_t\,(1-\bar\alpha_t)}. \tag{2.3}$$
#
# Ho et al. drop $\lambda_t$ and train on
# $L_{\text{simple}} = \mathbb E_{t,x_0,\varepsilon}\|\varepsilon - \varepsilon_\theta(\sqrt{\bar\alpha_t}x_0 +
# \sqrt{1-\bar\alpha_t}\varepsilon, t)\|^2$ (2.4): the same terms with weight $1/\lambda_t$.
#
# In this course every model is a **denoiser** $D(x;\sigma) \approx \mathbb E[x_0\mid x_0+\sigma\varepsilon = x]$
# with $\sigma_t = \sqrt{(1-\bar\alpha_t)/\bar\alpha_t}$; $\hat x_0 = D(x_t/\sqrt{\bar\alpha_t};\sigma_t)$
# and $\hat\varepsilon = (x_t - \sqrt{\bar\alpha_t}\hat x_0)/\sqrt{1-\bar\alpha_t}$ (3.1). For the
# mixture the exact $D$ is known in closed form (6.4).
#
# **Check (2.3).** For a deliberately wrong model, each KL term computed by (2.2) equals
# $\lambda_t\|\varepsilon-\varepsilon_\theta\|^2 + C_t$.

# %%
mix = toy_mixture()
small = make_schedule("linear", 100)
x0_batch = mix.sample(256, generator=gen, dtype=torch.float64)


def wrong_denoiser(x, sigma):
    return mix.denoiser(x, 1.5 * sigma)  # the exact denoiser at the wrong noise level


terms = elbo_terms(x0_batch, wrong_denoiser, small, sigma2="beta", generator=gen)
ts = torch.arange(2, 101)
_, _, bt = posterior_coefficients(small.alpha_bars[ts], small.alpha_bars[ts - 1])
r = bt / small.betas[ts]
C = 2 / 2 * (r - 1 - torch.log(r))  # C_t = d/2 [r - 1 - log r], r = beta_tilde/sigma^2, d = 2
predicted = elbo_weight(small, ts)[:, None] * terms["eps_sq"] + C[:, None]
assert_close(terms["kl"], predicted, rtol=1e-8, atol=1e-10, label="L_{t-1} vs (2.3)")

# %% [markdown]
# **Check: the bound is a bound, and tight when the model is exact.** For data $\mathcal N(0,I)$ every
# marginal is $\mathcal N(0,I)$ and the true reverse step is exactly
# $\mathcal N(\sqrt{\alpha_t}x_t, \beta_t)$, so with $\sigma_t^2 = \beta_t$ and the exact denoiser
# $\mathbb E[L] = \mathbb E[-\log p(x_0)]$. For the mixture, $L \ge -\log p(x_0)$ (known exactly).

# %%
std_normal = gaussian(torch.zeros(2, dtype=torch.float64), torch.eye(2, dtype=torch.float64))
x0_n = std_normal.sample(512, generator=gen, dtype=torch.float64)
gap = elbo_terms(x0_n, std_normal.denoiser, small, generator=gen)["total"] + std_normal.log_prob(
    x0_n
)
assert_within_se(
    gap.mean(), 0.0, float(gap.std()) / math.sqrt(gap.numel()), label="N(0,I): -ELBO - NLL"
)
gap_mix = elbo_terms(x0_batch, mix.denoiser, small, sigma2="beta_tilde", generator=gen)["total"]
gap_mix = gap_mix + mix.log_prob(x0_batch)
print(f"mixture: E[-ELBO] - E[-log p] = {float(gap_mix.mean()):.3f} nats per sample (T = 100)")
assert float(gap_mix.mean()) > -4 * float(gap_mix.std()) / math.sqrt(gap_mix.numel())

# %% [markdown]
# ## 6 · Training a small denoiser
#
# An MLP $F_\theta(x_t, c)$ with a sinusoidal embedding of $c = \tfrac14\log\sigma_t$ plays
# $\varepsilon_\theta$; it is trained on $L_{\text{simple}}$ (2.4) with fresh mixture samples each step.
# `train_denoiser` shows a progress bar, can be interrupted (Ctrl-C keeps what was trained) and caches
# the result on disk under a hash of the config (with a checksum; a corrupt file is retrained).

# %%
config = TrainConfig(data="toy_mixture", net="mlp", steps=TRAIN_STEPS, hidden=128, depth=3)
trained = train_denoiser(config, device=DEVICE)
model = trained.model
print("loaded from cache" if trained.from_cache else f"trained {config.steps} steps")
print(
    f"L_simple: first 100 steps {trained.losses[:100].mean():.3f}, last 100 {trained.losses[-100:].mean():.3f}"
)

# %% [markdown]
# **Check: the network learned the exact denoiser.** Against the mixture's exact
# $\varepsilon(x_t) = \mathbb E[\varepsilon\mid x_t]$ the network's error must be small next to the
# error of the best input-independent guess ($\hat\varepsilon = 0$, error $\mathbb E\|\varepsilon(x_t)\|^2$).

# %%
x0_eval = mix.sample(N_EVAL, generator=gen)
for t_eval in (50, 200, 500):
    xt, _ = q_sample(x0_eval, t_eval, schedule, generator=gen)
    a, s = schedule.alpha_bars[t_eval].sqrt(), (1 - schedule.alpha_bars[t_eval]).sqrt()
    exact_eps = mix.eps(xt.double(), a, s)
    with torch.no_grad():
        sig = torch.full((N_EVAL,), float(s / a), device=DEVICE)
        learned_eps = (xt - a * model(xt.to(DEVICE) / a, sig).cpu()) / s
    rel = float(((learned_eps - exact_eps) ** 2).sum(1).mean() / (exact_eps**2).sum(1).mean())
    print(f"t = {t_eval}: relative squared error of eps_theta = {rel:.3f}")
    assert rel < 0.25

# %% [markdown]
# ## 7 · Ancestral sampling (DDPM)
#
# Sample $x_T \sim \mathcal N(0, I)$ and step down with the learned reverse model, i.e. the posterior
# (1.6)–(1.7) evaluated at the model's guess $\hat x_0$:
# $x_{t-1} = \tilde\mu_t(x_t, \hat x_0) + \sqrt{\tilde\beta_t}\,z$ (3.2).
#
# One step of the library's `ddpm_sample`:

# %%
show_source(ddpm_sample, "ddpm-step")

# %% [markdown]
#
# **Quality metric.** For 2-D samples we use the MMD with a sum of Gaussian kernels (bandwidths
# $m/8, m/4, m/2$, $m$ the median pairwise distance of the reference data) and the sliced Wasserstein-2
# distance. Both are positive even between two samples of the same law, so we print the **data floor**:
# the metric between two fresh data samples of the same size.


# %%
def draw_data(n, g):
    return mix.sample(n, generator=g)


floor, floor_sd = data_floor(draw_data, N_EVAL, generator=gen)
swd_floor, _ = data_floor(draw_data, N_EVAL, "swd", generator=gen)
print(f"data floor: MMD {floor:.4f} ± {floor_sd:.4f}, SWD {swd_floor:.4f}")
x_T = torch.randn(N_EVAL, 2, generator=gen)
ddpm_exact = ddpm_sample(mix.denoiser, x_T, schedule=schedule, generator=gen)
ddpm_model = ddpm_sample(model, x_T.to(DEVICE), schedule=schedule, generator=gen)
ref = draw_data(N_EVAL, gen)
for name, res in (("exact score", ddpm_exact), ("trained model", ddpm_model)):
    print(
        f"DDPM 1000 steps, {name}: MMD {mmd(res.x, ref):.4f}, SWD {sliced_wasserstein(res.x.cpu(), ref, generator=gen):.4f}"
    )

# %% [markdown]
# **Check.** With the exact denoiser, 1000 ancestral steps reproduce the data law: the MMD is within
# twice the floor (the floor's own spread is 15–30 % of it, while components 30 % too wide or too
# narrow already cost more than two floors). The trained model is allowed 3× the floor (it carries a learning error).

# %%
assert mmd(ddpm_exact.x, ref) < 2 * floor
assert mmd(ddpm_model.x, ref) < 3 * floor

# %% [markdown]
# ## 8 · DDIM: same marginals, no Markov chain
#
# DDPM's loss only involves the marginals $q(x_t\mid x_0)$. Song et al. build a family of
# **non-Markovian** forward processes with the same marginals, indexed by $\sigma_t$:
#
# $$q_\sigma(x_{t-1}\mid x_t,x_0) = \mathcal N\!\Big(\sqrt{\bar\alpha_{t-1}}x_0 +
# \sqrt{1-\bar\alpha_{t-1}-\sigma_t^2}\;\tfrac{x_t - \sqrt{\bar\alpha_t}x_0}{\sqrt{1-\bar\alpha_t}},\ \sigma_t^2 I\Big).$$
#
# (If $x_t \sim q(x_t\mid x_0)$, the mean is $\sqrt{\bar\alpha_{t-1}}x_0$ and the variance
# $(1-\bar\alpha_{t-1}-\sigma_t^2) + \sigma_t^2$: the marginal is unchanged.) Replacing $x_0$ by
# $\hat x_0$ and the noise by $\hat\varepsilon$ gives the sampler
#
# $$x_{t'} = \sqrt{\bar\alpha_{t'}}\,\hat x_0 + \sqrt{1-\bar\alpha_{t'}-\sigma_t^2}\;\hat\varepsilon + \sigma_t z,
# \qquad \sigma_t(\eta) = \eta\sqrt{\tfrac{1-\bar\alpha_{t'}}{1-\bar\alpha_t}}\sqrt{1-\tfrac{\bar\alpha_t}{\bar\alpha_{t'}}}. \tag{4.1}$$
#
# $\eta = 1$ gives $\sigma_t^2 = \tilde\beta_t$ (DDPM), $\eta = 0$ a **deterministic** map. Because
# only marginals matter, $t' $ need not be $t - 1$: any decreasing subsequence of steps (**step
# skipping**) works with the same network.
#
# **Check: DDIM with η = 1 on adjacent steps is the DDPM posterior** — the variances agree, and with
# the same noise draws the two samplers produce identical trajectories.

# %%
ab = schedule.alpha_bars
for t_c in (2, 100, 1000):
    _, _, bt = posterior_coefficients(ab[t_c], ab[t_c - 1])
    assert_close(
        ddim_sigma(ab[t_c], ab[t_c - 1], 1.0) ** 2,
        bt,
        rtol=1e-12,
        label=f"sigma_t(1)^2 vs beta_tilde, t={t_c}",
    )
x_T_small = torch.randn(256, 2, generator=gen, dtype=torch.float64)
seed = int(torch.randint(0, 2**31, (1,), generator=gen))
path_a, path_b = Trajectory(), Trajectory()
a = ddpm_sample(
    mix.denoiser,
    x_T_small,
    schedule=schedule,
    generator=torch.Generator().manual_seed(seed),
    callback=path_a,
)
b = ddim_sample(
    mix.denoiser,
    x_T_small,
    schedule=schedule,
    eta=1.0,
    generator=torch.Generator().manual_seed(seed),
    callback=path_b,
)
assert_close(
    path_a.stack(a), path_b.stack(b), rtol=1e-9, atol=1e-9, label="DDPM vs DDIM(eta=1) trajectories"
)

# %% [markdown]
# **Step skipping.** Quality against the number of network evaluations (NFE) for DDIM with
# $\eta = 0$ and DDPM ($\eta = 1$), exact denoiser, same starting noise.

# %%
rows = []
for n_steps in (10, 20, 50, 100):
    ts_skip = schedule.timesteps(n_steps)
    for name, eta in (("DDIM eta=0", 0.0), ("DDPM (eta=1)", 1.0)):
        res = ddim_sample(mix.denoiser, x_T, ts_skip, schedule=schedule, eta=eta, generator=gen)
        rows.append((name, res.nfe, mmd(res.x, ref)))
        print(f"{name:13s} NFE {res.nfe:4d}: MMD {rows[-1][2]:.4f}   (floor {floor:.4f})")

# %% [markdown]
# **Check.** The deterministic sampler reaches twice the floor within 50 evaluations, and at each
# budget it is at least as good as the stochastic one (the benchmark `benchmarks/diffusion_samplers.py`
# measures how many more evaluations DDPM needs for the same quality, with larger samples).

# %%
ddim_50 = next(m for name, nfe, m in rows if name == "DDIM eta=0" and nfe == 50)
assert ddim_50 < 2 * floor, ddim_50

# %% [markdown]
# ## 9 · Deterministic inversion
#
# With $\eta = 0$, (4.1) is an Euler step of the ODE $d\bar x = \hat\varepsilon\, d\sigma$ in
# $\bar x = x/\sqrt{\bar\alpha}$, $\sigma = \sqrt{(1-\bar\alpha)/\bar\alpha}$. Running it **upwards**,
# $x_{t_{\text{next}}} = \sqrt{\bar\alpha_{\text{next}}}\hat x_0(x_t) + \sqrt{1-\bar\alpha_{\text{next}}}\,
# \hat\varepsilon(x_t)$ (4.2), encodes data into noise; decoding with (4.1) returns the input up to
# the discretisation error, which shrinks as the number of steps grows.

# %%
x0_inv = mix.sample(500, generator=gen, dtype=torch.float64)
errors = {}
for n_steps in (10, 50, 250):
    ts_inv = schedule.timesteps(n_steps)
    latent = ddim_invert(mix.denoiser, x0_inv, ts_inv, schedule=schedule).x
    back = ddim_sample(mix.denoiser, latent, ts_inv, schedule=schedule).x
    errors[n_steps] = float((back - x0_inv).norm(dim=1).mean())
    print(f"{n_steps:4d} steps: mean reconstruction error {errors[n_steps]:.4f}")

# %% [markdown]
# **Check.** The error decreases with the number of steps and is small at 250 steps.

# %%
assert errors[10] > errors[50] > errors[250]
assert errors[250] < 0.05

# %% [markdown]
# ### Widget (b): sampler explorer
# Pick a sampler, the number of steps and η (used by DDIM). Left: trajectories of a few points from
# noise to data; right: the samples over the data density, with NFE and MMD. Few steps with DDPM blur
# the modes; DDIM with η = 0 stays sharp.

# %%
# NBVAL_IGNORE_OUTPUT
viz.sampler_explorer_widget(denoiser=model)

# %%
display(viz.sampler_explorer_figure("ddim", 10, 0.0))
display(viz.sampler_explorer_figure("ddpm", 10))

# %% [markdown]
# ### Full mode: 8×8 digits
# The same loss and sampler on scikit-learn's bundled 8×8 digits with a tiny conv net (full mode only;
# fast mode skips the training).

# %%
if runtime.is_fast():
    print("fast mode: the digits model is trained in full mode only")
else:
    digits_cfg = TrainConfig(data="digits", net="conv", hidden=32, steps=4000, batch_size=128)
    digits_model = train_denoiser(digits_cfg, device=DEVICE).model
    z_d = torch.randn(32, 1, 8, 8, generator=gen).to(DEVICE)
    imgs = ddim_sample(digits_model, z_d, schedule.timesteps(100), schedule=schedule).x
    display(viz.digits_figure(imgs, title="DDIM, 100 steps, 8×8 digits"))

# %% [markdown]
# ## Exercises
#
# `check(id, answer)` says right or wrong (never the value); `hint("05.1")` gives hints one
# at a time.
#
# **05.1** For the linear schedule with $T = 1000$, what is $\bar\alpha_T$?
# Answer: a float, to 6 significant digits.

# %%
answer = None
check("05.1", answer)

# %% [markdown]
# **05.2** Write `beta_tilde(ab_t, ab_prev)`: the posterior variance (1.7) for a step from
# $\bar\alpha_{\text{prev}}$ to $\bar\alpha_t$ (the step's $\beta = 1 - \bar\alpha_t/\bar\alpha_{\text{prev}}$).
# Answer: a function `beta_tilde(ab_t, ab_prev) -> float`, to 9 significant digits.

# %%
answer = None
check("05.2", answer)

# %% [markdown]
# **05.3** Write `sigma(ab_t, ab_prev, eta)`: DDIM's noise scale (4.1), for $\eta \in [0, 1]$.
# Answer: a function `sigma(ab_t, ab_prev, eta) -> float`, to 9 significant digits.

# %%
answer = None
check("05.3", answer)

# %% [markdown]
# **05.4** With $\sigma_t^2 = \beta_t$ and the linear schedule ($T = 1000$), what weight $\lambda_{10}$
# does the ELBO put on $\|\varepsilon - \varepsilon_\theta\|^2$ at $t = 10$ (2.3)? Compare it with
# $\lambda_{500}$: which steps does $L_{\text{simple}}$ up-weight?
# Answer: a float, to 6 significant digits.

# %%
answer = None
check("05.4", answer)
