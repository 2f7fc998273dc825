"""Path statistics, path counting and the reflection principle (Chapter 01, sections 3-5).

Counting (all 2^n paths equally likely when p = 1/2):

    N_n(a, b) = C(n, (n + b - a)/2)   paths from a to b in n steps                  (5.1)
    reflection: for a, b > 0 the paths from a to b that touch 0 number N_n(-a, b)  (5.2)
    ballot:     paths from 0 to k > 0 with S_1, ..., S_n > 0 number (k/n) N_n(0, k) (5.3)

Path statistics operate on a tensor of paths of shape (n_walks, n + 1), S_0 first.
"""

from __future__ import annotations

import math

import torch

from ..validation import check_int

__all__ = [
    "ballot_count",
    "enumerate_paths",
    "first_hitting_times",
    "first_return_times",
    "path_count",
    "reflected_path_count",
]


def _check_paths(paths: torch.Tensor) -> None:
    if not isinstance(paths, torch.Tensor):
        raise TypeError(f"paths must be a torch.Tensor, got {type(paths).__name__}")
    if paths.dim() != 2 or paths.shape[1] < 1:
        raise ValueError(f"paths must have shape (n_walks, n_steps + 1), got {tuple(paths.shape)}")


def _first_true(mask: torch.Tensor) -> torch.Tensor:
    """Column index of the first True in each row, or -1 where the row has none."""
    if mask.shape[1] == 0:  # paths of S_0 alone: nothing to find (argmax needs a column)
        return torch.full(mask.shape[:1], -1, dtype=torch.int64, device=mask.device)
    found = mask.any(dim=1)
    idx = mask.to(torch.uint8).argmax(dim=1)  # argmax returns the first maximum
    return torch.where(found, idx, torch.full_like(idx, -1))


def first_hitting_times(paths: torch.Tensor, level: int) -> torch.Tensor:
    """T_level = min{k >= 1 : S_k = level} per path (int64), or -1 if not hit in the window."""
    _check_paths(paths)
    if isinstance(level, bool) or not isinstance(level, int):
        raise TypeError(f"level must be an int, got {type(level).__name__}")
    t = _first_true(paths[:, 1:] == level)
    return torch.where(t >= 0, t + 1, t)


def first_return_times(paths: torch.Tensor) -> torch.Tensor:
    """T_0 = min{k >= 1 : S_k = S_0} per path (int64), or -1 if no return in the window."""
    _check_paths(paths)
    t = _first_true(paths[:, 1:] == paths[:, :1])
    return torch.where(t >= 0, t + 1, t)


def enumerate_paths(n: int, *, device=None) -> torch.Tensor:
    """All 2^n paths of length n from 0, shape (2^n, n + 1), int64 (brute force, n <= 20)."""
    n = check_int(n, "n")
    if n > 20:
        raise ValueError(f"enumerate_paths is brute force; n must be <= 20, got {n}")
    codes = torch.arange(2**n, device=device, dtype=torch.int64)
    bits = (codes[:, None] >> torch.arange(n, device=device)) & 1
    steps = 2 * bits - 1  # bit 1 -> +1, bit 0 -> -1
    return torch.cat([torch.zeros(2**n, 1, dtype=torch.int64, device=device), steps.cumsum(1)], 1)


def path_count(n: int, a: int, b: int) -> int:
    """N_n(a, b) = C(n, (n + b - a)/2), eq. (5.1); zero when b is unreachable."""
    n = check_int(n, "n")
    up2 = n + b - a
    if up2 < 0 or up2 > 2 * n or up2 % 2:
        return 0
    return math.comb(n, up2 // 2)


def reflected_path_count(n: int, a: int, b: int) -> int:
    """Paths from a > 0 to b > 0 in n steps that touch or cross 0: N_n(-a, b), eq. (5.2)."""
    if a <= 0 or b <= 0:
        raise ValueError(f"the reflection principle needs a > 0 and b > 0, got a={a}, b={b}")
    return path_count(n, -a, b)


def ballot_count(n: int, k: int) -> int:
    """Paths from 0 to k > 0 in n steps with S_1, ..., S_n > 0: (k/n) N_n(0, k), eq. (5.3)."""
    n = check_int(n, "n", minimum=1)
    if k <= 0:
        raise ValueError(f"the ballot theorem needs k > 0, got {k}")
    total = path_count(n, 0, k)
    # exact: (k/n) N_n(0, k) = N_(n-1)(1, k) - N_(n-1)(-1, k) (reflect the paths that touch 0)
    return path_count(n - 1, 1, k) - path_count(n - 1, -1, k) if total else 0
