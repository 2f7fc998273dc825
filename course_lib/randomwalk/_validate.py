"""Device resolution for the random-walk modules (argument checks: ``course_lib.validation``)."""

from __future__ import annotations

import torch

from ..validation import check_generator, check_int, check_probability

__all__ = ["check_int", "check_probability", "resolve_device"]


def resolve_device(
    device: str | torch.device | None, generator: torch.Generator | None
) -> torch.device:
    """The device to allocate on; it must match the generator's device type."""
    check_generator(generator)
    dev = torch.device(device) if device is not None else None
    if generator is not None:
        if dev is None:
            dev = generator.device
        elif dev.type != generator.device.type:
            raise ValueError(
                f"generator lives on {generator.device} but device={dev} was requested; "
                "create the generator on the same device"
            )
    return dev if dev is not None else torch.device("cpu")
