"""Checks that belong to attention alone: q, k, v shapes and the softmax scale.

Generic checks (integers, tensors, devices) come from :mod:`course_lib.validation`.
"""

from __future__ import annotations

import math

import torch

from ..validation import check_real

__all__ = ["FLOAT_DTYPES", "apply_attn_mask", "check_attn_mask", "check_qkv", "resolve_scale"]

FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def check_qkv(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> None:
    """q, k, v: floating tensors (..., N, d) of one dtype and device, matching shapes."""
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if t.dtype not in FLOAT_DTYPES:
            raise TypeError(f"{name} must be float16/bfloat16/float32/float64, got {t.dtype}")
        if t.dim() < 2:
            raise ValueError(f"{name} must have shape (..., N, d), got {tuple(t.shape)}")
    if not (q.dtype == k.dtype == v.dtype):
        raise TypeError(f"q, k, v must share one dtype, got {q.dtype}, {k.dtype}, {v.dtype}")
    if not (q.device == k.device == v.device):
        raise ValueError(f"q, k, v must be on one device, got {q.device}, {k.device}, {v.device}")
    if k.shape != v.shape:
        raise ValueError(
            f"k and v must have the same shape, got {tuple(k.shape)} and {tuple(v.shape)}"
        )
    if q.shape[:-2] != k.shape[:-2] or q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q (..., N_q, d) and k (..., N_k, d) must agree except in N, got "
            f"{tuple(q.shape)} and {tuple(k.shape)}"
        )


def resolve_scale(scale: float | None, d: int) -> float:
    """The softmax scale: 1/sqrt(d) unless given (must be positive and finite)."""
    if scale is None:
        return 1.0 / math.sqrt(d)
    return check_real(scale, "scale", low=0, low_open=True)


def check_attn_mask(
    attn_mask: torch.Tensor | None, q: torch.Tensor, k: torch.Tensor
) -> torch.Tensor | None:
    """Validate an explicit attention mask in the convention of ``scaled_dot_product_attention``.

    ``attn_mask`` is either boolean (True = the query may attend the key, False = masked) or
    floating (added to the scores S before the softmax; -inf masks), and must broadcast to
    (..., N_q, N_k). Returns the mask broadcast to that shape (a view, no copy), floating
    masks cast to q's dtype; None stays None.
    """
    if attn_mask is None:
        return None
    if not isinstance(attn_mask, torch.Tensor):
        raise TypeError(f"attn_mask must be a torch.Tensor or None, got {type(attn_mask).__name__}")
    if attn_mask.dtype != torch.bool and not attn_mask.is_floating_point():
        raise TypeError(
            f"attn_mask must be boolean (True = keep) or floating (additive), got {attn_mask.dtype}"
        )
    if attn_mask.device != q.device:
        raise ValueError(f"attn_mask must be on {q.device} like q, got {attn_mask.device}")
    target = (*q.shape[:-1], k.shape[-2])
    try:
        mask = torch.broadcast_to(attn_mask, target)
    except RuntimeError as err:
        raise ValueError(
            f"attn_mask must broadcast to (..., N_q, N_k) = {target}, got {tuple(attn_mask.shape)}"
        ) from err
    if mask.dtype != torch.bool:
        if torch.isnan(attn_mask).any() or torch.isposinf(attn_mask).any():
            raise ValueError(
                "a floating attn_mask must hold finite values or -inf, got NaN or +inf"
            )
        mask = mask.to(q.dtype)
    return mask


def apply_attn_mask(s: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Scores with the mask applied: -inf where a boolean mask is False, S + mask if floating."""
    if mask is None:
        return s
    if mask.dtype == torch.bool:
        return s.masked_fill(~mask, float("-inf"))
    return s + mask.to(s.dtype)
