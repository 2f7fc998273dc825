"""Safe/online softmax, standard attention and the tiled PyTorch passes."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.attention import (
    causal_mask,
    online_softmax,
    online_softmax_states,
    safe_softmax,
    standard_attention,
    tiled_attention,
    tiled_attention_backward,
    tiled_attention_forward,
)


def _qkv(*shape, dtype=torch.float64, seed=0, n_k=None):
    g = torch.Generator().manual_seed(seed)
    *lead, n, d = shape
    q = torch.randn(*lead, n, d, generator=g, dtype=dtype)
    k = torch.randn(*lead, n_k or n, d, generator=g, dtype=dtype)
    v = torch.randn(*lead, n_k or n, d, generator=g, dtype=dtype)
    return q, k, v


@st.composite
def rows_and_splits(draw):
    n = draw(st.integers(1, 40))
    values = draw(
        st.lists(st.one_of(st.floats(-30, 30), st.just(float("-inf"))), min_size=n, max_size=n)
    )
    if draw(st.booleans()):
        values = [float("-inf")] * n  # a fully masked row
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=6)))
    sizes = [b - a for a, b in zip([0, *cuts], [*cuts, n], strict=True)]
    return torch.tensor(values, dtype=torch.float64), sizes


@given(rows_and_splits())
@settings(max_examples=200, deadline=None)
def test_online_softmax_equals_softmax_for_any_split(case):
    x, sizes = case
    got = online_softmax(x, sizes)
    assert not torch.isnan(got).any()
    if torch.isneginf(x).all():
        assert (got == 0).all()  # fully masked row: zeros, not NaN
    else:
        assert torch.allclose(got, torch.softmax(x, dim=0), rtol=1e-12, atol=1e-15)
        assert math.isclose(got.sum().item(), 1.0, rel_tol=1e-12)


@given(rows_and_splits(), st.integers(1, 5))
@settings(max_examples=100, deadline=None)
def test_online_output_equals_softmax_times_v(case, d_v):
    x, sizes = case
    v = torch.randn(
        x.shape[0], d_v, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    *_, last = online_softmax_states(x, sizes, v)
    assert torch.allclose(last.normalised(), safe_softmax(x) @ v, rtol=1e-10, atol=1e-12)
    finite = x[~torch.isneginf(x)]
    if finite.numel():
        assert last.m.item() == finite.max().item()


def test_safe_softmax_survives_huge_scores():
    x = torch.tensor([1000.0, 1001.0, 999.0])
    assert torch.allclose(safe_softmax(x), torch.softmax(x.double(), 0).float())
    assert torch.isnan(torch.exp(x) / torch.exp(x).sum()).all()  # the naive formula overflows


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("n_q, n_k", [(37, 37), (16, 40), (40, 16)])
def test_standard_attention_matches_sdpa(causal, n_q, n_k):
    q, k, v = _qkv(2, 3, n_q, 8, n_k=n_k)
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    assert torch.allclose(standard_attention(q, k, v, is_causal=causal), expected, atol=1e-12)


def test_causal_mask_is_lower_triangular():
    assert torch.equal(causal_mask(4, 4), torch.ones(4, 4, dtype=torch.bool).tril())


def test_causal_mask_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_q must be >= 0, got -2"):
        causal_mask(-2, 3)
    with pytest.raises(TypeError, match="n_k must be an int, got float 3.0"):
        causal_mask(2, 3.0)
    assert causal_mask(0, 3).shape == (0, 3)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("n, bq, bk", [(64, 16, 16), (50, 16, 8), (33, 64, 7), (1, 4, 4)])
def test_tiled_forward_matches_standard_and_logsumexp(causal, n, bq, bk):
    q, k, v = _qkv(2, 2, n, 12)
    out, lse = tiled_attention_forward(q, k, v, is_causal=causal, block_q=bq, block_k=bk)
    o_ref, _ = standard_attention(q, k, v, is_causal=causal, return_probs=True)
    assert torch.allclose(out, o_ref, atol=1e-12)
    s = q @ k.transpose(-2, -1) / math.sqrt(12)
    if causal:
        s = s.masked_fill(~causal_mask(n, n), float("-inf"))
    assert torch.allclose(lse, torch.logsumexp(s, dim=-1), atol=1e-12)


@pytest.mark.parametrize("causal", [False, True])
def test_tiled_backward_gradcheck(causal):
    q, k, v = (t.requires_grad_() for t in _qkv(1, 2, 19, 6))
    fn = lambda a, b, c: tiled_attention(a, b, c, is_causal=causal, block_q=8, block_k=5)
    assert torch.autograd.gradcheck(fn, (q, k, v))


def test_tiled_backward_matches_autograd_of_standard_attention():
    q, k, v = (t.requires_grad_() for t in _qkv(2, 2, 45, 10, n_k=45, seed=3))
    d_out = torch.randn(2, 2, 45, 10, dtype=torch.float64)
    ref = torch.autograd.grad(standard_attention(q, k, v, is_causal=True), (q, k, v), d_out)
    out, lse = tiled_attention_forward(q, k, v, is_causal=True, block_q=16, block_k=16)
    got = tiled_attention_backward(q, k, v, out, lse, d_out, is_causal=True, block_q=16, block_k=16)
    for a, b in zip(got, ref, strict=True):
        assert torch.allclose(a, b, atol=1e-11)


def test_tiled_half_precision_accumulates_in_fp32():
    q, k, v = _qkv(1, 1, 64, 16, dtype=torch.float32)
    out, lse = tiled_attention_forward(q.half(), k.half(), v.half(), block_q=16, block_k=16)
    assert out.dtype == torch.float16 and lse.dtype == torch.float32
    assert torch.allclose(out.float(), standard_attention(q, k, v), atol=2e-3)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda q, k, v: (q.float(), k, v), TypeError, "share one dtype"),
        (lambda q, k, v: (q, k[..., :5, :], v), ValueError, "same shape"),
        (lambda q, k, v: (q[..., :4], k, v), ValueError, "must agree except in N"),
        (lambda q, k, v: (q.long(), k.long(), v.long()), TypeError, "float16/bfloat16"),
        (lambda q, k, v: (q[0, 0, 0], k, v), ValueError, r"shape \(\.\.\., N, d\)"),
        (lambda q, k, v: ([1.0], k, v), TypeError, "torch.Tensor"),
    ],
)
def test_bad_inputs_raise_clear_errors(make, error, match):
    q, k, v = make(*_qkv(1, 2, 8, 6))
    with pytest.raises(error, match=match):
        standard_attention(q, k, v)
    with pytest.raises(error, match=match):
        tiled_attention_forward(q, k, v)


def test_bad_blocks_and_scale():
    q, k, v = _qkv(1, 1, 8, 4)
    with pytest.raises(ValueError, match="block_q must be >= 1, got 0"):
        tiled_attention_forward(q, k, v, block_q=0)
    with pytest.raises(TypeError, match="is_causal must be a bool, got int 1"):
        standard_attention(q, k, v, is_causal=1)
    with pytest.raises(TypeError, match="is_causal must be a bool, got str"):
        tiled_attention_forward(q, k, v, is_causal="yes")
    out, lse = tiled_attention_forward(q, k, v)
    with pytest.raises(
        ValueError, match=r"lse must have shape \(..., N_q\) = \(1, 1, 8\), got \(8,\)"
    ):
        tiled_attention_backward(q, k, v, out, lse[0, 0], out)
    with pytest.raises(TypeError, match="d_out must be a torch.Tensor, got NoneType"):
        tiled_attention_backward(q, k, v, out, lse, None)
    with pytest.raises(ValueError, match="block_k must be >= 1, got 0"):
        tiled_attention_backward(q, k, v, out, lse, out, block_k=0)
    with pytest.raises(TypeError, match="block_k must be an int, got float 4.0"):
        tiled_attention_forward(q, k, v, block_k=4.0)
    with pytest.raises(ValueError, match=r"scale must be a finite number in \(0, inf\), got -1.0"):
        standard_attention(q, k, v, scale=-1.0)
    with pytest.raises(TypeError, match="scale must be a real number"):
        standard_attention(q, k, v, scale="1")
    with pytest.raises(ValueError, match="chunk sizes must"):
        online_softmax(torch.zeros(4, dtype=torch.float64), [1, 2])


def _masks(n_q, n_k, seed=1):
    """A boolean mask (with two fully masked rows) and the equal additive float mask."""
    g = torch.Generator().manual_seed(seed)
    keep = torch.rand(2, 1, n_q, n_k, generator=g) > 0.4  # broadcast over the head dim
    keep[0, 0, 3] = False  # query row 3 of batch 0 sees no key
    keep[1, 0, -1] = False
    additive = torch.zeros(keep.shape, dtype=torch.float64).masked_fill(~keep, float("-inf"))
    return keep, additive


def _sdpa_zeroing_empty_rows(q, k, v, keep, **kw):
    """SDPA's output with fully masked rows set to zero, our convention.

    Depending on the PyTorch version and backend, SDPA gives NaN or 0 on a row whose keys are
    all masked; either is accepted there, and everywhere else SDPA's value is the reference.
    """
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=keep, **kw)
    empty = ~keep.expand(*q.shape[:-1], k.shape[-2]).any(-1, keepdim=True)
    on_empty = ref.masked_select(empty)
    assert (torch.isnan(on_empty) | (on_empty == 0)).all()
    assert not torch.isnan(ref.masked_select(~empty)).any()
    return torch.where(empty, 0.0, ref)


@pytest.mark.parametrize("n_q, n_k", [(37, 37), (20, 45)])
def test_attn_mask_bool_and_additive_match_sdpa(n_q, n_k):
    q, k, v = _qkv(2, 3, n_q, 8, n_k=n_k)
    keep, additive = _masks(n_q, n_k)
    ref = _sdpa_zeroing_empty_rows(q, k, v, keep)
    for mask in (keep, additive):
        torch.testing.assert_close(standard_attention(q, k, v, attn_mask=mask), ref)
        out, _ = tiled_attention_forward(q, k, v, attn_mask=mask, block_q=8, block_k=16)
        torch.testing.assert_close(out, ref)
    # a finite additive bias (ALiBi-like) is added to S exactly as SDPA does
    bias = torch.linspace(-2, 1, n_k, dtype=torch.float64).expand(n_q, n_k)
    ref_bias = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    torch.testing.assert_close(standard_attention(q, k, v, attn_mask=bias), ref_bias)
    torch.testing.assert_close(tiled_attention(q, k, v, attn_mask=bias, block_q=8), ref_bias)


def test_attn_mask_with_is_causal_matches_sdpa_on_the_combined_mask():
    q, k, v = _qkv(2, 3, 30, 8)
    keep, _ = _masks(30, 30, seed=3)
    both = keep & causal_mask(30, 30)  # SDPA refuses both at once; pass their intersection
    ref = _sdpa_zeroing_empty_rows(q, k, v, both)
    torch.testing.assert_close(standard_attention(q, k, v, attn_mask=keep, is_causal=True), ref)
    out, lse = tiled_attention_forward(
        q, k, v, attn_mask=keep, is_causal=True, block_q=7, block_k=5
    )
    torch.testing.assert_close(out, ref)
    assert torch.isneginf(lse[0, :, 3]).all()  # fully masked row: L = -inf


def test_attn_mask_gradients_are_finite_and_match_autograd():
    q, k, v = (t.requires_grad_() for t in _qkv(2, 3, 24, 8, seed=5))
    keep, additive = _masks(24, 24, seed=6)
    d_out = torch.randn(q.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    ref = torch.autograd.grad(standard_attention(q, k, v, attn_mask=keep), (q, k, v), d_out)
    assert all(torch.isfinite(g).all() for g in ref)
    assert (ref[0][0, :, 3] == 0).all()  # a query that sees nothing gets no gradient
    for mask in (keep, additive):
        ours = torch.autograd.grad(
            tiled_attention(q, k, v, attn_mask=mask, block_q=8, block_k=8), (q, k, v), d_out
        )
        for a, b in zip(ours, ref, strict=True):
            assert torch.isfinite(a).all()
            torch.testing.assert_close(a, b)
    small = tuple(t.detach()[:1, :1, :9, :3].clone().requires_grad_() for t in (q, k, v))
    assert torch.autograd.gradcheck(
        lambda a, b, c: tiled_attention(
            a, b, c, attn_mask=keep[:1, :, :9, :9], block_q=4, block_k=3
        ),
        small,
    )


def test_a_wrong_mask_convention_is_caught():
    """Planted error: reading the boolean mask as True = masked must fail the SDPA comparison."""
    q, k, v = _qkv(1, 2, 16, 8)
    keep, _ = _masks(16, 16)
    keep = keep[:1]
    ref = _sdpa_zeroing_empty_rows(q, k, v, keep)
    inverted = standard_attention(q, k, v, attn_mask=~keep)
    assert not torch.allclose(torch.nan_to_num(inverted), ref)


@pytest.mark.parametrize(
    "mask, error, match",
    [
        (torch.ones(4, 4, dtype=torch.int64), TypeError, "boolean .* or floating"),
        (torch.ones(3, 4, dtype=torch.bool), ValueError, "broadcast to"),
        (torch.full((4, 4), float("nan")), ValueError, "NaN or \\+inf"),
        ([[True]], TypeError, "torch.Tensor or None"),
    ],
)
def test_bad_attn_masks(mask, error, match):
    q, k, v = _qkv(1, 1, 4, 2)
    with pytest.raises(error, match=match):
        standard_attention(q, k, v, attn_mask=mask)
    with pytest.raises(error, match=match):
        tiled_attention_forward(q, k, v, attn_mask=mask)
