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
# 4. count paths with the reflection principle (ballot theorem, Catalan numbers) and derive from
#    it the hitting-time theorem and the arcsine law of the last return;
# 5. solve gambler's ruin by first-step analysis;
# 6. take the diffusion limit and recognise the heat equation (used again in Chapter 05);
# 7. see Pólya's theorem: walks on $\mathbb Z^2$ return surely, walks on $\mathbb Z^3$ only with
#    probability $\approx 0.34$.
#
# **Prerequisites.** Binomial coefficients, power series, basic probability (expectation,
# variance, independence), a little PyTorch.
#
# **Runtime.** Fast mode (`COURSE_FAST=1`, as in CI): about 20 s on a 2-core CPU. Full mode
# (50x more walks, so every check is 7x tighter): about 40 s on a 2-core CPU. Simulations run
# on the GPU when one is present.
#
# **Mode.** The set-up cell prints the mode this run uses: *fast* on a CPU, *full* where a GPU
# is present. To switch, start JupyterLab with `COURSE_FAST=0 make lab` (full) or
# `COURSE_FAST=1 make lab` (fast), or run `%env COURSE_FAST=0` before the set-up cell.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import math

import sympy as sp
import torch
from IPython.display import Markdown, display

from course_lib import runtime
from course_lib.checks import assert_close, assert_pmf_matches, assert_within_se, check, hint  # noqa: F401
from course_lib.randomwalk import (
    arcsine_cdf,
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
    first_returns_from_returns,
    heat_equation_residual,
    heat_kernel,
    hitting_time_pmf,
    last_return_pmf,
    lattice_density,
    lattice_return_probabilities,
    master_equation_step,
    master_equation_variance,
    path_count,
    reflected_path_count,
    renewal_convolution,
    rescaled_paths,
    return_pgf,
    return_probabilities,
    sample_endpoints,
    sample_lattice_first_returns,
    sample_paths,
    sample_steps,
    series_coefficients,
    simulate_ruin,
    step_pgf,
    truncated_mean_return_time,
    viz,
    watson_return_sum,
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
N_LATTICE = runtime.pick(fast=3_000, full=100_000)  # walks on Z^2 and Z^3 (section 8)

# %% [markdown] slideshow={"slide_type": "slide"}
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

# %% slideshow={"slide_type": "skip"}
display(show_source(sample_steps, "steps"), show_source(sample_paths, "paths"))

# %%
paths = sample_paths(8, 100, p=0.5, generator=gen)
print(paths[:3, :12])
display(viz.path_explorer_figure(n_steps=100, n_paths=8, level=5, n_hist=N_PATHS, seed=1))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check (1.1).** Simulate $S_{n}$ for many walks and compare the histogram with the exact
# law bin by bin: each count must lie within a few standard errors
# $\sqrt{M p_k (1 - p_k)}$ of its expectation $M p_k$.

# %%
n, p = 40, 0.6
s_n = sample_endpoints(N_WALKS, n, p, generator=gen, device=DEVICE).cpu()
k, probs = endpoint_pmf(n, p)
counts = torch.bincount(s_n + n, minlength=2 * n + 1)[k + n]
assert_pmf_matches(counts, probs, k=5, label=f"S_{n}, p={p}")

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (1.2).** The sample mean must lie within four standard errors of $n(p-q)$, and the
# sample variance within four standard errors of $4npq$ (for the variance we estimate the
# standard error from the squared deviations).

# %% slideshow={"slide_type": "skip"}
mean, var = endpoint_mean_var(n, p)
x = s_n.double()
assert_within_se(x.mean(), mean, se=math.sqrt(var / N_WALKS), label="mean of S_n")
sq = (x - x.mean()) ** 2
assert_within_se(sq.mean(), var, se=sq.std().item() / math.sqrt(N_WALKS), label="var of S_n")
# and the exact law has exactly these moments
assert_close((k.double() * probs).sum(), mean, rtol=1e-12, label="sum k P(S_n=k)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Widget (a): the law of $S_n$
# Move $n$, $p$ and the number of walks. With few walks the histogram is noisy; with many it
# sits on the exact law (dots), itself close to a normal curve with mean $n(p-q)$ and
# variance $4npq$.

# %%
# NBVAL_IGNORE_OUTPUT
viz.endpoint_histogram_widget(n=50, p=0.5, n_walks=10_000)

# %% [markdown] slideshow={"slide_type": "slide"}
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
display(
    Markdown(
        "| k | coefficient of $s^k$ in $\\varphi(s)^6$ |\n|---|---|\n"
        + "\n".join(
            f"| {kk} | {sp.latex(c) and f'${sp.latex(c)}$'} |" for kk, c in sorted(coeffs.items())
        )
    )
)

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (2.2).** The coefficient of $s^k$ equals $P(S_n = k)$ from (1.1), for every $k$,
# and $\varphi'(1)\cdot n$ (the derivative of $\varphi^n$ at 1) equals the mean.

# %% slideshow={"slide_type": "skip"}
k6, probs6 = endpoint_pmf(6, 0.6)
assert_close([float(coeffs[kk]) for kk in k6.tolist()], probs6, rtol=1e-12, label="pgf vs (1.1)")
assert sp.diff(step_pgf(p_exact) ** 6, S).subs(S, 1) == 6 * (2 * p_exact - 1)
assert sum(coeffs.values()) == 1  # phi(1)^n = 1
print("coefficients of phi(s)^6 are the exact law of S_6")

# and simulated walks agree with the coefficients
s_6 = sample_endpoints(N_WALKS, 6, 0.6, generator=gen, device=DEVICE).cpu()
pgf_law = [float(coeffs[kk]) for kk in k6.tolist()]
assert_pmf_matches(torch.bincount(s_6 + 6, minlength=13)[k6 + 6], pgf_law, label="S_6 vs pgf")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3 · Returns to the origin: $U(s)$ and $F(s)$
#
# A return at time $2n$ needs $n$ up-steps among $2n$:
# $u_{2n} = P(S_{2n} = 0) = \binom{2n}{n}(pq)^n$. With $\binom{2n}{n} = (-4)^n\binom{-1/2}{n}$,
#
# $$U(s) = \sum_{n \ge 0} u_{2n} s^{2n} = \left(1 - 4pq s^2\right)^{-1/2}. \tag{3.1}$$
#
# Let $f_{2n}$ be the probability that the **first** return happens at time $2n$. Splitting
# a return at $2n$ by the time $2k$ of the first return (after which the walk starts afresh
# from 0) gives the renewal equation
#
# $$u_{2n} = \sum_{k=1}^{n} f_{2k}\, u_{2n-2k} \quad (n \ge 1), \qquad\text{that is}\qquad U = 1 + F U, \tag{3.4}$$
#
# so
#
# $$F(s) = 1 - \frac{1}{U(s)} = 1 - \sqrt{1 - 4pq s^2}. \tag{3.2}$$
#
# Expanding the square root, $f_{2n} = \frac{u_{2n}}{2n-1}$, and $P(\text{ever return}) = F(1)$. (3.3)

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (3.1)–(3.2).** Series coefficients of the closed forms against the closed-form
# coefficients. **Check (3.4).** The renewal equation is what (3.2) was built from, so we test
# it directly: the coefficients $f_{2n} = u_{2n}/(2n-1)$ (from expanding the square root) and
# $u_{2n} = \binom{2n}{n}(pq)^n$ (from counting) must satisfy $u_{2n} = \sum_k f_{2k}u_{2n-2k}$.
# (The unit tests show this check fails for a 1 % perturbed $f$, for $u_{2n}/(2n+1)$, and for an
# index shifted by one.)

# %% slideshow={"slide_type": "skip"}
order = 14
u_coef = series_coefficients(return_pgf(p_exact), order)
f_coef = series_coefficients(first_return_pgf(p_exact), order)
u = return_probabilities(order // 2, 0.6)
f = first_return_probabilities(order // 2, 0.6)
assert_close([float(c) for c in u_coef[::2]], u, rtol=1e-12, label="U(s) coefficients")
assert_close([float(c) for c in f_coef[::2]], f, rtol=1e-12, label="F(s) coefficients")
for p_r in (0.5, 0.6, 0.9):
    u_r, f_r = return_probabilities(60, p_r), first_return_probabilities(60, p_r)
    assert_close(renewal_convolution(f_r, u_r), u_r, rtol=1e-12, label=f"renewal (3.4), p={p_r}")
print("renewal equation (3.4) holds for n <= 60 and p = 0.5, 0.6, 0.9")

# %% [markdown] slideshow={"slide_type": "subslide"}
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

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Recurrence, yet an infinite mean return time
#
# The walk ever returns with probability $F(1) = 1 - \sqrt{(p-q)^2} = 1 - |p - q|$: surely
# when $p = \tfrac12$, and with probability $< 1$ otherwise. For $p = \tfrac12$ the mean
# return time is $F'(1) = \lim_{s\uparrow 1} s/\sqrt{1 - s^2} = \infty$; the partial sums
# $\sum_{n\le N} 2n f_{2n}$ grow like $2\sqrt{N/\pi}$ (since $u_{2n} \approx 1/\sqrt{\pi n}$).
#
# **No return by time $2N$.** For $p = \tfrac12$, $u_{2n}/u_{2n-2} = \frac{(2n)(2n-1)}{4n^2}
# = \frac{2n-1}{2n}$, so $u_{2n-2} - u_{2n} = u_{2n}\big(\frac{2n}{2n-1} - 1\big) = \frac{u_{2n}}{2n-1}$:
#
# $$f_{2n} = u_{2n-2} - u_{2n}, \qquad P(T_0 > 2N) = 1 - \sum_{n=1}^{N} f_{2n} = 1 - (u_0 - u_{2N}) = u_{2N}. \tag{3.5}$$
#
# The sum telescopes. So the walk fails to return by $2N$ with probability $u_{2N} \to 0$, but
# only like $1/\sqrt{\pi N}$.

# %%
for N in (10, 1_000, 100_000):
    partial = truncated_mean_return_time(N)
    print(
        f"N = {N:>7}: sum 2n f_2n = {partial:9.2f}   2 sqrt(N/pi) = {2 * math.sqrt(N / math.pi):9.2f}"
    )
ratio = truncated_mean_return_time(100_000) / (2 * math.sqrt(100_000 / math.pi))
assert abs(ratio - 1) < 0.01, ratio

# (3.5): the telescoping identity, then the tail sum, then a simulation
u_sym, f_sym40 = return_probabilities(200), first_return_probabilities(200)
assert_close(f_sym40[1:], u_sym[:-1] - u_sym[1:], rtol=1e-10, label="f_2n = u_(2n-2) - u_2n")
assert_close(1 - f_sym40.cumsum(0), u_sym, rtol=1e-10, label="P(T_0 > 2N) = u_2N")

# no return by time 2N has probability u_2N (symmetric walk): simulation vs exact
no_return = ((t0 < 0) | (t0 > n_window)).double().mean().item()
u_end = return_probabilities(n_window // 2)[-1].item()
se = math.sqrt(u_end * (1 - u_end) / N_PATHS)
assert_within_se(no_return, u_end, se, label=f"P(no return by {n_window})")

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check: the return probability of biased walks.** Simulate long biased walks: the
# fraction that return within the window approaches $1 - |p - q|$ (the missing mass of late
# returns decays geometrically when $p \ne q$, so a window of 200 steps suffices).

# %% slideshow={"slide_type": "skip"}
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

# %% [markdown] slideshow={"slide_type": "slide"}
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
# (Section 5 generalises this to any level $r$.)

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

# %% [markdown] slideshow={"slide_type": "slide"}
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
# The algebra: with $a = \frac{n+k}{2}$ up-steps, $N_{n-1}(1,k) = \binom{n-1}{a-1} = \frac{a}{n}\binom{n}{a}$
# and $N_{n-1}(-1,k) = \binom{n-1}{a} = \frac{n-a}{n}\binom{n}{a}$, so the difference is
# $\frac{2a - n}{n}\binom{n}{a} = \frac{k}{n}\binom{n}{a}$. Sympy checks the algebra symbolically;
# then brute force checks (5.2)–(5.3) on all $2^n$ paths.

# %% slideshow={"slide_type": "skip"}
n_s, a_s = sp.symbols("n a", positive=True, integer=True)
ballot_gap = (
    sp.binomial(n_s - 1, a_s - 1)
    - sp.binomial(n_s - 1, a_s)
    - (2 * a_s - n_s) / n_s * sp.binomial(n_s, a_s)
)
assert sp.simplify(sp.combsimp(ballot_gap)) == 0
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

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The hitting-time theorem, from the ballot theorem
#
# Let $T_r$ be the first time the walk reaches level $r \ge 1$. Reverse a path of length $n$
# that ends at $r$: the reversed steps $X_n, \dots, X_1$ give the path $S'_m = r - S_{n-m}$.
# The original path first reaches $r$ at time $n$ exactly when $S_m < r$ for all $m < n$, i.e.
# when the reversed path stays strictly positive after time 0. Reversal is a bijection between
# paths with the same number of up-steps, and every path with $\frac{n+r}{2}$ up-steps has the
# same probability, so by (5.3)
#
# $$P(T_r = n) = \frac{r}{n} N_n(0, r)\, p^{\frac{n+r}{2}} q^{\frac{n-r}{2}} = \frac{r}{n} P(S_n = r). \tag{5.4}$$
#
# For $r = 1$, $n = 2m-1$, this is (4.2). **Check (5.4)** by brute force over all $2^{14}$
# paths, then by simulating first passages to level $r = 3$.

# %% slideshow={"slide_type": "skip"}
first_hit = torch.where(all_paths[:, 1:] >= 3, torch.arange(1, n_enum + 1), n_enum + 1).amin(1)
law14 = hitting_time_pmf(3, n_enum)
for n_h in range(3, n_enum + 1):
    assert int((first_hit == n_h).sum()) == round(law14[n_h].item() * 2**n_enum)
assert_close(
    hitting_time_pmf(1, 11)[1::2], first_passage_pmf(6, 0.5), rtol=1e-12, label="(5.4) r=1 vs (4.2)"
)
r = 3
walks = sample_paths(N_PATHS, 60, 0.5, generator=gen, device=DEVICE).cpu()
t_r = first_hitting_times(walks, r)
law = hitting_time_pmf(r, 60)
for m in (3, 5, 9, 15, 25):
    est = (t_r == m).double().mean().item()
    se = math.sqrt(law[m].item() * (1 - law[m].item()) / N_PATHS)
    assert_within_se(est, law[m].item(), se, label=f"P(T_{r} = {m})")

# %% [markdown] slideshow={"slide_type": "skip"}
# ### Widget (b): the path explorer
# Paths with their first passage to level $r$ marked, and the law of $T_r$: simulated
# (bars) against $\frac{r}{n}P(S_n = r)$. Try $p < \tfrac12$: many paths never arrive.

# %% slideshow={"slide_type": "skip"}
# NBVAL_IGNORE_OUTPUT
viz.path_explorer_widget(n_steps=200, n_paths=8, level=5)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The arcsine law of the last return
#
# Let $L_{2N}$ be the last time $\le 2N$ at which the symmetric walk is at 0. $L_{2N} = 2k$ means
# $S_{2k} = 0$ and then no return during the remaining $2N - 2k$ steps; the walk starts afresh at
# $2k$, so by (3.5)
#
# $$P(L_{2N} = 2k) = u_{2k}\, u_{2N-2k}, \qquad
#   P\Big(\frac{L_{2N}}{2N} \le x\Big) \to \frac{2}{\pi}\arcsin\sqrt x, \tag{5.5}$$
#
# the limit because $u_{2k}u_{2N-2k} \approx \frac{1}{\pi\sqrt{k(N-k)}}$, a Riemann sum of the
# arcsine density $\frac{1}{\pi\sqrt{x(1-x)}}$. The law is U-shaped: the last visit to 0 is
# most likely near the start or near the end, not in the middle. **Check (5.5)**: brute force
# over all paths of length 14, simulated walks of length 200 bin by bin, and the exact law for
# large $N$ against the arcsine limit.

# %%
last14 = torch.where(all_paths == 0, torch.arange(n_enum + 1), -1).amax(1)
pmf14 = last_return_pmf(n_enum // 2)
assert_close(
    torch.bincount(last14 // 2, minlength=8).double() / 2**n_enum,
    pmf14,
    rtol=1e-12,
    label="(5.5) brute force",
)
n_last = 100  # 2N = 200 steps
walks_l = sample_paths(N_PATHS, 2 * n_last, 0.5, generator=gen, device=DEVICE).cpu()
last = torch.where(walks_l == 0, torch.arange(2 * n_last + 1), -1).amax(1)
assert_pmf_matches(
    torch.bincount(last // 2, minlength=n_last + 1), last_return_pmf(n_last), label="L_200"
)
for big in (100, 10_000):
    xs_a = torch.tensor([0.05, 0.25, 0.5, 0.9], dtype=torch.float64)
    cdf = last_return_pmf(big).cumsum(0)[(xs_a * big).long()]
    gap_a = (cdf - arcsine_cdf(xs_a)).abs().max().item()
    print(
        f"N = {big:>6}: max |P(L/2N <= x) - (2/pi) arcsin sqrt x| over x in {xs_a.tolist()} = {gap_a:.1e}"
    )
assert gap_a < 1e-3
sim_half = (last <= n_last).double().mean().item()  # L/2N <= 1/2: probability -> 1/2 by symmetry
print(
    f"simulated P(L_200 <= 100) = {sim_half:.3f}; arcsine limit at x = 0.1: {arcsine_cdf(0.1).item():.3f} (not 0.1)"
)

# %% [markdown] slideshow={"slide_type": "slide"}
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

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (6.1)–(6.2).** Play many games for a few starting capitals and compare.

# %% slideshow={"slide_type": "skip"}
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

# %% [markdown] slideshow={"slide_type": "slide"}
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

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check: the master equation (7.1) is the binomial law.** Iterating (7.1) from a point
# mass reproduces (1.1) exactly.

# %% slideshow={"slide_type": "skip"}
n_me = 50
u_grid = torch.zeros(2 * n_me + 1, dtype=torch.float64)
u_grid[n_me] = 1.0
for _ in range(n_me):
    u_grid = master_equation_step(u_grid)
k50, probs50 = endpoint_pmf(n_me)
assert_close(u_grid[k50 + n_me], probs50, atol=1e-15, label="master equation vs (1.1)")

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check: the variance grows like $2Dt$ with $D = \Delta x^2/(2\Delta t)$.** Solve the master
# equation (7.1) on the grid (no sampling) for several $(\Delta x, \Delta t)$ and compare its
# variance after $n$ steps with $2D\,n\Delta t$. (A planted $D = \Delta x^2/\Delta t$ fails this by a
# factor 2, as a unit test shows.)

# %% slideshow={"slide_type": "skip"}
for dx_v, dt_v in [(0.1, 0.005), (0.3, 0.02), (0.05, 0.01)]:
    var_me = master_equation_variance(dx_v, 80)
    assert_close(
        var_me,
        2 * diffusion_coefficient(dx_v, dt_v) * 80 * dt_v,
        rtol=1e-12,
        label=f"Var = 2Dt, dx={dx_v}",
    )
print("master-equation variance = 2 D t for every (dx, dt) tried")

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (7.2) with autograd.** The residual $\partial_t p - D\,\partial_x^2 p$ of the heat
# kernel, computed by automatic differentiation, vanishes to rounding error.

# %% slideshow={"slide_type": "skip"}
xs = torch.linspace(-3, 3, 61, dtype=torch.float64)
ts = torch.full_like(xs, 0.8)
residual = heat_equation_residual(xs, ts, D=0.5)
assert_close(residual, torch.zeros_like(residual), atol=1e-12, label="heat equation residual")

# %% [markdown] slideshow={"slide_type": "subslide"}
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
    x_lat, dens = lattice_density(n_steps, dx)
    errors[n_steps] = (dens - heat_kernel(x_lat, t_final, D)).abs().max().item()
    print(f"n = {n_steps:5d}: max |density - heat kernel| = {errors[n_steps]:.2e}")
rates = [errors[a] / errors[b] for a, b in [(16, 64), (64, 256), (256, 1024)]]
assert all(3.5 < q < 4.5 for q in rates), rates  # error ~ 1/n: 4x more steps, 4x smaller

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check: rescaled paths look like Brownian motion.** $W_n(t) = S_{\lfloor nt \rfloor}/\sqrt n$
# has $\operatorname{Cov}(W(s), W(t)) = \min(s, t)$ (Donsker's theorem gives the whole
# Brownian limit).

# %% slideshow={"slide_type": "skip"}
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

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check: the reflection principle for the maximum.** Reflecting a path after its first
# visit to level $m > 0$ shows $P(\max_{k \le n} S_k \ge m) = 2P(S_n > m) + P(S_n = m)$
# exactly. In the limit this becomes Brownian motion's $P(\max_{[0,1]} W \ge a) = 2P(W_1 \ge a)
# = \operatorname{erfc}(a/\sqrt 2)$.


# %% slideshow={"slide_type": "skip"}
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

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8 · Pólya: the drunkard returns in the plane, not in space
#
# On $\mathbb Z^d$ each step goes to one of the $2d$ neighbours with probability $\frac1{2d}$. The
# renewal argument of (3.4) never used the dimension, so again $F = 1 - 1/U$ and
# $P(\text{ever return}) = 1 - 1/U(1)$ with $U(1) = \sum_n u_{2n}$: the walk is recurrent
# exactly when $\sum_n u_{2n} = \infty$. (8.1)
#
# Exact $u_{2n}$: in $d = 2$, the coordinates $x + y$ and $x - y$ are two independent 1-D walks,
# so $u^{(2)}_{2n} = (u_{2n})^2 \approx \frac{1}{\pi n}$: the sum diverges like $\frac1\pi\log N$
# (recurrent, but barely). In $d = 3$, $2j$ of the $2n$ steps go along $z$ (a binomial count with
# success probability $\frac13$) and the rest form a 2-D walk:
#
# $$u^{(3)}_{2n} = \sum_j \binom{2n}{2j}\Big(\frac13\Big)^{2j}\Big(\frac23\Big)^{2n-2j} u_{2j}\, u^{(2)}_{2n-2j}
#   \approx 2\Big(\frac{3}{4\pi n}\Big)^{3/2}, \tag{8.2}$$
#
# which is summable (transient). Its sum is Watson's integral,
#
# $$U(1) = \frac{1}{(2\pi)^3}\int_{[-\pi,\pi]^3}\frac{dk}{1 - \frac13(\cos k_1 + \cos k_2 + \cos k_3)}
#   = \int_0^\infty e^{-t} I_0(t/3)^3\, dt, \tag{8.3}$$
#
# (write $1/a = \int_0^\infty e^{-at}dt$ and integrate each $k_i$: $\frac1\pi\int_0^\pi e^{t\cos k/3}dk = I_0(t/3)$).
# scipy integrates the last form. **Check (8.2)–(8.3)**: the Watson value against the partial
# sums of (8.2) plus their tail; then simulated walks against the exact return probability by
# time $2N$ (from (8.2) and the renewal equation).

# %% slideshow={"slide_type": "skip"}
display(show_source(watson_return_sum))
u_watson = watson_return_sum()
n_3d = 400
u3 = lattice_return_probabilities(n_3d, 3)
tail_3d = 2 * (3 / (4 * math.pi)) ** 1.5 * 2 / math.sqrt(n_3d)  # sum_{n > N} 2 (3/(4 pi n))^(3/2)
assert_close(u3.sum() + tail_3d, u_watson, rtol=2e-3, label="partial sums of (8.2) + tail vs (8.3)")
p_return_3d = 1 - 1 / u_watson
print(f"U(1) = {u_watson:.6f}, so P(a walk on Z^3 ever returns) = 1 - 1/U(1) = {p_return_3d:.4f}")
assert abs(p_return_3d - 0.3405) < 1e-4

# %%
n_half = runtime.pick(fast=300, full=1000)  # walks of 2N steps
rows = []
for dim in (2, 3):
    t_first = sample_lattice_first_returns(
        N_LATTICE, 2 * n_half, dim, generator=gen, device=DEVICE
    ).cpu()
    f_d = first_returns_from_returns(lattice_return_probabilities(n_half, dim))
    exact_d = f_d.sum().item()
    est_d = (t_first > 0).double().mean().item()
    assert_within_se(
        est_d,
        exact_d,
        math.sqrt(exact_d * (1 - exact_d) / N_LATTICE),
        label=f"P(return by {2 * n_half}), d={dim}",
    )
    rows.append(f"| {dim} | {est_d:.3f} | {exact_d:.4f} |")
display(
    Markdown(
        f"| d | simulated P(return by {2 * n_half}) | exact, (8.1)–(8.2) |\n|---|---|---|\n"
        + "\n".join(rows)
    )
)
assert exact_d < p_return_3d < exact_d + 0.02  # d = 3: already close to its limit 0.3405

# %% [markdown] slideshow={"slide_type": "notes"}
# **In the plane the return probability creeps towards 1.** For a recurrent walk the chance of
# no return by $2N$ is close to $1/U_N$, $U_N = \sum_{n \le N} u_{2n} \approx \frac1\pi\log N$, so
# $P(T_0 > 2N)$ falls only like $c/\log N$. The exact values:

# %% slideshow={"slide_type": "skip"}
u2d = lattice_return_probabilities(20_000, 2)
f2d = first_returns_from_returns(u2d[:5_001])
rows, prev = [], None
for big in (10, 100, 1_000, 5_000):
    escape = 1 - f2d[: big + 1].sum().item()
    u_n = u2d[: big + 1].sum().item()
    rows.append(f"| {big:,} | {escape:.4f} | {1 / u_n:.4f} | {escape * math.log(big):.3f} |")
    assert prev is None or escape < prev  # decreasing towards 0 ...
    assert 0.94 < escape * u_n < 1.0  # ... like 1/U_N
    prev = escape
display(
    Markdown(
        "| N | P(no return by 2N) | 1/U_N | P · log N |\n|---|---|---|---|\n" + "\n".join(rows)
    )
)
growth = u2d.cumsum(0)
assert_close(
    growth[20_000] - growth[2_000],
    math.log(10) / math.pi,
    rtol=1e-3,
    label="U_N grows like log(N)/pi",
)

# %% [markdown] slideshow={"slide_type": "slide"}
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

# %% [markdown] slideshow={"slide_type": "skip"}
# **01.2** Write a function `u(n)` that returns $u_{2n} = P(S_{2n} = 0)$ for the symmetric
# walk (`math.comb` helps).
# Answer: a function `u(n) -> float, for integers n >= 0`, to 9 significant digits.

# %% slideshow={"slide_type": "skip"}
u = None
check("01.2", u)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **01.3** For $p = 0.7$, what is the probability that the walk ever returns to 0? Use $F(1)$.
# Answer: a float, to 6 significant digits.

# %%
answer = None
check("01.3", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **01.4** How many paths of 12 steps from 0 end at 4 and stay strictly positive after step 0?
# You may count by brute force with `enumerate_paths` or use (5.3).
# Answer: an integer.

# %% slideshow={"slide_type": "skip"}
answer = None
check("01.4", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **01.5** A gambler with 3 units plays until he has 10 or nothing, winning each bet with
# probability 0.45. What is the probability that he reaches 10?
# Answer: a float, to 6 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("01.5", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **01.6** A walker jumps $\Delta x = 0.2$ every $\Delta t = 0.05$. What diffusion
# coefficient $D$ does its heat-equation limit have?
# Answer: a float, to 6 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("01.6", answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# * $S_n = 2K - n$ with $K \sim \mathrm{Bin}(n, p)$; the pgf $\varphi(s)^n$ encodes the whole law.
# * $U(s) = (1 - 4pqs^2)^{-1/2}$ and $F = 1 - 1/U$: the walk returns with probability
#   $1 - |p - q|$; the symmetric walk returns surely, but its mean return time is infinite.
# * First passages are counted by Catalan numbers; the reflection principle turns
#   "paths that touch 0" into "all paths from the mirror image".
# * Time reversal turns the ballot theorem into the hitting-time theorem $P(T_r = n) = \frac rn P(S_n = r)$;
#   $f_{2n} = u_{2n-2} - u_{2n}$ telescopes to $P(\text{no return by } 2N) = u_{2N}$, and from it
#   the last return follows the arcsine law.
# * Gambler's ruin is a boundary-value problem for a linear recurrence.
# * Rescaled, the walk becomes Brownian motion and its law the heat kernel with
#   $D = \Delta x^2 / (2\Delta t)$: the forward process of Chapter 05's diffusion models.
# * Pólya: $\sum_n u_{2n}$ diverges in $d = 1, 2$ (recurrent) and converges in $d = 3$, where a
#   walk returns with probability $1 - 1/U(1) \approx 0.3405$ (Watson's integral).
#
# ## References
#
# * W. Feller, *An Introduction to Probability Theory and Its Applications*, vol. 1, 3rd ed.,
#   Wiley, 1968: ch. III (fluctuations in coin tossing: reflection, ballot, last return and the
#   arcsine law), ch. XI (generating functions), ch. XIII (recurrent events, the renewal
#   equation), ch. XIV (gambler's ruin, the diffusion limit).
# * C. M. Grinstead and J. L. Snell, *Introduction to Probability*, AMS, 1997: ch. 10
#   (generating functions), ch. 12 (random walks, including Pólya's theorem and the arcsine laws).
# * G. Pólya, "Über eine Aufgabe der Wahrscheinlichkeitsrechnung betreffend die Irrfahrt im
#   Straßennetz", *Math. Annalen* 84 (1921).
# * G. N. Watson, "Three triple integrals", *Quart. J. Math.* 10 (1939).
# * The chapter follows a Chinese blog series on random walks and generating functions (醉汉
#   随机游走与母函数); its excerpt is not among `shared/seeds/`. The glossary maps its terms.
#
# **Glossary (中文 – English).** 随机游走 random walk · 醉汉游走 drunkard's walk ·
# 母函数 / 生成函数 generating function · 概率母函数 probability generating function ·
# 首达时 first-passage time · 首次返回 first return · 常返 recurrent · 暂留 transient ·
# 反射原理 reflection principle · 选票定理 ballot theorem · 卡特兰数 Catalan numbers ·
# 赌徒破产 gambler's ruin · 反正弦定律 arcsine law · 扩散极限 diffusion limit ·
# 热方程 heat equation · 布朗运动 Brownian motion.
