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
# # Chapter 07 · FlashAttention: from online softmax to a Triton kernel
#
# Attention is $O = \mathrm{softmax}(QK^\top/\sqrt d)\,V$. Computed naively it writes two
# $N \times N$ matrices to memory, and for long sequences the GPU spends its time moving them,
# not computing. FlashAttention computes *exactly the same* $O$ without ever forming them:
# softmax can be computed online, chunk by chunk, so attention can be tiled into blocks that
# fit in on-chip memory.
#
# **Learning goals.** After this chapter you can
# 1. explain the memory wall of standard attention and measure it;
# 2. derive safe softmax and online softmax, and prove that any chunking gives the same result;
# 3. tile the forward pass (FlashAttention-2 order) and save only the log-sum-exp;
# 4. derive the backward pass ($dV$, $dP$, $dS = P\circ(dP-\Delta)$, $dQ$, $dK$) and check it;
# 5. count HBM traffic of standard vs tiled attention as a function of $N$, $d$, $M$, for both
#    loop orders, and check the counts against a replay of the loops;
# 6. pass an explicit attention mask (boolean or additive, as in PyTorch's SDPA);
# 7. read a Triton kernel top to bottom and run it (on a GPU, or on the CPU through Triton's interpreter).
#
# **Prerequisites.** Matrix calculus for softmax, PyTorch autograd, the idea of a GPU memory
# hierarchy (HBM vs on-chip SRAM).
#
# **Runtime.** Fast mode (`COURSE_FAST=1`, as in CI): about 30 s on a 2-core CPU; full mode
# (larger N) about 45 s. On a GPU the Triton kernel is compiled and runs natively instead of
# in the interpreter.
#
# **Mode.** The set-up cell prints the mode this run uses: *fast* on a CPU, *full* where a GPU
# is present. To switch, start JupyterLab with `COURSE_FAST=0 make lab` (full) or
# `COURSE_FAST=1 make lab` (fast), or run `%env COURSE_FAST=0` before the set-up cell.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
# Importing the kernel module first matters on a CPU-only machine: it sets TRITON_INTERPRET=1
# before anything imports triton, so the same kernels run in Triton's interpreter.
import math
import time
from itertools import pairwise

import torch
import torch.nn.functional as F
from IPython.display import Markdown, display

from course_lib import runtime
from course_lib.attention import (
    attention_flops,
    causal_mask,
    io_model_mismatches,
    online_softmax,
    online_softmax_states,
    replay_tiled_io,
    safe_softmax,
    standard_attention,
    standard_io,
    tiled_attention,
    tiled_attention_backward,
    tiled_attention_forward,
    tiled_block_sizes,
    tiled_io,
    viz,
)
from course_lib.attention.memory import peak_tensor_bytes
from course_lib.attention.triton_kernel import flash_attention, interpreter_active
from course_lib.checks import assert_close, check, hint  # noqa: F401
from course_lib.source import show_source

gen = runtime.seed_all(7)
DEVICE = runtime.device()
print(runtime.describe())
print("Triton interpreter (CPU):", interpreter_active())

# Sizes: small in fast mode (CI), larger in full mode.
NS_MEMORY = runtime.pick(fast=[128, 256, 512], full=[256, 512, 1024, 2048])
N_TRITON = runtime.pick(fast=96, full=256)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1 · Standard attention and its memory wall
#
# For one head with $Q, K, V \in \mathbb R^{N\times d}$:
#
# $$S = \frac{QK^\top}{\sqrt d}, \qquad P = \mathrm{softmax}(S)\ \text{(row-wise)}, \qquad O = PV. \tag{1.1}$$
#
# $S$ and $P$ have $N^2$ entries each. A standard implementation runs three kernels and
# round-trips both through HBM, the GPU's large but slow memory:
# read $Q,K$ and write $S$; read $S$ and write $P$; read $P, V$ and write $O$. That is
# $4Nd + 4N^2$ element transfers, $\Theta(Nd + N^2)$. The ratio of the $N^2$ terms to the $Nd$
# terms is $4N^2 / 4Nd = N/d$: for $N = 16\,384$ and $d = 64$ (computed below) the score
# matrices dominate by a factor of hundreds.

# %%
n_wall, d_wall = 16_384, 64
io_wall = standard_io(n_wall, d_wall)
quadratic_part = io_wall.total - 4 * n_wall * d_wall  # the S and P traffic, 4 N^2
print(
    f"N = {n_wall}, d = {d_wall}: N^2 terms / Nd terms = {quadratic_part / (4 * n_wall * d_wall):.0f} = N/d"
)
assert quadratic_part * d_wall == 4 * n_wall * d_wall * n_wall  # ratio N/d = 256 exactly


# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check (1.1) against PyTorch's `scaled_dot_product_attention`**, with and without the
# causal mask.

# %%
q, k, v = (torch.randn(2, 4, 200, 32, generator=gen, dtype=torch.float64) for _ in range(3))
for is_causal in (False, True):
    ours = standard_attention(q, k, v, is_causal=is_causal)
    sdpa = F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)
    assert_close(ours, sdpa, atol=1e-12, label=f"standard attention vs SDPA, is_causal={is_causal}")

# %% [markdown] slideshow={"slide_type": "skip"}
# **Explicit masks.** `attn_mask` follows SDPA's convention: a boolean mask is True where a
# query may attend a key, a floating mask is *added* to $S$ (so $-\infty$ masks, and a finite
# bias such as ALiBi shifts scores); it must broadcast to $(\dots, N_q, N_k)$. A query whose keys
# are all masked has no softmax: the library returns zeros (and zero, finite gradients), where
# SDPA gives NaN in older PyTorch versions and some backends. The check below compares on the
# other rows and shows the convention on the empty one.

# %% slideshow={"slide_type": "skip"}
keep = torch.rand(2, 1, 200, 200, generator=gen) > 0.3  # broadcast over the 4 heads
keep[0, 0, 5] = False  # query 5 of batch 0 sees no key
additive = torch.zeros(keep.shape, dtype=torch.float64).masked_fill(~keep, float("-inf"))
sdpa_m = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
rows_ok = keep.expand(2, 4, 200, 200).any(-1)
for name, mask in (("boolean", keep), ("additive", additive)):
    ours_m = standard_attention(q, k, v, attn_mask=mask)
    tiled_m, _ = tiled_attention_forward(q, k, v, attn_mask=mask, block_q=64, block_k=48)
    for impl, o_m in (("standard", ours_m), ("tiled", tiled_m)):
        assert_close(
            o_m[rows_ok], sdpa_m[rows_ok], atol=1e-12, label=f"{impl}, {name} mask vs SDPA"
        )
        assert (o_m[0, :, 5] == 0).all()  # the fully masked row gives zeros, not NaN
print(
    f"SDPA on the fully masked row: {'NaN' if sdpa_m[0, 0, 5].isnan().any() else 'zeros'}; ours: zeros"
)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Measured: peak memory grows like $N^2$.** `peak_tensor_bytes` counts the bytes of live
# tensors an operation creates (PyTorch has no peak-memory counter on the CPU; on a GPU
# `torch.cuda.max_memory_allocated` does this job).

# %%
mem_standard = {}
for n in NS_MEMORY:
    qn, kn, vn = (torch.randn(1, 4, n, 64, generator=gen) for _ in range(3))
    _, peak = peak_tensor_bytes(standard_attention, qn, kn, vn)
    mem_standard[n] = peak
    print(
        f"N = {n:5d}: peak {peak / 2**20:7.2f} MiB = {peak / (4 * 4 * n * n):.2f} x (4 heads x N^2 fp32)"
    )
ns = sorted(mem_standard)
ratios = [mem_standard[b] / mem_standard[a] for a, b in pairwise(ns)]
assert all(3.6 < r < 4.4 for r in ratios), ratios  # doubling N quadruples the memory

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2 · Safe softmax and online softmax
#
# $e^{x}$ overflows float32 for $x > 88$. Subtracting the row maximum changes nothing
# mathematically and keeps every exponent $\le 0$:
#
# $$\mathrm{softmax}(x)_j = \frac{e^{x_j - m}}{\sum_i e^{x_i - m}}, \qquad m = \max_i x_i. \tag{2.1}$$
#
# **Online softmax.** Process $x$ in chunks, keeping a running max $m$ and a running sum
# $\ell = \sum_{\text{seen}} e^{x_i - m}$. When a chunk $c$ arrives, the old sum was taken
# relative to the old max, so it is rescaled:
#
# $$m' = \max\!\big(m, \max_j c_j\big), \qquad \ell' = \ell\, e^{m - m'} + \sum_j e^{c_j - m'}. \tag{2.2}$$
#
# By induction, after the last chunk $m = \max_i x_i$ and $\ell = \sum_i e^{x_i - m}$ — for
# *any* split. The same rescaling applies to a running output
# $o = \sum_{\text{seen}} e^{x_j - m} v_j$, so attention needs only one pass over $K, V$:
#
# $$o' = o\, e^{m - m'} + \sum_j e^{c_j - m'} v_j, \qquad O = o / \ell. \tag{2.3}$$
#
# A row whose scores are all $-\infty$ (fully masked) has no softmax; we return zeros, and
# the code shifts such rows by 0 instead of computing $(-\infty) - (-\infty) = \mathrm{NaN}$.

# %%
x = torch.tensor([1000.0, 1001.0, 999.0])
print("naive exp overflows:", torch.exp(x) / torch.exp(x).sum())
assert_close(
    safe_softmax(x), torch.softmax(x.double(), dim=0), rtol=1e-6, label="safe softmax (2.1)"
)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check (2.2)–(2.3): any chunking gives the exact softmax.** Random rows, random splits,
# including $-\infty$ entries and fully masked rows. (The unit tests run the same property
# with hypothesis over hundreds of random cases.)

# %%
g = torch.Generator().manual_seed(0)
for trial in range(200):
    n = int(torch.randint(1, 50, (1,), generator=g))
    row = 5 * torch.randn(n, generator=g, dtype=torch.float64)
    row[torch.rand(n, generator=g) < 0.2] = float("-inf")
    if trial % 25 == 0:
        row[:] = float("-inf")  # fully masked
    cuts = sorted(torch.randint(0, n + 1, (3,), generator=g).tolist())
    sizes = [b - a for a, b in pairwise([0, *cuts, n])]
    got = online_softmax(row, sizes)
    assert not torch.isnan(got).any()
    expected = torch.zeros_like(row) if torch.isneginf(row).all() else torch.softmax(row, 0)
    assert torch.allclose(got, expected, rtol=1e-12, atol=1e-15), (row, sizes)
v_row = torch.randn(40, 3, generator=g, dtype=torch.float64)
x_row = torch.randn(40, generator=g, dtype=torch.float64)
*_, state = online_softmax_states(x_row, 7, v_row)
assert_close(
    state.normalised(), torch.softmax(x_row, 0) @ v_row, rtol=1e-12, label="online output (2.3)"
)
print("200 random rows: online softmax = softmax for every split; masked rows give zeros")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Widget (a): online-softmax stepper
# Step through the chunks: the running max only moves up, the log-sum-exp $m + \log \ell$
# grows, and the partial output $o/\ell$ converges to the exact $\mathrm{softmax}(x)V$ at the
# last chunk.

# %%
# NBVAL_IGNORE_OUTPUT
viz.online_softmax_widget(n=24, chunk=6)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3 · Tiling the forward pass
#
# Split $Q$ into row blocks $Q_i$ (outer loop) and $K, V$ into blocks $K_j, V_j$ (inner loop:
# the FlashAttention-2 order). For each $Q_i$, keep $m, \ell, o$ per row and apply (2.2)–(2.3)
# with $c = S_{ij} = Q_i K_j^\top/\sqrt d$:
#
# $$m' = \max(m, \mathrm{rowmax}\, S_{ij}),\quad \tilde P_{ij} = e^{S_{ij} - m'},\quad
#   \ell' = e^{m-m'}\ell + \mathrm{rowsum}\,\tilde P_{ij},\quad o' = e^{m-m'} o + \tilde P_{ij} V_j. \tag{3.1}$$
#
# At the end $O_i = o/\ell$, and we save one number per row, the log-sum-exp
# $L_i = m + \log \ell$: the backward pass rebuilds $P$ from it. Here is the inner loop of
# `tiled_attention_forward`, read from the library (with the causal mask and the guard for
# fully masked rows that the formulas above leave out):

# %% slideshow={"slide_type": "skip"}
show_source(tiled_attention_forward, "online-softmax")

# %%
for is_causal in (False, True):
    for n, bq, bk in [(200, 64, 32), (77, 16, 64)]:  # ragged: N not a multiple of the blocks
        qn, kn, vn = (
            torch.randn(1, 2, n, 32, generator=gen, dtype=torch.float64) for _ in range(3)
        )
        out, lse = tiled_attention_forward(qn, kn, vn, is_causal=is_causal, block_q=bq, block_k=bk)
        s = qn @ kn.transpose(-2, -1) / math.sqrt(32)
        if is_causal:
            s = s.masked_fill(~causal_mask(n, n), float("-inf"))
        assert_close(
            out,
            standard_attention(qn, kn, vn, is_causal=is_causal),
            atol=1e-12,
            label=f"tiled O, N={n}, blocks {bq}x{bk}, is_causal={is_causal}",
        )
        assert_close(lse, torch.logsumexp(s, -1), atol=1e-12, label="saved log-sum-exp L")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Measured: peak memory of the tiled pass grows like $N$.** Only blocks of size
# $B_r \times B_c$ and the $N \times d$ inputs and outputs exist.

# %%
mem_tiled = {}
for n in NS_MEMORY:
    qn, kn, vn = (torch.randn(1, 4, n, 64, generator=gen) for _ in range(3))
    _, mem_tiled[n] = peak_tensor_bytes(
        tiled_attention_forward, qn, kn, vn, block_q=128, block_k=128
    )
    print(
        f"N = {n:5d}: tiled peak {mem_tiled[n] / 2**20:6.2f} MiB   standard {mem_standard[n] / 2**20:7.2f} MiB"
    )
# peak = a + b N: each doubling of N adds twice the previous increase (for N^2 it is 4 times)
increases = [mem_tiled[b] - mem_tiled[a] for a, b in pairwise(ns)]
growth = [d2 / d1 for d1, d2 in pairwise(increases)]
print("growth of the increases:", [f"{g:.2f}" for g in growth])
assert all(1.8 < g < 2.2 for g in growth), growth  # linear in N
assert mem_tiled[ns[-1]] < mem_standard[ns[-1]] / 2

# %% [markdown] slideshow={"slide_type": "skip"}
# ### Widget (b): the tiling view
# Step through the tiles in FlashAttention-2 order. Left: the score matrix, with the tile on
# chip (red), the current query block (outlined) and the finished tiles; with `is_causal=True`
# the tiles above the diagonal are skipped entirely. Middle: the running max and log-sum-exp of
# the block's rows. Right: HBM bytes moved so far against standard attention's total.

# %% slideshow={"slide_type": "skip"}
# NBVAL_IGNORE_OUTPUT
viz.tiling_widget(n=64, d=16, block_q=16, block_k=16, is_causal=True)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4 · The backward pass
#
# With $dO = \partial\mathcal L/\partial O$: from $O = PV$, $dV = P^\top dO$ and $dP = dO\,V^\top$.
# Row-wise, $P_i = \mathrm{softmax}(S_i)$ has Jacobian $\mathrm{diag}(P_i) - P_i P_i^\top$, so
#
# $$dS_{ij} = P_{ij}\Big(dP_{ij} - \sum_k P_{ik}\, dP_{ik}\Big) = P_{ij}\,(dP_{ij} - \Delta_i),
#   \qquad \Delta_i = \sum_k P_{ik} dP_{ik} = dO_i \cdot O_i, \tag{4.1}$$
#
# the last step because $\sum_k P_{ik} dP_{ik} = \sum_k P_{ik}\, dO_i\cdot V_k = dO_i \cdot O_i$.
# Finally $dQ = dS\,K/\sqrt d$ and $dK = dS^\top Q/\sqrt d$. Nothing of size $N\times N$ is
# stored: each block recomputes $P_{ij} = e^{S_{ij} - L_i}$ from the saved log-sum-exp, and
# $\Delta$ is one number per row.

# %%
qn, kn, vn = (
    torch.randn(1, 2, 50, 16, generator=gen, dtype=torch.float64, requires_grad=True)
    for _ in range(3)
)
d_out = torch.randn(1, 2, 50, 16, generator=gen, dtype=torch.float64)
for is_causal in (False, True):
    ref = torch.autograd.grad(
        standard_attention(qn, kn, vn, is_causal=is_causal), (qn, kn, vn), d_out
    )
    out, lse = tiled_attention_forward(qn, kn, vn, is_causal=is_causal, block_q=16, block_k=16)
    ours = tiled_attention_backward(
        qn, kn, vn, out, lse, d_out, is_causal=is_causal, block_q=16, block_k=16
    )
    for name, a, b in zip(("dQ", "dK", "dV"), ours, ref, strict=True):
        assert_close(a, b, atol=1e-12, label=f"{name} by (4.1) vs autograd, is_causal={is_causal}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check with `gradcheck`.** The autograd wrapper `tiled_attention` must agree with finite
# differences in float64.

# %%
small = tuple(
    torch.randn(1, 1, 13, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    for _ in range(3)
)
assert torch.autograd.gradcheck(
    lambda a, b, c: tiled_attention(a, b, c, is_causal=True, block_q=4, block_k=3), small
)
print("gradcheck passed")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5 · IO complexity
#
# Standard attention moves $4Nd + 4N^2$ elements (section 1). The tiled pass, with on-chip
# memory $M$ (elements) and the FlashAttention paper's block sizes $B_c = \lceil M/4d\rceil$,
# $B_r = \min(B_c, d)$, has $T_r = \lceil N/B_r\rceil$ query blocks and $T_c = \lceil N/B_c\rceil$
# key blocks. Its traffic depends on the **loop order**:
#
# * **FlashAttention-2 order** (our loops: $Q_i$ outer, $K_j, V_j$ inner; $o, \ell, m$ stay on
#   chip): read $Q$ once, all of $K$ and $V$ once per query block, write $O$ and $L$ once,
#
# $$\text{reads } Nd + 2Nd\,T_r, \qquad \text{writes } Nd + N. \tag{5.2a}$$
#
# * **FlashAttention-1 order** ($K_j, V_j$ outer, $Q_i$ inner; $O, \ell, m$ live in HBM and are
#   read and written back for every key block): reads $2Nd + T_c(2Nd + 2N)$, writes
#   $(T_c + 1)(Nd + 2N)$. (5.2b)
#
# So (5.2b) $\approx 12N^2d^2/M = \Theta(N^2d^2/M)$ for $4d \le M \le 4Nd$. But (5.2a)
# $\approx 8N^2d^2/M$ only while $B_r = B_c < d$, i.e. $4d \le M < 4d^2$; from $M \ge 4d^2$ on,
# $B_r$ is capped at $d$ and the traffic is **flat at $\approx 2N^2$** however large $M$ is.
# (FlashAttention-2 kernels escape this by choosing $B_r$ freely, e.g. 128 rows.)
#
# **Check (5.2a)–(5.2b) against a replay.** `replay_tiled_io` walks the loops of either order
# block by block (ragged last blocks included) and adds up every element loaded and stored; the
# closed forms must equal it exactly on a grid of $N$ and $M$. (Unit tests show this comparison
# fails for $T_r = \lfloor N/B_r \rfloor$, for a forgotten initial write of $O, \ell, m$, and for a
# replay that drops one row.)

# %% slideshow={"slide_type": "skip"}
display(show_source(replay_tiled_io))
d_io = 64
m_grid = (
    4 * d_io,
    300,
    4 * d_io * 8,
    4 * d_io * d_io,
    4 * d_io * d_io + 7,
    100_000,
    4 * d_io * 4096,
)
assert io_model_mismatches(tiled_io, (1, 7, 100, 257, 4096), d_io, m_grid) == []
print(f"(5.2a) and (5.2b) equal the replayed counts for all {2 * 5 * len(m_grid)} cases")

# %% [markdown] slideshow={"slide_type": "notes"}
# **The ranges, from the replay.** $N = 4096$, $d = 64$ (so $4d^2 = 16\,384$):

# %% slideshow={"slide_type": "skip"}
n_io = 4096


def replayed(m: int, order: str) -> int:
    """HBM elements moved by the replayed loops with the paper's block sizes for memory M."""
    return replay_tiled_io(n_io, d_io, *tiled_block_sizes(d_io, m), order).total


rows = [
    f"| {m:,} | {tiled_block_sizes(d_io, m)} | {replayed(m, 'fa2'):,} | {replayed(m, 'fa1'):,} |"
    for m in (
        4 * d_io * 8,
        4 * d_io * 16,
        4 * d_io * 32,
        4 * d_io * d_io,
        8 * d_io * d_io,
        64 * d_io * d_io,
    )
]
display(
    Markdown("| M | (B_r, B_c) | FA-2 order | FA-1 order |\n|---|---|---|---|\n" + "\n".join(rows))
)
below = [replayed(4 * d_io * b, "fa2") for b in (8, 16, 32)]  # M < 4d^2: B_r = B_c < d
assert all(1.9 < a / b < 2.1 for a, b in pairwise(below))  # Theta(1/M): doubling M halves it
flat = {replayed(m, "fa2") for m in (4 * d_io * d_io, 8 * d_io * d_io, 64 * d_io * d_io)}
assert len(flat) == 1 and abs(flat.pop() / (2 * n_io**2) - 1) < 0.05  # flat at ~2 N^2
fa1 = [replayed(4 * d_io * b, "fa1") for b in (64, 128, 256)]  # M >= 4d^2, B_c << N
assert all(1.9 < a / b < 2.1 for a, b in pairwise(fa1))  # FA-1 order: still Theta(1/M)
assert (
    tiled_io(2 * n_io, d_io, 100_000).total / tiled_io(n_io, d_io, 100_000).total > 3.9
)  # Theta(N^2)
display(viz.io_memory_figure(n=n_io, d=d_io))
display(viz.io_figure(d=64, m=100_000))

# %% [markdown] slideshow={"slide_type": "skip"}
# **Relating counts to time.** On the CPU, memory traffic is not the bottleneck of our plain
# PyTorch tiled loop (Python overhead is), so the timing below only times standard attention:
# every size is warmed up first and the best of 5 runs is kept. On an idle machine the time
# grows roughly like $N^2$; on a shared CPU the numbers are noisy, so nothing here is asserted
# (performance is measured by `benchmarks/attention.py` on a GPU, where the saved traffic
# turns into speed).

# %% slideshow={"slide_type": "skip"}
times = {}
inputs = {n: tuple(torch.randn(1, 4, n, 64, generator=gen) for _ in range(3)) for n in NS_MEMORY}
for n in NS_MEMORY:  # warm up every size first: allocator, thread pool, caches
    for _ in range(2):
        standard_attention(*inputs[n])
for n in NS_MEMORY:
    runs = []
    for _ in range(5):  # the best of 5 runs: the least disturbed by other work on the machine
        start = time.perf_counter()
        standard_attention(*inputs[n])
        runs.append(time.perf_counter() - start)
    times[n] = min(runs)
    print(
        f"N = {n:5d}: standard attention {1e3 * times[n]:7.2f} ms,"
        f" {attention_flops(4, n, 64) / times[n] / 1e9:6.1f} GFLOP/s"
    )

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6 · The Triton kernel
#
# `course_lib/attention/triton_kernel.py` holds four kernels: the forward (one program per
# block of query rows, block sizes tuned per GPU architecture, looping over key blocks with
# (3.1), accumulating in fp32, with $e^x = 2^{x\log_2 e}$ and the log-sum-exp stored in log2
# units), a small preprocess kernel for $\Delta_i = \mathrm{rowsum}(dO_i \circ O_i)$, and the two
# backward kernels of FlashAttention-2: one program per key block accumulates $dK, dV$ (it
# computes $S^\top = K Q^\top$ directly, so $P^\top$ and $dS^\top$ feed the products without
# transposes), one per query block accumulates $dQ$, so no atomics are needed.
# `flash_attention(q, k, v, is_causal=..., scale=...)` has the call shape of
# `F.scaled_dot_product_attention` and is a `torch.autograd.Function`.
#
# **On a CPU-only machine** the kernels run in Triton's *interpreter* (`TRITON_INTERPRET=1`),
# which executes each program with NumPy, one after another: slow, so we keep $N$ small, and
# **bfloat16 is computed wrongly there**, so we use float32 (and float16). On a GPU the same
# call compiles the kernels and runs fp16/bf16 at full speed. Here is the forward kernel's
# inner loop, `_fwd_inner`: the kernel calls it twice, first without masks for the key blocks
# that lie wholly inside the sequence and left of the diagonal, then with masks for the rest.

# %% slideshow={"slide_type": "skip"}
from course_lib.attention import triton_kernel

show_source(triton_kernel._fwd_inner)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Check: the kernel against the reference, forward and backward, causal and not, with a
# length that is not a multiple of the block size.**

# %%
dtype = torch.float32 if interpreter_active() else torch.bfloat16
dev = "cpu" if interpreter_active() else DEVICE
tol = 2e-5 if dtype == torch.float32 else 2e-2
for is_causal in (False, True):
    qn, kn, vn = (
        torch.randn(1, 2, N_TRITON + 5, 64, generator=gen).to(dev, dtype).requires_grad_()
        for _ in range(3)
    )
    out = flash_attention(qn, kn, vn, is_causal=is_causal)
    d_out = torch.randn(out.shape, generator=gen).to(dev, dtype)
    grads = torch.autograd.grad(out, (qn, kn, vn), d_out)
    q64, k64, v64 = (t.detach().double().requires_grad_() for t in (qn, kn, vn))
    ref = standard_attention(q64, k64, v64, is_causal=is_causal)
    ref_grads = torch.autograd.grad(ref, (q64, k64, v64), d_out.double())
    assert_close(out, ref, atol=tol, rtol=0, label=f"Triton O ({dtype}, is_causal={is_causal})")
    for name, a, b in zip(("dQ", "dK", "dV"), grads, ref_grads, strict=True):
        assert_close(
            a, b, atol=4 * tol * max(1.0, b.abs().max().item()), rtol=0, label=f"Triton {name}"
        )

# %% [markdown] slideshow={"slide_type": "notes"}
# On a GPU, `python benchmarks/attention.py` measures TFLOP/s of this kernel and of PyTorch's
# own FlashAttention, memory-efficient and cuDNN backends in the same run (bf16, head dims 64
# and 128, $N$ from 1k to 16k, causal and not).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# Replace `None` with your answer; `check` tells you whether it is right (never the value
# itself), and `hint("07.1")` gives hints one at a time. Worked solutions:
# `solutions/07_flash_attention_solutions.ipynb`.
#
# **07.1** Standard attention for one head with $N = 4096$, $d = 64$: how many elements does it
# move between HBM and the chip (reads + writes)?
# Answer: an integer.

# %%
answer = None
check("07.1", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **07.2** Write `combine(m1, l1, m2, l2)` returning `(m, l)` for the union of two chunks whose
# online-softmax states are $(m_1, \ell_1)$ and $(m_2, \ell_2)$. (This is what lets a GPU split
# the key dimension across programs, as in FlashDecoding.)
# Answer: a function `combine(m1, l1, m2, l2) -> (m, l), a pair of floats`, to 9 significant
# digits.

# %% slideshow={"slide_type": "skip"}
combine = None
check("07.2", combine)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **07.3** Scores $x = [0.5, 2.0, -1.0, 3.0, 0.0, 4.5]$ are processed in chunks of 2. What is
# the running sum $\ell$ after the second chunk?
# Answer: a float, to 6 significant digits.

# %%
answer = None
check("07.3", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **07.4** How many bytes does the float32 score matrix $S$ take for batch 1, 16 heads and
# $N = 8192$?
# Answer: an integer.

# %% slideshow={"slide_type": "skip"}
answer = None
check("07.4", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **07.5** With on-chip memory $M = 49\,152$ elements and head dimension $d = 64$, which block
# sizes $(B_r, B_c)$ does the FlashAttention paper's rule give?
# Answer: a vector of 2 integers.

# %% slideshow={"slide_type": "skip"}
answer = None
check("07.5", answer)

# %% [markdown] slideshow={"slide_type": "skip"}
# **07.6** How many FLOPs does a causal attention forward take for $BH = 32$, $N = 2048$,
# $d = 128$ (count 2 FLOPs per multiply-add and ignore the softmax)?
# Answer: an integer.

# %% slideshow={"slide_type": "skip"}
answer = None
check("07.6", answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# * Standard attention is memory-bound: $S$ and $P$ cost $\Theta(N^2)$ memory and traffic.
# * Online softmax rescales a running sum when the running max changes; any chunking is exact,
#   and masked rows are handled without NaN.
# * Tiling with online softmax gives the exact output with $\Theta(N)$ memory; saving the
#   log-sum-exp lets the backward pass recompute $P$ block by block, with
#   $dS = P \circ (dP - \Delta)$, $\Delta = \mathrm{rowsum}(dO \circ O)$.
# * Masks follow SDPA's convention (boolean keep, or additive); a fully masked row gives zeros.
# * HBM traffic depends on the loop order: the FlashAttention-1 order moves $\Theta(N^2d^2/M)$
#   elements for $4d \le M \le 4Nd$; the FlashAttention-2 order with $B_r = \min(\lceil M/4d\rceil, d)$
#   does so only for $M < 4d^2$ and is flat at $\approx 2N^2$ beyond — both checked against a
#   replay of the loops.
# * The Triton kernel is the same algorithm with blocks in registers and shared memory; the
#   same source runs on the CPU interpreter for checking and on a GPU for speed.
#
# ## References
#
# * T. Dao, D. Y. Fu, S. Ermon, A. Rudra, C. Ré, "FlashAttention: Fast and Memory-Efficient
#   Exact Attention with IO-Awareness", NeurIPS 2022 (arXiv:2205.14135): Algorithm 1, Theorem 2.
# * T. Dao, "FlashAttention-2: Faster Attention with Better Parallelism and Work Partitioning",
#   ICLR 2024 (arXiv:2307.08691): the loop order and backward pass used here.
# * M. Milakov, N. Gimelshein, "Online normalizer calculation for softmax", 2018
#   (arXiv:1805.02867): online softmax (2.2).
# * M. N. Rabe, C. Staats, "Self-attention Does Not Need O(n²) Memory", 2021
#   (arXiv:2112.05682): chunked attention with running statistics.
# * A. Vaswani et al., "Attention Is All You Need", NeurIPS 2017: attention (1.1).
# * PyTorch documentation, `torch.nn.functional.scaled_dot_product_attention` (mask convention).
# * The chapter follows a Chinese blog series on FlashAttention; its excerpt is not among
#   `shared/seeds/`. The glossary maps its terms.
#
# **Glossary (中文 – English).** 注意力 attention · 自注意力 self-attention ·
# 分块 tiling · 在线softmax online softmax · 安全softmax safe softmax ·
# 显存 / 高带宽内存 HBM (GPU memory) · 片上内存 / 共享内存 on-chip SRAM / shared memory ·
# 访存 / IO复杂度 memory traffic / IO complexity · 重计算 recomputation ·
# 因果掩码 causal mask · 前向 / 反向传播 forward / backward pass · 核函数 kernel.
