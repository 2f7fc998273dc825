"""Input validation shared by the random-walk modules (clear ``TypeError``/``ValueError``)."""

from __future__ import annotations

import math
import numbers

import torch


def check_count(value: object, name: str, *, minimum: int = 0) -> int:
    """An integer ``>= minimum`` (bools and floats are rejected, even 3.0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_probability(p: object, name: str = "p", *, open_interval: bool = False) -> float:
    """A real number in [0, 1] (or (0, 1) when ``open_interval``)."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(p).__name__} {p!r}")
    p = float(p)
    lo_ok = p > 0 if open_interval else p >= 0
    hi_ok = p < 1 if open_interval else p <= 1
    if not (math.isfinite(p) and lo_ok and hi_ok):
        interval = "(0, 1)" if open_interval else "[0, 1]"
        raise ValueError(f"{name} must lie in {interval}, got {p}")
    return p


def resolve_device(
    device: str | torch.device | None, generator: torch.Generator | None
) -> torch.device:
    """The device to allocate on; it must match the generator's device type."""
    dev = torch.device(device) if device is not None else None
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        if dev is None:
            dev = generator.device
        elif dev.type != generator.device.type:
            raise ValueError(
                f"generator lives on {generator.device} but device={dev} was requested; "
                "create the generator on the same device"
            )
    return dev if dev is not None else torch.device("cpu")
