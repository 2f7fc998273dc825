"""Checks that fail on small wrong changes to Chapter 07's formulas (issue 16, mutation testing).

The truth here is always an independent route: ``torch.softmax`` of the scores written out
by hand, autograd through that expression, or IO counts worked out by hand for tiny sizes.
"""

import pytest
import torch

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
from course_lib.attention.io_model import (
    IOCount,
    attention_flops,
    io_model_mismatches,
    replay_tiled_io,
    standard_io,
    tile_schedule,
    tiled_block_sizes,
    tiled_io,
    tiled_traffic_after,
)
from course_lib.attention.reference import OnlineSoftmaxState


def _qkv(n_q, n_k, d, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(2, n_q, d, generator=g, dtype=dtype),
        torch.randn(2, n_k, d, generator=g, dtype=dtype),
        torch.randn(2, n_k, d, generator=g, dtype=dtype),
    )


def _truth(q, k, v, scale, causal=False, keep=None):
    s = q @ k.transpose(-2, -1) * scale
    if causal:
        s = s.masked_fill(torch.ones(s.shape[-2:], dtype=torch.bool).tril().logical_not(), -1e300)
    if keep is not None:
        s = s.masked_fill(~keep, -1e300)
    return torch.softmax(s, dim=-1) @ v


# ------------------------------------------------------------------- scale and causal flags


@pytest.mark.parametrize("causal", [False, True])
def test_callers_scale_is_used_forward_and_backward(causal):
    q, k, v = _qkv(11, 11, 4)
    scale = 0.9  # not 1/sqrt(4) = 0.5
    qs, ks, vs = (t.clone().requires_grad_() for t in (q, k, v))
    expected = _truth(qs, ks, vs, scale, causal)
    expected.sum().backward()
    qt, kt, vt = (t.clone().requires_grad_() for t in (q, k, v))
    got = tiled_attention(qt, kt, vt, is_causal=causal, scale=scale, block_q=4, block_k=3)
    torch.testing.assert_close(got, expected.detach(), rtol=1e-10, atol=1e-12)
    got.sum().backward()
    for mine, ref in ((qt, qs), (kt, ks), (vt, vs)):
        torch.testing.assert_close(mine.grad, ref.grad, rtol=1e-9, atol=1e-11)
    out, lse = tiled_attention_forward(q, k, v, is_causal=causal, scale=scale, block_q=4)
    torch.testing.assert_close(out, expected.detach(), rtol=1e-10, atol=1e-12)
    s = q @ k.transpose(-2, -1) * scale
    if causal:
        s = s.masked_fill(torch.ones(11, 11, dtype=torch.bool).tril().logical_not(), -torch.inf)
    torch.testing.assert_close(lse, torch.logsumexp(s, dim=-1), rtol=1e-12, atol=1e-12)
    ref = standard_attention(q, k, v, is_causal=causal, scale=scale)
    torch.testing.assert_close(ref, expected.detach(), rtol=1e-12, atol=1e-12)


def test_default_scale_is_one_over_sqrt_d():
    q, k, v = _qkv(6, 9, 16)
    expected = _truth(q, k, v, 0.25)
    torch.testing.assert_close(tiled_attention(q, k, v, block_q=4, block_k=4), expected)
    torch.testing.assert_close(standard_attention(q, k, v), expected)


def test_return_probs_gives_the_softmax_matrix():
    q, k, v = _qkv(5, 7, 3)
    o, p = standard_attention(q, k, v, return_probs=True, scale=0.7)
    torch.testing.assert_close(p, torch.softmax(q @ k.transpose(-2, -1) * 0.7, dim=-1))
    torch.testing.assert_close(o, p @ v)
    assert isinstance(standard_attention(q, k, v), torch.Tensor)


# ---------------------------------------------------------- extreme logits and masked rows


def test_extreme_logits_per_row_max():
    # row scores that differ by ~1000 between rows: a max shared by the block (not per row)
    # would underflow every exp of the low rows to 0 (exp(-1000) = 0 in float64)
    q, k, v = _qkv(8, 8, 4)
    q = q * torch.tensor([200.0, -200.0, 1.0, 300.0, -1.0, 0.0, 150.0, -150.0])[:, None]
    scale = 1.0
    expected = _truth(q, k, v, scale)
    for bq, bk in ((8, 8), (3, 2)):
        got = tiled_attention(q, k, v, scale=scale, block_q=bq, block_k=bk)
        assert torch.isfinite(got).all()
        torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(standard_attention(q, k, v, scale=scale), expected)
    x = torch.tensor([[1000.0, 999.0, -5.0], [-1000.0, -1001.0, -2000.0]], dtype=torch.float64)
    torch.testing.assert_close(online_softmax(x, 1), torch.softmax(x, -1))
    torch.testing.assert_close(safe_softmax(x), torch.softmax(x, -1))


@pytest.mark.parametrize("additive", [False, True])
def test_fully_masked_rows_give_zero_output_lse_and_gradients(additive):
    q, k, v = _qkv(7, 9, 4)
    keep = torch.rand(7, 9, generator=torch.Generator().manual_seed(2)) > 0.4
    keep[:, 0] = True
    keep[2] = False  # query 2 sees nothing
    keep[5] = False
    mask = (
        keep
        if not additive
        else torch.zeros(7, 9, dtype=torch.float64).masked_fill(~keep, -torch.inf)
    )
    out, lse = tiled_attention_forward(q, k, v, attn_mask=mask, block_q=3, block_k=4)
    assert (out[:, [2, 5]] == 0).all() and torch.isneginf(lse[:, [2, 5]]).all()
    rows = [0, 1, 3, 4, 6]
    expected = _truth(q, k, v, 0.5, keep=keep)
    torch.testing.assert_close(out[:, rows], expected[:, rows], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(standard_attention(q, k, v, attn_mask=mask), out)
    qt = q.clone().requires_grad_()
    tiled_attention(qt, k, v, attn_mask=mask, block_q=3, block_k=4).sum().backward()
    assert (qt.grad[:, [2, 5]] == 0).all() and torch.isfinite(qt.grad).all()
    assert qt.grad[:, rows].abs().sum() > 0


def test_fully_masked_rows_in_softmax_helpers():
    x = torch.tensor([[-torch.inf] * 4, [0.0, 1.0, -torch.inf, 2.0]], dtype=torch.float64)
    expected_row = torch.softmax(x[1], -1)
    for got in (safe_softmax(x), online_softmax(x, 3), online_softmax(x, [1, 0, 3])):
        assert (got[0] == 0).all()
        torch.testing.assert_close(got[1], expected_row)
    v = torch.arange(8, dtype=torch.float64).reshape(4, 2)
    *_, last = online_softmax_states(x, 2, v)
    assert (last.normalised()[0] == 0).all() and (last.l[0] == 0)
    torch.testing.assert_close(last.normalised()[1], expected_row @ v)


def test_online_softmax_chunk_checks_and_empty_rows():
    x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    torch.testing.assert_close(online_softmax(x, 1), torch.softmax(x, 0))
    states = list(online_softmax_states(x, 1))
    assert len(states) == 3 and states[0].m.item() == 0.5 and states[0].l.item() == 1.0
    assert online_softmax(torch.empty(2, 0, dtype=torch.float64), 3).shape == (2, 0)
    with pytest.raises(ValueError, match="chunk size must be >= 1, got 0"):
        online_softmax(x, 0)
    with pytest.raises(ValueError, match=r"chunk sizes must be >= 0 and sum to 3, got \[1, 1\]"):
        online_softmax(x, [1, 1])
    with pytest.raises(ValueError, match=r"sum to 3, got \[4, -1\]"):
        online_softmax(x, [4, -1])
    with pytest.raises(ValueError, match=r"v must have 3 rows \(one per score\), got shape"):
        next(online_softmax_states(x, 1, torch.zeros(2, 1)))
    for bad in (torch.tensor([1, 2]), [0.5]):
        with pytest.raises(TypeError, match="x must be a floating-point torch.Tensor"):
            safe_softmax(bad)
        with pytest.raises(TypeError, match="x must be a floating-point torch.Tensor"):
            next(online_softmax_states(bad, 1))
    with pytest.raises(ValueError, match="this state carries no output o"):
        OnlineSoftmaxState(m=x, l=x).normalised()


# ------------------------------------------------------------------------------ IO model


def test_io_count_bytes_and_total():
    c = IOCount(reads=10, writes=3)
    assert c.total == 13 and c.bytes() == 26 and c.bytes(4) == 52


def test_block_sizes_at_the_smallest_memory():
    assert tiled_block_sizes(8, 32) == (1, 1)  # M = 4d: one row and one column per block
    assert tiled_block_sizes(8, 33) == (2, 2)
    assert tiled_block_sizes(2, 400) == (2, 50)  # B_r is capped at d
    with pytest.raises(ValueError, match="M must hold at least 4 d = 32 elements, got 31"):
        tiled_block_sizes(8, 31)


def test_default_loop_order_is_fa2_and_not_causal():
    assert tiled_io(64, 8, 256) == tiled_io(64, 8, 256, "fa2")
    assert replay_tiled_io(10, 3, 4, 4) == replay_tiled_io(10, 3, 4, 4, "fa2", False)
    assert tile_schedule(5, 2, 2) == tile_schedule(5, 2, 2, False)
    assert io_model_mismatches(tiled_io, (7, 30), 4, (16, 64)) == []
    with pytest.raises(ValueError, match=r"loop_order must be one of \('fa2', 'fa1'\), got 'fa3'"):
        tiled_io(8, 2, 16, "fa3")


def test_replay_by_hand_for_tiny_sizes():
    # N = 4, d = 1, blocks of 2: worked out block by block
    # fa2: each query block reads Q_i (2) + K, V of the blocks it needs; writes 2 (d + 1)
    assert replay_tiled_io(4, 1, 2, 2, "fa2") == IOCount(reads=2 * (2 + 8), writes=8)
    assert replay_tiled_io(4, 1, 2, 2, "fa2", True) == IOCount(reads=(2 + 4) + (2 + 8), writes=8)
    # fa1: init 4 (d + 2) = 12; per K/V block 4 reads, per visited Q block 8 reads, 6 writes
    assert replay_tiled_io(4, 1, 2, 2, "fa1") == IOCount(reads=2 * (4 + 16), writes=12 + 24)
    assert replay_tiled_io(4, 1, 2, 2, "fa1", True) == IOCount(reads=(4 + 16) + (4 + 8), writes=30)
    # a ragged last block: N = 3, blocks of 2
    assert replay_tiled_io(3, 2, 2, 2, "fa2") == IOCount(reads=6 + 2 * 2 * 3 * 2, writes=9)


def test_tile_schedule_and_traffic_by_hand():
    assert tile_schedule(5, 2, 2, True) == [(0, 0), (1, 0), (1, 1), (2, 0), (2, 1), (2, 2)]
    assert tile_schedule(5, 2, 3) == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
    assert tile_schedule(4, 4, 1, True) == [(0, 0), (0, 1), (0, 2), (0, 3)]
    # n = 5, d = 3, blocks of 2 (non-causal: 3 x 3 steps)
    assert tiled_traffic_after(5, 3, 2, 2, 0) == IOCount(reads=2 * 3 + 2 * 2 * 3, writes=0)
    assert tiled_traffic_after(5, 3, 2, 2, 3) == IOCount(reads=4 * 3 + 2 * 7 * 3, writes=2 * 4)
    assert tiled_traffic_after(5, 3, 2, 2, 8) == IOCount(reads=5 * 3 + 2 * 15 * 3, writes=4 * 4)
    assert tiled_traffic_after(5, 3, 2, 2, 5, True) == IOCount(reads=15 + 2 * 11 * 3, writes=16)
    for bad in (-1, 9, True, 1.0):
        with pytest.raises(ValueError, match=r"step must be an int in \[0, 8\], got"):
            tiled_traffic_after(5, 3, 2, 2, bad)


def test_attention_flops_values():
    assert attention_flops(2, 8, 4) == 4 * 2 * 64 * 4
    assert attention_flops(2, 8, 4, is_causal=True) == 2 * 2 * 64 * 4
    with pytest.raises(ValueError, match="batch_heads must be >= 1, got 0"):
        attention_flops(0, 8, 4)


# ------------------------------------------- devices, rectangular masks, intermediate states


def test_everything_stays_on_the_requested_device():
    """On the "meta" device (shapes only, no GPU needed) no helper may build a CPU tensor.

    A causal mask made on the CPU cannot be applied to scores on another device, so a dropped
    ``device=`` fails here as it would on a GPU.
    """
    assert causal_mask(2, 3, device="meta").device.type == "meta"
    q = torch.empty(2, 5, 3, device="meta")
    keep = torch.empty(5, 5, dtype=torch.bool, device="meta")
    for causal in (False, True):
        out, p = standard_attention(q, q, q, is_causal=causal, attn_mask=keep, return_probs=True)
        assert out.device.type == p.device.type == "meta" and p.shape == (2, 5, 5)
        out, lse = tiled_attention_forward(
            q, q, q, is_causal=causal, attn_mask=keep, block_q=2, block_k=3
        )
        assert out.device.type == lse.device.type == "meta"
        grads = tiled_attention_backward(
            q, q, q, out, lse, out, is_causal=causal, attn_mask=keep, block_q=3, block_k=2
        )
        assert all(g.device.type == "meta" and g.shape == q.shape for g in grads)
    x = torch.empty(3, 4, device="meta")
    *_, last = online_softmax_states(x, 3, torch.empty(4, 2, device="meta"))
    assert last.o.device.type == last.l.device.type == last.m.device.type == "meta"
    assert safe_softmax(x).device.type == "meta"


def test_causal_mask_is_top_left_aligned_for_rectangles():
    """Query i sees keys j <= i, counted from the top-left corner (SDPA's is_causal)."""
    t, f = True, False
    assert causal_mask(2, 4).tolist() == [[t, f, f, f], [t, t, f, f]]
    assert causal_mask(3, 2).tolist() == [[t, f], [t, t], [t, t]]
    q, k, v = _qkv(3, 5, 2, seed=4)
    s = q @ k.transpose(-2, -1) * 0.6
    s = s.masked_fill(~torch.tensor([[t, f, f, f, f], [t, t, f, f, f], [t, t, t, f, f]]), -1e300)
    expected = torch.softmax(s, -1) @ v
    torch.testing.assert_close(standard_attention(q, k, v, is_causal=True, scale=0.6), expected)
    for bq, bk in ((1, 1), (2, 3), (3, 5)):
        out, _ = tiled_attention_forward(q, k, v, is_causal=True, scale=0.6, block_q=bq, block_k=bk)
        torch.testing.assert_close(out, expected)


def test_online_softmax_states_after_each_chunk_by_hand():
    """x = (1, 3, 2), chunks (2, 1), v = (10, 20, 40) as a column.

    after (1, 3): m = 3, l = e^-2 + 1, o = 10 e^-2 + 20;
    after (2):    m = 3, l = e^-2 + 1 + e^-1, o = 10 e^-2 + 20 + 40 e^-1.
    """
    e = torch.exp
    x = torch.tensor([1.0, 3.0, 2.0], dtype=torch.float64)
    v = torch.tensor([[10.0], [20.0], [40.0]], dtype=torch.float64)
    first, second = online_softmax_states(x, [2, 1], v)
    one = torch.tensor(1.0, dtype=torch.float64)
    assert first.m.item() == second.m.item() == 3.0
    torch.testing.assert_close(first.l, e(-2 * one) + 1)
    torch.testing.assert_close(first.o, (10 * e(-2 * one) + 20).reshape(1))
    torch.testing.assert_close(second.l, e(-2 * one) + 1 + e(-one))
    torch.testing.assert_close(second.o, (10 * e(-2 * one) + 20 + 40 * e(-one)).reshape(1))
    torch.testing.assert_close(second.normalised(), torch.softmax(x, 0) @ v)
    # a larger max arriving later rescales the old sum: x = (3, 1) after (1) then (5)
    a, b = online_softmax_states(torch.tensor([3.0, 5.0], dtype=torch.float64), 1)
    torch.testing.assert_close(a.l, one)
    torch.testing.assert_close(b.l, e(-2 * one) + 1)  # 1 * e^(3 - 5) + e^0
    assert a.o is None


def test_safe_softmax_along_any_dim():
    """safe_softmax(x, dim) = torch.softmax(x, dim); the default is the last dim."""
    x = torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for dim in (0, 1, 2, -2):
        torch.testing.assert_close(safe_softmax(x, dim), torch.softmax(x, dim))
    torch.testing.assert_close(safe_softmax(x), torch.softmax(x, -1))
    x[0, :, 1] = -torch.inf  # a fully masked column along dim 1
    got = safe_softmax(x, 1)
    assert (got[0, :, 1] == 0).all()
    torch.testing.assert_close(got[1], torch.softmax(x[1], 0))


def test_return_probs_under_masks_and_flag_errors():
    """P = softmax of the masked scores by hand: zeros where masked, a zero row if all are."""
    q, k, v = _qkv(4, 5, 3, seed=6)
    keep = torch.tensor(
        [[1, 0, 1, 1, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 1]], dtype=torch.bool
    )
    bias = torch.tensor([0.5, -1.0, 0.0, 2.0, -0.25], dtype=torch.float64)
    for mask, add in ((keep, 0.0), (bias, bias)):
        o, p = standard_attention(q, k, v, attn_mask=mask, scale=1.3, return_probs=True)
        s = q @ k.transpose(-2, -1) * 1.3 + add
        if mask.dtype == torch.bool:
            expected = torch.softmax(s.masked_fill(~keep, -1e300), -1) * keep
            expected[:, 1] = 0.0  # query 1 sees nothing
        else:
            expected = torch.softmax(s, -1)
        torch.testing.assert_close(p, expected)
        torch.testing.assert_close(o, expected @ v)
    with pytest.raises(TypeError, match="^return_probs must be a bool, got int 1$"):
        standard_attention(q, k, v, return_probs=1)
    with pytest.raises(TypeError, match="^is_causal must be a bool, got NoneType None$"):
        tiled_attention_backward(q, k, v, q, q[..., 0], q, is_causal=None)


def test_tiled_dtypes_and_backward_shape_errors():
    """fp16 in -> fp16 O and grads, fp32 L; fp64 stays fp64; shape errors name the shapes."""
    q, k, v = _qkv(6, 6, 4, dtype=torch.float16)
    out, lse = tiled_attention_forward(q, k, v, block_q=4, block_k=4)
    assert out.dtype == torch.float16 and lse.dtype == torch.float32
    grads = tiled_attention_backward(q, k, v, out, lse, out, block_q=4, block_k=4)
    assert all(g.dtype == torch.float16 for g in grads)
    q, k, v = _qkv(6, 6, 4)
    out, lse = tiled_attention_forward(q, k, v)
    assert lse.dtype == torch.float64
    with pytest.raises(
        ValueError,
        match=r"^out and d_out must have shape \(\.\.\., N_q, d_v\) = \(2, 6, 4\), got "
        r"\(2, 6, 4\) and \(2, 5, 4\)$",
    ):
        tiled_attention_backward(q, k, v, out, lse, out[:, :5])
    with pytest.raises(ValueError, match=r"got \(2, 5, 4\) and \(2, 6, 4\)$"):
        tiled_attention_backward(q, k, v, out[:, :5], lse, out)
    with pytest.raises(TypeError, match="^out must be a torch.Tensor"):
        tiled_attention_backward(q, k, v, None, lse, out)
    with pytest.raises(TypeError, match="^lse must be a torch.Tensor"):
        tiled_attention_backward(q, k, v, out, None, out)
    with pytest.raises(ValueError, match="^block_q must be >= 1, got 0$"):
        tiled_attention_backward(q, k, v, out, lse, out, block_q=0)


# ---------------------------------------------------- IO model: more sizes worked out by hand


def test_standard_io_by_hand():
    """(5.1) for N = 2, d = 3: reads 2Nd + N^2 + N^2 + Nd = 12 + 4 + 4 + 6, writes 4 + 4 + 6."""
    assert standard_io(2, 3) == IOCount(reads=26, writes=14)
    assert standard_io(1, 1) == IOCount(reads=5, writes=3)
    with pytest.raises(ValueError, match="^d must be >= 1, got 0$"):
        standard_io(2, 0)


@pytest.mark.parametrize(
    "n, d, m, fa2, fa1",
    [
        # N = 4, d = 1, M = 8: B_c = ceil(8 / 4) = 2, B_r = min(2, 1) = 1, T_r = 4, T_c = 2
        # fa2: reads 4 + 2*4*4 = 36, writes 4 + 4; fa1: reads 8 + 2 (8 + 8), writes 3 (4 + 8)
        (4, 1, 8, IOCount(36, 8), IOCount(40, 36)),
        # N = 5, d = 2, M = 24: B_c = 3, B_r = 2 (ragged last blocks), T_r = 3, T_c = 2
        # fa2: reads 10 + 2*10*3 = 70, writes 10 + 5; fa1: reads 20 + 2 (20 + 10), writes 3 * 20
        (5, 2, 24, IOCount(70, 15), IOCount(80, 60)),
    ],
)
def test_tiled_io_both_loop_orders_by_hand(n, d, m, fa2, fa1):
    """(5.2a) and (5.2b) at tiny sizes, each also equal to the block-by-block replay."""
    assert tiled_io(n, d, m) == fa2 and tiled_io(n, d, m, "fa1") == fa1
    b_r, b_c = tiled_block_sizes(d, m)
    assert replay_tiled_io(n, d, b_r, b_c, "fa2") == fa2
    assert replay_tiled_io(n, d, b_r, b_c, "fa1") == fa1


def test_block_sizes_at_every_memory_limit():
    """d = 3: M = 4d = 12 is the least; B_r reaches its cap d = 3 at M = 4 d^2 = 36."""
    assert tiled_block_sizes(3, 12) == (1, 1)
    assert tiled_block_sizes(3, 13) == (2, 2)  # ceil(13 / 12) = 2
    assert tiled_block_sizes(3, 36) == (3, 3)
    assert tiled_block_sizes(3, 37) == (3, 4)  # ceil(37 / 12) = 4, B_r capped at d
    with pytest.raises(
        ValueError, match="^on-chip memory M must hold at least 4 d = 12 elements, got 11$"
    ):
        tiled_block_sizes(3, 11)
    with pytest.raises(ValueError, match="^d must be >= 1, got 0$"):
        tiled_block_sizes(0, 5)
    with pytest.raises(ValueError, match="^m must be >= 1, got 0$"):
        tiled_block_sizes(3, 0)


def test_causal_replay_with_ragged_blocks_by_hand():
    """N = 5, d = 1, B_q = 2, B_k = 3 with causal skipping.

    fa2: Q blocks [0,2) [2,4) [4,5) see key blocks {[0,3)}, {[0,3), [3,5)}, {both}:
    reads (2 + 6) + (2 + 6 + 4) + (1 + 6 + 4) = 31, writes 5 (d + 1) = 10. Key block [3,5) is
    needed by the block ending at row 3 (its first key, 3, is on the diagonal).
    fa1: writes 5 (d + 2) = 15 first; key block [0,3) is seen by all three Q blocks (reads
    6 + 4 (2 + 2 + 1) = 26, writes 3 (2 + 2 + 1) = 15), [3,5) by the last two (reads
    4 + 4 (2 + 1) = 16, writes 3 * 3 = 9).
    """
    assert replay_tiled_io(5, 1, 2, 3, "fa2", True) == IOCount(31, 10)
    assert replay_tiled_io(5, 1, 2, 3, "fa1", True) == IOCount(42, 39)
    assert tile_schedule(5, 2, 3, True) == [(0, 0), (1, 0), (1, 1), (2, 0), (2, 1)]
    for kwargs, name in (({"n": 0}, "n"), ({"d": 0}, "d"), ({"block_q": 0}, "block_q"),
                         ({"block_k": 0}, "block_k")):  # fmt: skip
        args = {"n": 5, "d": 1, "block_q": 2, "block_k": 3} | kwargs
        with pytest.raises(ValueError, match=f"^{name} must be >= 1, got 0$"):
            replay_tiled_io(**args)
    for kwargs, name in (({"n": 0}, "n"), ({"block_q": 0}, "block_q"), ({"block_k": 0}, "block_k")):
        args = {"n": 5, "block_q": 2, "block_k": 3} | kwargs
        with pytest.raises(ValueError, match=f"^{name} must be >= 1, got 0$"):
            tile_schedule(**args)


def test_traffic_after_ragged_steps_by_hand():
    """N = 5, d = 1, B_q = 2, B_k = 3: schedule (0,0) (0,1) (1,0) (1,1) (2,0) (2,1).

    Step 1: Q_0 (2 rows) and K, V of 3 + 2 rows: reads 2 + 2*5 = 12, nothing written.
    Step 4: Q rows 5, K/V rows 3+2+3+2+3 = 13: reads 5 + 26 = 31; O, L of 4 rows: 4 (d + 1).
    """
    assert tiled_traffic_after(5, 1, 2, 3, 1) == IOCount(12, 0)
    assert tiled_traffic_after(5, 1, 2, 3, 4) == IOCount(31, 8)
    assert tiled_traffic_after(5, 1, 2, 3, 5) == IOCount(35, 8)
    with pytest.raises(ValueError, match=r"^step must be an int in \[0, 5\], got 6$"):
        tiled_traffic_after(5, 1, 2, 3, 6)


def test_mismatch_report_names_order_size_and_both_counts():
    """A model that counts nothing differs from the replay in both orders, and says where."""
    zero = lambda n, d, m, order: IOCount(0, 0)  # noqa: E731
    bad = io_model_mismatches(zero, (3,), 2, (8,))
    assert [b[:4] for b in bad] == [("fa2", 3, 8, IOCount(0, 0)), ("fa1", 3, 8, IOCount(0, 0))]
    # B = (1, 1) at M = 4d = 8: fa2 reads 3 * (2 + 2*6), writes 3 * 3
    assert bad[0][4] == replay_tiled_io(3, 2, 1, 1, "fa2") == IOCount(42, 9)
    assert bad[1][4] == replay_tiled_io(3, 2, 1, 1, "fa1")
    assert io_model_mismatches(zero, (3,), 2, (8,), ("fa1",))[0][0] == "fa1"


def test_attention_flops_argument_names():
    """4 B H N^2 d with B H = 1, N = 3, d = 2 is 72 (a float); errors name n and d."""
    assert attention_flops(1, 3, 2) == 72.0 and attention_flops(1, 3, 2, is_causal=True) == 36.0
    with pytest.raises(ValueError, match="^n must be >= 1, got 0$"):
        attention_flops(1, 0, 2)
    with pytest.raises(ValueError, match="^d must be >= 1, got 0$"):
        attention_flops(1, 3, 0)


def test_backward_default_is_not_causal():
    """Without is_causal the backward pass recomputes the unmasked P: dQ, dK, dV equal float64
    autograd of softmax(Q K^T / sqrt(d)) V with no mask (a causal P gives other gradients)."""
    q, k, v = _qkv(5, 5, 3)
    d_out = torch.linspace(-1.0, 1.0, 30, dtype=torch.float64).reshape(2, 5, 3)
    out, lse = tiled_attention_forward(q, k, v, block_q=2, block_k=2)
    grads = tiled_attention_backward(q, k, v, out, lse, d_out, block_q=2, block_k=2)
    leaves = [t.clone().requires_grad_() for t in (q, k, v)]
    expected = torch.autograd.grad(_truth(*leaves, 3**-0.5), leaves, d_out)
    for got, want in zip(grads, expected, strict=True):
        torch.testing.assert_close(got, want)


def test_default_tiles_are_64_by_64():
    """Without block sizes every pass tiles by 64 x 64 (the kernel's default tile).

    Seen through the peak bytes of live tensors, which grow with the S block: the default
    call peaks exactly like block_q = block_k = 64 and unlike 65 in either direction.
    """
    from course_lib.attention.memory import peak_tensor_bytes

    q, k, v = _qkv(130, 130, 2)
    out, lse = tiled_attention_forward(q, k, v)
    calls = {
        "forward": lambda **kw: tiled_attention_forward(q, k, v, **kw),
        "wrapper": lambda **kw: tiled_attention(q, k, v, **kw),
        "backward": lambda **kw: tiled_attention_backward(q, k, v, out, lse, out, **kw),
    }
    for name, call in calls.items():
        peak = {
            (bq, bk): peak_tensor_bytes(call, block_q=bq, block_k=bk)[1]
            for bq, bk in ((64, 64), (65, 64), (64, 65))
        }
        assert peak_tensor_bytes(call)[1] == peak[(64, 64)], name
        assert peak[(65, 64)] != peak[(64, 64)] != peak[(64, 65)], name


def test_online_states_keep_the_input_dtype_from_the_first_chunk():
    """An empty first chunk leaves m = -inf, l = 0, o = 0, already in x's dtype (float64 here)."""
    x = torch.tensor([[0.25, -1.0, 3.0]], dtype=torch.float64)
    v = torch.ones(3, 2, dtype=torch.float64)
    empty, full = online_softmax_states(x, [0, 3], v)
    assert empty.m.dtype == empty.l.dtype == empty.o.dtype == torch.float64
    assert torch.isneginf(empty.m).all() and (empty.l == 0).all() and (empty.o == 0).all()
    assert (empty.normalised() == 0).all() and empty.o.shape == (1, 2)
    torch.testing.assert_close(full.normalised(), torch.ones(1, 2, dtype=torch.float64))


def test_autograd_wrapper_passes_every_option_to_both_passes(monkeypatch):
    """tiled_attention must hand the caller's mask, causal flag, scale and tiles to (3.1) and (4.1).

    Tile sizes change no number (only the summation order), so they are checked at the calls.
    """
    from course_lib.attention import tiled

    seen = {}

    def spying(name):
        real = getattr(tiled, name)

        def spy(*args, **kwargs):
            seen[name] = kwargs
            return real(*args, **kwargs)

        return spy

    for name in ("tiled_attention_forward", "tiled_attention_backward"):
        monkeypatch.setattr(tiled, name, spying(name))
    q, k, v = (t.requires_grad_() for t in _qkv(7, 7, 3))
    keep = torch.ones(7, 7, dtype=torch.bool).tril(1)
    out = tiled_attention(q, k, v, attn_mask=keep, is_causal=True, scale=0.7, block_q=5, block_k=3)
    out.sum().backward()
    for name in ("tiled_attention_forward", "tiled_attention_backward"):
        kw = seen[name]
        assert kw["attn_mask"] is not None and torch.equal(kw["attn_mask"], keep), name
        assert (kw["is_causal"], kw["scale"], kw["block_q"], kw["block_k"]) == (True, 0.7, 5, 3)
    assert not seen["tiled_attention_backward"]["attn_mask"].requires_grad


# ------------------------------------------- error texts, state shapes, tiles visited, dtypes


def test_every_error_names_its_argument_in_full():
    """Anchored messages: the argument's name must appear exactly, not merely inside the text."""
    q, k, v = _qkv(4, 4, 2)
    out, lse = tiled_attention_forward(q, k, v)
    x = torch.tensor([0.5, 1.0], dtype=torch.float64)
    cases = [
        (lambda: causal_mask(-1, 2), ValueError, "^n_q must be >= 0, got -1$"),
        (lambda: causal_mask(2, 1.5), TypeError, "^n_k must be an int, got float 1.5$"),
        (lambda: safe_softmax([0.5]), TypeError, "^x must be a floating-point torch.Tensor$"),
        (lambda: online_softmax(torch.tensor([1, 2]), 1), TypeError,
         "^x must be a floating-point torch.Tensor$"),
        (lambda: OnlineSoftmaxState(m=x, l=x).normalised(), ValueError,
         "^this state carries no output o$"),
        (lambda: online_softmax(x, 0), ValueError, "^chunk size must be >= 1, got 0$"),
        (lambda: online_softmax(x, [3, -1]), ValueError,
         r"^chunk sizes must be >= 0 and sum to 2, got \[3, -1\]$"),
        (lambda: standard_attention(q, k, v, is_causal=0), TypeError,
         "^is_causal must be a bool, got int 0$"),
        (lambda: tiled_attention_forward(q, k, v, is_causal=0), TypeError,
         "^is_causal must be a bool, got int 0$"),
        (lambda: tiled_attention_forward(q, k, v, block_q=0), ValueError,
         "^block_q must be >= 1, got 0$"),
        (lambda: tiled_attention_forward(q, k, v, block_k=0), ValueError,
         "^block_k must be >= 1, got 0$"),
        (lambda: tiled_attention_backward(q, k, v, out, lse, out, block_k=0), ValueError,
         "^block_k must be >= 1, got 0$"),
        (lambda: tiled_attention_backward(q, k, v, out, lse, None), TypeError,
         "^d_out must be a torch.Tensor, got NoneType$"),
        (lambda: tiled_attention_backward(q, k, v, out, lse[:, :3], out), ValueError,
         r"^lse must have shape \(\.\.\., N_q\) = \(2, 4\), got \(2, 3\)$"),
    ]  # fmt: skip
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()


def test_online_states_of_a_batch_keep_one_statistic_per_row():
    """x of shape (2, 3) and v of shape (2, 3, 2) (one V per row): m, l are (2,), o is (2, 2).

    After an empty first chunk m = -inf and l = 0 per row; after all of x, o / l is row r's
    softmax(x_r) times its own V_r. A single V of shape (3, 1) is shared by both rows.
    """
    x = torch.tensor([[0.5, -1.0, 2.0], [1.0, 1.0, -3.0]], dtype=torch.float64)
    v = torch.arange(12, dtype=torch.float64).reshape(2, 3, 2)
    empty, full = online_softmax_states(x, [0, 3], v)
    assert empty.m.shape == empty.l.shape == (2,) and empty.o.shape == (2, 2)
    assert full.m.tolist() == [2.0, 1.0]
    expected = torch.stack([torch.softmax(x[r], 0) @ v[r] for r in range(2)])
    torch.testing.assert_close(full.normalised(), expected)
    column = v[0, :, :1]  # one V of shape (3, 1) shared by both rows: o is (2, 1)
    *_, shared = online_softmax_states(x, 2, column)
    torch.testing.assert_close(shared.normalised(), torch.softmax(x, -1) @ column)


def test_online_states_keep_x_dtype_and_every_leading_dim():
    """o takes x's dtype and all of x's leading dims: a bfloat16 x with a bfloat16 V gives a
    bfloat16 o, and x of shape (2, 3, 4) with a shared V of shape (4, 5) gives o of shape
    (2, 3, 5) equal to softmax(x) V computed in float64."""
    x = torch.linspace(-2.0, 2.0, 24, dtype=torch.float64).reshape(2, 3, 4).sin() * 3
    v = torch.linspace(-1.0, 1.0, 20, dtype=torch.float64).reshape(4, 5).cos()
    *_, last = online_softmax_states(x, [1, 3], v)
    assert last.o.shape == (2, 3, 5) and last.m.shape == last.l.shape == (2, 3)
    torch.testing.assert_close(last.normalised(), torch.softmax(x, -1) @ v)
    low = [state.o.dtype for state in online_softmax_states(x.bfloat16(), 2, v.bfloat16())]
    assert low == [torch.bfloat16, torch.bfloat16]


def test_tiles_visited_are_the_schedules(monkeypatch):
    """Each pass reads the mask block by block; the blocks it reads are the tiles it visits.

    N = 5, B_q = 2, B_k = 3. Forward (Q blocks outer): the tiles of tile_schedule, i.e. with
    causal skipping (0,0) (2,0) (2,3) (4,0) (4,3) as (first row, first key). Backward (K/V
    blocks outer): all of rows 0, 2, 4 per key block; causal: key block 3 only meets rows 3-4.
    The mask (all True) is a (5, 5) tensor, so a block's storage offset is 5 i0 + j0.
    """
    from course_lib.attention import tiled

    seen = []
    real = tiled.apply_attn_mask

    def spy(s, block):
        seen.append(divmod(block.storage_offset(), 5))
        return real(s, block)

    monkeypatch.setattr(tiled, "apply_attn_mask", spy)
    q, k, v = _qkv(5, 5, 2)
    keep = torch.ones(5, 5, dtype=torch.bool)
    backward = {
        False: [(0, 0), (2, 0), (4, 0), (0, 3), (2, 3), (4, 3)],
        True: [(0, 0), (2, 0), (4, 0), (3, 3)],
    }
    for causal in (False, True):
        seen.clear()
        kw = {"attn_mask": keep, "is_causal": causal, "block_q": 2, "block_k": 3}
        out, lse = tiled_attention_forward(q, k, v, **kw)
        assert seen == [(2 * i, 3 * j) for i, j in tile_schedule(5, 2, 3, causal)]
        seen.clear()
        tiled_attention_backward(q, k, v, out, lse, out, **kw)
        assert seen == backward[causal]


def test_fp32_accumulators_ignore_torchs_default_dtype():
    """fp32 in: m, l, o and the gradients accumulate in fp32 whatever the default dtype is.

    The same call under torch.set_default_dtype(float64) must give bit-identical results.
    """
    q, k, v = _qkv(16, 16, 8, dtype=torch.float32)
    kw = {"block_q": 4, "block_k": 4}

    def run():
        out, lse = tiled_attention_forward(q, k, v, **kw)
        return out, lse, *tiled_attention_backward(q, k, v, out, lse, out.cos(), **kw)

    expected = run()
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        got = run()
    finally:
        torch.set_default_dtype(previous)
    for a, b in zip(got, expected, strict=True):
        assert a.dtype == b.dtype == torch.float32 and torch.equal(a, b)


def test_io_counts_for_a_single_query_and_the_smallest_inputs():
    """N = 1, d = 1, M = 4 = 4d: B_r = B_c = 1, one block each way.

    fa2 reads Q (1) + K, V (2) = 3 and writes O, L (2); fa1 reads K, V (2) + Q, O, l, m (4)
    = 6 and writes O, l, m twice (initialised, then after the one K/V block): 6.
    """
    assert tiled_io(1, 1, 4) == replay_tiled_io(1, 1, 1, 1) == IOCount(3, 2)
    assert tiled_io(1, 1, 4, "fa1") == replay_tiled_io(1, 1, 1, 1, "fa1") == IOCount(6, 6)
    with pytest.raises(ValueError, match="^n must be >= 1, got 0$"):
        tiled_io(0, 1, 4)
    with pytest.raises(
        ValueError, match="^on-chip memory M must hold at least 4 d = 4 elements, got 1$"
    ):
        tiled_block_sizes(1, 1)


def test_backward_reads_out_and_d_out_in_the_accumulation_dtype():
    """fp32 q, k, v: L is fp32, so Delta = rowsum(dO o O) is formed from fp32 roundings.

    O and dO handed over in fp64 must give bit for bit the gradients of their fp32 roundings.
    """
    q, k, v = _qkv(6, 6, 3, dtype=torch.float32)
    kw = {"block_q": 4, "block_k": 4}
    out, lse = tiled_attention_forward(q, k, v, **kw)
    g = torch.Generator().manual_seed(5)
    out64 = out.double() + 1e-9 * torch.randn(out.shape, generator=g, dtype=torch.float64)
    d_out64 = torch.randn(out.shape, generator=g, dtype=torch.float64)
    got = tiled_attention_backward(q, k, v, out64, lse, d_out64, **kw)
    expected = tiled_attention_backward(q, k, v, out64.float(), lse, d_out64.float(), **kw)
    for a, b in zip(got, expected, strict=True):
        assert a.dtype == torch.float32 and torch.equal(a, b)
