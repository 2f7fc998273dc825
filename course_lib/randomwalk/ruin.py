"""Gambler's ruin (Chapter 01, section 6).

A walk starts at k in {0, ..., N} and stops at 0 (ruin) or N (win). With r = q/p,
first-step analysis P_k = p P_(k+1) + q P_(k-1), P_0 = 0, P_N = 1 gives

    P(win | k) = (1 - r^k) / (1 - r^N)   (p != q),      k / N   (p = q)           (6.1)

and the expected duration D_k = 1 + p D_(k+1) + q D_(k-1), D_0 = D_N = 0 gives

    D_k = k / (q - p) - (N / (q - p)) (1 - r^k) / (1 - r^N)   (p != q),
    D_k = k (N - k)                                           (p = q).            (6.2)
"""

from __future__ import annotations

import math

import torch

from ..validation import check_int, check_probability, resolve_device

__all__ = ["expected_duration", "simulate_ruin", "win_probability"]


def _check_game(k: int, N: int, p: float) -> tuple[int, int, float]:
    N = check_int(N, "N", minimum=1)
    k = check_int(k, "k")
    if k > N:
        raise ValueError(f"start k must lie in [0, N] = [0, {N}], got {k}")
    return k, N, check_probability(p, open_interval=True)


def _ratio_term(k: int, N: int, p: float) -> float:
    # (1 - r^k) / (1 - r^N) = expm1(k log r) / expm1(N log r), stable for r near 1
    log_r = math.log((1 - p) / p)
    return math.expm1(k * log_r) / math.expm1(N * log_r)


def win_probability(k: int, N: int, p: float) -> float:
    """P(reach N before 0 | start at k), eq. (6.1); p must lie in (0, 1)."""
    k, N, p = _check_game(k, N, p)
    if p == 0.5:
        return k / N
    return _ratio_term(k, N, p)


def expected_duration(k: int, N: int, p: float) -> float:
    """E[number of steps until 0 or N | start at k], eq. (6.2); p must lie in (0, 1)."""
    k, N, p = _check_game(k, N, p)
    if p == 0.5:
        return float(k * (N - k))
    q = 1 - p
    return k / (q - p) - N / (q - p) * _ratio_term(k, N, p)


def simulate_ruin(
    k: int,
    N: int,
    p: float,
    n_games: int,
    *,
    generator: torch.Generator | None = None,
    device=None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Play ``n_games`` independent games; return (won: bool, duration: int64) per game.

    All unfinished games take one step per iteration; finished games drop out.
    """
    k, N, p = _check_game(k, N, p)
    n_games = check_int(n_games, "n_games", minimum=1)
    dev = resolve_device(device, generator)
    position = torch.full((n_games,), k, dtype=torch.int64, device=dev)
    duration = torch.zeros(n_games, dtype=torch.int64, device=dev)
    active = torch.nonzero((position > 0) & (position < N)).squeeze(1)
    t = 0
    while active.numel():
        t += 1
        u = torch.rand(active.numel(), generator=generator, device=dev, dtype=torch.float64)
        position[active] += torch.where(u < p, 1, -1)  # one step X = +1 w.p. p, else -1
        pos = position[active]
        done = (pos == 0) | (pos == N)
        duration[active[done]] = t
        active = active[~done]
    return position == N, duration
