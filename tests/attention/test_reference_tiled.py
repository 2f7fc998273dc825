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
