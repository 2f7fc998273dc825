"""Mean estimation, the first stochastic-approximation algorithm (Chapter 03, section 1).

With samples x_1, x_2, ... of X, the non-incremental estimate after k samples is

    w_{k+1} = (1/k) sum_{i=1}^{k} x_i.                                            (1.1)

Since k w_{k+1} = (k - 1) w_k + x_k, the same numbers come from the incremental update

    w_{k+1} = w_k - (1/k) (w_k - x_k),    k = 1, 2, ...                         (1.2)

(w_1 is arbitrary: a_1 = 1 overwrites it). Replacing 1/k by a general a_k gives

    w_{k+1} = w_k - a_k (w_k - x_k) = (1 - a_k) w_k + a_k x_k,                 (1.3)

a weighted average: unrolling (1.3),

    w_{n+1} = prod_{i<=n} (1 - a_i) w_1 + sum_{i<=n} a_i prod_{i<j<=n} (1 - a_j) x_i.      (1.4)

A constant a weighs the last samples most (an exponential moving average): its mean still
tends to E[X], but for i.i.d. samples with variance s^2 its variance tends to

    Var[w_inf] = a^2 s^2 / (1 - (1 - a)^2) = a s^2 / (2 - a)   (does not shrink).   (1.5)
"""

from __future__ import annotations

import torch

from ..validation import check_real, check_tensor
from .schedules import resolve_steps

__all__ = [
    "batch_means",
    "constant_step_variance",
    "estimator_weights",
    "incremental_mean",
]


def batch_means(x: torch.Tensor) -> torch.Tensor:
    """Non-incremental running means (1.1): out[k-1] = (1/k) sum_{i<=k} x_i along dim 0."""
    x = check_tensor(x, "x", min_dim=1)
    k = torch.arange(1, x.shape[0] + 1, dtype=x.dtype, device=x.device)
    return torch.cumsum(x, 0) / k.reshape(-1, *([1] * (x.dim() - 1)))


def incremental_mean(
    x: torch.Tensor, step_sizes: object = None, w1: float | torch.Tensor = 0.0
) -> torch.Tensor:
    """Iterates w_1, ..., w_{n+1} of (1.3) for samples x of shape (n, ...) (samples on dim 0).

    ``step_sizes`` defaults to a_k = 1/k, i.e. (1.2), whose w_{k+1} is the running mean (1.1).
    Returns a tensor of shape (n + 1, ...); entry k-1 is w_k.
    """
    x = check_tensor(x, "x", min_dim=1)
    n = x.shape[0]
    if step_sizes is None:
        a = 1.0 / torch.arange(1, n + 1, dtype=x.dtype, device=x.device)
    else:
        a = resolve_steps(step_sizes, n, dtype=x.dtype, device=x.device)
    w = torch.as_tensor(w1, dtype=x.dtype, device=x.device).expand(x.shape[1:]).clone()
    out = torch.empty((n + 1, *x.shape[1:]), dtype=x.dtype, device=x.device)
    out[0] = w
    for k in range(n):
        # region: incremental
        # (1.3): w_{k+1} = w_k - a_k (w_k - x_k)
        w = w - a[k] * (w - x[k])
        # endregion: incremental
        out[k + 1] = w
    return out


def estimator_weights(step_sizes: object, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The weights of (1.4): (weight of w_1, weights (n,) of x_1..x_n) in float64.

    lam_i = a_i prod_{j>i} (1 - a_j); the weights plus the weight of w_1 sum to 1.
    """
    a = resolve_steps(step_sizes, n)
    keep = 1 - a
    # suffix products prod_{j=i+1}^{n} (1 - a_j), computed by a reversed cumulative product
    tail = torch.cat([torch.flip(torch.cumprod(torch.flip(keep, [0]), 0), [0])[1:], a.new_ones(1)])
    return torch.prod(keep), a * tail


def constant_step_variance(a: float, sigma2: float) -> float:
    """Stationary variance a s^2 / (2 - a) of the constant-step estimate (1.5), 0 < a < 2."""
    a = check_real(a, "a", low=0.0, high=2.0, low_open=True, high_open=True)
    sigma2 = check_real(sigma2, "sigma2", low=0.0)
    return a * sigma2 / (2 - a)
