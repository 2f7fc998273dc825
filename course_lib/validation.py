"""The one validation layer of the course: argument and tensor checks shared by every chapter.

Scalars (``check_int``, ``check_real``, ``check_probability``), random generators, tensors,
time and noise-level ranges, per-sample broadcasting, devices, noise draws and the denoiser
type all live here, so each chapter's functions validate their inputs the same way. Each check
returns the value (converted to ``int``/``float``/tensor) so a function can validate and
normalise its inputs in one line; every message says what was expected and what came.
Checks that belong to one chapter only (e.g. attention's q, k, v shapes) stay in that chapter.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import torch

__all__ = [
    "Denoiser",
    "available_devices",
    "batch_view",
    "check_denoiser",
    "check_device",
    "check_flag",
    "check_generator",
    "check_int",
    "check_probability",
    "check_real",
    "check_same_shape",
    "check_sigma",
    "check_square_matrix",
    "check_tensor",
    "check_time",
    "check_values",
    "per_sample",
    "randn_like",
    "resolve_device",
]


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
    """A finite real number in the interval given by ``low``/``high`` (closed unless open)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    v = float(value)
    ok = math.isfinite(v)
    if low is not None:
        ok = ok and (v > low if low_open else v >= low)
    if high is not None:
        ok = ok and (v < high if high_open else v <= high)
    if not ok:
        interval = _interval(low, high, low_open, high_open)
        raise ValueError(f"{name} must be a finite number in {interval}, got {value}")
    return v


def check_probability(p: object, name: str = "p", *, open_interval: bool = False) -> float:
    """A probability in [0, 1] (or (0, 1) when ``open_interval``)."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(p).__name__} {p!r}")
    v = float(p)
    inside = 0 < v < 1 if open_interval else 0 <= v <= 1
    if not (math.isfinite(v) and inside):
        interval = "(0, 1)" if open_interval else "[0, 1]"
        raise ValueError(f"{name} must lie in {interval}, got {v}")
    return v


def check_flag(value: object, name: str) -> bool:
    """A bool (``0``/``1`` and other truthy values are rejected: a flag is True or False)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return value


def check_generator(generator: object) -> torch.Generator | None:
    """``None`` or a ``torch.Generator``."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator or None, got {type(generator).__name__}"
        )
    return generator


# ---------------------------------------------------------------------------------------
# Tensors
# ---------------------------------------------------------------------------------------
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


def check_same_shape(
    a: object, a_name: str, b: object, b_name: str, *, min_dim: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Two floating tensors of one shape (each with at least ``min_dim`` dimensions)."""
    a = check_tensor(a, a_name, min_dim=min_dim)
    b = check_tensor(b, b_name, min_dim=min_dim)
    if a.shape != b.shape:
        raise ValueError(
            f"{a_name} and {b_name} must have the same shape, got {tuple(a.shape)} and "
            f"{tuple(b.shape)}"
        )
    return a, b


def check_square_matrix(a: object, name: str) -> torch.Tensor:
    """A real floating (n, n) tensor with n >= 1 and finite entries (complex is rejected)."""
    if isinstance(a, torch.Tensor) and a.is_complex():
        raise TypeError(f"{name} must be a real floating-point tensor, got complex dtype {a.dtype}")
    a = check_tensor(a, name, min_dim=2)
    if a.dim() != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ValueError(
            f"{name} must be a square (n, n) matrix with n >= 1, got shape {tuple(a.shape)}"
        )
    if not bool(torch.isfinite(a).all()):
        raise ValueError(f"{name} must have finite entries, got NaN or infinity")
    return a


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    left = "(" if low_open or low is None else "["
    right = ")" if high_open or high is None else "]"
    return f"{left}{lo}, {hi}{right}"


def check_values(
    v: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    dtype: torch.dtype | None = None,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """A number or tensor of any shape, as a floating tensor whose entries are finite and lie
    in the interval ``low``..``high`` (closed unless open).

    ``dtype`` defaults to the tensor's own floating dtype (float64 for numbers and integer
    tensors); ``device`` to the tensor's own.
    """
    if isinstance(v, bool) or not isinstance(v, (numbers.Real, torch.Tensor)):
        raise TypeError(f"{name} must be a real number or a tensor, got {type(v).__name__}")
    if dtype is None:
        dtype = v.dtype if isinstance(v, torch.Tensor) and v.is_floating_point() else torch.float64
    # numbers are converted straight to ``dtype`` (via float32 they would lose digits)
    tt = torch.as_tensor(v, dtype=dtype, device=device)
    ok = bool(torch.all(torch.isfinite(tt)))
    if low is not None:
        ok = ok and bool(torch.all(tt > low if low_open else tt >= low))
    if high is not None:
        ok = ok and bool(torch.all(tt < high if high_open else tt <= high))
    if not ok:
        got = f"{float(tt.min())}..{float(tt.max())}" if tt.numel() else "an empty tensor"
        raise ValueError(
            f"{name} must lie in {_interval(low, high, low_open, high_open)} (finite), got {got}"
        )
    return tt


def check_time(
    t: object,
    name: str = "t",
    *,
    low: float = 0.0,
    high: float | None = 1.0,
    low_open: bool = False,
    dtype: torch.dtype | None = None,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """A time (number or tensor of any shape) in [low, high] (or (low, high] when
    ``low_open``; ``high=None`` for no upper end), default [0, 1]: the one time check of
    every chapter."""
    return check_values(t, name, low=low, high=high, low_open=low_open, dtype=dtype, device=device)


def check_sigma(
    sigma: object,
    name: str = "sigma",
    *,
    positive: bool = False,
    dtype: torch.dtype | None = None,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """A noise level (number or tensor of any shape): finite and >= 0 (> 0 when ``positive``)."""
    return check_values(sigma, name, low=0.0, low_open=positive, dtype=dtype, device=device)


def per_sample(
    v: object,
    x: torch.Tensor,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> torch.Tensor:
    """A scalar or one value per sample of the batch ``x`` (B, ...), as a (B,) vector of x's
    dtype and device, checked to be finite and inside the interval ``low``..``high``."""
    vec = check_values(
        v,
        name,
        low=low,
        high=high,
        low_open=low_open,
        high_open=high_open,
        dtype=x.dtype,
        device=x.device,
    ).reshape(-1)
    if vec.numel() not in (1, x.shape[0]):
        raise ValueError(
            f"{name} must be a scalar or have shape ({x.shape[0]},), got {vec.numel()} values"
        )
    return vec.expand(x.shape[0])


def batch_view(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A per-sample vector (B,) (or a scalar) shaped (B, 1, ..., 1) to broadcast against x of
    shape (B, ...), in x's dtype and on x's device: the course's one broadcasting helper."""
    v = torch.as_tensor(v)
    return v.to(dtype=x.dtype, device=x.device).reshape(-1, *([1] * (x.dim() - 1)))


# ---------------------------------------------------------------------------------------
# Devices and noise
# ---------------------------------------------------------------------------------------
def available_devices() -> list[str]:
    """The device types this machine and this PyTorch build can compute on."""
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append(f"cuda (x{torch.cuda.device_count()})")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return found


def check_device(device: object, name: str = "device") -> torch.device:
    """A device this machine can use, as ``torch.device``.

    Asking for CUDA (or MPS) where the build or the machine has none raises ``ValueError``
    naming what was asked for and what is available, instead of torch's later failure.
    """
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"{name} must be a str or torch.device, got {type(device).__name__}")
    try:
        dev = torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"{name}={device!r} is not a device name ({err})") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            why = (
                "this PyTorch build has no CUDA"
                if torch.version.cuda is None
                else "no CUDA device is visible"
            )
            raise ValueError(
                f"{name}={str(dev)!r} was asked for, but {why}; available: "
                f"{', '.join(available_devices())}"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"{name}={str(dev)!r} was asked for, but only {torch.cuda.device_count()} "
                "CUDA device(s) exist"
            )
    elif dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(
                f"{name}={str(dev)!r} was asked for, but MPS is not available; available: "
                f"{', '.join(available_devices())}"
            )
    return dev


def resolve_device(
    device: str | torch.device | None, generator: torch.Generator | None
) -> torch.device:
    """The device to allocate on: ``device`` if given, else the generator's, else the CPU.

    A given device must exist (:func:`check_device`) and, with a generator, be of the
    generator's type, since ``torch.randn(..., generator=g, device=d)`` needs both to match.
    """
    check_generator(generator)
    if device is None:
        return generator.device if generator is not None else torch.device("cpu")
    dev = check_device(device)
    if generator is not None and dev.type != generator.device.type:
        raise ValueError(
            f"generator lives on {generator.device} but device={dev} was requested; "
            "create the generator on the same device"
        )
    return dev


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


# ---------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------
#: A denoiser D(x; sigma) = E[x_0 | x_0 + sigma eps = x]; x has shape (B, ...), sigma (B,).
#: Every diffusion model of the course is called through this one interface.
Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def check_denoiser(denoiser: object, name: str = "denoiser") -> Denoiser:
    """A callable D(x, sigma)."""
    if not callable(denoiser):
        raise TypeError(f"{name} must be callable as D(x, sigma), got {type(denoiser).__name__}")
    return denoiser
