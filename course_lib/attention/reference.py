r"""Standard attention, safe softmax and online softmax (Chapter 07, sections 1-2).

Standard attention materialises two N x N matrices:

    S = Q K^T * scale,   P = softmax(S) (row-wise),   O = P V,    scale = 1/sqrt(d).   (1.1)

Written to and read back from HBM, S and P cost Theta(N d + N^2) memory traffic (section 5).

Safe softmax subtracts the row maximum m = max_j x_j so exp never overflows:

    softmax(x)_j = exp(x_j - m) / sum_i exp(x_i - m).                                  (2.1)

Online softmax visits x in chunks and keeps a running max m and a running sum l of
exp(x_i - m). When a chunk c arrives,

    m_new = max(m, max_j c_j),   l_new = l exp(m - m_new) + sum_j exp(c_j - m_new),      (2.2)

so after the last chunk l = sum_i exp(x_i - m) exactly, for any split. Attention adds a
running output o (the un-normalised sum of exp(x_j - m) v_j), rescaled the same way:

    o_new = o exp(m - m_new) + sum_j exp(c_j - m_new) v_j,   O = o / l.                 (2.3)

A row whose entries are all -inf (fully masked) has no softmax; by convention its output is
zero, and the code never forms (-inf) - (-inf) = NaN.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from ..validation import check_device, check_flag, check_int
from .shapes import apply_attn_mask, check_attn_mask, check_qkv, resolve_scale

__all__ = [
    "OnlineSoftmaxState",
    "causal_mask",
    "online_softmax",
    "online_softmax_states",
    "safe_softmax",
    "standard_attention",
]


def causal_mask(n_q: int, n_k: int, device=None) -> torch.Tensor:
    """Boolean mask, True where query i may attend key j: j <= i (top-left aligned).

    This is the convention of ``scaled_dot_product_attention(is_causal=True)``.
    """
    n_q, n_k = check_int(n_q, "n_q"), check_int(n_k, "n_k")
    device = check_device(device) if device is not None else None
    i = torch.arange(n_q, device=device)[:, None]
    j = torch.arange(n_k, device=device)[None, :]
    return j <= i


def safe_softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Softmax by (2.1); rows that are entirely -inf give zeros instead of NaN."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError("x must be a floating-point torch.Tensor")
    m = x.amax(dim=dim, keepdim=True)
    m = torch.where(torch.isneginf(m), torch.zeros_like(m), m)  # fully masked row: shift by 0
    e = torch.exp(x - m)  # exp(-inf) = 0 for masked entries
    total = e.sum(dim=dim, keepdim=True)
    return e / torch.where(total == 0, torch.ones_like(total), total)


@dataclass(frozen=True)
class OnlineSoftmaxState:
    """Running statistics after some chunks: max m, sum l and (optionally) output o."""

    m: torch.Tensor
    l: torch.Tensor
    o: torch.Tensor | None = None

    def normalised(self) -> torch.Tensor:
        """o / l (zeros where l = 0, i.e. nothing unmasked seen yet)."""
        if self.o is None:
            raise ValueError("this state carries no output o")
        l = self.l.unsqueeze(-1)
        return self.o / torch.where(l == 0, torch.ones_like(l), l)


def _split(n: int, chunks: int | Sequence[int]) -> list[int]:
    if isinstance(chunks, int):
        if chunks < 1:
            raise ValueError(f"chunk size must be >= 1, got {chunks}")
        return [min(chunks, n - s) for s in range(0, n, chunks)] or [0]
    sizes = [int(c) for c in chunks]
    if any(c < 0 for c in sizes) or sum(sizes) != n:
        raise ValueError(f"chunk sizes must be >= 0 and sum to {n}, got {sizes}")
    return sizes


def online_softmax_states(
    x: torch.Tensor, chunks: int | Sequence[int], v: torch.Tensor | None = None
) -> Iterator[OnlineSoftmaxState]:
    """Yield the running state (2.2)-(2.3) after each chunk of the last dim of ``x``.

    ``x`` has shape (..., n); ``v`` (optional) has shape (n, d_v), shared by every row, or
    (..., n, d_v), one V per row of ``x``, and adds the running output o of (2.3).
    """
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError("x must be a floating-point torch.Tensor")
    n = x.shape[-1]
    if v is not None and v.shape[-2] != n:
        raise ValueError(f"v must have {n} rows (one per score), got shape {tuple(v.shape)}")
    m = torch.full(x.shape[:-1], float("-inf"), dtype=x.dtype, device=x.device)
    l = torch.zeros_like(m)
    o = (
        None
        if v is None
        else torch.zeros(*x.shape[:-1], v.shape[-1], dtype=x.dtype, device=x.device)
    )
    start = 0
    for size in _split(n, chunks):
        c = x[..., start : start + size]
        m_new = torch.maximum(m, c.amax(dim=-1)) if size else m
        # a row still all -inf shifts by 0 so that no (-inf) - (-inf) appears
        shift = torch.where(torch.isneginf(m_new), torch.zeros_like(m_new), m_new)
        alpha = torch.exp(m - shift)  # rescales the old statistics: exp(m - m_new)
        p = torch.exp(c - shift.unsqueeze(-1))  # exp(c_j - m_new)
        l = l * alpha + p.sum(dim=-1)  # (2.2)
        if o is not None:  # a row of p times its own V chunk, (n_c, d_v) or (..., n_c, d_v)
            pv = (p.unsqueeze(-2) @ v[..., start : start + size, :]).squeeze(-2)
            o = o * alpha.unsqueeze(-1) + pv  # (2.3)
        m = m_new
        start += size
        yield OnlineSoftmaxState(m=m, l=l, o=o)


def online_softmax(x: torch.Tensor, chunks: int | Sequence[int]) -> torch.Tensor:
    """Softmax of the last dim computed chunk by chunk with (2.2), then exp(x - m) / l."""
    *_, state = online_softmax_states(x, chunks)
    shift = torch.where(torch.isneginf(state.m), torch.zeros_like(state.m), state.m)
    l = torch.where(state.l == 0, torch.ones_like(state.l), state.l)
    return torch.exp(x - shift.unsqueeze(-1)) / l.unsqueeze(-1)


def standard_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
    return_probs: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """O = softmax(Q K^T scale) V by (1.1), materialising S and P (shape (..., N_q, N_k)).

    ``attn_mask`` follows ``scaled_dot_product_attention``: boolean (True = keep) or floating
    (added to S), broadcastable to (..., N_q, N_k); with ``is_causal`` both masks apply. A row
    with every key masked gives a zero output and zero gradients (SDPA gives NaN
    there in older PyTorch versions and some backends, 0 in recent ones).
    """
    check_qkv(q, k, v)
    mask = check_attn_mask(attn_mask, q, k)
    is_causal, return_probs = (
        check_flag(is_causal, "is_causal"),
        check_flag(return_probs, "return_probs"),
    )
    scale = resolve_scale(scale, q.shape[-1])
    s = (q @ k.transpose(-2, -1)) * scale  # S = Q K^T / sqrt(d)
    if is_causal:
        s = s.masked_fill(~causal_mask(q.shape[-2], k.shape[-2], device=q.device), float("-inf"))
    s = apply_attn_mask(s, mask)  # -inf where masked, or S + additive mask
    p = safe_softmax(s, dim=-1)  # P = softmax(S)
    o = p @ v  # O = P V
    return (o, p) if return_probs else o
