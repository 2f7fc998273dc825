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
# # Chapter 01 · Random walks and generating functions
#
# A drunkard leaves the bar and takes one step right with probability $p$ or one step
# left with probability $q = 1 - p$, again and again. Where is he after $n$ steps? Does he
# ever come back? How long does that take? This chapter answers each question twice: once
# with a derivation (mostly by **generating functions**) and once by simulation, and a
# check cell makes sure the two agree.
#
# **Learning goals.** After this chapter you can
# 1. simulate many random walks at once with vectorised PyTorch on any device;
# 2. derive the binomial law of $S_n$ and its moments, and extract it from a generating function;
# 3. derive $U(s)$ and $F(s)$, the relation $F = 1 - 1/U$, and conclude that the 1-D walk is
#    recurrent with an infinite mean return time;
# 4. count paths with the reflection principle (ballot theorem, Catalan numbers);
# 5. solve gambler's ruin by first-step analysis;
# 6. take the diffusion limit and recognise the heat equation (used again in Chapter 05).
#
# **Prerequisites.** Binomial coefficients, power series, basic probability (expectation,
# variance, independence), a little PyTorch.
#
# **Runtime.** Fast mode (`COURSE_FAST=1`, as in CI): about 7 s on a 2-core CPU. Full mode
# (50x more walks, so every check is 7x tighter): about 10 s on a 2-core CPU. Simulations run
# on the GPU when one is present.
#
# **Mode.** The set-up cell prints the mode this run uses: *fast* on a CPU, *full* where a GPU
# is present. To switch, start JupyterLab with `COURSE_FAST=0 make lab` (full) or
# `COURSE_FAST=1 make lab` (fast), or run `%env COURSE_FAST=0` before the set-up cell.

# %%
# %matplotlib inline
import math

import sympy as sp
import torch
from IPython.display import display

from course_lib import runtime
from course_lib.checks import assert_close, assert_pmf_matches, assert_within_se, check, hint  # noqa: F401
from course_lib.randomwalk import (
    ballot_count,
    catalan,
    diffusion_coefficient,
    endpoint_mean_var,
    endpoint_pgf_coefficients,
    endpoint_pmf,
    enumerate_paths,
    ever_return_probability,
    expected_duration,
    first_hitting_times,
    first_passage_pgf,
    first_passage_pmf,
    first_return_pgf,
    first_return_probabilities,
    first_return_times,
    heat_equation_residual,
    heat_kernel,
    hitting_time_pmf,
    lattice_density,
    master_equation_step,
    path_count,
    reflected_path_count,
    rescaled_paths,
    return_pgf,
    return_probabilities,
    sample_endpoints,
    sample_paths,
    sample_steps,
    series_coefficients,
    simulate_ruin,
    step_pgf,
    truncated_mean_return_time,
    viz,
    win_probability,
)
from course_lib.randomwalk.genfun import S
from course_lib.source import show_source

gen = runtime.seed_all(2024)
DEVICE = runtime.device()
print(runtime.describe())

# Sizes: small in fast mode (CI), large in full mode. Nothing below edits them.
N_WALKS = runtime.pick(fast=20_000, full=1_000_000)
N_PATHS = runtime.pick(fast=5_000, full=100_000)
N_GAMES = runtime.pick(fast=10_000, full=200_000)

# %% [markdown]
# ## 1 · The walk and the binomial law of $S_n$
#
# Let $X_1, X_2, \dots$ be independent with $P(X_i = +1) = p$ and $P(X_i = -1) = q$, and
# $S_n = X_1 + \dots + X_n$, $S_0 = 0$. If $K$ of the $n$ steps go up, $S_n = K - (n - K) = 2K - n$,
# and $K \sim \mathrm{Binomial}(n, p)$. Hence, for $k \in \{-n, -n+2, \dots, n\}$,
#
# $$P(S_n = k) = \binom{n}{\frac{n+k}{2}}\, p^{\frac{n+k}{2}}\, q^{\frac{n-k}{2}}, \tag{1.1}$$
#
# $$\mathbb E[S_n] = n(p - q), \qquad \operatorname{Var}[S_n] = 4npq. \tag{1.2}$$
#
# The simulator draws all steps of all walks as one tensor: a step is $+1$ when a uniform
# random 31-bit integer falls below $p \cdot 2^{31}$. Here are the library's lines, from
# `sample_steps` and `sample_paths`:

# %%
display(show_source(sample_steps, "steps"), show_source(sample_paths, "paths"))

# %%
paths = sample_paths(8, 100, p=0.5, generator=gen)
print(paths[:3, :12])
display(viz.path_explorer_figure(n_steps=100, n_paths=8, level=5, n_hist=N_PATHS, seed=1))

# %% [markdown]
# **Check (1.1).** Simulate $S_{n}$ for many walks and compare the histogram with the exact
# law bin by bin: each count must lie within a few standard errors
# $\sqrt{M p_k (1 - p_k)}$ of its expectation $M p_k$.

# %%
n, p = 40, 0.6
s_n = sample_endpoints(N_WALKS, n, p, generator=gen, device=DEVICE).cpu()
k, probs = endpoint_pmf(n, p)
counts = torch.bincount(s_n + n, minlength=2 * n + 1)[k + n]
assert_pmf_matches(counts, probs, k=5, label=f"S_{n}, p={p}")

# %% [markdown]
# **Check (1.2).** The sample mean must lie within four standard errors of $n(p-q)$, and the
# sample variance within four standard errors of $4npq$ (for the variance we estimate the
# standard error from the squared deviations).

# %%
mean, var = endpoint_mean_var(n, p)
x = s_n.double()
assert_within_se(x.mean(), mean, se=math.sqrt(var / N_WALKS), label="mean of S_n")
sq = (x - x.mean()) ** 2
assert_within_se(sq.mean(), var, se=sq.std().item() / math.sqrt(N_WALKS), label="var of S_n")
# and the exact law has exactly these moments
assert_close((k.double() * probs).sum(), mean, rtol=1e-12, label="sum k P(S_n=k)")

# %% [markdown]
# ### Widget (a): the law of $S_n$
# Move $n$, $p$ and the number of walks. With few walks the histogram is noisy; with many it
# sits on the exact law (dots), itself close to a normal curve with mean $n(p-q)$ and
# variance $4npq$.

# %%
# NBVAL_IGNORE_OUTPUT
viz.endpoint_histogram_widget(n=50, p=0.5, n_walks=10_000)

# %% [markdown]
# ## 2 · Probability generating functions
#
# The pgf of a step is
#
# $$\varphi(s) = \mathbb E[s^{X}] = p s + q s^{-1}. \tag{2.1}$$
#
# Independent steps multiply pgfs, so
#
# $$\mathbb E\left[s^{S_n}\right] = \varphi(s)^n = \sum_k P(S_n = k)\, s^k. \tag{2.2}$$
#
# Expanding $(ps + q/s)^n$ by the binomial theorem gives back (1.1); sympy does the expansion
# exactly, so the coefficients are exact rationals.

# %%
p_exact = sp.Rational(3, 5)
print("phi(s) =", step_pgf(p_exact))
coeffs = endpoint_pgf_coefficients(6, p_exact)
coeffs

# %% [markdown]
# **Check (2.2).** The coefficient of $s^k$ equals $P(S_n = k)$ from (1.1), for every $k$,
# and $\varphi'(1)\cdot n$ (the derivative of $\varphi^n$ at 1) equals the mean.

# %%
k6, probs6 = endpoint_pmf(6, 0.6)
assert_close([float(coeffs[kk]) for kk in k6.tolist()], probs6, rtol=1e-12, label="pgf vs (1.1)")
assert sp.diff(step_pgf(p_exact) ** 6, S).subs(S, 1) == 6 * (2 * p_exact - 1)
assert sum(coeffs.values()) == 1  # phi(1)^n = 1
print("coefficients of phi(s)^6 are the exact law of S_6")

# and simulated walks agree with the coefficients
s_6 = sample_endpoints(N_WALKS, 6, 0.6, generator=gen, device=DEVICE).cpu()
pgf_law = [float(coeffs[kk]) for kk in k6.tolist()]
assert_pmf_matches(torch.bincount(s_6 + 6, minlength=13)[k6 + 6], pgf_law, label="S_6 vs pgf")

# %% [markdown]
# ## 3 · Returns to the origin: $U(s)$ and $F(s)$
#
# A return at time $2n$ needs $n$ up-steps among $2n$:
# $u_{2n} = P(S_{2n} = 0) = \binom{2n}{n}(pq)^n$. With $\binom{2n}{n} = (-4)^n\binom{-1/2}{n}$,
#
# $$U(s) = \sum_{n \ge 0} u_{2n} s^{2n} = \left(1 - 4pq s^2\right)^{-1/2}. \tag{3.1}$$
#
# Let $f_{2n}$ be the probability that the **first** return happens at time $2n$. Splitting
# a return at $2n$ by the time $2k$ of the first return gives the renewal equation
# $u_{2n} = \sum_{k=1}^{n} f_{2k} u_{2n-2k}$ for $n \ge 1$, that is $U = 1 + F U$, so
#
# $$F(s) = 1 - \frac{1}{U(s)} = 1 - \sqrt{1 - 4pq s^2}. \tag{3.2}$$
#
# Expanding the square root, $f_{2n} = \frac{u_{2n}}{2n-1}$, and $P(\text{ever return}) = F(1)$. (3.3)

# %% [markdown]
# **Check (3.1)–(3.2).** Series coefficients of the closed forms against the closed-form
# coefficients, and the power series of $F$ against $1 - 1/U$.

# %%
order = 14
u_coef = series_coefficients(return_pgf(p_exact), order)
f_coef = series_coefficients(first_return_pgf(p_exact), order)
u = return_probabilities(order // 2, 0.6)
f = first_return_probabilities(order // 2, 0.6)
assert_close([float(c) for c in u_coef[::2]], u, rtol=1e-12, label="U(s) coefficients")
assert_close([float(c) for c in f_coef[::2]], f, rtol=1e-12, label="F(s) coefficients")
gap = sp.series(first_return_pgf(p_exact) - (1 - 1 / return_pgf(p_exact)), S, 0, order + 1)
assert sp.simplify(gap.removeO()) == 0
print("F = 1 - 1/U holds to order", order)

# %% [markdown]
# **Check (3.3) by simulation.** The first-return times of simulated symmetric walks follow
# $f_{2n} = u_{2n}/(2n-1)$.

# %%
n_window = 40
walks = sample_paths(N_PATHS, n_window, 0.5, generator=gen, device=DEVICE).cpu()
t0 = first_return_times(walks)
f_sym = first_return_probabilities(n_window // 2)
for m in (1, 2, 3, 5, 10):
    est = (t0 == 2 * m).double().mean().item()
    se = math.sqrt(f_sym[m].item() * (1 - f_sym[m].item()) / N_PATHS)
    assert_within_se(est, f_sym[m].item(), se, label=f"P(T_0 = {2 * m})")

# %% [markdown]
# ### Recurrence, yet an infinite mean return time
#
# The walk ever returns with probability $F(1) = 1 - \sqrt{(p-q)^2} = 1 - |p - q|$: surely
# when $p = \tfrac12$, and with probability $< 1$ otherwise. For $p = \tfrac12$ the mean
# return time is $F'(1) = \lim_{s\uparrow 1} s/\sqrt{1 - s^2} = \infty$; the partial sums
# $\sum_{n\le N} 2n f_{2n}$ grow like $2\sqrt{N/\pi}$ (since $u_{2n} \approx 1/\sqrt{\pi n}$).
# For the symmetric walk, $P(\text{no return by } 2N) = u_{2N} \to 0$, but only like
# $1/\sqrt{\pi N}$.

# %%
for N in (10, 1_000, 100_000):
    partial = truncated_mean_return_time(N)
    print(
        f"N = {N:>7}: sum 2n f_2n = {partial:9.2f}   2 sqrt(N/pi) = {2 * math.sqrt(N / math.pi):9.2f}"
    )
ratio = truncated_mean_return_time(100_000) / (2 * math.sqrt(100_000 / math.pi))
assert abs(ratio - 1) < 0.01, ratio

# no return by time 2N has probability u_2N (symmetric walk): simulation vs exact
no_return = ((t0 < 0) | (t0 > n_window)).double().mean().item()
u_end = return_probabilities(n_window // 2)[-1].item()
se = math.sqrt(u_end * (1 - u_end) / N_PATHS)
assert_within_se(no_return, u_end, se, label=f"P(no return by {n_window})")

# %% [markdown]
# **Check: the return probability of biased walks.** Simulate long biased walks: the
# fraction that return within the window approaches $1 - |p - q|$ (the missing mass of late
# returns decays geometrically when $p \ne q$, so a window of 200 steps suffices).

# %%
for p_b in (0.6, 0.75):
    walks_b = sample_paths(N_PATHS, 200, p_b, generator=gen, device=DEVICE).cpu()
    returned = (first_return_times(walks_b) > 0).double().mean().item()
    exact = ever_return_probability(p_b)
    tail = exact - first_return_probabilities(100, p_b).sum().item()  # returns after step 200
    print(f"p = {p_b}: mass of returns after step 200 = {tail:.1e}")
    assert_within_se(
        returned,
        exact - tail,
        math.sqrt(exact * (1 - exact) / N_PATHS),
        label=f"P(return), p={p_b}",
    )

# %% [markdown]
# ## 4 · First passage and the Catalan numbers
#
# Let $T_1$ be the first time the walk reaches $+1$. Either the first step goes up
# ($T_1 = 1$), or it goes down and the walk must climb two levels, each an independent copy of
# $T_1$. So $\Phi(s) = \mathbb E[s^{T_1}]$ solves $\Phi = ps + qs\Phi^2$, whose root with
# $\Phi(0) = 0$ is
#
# $$\Phi(s) = \frac{1 - \sqrt{1 - 4pqs^2}}{2qs}, \tag{4.1}$$
#
# $$P(T_1 = 2m - 1) = C_{m-1}\, p^m q^{m-1},\qquad C_m = \frac{1}{m+1}\binom{2m}{m}. \tag{4.2}$$
#
# The Catalan number $C_{m-1}$ counts the paths of length $2m-2$ from 0 back to 0 that never
# rise above 0; the walk follows one of them ($m-1$ ups, $m-1$ downs) and then steps up.
# More generally, the *hitting time theorem* gives
#
# $$P(T_r = n) = \frac{r}{n} P(S_n = r), \qquad r \ge 1. \tag{4.3}$$

# %%
phi = first_passage_pgf(p_exact)
phi_coef = series_coefficients(phi, 11)
print("Catalan numbers:", [catalan(m) for m in range(8)])
assert sp.simplify(phi - (p_exact * S + (1 - p_exact) * S * phi**2)) == 0  # Phi = ps + qs Phi^2
assert_close(
    [float(c) for c in phi_coef[1::2]],
    first_passage_pmf(6, 0.6),
    rtol=1e-12,
    label="Phi(s) coefficients vs C_(m-1) p^m q^(m-1)",
)

# %% [markdown]
# **Check (4.3) by simulation.** First passage times to level $r = 3$ of simulated walks.

# %%
r = 3
walks = sample_paths(N_PATHS, 60, 0.5, generator=gen, device=DEVICE).cpu()
t_r = first_hitting_times(walks, r)
law = hitting_time_pmf(r, 60)
for m in (3, 5, 9, 15, 25):
    est = (t_r == m).double().mean().item()
    se = math.sqrt(law[m].item() * (1 - law[m].item()) / N_PATHS)
    assert_within_se(est, law[m].item(), se, label=f"P(T_{r} = {m})")

# %% [markdown]
# ### Widget (b): the path explorer
# Paths with their first passage to level $r$ marked, and the law of $T_r$: simulated
# (bars) against $\frac{r}{n}P(S_n = r)$. Try $p < \tfrac12$: many paths never arrive.

# %%
# NBVAL_IGNORE_OUTPUT
viz.path_explorer_widget(n_steps=200, n_paths=8, level=5)

# %% [markdown]
# ## 5 · The reflection principle and the ballot theorem
#
# There are $N_n(a, b) = \binom{n}{(n + b - a)/2}$ paths from $a$ to $b$ in $n$ steps. (5.1)
#
# **Reflection principle:** for $a, b > 0$, the paths from $a$ to $b$ that touch 0 are in
# bijection with *all* paths from $-a$ to $b$ (reflect the part before the first visit to
# 0), so there are $N_n(-a, b)$ of them. (5.2)
#
# **Ballot theorem:** the paths from 0 to $k > 0$ that stay strictly positive after time 0
# must start with an up-step; subtracting the paths from 1 to $k$ that touch 0 leaves
#
# $$N_{n-1}(1, k) - N_{n-1}(-1, k) = \frac{k}{n} N_n(0, k). \tag{5.3}$$
#
# Check both by brute force: enumerate all $2^n$ paths.

# %%
n_enum = 14
all_paths = enumerate_paths(n_enum)
positive = (all_paths[:, 1:] > 0).all(dim=1)
for k_end in range(2, n_enum + 1, 2):
    brute = int((positive & (all_paths[:, -1] == k_end)).sum())
    assert brute == ballot_count(n_enum, k_end) == k_end * path_count(n_enum, 0, k_end) // n_enum
for a, b in [(1, 3), (2, 2), (4, 6)]:
    shifted = a + all_paths
    touching = int(((shifted <= 0).any(dim=1) & (shifted[:, -1] == b)).sum())
    assert touching == reflected_path_count(n_enum, a, b)
print(f"ballot theorem and reflection principle hold for all {2**n_enum} paths of length {n_enum}")

# %% [markdown]
# ## 6 · Gambler's ruin
#
# A gambler with capital $k$ bets one unit at a time, winning with probability $p$, until he
# has $N$ or nothing. Conditioning on the first bet, $P_k = pP_{k+1} + qP_{k-1}$ with
# $P_0 = 0, P_N = 1$; the characteristic roots are $1$ and $r = q/p$, so
#
# $$P_k = \frac{1 - r^k}{1 - r^N} \;(p \ne q), \qquad P_k = \frac{k}{N} \;(p = q). \tag{6.1}$$
#
# The expected duration solves $D_k = 1 + pD_{k+1} + qD_{k-1}$, $D_0 = D_N = 0$:
#
# $$D_k = \frac{k}{q-p} - \frac{N}{q-p}\,\frac{1 - r^k}{1 - r^N} \;(p \ne q), \qquad D_k = k(N-k) \;(p = q). \tag{6.2}$$

# %%
display(viz.ruin_figure(N=20))

# %% [markdown]
# **Check (6.1)–(6.2).** Play many games for a few starting capitals and compare.

# %%
for k0, N_cap, p_g in [(3, 10, 0.45), (10, 20, 0.5), (5, 12, 0.55)]:
    won, duration = simulate_ruin(k0, N_cap, p_g, N_GAMES, generator=gen)
    p_win = win_probability(k0, N_cap, p_g)
    assert_within_se(
        won.double().mean(),
        p_win,
        math.sqrt(p_win * (1 - p_win) / N_GAMES),
        label=f"P(win) k={k0} N={N_cap} p={p_g}",
    )
    d = duration.double()
    assert_within_se(
        d.mean(),
        expected_duration(k0, N_cap, p_g),
        d.std().item() / math.sqrt(N_GAMES),
        label=f"E[duration] k={k0} N={N_cap} p={p_g}",
    )

# %% [markdown]
# ## 7 · The diffusion limit: from random walks to the heat equation
#
# Now let the walker jump $\pm\Delta x$ every $\Delta t$, and let $u(x, t)$ be the
# probability of being at $x$ at time $t$. Then
#
# $$u(x, t + \Delta t) = \tfrac12 u(x - \Delta x, t) + \tfrac12 u(x + \Delta x, t). \tag{7.1}$$
#
# Subtract $u(x,t)$, divide by $\Delta t$, and Taylor-expand:
# $\partial_t u + O(\Delta t) = \frac{\Delta x^2}{2\Delta t}\,\partial_x^2 u + O(\Delta x^2)$.
# Letting $\Delta x, \Delta t \to 0$ with $D = \frac{\Delta x^2}{2\Delta t}$ fixed,
#
# $$\partial_t u = D\,\partial_x^2 u, \qquad
#   p(x, t) = \frac{1}{\sqrt{4\pi D t}}\, e^{-x^2/(4Dt)}. \tag{7.2}$$
#
# The variance of the walk, $\Delta x^2\, t/\Delta t = 2Dt$, is the variance of $p(x,t)$.
# This is the bridge to Chapter 05: the forward process of a diffusion model is this limit,
# run in many dimensions.

# %% [markdown]
# **Check: the master equation (7.1) is the binomial law.** Iterating (7.1) from a point
# mass reproduces (1.1) exactly.

# %%
n_me = 50
u_grid = torch.zeros(2 * n_me + 1, dtype=torch.float64)
u_grid[n_me] = 1.0
for _ in range(n_me):
    u_grid = master_equation_step(u_grid)
k50, probs50 = endpoint_pmf(n_me)
assert_close(u_grid[k50 + n_me], probs50, atol=1e-15, label="master equation vs (1.1)")

# %% [markdown]
# **Check (7.2) with autograd.** The residual $\partial_t p - D\,\partial_x^2 p$ of the heat
# kernel, computed by automatic differentiation, vanishes to rounding error.

# %%
xs = torch.linspace(-3, 3, 61, dtype=torch.float64)
ts = torch.full_like(xs, 0.8)
residual = heat_equation_residual(xs, ts, D=0.5)
assert_close(residual, torch.zeros_like(residual), atol=1e-12, label="heat equation residual")

# %% [markdown]
# **Check: the walk's density converges to the heat kernel.** With $\Delta x = \sqrt{2D\,\Delta t}$
# and $n = t/\Delta t$ steps, the lattice density $P(X_t = x)/(2\Delta x)$ (sites of one
# parity are $2\Delta x$ apart) approaches $p(x, t)$ with a maximal error of order $1/n$.

# %%
display(viz.diffusion_limit_figure(t=1.0, D=0.5, ns=(4, 16, 64)))
t_final, D = 1.0, 0.5
errors = {}
for n_steps in (16, 64, 256, 1024):
    dt = t_final / n_steps
    dx = math.sqrt(2 * D * dt)
    assert math.isclose(diffusion_coefficient(dx, dt), D)
    x_lat, dens = lattice_density(n_steps, dx)
    errors[n_steps] = (dens - heat_kernel(x_lat, t_final, D)).abs().max().item()
    print(f"n = {n_steps:5d}: max |density - heat kernel| = {errors[n_steps]:.2e}")
rates = [errors[a] / errors[b] for a, b in [(16, 64), (64, 256), (256, 1024)]]
assert all(3.5 < q < 4.5 for q in rates), rates  # error ~ 1/n: 4x more steps, 4x smaller

# %% [markdown]
# **Check: rescaled paths look like Brownian motion.** $W_n(t) = S_{\lfloor nt \rfloor}/\sqrt n$
# has $\operatorname{Cov}(W(s), W(t)) = \min(s, t)$ (Donsker's theorem gives the whole
# Brownian limit).

# %%
n_bm = 400
times, w = rescaled_paths(N_PATHS, n_bm, generator=gen, device=DEVICE)
w = w.cpu()
for i, j in [(100, 300), (200, 400), (40, 360)]:
    prod = w[:, i] * w[:, j]
    assert_within_se(
        prod.mean(),
        min(times[i], times[j]).item(),
        prod.std().item() / math.sqrt(N_PATHS),
        label=f"Cov(W({times[i]:.2f}), W({times[j]:.2f}))",
    )

# %% [markdown]
# **Check: the reflection principle for the maximum.** Reflecting a path after its first
# visit to level $m > 0$ shows $P(\max_{k \le n} S_k \ge m) = 2P(S_n > m) + P(S_n = m)$
# exactly. In the limit this becomes Brownian motion's $P(\max_{[0,1]} W \ge a) = 2P(W_1 \ge a)
# = \operatorname{erfc}(a/\sqrt 2)$.


# %%
def max_tail(n: int, m: int) -> float:
    """P(max_{k<=n} S_k >= m) = 2 P(S_n > m) + P(S_n = m) for the symmetric walk."""
    k_n, p_n = endpoint_pmf(n)
    return (2 * p_n[k_n > m].sum() + p_n[k_n == m].sum()).item()


m_level = 20  # a = m / sqrt(n) = 1
hit = (w.max(dim=1).values * math.sqrt(n_bm) >= m_level - 1e-9).double()
exact_tail = max_tail(n_bm, m_level)
assert_within_se(
    hit.mean(),
    exact_tail,
    math.sqrt(exact_tail * (1 - exact_tail) / N_PATHS),
    label=f"P(max S_k >= {m_level}), n={n_bm}",
)
for n_big in (100, 10_000, 1_000_000):
    print(
        f"n = {n_big:>9}: exact walk {max_tail(n_big, int(math.sqrt(n_big))):.5f}, "
        f"Brownian erfc(1/sqrt 2) = {math.erfc(1 / math.sqrt(2)):.5f}"
    )
assert abs(max_tail(1_000_000, 1000) - math.erfc(1 / math.sqrt(2))) < 1e-3

# %% [markdown]
# ## Exercises
#
# Each exercise ends in `check(id, answer)`, which says whether your answer is right and,
# when it recognises the mistake, its kind (sign, factor of two, off by one, not an integer);
# it never shows the expected value. Each prompt states the answer's form and precision.
# Stuck? `hint("01.1")` prints a first hint; call it again for the next, more explicit one.
# Replace `None` with your answer. Worked solutions: `solutions/01_random_walks_solutions.ipynb`.
#
# **01.1** For $p = 0.6$, what is $P(S_{10} = 2)$? Use (1.1) by hand (not `endpoint_pmf`);
# four significant digits are enough.
# Answer: a float, to 4 significant digits.

# %%
answer = None
check("01.1", answer)

# %% [markdown]
# **01.2** Write a function `u(n)` that returns $u_{2n} = P(S_{2n} = 0)$ for the symmetric
# walk (`math.comb` helps).
# Answer: a function `u(n) -> float, for integers n >= 0`, to 9 significant digits.

# %%
u = None
check("01.2", u)

# %% [markdown]
# **01.3** For $p = 0.7$, what is the probability that the walk ever returns to 0? Use $F(1)$.
# Answer: a float, to 6 significant digits.

# %%
answer = None
check("01.3", answer)

# %% [markdown]
# **01.4** How many paths of 12 steps from 0 end at 4 and stay strictly positive after step 0?
# You may count by brute force with `enumerate_paths` or use (5.3).
# Answer: an integer.

# %%
answer = None
check("01.4", answer)

# %% [markdown]
# **01.5** A gambler with 3 units plays until he has 10 or nothing, winning each bet with
# probability 0.45. What is the probability that he reaches 10?
# Answer: a float, to 6 significant digits.

# %%
answer = None
check("01.5", answer)

# %% [markdown]
# **01.6** A walker jumps $\Delta x = 0.2$ every $\Delta t = 0.05$. What diffusion
# coefficient $D$ does its heat-equation limit have?
# Answer: a float, to 6 significant digits.

# %%
answer = None
check("01.6", answer)

# %% [markdown]
# ## Summary
#
# * $S_n = 2K - n$ with $K \sim \mathrm{Bin}(n, p)$; the pgf $\varphi(s)^n$ encodes the whole law.
# * $U(s) = (1 - 4pqs^2)^{-1/2}$ and $F = 1 - 1/U$: the walk returns with probability
#   $1 - |p - q|$; the symmetric walk returns surely, but its mean return time is infinite.
# * First passages are counted by Catalan numbers; the reflection principle turns
#   "paths that touch 0" into "all paths from the mirror image".
# * Gambler's ruin is a boundary-value problem for a linear recurrence.
# * Rescaled, the walk becomes Brownian motion and its law the heat kernel with
#   $D = \Delta x^2 / (2\Delta t)$: the forward process of Chapter 05's diffusion models.
