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
# # Chapter 02 · Quadratic forms, their extrema, and how optimisers see them
#
# Take a polynomial of degree two in $n$ variables, with coefficients $a_{ij}$, $b_k$, $c$.
# Written with matrices it becomes $f(x) = x^\top A x + b^\top x + c$, and almost everything
# about it (where its extremum lies, whether there is one, what its level sets look like, how
# fast an optimiser finds the bottom) can be read off the eigenvalues of $A$. This chapter
# derives each fact and checks it numerically against an independent route: a polynomial
# evaluated term by term, `torch.autograd`, a numerical minimiser, brute force on a grid,
# a peer library.
#
# **Learning goals.** After this chapter you can
# 1. turn coefficients $a_{ij}, b_k, c$ into $A, b, c$, and explain why $A$ may be taken symmetric;
# 2. derive the gradient and Hessian in the article's form $x^\top Ax + b^\top x + c$ and in the
#    convenient form $\tfrac12 x^\top Qx - p^\top x + c$, without losing a factor 2;
# 3. find the stationary point in closed form, complete the square, and classify the stationary
#    set from the eigenvalues, including the singular cases;
# 4. derive the rates of gradient descent, heavy-ball momentum, Newton and conjugate gradients
#    on a quadratic, and measure them;
# 5. recognise a Gaussian log-density and least squares as quadratic forms.
#
# **Prerequisites.** Matrix products, eigenvalues of a symmetric matrix, the gradient of a
# function of several variables, a little PyTorch.
#
# **Runtime.** Fast mode (`COURSE_FAST=1`, as in CI): about 15 s on a 2-core CPU (35 s when
# the machine is busy). Full mode (larger matrices, longer runs, more grid trials): about
# 30 s on a 2-core CPU; the matrices are small, so a GPU does not speed it up.
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
from scipy import optimize

from course_lib import runtime
from course_lib.checks import assert_close, check, hint  # noqa: F401
from course_lib.quadratic import (
    LEVEL_SETS_2D,
    QuadraticForm,
    cg_error_bound,
    conjugate_gradient,
    gaussian_log_density_form,
    gd_optimal_step,
    gd_rate,
    gd_rate_for_step,
    gradient_descent,
    gradient_descent_iterates,
    grid_classify,
    heavy_ball,
    heavy_ball_iterates,
    heavy_ball_parameters,
    heavy_ball_rate,
    heavy_ball_rate_for,
    least_squares_form,
    measured_rate,
    newton,
    polynomial_value,
    random_spd,
    viz,
)
from course_lib.quadratic.optim import conjugate_gradient_iterates
from course_lib.source import show_source

gen = runtime.seed_all(0)
print(runtime.describe())
# Thousands of tiny matrix-vector products: thread hand-offs would cost more than the work.
torch.set_num_threads(1)
F64 = torch.float64

# Sizes: small in fast mode (CI), larger in full mode. Nothing below edits them.
N_RATE = runtime.pick(fast=40, full=200)  # dimension of the rate experiments
KAPPAS = runtime.pick(fast=(10.0, 100.0), full=(10.0, 100.0, 1000.0))
N_GRID = runtime.pick(fast=121, full=241)  # grid of the brute-force classification

# %% [markdown] slideshow={"slide_type": "notes"}
# **Lecture plan (45 min; speaker notes, not projected).** §1 coefficients to a symmetric
# $A$ (5 min) · §2 gradient $2Ax + b$ and Hessian $2A$ (5) · §3 completing the square (7) · §4
# eigen-geometry with widget (a) (10) · §5 gradient descent and its rate (8) · §7 Newton in one
# step (3) · exercise 02.1 live (4) · §9 bridges and summary (3). §6 heavy ball, §8 conjugate
# gradients, widget (b) and the other exercises stay in the notebook for reading; skipped cells
# still run with *Run All*.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1 · From coefficients to matrices
#
# A quadratic polynomial in $x \in \mathbb R^n$ is
#
# $$f(x) = \sum_{i,j} a_{ij} x_i x_j + \sum_k b_k x_k + c = x^\top M x + b^\top x + c,
# \qquad M = (a_{ij}). \tag{1.1}$$
#
# Split $M = S + K$ with $S = \tfrac12(M + M^\top)$ symmetric and $K = \tfrac12(M - M^\top)$
# antisymmetric. A number is its own transpose, so
# $x^\top K x = (x^\top K x)^\top = x^\top K^\top x = -x^\top K x$, hence $x^\top K x = 0$ and
#
# $$f(x) = x^\top A x + b^\top x + c, \qquad A = \tfrac12 (M + M^\top) = A^\top. \tag{1.2}$$
#
# `QuadraticForm` symmetrises on construction and evaluates a whole batch of points at once:

# %% slideshow={"slide_type": "skip"}
display(show_source(QuadraticForm.value, "value"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check (1.1)–(1.2).** A random, non-symmetric coefficient matrix: the matrix form agrees
# with the polynomial summed term by term in plain Python, and the antisymmetric part
# contributes exactly nothing.

# %%
n = 4
a = torch.randn(n, n, generator=gen, dtype=F64)
b = torch.randn(n, generator=gen, dtype=F64)
f = QuadraticForm.from_coefficients(a, b, 1.5)
xs = torch.randn(25, n, generator=gen, dtype=F64)
poly = torch.tensor([polynomial_value(a, b, 1.5, x) for x in xs], dtype=F64)
assert_close(f.value(xs), poly, rtol=1e-12, label="xᵀAx + bᵀx + c vs Σ a_ij x_i x_j + ...")
K_part = (a - a.T) / 2
assert_close(((xs @ K_part) * xs).sum(-1), torch.zeros(25, dtype=F64), atol=1e-13,
             label="xᵀKx for the antisymmetric part")  # fmt: skip
assert torch.equal(f.A, f.A.T) and not torch.equal(f.A, a)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2 · Gradient and Hessian, in two forms
#
# Differentiating $x^\top A x = \sum_{ij} A_{ij} x_i x_j$ with respect to $x_k$ gives
# $\sum_j A_{kj}x_j + \sum_i A_{ik} x_i = ((A + A^\top)x)_k = 2(Ax)_k$ for symmetric $A$:
#
# $$\nabla f(x) = 2Ax + b, \qquad \nabla^2 f = 2A. \tag{2.1}$$
#
# "For later convenience" the same function is often written $f(x) = \tfrac12 x^\top Q x -
# p^\top x + c$, i.e. $Q = 2A$ and $p = -b$. Then the factor 2 is gone:
#
# $$\nabla f(x) = Qx - p, \qquad \nabla^2 f = Q. \tag{2.2}$$
#
# The two forms describe **one** function; the trap is to copy $\nabla f = Ax - b$ from (2.2)
# into the article's form (2.1). This chapter keeps the article's $A$ in `QuadraticForm.A`
# and gets $Q$ from `half_form()`; every rate later is stated through the Hessian.

# %% [markdown] slideshow={"slide_type": "notes"}
# **Notes for §2.** The trap to raise: "the gradient of $x^\top A x$ is $Ax$". It is
# $(A + A^\top)x$, i.e. $2Ax$ for symmetric $A$; the $Ax$ belongs to the convenient form
# $\tfrac12 x^\top Q x$. The check below differentiates the raw, non-symmetric polynomial with
# autograd, so a missing factor 2 or a forgotten transpose would fail it.

# %% slideshow={"slide_type": "skip"}
display(show_source(QuadraticForm.gradient, "gradient"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check (2.1)–(2.2) with autograd.** Differentiate the *raw* polynomial (non-symmetric
# $M$) with `torch.autograd.grad` and `torch.func.hessian`, in both forms.

# %%
x = torch.randn(n, generator=gen, dtype=F64, requires_grad=True)


def article_form(v):
    return v @ a @ v + b @ v + 1.5  # the raw coefficients, not symmetrised


(g_auto,) = torch.autograd.grad(article_form(x), x)
assert_close(f.gradient(x.detach()), g_auto, rtol=1e-12, label="2Ax + b vs autograd")
assert_close(f.hessian(), torch.func.hessian(article_form)(x.detach()), rtol=1e-12,
             label="2A vs torch.func.hessian")  # fmt: skip

Q, p, c = f.half_form()


def convenient_form(v):
    return 0.5 * v @ Q @ v - p @ v + c


(g_half,) = torch.autograd.grad(convenient_form(x), x)
assert_close(Q @ x.detach() - p, g_half, rtol=1e-12, label="Qx - p vs autograd")
assert_close(torch.func.hessian(convenient_form)(x.detach()), Q, rtol=1e-12, label="Q = Hessian")
assert_close(convenient_form(xs[0]), f.value(xs[0]), rtol=1e-12, label="same function")
# the slip: using A in place of Q (i.e. ∇f = Ax + b) is off by a factor 2 in the quadratic part
assert not torch.allclose(f.A @ x.detach() + b, g_auto)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3 · The stationary point and completing the square
#
# If $A$ is invertible, $\nabla f = 2Ax + b = 0$ has the single solution
#
# $$x^* = -\tfrac12 A^{-1} b \;\; (= Q^{-1}p \text{ in the convenient form}). \tag{3.1}$$
#
# Expanding $(x - x^*)^\top A (x - x^*)$ and using $2Ax^* = -b$ gives
# $x^\top A x + b^\top x + x^{*\top} A x^*$, so
#
# $$f(x) = (x - x^*)^\top A (x - x^*) + f(x^*), \qquad f(x^*) = c - \tfrac14 b^\top A^{-1} b
# = c + \tfrac12 b^\top x^*. \tag{3.2}$$
#
# `stationary()` computes $x^*$ on the eigenvectors of $A$ (so that the singular case of
# section 4 is the same code):

# %% slideshow={"slide_type": "skip"}
display(show_source(QuadraticForm.stationary, "stationary-point"))

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (3.1)–(3.2).** For a positive definite $A$, a derivative-free numerical minimiser
# (Nelder–Mead, from SciPy) lands on $x^*$ with the value $f(x^*)$; and the completed square
# equals $f$ at random points.

# %% slideshow={"slide_type": "skip"}
m = torch.randn(n, n, generator=gen, dtype=F64)
spd = QuadraticForm(m @ m.T + 0.5 * torch.eye(n, dtype=F64), b, 2.0)
x_star = spd.stationary_point()
res = optimize.minimize(lambda v: float(spd.value(torch.from_numpy(v))), np.zeros(n),
                        method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-14,
                                                       "maxiter": 20_000})  # fmt: skip
assert_close(res.x, x_star, atol=1e-6, rtol=0, label="x* = -½A⁻¹b vs Nelder-Mead")
assert_close(res.fun, spd.stationary().value, rtol=1e-9, label="f(x*) = c + ½bᵀx*")
assert_close(spd.completed_square(xs), spd.value(xs), rtol=1e-10, label="completed square (3.2)")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4 · Eigen-geometry: minimum, maximum, saddle, and the singular cases
#
# With $A = V\Lambda V^\top$ and $y = V^\top(x - x^*)$, (3.2) becomes
#
# $$f(x) = f(x^*) + \sum_i \lambda_i y_i^2. \tag{4.1}$$
#
# All $\lambda_i > 0$: a minimum, the level sets are ellipses (ellipsoids); all $\lambda_i < 0$:
# a maximum; mixed signs: a saddle with hyperbolic level sets. If $A$ is **singular**,
# $2Ax = -b$ is solvable exactly when $b \perp \operatorname{null}(A)$. Then the stationary
# points form the affine set $x_0 + \operatorname{null}(A)$, $x_0 = -\tfrac12 A^+ b$: a
# *valley* of minima (other $\lambda_i > 0$), a *ridge* of maxima, or a degenerate saddle; the
# level sets in 2-D are parallel lines. Otherwise there is **no** stationary point: $f$ is
# linear along $\operatorname{null}(A)$ and unbounded both ways (parabolic level sets). (4.2)

# %% slideshow={"slide_type": "fragment"}
cases = {  # (λ₁, λ₂, angle, b₁, b₂)
    "minimum": (2.0, 0.5, 30.0, 1.0, -0.5),
    "saddle": (1.5, -1.0, 30.0, 0.5, 0.5),
    "valley": (1.0, 0.0, 30.0, 0.5 * math.sqrt(3), 0.5),  # b along the eigenvector of λ₁ = 1
    "none": (1.0, 0.0, 30.0, 0.0, 1.0),
}
for name, args in cases.items():
    kind = viz.form_from_spectrum(*args).stationary().kind
    print(f"{name:8s} -> stationary(): {kind:8s} level sets: {LEVEL_SETS_2D[kind]}")
    assert kind == name
display(viz.landscape_figure(*cases["valley"]))

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (4.2) by brute force.** `grid_classify` never looks at eigenvalues: it evaluates
# $f$ on a grid, finds where the finite-difference gradient vanishes (if anywhere), and
# compares $f$ there with all other grid values (both above and below: saddle; only above:
# minimum, or a valley when the near-minimal nodes stretch across the box). Random spectra,
# including zero eigenvalues, rotations and vectors $b$ in or out of the range of $A$:

# %% slideshow={"slide_type": "skip"}
rng = np.random.default_rng(0)
tally = {}
for _ in range(runtime.pick(fast=40, full=200)):
    lam = rng.choice([-1.0, 0.0, 1.0], size=2) * rng.uniform(0.5, 2.0, size=2)
    b_eig = np.where(lam != 0, rng.uniform(-0.5, 0.5, 2), rng.choice([0.0, 1.0]))
    theta = rng.uniform(0, math.pi)
    R = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    form = QuadraticForm(torch.from_numpy(R @ np.diag(lam) @ R.T), torch.from_numpy(R @ b_eig))
    kind = form.stationary().kind
    assert grid_classify(form, 3.0, N_GRID) == kind, (lam, b_eig, theta)
    tally[kind] = tally.get(kind, 0) + 1
print("eigen-classification = brute force in every trial:", tally)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Widget (a): the landscape of a 2×2 form
# Set $A$ by its eigenvalues and a rotation, and move $b$. Put one eigenvalue at 0: with
# $b$ along the other eigenvector you get a valley (or ridge) of stationary points; tilt $b$
# and the stationary set disappears. Give the eigenvalues opposite signs for a saddle.

# %%
# NBVAL_IGNORE_OUTPUT
viz.landscape_widget()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5 · Gradient descent on a quadratic
#
# Let $H = \nabla^2 f$ ($= 2A$ in the article's form, $= Q$ in the convenient form) have
# eigenvalues $0 < \mu_{\min} \le \dots \le \mu_{\max}$, $\kappa = \mu_{\max}/\mu_{\min}$.
# Since $\nabla f(x) = H(x - x^*)$, the error $e_k = x_k - x^*$ of
# $x_{k+1} = x_k - \eta \nabla f(x_k)$ obeys
#
# $$e_{k+1} = (I - \eta H)\, e_k, \qquad e_{k,i} = (1 - \eta\mu_i)^k e_{0,i}
# \text{ in the eigenbasis.} \tag{5.1}$$
#
# The rate $\max_i |1 - \eta\mu_i|$ is smallest when the two extreme factors balance,
# $1 - \eta\mu_{\min} = -(1 - \eta\mu_{\max})$:
#
# $$\eta^* = \frac{2}{\mu_{\min} + \mu_{\max}}, \qquad
# \text{rate } \frac{\kappa - 1}{\kappa + 1}. \tag{5.2}$$

# %% [markdown] slideshow={"slide_type": "notes"}
# **Notes for §5.** Ask the room which step size they would pick; "a smaller step is always
# safer" is the usual answer. Gradient descent is stable only for $\eta < 2/\mu_{\max}$ of the
# *Hessian* ($2A$ in the article's form, so $\eta < 1/\lambda_{\max}(A)$), and below $\eta^*$ a
# smaller step is slower, not safer: the best rate depends on $\kappa$ alone. Then ask which
# eigenvalues decide the zig-zag in a narrow valley (discussion question 1). The check measures
# the rate for several $\kappa$ and asserts agreement with (5.2) within 10 %.

# %% slideshow={"slide_type": "skip"}
display(show_source(gradient_descent_iterates, "gd"))
display(viz.step_size_figure(1.0, 10.0))

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (5.1).** The iterates of the library's loop equal the eigenbasis formula.

# %% slideshow={"slide_type": "skip"}
H, mu = random_spd(12, 30.0, generator=gen)
p12 = torch.randn(12, generator=gen, dtype=F64)
f12 = QuadraticForm.from_half_form(H, p12)
x_star12 = torch.linalg.solve(H, p12)
x0 = torch.randn(12, generator=gen, dtype=F64)
lam_h, V = torch.linalg.eigh(f12.hessian())
hist = gradient_descent(f12, x0, 0.05, 20)
for k in (1, 5, 20):
    predicted = V @ ((1 - 0.05 * lam_h) ** k * (V.T @ (x0 - x_star12)))
    assert_close(hist[k] - x_star12, predicted, atol=1e-12, label=f"e_{k} vs (1 - ημ)^k")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check (5.2): measured rates.** Random SPD matrices with chosen $\kappa$ and random starts;
# the rate is measured from the tail of the error sequence as the geometric mean of
# $\|e_{k+1}\|/\|e_k\|$ over the second half of the run, and must be within 10 % of
# $(\kappa-1)/(\kappa+1)$.


# %%
def run_rate(kappa, method):
    """Measured and predicted rates on a random SPD problem with condition number kappa."""
    H, mu = random_spd(N_RATE, kappa, generator=gen)
    p_vec = torch.randn(N_RATE, generator=gen, dtype=F64)
    form = QuadraticForm.from_half_form(H, p_vec)
    x_opt = torch.linalg.solve(H, p_vec)
    start = torch.randn(N_RATE, generator=gen, dtype=F64)
    if method == "gd":
        rho = gd_rate(kappa)
        steps = int(math.log(1e-10) / math.log(rho))
        hist = gradient_descent(form, start, gd_optimal_step(1.0, kappa), steps)
    else:
        rho = heavy_ball_rate(kappa)
        steps = int(math.log(1e-10) / math.log(rho))
        hist = heavy_ball(form, start, *heavy_ball_parameters(1.0, kappa), steps)
    return measured_rate((hist - x_opt).norm(dim=-1)), rho


for kappa in KAPPAS:
    measured, predicted = run_rate(kappa, "gd")
    print(f"GD, kappa = {kappa:6.0f}: measured {measured:.5f}, (κ-1)/(κ+1) = {predicted:.5f}")
    assert abs(measured / predicted - 1) < 0.10
    assert abs(math.log(measured) / math.log(predicted) - 1) < 0.10  # the exponent too

# %% [markdown] slideshow={"slide_type": "skip"}
# ## 6 · Heavy-ball momentum
#
# Polyak's heavy ball adds a fraction of the last step:
# $x_{k+1} = x_k - \alpha\nabla f(x_k) + \beta(x_k - x_{k-1})$. Per eigen-component,
#
# $$\begin{pmatrix} e_{k+1} \\ e_k \end{pmatrix} = T_\mu \begin{pmatrix} e_k \\ e_{k-1}
# \end{pmatrix}, \qquad T_\mu = \begin{pmatrix} 1 + \beta - \alpha\mu & -\beta \\ 1 & 0
# \end{pmatrix}. \tag{6.1}$$
#
# $T_\mu$'s eigenvalues solve $z^2 - (1 + \beta - \alpha\mu) z + \beta = 0$; when they are
# complex their modulus is $\sqrt\beta$ whatever $\mu$. Choosing $\alpha, \beta$ so that the
# discriminant vanishes exactly at $\mu_{\min}$ and $\mu_{\max}$ gives
#
# $$\alpha = \frac{4}{(\sqrt{\mu_{\max}} + \sqrt{\mu_{\min}})^2}, \quad
# \beta = \Big(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\Big)^2, \quad
# \text{rate } \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}. \tag{6.2}$$
#
# (At $\mu_{\min}, \mu_{\max}$ the matrix $T_\mu$ is a Jordan block, so the error carries an
# extra factor $k$: the rate is asymptotic, which is why we measure it on the tail.)

# %% slideshow={"slide_type": "skip"}
display(show_source(heavy_ball_iterates, "heavy-ball"))

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (6.2).** Two independent routes: the spectral radius of the $2\times2$ matrices
# $T_\mu$ (computed by `torch.linalg.eigvals` over the actual spectrum) and the measured
# rate, both against $(\sqrt\kappa - 1)/(\sqrt\kappa + 1)$.

# %% slideshow={"slide_type": "skip"}
alpha, beta = heavy_ball_parameters(float(mu[0]), float(mu[-1]))
assert_close(heavy_ball_rate_for(alpha, beta, mu), heavy_ball_rate(30.0), rtol=1e-6,
             label="spectral radius of T_mu vs (√κ-1)/(√κ+1)")  # fmt: skip
for kappa in KAPPAS:
    measured, predicted = run_rate(kappa, "hb")
    print(f"heavy ball, kappa = {kappa:6.0f}: measured {measured:.5f}, predicted {predicted:.5f}")
    assert abs(measured / predicted - 1) < 0.10
    assert abs(math.log(measured) / math.log(predicted) - 1) < 0.10
    assert predicted < gd_rate(kappa)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7 · Newton's method: one step
#
# Newton's step uses the Hessian: $x_{k+1} = x_k - H^{-1}\nabla f(x_k) = x_k - (x_k - x^*) =
# x^*$. On a quadratic the local model *is* the function, so one step lands on the
# minimum from any start. (7.1)
#
# **Check (7.1).** From eight random starts on an ill-conditioned problem ($\kappa = 10^4$).

# %% slideshow={"slide_type": "fragment"}
H4, _ = random_spd(20, 1e4, generator=gen)
p4 = torch.randn(20, generator=gen, dtype=F64)
f4 = QuadraticForm.from_half_form(H4, p4)
starts = torch.randn(8, 20, generator=gen, dtype=F64)
one_step = newton(f4, starts, 1)[1]
assert_close(one_step, torch.linalg.solve(H4, p4).expand(8, 20), rtol=1e-8, atol=1e-10,
             label="one Newton step vs solve(H, p)")  # fmt: skip

# %% [markdown] slideshow={"slide_type": "skip"}
# ## 8 · Conjugate gradients
#
# CG solves $Hx = p$ (i.e. $\nabla f = 0$) with directions that are $H$-conjugate
# ($d_i^\top H d_j = 0$): $r_0 = -\nabla f(x_0)$, $d_0 = r_0$ and
#
# $$\alpha_k = \frac{r_k^\top r_k}{d_k^\top H d_k},\; x_{k+1} = x_k + \alpha_k d_k,\;
# r_{k+1} = r_k - \alpha_k H d_k,\; d_{k+1} = r_{k+1} + \frac{r_{k+1}^\top r_{k+1}}{r_k^\top r_k} d_k.
# \tag{8.1}$$
#
# $x_k$ minimises $f$ over $x_0 + \operatorname{span}(d_0, \dots, d_{k-1})$, so after $n$ steps
# it is $x^*$ (exact arithmetic). Its error is $e_k = P_k(H)e_0$ for the best polynomial of
# degree $k$ with $P_k(0) = 1$; a Chebyshev polynomial bounds it:
#
# $$\|e_k\|_H \le 2\Big(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\Big)^k \|e_0\|_H,
# \qquad \|e\|_H = \sqrt{e^\top H e}. \tag{8.2}$$

# %% slideshow={"slide_type": "skip"}
display(show_source(conjugate_gradient_iterates, "cg"))

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (8.1): at most $n$ steps.** In float64 with $n = 8$ distinct eigenvalues, the error
# is at rounding level after 8 steps, and not before.

# %% slideshow={"slide_type": "skip"}
H8, _ = random_spd(8, 50.0, spectrum="uniform", generator=gen)
p8 = torch.randn(8, generator=gen, dtype=F64)
f8 = QuadraticForm.from_half_form(H8, p8)
x8 = torch.linalg.solve(H8, p8)
x0_8 = torch.randn(8, generator=gen, dtype=F64)
rel = (conjugate_gradient(f8, x0_8, 8) - x8).norm(dim=-1) / (x0_8 - x8).norm()
print("relative error by step:", " ".join(f"{float(r):.1e}" for r in rel))
assert float(rel[8]) < 1e-10 and float(rel[7]) > 1e-4  # done at step n = 8, not before

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (8.2): the $\sqrt\kappa$ bound.** On a larger problem CG's energy-norm error stays
# below $2\rho^k$ at every step, and beats gradient descent by far.

# %% slideshow={"slide_type": "skip"}
kappa = 1000.0
H2, _ = random_spd(N_RATE * 4, kappa, generator=gen)
p2 = torch.randn(N_RATE * 4, generator=gen, dtype=F64)
f2 = QuadraticForm.from_half_form(H2, p2)
x2 = torch.linalg.solve(H2, p2)
x0_2 = torch.randn(N_RATE * 4, generator=gen, dtype=F64)
e = conjugate_gradient(f2, x0_2, 60) - x2
energy = ((e @ H2) * e).sum(-1).sqrt()
bound = torch.tensor([cg_error_bound(kappa, k) for k in range(61)], dtype=F64)
assert bool((energy / energy[0] <= bound * (1 + 1e-9)).all())
e_gd = gradient_descent(f2, x0_2, gd_optimal_step(1.0, kappa), 60) - x2
energy_gd = ((e_gd @ H2) * e_gd).sum(-1).sqrt()
print(f"after 60 steps: CG {float(energy[-1] / energy[0]):.1e}, bound {float(bound[-1]):.1e}, "
      f"GD {float(energy_gd[-1] / energy_gd[0]):.1e}")  # fmt: skip
assert float(energy[-1]) < 0.05 * float(energy_gd[-1])  # more than 20 times smaller

# %% [markdown] slideshow={"slide_type": "skip"}
# ### Widget (b): the optimiser race
# One quadratic with Hessian eigenvalues 1 and $\kappa$. Pick a method, scale the step
# relative to the best one, set the momentum. Dashed lines are the predicted rates
# $\rho^k\|e_0\|$ from (5.1) and (6.1) for the parameters you chose. Try a step above
# $2/\mu_{\max}$ (divergence), and momentum 0 (heavy ball becomes gradient descent).

# %% slideshow={"slide_type": "skip"}
# NBVAL_IGNORE_OUTPUT
viz.race_widget()

# %% [markdown] slideshow={"slide_type": "skip"}
# The static version, all four methods at their best parameters ($\kappa = 10$): Newton
# lands in one step, CG in two ($n = 2$), heavy ball beats gradient descent.

# %% slideshow={"slide_type": "skip"}
display(viz.race_figure("all", kappa=10.0, n_steps=40))
race_form, race_star, race_x0 = viz.race_problem(10.0)
assert_close(conjugate_gradient(race_form, race_x0, 2)[2], race_star, atol=1e-12, rtol=0,
             label="CG on the race problem after n = 2 steps")  # fmt: skip
assert math.isclose(gd_rate_for_step(gd_optimal_step(1.0, 10.0), [1.0, 10.0]), gd_rate(10.0))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 9 · Bridges to other chapters
#
# **A Gaussian's log-density is a quadratic form.** For $\mathcal N(m, \Sigma)$,
# $\log p(x) = -\tfrac12 (x - m)^\top\Sigma^{-1}(x - m) - \tfrac12\log\det(2\pi\Sigma)$, so
# $A = -\tfrac12\Sigma^{-1}$, $b = \Sigma^{-1}m$, the Hessian is $-\Sigma^{-1}$ and the maximum
# is at $m$. Chapter 05's Gaussian mixtures use exactly this (their scores are gradients of
# such forms). (9.1)
#
# **Least squares is a quadratic form.** $\|Xw - y\|^2 = w^\top X^\top X w - 2y^\top X w +
# y^\top y$: $A = X^\top X$, $b = -2X^\top y$, $c = y^\top y$, and $x^* = (X^\top X)^{-1}X^\top y$,
# the normal equations. Chapter 03 minimises it with SGD. (9.2)
#
# **Check (9.1)–(9.2)** against peer implementations: `torch.distributions` and
# `torch.linalg.lstsq`.

# %% slideshow={"slide_type": "skip"}
cov = m @ m.T + 0.3 * torch.eye(n, dtype=F64)
mean = torch.randn(n, generator=gen, dtype=F64)
gauss = gaussian_log_density_form(mean, cov)
mvn = torch.distributions.MultivariateNormal(mean, covariance_matrix=cov)
assert_close(gauss.value(xs), mvn.log_prob(xs), rtol=1e-10, label="log N(x; m, Σ) as a form")
assert_close(gauss.hessian(), -torch.linalg.inv(cov), rtol=1e-9, label="Hessian = -Σ⁻¹")
assert gauss.stationary().kind == "maximum"
assert_close(gauss.stationary().point, mean, rtol=1e-10, label="argmax = m")

X = torch.randn(60, n, generator=gen, dtype=F64)
y = torch.randn(60, generator=gen, dtype=F64)
ls = least_squares_form(X, y)
assert_close(ls.value(xs), ((xs @ X.T - y) ** 2).sum(-1), rtol=1e-10, label="‖Xw - y‖² as a form")
assert_close(ls.stationary_point(), torch.linalg.lstsq(X, y[:, None]).solution[:, 0], rtol=1e-9,
             label="normal equations vs lstsq")  # fmt: skip

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# Each exercise ends in `check(id, answer)`, which says whether your answer is right and,
# when it recognises the mistake, its kind (sign, factor of two, off by one, not an integer);
# it never shows the expected value. Each prompt states the answer's form and precision.
# Stuck? `hint("02.1")` prints a first hint; call it again for the next, more explicit one.
# Replace `None` with your answer. Worked solutions: `solutions/02_quadratic_forms_solutions.ipynb`.
#
# **02.1** Write $f(x) = 3x_1^2 + 4x_1x_2 - x_2^2$ as $x^\top A x$ with $A$ symmetric.
# Answer: an array of shape (2, 2) of floats, to 6 significant digits.

# %%
answer = None
check("02.1", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **02.2** For $f(x) = x^\top A x + b^\top x + c$ (the article's form) with $A$ symmetric
# positive definite with eigenvalues 1 and 9, what fixed step $\eta$ makes gradient descent
# converge fastest? (A derivation result: mind which matrix is the Hessian.)
# Answer: a float, to 6 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("02.2", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **02.3** A Hessian's eigenvalues lie between 2 and 200. Give the per-iteration contraction
# factors of gradient descent with its best step and of heavy ball with its best parameters,
# as `[gd, heavy_ball]`.
# Answer: a vector of 2 floats, to 6 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("02.3", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **02.4** A degenerate case. $f(x) = x^\top A x + b^\top x$ in $\mathbb R^3$ with
# $A = \begin{pmatrix} 1 & -1 & 0 \\ -1 & 1 & 0 \\ 0 & 0 & 0\end{pmatrix}$. Give the dimension
# of the set of stationary points for $b = (2, -2, 0)$ and for $b = (2, 0, 0)$, as
# `[dim1, dim2]`; write $-1$ where there is no stationary point.
# Answer: a vector of 2 integers.

# %% slideshow={"slide_type": "skip"}
answer = None
check("02.4", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **02.5** Write `grad(a, b, x)` returning the gradient of $f(x) = x^\top a x + b^\top x$ at
# `x`, for a square matrix `a` that need **not** be symmetric (NumPy arrays in, a NumPy array
# out).
# Answer: a function grad(a, b, x) -> array of shape x.shape, to 9 significant digits.

# %% slideshow={"slide_type": "skip"}
grad = None
check("02.5", grad)

# %% [markdown] slideshow={"slide_type": "skip"}
# **02.6** An SPD Hessian in $\mathbb R^6$ has eigenvalues 1, 1, 1, 4, 4, 9. In exact
# arithmetic, after how many conjugate-gradient steps is the error zero from a generic start?
# Answer: an integer.

# %% slideshow={"slide_type": "skip"}
answer = None
check("02.6", answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# * Only the symmetric part of the coefficient matrix matters: $A = \tfrac12(M + M^\top)$.
# * $\nabla f = 2Ax + b$ and $\nabla^2 f = 2A$ for $x^\top Ax + b^\top x + c$; the convenient
#   form $\tfrac12x^\top Qx - p^\top x + c$ has $\nabla f = Qx - p$, $Q = 2A$, $p = -b$.
# * $x^* = -\tfrac12A^{-1}b$ and $f = (x - x^*)^\top A(x - x^*) + f(x^*)$: the signs of the
#   eigenvalues decide minimum, maximum or saddle; a singular $A$ gives a flat of stationary
#   points when $b \in \operatorname{range}(A)$ and none otherwise.
# * Gradient descent contracts by $(\kappa-1)/(\kappa+1)$ per step at its best step
#   $2/(\mu_{\min} + \mu_{\max})$ of the **Hessian's** eigenvalues; heavy ball by
#   $(\sqrt\kappa - 1)/(\sqrt\kappa + 1)$; Newton needs one step; CG at most $n$, with the
#   $\sqrt\kappa$ bound before that.
# * Gaussian log-densities and least squares are quadratic forms (Chapters 05 and 03).
#
# ## References
#
# * B. T. Polyak, *Some methods of speeding up the convergence of iteration methods*, USSR
#   Comput. Math. Math. Phys. 4(5), 1964 (heavy ball).
# * M. R. Hestenes, E. Stiefel, *Methods of conjugate gradients for solving linear systems*,
#   J. Res. Nat. Bur. Standards 49(6), 1952.
# * J. R. Shewchuk, *An Introduction to the Conjugate Gradient Method Without the Agonizing
#   Pain*, 1994 (quadratic forms, steepest descent, CG, the Chebyshev bound).
# * J. Nocedal, S. J. Wright, *Numerical Optimization*, 2nd ed., Springer 2006, chapters 2, 3, 5.
# * G. Strang, *Linear Algebra and Its Applications*, chapter 6 (positive definite matrices,
#   minima and saddles).
# * The seed article of this chapter (a Chinese blog post that starts from a multivariate
#   quadratic polynomial with coefficients $a_{ij}, b_k, c$) is not among the excerpts in
#   `shared/seeds/`; the chapter follows the derivation its issue describes.
