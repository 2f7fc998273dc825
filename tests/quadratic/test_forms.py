"""Quadratic forms: matrix form, symmetrisation, derivatives, stationary sets and their kinds."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from course_lib.quadratic import KINDS, QuadraticForm, grid_classify, polynomial_value

F64 = torch.float64


def _rotation(theta: float) -> torch.Tensor:
    c, s = math.cos(theta), math.sin(theta)
    return torch.tensor([[c, -s], [s, c]], dtype=F64)


def _form_2d(l1: float, l2: float, theta: float, b_range: tuple, b_null: float = 0.0):
    """A = R diag(l1, l2) Rᵀ and b = R (b_range ⊙ [l ≠ 0] + b_null · [l = 0])."""
    R = _rotation(theta)
    lam = torch.tensor([l1, l2], dtype=F64)
    A = R @ torch.diag(lam) @ R.T
    coef = torch.tensor(b_range, dtype=F64) * (lam != 0) + b_null * (lam == 0)
    return QuadraticForm(A, R @ coef, 0.5)


def test_matrix_form_matches_the_polynomial_term_by_term():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(4, 4, generator=g, dtype=F64)  # not symmetric
    b = torch.randn(4, generator=g, dtype=F64)
    f = QuadraticForm.from_coefficients(a, b, 1.5)
    x = torch.randn(20, 4, generator=g, dtype=F64)
    poly = [polynomial_value(a, b, 1.5, xi) for xi in x]
    assert torch.allclose(f.value(x), torch.tensor(poly, dtype=F64), rtol=1e-12, atol=1e-12)
    assert torch.equal(f.A, f.A.T)
    assert not torch.equal(f.A, a)


def test_antisymmetric_part_contributes_nothing():
    g = torch.Generator().manual_seed(1)
    m = torch.randn(5, 5, generator=g, dtype=F64)
    k = (m - m.T) / 2
    x = torch.randn(100, 5, generator=g, dtype=F64)
    assert torch.allclose(((x @ k) * x).sum(-1), torch.zeros(100, dtype=F64), atol=1e-13)
    # and the symmetrised form equals the unsymmetrised polynomial with the original matrix
    f = QuadraticForm(m)
    assert torch.allclose(f.value(x), ((x @ m.T) * x).sum(-1), rtol=1e-12)
    assert torch.allclose(f.A, (m + m.T) / 2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_and_hessian_match_autograd_in_both_forms(seed):
    g = torch.Generator().manual_seed(seed)
    n = 5
    a = torch.randn(n, n, generator=g, dtype=F64)
    b = torch.randn(n, generator=g, dtype=F64)
    f = QuadraticForm(a, b, -0.3)
    x = torch.randn(n, generator=g, dtype=F64, requires_grad=True)

    def article(v):  # f = vᵀ a v + bᵀv + c with the raw (non-symmetric) a
        return v @ a @ v + b @ v - 0.3

    (auto,) = torch.autograd.grad(article(x), x)
    assert torch.allclose(f.gradient(x.detach()), auto, rtol=1e-12)
    hess = torch.func.hessian(article)(x.detach())
    assert torch.allclose(f.hessian(), hess, rtol=1e-12)
    # the convenient form ½xᵀQx - pᵀx + c is the same function, with gradient Qx - p
    Q, p, c = f.half_form()
    assert torch.allclose(Q, 2 * f.A) and torch.allclose(p, -b)

    def half(v):
        return 0.5 * v @ Q @ v - p @ v + c

    (auto_half,) = torch.autograd.grad(half(x), x)
    assert torch.allclose(Q @ x.detach() - p, auto_half, rtol=1e-12)
    assert torch.allclose(auto_half, auto, rtol=1e-12)
    assert torch.allclose(torch.func.hessian(half)(x.detach()), Q, rtol=1e-12)
    # from_half_form inverts half_form, and the usual slip (A = Q) would be a factor 2 off
    back = QuadraticForm.from_half_form(Q, p, c)
    assert torch.allclose(back.A, f.A) and torch.allclose(back.b, f.b) and back.c == f.c
    assert not torch.allclose(QuadraticForm(Q, -p, c).gradient(x.detach()), auto)


def test_closed_form_minimiser_matches_a_numerical_minimiser():
    g = torch.Generator().manual_seed(3)
    m = torch.randn(4, 4, generator=g, dtype=F64)
    A = m @ m.T + 0.5 * torch.eye(4, dtype=F64)
    b = torch.randn(4, generator=g, dtype=F64)
    f = QuadraticForm(A, b, 2.0)
    x_star = f.stationary_point()
    res = optimize.minimize(
        lambda v: float(f.value(torch.from_numpy(v))), np.zeros(4), method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20_000},
    )  # fmt: skip
    assert np.allclose(res.x, x_star.numpy(), atol=1e-6)
    assert torch.allclose(x_star, -0.5 * torch.linalg.inv(A) @ b, rtol=1e-10)
    st = f.stationary()
    assert st.kind == "minimum" and math.isclose(st.value, res.fun, rel_tol=1e-9, abs_tol=1e-9)


def test_completed_square_equals_the_form():
    g = torch.Generator().manual_seed(4)
    for A in (
        torch.randn(3, 3, generator=g, dtype=F64),
        torch.tensor([[1.0, 1], [1, 1]], dtype=F64),
    ):
        b = A @ torch.randn(A.shape[0], generator=g, dtype=F64)  # b in range(A), also if singular
        f = QuadraticForm(A, b, 0.7)
        x = torch.randn(50, A.shape[0], generator=g, dtype=F64)
        assert torch.allclose(f.completed_square(x), f.value(x), rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match="no stationary point"):
        QuadraticForm(torch.tensor([[1.0, 1], [1, 1]], dtype=F64), [1.0, -1.0]).completed_square(
            torch.zeros(2, dtype=F64)
        )


@pytest.mark.parametrize(
    ("l1", "l2", "b_null", "kind", "dim"),
    [
        (2.0, 0.5, 0.0, "minimum", 0),
        (-2.0, -0.5, 0.0, "maximum", 0),
        (2.0, -1.0, 0.0, "saddle", 0),
        (1.5, 0.0, 0.0, "valley", 1),
        (-1.5, 0.0, 0.0, "ridge", 1),
        (1.5, 0.0, 1.0, "none", -1),
        (-1.5, 0.0, -2.0, "none", -1),
        (0.0, 0.0, 0.0, "constant", 2),
    ],
)
def test_classification_of_named_cases(l1, l2, b_null, kind, dim):
    f = _form_2d(l1, l2, 0.4, (0.3, -0.2), b_null)
    st = f.stationary()
    assert st.kind == kind and st.dimension == dim
    assert grid_classify(f, 3.0) == kind
    if st.point is not None:  # the gradient vanishes on the whole stationary set
        pts = st.point + torch.linspace(-2, 2, 5, dtype=F64)[:, None] * st.directions.sum(-1)
        assert torch.allclose(f.gradient(pts), torch.zeros_like(pts), atol=1e-12)


def test_degenerate_saddle_in_three_variables():
    A = torch.diag(torch.tensor([1.0, -2.0, 0.0], dtype=F64))
    st = QuadraticForm(A, [1.0, 1.0, 0.0]).stationary()
    assert st.kind == "degenerate saddle" and st.dimension == 1
    assert QuadraticForm(A, [1.0, 1.0, 0.5]).stationary().kind == "none"
    assert set(KINDS) >= {"degenerate saddle", "none", "constant"}


magnitudes = st.floats(0.3, 3.0)
signs = st.sampled_from([-1.0, 0.0, 1.0])


@given(
    s1=signs, s2=signs, m1=magnitudes, m2=magnitudes, theta=st.floats(0, math.pi),
    # no subnormal b: R b rounds 5e-324 to a vector out of range(A) ("none"), too small to see
    b1=st.floats(-0.5, 0.5, allow_subnormal=False), b2=st.floats(-0.5, 0.5, allow_subnormal=False),
    b_null=st.sampled_from([0.0, 0.8, -1.5]),
)  # fmt: skip
@settings(max_examples=60, deadline=None)
def test_classification_agrees_with_brute_force_on_a_grid(s1, s2, m1, m2, theta, b1, b2, b_null):
    m2 = min(max(m2, m1 / 5), m1 * 5)  # keep non-zero eigenvalues within a factor 25
    f = _form_2d(s1 * m1, s2 * m2, theta, (b1, b2), b_null)
    st_ = f.stationary()
    if st_.point is not None:
        assert float(st_.point.abs().max()) <= 1.5  # inside [-R/2, R/2]² for R = 3
    assert grid_classify(f, 3.0) == st_.kind


def test_scale_invariance_of_the_classification():
    f = _form_2d(1.0, 0.0, 0.3, (0.2, 0.0))
    for scale in (1e-6, 1e6):
        g = QuadraticForm(scale * f.A, scale * f.b, 0.0)
        assert g.stationary().kind == "valley"


def test_value_is_batched_and_follows_dtype_and_device():
    f = QuadraticForm(torch.eye(3, dtype=torch.float32), [1.0, 0.0, 0.0], 2.0)
    assert f.b.dtype == torch.float32
    x = torch.zeros(4, 5, 3)
    assert f.value(x).shape == (4, 5) and f.gradient(x).shape == (4, 5, 3)
    with pytest.raises(ValueError, match="dtype torch.float32"):
        f.value(torch.zeros(3, dtype=F64))


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="square"):
        QuadraticForm(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"b must have shape \(2,\)"):
        QuadraticForm(torch.eye(2), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="finite"):
        QuadraticForm(torch.tensor([[1.0, float("inf")], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="finite"):
        QuadraticForm(torch.eye(2), [float("nan"), 0.0])
    with pytest.raises(ValueError, match="finite"):
        QuadraticForm(torch.eye(2), None, float("inf"))
    with pytest.raises(TypeError, match="complex"):
        QuadraticForm(torch.eye(2, dtype=torch.complex128))
    with pytest.raises(TypeError, match="complex"):
        QuadraticForm(torch.eye(2), torch.zeros(2, dtype=torch.complex64))
    with pytest.raises(TypeError, match="complex"):
        QuadraticForm.from_coefficients([[1j, 0], [0, 1]], [0, 0], 0.0)
    with pytest.raises(TypeError, match="torch.Tensor"):
        QuadraticForm([[1.0, 0.0], [0.0, 1.0]])
    f = QuadraticForm(torch.eye(2, dtype=F64))
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        f.value(torch.zeros(3, dtype=F64))
    with pytest.raises(ValueError, match="singular"):
        QuadraticForm(torch.zeros(2, 2, dtype=F64)).stationary_point()
    with pytest.raises(ValueError, match="2 variables"):
        grid_classify(QuadraticForm(torch.eye(3, dtype=F64)), 1.0)
