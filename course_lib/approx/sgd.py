"""SGD, mini-batch GD and batch GD as Robbins–Monro algorithms (Chapter 03, section 5).

Minimise J(w) = E[f(w, X)]. Its minimiser is a root of g(w) = grad J(w) = E[grad_w f(w, X)],
and a sample gradient is a noisy observation of g, so RM (2.1) becomes

    BGD:   w_{k+1} = w_k - a_k (1/n) sum_{i=1}^{n} grad f(w_k, x_i)      (all data)      (5.1)
    MBGD:  w_{k+1} = w_k - a_k (1/m) sum_{j in I_k} grad f(w_k, x_j)     (|I_k| = m)     (5.2)
    SGD:   w_{k+1} = w_k - a_k grad f(w_k, x_k)                          (m = 1)         (5.3)

Mini-batches are drawn uniformly *with replacement*, independently across runs and steps.

**Least squares** (the quadratic form Chapter 02 studies): data X (n, d), y (n,),

    J(w) = (1/2n) ||X w - y||^2,   grad J(w) = (1/n) X^T (X w - y) = H (w - w*),        (5.4)

with H = X^T X / n and w* the least-squares solution (torch.linalg.lstsq). The sample
gradient is g_i(w) = x_i (x_i^T w - y_i) = A_i e + b_i with e = w - w*, A_i = x_i x_i^T and
b_i = x_i r_i, r_i = x_i^T w* - y_i; the normal equations give sum_i b_i = 0.

**Convergence pattern.** The relative error of the stochastic gradient,

    delta(w) = E_i ||g_i(w) - grad J(w)||^2 / ||grad J(w)||^2,                            (5.5)

stays bounded far from w* (numerator and denominator both grow like ||e||^2) and blows up
like ||e||^-2 near w* (the numerator tends to E ||b_i||^2 > 0): SGD behaves like GD far
away and randomly near the optimum.

**Exact second moments.** For deterministic w_1, P_k = E[e_k e_k^T] and mu_k = E[e_k] obey

    mu_{k+1} = (I - a_k H) mu_k,
    P_{k+1} = P_k - a_k (H P_k + P_k H)
              + a_k^2 [ (1 - 1/m) H P_k H
                        + (1/m)(1/n) sum_i (A_i P_k A_i + A_i mu_k b_i^T
                                            + b_i mu_k^T A_i + b_i b_i^T) ],     (5.6)

(1/m -> 0 for BGD), so E||w_k - w*||^2 = tr P_k is known without simulation.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..validation import check_generator, check_int, check_tensor, resolve_device
from .schedules import resolve_steps

__all__ = [
    "gradient_noise_ratio",
    "least_squares_grad",
    "least_squares_loss",
    "least_squares_solution",
    "minibatch_gd",
    "sgd_least_squares",
    "sgd_least_squares_moments",
    "sgd_mean",
]

SampleGrad = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _check_xy(X: object, y: object) -> tuple[torch.Tensor, torch.Tensor]:
    X = check_tensor(X, "X", min_dim=2)
    y = check_tensor(y, "y", min_dim=1)
    if X.dim() != 2 or y.dim() != 1 or X.shape[0] != y.shape[0]:
        raise ValueError(
            "X must be (n, d) and y (n,) with the same n, got "
            f"{tuple(X.shape)} and {tuple(y.shape)}"
        )
    if X.dtype != y.dtype or X.device != y.device:
        raise ValueError(f"X and y must share dtype and device, got {X.dtype}, {y.dtype}")
    return X, y


def _check_w(w: object, d: int, name: str = "w") -> torch.Tensor:
    w = check_tensor(w, name, min_dim=1)
    if w.shape[-1] != d:
        raise ValueError(f"{name} must have last dimension d = {d}, got shape {tuple(w.shape)}")
    return w


def least_squares_loss(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """J(w) = (1/2n) ||X w - y||^2 (5.4) for w of shape (..., d); returns shape (...)."""
    X, y = _check_xy(X, y)
    w = _check_w(w, X.shape[1])
    r = w @ X.T - y  # residuals, (..., n)
    return 0.5 * (r**2).mean(-1)


def least_squares_grad(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """grad J(w) = (1/n) X^T (X w - y) (5.4) for w of shape (..., d)."""
    X, y = _check_xy(X, y)
    w = _check_w(w, X.shape[1])
    return (w @ X.T - y) @ X / X.shape[0]


def least_squares_solution(X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The minimiser w* of ||X w - y||^2 by torch.linalg.lstsq (X of full column rank)."""
    X, y = _check_xy(X, y)
    if torch.linalg.matrix_rank(X) < X.shape[1]:
        raise ValueError(f"X must have full column rank d = {X.shape[1]} for a unique minimiser")
    return torch.linalg.lstsq(X, y.unsqueeze(-1)).solution.squeeze(-1)


def minibatch_gd(
    sample_grad: SampleGrad,
    n_data: int,
    w1: torch.Tensor,
    step_sizes: object,
    n_iter: int,
    *,
    batch_size: int | None = 1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Iterates of (5.1)-(5.3) for runs w1 of shape (runs, d); returns (n_iter+1, runs, d).

    ``sample_grad(w, idx)`` returns the batch-mean gradient (runs, d) for index tensor
    ``idx`` (runs, m). ``batch_size=None`` is BGD: every step uses all ``n_data`` points.
    """
    if not callable(sample_grad):
        raise TypeError(f"sample_grad must be callable, got {type(sample_grad).__name__}")
    n_data = check_int(n_data, "n_data", minimum=1)
    w1 = check_tensor(w1, "w1", min_dim=2)
    if w1.dim() != 2:
        raise ValueError(f"w1 must have shape (runs, d), got {tuple(w1.shape)}")
    n_iter = check_int(n_iter, "n_iter")
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", minimum=1)
    gen_dev = resolve_device(None, check_generator(generator))
    a = resolve_steps(step_sizes, n_iter).tolist()
    runs = w1.shape[0]
    full = torch.arange(n_data, device=w1.device).expand(runs, n_data)
    out = torch.empty((n_iter + 1, *w1.shape), dtype=w1.dtype, device=w1.device)
    out[0] = w = w1
    for k in range(n_iter):
        if batch_size is None:
            idx = full
        else:  # I_k: m indices uniform on {0..n-1}, with replacement, per run
            idx = torch.randint(
                0, n_data, (runs, batch_size), generator=generator, device=gen_dev
            ).to(w1.device)
        # region: mbgd-step
        # (5.2): w_{k+1} = w_k - a_k (1/m) sum_{j in I_k} grad f(w_k, x_j)
        w = w - a[k] * sample_grad(w, idx)
        # endregion: mbgd-step
        out[k + 1] = w
    return out


def sgd_mean(
    data: torch.Tensor,
    w1: torch.Tensor,
    step_sizes: object,
    n_iter: int,
    *,
    batch_size: int | None = 1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Mean estimation by SGD/MBGD/BGD: f(w, x) = ||w - x||^2 / 2, grad = w - x.

    ``data`` (n, d) is the finite sample; w1 (runs, d). With a_k = 1/k and batch size m,
    w_{k+1} is the mean of the k m sampled points.
    """
    data = check_tensor(data, "data", min_dim=2)
    w1 = _check_w(w1, data.shape[1], "w1")

    def grad(w: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return w - data[idx].mean(1)  # (1/m) sum_j (w - x_j)

    return minibatch_gd(
        grad, data.shape[0], w1, step_sizes, n_iter, batch_size=batch_size, generator=generator
    )


def sgd_least_squares(
    X: torch.Tensor,
    y: torch.Tensor,
    w1: torch.Tensor,
    step_sizes: object,
    n_iter: int,
    *,
    batch_size: int | None = 1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """SGD/MBGD/BGD on the least-squares objective (5.4); w1 (runs, d) -> (n_iter+1, runs, d)."""
    X, y = _check_xy(X, y)
    w1 = _check_w(w1, X.shape[1], "w1")

    def grad(w: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        Xb, yb = X[idx], y[idx]  # (runs, m, d), (runs, m)
        r = torch.einsum("rmd,rd->rm", Xb, w) - yb  # x_j^T w - y_j
        return (Xb * r.unsqueeze(-1)).mean(1)  # (1/m) sum_j x_j (x_j^T w - y_j)

    return minibatch_gd(
        grad, X.shape[0], w1, step_sizes, n_iter, batch_size=batch_size, generator=generator
    )


def gradient_noise_ratio(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """delta(w) of (5.5), exact over the n data points, for w of shape (..., d)."""
    X, y = _check_xy(X, y)
    w = _check_w(w, X.shape[1])
    r = w @ X.T - y  # (..., n)
    g_i = r.unsqueeze(-1) * X  # (..., n, d): g_i(w) = x_i (x_i^T w - y_i)
    g = g_i.mean(-2, keepdim=True)  # grad J(w)
    return ((g_i - g) ** 2).sum(-1).mean(-1) / (g**2).sum(-1).squeeze(-1)


def sgd_least_squares_moments(
    X: torch.Tensor,
    y: torch.Tensor,
    w1: torch.Tensor,
    step_sizes: object,
    n_iter: int,
    *,
    batch_size: int | None = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact mu_k = E[w_k - w*] (n_iter+1, d) and P_k = E[(w_k - w*)(w_k - w*)^T]
    (n_iter+1, d, d) of SGD/MBGD/BGD on least squares, by the recursion (5.6)."""
    X, y = _check_xy(X, y)
    w1 = _check_w(w1, X.shape[1], "w1")
    if w1.dim() != 1:
        raise ValueError(f"w1 must be one start of shape (d,), got {tuple(w1.shape)}")
    n_iter = check_int(n_iter, "n_iter")
    inv_m = 0.0 if batch_size is None else 1.0 / check_int(batch_size, "batch_size", minimum=1)
    X, y = X.double(), y.double()
    n, d = X.shape
    a = resolve_steps(step_sizes, n_iter).tolist()
    w_star = least_squares_solution(X, y)
    H = X.T @ X / n
    A = torch.einsum("ni,nj->nij", X, X)  # A_i = x_i x_i^T
    b = X * (X @ w_star - y).unsqueeze(-1)  # b_i = x_i r_i
    bb = torch.einsum("ni,nj->ij", b, b) / n  # (1/n) sum b_i b_i^T
    mu = torch.empty(n_iter + 1, d, dtype=torch.float64)
    P = torch.empty(n_iter + 1, d, d, dtype=torch.float64)
    mu[0] = e = w1.double() - w_star
    P[0] = torch.outer(e, e)
    for k in range(n_iter):
        m_k, P_k = mu[k], P[k]
        APA = (A @ P_k @ A).mean(0)  # (1/n) sum A_i P A_i
        Amb = (
            ((X @ m_k).unsqueeze(1) * X).T @ b / n
        )  # (1/n) sum A_i mu b_i^T, A_i mu = x_i (x_i^T mu)
        noise = (1 - inv_m) * H @ P_k @ H + inv_m * (APA + Amb + Amb.T + bb)
        P[k + 1] = P_k - a[k] * (H @ P_k + P_k @ H) + a[k] ** 2 * noise
        mu[k + 1] = m_k - a[k] * H @ m_k
    return mu, P
