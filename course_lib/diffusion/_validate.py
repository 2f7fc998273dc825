"""Input validation shared by the diffusion modules (clear ``TypeError``/``ValueError``)."""

from __future__ import annotations

import math
import numbers

import torch


def check_int(value: object, name: str, *, minimum: int = 0) -> int:
    """An integer ``>= minimum`` (bools and floats are rejected, even 3.0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_real(
    value: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number in the stated interval."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    v = float(value)
    ok = math.isfinite(v)
    if low is not None:
        ok = ok and (v > low if low_open else v >= low)
    if high is not None:
        ok = ok and (v < high if high_open else v <= high)
    if not ok:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        left = "(" if low_open or low is None else "["
        right = ")" if high_open or high is None else "]"
        interval = f"{left}{lo}, {hi}{right}"
        raise ValueError(f"{name} must be a finite number in {interval}, got {value}")
    return v


def check_tensor(x: object, name: str, *, min_dim: int = 1, floating: bool = True) -> torch.Tensor:
    """A tensor with at least ``min_dim`` dimensions (floating point unless told)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() < min_dim:
        raise ValueError(
            f"{name} must have at least {min_dim} dimension(s), got shape {tuple(x.shape)}"
        )
    if floating and not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    return x


def check_generator(generator: object) -> torch.Generator | None:
    """``None`` or a ``torch.Generator``."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator or None, got {type(generator).__name__}"
        )
    return generator


def randn_like(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Standard normal noise shaped like ``x``, drawn from ``generator`` (never the global RNG).

    The draw happens on the generator's device and is moved to ``x``'s device, so a CPU
    generator drives a CUDA computation reproducibly.
    """
    check_generator(generator)
    if generator is None:
        return torch.randn(x.shape, dtype=x.dtype, device=x.device)
    z = torch.randn(x.shape, dtype=x.dtype, device=generator.device, generator=generator)
    return z.to(x.device)


def resolve_device(
    device: str | torch.device | None, generator: torch.Generator | None
) -> torch.device:
    """The device to allocate on: ``device`` if given, else the generator's, else the CPU."""
    check_generator(generator)
    if device is not None:
        return torch.device(device)
    if generator is not None:
        return generator.device
    return torch.device("cpu")
