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
# **Runtime.** Fast mode (`COURSE_FAST=1`, as in CI): about 80 s on a 2-core CPU, training
# included (the trained model is cached in `.course_cache/`, so 05b and re-runs load it).
# Full mode: about 2.5 minutes on a 2-core CPU (longer training, the 8×8 digits); on a GPU the
# training and sampling run there (`runtime.device()`).
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
    TrainConfig,
    Trajectory,
    bayes_posterior_on_grid,
    data_floor,
    ddim_invert,
    ddim_sample,
    ddim_sigma,
    ddim_step,
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
from course_lib.diffusion.derivations import (
    ddim_coefficients,
    neg_elbo_monte_carlo,
    posterior_by_completing_square,
    posterior_mean_mc,
)
from course_lib.diffusion.metrics import check_modes, mode_statistics
from course_lib.source import show_source

gen = runtime.seed_all(2024)
DEVICE = runtime.device()
print(runtime.describe())

# Sizes: small in fast mode (CI), large in full mode. Nothing below edits them.
N_CHAIN = runtime.pick(fast=20_000, full=200_000)  # samples for the moment checks
N_EVAL = runtime.pick(fast=1_000, full=5_000)  # samples per quality measurement
TRAIN_STEPS = runtime.pick(fast=3_000, full=12_000)

# %% [markdown] slideshow={"slide_type": "notes"}
# **Lecture plan (45 min; speaker notes, not projected).** Run `ONLY="05" make warm`
# before class, so that §6 loads the denoiser from `.course_cache/`. §1 the forward chain (4 min)
# · §2 the one-shot marginal, the schedules, widget (a) (8) · §3 the posterior by completing the
# square (7) · §5 the ε-loss as a reweighted ELBO, stating §4's result (8) · §6 training, from the
# cache (4) · §7 ancestral sampling (5) · §8 DDIM and step skipping (6) · exercise 05.1 live (3).
# Skipped: §4's algebra and checks, §9, widget (b), the full-mode digits, exercises 05.2–05.4.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1 · The forward chain and its schedules
#
# Fix $T$ steps and variances $0 < \beta_t < 1$. The forward (noising) process is the Markov chain
#
# $$q(x_t \mid x_{t-1}) = \mathcal N\!\left(x_t;\ \sqrt{1-\beta_t}\,x_{t-1},\ \beta_t I\right),
# \qquad t = 1, \dots, T. \tag{1.1}$$
#
# The factor $\sqrt{1-\beta_t}$ keeps the variance of unit-variance data at 1. Write
# $\alpha_t = 1 - \beta_t$ and $\bar\alpha_t = \prod_{s \le t} \alpha_s$ (with $\bar\alpha_0 = 1$) (1.2).
# Until section 2's end we use the **linear** schedule (1.4) of Ho et al.; the schedules
# themselves come right after the marginal (1.3) that they are designed around.
#
# **Check (1.2).** $\bar\alpha_t$ is the running product of $1 - \beta_t$ (here recomputed as
# $\exp\sum\log$).

# %% slideshow={"slide_type": "skip"}
schedule = make_schedule("linear", 1000)
assert_close(
    schedule.alpha_bars,
    torch.exp(torch.cumsum(torch.log1p(-schedule.betas), 0)),
    rtol=1e-10,
    label="alpha_bar = prod(1 - beta)",
)

# %% [markdown] slideshow={"slide_type": "slide"}
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

# %% slideshow={"slide_type": "skip"}
show_source(q_sample, "q-sample")

# %% [markdown] slideshow={"slide_type": "subslide"}
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

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Schedules
# Two standard choices: **linear**, $\beta_t$ from $10^{-4}$ to $0.02$ over $T = 1000$ (1.4), and
# **cosine**, $\bar\alpha_t = f(t)/f(0)$ with $f(t) = \cos^2\!\big(\tfrac{t/T + s}{1+s}\tfrac{\pi}{2}\big)$,
# $s = 0.008$ (1.5), which destroys information more evenly. By (1.3) a schedule is fixed by
# how fast $\bar\alpha_t$ (the signal kept) decays.
#
# **Check (1.4)–(1.5).** The end points of the linear schedule, the cosine schedule against its
# defining $f(t)/f(0)$, and $\bar\alpha_T \approx 0$ for both.

# %% slideshow={"slide_type": "skip"}
cosine = make_schedule("cosine", 1000)
print(
    f"linear: beta_1 = {float(schedule.betas[1]):.1e}, beta_T = {float(schedule.betas[-1]):.3f}; "
    f"alpha_bar_T: linear {float(schedule.alpha_bars[-1]):.2e}, cosine {float(cosine.alpha_bars[-1]):.2e}"
)
display(viz.schedules_figure(1000))
assert_close(schedule.betas[[1, -1]], torch.tensor([1e-4, 0.02], dtype=torch.float64), rtol=1e-9)
t = torch.arange(1001, dtype=torch.float64)
f = torch.cos((t / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2
assert_close(
    cosine.alpha_bars[:-1], (f / f[0])[:-1], rtol=1e-9, atol=1e-12, label="cosine alpha_bar"
)
assert float(schedule.alpha_bars[-1]) < 1e-4 and float(cosine.alpha_bars[-1]) < 1e-4

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Widget (a): forward diffusion
# Our data: a 2-D mixture of five anisotropic Gaussians with unequal weights. Move $t$: the cloud
# $x_t$ (left) and its exact density $q(x_t) = \sum_k w_k\,\mathcal N(\sqrt{\bar\alpha_t}\mu_k,\,
# \bar\alpha_t\Sigma_k + (1-\bar\alpha_t)I)$ (right, eq. 6.1) melt into $\mathcal N(0, I)$. Compare the
# linear and cosine schedules at the same $t$.

# %%
# NBVAL_IGNORE_OUTPUT
viz.forward_diffusion_widget(t=200)

# %% slideshow={"slide_type": "skip"}
display(viz.forward_diffusion_figure(t=0))
display(viz.forward_diffusion_figure(t=300))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3 · The posterior $q(x_{t-1} \mid x_t, x_0)$
#
# By Bayes' rule and the Markov property,
# $q(x_{t-1}\mid x_t, x_0) \propto q(x_t \mid x_{t-1})\,q(x_{t-1}\mid x_0)$, a product of two Gaussians
# in $y = x_{t-1}$. **Completing the square** (per coordinate): the log of the product is $-E/2$ + const with
#
# $$E = \frac{(x_t - \sqrt{\alpha_t}\,y)^2}{\beta_t} + \frac{(y - \sqrt{\bar\alpha_{t-1}}\,x_0)^2}{1-\bar\alpha_{t-1}}
# = A y^2 - 2By + \text{const},\quad A = \frac{\alpha_t}{\beta_t} + \frac{1}{1-\bar\alpha_{t-1}}
# = \frac{1-\bar\alpha_t}{\beta_t(1-\bar\alpha_{t-1})},\quad
# B = \frac{\sqrt{\alpha_t}}{\beta_t}x_t + \frac{\sqrt{\bar\alpha_{t-1}}}{1-\bar\alpha_{t-1}}x_0,$$
#
# (using $\alpha_t(1-\bar\alpha_{t-1}) + \beta_t = 1-\bar\alpha_t$). Since $A y^2 - 2By = A(y - B/A)^2 - B^2/A$,
# the posterior is Gaussian with mean $B/A$ and variance $1/A$:
#
# $$q(x_{t-1}\mid x_t,x_0) = \mathcal N(\tilde\mu_t, \tilde\beta_t I),\quad
# \tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1-\bar\alpha_t}x_0
#   + \frac{\sqrt{\alpha_t}\,(1-\bar\alpha_{t-1})}{1-\bar\alpha_t}x_t, \tag{1.6}$$
#
# $$\tilde\beta_t = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\,\beta_t. \tag{1.7}$$

# %% slideshow={"slide_type": "skip"}
x0_1d = torch.tensor([[0.8]], dtype=torch.float64)
xt_1d = torch.tensor([[-0.3]], dtype=torch.float64)
for t_post in (2, 50, 700):
    mu, var = posterior_mean_var(x0_1d, xt_1d, t_post, schedule)
    print(f"t = {t_post:4d}: mu_tilde = {float(mu):+.6f}, beta_tilde = {float(var):.6g}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check the algebra.** sympy expands $E$, reads off $A$ and $B$, and its $B/A$, $1/A$ must give the
# library's coefficients of $x_0$, $x_t$ and the variance (1.6)–(1.7):

# %%
sq_ = posterior_by_completing_square()
for t_post in (2, 50, 700):
    ab_t, ab_p = schedule.alpha_bars[t_post], schedule.alpha_bars[t_post - 1]
    subs = {sq_["alpha"]: float(ab_t / ab_p), sq_["ab_prev"]: float(ab_p)}
    c0, ct, v = posterior_coefficients(ab_t, ab_p)
    mean_expr = sq_["mean"].subs(subs)
    got = [
        float(mean_expr.diff(sq_["x0"])),
        float(mean_expr.diff(sq_["xt"])),
        float(sq_["var"].subs(subs)),
    ]
    assert_close(
        torch.tensor(got, dtype=torch.float64),
        torch.stack([c0, ct, v]).double(),
        rtol=1e-10,
        label=f"sympy vs (1.6)-(1.7), t={t_post}",
    )

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (1.6)–(1.7) against Bayes' rule numerically.** Multiply the two densities on a fine grid,
# normalise numerically, and compare the mean and variance of the result with the closed form.

# %% slideshow={"slide_type": "skip"}
grid = torch.linspace(-6, 6, 200_001, dtype=torch.float64)
for t_post in (2, 50, 700):
    dens = bayes_posterior_on_grid(0.8, -0.3, t_post, schedule, grid)
    m_num = torch.trapezoid(grid * dens, grid)
    v_num = torch.trapezoid((grid - m_num) ** 2 * dens, grid)
    mu, var = posterior_mean_var(x0_1d, xt_1d, t_post, schedule)
    assert_close(m_num, mu.squeeze(), rtol=1e-6, atol=1e-9, label=f"t={t_post}: mean")
    assert_close(v_num, var.squeeze(), rtol=1e-4, label=f"t={t_post}: variance")

# %% [markdown] slideshow={"slide_type": "skip"}
# ## 4 · The ELBO and its Gaussian KL terms
#
# The reverse model $p_\theta(x_{t-1}\mid x_t) = \mathcal N(\mu_\theta(x_t,t), \sigma_t^2 I)$, with
# $p(x_T) = \mathcal N(0, I)$, defines $p_\theta(x_{0:T})$. **Derivation.** For any $x_0$, Jensen's
# inequality on $\log p_\theta(x_0) = \log\mathbb E_{q(x_{1:T}\mid x_0)}\big[p_\theta(x_{0:T})/q(x_{1:T}\mid x_0)\big]$
# gives $-\log p_\theta(x_0) \le L = \mathbb E_q\big[\log q(x_{1:T}\mid x_0) - \log p_\theta(x_{0:T})\big]$ (the gap is
# $\mathrm{KL}(q(x_{1:T}\mid x_0)\,\|\,p_\theta(x_{1:T}\mid x_0))$). Now rewrite the forward chain backwards: by
# Bayes and the Markov property $q(x_t\mid x_{t-1}) = q(x_{t-1}\mid x_t,x_0)\,q(x_t\mid x_0)/q(x_{t-1}\mid x_0)$,
# and the product over $t = 2..T$ telescopes:
# $q(x_{1:T}\mid x_0) = q(x_T\mid x_0)\prod_{t=2}^T q(x_{t-1}\mid x_t, x_0)$. Pairing each factor with
# the model's factor of the same variable,
#
# $$L = \underbrace{\mathrm{KL}(q(x_T\mid x_0)\,\|\,\mathcal N(0,I))}_{L_T}
# + \sum_{t=2}^{T}\underbrace{\mathrm{KL}(q(x_{t-1}\mid x_t,x_0)\,\|\,p_\theta(x_{t-1}\mid x_t))}_{L_{t-1}}
# \underbrace{- \log p_\theta(x_0\mid x_1)}_{L_0}. \tag{2.1}$$
#
# Every term is a KL between Gaussians; per coordinate
# $\mathrm{KL}(\mathcal N(m_1,v_1)\|\mathcal N(m_2,v_2)) = \tfrac12\big[\log\tfrac{v_2}{v_1} +
# \tfrac{v_1 + (m_1-m_2)^2}{v_2} - 1\big]$ (2.2).
#
# **Check (2.1): the decomposition.** Estimate $L$ directly from its definition, one whole forward
# trajectory at a time ($\log q(x_{1:T}\mid x_0) - \log p_\theta(x_{0:T})$ summed along the path, no KL
# formula: `neg_elbo_monte_carlo`), and compare with the sum of the closed-form terms of (2.1)
# (`elbo_terms`), for a deliberately imperfect model. Both must agree within Monte Carlo error,
# and both must lie above $-\log p(x_0)$, known exactly for the mixture (T = 100 keeps it cheap).

# %% slideshow={"slide_type": "skip"}
mix = toy_mixture()
small = make_schedule("linear", 100)
x0_elbo = mix.sample(N_EVAL // 2, generator=gen, dtype=torch.float64)


def blurred_denoiser(x, sigma):
    return mix.denoiser(x, 1.3 * sigma)  # the exact denoiser at a wrong noise level


L_path = neg_elbo_monte_carlo(x0_elbo, blurred_denoiser, small, generator=gen)
L_terms = elbo_terms(x0_elbo, blurred_denoiser, small, generator=gen)["total"]
se_L = math.sqrt(float(L_path.var() + L_terms.var()) / x0_elbo.shape[0])
nll = -mix.log_prob(x0_elbo)
print(
    f"-ELBO per sample: trajectories {float(L_path.mean()):.3f}, sum of (2.1)'s terms "
    f"{float(L_terms.mean()):.3f} (± {se_L:.3f}); exact -log p(x_0) {float(nll.mean()):.3f}"
)
assert_within_se(L_path.mean() - L_terms.mean(), 0.0, se_L, label="(2.1): path estimate vs terms")
assert float((L_terms - nll).mean()) > 0  # a bound: above the exact negative log-likelihood

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (2.2)** against a Monte Carlo average of $\log q - \log p$ under $q$.

# %% slideshow={"slide_type": "skip"}
m1, v1, m2, v2 = 0.3, 0.5, -0.2, 1.7
z = torch.randn(N_CHAIN * 5, generator=gen, dtype=torch.float64)
xs = m1 + math.sqrt(v1) * z
log_ratio = 0.5 * (math.log(v2 / v1) - (xs - m1) ** 2 / v1 + (xs - m2) ** 2 / v2)
kl = gaussian_kl(torch.tensor(m1), torch.tensor(v1), torch.tensor(m2), torch.tensor(v2))
assert_within_se(
    log_ratio.mean(), kl, float(log_ratio.std()) / math.sqrt(xs.numel()), label="KL (2.2)"
)

# %% [markdown] slideshow={"slide_type": "slide"}
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
# and $\hat\varepsilon = (x_t - \sqrt{\bar\alpha_t}\hat x_0)/\sqrt{1-\bar\alpha_t}$ (3.1).
#
# **The exact denoiser of a Gaussian mixture (6.1)–(6.4).** Let $p_0 = \sum_k w_k\mathcal N(\mu_k,\Sigma_k)$
# and $x = x_0 + \sigma\varepsilon$. Given the component $k$, $(x_0, x)$ is jointly Gaussian, so
# (i) $x\mid k \sim \mathcal N(\mu_k, \Sigma_k + \sigma^2 I)$ and $p_\sigma(x) = \sum_k w_k\mathcal N(x;\mu_k,\Sigma_k+\sigma^2 I)$
# (6.1, with a scale $a$ in general); (ii) the Gaussian conditioning formula gives
# $\mathbb E[x_0\mid x, k] = \mu_k + \Sigma_k(\Sigma_k+\sigma^2 I)^{-1}(x-\mu_k)$; (iii) the component's
# posterior probability is the responsibility $r_k(x) = w_k\mathcal N(x;\mu_k,\Sigma_k+\sigma^2I)/p_\sigma(x)$. The
# tower rule $\mathbb E[x_0\mid x] = \sum_k r_k(x)\,\mathbb E[x_0\mid x,k]$ gives
#
# $$D(x;\sigma) = \sum_k r_k(x)\big[\mu_k + \Sigma_k(\Sigma_k+\sigma^2 I)^{-1}(x-\mu_k)\big]. \tag{6.4}$$
#
# (6.2) and (6.3) are its score and noise forms (05b). Every later check in the chapter relies on
# this formula, so **check (6.4)** independently: weight $2\times10^5$ data draws by the likelihood
# $\mathcal N(x; x_0^{(j)}, \sigma^2 I)$ (self-normalised importance sampling) and average them.

# %% [markdown] slideshow={"slide_type": "notes"}
# **Notes for §5: state §4's result, skip its algebra.** The negative ELBO splits into
# $L_T + \sum_{t \ge 2} L_{t-1} + L_0$ (2.1), and each $L_{t-1}$ is a KL between two Gaussians, the
# posterior (1.6)–(1.7) and the model's reverse step, in closed form (2.2); §4 checks both on the
# notebook page. The point of this slide: with the ε-parametrisation each KL term is a weighted
# squared error in ε (2.3), and $L_\text{simple}$ drops the weights. Misconception to raise: "the
# network predicts the clean image". With ε-prediction it predicts the noise; $\hat x_0$ and
# $\hat\varepsilon$ are affine in each other at fixed $t$ (3.1), so either can be read off.

# %% slideshow={"slide_type": "skip"}
prior_draws = mix.sample(
    runtime.pick(fast=100_000, full=400_000), generator=gen, dtype=torch.float64
)
x_query = torch.tensor([[0.3, -0.2], [1.2, 0.8], [-1.0, -0.5], [0.0, 1.5]], dtype=torch.float64)
for sig_q in (0.2, 0.7, 2.0):
    mc_mean, mc_se = posterior_mean_mc(prior_draws, x_query, 1.0, sig_q)
    z = (mix.denoiser(x_query, sig_q) - mc_mean) / (mc_se + 1e-12)
    print(f"sigma = {sig_q}: largest |exact - MC| / SE = {float(z.abs().max()):.2f}")
    assert float(z.abs().max()) < 4, f"(6.4) vs importance sampling at sigma={sig_q}"
#
# **Check (2.3).** For a deliberately wrong model, each KL term computed by (2.2) equals
# $\lambda_t\|\varepsilon-\varepsilon_\theta\|^2 + C_t$.

# %% slideshow={"slide_type": "subslide"}
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

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check: the bound is a bound, and tight when the model is exact.** For data $\mathcal N(0,I)$ every
# marginal is $\mathcal N(0,I)$ and the true reverse step is exactly
# $\mathcal N(\sqrt{\alpha_t}x_t, \beta_t)$, so with $\sigma_t^2 = \beta_t$ and the exact denoiser
# $\mathbb E[L] = \mathbb E[-\log p(x_0)]$. For the mixture, $L \ge -\log p(x_0)$ (known exactly).

# %% slideshow={"slide_type": "skip"}
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

# %% [markdown] slideshow={"slide_type": "slide"}
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

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check: the network learned the exact denoiser.** Against the mixture's exact
# $\varepsilon(x_t) = \mathbb E[\varepsilon\mid x_t]$ the network's error must be small next to the
# error of the best input-independent guess ($\hat\varepsilon = 0$, error $\mathbb E\|\varepsilon(x_t)\|^2$).

# %% slideshow={"slide_type": "fragment"}
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

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7 · Ancestral sampling (DDPM)
#
# Sample $x_T \sim \mathcal N(0, I)$ and step down with the learned reverse model, i.e. the posterior
# (1.6)–(1.7) evaluated at the model's guess $\hat x_0$:
# $x_{t-1} = \tilde\mu_t(x_t, \hat x_0) + \sqrt{\tilde\beta_t}\,z$ (3.2).
#
# One step of the library's `ddpm_sample`:

# %% slideshow={"slide_type": "skip"}
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

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check.** With the exact denoiser, 1000 ancestral steps reproduce the data law. Two tests,
# because each misses what the other sees. *MMD within twice the floor* catches a lost mode (one
# 15 % mode missing gives about 4× the floor at these sizes) but **not** a shape error: components
# 30 % too wide stay under 2× the floor at $n \le 2000$ (`tests/diffusion/test_quality_derivations.py`
# shows both). *Per-mode checks* (`check_modes`, eq. 6.8) weight each sample by the true mixture's
# responsibilities $r_k(x)$; since $\mathbb E_p[r_k] = w_k$ and
# $\mathbb E_p[r_k (x-\mu_k)(x-\mu_k)^\top] = w_k\Sigma_k$ exactly, every mode weight, covariance entry and
# width must match the truth within 4 standard errors — a 30 %-too-wide mixture, wrong weights or a
# missing mode fail them at $n = 1000$. The trained model is allowed 3× the floor (it carries a
# learning error); its mode weights must still be right within 4 standard errors.

# %%
assert mmd(ddpm_exact.x, ref) < 2 * floor
z_exact = check_modes(mix, ddpm_exact.x, label="DDPM, exact denoiser")
assert mmd(ddpm_model.x, ref) < 3 * floor
st = mode_statistics(mix, ddpm_model.x)
z_w = ((st["weights"] - st["true_weights"]) / st["weights_se"]).abs().max()
print(
    f"largest |z| of the per-mode statistics: exact denoiser {z_exact:.1f}; trained model's weights {float(z_w):.1f}"
)
assert float(z_w) < 4

# %% [markdown] slideshow={"slide_type": "slide"}
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
# $\eta = 1$ gives $\sigma_t^2 = \tilde\beta_t$ (DDPM), $\eta = 0$ a **deterministic** map.
#
# **Where (4.1) comes from: undetermined coefficients.** Look for an update that is linear in
# $x_0$, $x_t$ and fresh noise, $x_{t'} = k\,x_0 + m\,x_t + \sigma_t z$, and ask only that it keep the
# marginal: if $x_t\sim\mathcal N(\sqrt{\bar\alpha_t}x_0, (1-\bar\alpha_t)I)$ then $x_{t'}$ has mean
# $(k + m\sqrt{\bar\alpha_t})x_0$ and variance $m^2(1-\bar\alpha_t) + \sigma_t^2$, so
# $k + m\sqrt{\bar\alpha_t} = \sqrt{\bar\alpha_{t'}}$ and $m^2(1-\bar\alpha_t) + \sigma_t^2 = 1-\bar\alpha_{t'}$. Two
# equations, two unknowns, and $\sigma_t$ stays free: $m = \sqrt{1-\bar\alpha_{t'}-\sigma_t^2}/\sqrt{1-\bar\alpha_t}$,
# $k = \sqrt{\bar\alpha_{t'}} - m\sqrt{\bar\alpha_t}$, which is the mean of $q_\sigma$ above.
#
# **Check.** sympy solves the two equations; its $(k, m)$ reproduce the library's `ddim_step` for
# random inputs and several $\eta$. Because
# only marginals matter, $t' $ need not be $t - 1$: any decreasing subsequence of steps (**step
# skipping**) works with the same network.
#
# %%
dd = ddim_coefficients()
ab = schedule.alpha_bars
x0_c, e_c, z_c = (torch.randn(64, 2, generator=gen, dtype=torch.float64) for _ in range(3))
for t_c, tp_c, eta_c in ((700, 600, 0.0), (300, 299, 1.0), (80, 40, 0.5)):
    sig_c = float(ddim_sigma(ab[t_c], ab[tp_c], eta_c))
    vals = {dd["ab_t"]: float(ab[t_c]), dd["ab_p"]: float(ab[tp_c]), dd["sigma"]: max(sig_c, 1e-30)}
    k_c, m_c = float(dd["k"].subs(vals)), float(dd["m"].subs(vals))
    xt_c = ab[t_c].sqrt() * x0_c + (1 - ab[t_c]).sqrt() * e_c
    assert_close(
        ddim_step(xt_c, x0_c, e_c, ab[t_c], ab[tp_c], eta_c, z_c),
        k_c * x0_c + m_c * xt_c + sig_c * z_c,
        rtol=1e-9,
        atol=1e-12,
        label=f"undetermined coefficients vs ddim_step, {t_c}->{tp_c}, eta={eta_c}",
    )

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check: DDIM with η = 1 on adjacent steps is the DDPM posterior** — the variances agree, and with
# the same noise draws the two samplers produce identical trajectories (on the $T = 100$ schedule
# of section 4, to keep it quick).

# %% slideshow={"slide_type": "skip"}
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
    schedule=small,
    generator=torch.Generator().manual_seed(seed),
    callback=path_a,
)
b = ddim_sample(
    mix.denoiser,
    x_T_small,
    schedule=small,
    eta=1.0,
    generator=torch.Generator().manual_seed(seed),
    callback=path_b,
)
assert_close(
    path_a.stack(a), path_b.stack(b), rtol=1e-9, atol=1e-9, label="DDPM vs DDIM(eta=1) trajectories"
)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Step skipping.** Quality against the number of network evaluations (NFE) for DDIM with
# $\eta = 0$ and DDPM ($\eta = 1$), exact denoiser, $n = 1000$ samples, averaged over 3 independent
# runs (fresh noise and reference each time); ± is the standard error of the mean.

# %%
rows = []
n_skip = N_EVAL // 2
floor_skip, _ = data_floor(draw_data, n_skip, generator=gen)
for n_steps in (10, 20, 50):
    ts_skip = schedule.timesteps(n_steps)
    for name, eta in (("DDIM eta=0", 0.0), ("DDPM (eta=1)", 1.0)):
        vals = []
        for _ in range(3):
            z_T = torch.randn(n_skip, 2, generator=gen)
            res = ddim_sample(mix.denoiser, z_T, ts_skip, schedule=schedule, eta=eta, generator=gen)
            vals.append(mmd(res.x, draw_data(n_skip, gen)))
        v = torch.tensor(vals)
        rows.append((name, res.nfe, float(v.mean()), float(v.std()) / math.sqrt(3)))
        print(
            f"{name:13s} NFE {res.nfe:4d}: MMD {rows[-1][2]:.4f} ± {rows[-1][3]:.4f}   (floor {floor_skip:.4f})"
        )

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check.** The deterministic sampler reaches twice the floor within 50 evaluations. The table
# suggests DDIM ahead of DDPM at equal cost, but at $n = 1000$ with 3 repeats the difference at
# 10 evaluations is only about one standard error, so no ranking is asserted here;
# `benchmarks/diffusion_samplers.py` measures it with larger samples.

# %% slideshow={"slide_type": "skip"}
table = {(name, nfe): (m, se) for name, nfe, m, se in rows}
ddim_50 = table[("DDIM eta=0", 50)][0]
assert ddim_50 < 2 * floor_skip, ddim_50
(m0, se0), (m1, se1) = table[("DDIM eta=0", 10)], table[("DDPM (eta=1)", 10)]
print(
    f"at 10 evaluations DDPM - DDIM = {m1 - m0:.4f} ± {math.hypot(se0, se1):.4f} (standard error)"
)

# %% [markdown] slideshow={"slide_type": "skip"}
# ## 9 · Deterministic inversion
#
# With $\eta = 0$, (4.1) is an Euler step of the ODE $d\bar x = \hat\varepsilon\, d\sigma$ in
# $\bar x = x/\sqrt{\bar\alpha}$, $\sigma = \sqrt{(1-\bar\alpha)/\bar\alpha}$. Running it **upwards**,
# $x_{t_{\text{next}}} = \sqrt{\bar\alpha_{\text{next}}}\hat x_0(x_t) + \sqrt{1-\bar\alpha_{\text{next}}}\,
# \hat\varepsilon(x_t)$ (4.2), encodes data into noise; decoding with (4.1) returns the input up to
# the discretisation error, which shrinks as the number of steps grows.

# %% slideshow={"slide_type": "skip"}
x0_inv = mix.sample(200, generator=gen, dtype=torch.float64)
errors = {}
for n_steps in (10, 50, 250):
    ts_inv = schedule.timesteps(n_steps)
    latent = ddim_invert(mix.denoiser, x0_inv, ts_inv, schedule=schedule).x
    back = ddim_sample(mix.denoiser, latent, ts_inv, schedule=schedule).x
    errors[n_steps] = float((back - x0_inv).norm(dim=1).mean())
    print(f"{n_steps:4d} steps: mean reconstruction error {errors[n_steps]:.4f}")

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check.** The error decreases with the number of steps and is small at 250 steps.

# %% slideshow={"slide_type": "skip"}
assert errors[10] > errors[50] > errors[250]
assert errors[250] < 0.05

# %% [markdown] slideshow={"slide_type": "skip"}
# ### Widget (b): sampler explorer
# Pick a sampler (this notebook's two; 05b adds the SDE and ODE samplers), the number of steps and
# η (DDIM only: the slider is disabled for DDPM). Left: trajectories of a few points from noise to
# data; right: the samples over the data density, with NFE and MMD. Few steps with DDPM blur
# the modes; DDIM with η = 0 stays sharp.

# %% slideshow={"slide_type": "skip"}
# NBVAL_IGNORE_OUTPUT
viz.sampler_explorer_widget(denoiser=model, samplers=("ddpm", "ddim"))

# %% slideshow={"slide_type": "skip"}
display(viz.sampler_explorer_figure("ddim", 10, 0.0))
display(viz.sampler_explorer_figure("ddpm", 10))

# %% [markdown] slideshow={"slide_type": "skip"}
# ### Full mode: 8×8 digits
# The same loss and sampler on scikit-learn's bundled 8×8 digits with a tiny conv net (full mode only;
# fast mode skips the training).

# %% slideshow={"slide_type": "skip"}
if runtime.is_fast():
    print("fast mode: the digits model is trained in full mode only")
else:
    digits_cfg = TrainConfig(data="digits", net="conv", hidden=32, steps=4000, batch_size=128)
    digits_model = train_denoiser(digits_cfg, device=DEVICE).model
    z_d = torch.randn(32, 1, 8, 8, generator=gen).to(DEVICE)
    imgs = ddim_sample(digits_model, z_d, schedule.timesteps(100), schedule=schedule).x
    display(viz.digits_figure(imgs, title="DDIM, 100 steps, 8×8 digits"))

# %% [markdown] slideshow={"slide_type": "slide"}
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

# %% [markdown] slideshow={"slide_type": "skip"}
# **05.2** Write `beta_tilde(ab_t, ab_prev)`: the posterior variance (1.7) for a step from
# $\bar\alpha_{\text{prev}}$ to $\bar\alpha_t$ (the step's $\beta = 1 - \bar\alpha_t/\bar\alpha_{\text{prev}}$).
# Answer: a function `beta_tilde(ab_t, ab_prev) -> float`, to 9 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("05.2", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **05.3** Write `sigma(ab_t, ab_prev, eta)`: DDIM's noise scale (4.1), for $\eta \in [0, 1]$.
# Answer: a function `sigma(ab_t, ab_prev, eta) -> float`, to 9 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("05.3", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **05.4** With $\sigma_t^2 = \beta_t$ and the linear schedule ($T = 1000$), what weight $\lambda_{10}$
# does the ELBO put on $\|\varepsilon - \varepsilon_\theta\|^2$ at $t = 10$ (2.3)? Compare it with
# $\lambda_{500}$: which steps does $L_{\text{simple}}$ up-weight?
# Answer: a float, to 6 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("05.4", answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# * The forward chain (1.1) has the one-shot marginal (1.3), $x_t = \sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\varepsilon$;
#   schedules (1.4)–(1.5) only choose how fast $\bar\alpha_t$ decays.
# * Completing the square gives the Gaussian posterior $q(x_{t-1}\mid x_t,x_0)$ (1.6)–(1.7); the
#   telescoped forward chain turns the ELBO into Gaussian KL terms (2.1)–(2.2), and the ε-loss is
#   that bound reweighted (2.3)–(2.4).
# * For a Gaussian mixture the denoiser $D(x;\sigma) = \mathbb E[x_0\mid x]$ is exact (6.4): every sampler
#   can be tested without training error.
# * DDIM (4.1) follows from undetermined coefficients that keep the marginals; η interpolates
#   between a deterministic map (η = 0, invertible, step-skipping) and DDPM (η = 1).
# * Sample quality needs two kinds of checks: the MMD against the data floor (lost modes) and
#   per-mode weights and covariances (shapes and weights).
#
# ## References
#
# * J. Ho, A. Jain, P. Abbeel. *Denoising Diffusion Probabilistic Models.* NeurIPS 2020.
# * J. Song, C. Meng, S. Ermon. *Denoising Diffusion Implicit Models.* ICLR 2021.
# * A. Nichol, P. Dhariwal. *Improved Denoising Diffusion Probabilistic Models.* ICML 2021 (cosine schedule).
# * B. Efron. *Tweedie's Formula and Selection Bias.* JASA 106 (2011).
# * A. Gretton et al. *A Kernel Two-Sample Test.* JMLR 13 (2012) (MMD).
# * Seed article (Chinese): 基于 EDM 统一扩散模型框架 ("a unified framework for diffusion models
#   after EDM"), `shared/seeds/000_12b997980479caa7.txt`: the DDPM/DDIM noising formulas and the
#   undetermined-coefficients derivation of DDIM.
#
# **Glossary (中文 – English).** 扩散模型 diffusion model · 加噪 noising (forward process) ·
# 去噪 denoising · 一步加噪公式 one-shot noising formula (1.3) · 后验分布 posterior ·
# 待定系数法 method of undetermined coefficients · 得分/分数 score · 概率流 probability flow ·
# 常微分方程 (ODE) ordinary differential equation · 随机微分方程 (SDE) stochastic differential equation ·
# 预条件 preconditioning · 前向/逆向过程 forward/reverse process · 布朗运动 Brownian motion.
