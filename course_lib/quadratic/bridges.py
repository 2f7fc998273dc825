"""Two quadratic forms met elsewhere in the course (Chapter 02, section 9).

Gaussian log-density (Chapter 05's mixtures). For N(m, Σ) in Rⁿ,

    log p(x) = -½(x - m)ᵀΣ⁻¹(x - m) - ½ log det(2πΣ)
             = xᵀ(-½Σ⁻¹)x + (Σ⁻¹m)ᵀx + (-½mᵀΣ⁻¹m - ½ log det(2πΣ)),                   (9.1)

a quadratic form with A = -½Σ⁻¹, Hessian 2A = -Σ⁻¹, and its maximum at x* = m.

Least squares (Chapter 03's SGD). For X (N, d) and y (N,),

    ‖Xw - y‖² = wᵀ(XᵀX)w + (-2Xᵀy)ᵀw + yᵀy,                                            (9.2)

so A = XᵀX, b = -2Xᵀy, c = yᵀy; ∇ = 2XᵀXw - 2Xᵀy and x* = (XᵀX)⁻¹Xᵀy (normal equations).
"""

from __future__ import annotations

import math

import torch

from ..validation import check_square_matrix, check_tensor
from .forms import QuadraticForm, as_vector

__all__ = ["gaussian_log_density_form", "least_squares_form"]


def gaussian_log_density_form(mean: torch.Tensor, cov: torch.Tensor) -> QuadraticForm:
    """The quadratic form of log N(x; mean, cov) (9.1); ``cov`` must be positive definite."""
    cov = check_square_matrix(cov, "cov")
    mean = as_vector(mean, "mean", cov.shape[0], cov)
    L, info = torch.linalg.cholesky_ex(cov)
    if int(info) != 0:
        raise ValueError("cov must be symmetric positive definite (its Cholesky factor failed)")
    # region: gaussian
    precision = torch.cholesky_inverse(L)  # Σ⁻¹
    n = cov.shape[0]
    logdet = 2 * torch.log(torch.diagonal(L)).sum()  # log det Σ
    A = -0.5 * precision  # (9.1): A = -½Σ⁻¹
    b = precision @ mean  # b = Σ⁻¹m
    c = -0.5 * mean @ precision @ mean - 0.5 * (n * math.log(2 * math.pi) + logdet)
    # endregion: gaussian
    return QuadraticForm(A, b, float(c))


def least_squares_form(X: torch.Tensor, y: torch.Tensor) -> QuadraticForm:
    """The quadratic form of w ↦ ‖Xw - y‖² (9.2) for X (N, d) and y (N,)."""
    X = check_tensor(X, "X", min_dim=2)
    if X.dim() != 2:
        raise ValueError(f"X must be a matrix (N, d), got shape {tuple(X.shape)}")
    y = check_tensor(y, "y", min_dim=1)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {tuple(y.shape)}")
    # region: least-squares
    A = X.T @ X  # (9.2): A = XᵀX
    b = -2 * X.T @ y  # b = -2Xᵀy
    c = y @ y  # c = yᵀy
    # endregion: least-squares
    return QuadraticForm(A, b, float(c))
