r"""FlashAttention in plain PyTorch: the tiled forward and backward passes (sections 3-4).

**Forward (FlashAttention-2 order).** Split Q into row blocks Q_i (outer loop) and K, V into
blocks K_j, V_j (inner loop). For each Q_i keep, per row, the running max m, running sum l
and un-normalised output o of online softmax (2.2)-(2.3):

    S_ij = Q_i K_j^T scale,     m' = max(m, rowmax S_ij),     P~_ij = exp(S_ij - m'),
    l' = e^{m - m'} l + rowsum P~_ij,     o' = e^{m - m'} o + P~_ij V_j.             (3.1)

After the last block, O_i = o / l and the log-sum-exp L_i = m + log l is saved: it is all the
backward pass needs to rebuild P. Only blocks live "on chip"; nothing of size N x N exists.

**Backward.** With P = softmax(S), O = P V and upstream gradient dO:

    dV = P^T dO,    dP = dO V^T,    dS = P o (dP - Delta),  Delta = rowsum(dO o O),
    dQ = scale dS K,    dK = scale dS^T Q,                                          (4.1)

where Delta_i = sum_j P_ij dP_ij = dO_i . O_i because the softmax Jacobian is
diag(P_i) - P_i P_i^T. P_ij = exp(S_ij - L_i) is recomputed block by block from the saved L.
"""

from __future__ import annotations

import torch

from ..validation import check_flag, check_int, check_tensor
from .reference import causal_mask
from .shapes import apply_attn_mask, check_attn_mask, check_qkv, resolve_scale

__all__ = [
    "TiledAttention",
    "tiled_attention",
    "tiled_attention_backward",
    "tiled_attention_forward",
]


def _block_mask(i0: int, i1: int, j0: int, j1: int, device) -> torch.Tensor:
    """Causal mask (j <= i) of the block rows i0:i1, columns j0:j1."""
    return causal_mask(i1, j1, device=device)[i0:i1, j0:j1]


def tiled_attention_forward(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
    block_q: int = 64,
    block_k: int = 64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """O and the row log-sum-exp L (float32 or better) by the tiled recurrence (3.1).

    ``attn_mask`` (boolean True = keep, or additive float; SDPA's convention) is read block by
    block like S itself. Rows with every key masked give O = 0 and L = -inf.
    """
    check_qkv(q, k, v)
    mask = check_attn_mask(attn_mask, q, k)
    is_causal = check_flag(is_causal, "is_causal")
    scale = resolve_scale(scale, q.shape[-1])
    block_q, block_k = (
        check_int(block_q, "block_q", minimum=1),
        check_int(block_k, "block_k", minimum=1),
    )
    acc = torch.promote_types(q.dtype, torch.float32)  # accumulate in fp32 (fp64 stays fp64)
    n_q, n_k = q.shape[-2], k.shape[-2]
    out = torch.empty(q.shape, dtype=q.dtype, device=q.device)
    lse = torch.empty(q.shape[:-1], dtype=acc, device=q.device)
    for i0 in range(0, n_q, block_q):
        i1 = min(i0 + block_q, n_q)
        q_i = q[..., i0:i1, :].to(acc)
        m = torch.full(q_i.shape[:-1], float("-inf"), dtype=acc, device=q.device)
        l = torch.zeros_like(m)
        o = torch.zeros(*q_i.shape[:-1], v.shape[-1], dtype=acc, device=q.device)
        for j0 in range(0, min(i1, n_k) if is_causal else n_k, block_k):
            j1 = min(j0 + block_k, n_k)
            # region: online-softmax
            s = q_i @ k[..., j0:j1, :].to(acc).transpose(-2, -1) * scale  # S_ij
            if is_causal and j1 > i0:  # the block touches the diagonal
                s = s.masked_fill(~_block_mask(i0, i1, j0, j1, q.device), float("-inf"))
            if mask is not None:  # the explicit mask's block (i, j)
                s = apply_attn_mask(s, mask[..., i0:i1, j0:j1])
            m_new = torch.maximum(m, s.amax(dim=-1))  # m' = max(m, rowmax S_ij)
            shift = torch.where(torch.isneginf(m_new), 0.0, m_new)  # masked rows: no NaN
            p = torch.exp(s - shift.unsqueeze(-1))  # P~_ij = exp(S_ij - m')
            alpha = torch.exp(m - shift)  # e^{m - m'}
            l = alpha * l + p.sum(dim=-1)  # l' = e^{m-m'} l + rowsum P~
            o = alpha.unsqueeze(-1) * o + p @ v[..., j0:j1, :].to(acc)  # o' = e^{m-m'} o + P~ V_j
            m = m_new
            # endregion: online-softmax
        safe_l = torch.where(l == 0, 1.0, l)
        out[..., i0:i1, :] = (o / safe_l.unsqueeze(-1)).to(q.dtype)  # O_i = o / l
        lse[..., i0:i1] = torch.where(l == 0, float("-inf"), m + torch.log(safe_l))  # L = m + log l
    return out, lse


def tiled_attention_backward(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    out: torch.Tensor,
    lse: torch.Tensor,
    d_out: torch.Tensor,
    *,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
    block_q: int = 64,
    block_k: int = 64,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """dQ, dK, dV by (4.1), recomputing P block by block from the saved log-sum-exp.

    ``attn_mask`` must be the mask the forward pass used; fully masked rows (L = -inf) have
    P = 0 and so contribute zero gradients.
    """
    check_qkv(q, k, v)
    mask = check_attn_mask(attn_mask, q, k)
    is_causal = check_flag(is_causal, "is_causal")
    out, lse, d_out = (
        check_tensor(t, name) for t, name in ((out, "out"), (lse, "lse"), (d_out, "d_out"))
    )
    want = q.shape[:-1] + (v.shape[-1],)
    if out.shape != want or d_out.shape != want:
        raise ValueError(
            f"out and d_out must have shape (..., N_q, d_v) = {tuple(want)}, got "
            f"{tuple(out.shape)} and {tuple(d_out.shape)}"
        )
    if lse.shape != q.shape[:-1]:
        raise ValueError(
            f"lse must have shape (..., N_q) = {tuple(q.shape[:-1])}, got {tuple(lse.shape)}"
        )
    scale = resolve_scale(scale, q.shape[-1])
    block_q = check_int(block_q, "block_q", minimum=1)
    block_k = check_int(block_k, "block_k", minimum=1)
    acc = lse.dtype
    n_q, n_k = q.shape[-2], k.shape[-2]
    delta = (d_out.to(acc) * out.to(acc)).sum(dim=-1)  # Delta_i = rowsum(dO o O)
    dq = torch.zeros(q.shape, dtype=acc, device=q.device)
    dk = torch.zeros(k.shape, dtype=acc, device=q.device)
    dv = torch.zeros(v.shape, dtype=acc, device=q.device)
    for j0 in range(0, n_k, block_k):  # K/V blocks outer: dK_j, dV_j stay on chip
        j1 = min(j0 + block_k, n_k)
        k_j, v_j = k[..., j0:j1, :].to(acc), v[..., j0:j1, :].to(acc)
        for i0 in range(j0 if is_causal else 0, n_q, block_q):
            i1 = min(i0 + block_q, n_q)
            q_i, do_i = q[..., i0:i1, :].to(acc), d_out[..., i0:i1, :].to(acc)
            s = q_i @ k_j.transpose(-2, -1) * scale
            if is_causal and j1 > i0:
                s = s.masked_fill(~_block_mask(i0, i1, j0, j1, q.device), float("-inf"))
            if mask is not None:
                s = apply_attn_mask(s, mask[..., i0:i1, j0:j1])
            lse_i = lse[..., i0:i1].unsqueeze(-1)
            p = torch.where(torch.isneginf(lse_i), 0.0, torch.exp(s - lse_i))  # P = e^{S - L}
            dv[..., j0:j1, :] += p.transpose(-2, -1) @ do_i  # dV_j += P^T dO_i
            dp = do_i @ v_j.transpose(-2, -1)  # dP = dO_i V_j^T
            ds = p * (dp - delta[..., i0:i1].unsqueeze(-1))  # dS = P o (dP - Delta)
            dq[..., i0:i1, :] += scale * ds @ k_j  # dQ_i += scale dS K_j
            dk[..., j0:j1, :] += scale * ds.transpose(-2, -1) @ q_i  # dK_j += scale dS^T Q_i
    return dq.to(q.dtype), dk.to(k.dtype), dv.to(v.dtype)


class TiledAttention(torch.autograd.Function):
    """Autograd wrapper: forward (3.1) saves only Q, K, V, O and L; backward is (4.1).

    The mask is a constant: no gradient flows into a floating ``attn_mask``.
    """

    @staticmethod
    def forward(ctx, q, k, v, attn_mask, is_causal, scale, block_q, block_k):  # noqa: D102
        out, lse = tiled_attention_forward(
            q, k, v, attn_mask=attn_mask, is_causal=is_causal, scale=scale, block_q=block_q,
            block_k=block_k,
        )  # fmt: skip
        ctx.save_for_backward(q, k, v, out, lse)
        ctx.mask = None if attn_mask is None else attn_mask.detach()
        ctx.config = (is_causal, scale, block_q, block_k)
        return out

    @staticmethod
    def backward(ctx, d_out):  # noqa: D102
        q, k, v, out, lse = ctx.saved_tensors
        is_causal, scale, block_q, block_k = ctx.config
        dq, dk, dv = tiled_attention_backward(
            q, k, v, out, lse, d_out.contiguous(), attn_mask=ctx.mask, is_causal=is_causal,
            scale=scale, block_q=block_q, block_k=block_k,
        )  # fmt: skip
        return dq, dk, dv, None, None, None, None, None


def tiled_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
    block_q: int = 64,
    block_k: int = 64,
) -> torch.Tensor:
    """Differentiable tiled attention (PyTorch reference of the kernel): O = softmax(QK^T s) V.

    ``attn_mask``: boolean (True = keep) or additive float, as in SDPA; fully masked rows give 0.
    """
    return TiledAttention.apply(q, k, v, attn_mask, is_causal, scale, block_q, block_k)
