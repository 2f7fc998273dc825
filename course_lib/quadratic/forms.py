"""Quadratic forms f(x) = xᵀAx + bᵀx + c: matrices, derivatives, stationary sets.

Derivation (Chapter 02, sections 1-4; equation tags shared with the notebook).

A quadratic polynomial in x ∈ Rⁿ with coefficients a_ij, b_k, c is, in matrix form,

    f(x) = Σ_ij a_ij x_i x_j + Σ_k b_k x_k + c = xᵀMx + bᵀx + c,   M = (a_ij).       (1.1)

Only the symmetric part of M matters: with M = S + K, S = (M + Mᵀ)/2, K = (M - Mᵀ)/2,
xᵀKx = (xᵀKx)ᵀ = xᵀKᵀx = -xᵀKx, so xᵀKx = 0 and we take A = S:                       (1.2)

    f(x) = xᵀAx + bᵀx + c,   A = Aᵀ.

Article form and convenient form. Differentiating,

    ∇f(x) = 2Ax + b,          ∇²f = 2A.                                              (2.1)

"For later convenience" one writes the same function as f(x) = ½xᵀQx - pᵀx + c with
Q = 2A and p = -b, so that the factor 2 disappears:

    ∇f(x) = Qx - p,           ∇²f = Q.                                               (2.2)

Stationary point. If A is invertible, ∇f = 0 gives

    x* = -½ A⁻¹ b = Q⁻¹ p,                                                           (3.1)

and completing the square (expand the right side and use 2Ax* = -b):

    f(x) = (x - x*)ᵀ A (x - x*) + f(x*),   f(x*) = c - ¼ bᵀA⁻¹b = c + ½ bᵀx*.         (3.2)

Geometry. With A = VΛVᵀ and y = Vᵀ(x - x*), f = f(x*) + Σ_i λ_i y_i²:              (4.1)
all λ_i > 0 gives a minimum (level sets are ellipsoids), all λ_i < 0 a maximum,
mixed signs a saddle (hyperbolic level sets). If A is singular, 2Ax = -b is solvable
iff b is orthogonal to null(A) = range(A)^⊥; then the stationary set is the affine
subspace x₀ + null(A) with x₀ = -½A⁺b (a valley of minima when the non-zero λ_i are
positive, a ridge of maxima when negative, a degenerate saddle when mixed), otherwise
there is no stationary point and f is unbounded above and below along null(A).        (4.2)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..validation import check_real, check_square_matrix, check_tensor

__all__ = [
    "KINDS",
    "LEVEL_SETS_2D",
    "QuadraticForm",
    "Stationary",
    "as_vector",
    "grid_classify",
    "polynomial_value",
]

#: The kinds of stationary set :meth:`QuadraticForm.stationary` can report.
KINDS = (
    "minimum",
    "maximum",
    "saddle",
    "valley",
    "ridge",
    "degenerate saddle",
    "none",
    "constant",
)

#: The shape of the level sets {f = level} of a form in two variables, by kind (4.1)-(4.2).
LEVEL_SETS_2D = {
    "minimum": "ellipses",
    "maximum": "ellipses",
    "saddle": "hyperbolas",
    "valley": "parallel lines",
    "ridge": "parallel lines",
    "none": "parabolas",
    "constant": "the whole plane (one level)",
}


def _as_real_tensor(
    x: object, name: str, *, dtype: torch.dtype | None, device: str | torch.device | None
) -> torch.Tensor:
    """A tensor from a tensor, an array or nested lists of real numbers; complex is rejected."""
    if isinstance(x, torch.Tensor):
        if x.is_complex():
            raise TypeError(f"{name} must be real, got complex dtype {x.dtype}")
        t = x
    else:
        arr = np.asarray(x)
        if arr.dtype.kind == "c":
            raise TypeError(f"{name} must be real, got complex values")
        if arr.dtype.kind not in "iuf":
            raise TypeError(f"{name} must hold real numbers, got {type(x).__name__}")
        t = torch.as_tensor(arr, dtype=torch.float64)
    if not t.is_floating_point():
        t = t.to(torch.float64)
    return t.to(dtype=dtype or t.dtype, device=device or t.device)


def as_vector(v: object, name: str, n: int, like: torch.Tensor) -> torch.Tensor:
    """A finite real vector of length ``n`` in ``like``'s dtype and on its device."""
    if isinstance(v, torch.Tensor) and v.is_complex():
        raise TypeError(f"{name} must be real, got complex dtype {v.dtype}")
    t = _as_real_tensor(v, name, dtype=like.dtype, device=like.device)
    if t.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) to match A, got {tuple(t.shape)}")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} must have finite entries, got NaN or infinity")
    return t


def polynomial_value(a: object, b: object, c: float, x: object) -> float:
    """Σ_ij a_ij x_i x_j + Σ_k b_k x_k + c, term by term in plain Python (1.1).

    The slow, obviously-correct route that the matrix form is checked against.
    """
    a_rows = [[float(v) for v in row] for row in np.asarray(a, dtype=float)]
    b_list = [float(v) for v in np.asarray(b, dtype=float)]
    x_list = [float(v) for v in np.asarray(x, dtype=float)]
    total = float(c)
    for i, row in enumerate(a_rows):
        for j, a_ij in enumerate(row):
            total += a_ij * x_list[i] * x_list[j]
    for k, b_k in enumerate(b_list):
        total += b_k * x_list[k]
    return total


@dataclass(frozen=True)
class Stationary:
    """The stationary set {x : ∇f(x) = 0} of a quadratic form and its classification (4.2).

    ``point`` is x* when it is unique, else the particular point x₀ = -½A⁺b of the affine
    set ``point + span(directions)``; both are ``None``-free only when ``kind != "none"``.
    ``directions`` (n, k) is an orthonormal basis of null(A) (k = 0 when A is invertible).
    """

    kind: str
    point: torch.Tensor | None
    directions: torch.Tensor
    value: float | None
    eigenvalues: torch.Tensor
    eigenvectors: torch.Tensor

    @property
    def dimension(self) -> int:
        """Dimension of the stationary set: 0 for a point, k for a k-flat, -1 when empty."""
        return -1 if self.kind == "none" else int(self.directions.shape[1])

    @property
    def is_extremum(self) -> bool:
        """True for a (possibly non-strict) minimum or maximum."""
        return self.kind in ("minimum", "maximum", "valley", "ridge", "constant")


class QuadraticForm:
    """f(x) = xᵀAx + bᵀx + c with A symmetrised on construction (1.2).

    ``A`` is a real (n, n) tensor; ``b`` a length-n vector (default 0); ``c`` a real
    number. Everything follows ``A``'s dtype and device. Methods take points ``x`` of shape
    (..., n), so one call evaluates a whole batch of points.
    """

    def __init__(self, A: torch.Tensor, b: object | None = None, c: float = 0.0) -> None:
        A = check_square_matrix(A, "A")
        n = A.shape[0]
        self.A_given = A
        # A <- (A + Aᵀ)/2: the antisymmetric part adds nothing to xᵀAx (1.2)
        self.A = (A + A.T) / 2
        self.b = (
            torch.zeros(n, dtype=A.dtype, device=A.device) if b is None else as_vector(b, "b", n, A)
        )
        self.c = check_real(c, "c")

    # -- construction --------------------------------------------------------------
    @classmethod
    def from_coefficients(
        cls,
        a: object,
        b: object,
        c: float,
        *,
        dtype: torch.dtype = torch.float64,
        device: str | torch.device | None = None,
    ) -> QuadraticForm:
        """The form of Σ_ij a_ij x_i x_j + Σ_k b_k x_k + c (1.1); ``a`` need not be symmetric."""
        a_t = _as_real_tensor(a, "a", dtype=dtype, device=device)
        return cls(a_t, b, c)

    @classmethod
    def from_half_form(cls, Q: torch.Tensor, p: object, c: float = 0.0) -> QuadraticForm:
        """The form written "for convenience" as ½xᵀQx - pᵀx + c, i.e. A = Q/2, b = -p (2.2)."""
        Q = check_square_matrix(Q, "Q")
        p = as_vector(p, "p", Q.shape[0], Q)
        return cls(Q / 2, -p, c)

    def half_form(self) -> tuple[torch.Tensor, torch.Tensor, float]:
        """(Q, p, c) with f(x) = ½xᵀQx - pᵀx + c: Q = 2A, p = -b (2.2)."""
        return 2 * self.A, -self.b, self.c

    # -- basic properties ----------------------------------------------------------
    @property
    def n(self) -> int:
        return int(self.A.shape[0])

    @property
    def dtype(self) -> torch.dtype:
        return self.A.dtype

    @property
    def device(self) -> torch.device:
        return self.A.device

    def __repr__(self) -> str:
        return f"QuadraticForm(n={self.n}, dtype={self.dtype}, device={self.device})"

    def _points(self, x: object) -> torch.Tensor:
        x = check_tensor(x, "x", min_dim=1)
        if x.shape[-1] != self.n:
            raise ValueError(f"x must have shape (..., {self.n}), got {tuple(x.shape)}")
        if x.dtype != self.dtype or x.device != self.device:
            raise ValueError(
                f"x must have the form's dtype {self.dtype} on {self.device}, "
                f"got {x.dtype} on {x.device}"
            )
        return x

    # -- value and derivatives -----------------------------------------------------
    def value(self, x: torch.Tensor) -> torch.Tensor:
        """f(x) = xᵀAx + bᵀx + c for x of shape (..., n); returns shape (...) (1.2)."""
        x = self._points(x)
        # region: value
        # xᵀAx + bᵀx + c, one row of x at a time (A is symmetric, so x @ A = (Ax)ᵀ)
        return (x * (x @ self.A)).sum(-1) + x @ self.b + self.c
        # endregion: value

    def gradient(self, x: torch.Tensor) -> torch.Tensor:
        """∇f(x) = 2Ax + b (2.1), shape (..., n)."""
        x = self._points(x)
        # region: gradient
        # ∇f(x) = 2Ax + b   (2.1): the 2 comes from x appearing twice in xᵀAx
        return 2 * x @ self.A + self.b
        # endregion: gradient

    def hessian(self) -> torch.Tensor:
        """∇²f = 2A (2.1), shape (n, n)."""
        return 2 * self.A

    def eigh(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Eigenvalues (ascending) and orthonormal eigenvectors (columns) of A (4.1)."""
        return torch.linalg.eigh(self.A)

    # -- stationary set --------------------------------------------------------------
    def _rank_tol(self, lam: torch.Tensor, rtol: float | None) -> float:
        eps = torch.finfo(self.dtype).eps
        rtol = 1000 * self.n * eps if rtol is None else check_real(rtol, "rtol", low=0.0)
        return rtol * float(lam.abs().max())

    def stationary(self, rtol: float | None = None) -> Stationary:
        """Solve ∇f = 0 and classify the stationary set (3.1), (4.2).

        Eigenvalues with |λ| <= rtol · max|λ| count as zero (default rtol = 1000 n eps of
        the dtype); b lies in range(A) when its component in null(A) is at most
        rtol · ‖b‖ (plus the same relative floor).
        """
        lam, V = self.eigh()
        tol = self._rank_tol(lam, rtol)
        zero = lam.abs() <= tol
        pos, neg = lam > tol, lam < -tol
        null = V[:, zero]
        # the range test ‖b_null‖ <= rtol‖b‖ is scale-free, so compare b/max|b_i|: ‖b‖ of a
        # tiny b (|b_i| ~ 1e-170 in float64) underflows to 0 when computed unscaled
        b_max = float(self.b.abs().max())
        b_unit = self.b / b_max if b_max > 0 else self.b
        b_null = null.T @ b_unit
        rtol_b = (1000 * self.n * torch.finfo(self.dtype).eps) if rtol is None else rtol
        b_scale = float(b_unit.norm())
        if bool(zero.all()):
            if b_scale == 0.0:
                x0 = torch.zeros_like(self.b)
                return Stationary("constant", x0, null, self.c, lam, V)
            return Stationary("none", None, null, None, lam, V)
        if float(b_null.norm()) > rtol_b * b_scale:
            return Stationary("none", None, null, None, lam, V)
        # region: stationary-point
        # x* = -½ A⁺ b on the eigenvectors with λ ≠ 0 (3.1); equals -½A⁻¹b when A is invertible
        keep = ~zero
        x0 = -0.5 * V[:, keep] @ ((V[:, keep].T @ self.b) / lam[keep])
        # f(x*) = c + ½ bᵀx*   (3.2)
        value = self.c + 0.5 * float(self.b @ x0)
        # endregion: stationary-point
        has_pos, has_neg = bool(pos.any()), bool(neg.any())
        singular = bool(zero.any())
        if has_pos and has_neg:
            kind = "degenerate saddle" if singular else "saddle"
        elif has_pos:
            kind = "valley" if singular else "minimum"
        else:
            kind = "ridge" if singular else "maximum"
        return Stationary(kind, x0, null, value, lam, V)

    def stationary_point(self) -> torch.Tensor:
        """x* = -½A⁻¹b (3.1); ``ValueError`` when A is singular (see :meth:`stationary`)."""
        st = self.stationary()
        if st.kind == "none" or st.dimension != 0:
            raise ValueError(
                f"A is singular (stationary set: {st.kind}, dimension {st.dimension}); "
                "x* = -½A⁻¹b needs an invertible A"
            )
        return torch.linalg.solve(self.A, -0.5 * self.b)

    def completed_square(self, x: torch.Tensor) -> torch.Tensor:
        """(x - x₀)ᵀA(x - x₀) + f(x₀) with x₀ a stationary point (3.2); needs b ∈ range(A)."""
        x = self._points(x)
        st = self.stationary()
        if st.kind == "none":
            raise ValueError("f has no stationary point (b is not in the range of A): no square")
        d = x - st.point
        return (d * (d @ self.A)).sum(-1) + st.value


def grid_classify(form: QuadraticForm, radius: float, n_grid: int = 201) -> str:
    """Classify a two-variable form by brute force on a grid over [-radius, radius]² (4.2).

    Independent of the eigen-decomposition: the gradient is estimated by finite differences
    of grid values; no grid node with a near-zero finite-difference gradient means "none".
    Otherwise, relative to the node f₀ nearest to stationarity, values both clearly above
    and below f₀ mean "saddle"; only above means a minimum, only below a maximum, and the
    near-optimal set {|f - f₀| < 10⁻³·range} decides between a point (its bounding box's
    diagonal below the radius) and a line (a valley or ridge crossing the box). Assumes the
    stationary set meets [-radius/2, radius/2]² and non-zero eigenvalues within a factor 25
    of each other.
    """
    if form.n != 2:
        raise ValueError(f"grid_classify needs a form in 2 variables, got n = {form.n}")
    radius = check_real(radius, "radius", low=0.0, low_open=True)
    s = torch.linspace(-radius, radius, n_grid, dtype=torch.float64)
    X, Y = torch.meshgrid(s, s, indexing="ij")
    pts = torch.stack([X, Y], dim=-1).to(form.dtype)
    F = form.value(pts.to(form.device)).double().cpu()
    span = float(F.max() - F.min())
    if span <= 1e-12 * (1 + abs(float(F.mean()))):
        return "constant"
    h = float(s[1] - s[0])
    # central differences are exact for a quadratic: ∇f at the interior nodes ...
    gx, gy = torch.gradient(F, spacing=h)
    G = torch.sqrt(gx**2 + gy**2)[1:-1, 1:-1]
    # ... and second differences give the Hessian, bounding |∇f| at the node nearest to x*
    dxx = (F[2:, 1:-1] - 2 * F[1:-1, 1:-1] + F[:-2, 1:-1]) / h**2
    dyy = (F[1:-1, 2:] - 2 * F[1:-1, 1:-1] + F[1:-1, :-2]) / h**2
    dxy = (F[2:, 2:] - F[2:, :-2] - F[:-2, 2:] + F[:-2, :-2]) / (4 * h**2)
    h_norm = max(float(dxx.abs().max()), float(dyy.abs().max())) + float(dxy.abs().max())
    if float(G.min()) > h_norm * h + 1e-9 * span / radius:
        return "none"
    i, j = np.unravel_index(int(torch.argmin(G)), G.shape)
    f0 = float(F[i + 1, j + 1])
    eps = 1e-3 * span
    above, below = bool((F > f0 + eps).any()), bool((F < f0 - eps).any())
    if above and below:
        return "saddle"
    near = torch.nonzero((F - f0).abs() < eps).double() * h
    # the diagonal of the near-optimal set's bounding box: > radius only for a line
    diameter = float((near.max(0).values - near.min(0).values).norm())
    line = diameter > radius
    if above:
        return "valley" if line else "minimum"
    return "ridge" if line else "maximum"
