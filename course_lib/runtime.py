"""Run-time settings shared by every chapter: device, seeds, fast/full mode and sizes.

* ``device()`` picks CUDA, then Apple's MPS, then the CPU.
* ``seed_all(seed)`` seeds Python, NumPy and PyTorch and returns a fresh
  ``torch.Generator`` so that library calls can take an explicit generator.
* One mode rule fits the hardware: *full* sizes where a GPU (CUDA or Apple's MPS) is
  present, *fast* sizes on a CPU; ``COURSE_FAST=1`` or ``COURSE_FAST=0`` overrides either
  way (CI and ``make test`` set 1). Every size goes through :func:`pick`, so a notebook never
  needs editing to switch.
"""

from __future__ import annotations

import os
import platform
import random
from typing import TypeVar

import numpy as np
import torch

from .validation import check_device, check_tensor

__all__ = [
    "FAST_ENV_VAR",
    "check_device_dtype",
    "describe",
    "device",
    "is_fast",
    "make_generator",
    "mode_reason",
    "pick",
    "seed_all",
]

FAST_ENV_VAR = "COURSE_FAST"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

T = TypeVar("T")


def _gpu_present() -> bool:
    """True when PyTorch sees a CUDA or an MPS device."""
    mps = getattr(torch.backends, "mps", None)
    return torch.cuda.is_available() or (mps is not None and mps.is_available())


def mode_reason() -> tuple[str, str]:
    """The run-time mode (``"fast"`` or ``"full"``) and why it was chosen.

    ``COURSE_FAST`` decides when it is set (1/true/yes/on or 0/false/no/off,
    case-insensitive; anything else raises ``ValueError`` rather than silently choosing);
    otherwise the hardware does: full where a GPU is present, fast on a CPU.
    """
    raw = os.environ.get(FAST_ENV_VAR)
    if raw is not None and raw.strip():
        value = raw.strip().lower()
        if value in _TRUE:
            return "fast", f"{FAST_ENV_VAR}={raw}"
        if value in _FALSE:
            return "full", f"{FAST_ENV_VAR}={raw}"
        raise ValueError(
            f"{FAST_ENV_VAR} must be one of 1/true/yes/on or 0/false/no/off, got {raw!r}"
        )
    if _gpu_present():
        return "full", "a GPU is present"
    return "fast", "no GPU found"


def is_fast() -> bool:
    """True in fast mode: the small, CPU-sized runs (see :func:`mode_reason` for the rule)."""
    return mode_reason()[0] == "fast"


def pick(fast: T, full: T) -> T:
    """Return ``fast`` in fast mode and ``full`` otherwise (sizes, step counts, epochs)."""
    return fast if is_fast() else full


def device(prefer: str | torch.device | None = None) -> torch.device:
    """The device to compute on: ``prefer`` if given, else CUDA > MPS > CPU.

    ``COURSE_DEVICE`` in the environment overrides the automatic choice (e.g. to
    force the CPU on a GPU machine). A device this machine cannot use raises ``ValueError``
    naming what is available (:func:`course_lib.validation.check_device`, the rule every
    library function follows).
    """
    if prefer is not None:
        return check_device(prefer, "prefer")
    env = os.environ.get("COURSE_DEVICE")
    if env is not None:
        return check_device(env, "COURSE_DEVICE")
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def make_generator(seed: int, device: str | torch.device | None = None) -> torch.Generator:
    """A ``torch.Generator`` on ``device`` (default CPU) seeded with ``seed``."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    gen = torch.Generator(device=check_device(device) if device is not None else "cpu")
    gen.manual_seed(seed)
    return gen


def seed_all(seed: int = 0, device: str | torch.device | None = None) -> torch.Generator:
    """Seed Python's ``random``, NumPy and PyTorch (all devices) and return a generator.

    Notebooks call this once in their set-up cell; library functions never touch the
    global RNG themselves but take the returned generator (or their own seed).
    """
    gen = make_generator(seed, device)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (learners' own NumPy code uses it)
    torch.manual_seed(seed)
    return gen


def check_device_dtype(*tensors: torch.Tensor, dtype: torch.dtype | None = None) -> None:
    """Raise ``TypeError``/``ValueError`` unless all tensors share one device (and ``dtype``)."""
    for i, t in enumerate(tensors):
        check_tensor(t, f"tensor {i}", min_dim=0, floating=False)
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        raise ValueError(f"tensors must be on one device, got {sorted(map(str, devices))}")
    if dtype is not None:
        wrong = [t.dtype for t in tensors if t.dtype != dtype]
        if wrong:
            raise ValueError(f"expected dtype {dtype}, got {wrong[0]}")


def describe() -> str:
    """One line on the run: mode, device, torch version, threads (for the set-up cell)."""
    dev = device()
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor() or "cpu"
    mode, why = mode_reason()
    switch = "0" if mode == "fast" else "1"
    return (
        f"mode={mode} ({why}; set {FAST_ENV_VAR}={switch} to switch) device={dev} ({name}) "
        f"torch={torch.__version__} threads={torch.get_num_threads()}"
    )
