"""Input validation for the diffusion modules (clear ``TypeError``/``ValueError``).

The scalar checks are the course-wide ones from :mod:`course_lib.validation`; the tensor,
noise and device helpers here are specific to this chapter.
"""

from __future__ import annotations

import torch

from ..validation import check_generator, check_int, check_real

__all__ = [
    "check_generator",
    "check_int",
    "check_real",
    "check_tensor",
    "randn_like",
    "resolve_device",
]


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


def randn_like(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Standard normal noise shaped like ``x`` from ``generator`` (global RNG only if it is None).

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
