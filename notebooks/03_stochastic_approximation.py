# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,slideshow,-all
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # Chapter 03 · Stochastic approximation: from running means to Robbins–Monro and SGD
#
# We want the root $w^*$ of a function $g$ that we cannot write down: we can only ask for
# $g(w)$ at a point of our choice, and the answer comes back with noise. **Stochastic
# approximation** solves this online, one noisy observation at a time. The running mean is
# its simplest case, the Robbins–Monro (RM) algorithm its general form, Dvoretzky's theorem
# the engine of its convergence proof, and stochastic gradient descent (SGD) its most famous
# application. Every step below is checked numerically, and each condition of the RM theorem
# is shown to matter by a counter-example that fails measurably.
#
# **Learning goals.** After this chapter you can
# 1. turn a batch average into the incremental update $w_{k+1} = w_k - \frac1k (w_k - x_k)$ and
#    say what a general step size $a_k$ estimates instead;
# 2. state the RM algorithm and its three conditions, and show with a simulation what goes
#    wrong when each one fails;
# 3. state Dvoretzky's theorem and test admissible and inadmissible step sequences;
# 4. read SGD, mini-batch GD and batch GD as RM on the gradient of an expectation, and
#    predict SGD's error on a least-squares problem exactly;
# 5. see the RM iterates as Euler steps of the ODE $\dot w = -g(w)$.
#
# **Prerequisites.** Sequences and series (convergence tests), expectation and variance,
# gradients; Chapter 02's quadratic forms help for section 5; a little PyTorch.
#
# **Runtime.** Fast mode (`COURSE_FAST=1`, as in CI): about 30 s on a 2-core CPU. Full mode
# (10x more runs, so every statistical check is about 3x tighter): about 2 min on a 2-core
# CPU; simulations run on the GPU when one is present.
#
# **Mode.** The set-up cell prints the mode this run uses: *fast* on a CPU, *full* where a GPU
# is present. To switch, start JupyterLab with `COURSE_FAST=0 make lab` (full) or
# `COURSE_FAST=1 make lab` (fast), or run `%env COURSE_FAST=0` before the set-up cell.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import math
from fractions import Fraction

import numpy as np
import torch
from IPython.display import display

from course_lib import runtime
from course_lib.approx import (
    PROBLEMS,
    ConstantStep,
    PowerStep,
    batch_means,
    constant_step_variance,
    dvoretzky_moments,
    dvoretzky_process,
    estimator_weights,
    gradient_noise_ratio,
    incremental_mean,
    least_squares_grad,
    least_squares_loss,
    least_squares_solution,
    minibatch_gd,
    robbins_monro,
    sgd_least_squares,
    sgd_least_squares_moments,
    sgd_mean,
    solve_mean_ode,
    tanh_flow,
    uniform_noise,
    viz,
)
from course_lib.checks import assert_close, assert_within_se, check, hint  # noqa: F401
from course_lib.source import show_source

gen = runtime.seed_all(0)
DEVICE = runtime.device()
print(runtime.describe())

# Sizes: small in fast mode (CI), large in full mode. Nothing below edits them.
RUNS = runtime.pick(fast=2_000, full=20_000)  # independent runs, simulated as one tensor
F64 = torch.float64

# %% [markdown] slideshow={"slide_type": "notes"}
# **Lecture plan (45 min; speaker notes, not projected).** §1 incremental mean and a
# general step size (7 min) · §2 Robbins–Monro: the $\tanh$ example, noisy observations and the
# $\sigma^2/k$ rate, mean estimation as RM (10) · widget (a) (5) · §3 the three counter-examples
# (8) · §4 Dvoretzky's theorem and its figure (5) · §5 SGD, MBGD and BGD as RM, least squares (5)
# · §6 the ODE view (3) · exercise 03.1 live (2). Skipped: listings, the checks of (1.2) and
# (1.5), the RM-step and Dvoretzky-moment checks, §5 after least squares (SGD's exact error,
# gradient noise, 2-D mean estimation, widget (b)), the ODE check, exercises 03.2–03.4.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1 · Mean estimation, incrementally
#
# Let $x_1, x_2, \dots$ be i.i.d. samples of $X$. The non-incremental estimate of
# $\mathbb E[X]$ after $k$ samples is $w_{k+1} = \frac1k\sum_{i=1}^k x_i$ (1.1). Since
# $k\,w_{k+1} = (k-1)\,w_k + x_k$,
#
# $$w_{k+1} = w_k - \frac1k\,(w_k - x_k), \qquad k = 1, 2, \dots \tag{1.2}$$
#
# needs only the last estimate and the new sample: the estimate is available at every
# moment and improves as data arrive. The library's loop (general step $a_k$, (1.3) below):

# %% slideshow={"slide_type": "skip"}
display(show_source(incremental_mean, "incremental"))

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (1.2) = (1.1).** In exact rational arithmetic the two agree for every $k$; in
# float64 the library's tensors agree with an exactly rounded sum (`math.fsum`) to a few
# units of rounding.

# %% slideshow={"slide_type": "skip"}
ints = torch.randint(-50, 50, (200,), generator=gen).tolist()
w = Fraction(0)
for k, x in enumerate(ints, start=1):
    w = w - Fraction(1, k) * (w - x)  # (1.2)
    assert w == Fraction(sum(ints[:k]), k)  # (1.1), exactly
xs = torch.randn(2000, dtype=F64, generator=gen)
exact = torch.tensor([math.fsum(xs[:k].tolist()) / k for k in range(1, 2001)], dtype=F64)
assert_close(incremental_mean(xs)[1:], exact, rtol=0, atol=1e-13, label="(1.2) vs fsum mean")
assert_close(batch_means(xs), exact, rtol=0, atol=1e-13, label="(1.1) vs fsum mean")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### A general step size and what it estimates
#
# Replace $1/k$ by $a_k$: $w_{k+1} = (1 - a_k) w_k + a_k x_k$ (1.3). Unrolling,
#
# $$w_{n+1} = \prod_{i=1}^{n}(1-a_i)\, w_1 + \sum_{i=1}^{n} \underbrace{a_i \prod_{j=i+1}^{n}(1-a_j)}_{\lambda_i}\, x_i, \tag{1.4}$$
#
# a weighted average whose weights sum to 1 together with that of $w_1$. With $a_k = 1/k$
# every $\lambda_i = 1/n$. A constant $a$ weighs recent samples most (an exponential moving
# average); for $\operatorname{Var} X = s^2$ its variance tends to
#
# $$\operatorname{Var}[w_\infty] = \frac{a^2 s^2}{1 - (1-a)^2} = \frac{a\, s^2}{2 - a}, \tag{1.5}$$
#
# which does not shrink with more data: it estimates $\mathbb E[X]$ but never converges.

# %%
x60 = torch.randn(60, dtype=F64, generator=gen)
for sched in (PowerStep(), ConstantStep(0.2), PowerStep(0.7, 0.8)):
    w_last = incremental_mean(x60, sched, w1=2.5)[-1]
    weight_w1, lam = estimator_weights(sched, 60)
    assert_close(w_last, weight_w1 * 2.5 + lam @ x60, rtol=1e-12, label=f"(1.4), {sched}")
    assert math.isclose(float(weight_w1 + lam.sum()), 1.0, rel_tol=1e-12)
_, lam = estimator_weights(PowerStep(), 60)
assert_close(lam, torch.full((60,), 1 / 60, dtype=F64), rtol=1e-12, label="a_k = 1/k weights")

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (1.5).** Many independent streams at once ($\sigma^2 = 4$, $a = 0.1$): the variance
# over streams sits at $a s^2/(2-a)$ at $k = 200$ and still at $k = 400$, while $a_k = 1/k$
# gives $s^2/k$.

# %% slideshow={"slide_type": "skip"}
streams = 2.0 * torch.randn(400, RUNS, dtype=F64, generator=gen)  # (samples, runs)
w_const, w_mean = incremental_mean(streams, 0.1), incremental_mean(streams)
v_inf = constant_step_variance(0.1, 4.0)
for k in (200, 400):
    assert_within_se(w_const[k].var(), v_inf, v_inf * math.sqrt(2 / RUNS), label=f"a=0.1, k={k}")
assert_within_se(w_mean[400].var(), 4 / 400, 4 / 400 * math.sqrt(2 / RUNS), label="a=1/k, k=400")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2 · The Robbins–Monro algorithm
#
# Find the root $w^*$ of $g(w) = 0$ from noisy observations $\tilde g(w, \eta) = g(w) + \eta$:
#
# $$w_{k+1} = w_k - a_k\, \tilde g(w_k, \eta_k), \qquad k = 1, 2, \dots \tag{2.1}$$
#
# **RM theorem.** $w_k \to w^*$ with probability 1 if
#
# $$0 < c_1 \le \nabla g(w) \le c_2 \quad \text{for all } w, \tag{2.2}$$
# $$\textstyle\sum_k a_k = \infty, \qquad \sum_k a_k^2 < \infty, \tag{2.3}$$
# $$\mathbb E[\eta_k \mid \mathcal H_k] = 0, \qquad \mathbb E[\eta_k^2 \mid \mathcal H_k] < \infty. \tag{2.4}$$
#
# (2.2): $g$ is increasing, so there is one root and $-g$ always points towards it, with
# steps of controlled size. (2.3a): the iterates can travel any distance. (2.3b): the steps
# shrink fast enough that the accumulated noise $\sum a_k\eta_k$ settles. (2.4): the noise
# does not push in a preferred direction and stays bounded in mean square.
#
# The library runs thousands of runs as one tensor; one step is

# %% slideshow={"slide_type": "skip"}
display(show_source(robbins_monro, "rm-step"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Worked example: a deterministic $g$
#
# The seed article's example: $g(w) = \tanh(w - 1)$, root $w^* = 1$, start $w_1 = 3$,
# $a_k = 1/k$, no noise. **Check:** the library's iterates equal a plain Python loop.

# %% slideshow={"slide_type": "skip"}
tanh_p = PROBLEMS["tanh"]
w_det = robbins_monro(tanh_p.g, torch.tensor(3.0, dtype=F64), PowerStep(), 2000)
v = 3.0
for k in range(1, 2001):
    assert math.isclose(float(w_det[k - 1]), v, rel_tol=1e-13)
    v -= math.tanh(v - 1.0) / k
print("w_1..w_6 =", [round(float(t), 4) for t in w_det[:6]], " w_2001 - 1 =", float(w_det[-1] - 1))
assert abs(float(w_det[-1]) - 1.0) < 1e-3

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Noisy observations and the rate $\sigma^2/k$
#
# For $g(w) = w - 1$ with $a_k = 1/k$ and Gaussian noise $\eta_k \sim N(0, \sigma^2)$, (2.1)
# gives $e_{k+1} = w_{k+1} - 1 = -\frac1k\sum_{i\le k}\eta_i$, so $\mathbb E[e_{k+1}^2] = \sigma^2/k$.
# **Check** it on `RUNS` runs at once (the tensor is (iterations, runs)).

# %%
sigma = 0.8
w_lin = robbins_monro(
    PROBLEMS["linear"].g, torch.full((RUNS,), 3.0, dtype=F64, device=DEVICE), PowerStep(), 400,
    noise=sigma, generator=runtime.make_generator(1, DEVICE),
).cpu()  # fmt: skip
for k in (10, 100, 400):
    e2 = (w_lin[k] - 1.0) ** 2  # entry k is w_{k+1}
    assert_within_se(e2.mean(), sigma**2 / k, e2.std() / math.sqrt(RUNS), label=f"E e_{k + 1}^2")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Mean estimation is RM
#
# Take $g(w) = w - \mathbb E[X]$. Observing a sample $x$ gives $\tilde g(w, x) = w - x =
# g(w) + (\mathbb E[X] - x)$: the noise $\eta = \mathbb E[X] - x$ has zero mean. With
# $a_k = 1/k$, (2.1) is exactly (1.2). **Check:** RM fed the same samples reproduces the
# incremental mean.

# %%
samples = torch.rand(300, 50, dtype=F64, generator=gen)  # 300 samples, 50 runs; E[X] = 1/2
step = iter(range(300))


def sample_noise(w, generator):
    return 0.5 - samples[next(step)]  # eta_k = E[X] - x_k


w_rm = robbins_monro(lambda w: w - 0.5, torch.zeros(50, dtype=F64), PowerStep(), 300,
                     noise=sample_noise)  # fmt: skip
assert_close(w_rm[1:], batch_means(samples), rtol=0, atol=1e-13, label="RM vs running mean")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Widget (a): the RM explorer
# Choose $g$, the noise level and the step sizes. Left: a few runs; middle: the spread of all
# runs; right: the RMS error on a log scale with a slope $-1/2$ guide. Try the constant step
# (the spread stops shrinking), $1/k^2$ (the runs freeze before the root) and the *flat* $g$.

# %%
# NBVAL_IGNORE_OUTPUT
viz.rm_explorer_widget(n_runs=runtime.pick(fast=200, full=2000))

# %% slideshow={"slide_type": "skip"}
display(viz.rm_explorer_figure(n_runs=200, n_iter=500))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3 · What each condition buys: three counter-examples
#
# **Constant step (fails $\sum a_k^2 < \infty$).** With $g(w) = w - 1$ and $a_k = a$,
# $e_{k+1} = (1-a)\,e_k - a\,\eta_k$, whose variance tends to $a\sigma^2/(2-a)$ as in (1.5): the
# spread of the iterates around the root never shrinks.

# %% [markdown] slideshow={"slide_type": "notes"}
# **Notes for §3.** Misconception to raise: "any decreasing step size works". Before each
# run, let the room predict: does the constant step converge, does $1/k^2$? Both conditions
# $\sum a_k = \infty$ and $\sum a_k^2 < \infty$ are needed: the $1/k^2$ runs freeze at a distance
# set by $\sum a_k$, and the constant step keeps a spread that never shrinks (1.5). That spread is
# why SGD with a constant step only reaches a neighbourhood of the minimiser (§5).

# %%
a_c = 0.1
w_c = robbins_monro(
    PROBLEMS["linear"].g, torch.full((RUNS,), 3.0, dtype=F64), ConstantStep(a_c), 2000,
    noise=1.0, generator=gen,
)  # fmt: skip
v_c = constant_step_variance(a_c, 1.0)
for k in (500, 1000, 2000):
    assert_within_se(w_c[k].var(), v_c, v_c * math.sqrt(2 / RUNS), label=f"Var w_{k + 1}")
ratio = float(w_c[2000].var() / w_c[500].var())
print(f"spread at k=2001 / spread at k=501: {ratio:.3f} (1/k steps would give 0.25)")
assert 0.85 < ratio < 1.15

# %% [markdown] slideshow={"slide_type": "subslide"}
# **$a_k = 1/k^2$ (fails $\sum a_k = \infty$).** The iterates move at most
# $\sum_k a_k |\tilde g(w_k, \eta_k)|$ in total. For $g = \tanh(w - 1)$ ($|g| \le 1$) with
# bounded noise $|\eta| \le b$ that is at most $(1 + b)\sum_k a_k = (1 + b)\,\pi^2/6$. Start
# at distance 4 with $b = 1/2$: every run must stop at least $4 - 1.5\,\pi^2/6 \approx 1.53$
# away from the root, whatever the noise does.

# %% slideshow={"slide_type": "fragment"}
sched_sq, b = PowerStep(1.0, 2.0), 0.5
w_sq = robbins_monro(
    tanh_p.g, torch.full((RUNS,), 5.0, dtype=F64), sched_sq, 2000, noise=uniform_noise(b),
    generator=gen,
)  # fmt: skip
bound = 4.0 - (1 + b) * sched_sq.total
dist = (w_sq[-1] - 1.0).abs()
print(f"sum a_k = {sched_sq.total:.6f} (pi^2/6 = {math.pi**2 / 6:.6f}); bound {bound:.3f}")
print(f"closest run to the root: {float(dist.min()):.3f}; median {float(dist.median()):.3f}")
assert bool((dist >= bound).all())
assert float((w_sq[-1] - w_sq[1000]).abs().max()) < 1.5e-3  # frozen: steps sum to < 1e-3

# %% [markdown] slideshow={"slide_type": "subslide"}
# **A vanishing slope (fails $c_1 > 0$).** $g(w) = e^3/(1 + e^2)$ with $e = w - 1$ has slope
# between 0 and $9/8$, but the slope is 0 at the root. Near $w^*$, $g \approx e^3$, and on the
# time scale $t = \ln k$ the iterates follow $\dot e = -e^3$, i.e. $e \approx (2\ln k)^{-1/2}$:
# a crawl. A slope of $1/2$ instead gives $e_k \sim k^{-1/2}$. **Check** both (no noise).

# %% slideshow={"slide_type": "fragment"}
w_flat = robbins_monro(PROBLEMS["flat"].g, torch.tensor(3.0, dtype=F64), PowerStep(), 10_000)
w_half = robbins_monro(lambda w: 0.5 * (w - 1.0), torch.tensor(3.0, dtype=F64), PowerStep(), 10_000)
e_flat, e_half = (w_flat - 1).abs(), (w_half - 1).abs()
for k in (100, 1000, 10_000):
    print(f"k = {k:>6}: flat g {float(e_flat[k]):.4f}  (2 ln k)^-1/2 = "
          f"{(2 * math.log(k)) ** -0.5:.4f}   slope-1/2 g {float(e_half[k]):.2e}")  # fmt: skip
assert float(e_half[100] / e_half[10_000]) > 9  # ~ 10x smaller for 100x more steps
assert float(e_flat[100] / e_flat[10_000]) < 1.5  # ~ (ln k)^-1/2: barely moves
assert 0.8 < float(e_flat[10_000]) * math.sqrt(2 * math.log(10_000)) < 1.2

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4 · Dvoretzky's theorem
#
# Consider
#
# $$\Delta_{k+1} = (1 - \alpha_k)\,\Delta_k + \beta_k\,\eta_k. \tag{4.1}$$
#
# **Theorem (Dvoretzky, 1956).** If $\sum_k \alpha_k = \infty$, $\sum_k \alpha_k^2 < \infty$,
# $\sum_k \beta_k^2 < \infty$ (uniformly, with probability 1), $\mathbb E[\eta_k\mid\mathcal H_k] = 0$
# and $\mathbb E[\eta_k^2\mid\mathcal H_k] \le C$, then $\Delta_k \to 0$ with probability 1.
#
# RM for a linear $g(w) = c\,(w - w^*)$ is (4.1) with $\Delta = w - w^*$, $\alpha_k = c\,a_k$,
# $\beta_k = -a_k$; the general RM proof reduces to it. For deterministic $\alpha, \beta$ and
# independent noise of variance $s^2$ the moments follow exactly
#
# $$\mathbb E[\Delta_{k+1}] = (1 - \alpha_k)\,\mathbb E[\Delta_k], \qquad
#   \operatorname{Var}[\Delta_{k+1}] = (1-\alpha_k)^2 \operatorname{Var}[\Delta_k] + \beta_k^2 s^2. \tag{4.2}$$
#
# Two inadmissible cases have closed forms: $\alpha_k = 1/(k+1)^2$ stalls the mean at
# $\prod_{j\ge2}(1 - 1/j^2) = 1/2$ of $\Delta_1$; $\alpha_k = 1/k$, $\beta_k = k^{-1/2}$ gives
# $\operatorname{Var}[\Delta_{k+1}] = \frac{1}{k^2}\sum_{i\le k} i = \frac{k+1}{2k} \to \frac12$.

# %% slideshow={"slide_type": "skip"}
n_dv = 1000
expect = {}
for name, (al, be) in viz.DVORETZKY_CASES.items():
    d = dvoretzky_process(al, be, n_dv, torch.ones(RUNS, dtype=F64), generator=gen)
    mean, var = dvoretzky_moments(al, be, n_dv, 1.0, 1.0)
    m2 = d[-1] ** 2
    exact = float(mean[-1] ** 2 + var[-1])
    assert_within_se(m2.mean(), exact, m2.std() / math.sqrt(RUNS), label=f"E D^2, {name}")
    expect[name] = exact
adm, no_sum, no_sq = expect.values()
assert adm < 2e-3 and no_sum > 0.2 and no_sq > 0.4  # converges / does not / does not
assert math.isclose(float(dvoretzky_moments(*viz.DVORETZKY_CASES["alpha = 1/(k+1)^2: sum alpha < inf"],
                                            100_000, 1.0, 0.0)[0][-1]), 0.5, rel_tol=1e-4)  # fmt: skip
assert math.isclose(no_sq, (n_dv + 1) / (2 * n_dv), rel_tol=1e-9)

# %% slideshow={"slide_type": "subslide"}
display(viz.dvoretzky_figure(n_iter=1000, n_runs=runtime.pick(fast=1000, full=10_000)))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5 · SGD, mini-batch GD and batch GD are RM
#
# Minimise $J(w) = \mathbb E[f(w, X)]$: its minimiser is a root of $g(w) = \nabla J(w) =
# \mathbb E[\nabla_w f(w, X)]$, and a sample gradient is a noisy observation of $g$. So (2.1) gives
#
# $$\text{BGD: } w_{k+1} = w_k - \frac{a_k}{n}\sum_{i=1}^{n}\nabla f(w_k, x_i), \quad
#   \text{MBGD: } w_{k+1} = w_k - \frac{a_k}{m}\sum_{j\in\mathcal I_k}\nabla f(w_k, x_j), \quad
#   \text{SGD: } m = 1. \tag{5.1–5.3}$$
#
# (mini-batches drawn uniformly with replacement). One step of the library's loop:

# %% slideshow={"slide_type": "skip"}
display(show_source(minibatch_gd, "mbgd-step"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Least squares
#
# Chapter 02 studies the quadratic form behind least squares; here we only need
#
# $$J(w) = \frac{1}{2n}\lVert Xw - y\rVert^2, \qquad \nabla J(w) = \frac1n X^\top(Xw - y) = H(w - w^*), \tag{5.4}$$
#
# with $H = X^\top X/n$. **Check:** the gradient against autograd, and the minimiser from
# `torch.linalg.lstsq` against the normal equations $X^\top X w = X^\top y$.

# %%
g_ls = torch.Generator().manual_seed(7)
X = torch.randn(40, 3, dtype=F64, generator=g_ls)
y = X @ torch.tensor([1.0, 2.0, 3.0], dtype=F64) + 0.5 * torch.randn(40, dtype=F64, generator=g_ls)
w_probe = torch.randn(5, 3, dtype=F64, generator=g_ls, requires_grad=True)
(auto,) = torch.autograd.grad(least_squares_loss(X, y, w_probe).sum(), w_probe)
assert_close(least_squares_grad(X, y, w_probe), auto, atol=1e-12, label="(5.4) vs autograd")
w_star = least_squares_solution(X, y)
assert_close(w_star, torch.linalg.solve(X.T @ X, X.T @ y), atol=1e-10, label="lstsq vs normal eq.")

# %% [markdown] slideshow={"slide_type": "skip"}
# ### SGD's error, predicted exactly
#
# Write $e = w - w^*$ and $g_i(w) = x_i(x_i^\top w - y_i) = A_i e + b_i$ with $A_i = x_i x_i^\top$,
# $b_i = x_i r_i$, $r_i = x_i^\top w^* - y_i$; the normal equations say $\sum_i b_i = 0$. Taking
# expectations of $e_{k+1}e_{k+1}^\top$ step by step gives a closed recursion for
# $P_k = \mathbb E[e_k e_k^\top]$ and $\mu_k = \mathbb E[e_k]$ (5.6, in the docstring of
# `course_lib.approx.sgd`): a batch of $m$ divides the gradient-noise term by $m$, and BGD
# drops it. **Check:** `RUNS` simulated SGD and MBGD runs against $\operatorname{tr}P_k$.

# %% slideshow={"slide_type": "skip"}
sched_ls = PowerStep(1.0, 1.0, 4.0)  # a_k = 1/(k + 4)
w1_ls = torch.zeros(3, dtype=F64)
for m in (1, 4):
    it = sgd_least_squares(X, y, w1_ls.expand(RUNS, 3), sched_ls, 200, batch_size=m, generator=gen)
    _, P = sgd_least_squares_moments(X, y, w1_ls, sched_ls, 200, batch_size=m)
    for k in (20, 200):
        e2 = ((it[k] - w_star) ** 2).sum(-1)
        assert_within_se(e2.mean(), P[k].trace(), e2.std() / math.sqrt(RUNS), label=f"m={m}, k={k}")
bgd = sgd_least_squares(X, y, w1_ls.expand(1, 3), sched_ls, 200, batch_size=None)
_, P_bgd = sgd_least_squares_moments(X, y, w1_ls, sched_ls, 200, batch_size=None)
assert_close(((bgd[:, 0] - w_star) ** 2).sum(-1), P_bgd.diagonal(dim1=1, dim2=2).sum(-1),
             rtol=1e-9, label="BGD is deterministic")  # fmt: skip

# %% [markdown] slideshow={"slide_type": "skip"}
# ### The convergence pattern of SGD
#
# How noisy is one sample gradient compared with the true one? The relative error
#
# $$\delta(w) = \frac{\mathbb E_i\lVert g_i(w) - \nabla J(w)\rVert^2}{\lVert\nabla J(w)\rVert^2} \tag{5.5}$$
#
# tends to a constant $\mathbb E\lVert (A_i - H)u\rVert^2/\lVert Hu\rVert^2$ far from $w^*$
# (along a direction $u$), but grows like $\mathbb E\lVert b_i\rVert^2/(s^2\lVert Hu\rVert^2)$ at
# distance $s \to 0$: SGD moves like GD while far away and wanders near the optimum.
# **Check:** a Monte Carlo estimate from sampled gradients, and both asymptotes.

# %% slideshow={"slide_type": "skip"}
u = torch.tensor([1.0, -1.0, 0.5], dtype=F64)
dists = torch.logspace(-3, 3, 7, dtype=F64)
delta = gradient_noise_ratio(X, y, w_star + dists[:, None] * u)
H = X.T @ X / 40
r_star = X @ w_star - y
near = float((r_star**2 * (X**2).sum(1)).mean() / (H @ u).square().sum())
far = float(((torch.einsum("ni,nj,j->ni", X, X, u) - H @ u) ** 2).sum(-1).mean()
            / (H @ u).square().sum())  # fmt: skip
for s_, d_ in zip(dists.tolist(), delta.tolist(), strict=True):
    print(f"distance {s_:8.3f}: delta = {d_:12.4g}")
assert_close(delta[0] * dists[0] ** 2, near, rtol=1e-2, label="near w*: delta ~ E|b|^2/(s|Hu|)^2")
assert_close(delta[-1], far, rtol=1e-2, label="far away: delta -> constant")
# Monte Carlo: sampled gradients at one point
w_pt = w_star + 0.3 * u
idx = torch.randint(0, 40, (RUNS,), generator=gen)
g_samp = X[idx] * (X[idx] @ w_pt - y[idx]).unsqueeze(-1)
ratio_mc = ((g_samp - least_squares_grad(X, y, w_pt)) ** 2).sum(-1) / least_squares_grad(
    X, y, w_pt
).square().sum()
assert_within_se(ratio_mc.mean(), gradient_noise_ratio(X, y, w_pt), ratio_mc.std() / math.sqrt(RUNS),
                 label="delta by sampling")  # fmt: skip

# %% [markdown] slideshow={"slide_type": "skip"}
# ### Mean estimation with SGD, MBGD and BGD on 2-D data
#
# $f(w, x) = \frac12\lVert w - x\rVert^2$ has $\nabla f = w - x$; with $a_k = 1/k$ and batch
# size $m$, $w_{k+1}$ is the mean of the $km$ points drawn so far, so
# $\mathbb E\lVert w_{k+1} - \bar x\rVert^2 = \operatorname{tr}\Sigma/(km)$, where $\Sigma$ is the
# covariance of one uniform draw from the data. BGD with $a_1 = 1$ lands on $\bar x$ in one step.

# %% slideshow={"slide_type": "skip"}
pts = viz.mean_data()
x_bar = pts.mean(0)
tr_sigma = float(((pts - x_bar) ** 2).sum(1).mean())
for m in (1, 8):
    it = sgd_mean(
        pts, torch.zeros(RUNS, 2, dtype=F64), PowerStep(), 50, batch_size=m, generator=gen
    )
    e2 = ((it[50] - x_bar) ** 2).sum(-1)
    assert_within_se(e2.mean(), tr_sigma / (50 * m), e2.std() / math.sqrt(RUNS), label=f"m = {m}")
bgd_mean = sgd_mean(pts, torch.zeros(1, 2, dtype=F64), PowerStep(), 3, batch_size=None)
assert_close(bgd_mean[1, 0], x_bar, atol=1e-14, label="BGD after one step")

# %% [markdown] slideshow={"slide_type": "skip"}
# ### Widget (b): SGD vs MBGD vs BGD
# Move the mini-batch size and the schedule: trajectories over the data (left) and the RMS
# distance to the sample mean over 200 runs (right).

# %% slideshow={"slide_type": "skip"}
# NBVAL_IGNORE_OUTPUT
viz.sgd_mean_widget(batch_size=8)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6 · The ODE view
#
# Read $a_k$ as a time step, $t_1 = 0$, $t_{k+1} = t_k + a_k$ (6.1). Then (2.1) is Euler's method
# for
#
# $$\frac{dw}{dt} = -g(w) \tag{6.2}$$
#
# plus the noise $-a_k\eta_k$, whose sum over a time window of fixed length has variance of
# order $\sum a_k^2$ over that window, which tends to 0. For $g = \tanh(w - 1)$,
# $\frac{d}{dt}\sinh(w - 1) = -\sinh(w - 1)$, so
#
# $$w(t) = 1 + \operatorname{asinh}\!\big(\sinh(w(0) - 1)\,e^{-t}\big). \tag{6.3}$$
#
# **Check:** (6.3) against scipy's `solve_ivp`; then the largest gap between deterministic RM
# iterates and (6.3) at $t_k$, for $a_k = c/(1 + ck)$: Euler's error is $O(\text{step})$, so
# halving $c$ halves the gap.

# %% slideshow={"slide_type": "skip"}
t_grid = torch.linspace(0, 8, 81, dtype=F64)
assert_close(tanh_flow(3.0, t_grid), solve_mean_ode(lambda w: np.tanh(w - 1.0), 3.0, t_grid),
             atol=1e-8, label="(6.3) vs solve_ivp")  # fmt: skip
gaps = []
for c in (0.2, 0.1, 0.05):
    sched = PowerStep(1.0, 1.0, 1.0 / c)  # a_k = 1/(k + 1/c) = c / (1 + c k)
    w_ode = robbins_monro(tanh_p.g, torch.tensor(3.0, dtype=F64), sched, 4000)
    gaps.append(float((w_ode - tanh_flow(3.0, sched.partial_sums(4000))).abs().max()))
    print(f"c = {c:4}: max_k |w_k - w(t_k)| = {gaps[-1]:.5f}")
assert all(1.7 < gaps[i] / gaps[i + 1] < 2.3 for i in range(2)), gaps

# %% slideshow={"slide_type": "fragment"}
display(viz.ode_view_figure())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# Each exercise ends in `check(id, answer)`, which says whether your answer is right and,
# when it recognises the mistake, its kind (sign, factor of two, off by one, not an integer);
# it never shows the expected value. Stuck? `hint("03.1")` prints a first hint; call it again
# for the next one. Replace `None` with your answer. Worked solutions:
# `solutions/03_stochastic_approximation_solutions.ipynb`.
#
# **03.1** Run RM by hand on $g(w) = \tanh(w - 1)$ without noise, from $w_1 = 3$ with
# $a_k = 1/k$. What is $w_6$?
# Answer: a float, to 6 significant digits.

# %%
answer = None
check("03.1", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **03.2** Which of these step sizes satisfy both RM conditions $\sum a_k = \infty$ and
# $\sum a_k^2 < \infty$? (i) $a_k = 1/\sqrt k$, (ii) $a_k = 1/(k + 5)$, (iii) $a_k = 0.01$,
# (iv) $a_k = 2/k^{1.5}$, (v) $a_k = 10/k^{0.75}$. Give a vector of five entries, 1 where both
# hold and 0 where not.
# Answer: a vector of 5 integers.

# %% slideshow={"slide_type": "skip"}
answer = None
check("03.2", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **03.3** Least squares (the quadratic form of Chapter 02): fit $y = w_1 + w_2 t$ to the
# points $(t, y) = (0, 1), (1, 3), (2, 2), (3, 5)$. SGD with $a_k \to 0$ converges to the
# minimiser $w^*$ of $\lVert Xw - y\rVert^2$. Give $w^* = (w_1, w_2)$.
# Answer: a vector of 2 floats, to 6 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("03.3", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **03.4** Mean estimation by mini-batch SGD with a constant step:
# $w_{j+1} = w_j - a\,(w_j - \bar x_j)$, where $\bar x_j$ is the mean of $m$ fresh i.i.d. samples
# of $X$ with $\operatorname{Var}X = 1$, and $w_1$ is a fixed number. Derive
# $\operatorname{Var}[w_{k+1}]$ and write it as a function `var(k, a, m)`.
# Answer: a function var(k, a, m) -> float, for integers k, m >= 1 and 0 < a < 2, to 9 significant digits.

# %% slideshow={"slide_type": "skip"}
var = None
check("03.4", var)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# * The running mean is the incremental update (1.2); a general step $a_k$ gives the weighted
#   average (1.4), and a constant step an estimate whose variance $a s^2/(2-a)$ never shrinks.
# * Robbins–Monro (2.1) finds a root from noisy values. Each condition matters: a constant
#   step keeps a fixed spread, $a_k = 1/k^2$ freezes the iterates at a distance set by
#   $\sum a_k$, and a vanishing slope turns $k^{-1/2}$ into $(\ln k)^{-1/2}$.
# * Dvoretzky's theorem governs $\Delta_{k+1} = (1 - \alpha_k)\Delta_k + \beta_k\eta_k$; its
#   moments (4.2) show convergence and both failure modes exactly.
# * SGD, MBGD and BGD are RM on $\nabla J$; on least squares their mean square error follows
#   the exact recursion (5.6), and the relative gradient noise (5.5) explains why SGD is fast
#   far from $w^*$ and noisy near it.
# * RM iterates are Euler steps of $\dot w = -g(w)$ on the time scale $t_k = \sum a_i$.
#
# ## References
#
# * H. Robbins, S. Monro, *A stochastic approximation method*, Ann. Math. Statist. 22 (1951).
# * A. Dvoretzky, *On stochastic approximation*, Proc. Third Berkeley Symp. (1956).
# * H. J. Kushner, G. G. Yin, *Stochastic Approximation and Recursive Algorithms and
#   Applications*, Springer (2003) — the ODE method.
# * S. Zhao, *Mathematical Foundations of Reinforcement Learning*, Springer (2025), chapter 6.
# * Seed article: 随机逼近 (stochastic approximation), `shared/seeds/004_0cb0425af7305e02.txt`.
