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
# # Chapter 06a · Normalizing flows: from NICE to Glow
#
# A normalizing flow writes the data as an invertible, differentiable function of Gaussian
# noise. Because the map is invertible, the model's density is exact: the change-of-variables
# formula turns it into a Gaussian density times a Jacobian determinant. The whole art is to
# build maps whose inverse and determinant are cheap. This notebook follows that art from
# NICE (additive couplings) through RealNVP (affine couplings) to Glow (actnorm and invertible
# 1×1 convolutions), and checks **every layer's inverse and log-determinant against autograd's
# full Jacobian**.
#
# **Learning goals.** After this notebook you can
# 1. derive the change of variables and say why a general Jacobian determinant is too costly;
# 2. derive the log-dets of NICE's additive coupling and scaling, RealNVP's affine coupling
#    (with a soft clamp) and Glow's actnorm and LU-parameterised 1×1 convolution;
# 3. check a layer against brute force (`torch.func.jacrev` + `slogdet`);
# 4. train flows by maximum likelihood and compare their held-out NLL with the data's entropy;
# 5. dequantise discrete data and bound its discrete likelihood.
#
# **Prerequisites.** Chapter 05's toy mixtures (exact densities) and its training loop; the
# determinant of a triangular matrix; a little PyTorch.
#
# **Runtime.** Fast mode (`COURSE_FAST=1`, as in CI): about 60 s on a 2-core CPU (first run;
# trained models are cached, a re-run is faster). Full mode: a few minutes on a GPU (longer
# training, larger evaluation sets, the digits flow trained to convergence).
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
from course_lib.flows import (
    ActNorm,
    AdditiveCoupling,
    AffineCoupling,
    Flow,
    FlowConfig,
    InvertibleConv1x1,
    Scaling,
    dequantize,
    heldout_nll,
    jacobian_logdet,
    logdet_timing,
    make_flow,
    mixture_entropy,
    mixture_entropy_mc,
    standard_normal_log_prob,
    toy,
    train_flow,
    viz,
)
from course_lib.source import show_source

gen = runtime.seed_all(0)
DEVICE = runtime.device()
print(runtime.describe())

# Sizes: small in fast mode (CI), large in full mode. Nothing below edits them.
TRAIN_STEPS = runtime.pick(fast=300, full=4000)
N_LAYERS = runtime.pick(fast=4, full=8)
N_EVAL = runtime.pick(fast=2000, full=20_000)
DIGIT_STEPS = runtime.pick(fast=60, full=4000)
DIGIT_LAYERS = runtime.pick(fast=2, full=8)
TIMING_DIMS = runtime.pick(fast=[128, 256, 512, 1024], full=[256, 512, 1024, 2048])


def perturbed(module, seed, scale=0.5):
    """Move every parameter off its identity initialisation, so the checks see a generic layer."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return module


# %% [markdown] slideshow={"slide_type": "notes"}
# **Lecture plan (45 min; speaker notes, not projected).** The flows train once and are
# cached (`ONLY="06" make warm`). §1 change of variables and the cost of a determinant (8 min) ·
# §2 NICE's additive coupling (6) · §3 RealNVP's affine coupling (7) · §4 Glow: actnorm and the
# invertible 1×1 convolution (7) · §6 maximum likelihood against the entropy, widget (a) (10) ·
# exercise 06.1 live (4) · summary (3). Skipped: listings, the LU log-det check, §5 (permutations
# and the whole flow), widget (b), §7 (the digits; the notebook page shows the samples),
# exercises 06.2–06.5.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1 · Change of variables and the cost of a determinant
#
# Let $z = f(x)$ be invertible and differentiable, $z \sim p_Z$. Probability mass in a small
# volume is preserved, $p_X(x)\,|dx| = p_Z(z)\,|dz|$, and $|dz| = |\det \partial f/\partial x|\,|dx|$, so
#
# $$\log p_X(x) = \log p_Z(f(x)) + \log\left|\det \frac{\partial f}{\partial x}(x)\right|. \tag{1.1}$$
#
# A stack $f = f_L \circ \dots \circ f_1$ multiplies Jacobians, so the log-dets add (1.2), and
# $\log \mathcal N(z; 0, I) = -\tfrac12|z|^2 - \tfrac d2 \log 2\pi$ (1.3).
#
# **Check (1.1).** For $x = \mu + \sigma z$ in 1-D, $f(x) = (x - \mu)/\sigma$ has log-det
# $-\log\sigma$; (1.1) must give PyTorch's own $\mathcal N(\mu, \sigma^2)$ log-density.

# %%
mu, sigma = 1.5, 0.4
x = torch.linspace(-1, 4, 11, dtype=torch.float64)[:, None]
via_11 = standard_normal_log_prob((x - mu) / sigma) - math.log(sigma)
normal = torch.distributions.Normal(
    torch.tensor(mu, dtype=torch.float64), torch.tensor(sigma, dtype=torch.float64)
)
assert_close(via_11, normal.log_prob(x[:, 0]), label="(1.1) in 1-D")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Why not any network?** For a general $f$ on $\mathbb R^d$ the log-det needs the full
# Jacobian ($d$ backward passes) and an LU factorisation, $O(d^3)$ per sample (1.5). Below: the
# measured time of one `slogdet` against $d$; the check asserts the cost grows faster than
# $d^{1.5}$ between the two largest sizes (a cubic law predicts $d^3$). For an 8×8 image
# $d = 64$ is fine, for a 256×256×3 image $d \approx 2\times 10^5$ it is hopeless.

# %% slideshow={"slide_type": "fragment"}
times = logdet_timing(TIMING_DIMS, repeats=7)
for d, t in zip(TIMING_DIMS, times, strict=True):
    print(f"d = {d:5d}: slogdet {1e3 * t:8.3f} ms")
slope = math.log(times[-1] / times[-3]) / math.log(TIMING_DIMS[-1] / TIMING_DIMS[-3])
print(f"log-log slope between d = {TIMING_DIMS[-3]} and {TIMING_DIMS[-1]}: {slope:.2f}")
assert slope > 1.5, slope

# %% [markdown] slideshow={"slide_type": "skip"}
# The brute-force route is still our referee. `jacobian_logdet` computes the full Jacobian by
# autograd, one sample at a time, and its log-determinant:

# %% slideshow={"slide_type": "skip"}
display(show_source(jacobian_logdet))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2 · NICE: additive coupling and scaling
#
# Split $x = (x_a, x_b)$ and keep $x_a$:
#
# $$z_a = x_a, \qquad z_b = x_b + m(x_a). \tag{2.1}$$
#
# The Jacobian is $\begin{pmatrix} I & 0 \\ \partial m/\partial x_a & I\end{pmatrix}$, unit
# triangular: $\log|\det| = 0$ whatever the network $m$, and the inverse is
# $x_b = z_b - m(z_a)$. Volume-preserving layers cannot shrink or stretch, so NICE ends with a
# diagonal **scaling** $z = x\odot e^{s}$, $\log|\det| = \sum_i s_i$ (2.2).

# %% [markdown] slideshow={"slide_type": "notes"}
# **Notes for §2.** Two misconceptions. "Any network can be a flow layer": it must be
# invertible with a tractable Jacobian determinant; a coupling makes the Jacobian triangular, so
# the log-det is a sum over the diagonal instead of §1's full Jacobian and LU factorisation
# (discussion question 1). "Additive coupling cannot change volume, so NICE cannot fit
# densities": the final scaling layer carries the volume change (2.2).

# %% slideshow={"slide_type": "skip"}
display(show_source(AdditiveCoupling.forward, "additive"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check (2.1)-(2.2).** A coupling with random weights: autograd's Jacobian has log-det 0, the
# inverse recovers $x$; the scaling layer's log-det is $\sum s_i$ by brute force too.

# %%
torch.manual_seed(1)
additive = perturbed(AdditiveCoupling(4, parity=1, hidden=16).double(), 1)
scaling = perturbed(Scaling(4).double(), 2)
x = torch.randn(5, 4, generator=gen, dtype=torch.float64)
z, logdet = additive(x)
assert_close(
    jacobian_logdet(lambda u: additive(u)[0], x),
    torch.zeros(5),
    atol=1e-12,
    label="NICE log-det = 0",
)
assert_close(additive.inverse(z)[0], x, rtol=1e-12, label="NICE inverse")
assert_close(
    scaling(x)[1], jacobian_logdet(lambda u: scaling(u)[0], x), rtol=1e-10, label="scaling log-det"
)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3 · RealNVP: affine coupling with a soft clamp
#
# $$z_b = x_b \odot e^{s(x_a)} + t(x_a), \qquad \log|\det| = \textstyle\sum_i s_i(x_a). \tag{3.1}$$
#
# The Jacobian is again triangular, with diagonal $(1, \dots, 1, e^{s_1}, \dots)$. A raw
# network output $s$ can be huge: $e^{s}$ overflows, and the inverse
# $x_b = (z_b - t)\odot e^{-s}$ blows up. The **soft clamp**
# $s = c\tanh(s_{\rm raw}/c)$ keeps $|s| < c$ with slope 1 at 0 (3.2).

# %% slideshow={"slide_type": "skip"}
display(show_source(AffineCoupling.forward, "affine"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check (3.1)-(3.2).** Log-det and inverse against brute force; then inputs of size $10^4$:
# the clamped layer stays finite in both directions, the unclamped one with the same weights
# overflows in one of them.

# %%
torch.manual_seed(2)
affine = perturbed(AffineCoupling(4, hidden=16, clamp=2.0).double(), 3)
z, logdet = affine(x)
assert_close(logdet, jacobian_logdet(lambda u: affine(u)[0], x), rtol=1e-10, label="affine log-det")
assert_close(affine.inverse(z)[0], x, rtol=1e-10, label="affine inverse")

safe = perturbed(AffineCoupling(2, hidden=8, clamp=2.0), 0, 2.0)
raw = AffineCoupling(2, hidden=8, clamp=None)
raw.load_state_dict(safe.state_dict())
big = torch.tensor([[1e4, 1.0], [-1e4, -1.0], [3e4, 5e3]])
finite = lambda layer: bool(
    torch.isfinite(layer(big)[0]).all() and torch.isfinite(layer.inverse(big)[0]).all()
)  # noqa: E731
print("clamped finite:", finite(safe), "| unclamped finite:", finite(raw))
assert finite(safe) and not finite(raw)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4 · Glow: actnorm and the invertible 1×1 convolution
#
# **Actnorm** is a per-channel affine map $z = (x + b)\odot e^{g}$; on an image with $H\times W$
# pixels the log-det is $HW\sum_c g_c$. Its **data-dependent initialisation** sets $b = -$mean
# and $g = -\log$ std of the first batch, so training starts from whitened activations (4.1).
#
# The **1×1 convolution** mixes channels, $z = Wx$ at every pixel, $\log|\det| = HW\log|\det W|$.
# With $W = PL(U + \mathrm{diag}(\mathrm{sign}\cdot e^{\log|u|}))$ ($P$ fixed, $L$ unit lower,
# $U$ strictly upper triangular), $\log|\det W| = \sum_c \log|u_c|$: $O(C)$, and $W$ stays
# invertible for every parameter value (4.2). A 2-D point is a one-pixel image with 2 channels.

# %% slideshow={"slide_type": "skip"}
display(show_source(ActNorm.forward, "actnorm"), show_source(InvertibleConv1x1.forward, "invconv"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check (4.1).** After initialisation on a batch, the batch comes out with mean 0 and
# standard deviation 1 per channel, and the log-det is $-\sum_c \log \mathrm{std}_c$.

# %%
xb = 3.0 + torch.tensor([2.0, 0.5, 4.0], dtype=torch.float64) * torch.randn(
    4000, 3, generator=gen, dtype=torch.float64
)
actnorm = ActNorm(3).double()
zb, logdet = actnorm(xb)
assert_close(zb.mean(0), torch.zeros(3), atol=1e-10, label="actnorm mean")
assert_close(zb.std(0), torch.ones(3), atol=1e-5, label="actnorm std")
assert_close(logdet[0], -xb.std(0).log().sum(), atol=1e-5, label="actnorm log-det")

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (4.2).** On a 3-channel 2×3 image the LU log-det equals the brute-force log-det of the
# whole image map (18×18 Jacobian) and $HW\log|\det W|$ from `slogdet`; the inverse round-trips.

# %% slideshow={"slide_type": "skip"}
torch.manual_seed(3)
invconv = perturbed(InvertibleConv1x1(3).double(), 4, 0.3)
img = torch.randn(2, 3, 2, 3, generator=gen, dtype=torch.float64)
zi, logdet = invconv(img)
assert_close(
    logdet, jacobian_logdet(lambda u: invconv(u)[0], img), rtol=1e-10, label="1x1 conv vs jacrev"
)
assert_close(
    logdet[0],
    6 * torch.linalg.slogdet(invconv.weight())[1],
    rtol=1e-10,
    label="1x1 conv vs slogdet",
)
assert_close(invconv.inverse(zi)[0], img, rtol=1e-10, label="1x1 conv inverse")

# %% [markdown] slideshow={"slide_type": "skip"}
# ## 5 · Permutations and the whole flow
#
# A coupling leaves $x_a$ untouched, so consecutive couplings must change roles: NICE
# alternates the halves, RealNVP reverses the coordinates between couplings (a permutation,
# $\log|\det| = 0$, 5.1), Glow learns the mixing with the 1×1 convolution. The flow adds the
# layers' log-dets to the base log-density (1.2); sampling runs the inverses backwards (1.4).

# %% slideshow={"slide_type": "skip"}
display(show_source(Flow.log_prob, "log-prob"))

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check (1.2).** For each family with random weights, the summed log-det equals the
# brute-force log-det of the whole composed map, and the inverse recovers the input.

# %% slideshow={"slide_type": "skip"}
x3 = torch.randn(4, 3, generator=gen, dtype=torch.float64)
for family in ("nice", "realnvp", "glow"):
    flow = perturbed(make_flow(family, 3, 3, hidden=16, seed=5).double(), 6, 0.3)
    flow.initialize(torch.randn(256, 3, generator=gen, dtype=torch.float64))
    z, logdet = flow(x3)
    assert_close(
        logdet,
        jacobian_logdet(lambda u, f=flow: f(u)[0], x3),
        rtol=1e-9,
        atol=1e-10,
        label=f"{family} log-det",
    )
    assert_close(flow.inverse(z)[0], x3, rtol=1e-9, atol=1e-10, label=f"{family} inverse")

# %% [markdown] slideshow={"slide_type": "skip"}
# **Check: an untrained flow is its base.** Couplings start with a zero last layer, so an
# untrained NICE or RealNVP flow is the identity and its NLL is the Gaussian NLL
# $\tfrac12|x|^2 + \log 2\pi$ computed by hand.

# %% slideshow={"slide_type": "skip"}
pts = torch.tensor([[1.0, 2.0], [-0.5, 0.3], [0.0, 0.0]], dtype=torch.float64)
by_hand = 0.5 * (pts**2).sum(1) + math.log(2 * math.pi)
for family in ("nice", "realnvp"):
    assert_close(
        -make_flow(family, 2, 6).double().log_prob(pts), by_hand, label=f"untrained {family}"
    )

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6 · Maximum likelihood on 2-D toys, against the entropy
#
# Training minimises the NLL $\mathbb E_{p}[-\log q_\theta(x)] = H(p) + \mathrm{KL}(p\,\|\,q_\theta)$
# (8.1): no model can beat the data's **entropy** $H(p) = -\mathbb E_p \log p$ (6.1), and the
# gap is the KL divergence in nats. The course's toys are Gaussian mixtures with exact
# densities, so $H(p)$ is computable: by quadrature on a fine grid, checked here against
# Monte Carlo.

# %%
data = "toy_mixture"
mix = toy(data)
H = mixture_entropy(mix)
h_mc, h_se = mixture_entropy_mc(mix, 100_000, generator=gen)
assert_within_se(h_mc, H, h_se, label=f"H({data}) grid vs Monte Carlo")

# %% [markdown] slideshow={"slide_type": "skip"}
# The flows train with Chapter 05's loop (progress bar, Ctrl-C keeps the model, a checksummed
# cache keyed by the config): `train_flow` hands it this loss.

# %% slideshow={"slide_type": "skip"}
display(show_source(train_flow, "mle-loss"))

# %%
results = {}
for family in ("nice", "realnvp", "glow"):
    cfg = FlowConfig(family=family, data=data, n_layers=N_LAYERS, steps=TRAIN_STEPS)
    model = train_flow(cfg, device=DEVICE).model.cpu()
    results[family] = (model, *heldout_nll(model, mix, N_EVAL))
identity_nll = heldout_nll(make_flow("realnvp", 2, 1).double(), mix, N_EVAL)[0]
print(f"entropy H = {H:.3f} nats; untrained (identity) flow NLL = {identity_nll:.3f}")
for family, (_, nll, se) in results.items():
    print(f"{family:8s} held-out NLL {nll:.3f} ± {se:.3f}  gap {nll - H:+.3f} nats")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check (8.1).** Every held-out NLL is at least the entropy (up to 4 standard errors: the KL
# is never negative) and every trained flow has learned something: it beats the untrained
# flow by more than half a nat.

# %% slideshow={"slide_type": "fragment"}
for family, (_, nll, se) in results.items():
    assert nll > H - 4 * se, (family, nll, H)
    assert nll < identity_nll - 0.5, (family, nll, identity_nll)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Widget (a): a Gaussian deforming into the data, layer by layer
#
# Base samples $z \sim \mathcal N(0, I)$ (coloured by their angle) pushed back through the
# trained RealNVP's inverse layers one at a time; the title shows the running mean log-det,
# the grey lines the exact data density.

# %% slideshow={"slide_type": "skip"}
display(viz.layer_by_layer_figure(results["realnvp"][0], len(results["realnvp"][0].layers), mix))

# %%
# NBVAL_IGNORE_OUTPUT
viz.layer_by_layer_widget(results["realnvp"][0], mix)

# %% [markdown] slideshow={"slide_type": "skip"}
# ### Widget (b): density explorer
#
# Family and number of layers → the learned density beside the exact one, with the held-out
# NLL against the entropy. Each new choice trains once (a few seconds in fast mode), then
# comes from the cache.

# %% slideshow={"slide_type": "skip"}
display(viz.density_figure("glow", data, N_LAYERS, steps=TRAIN_STEPS, n_eval=N_EVAL))

# %% slideshow={"slide_type": "skip"}
# NBVAL_IGNORE_OUTPUT
viz.density_explorer_widget(
    steps=TRAIN_STEPS, n_layers=N_LAYERS, n_eval=runtime.pick(fast=500, full=5000)
)

# %% [markdown] slideshow={"slide_type": "skip"}
# ## 7 · Dequantisation and the 8×8 digits
#
# Pixels are discrete, $v \in \{0,\dots,16\}^{64}$: a density model can put infinite density on
# a grid of points. Uniform dequantisation $y = \mathrm{low} + (\mathrm{high}-\mathrm{low})(v + u)/n$,
# $u \sim U[0,1)^d$, spreads each level over a bin, and by Jensen's inequality
#
# $$\log P(v) = \log\int_{\mathrm{bin}(v)} q(y)\,dy \ \ge\ \mathbb E_u[\log q(y)] + d\log\frac{\mathrm{high}-\mathrm{low}}{n}. \tag{6.2}$$
#
# **Check (6.2).** For a 1-D $\mathcal N(0,1)$ density and 5 bins on $[-2, 2)$ the exact bin
# masses (from the CDF) lie above the Monte Carlo bound, and close to it.

# %% slideshow={"slide_type": "skip"}
levels = torch.arange(5, dtype=torch.float64)[:, None].repeat(20_000, 1)
y, log_vol = dequantize(levels, 5, low=-2.0, high=2.0, generator=gen)
normal = torch.distributions.Normal(0.0, 1.0)
edges = torch.linspace(-2, 2, 6, dtype=torch.float64)
log_mass = (normal.cdf(edges[1:]) - normal.cdf(edges[:-1])).log()
bounds = torch.stack([normal.log_prob(y[levels[:, 0] == k]).mean() for k in range(5)]) + log_vol
print("log P(v):", log_mass.numpy().round(4), "\nbound:   ", bounds.numpy().round(4))
assert torch.all(bounds <= log_mass + 1e-3) and torch.all(bounds > log_mass - 0.2)

# %% [markdown] slideshow={"slide_type": "skip"}
# A Glow flow on the 64-dimensional dequantised digits (a short run in fast mode, a long one in
# full mode). Its loss is the continuous NLL; (6.2) turns it into a bound on the discrete NLL,
# reported in bits per pixel.

# %% slideshow={"slide_type": "skip"}
cfg_digits = FlowConfig(
    family="glow", data="digits", n_layers=DIGIT_LAYERS, hidden=128, steps=DIGIT_STEPS, lr=1e-3
)
digits_run = train_flow(cfg_digits, device=DEVICE)
digits_flow = digits_run.model.cpu()
cont_nll = float(digits_run.losses[-20:].mean())
_, log_vol64 = dequantize(torch.zeros(1, 64), 17, low=-2.0, high=2.0)
bound_bits = (cont_nll - log_vol64) / (64 * math.log(2))
print(f"continuous NLL {cont_nll:.1f} nats/image -> discrete NLL <= {bound_bits:.3f} bits/pixel")
print(f"(uniform over 17 levels: {math.log2(17):.3f} bits/pixel)")
display(viz.digits_samples_figure(digits_flow, n=16))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# Each exercise ends in `check(id, answer)`, which says whether your answer is right and,
# where it recognises the mistake, what kind of mistake it is; it never shows the answer.
# Stuck? `hint("06.1")` prints a first hint; call it again for the next one.
#
# **06.1** An affine coupling (3.1) on $\mathbb R^4$ keeps $x_a = (x_1, x_2) = (0.4, -1.2)$ and
# maps $z_b = x_b \odot e^{s} + 0.7$ with $s = (\tanh(x_1 + x_2), \tanh(x_1 - x_2))$, no clamp.
# What is $\log|\det \partial z/\partial x|$ at this point?
# Answer: a float, to 4 significant digits.

# %%
answer = None
check("06.1", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **06.2** An untrained RealNVP flow on $\mathbb R^2$ (zero-initialised couplings) is evaluated
# at $x = (1.0, -2.0)$. What is its negative log-likelihood $-\log p(x)$ in nats?
# Answer: a float, to 5 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("06.2", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **06.3** A Glow 1×1 convolution with $W = \begin{pmatrix}2 & 1\\ 0.5 & 3\end{pmatrix}$ acts on a
# 2-channel 4×4 image. What log-det does it add per image?
# Answer: a float, to 5 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("06.3", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **06.4** Actnorm is initialised on a batch whose three features have standard deviations
# $(2, 0.5, 4)$. What log-det does it contribute per sample right after its data-dependent
# initialisation?
# Answer: a float, to 5 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("06.4", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **06.5** The 8×8 digits take 17 levels; dequantised to $[-2, 2)$ as in (6.2), a flow reaches a
# continuous NLL of 60.0 nats per image. What upper bound on the discrete NLL (nats per image)
# does (6.2) give?
# Answer: a float, to 5 significant digits.

# %% slideshow={"slide_type": "skip"}
answer = None
check("06.5", answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# * Change of variables (1.1): an exact density for any invertible map, at the price of a
#   log-determinant, $O(d^3)$ in general.
# * Couplings make the Jacobian triangular: NICE's additive coupling has log-det 0 (a scaling
#   layer restores volume changes), RealNVP's affine coupling has $\sum s$, kept safe by a
#   soft clamp; Glow adds actnorm and an LU-parameterised 1×1 convolution with $O(C)$ log-dets.
# * Every layer here matches autograd's full Jacobian and inverts exactly.
# * Maximum likelihood can only approach the data's entropy; the gap is a KL divergence.
# * Dequantisation turns discrete data into a density problem with a provable bound (6.2).
#
# Next, notebook 06b lets the number of layers go to infinity: continuous flows, and back to
# Chapter 05's flow matching.
#
# ## References
#
# * L. Dinh, D. Krueger, Y. Bengio. *NICE: Non-linear Independent Components Estimation*. ICLR
#   workshop 2015.
# * L. Dinh, J. Sohl-Dickstein, S. Bengio. *Density estimation using Real NVP*. ICLR 2017.
# * D. P. Kingma, P. Dhariwal. *Glow: Generative Flow with Invertible 1×1 Convolutions*.
#   NeurIPS 2018.
# * G. Papamakarios, E. Nalisnick, D. J. Rezende, S. Mohamed, B. Lakshminarayanan.
#   *Normalizing Flows for Probabilistic Modeling and Inference*. JMLR 2021.
# * L. Theis, A. van den Oord, M. Bethge. *A note on the evaluation of generative models*.
#   ICLR 2016 (dequantisation bound).
# * The seed articles on NICE and the flow family (Glow) that this chapter follows are not in
#   `shared/seeds/`; the derivations above follow the papers.
