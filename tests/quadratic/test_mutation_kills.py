"""Checks that fail on small wrong changes to Chapter 02's formulas (issue 16, mutation testing).

Each test pins a behaviour that the main tests left free: the stationary point, its value
and the rank decisions against numpy.linalg (pinv, eigvalsh, solve), every tolerance of
:meth:`QuadraticForm.stationary` exactly at its documented boundary, two steps of gradient
descent, heavy ball and conjugate gradients replayed by hand, the rate formulas at values
worked by hand and against numpy's eigenvalues, error messages, and that a seeded generator
(never the global RNG) drives :func:`random_spd`.
"""

import math

import numpy as np
import pytest
import torch

from course_lib.quadratic import (
    KINDS,
    LEVEL_SETS_2D,
    QuadraticForm,
    Stationary,
    as_vector,
    cg_error_bound,
    conjugate_gradient,
    conjugate_gradient_iterates,
    gaussian_log_density_form,
    gd_optimal_step,
    gd_rate,
    gd_rate_for_step,
    gradient_descent,
    gradient_descent_iterates,
    grid_classify,
    heavy_ball,
    heavy_ball_iterates,
    heavy_ball_parameters,
    heavy_ball_rate,
    heavy_ball_rate_for,
    least_squares_form,
    measured_rate,
    newton,
    polynomial_value,
    random_spd,
)

F64, F32 = torch.float64, torch.float32
EPS = torch.finfo(F64).eps


def t64(*v):
    return torch.tensor(v, dtype=F64)


def diag(*v):
    return torch.diag(t64(*v))


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------------------------------
# forms.py: tables, construction, value and derivatives
# ---------------------------------------------------------------------------------------
def test_kinds_and_level_set_table():
    """The eight kinds of (4.2) and the 2-D level-set shapes of (4.1)-(4.2), word for word."""
    assert KINDS == (
        "minimum",
        "maximum",
        "saddle",
        "valley",
        "ridge",
        "degenerate saddle",
        "none",
        "constant",
    )
    assert LEVEL_SETS_2D == {
        "minimum": "ellipses",
        "maximum": "ellipses",
        "saddle": "hyperbolas",
        "valley": "parallel lines",
        "ridge": "parallel lines",
        "none": "parabolas",
        "constant": "the whole plane (one level)",
    }


def test_polynomial_value_by_hand():
    """a = [[1, 2], [0, 3]], b = (1, -1), c = 2 at x = (1, 2):
    1·1·1 + 2·1·2 + 0 + 3·2·2 + 1·1 - 1·2 + 2 = 18."""
    assert polynomial_value([[1, 2], [0, 3]], [1, -1], 2, [1, 2]) == 18.0
    f = QuadraticForm.from_coefficients([[1, 2], [0, 3]], [1, -1], 2)
    assert f.dtype == F64 and float(f.value(t64(1.0, 2.0))) == 18.0
    assert torch.equal(f.A_given, t64(1.0, 2.0, 0.0, 3.0).reshape(2, 2))
    assert torch.equal(f.A, t64(1.0, 1.0, 1.0, 3.0).reshape(2, 2))  # (M + Mᵀ)/2
    g = QuadraticForm.from_coefficients(np.array([[1, 0], [0, 1]]), [0, 0], 0, dtype=F32)
    assert g.dtype == F32 and g.b.dtype == F32


def test_value_gradient_hessian_against_numpy():
    """f = xᵀAx + bᵀx + c, ∇f = 2Ax + b, ∇²f = 2A on a non-symmetric M, with numpy."""
    M = np.array([[1.0, 4.0, 0.0], [-2.0, 3.0, 1.0], [0.5, 0.0, -1.0]])
    b, c = np.array([1.0, -2.0, 0.5]), 1.5
    f = QuadraticForm(torch.from_numpy(M), b, c)
    X = np.random.default_rng(0).normal(size=(4, 3))
    ref = np.einsum("ni,ij,nj->n", X, M, X) + X @ b + c
    assert np.allclose(f.value(torch.from_numpy(X)).numpy(), ref, rtol=1e-14)
    assert np.allclose(f.gradient(torch.from_numpy(X)).numpy(), X @ (M + M.T) + b, rtol=1e-14)
    assert np.allclose(f.hessian().numpy(), M + M.T, rtol=1e-15)
    lam, V = f.eigh()
    assert np.allclose(lam.numpy(), np.linalg.eigvalsh((M + M.T) / 2), rtol=1e-13)
    assert np.allclose(V.numpy() @ np.diag(lam.numpy()) @ V.numpy().T, (M + M.T) / 2)
    assert (f.n, f.dtype, f.device.type) == (3, F64, "cpu")
    assert repr(f) == "QuadraticForm(n=3, dtype=torch.float64, device=cpu)"
    assert torch.equal(QuadraticForm(torch.eye(2, dtype=F64)).b, t64(0.0, 0.0))
    assert QuadraticForm(torch.eye(2, dtype=F32)).b.dtype == F32


def test_half_form_round_trip():
    """½xᵀQx - pᵀx + c has A = Q/2, b = -p (2.2); half_form gives back (Q, p, c)."""
    Q, p = t64(4.0, 2.0, 2.0, 6.0).reshape(2, 2), t64(1.0, -3.0)
    f = QuadraticForm.from_half_form(Q, p, 0.25)
    assert torch.equal(f.A, Q / 2) and torch.equal(f.b, -p) and f.c == 0.25
    x = t64(0.5, -1.0)  # by hand: ½(1 - 2 + 6) - (0.5 + 3) + 0.25 = 2.5 - 3.5 + 0.25 = -0.75
    assert float(f.value(x)) == -0.75
    Q2, p2, c2 = f.half_form()
    assert torch.equal(Q2, Q) and torch.equal(p2, p) and c2 == 0.25
    assert QuadraticForm.from_half_form(Q, p).c == 0.0


def test_input_conversion_errors():
    """Real inputs from lists and integer tensors; complex and non-numeric ones are refused."""
    like = torch.zeros(2, dtype=F32)
    v = as_vector(torch.tensor([1, 2]), "b", 2, like)
    assert v.dtype == F32 and torch.equal(v, torch.tensor([1.0, 2.0]))
    assert as_vector(np.array([1, 2], dtype=np.int64), "b", 2, like).dtype == F32
    with pytest.raises(TypeError, match="^b must be real, got complex dtype"):
        as_vector(torch.zeros(2, dtype=torch.complex64), "b", 2, like)
    with pytest.raises(TypeError, match="^a must be real, got complex values"):
        QuadraticForm.from_coefficients([[1j, 0], [0, 1]], [0, 0], 0.0)
    with pytest.raises(TypeError, match="^a must hold real numbers, got list"):
        QuadraticForm.from_coefficients([["x", "y"], ["z", "w"]], [0, 0], 0.0)
    with pytest.raises(TypeError, match="^a must be real, got complex dtype"):
        QuadraticForm.from_coefficients(torch.eye(2, dtype=torch.complex64), [0, 0], 0.0)
    g = QuadraticForm.from_coefficients(torch.eye(2, dtype=torch.int64), [0, 0], 0.0, dtype=None)
    assert g.dtype == F64  # an integer tensor becomes float64
    with pytest.raises(ValueError, match="^b must have shape \\(2,\\) to match A, got \\(3,\\)"):
        as_vector([1.0, 2.0, 3.0], "b", 2, like)
    with pytest.raises(ValueError, match="^b must have finite entries"):
        as_vector([1.0, math.inf], "b", 2, like)
    f = QuadraticForm(torch.eye(2, dtype=F64))
    with pytest.raises(ValueError, match="^x must have the form's dtype torch.float64 on cpu"):
        f.gradient(torch.zeros(2))
    with pytest.raises(ValueError, match="^x must have shape \\(\\.\\.\\., 2\\), got \\(3,\\)"):
        f.gradient(torch.zeros(3, dtype=F64))
    with pytest.raises(ValueError, match="^p must have shape"):
        QuadraticForm.from_half_form(torch.eye(2, dtype=F64), [1.0])


# ---------------------------------------------------------------------------------------
# forms.py: the stationary set
# ---------------------------------------------------------------------------------------
def test_stationary_point_and_value_against_numpy_pinv():
    """x₀ = -½A⁺b (3.1) and f(x₀) = c + ½bᵀx₀ (3.2), for invertible and singular A."""
    R = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))[0]
    for lam, kind in (((2.0, -1.0, 0.5), "saddle"), ((2.0, 0.0, 0.5), "valley")):
        A = R @ np.diag(lam) @ R.T
        b = A @ np.array([1.0, -2.0, 0.5])  # in range(A)
        f = QuadraticForm(torch.from_numpy(A), b, 0.7)
        st = f.stationary()
        x0 = -0.5 * np.linalg.pinv(A) @ b
        assert st.kind == kind and np.allclose(st.point.numpy(), x0, rtol=1e-10, atol=1e-12)
        assert math.isclose(st.value, polynomial_value(A, b, 0.7, x0), rel_tol=1e-10)
        assert np.allclose(st.eigenvalues.numpy(), np.linalg.eigvalsh(A), atol=1e-12)
        assert st.eigenvectors.shape == (3, 3)
    f = QuadraticForm(torch.from_numpy(R @ np.diag([2.0, -1.0, 0.5]) @ R.T), [1.0, 0.0, 2.0])
    ref = np.linalg.solve(f.A.numpy(), -0.5 * np.array([1.0, 0.0, 2.0]))
    assert np.allclose(f.stationary_point().numpy(), ref, rtol=1e-12)


def test_stationary_underflow_of_tiny_b():
    """Bug fixed: ‖b‖ of b ~ 1e-170 underflows in float64; the range test now scales b by
    max|b_i| first, so a tiny b in range(A) still gives a valley at x₀ = -½A⁺b."""
    A = t64(1.0, 1.0, 1.0, 1.0).reshape(2, 2)  # null(A) = span(1, -1)
    for s in (1.0, 1e-170, 1e-300):
        st = QuadraticForm(A, [s, s]).stationary()
        assert st.kind == "valley" and torch.allclose(st.point, t64(-s / 4, -s / 4), rtol=1e-12)
        assert QuadraticForm(A, [s, -s]).stationary().kind == "none"
        assert QuadraticForm(0 * A, [s, -s]).stationary().kind == "none"
    f32 = QuadraticForm(A.float(), torch.tensor([1e-25, 1e-25])).stationary()
    assert f32.kind == "valley"


def test_constant_and_none_when_a_vanishes():
    """A = 0: b = 0 gives the constant c everywhere (the whole space), b ≠ 0 no stationary set."""
    st = QuadraticForm(torch.zeros(2, 2, dtype=F64), None, 3.5).stationary()
    assert st.kind == "constant" and st.value == 3.5 and torch.equal(st.point, t64(0.0, 0.0))
    assert st.dimension == 2 and st.is_extremum
    st = QuadraticForm(torch.zeros(2, 2, dtype=F64), [0.0, 1.0]).stationary()
    assert st.kind == "none" and st.point is None and st.value is None and st.dimension == -1
    assert not st.is_extremum


def test_stationary_dataclass_properties():
    """dimension = k (columns of the null basis) or -1; is_extremum for min, max, valley,
    ridge and constant only."""
    e = torch.zeros(2, 0, dtype=F64)
    for kind in KINDS:
        st = Stationary(kind, None, torch.zeros(2, 1, dtype=F64), None, e, e)
        assert st.dimension == (-1 if kind == "none" else 1)
        assert st.is_extremum is (kind in ("minimum", "maximum", "valley", "ridge", "constant"))


def test_rank_tolerance_at_its_boundaries():
    """|λ| <= rtol·max|λ| counts as zero, > counts as signed; both ends exactly (rtol = 1/2)."""
    assert QuadraticForm(diag(1.0, 0.5)).stationary(rtol=0.5).kind == "valley"
    assert QuadraticForm(diag(-1.0, 0.5)).stationary(rtol=0.5).kind == "ridge"
    assert QuadraticForm(diag(1.0, -0.5)).stationary(rtol=0.5).kind == "valley"
    assert QuadraticForm(diag(1.0, 0.5)).stationary(rtol=0.25).kind == "minimum"
    assert QuadraticForm(diag(1.0, -0.5)).stationary(rtol=0.0).kind == "saddle"
    # the default rtol = 1000 n eps (n = 2: 2000 eps), just below and just above
    assert QuadraticForm(diag(1.0, 1999 * EPS)).stationary().kind == "valley"
    assert QuadraticForm(diag(1.0, 2001 * EPS)).stationary().kind == "minimum"
    assert QuadraticForm(diag(1.0, 1.0, 2999 * EPS)).stationary().kind == "valley"  # n = 3
    with pytest.raises(ValueError, match="^rtol must be a finite number in \\[0, inf\\)"):
        QuadraticForm(diag(1.0, 1.0)).stationary(rtol=-1e-3)


def test_range_tolerance_at_its_boundaries():
    """b ∈ range(A) when ‖b_null‖ <= rtol·‖b‖: b = (3, 4), A = diag(1, 0) has
    ‖b_null‖/‖b‖ = 4/5, so rtol = 0.8 accepts it and 0.79 does not; the default 1000 n eps."""
    A = diag(1.0, 0.0)
    assert QuadraticForm(A, [3.0, 4.0]).stationary(rtol=0.8).kind == "valley"
    assert QuadraticForm(A, [3.0, 4.0]).stationary(rtol=0.79).kind == "none"
    assert QuadraticForm(A, [1.0, 1999 * EPS]).stationary().kind == "valley"
    assert QuadraticForm(A, [1.0, 2001 * EPS]).stationary().kind == "none"
    st = QuadraticForm(A, [1.0, 1999 * EPS], 2.0).stationary()
    # x₀ = -½ A⁺ b = (-1/2, 0), f(x₀) = 2 + ½ (1)(-1/2) = 1.75
    assert torch.equal(st.point, t64(-0.5, 0.0)) and st.value == 1.75
    assert torch.equal(st.directions.abs(), t64(0.0, 1.0).reshape(2, 1))


def test_singular_forms_refuse_a_unique_point_and_none_refuses_a_square():
    """stationary_point needs dimension 0; completed_square needs b ∈ range(A)."""
    with pytest.raises(ValueError, match="A is singular \\(stationary set: valley, dimension 1\\)"):
        QuadraticForm(diag(1.0, 0.0)).stationary_point()
    with pytest.raises(ValueError, match="stationary set: none, dimension -1"):
        QuadraticForm(diag(1.0, 0.0), [0.0, 1.0]).stationary_point()
    with pytest.raises(ValueError, match="^f has no stationary point"):
        QuadraticForm(diag(1.0, 0.0), [0.0, 1.0]).completed_square(t64(0.0, 0.0))
    f = QuadraticForm(diag(1.0, 0.0), [2.0, 0.0], 1.0)  # valley: (x₁ + 1)² + 0
    x = t64(0.5, 3.0, 2.0, -1.0).reshape(2, 2)
    assert torch.allclose(f.completed_square(x), f.value(x), rtol=1e-15)
    assert torch.allclose(f.completed_square(x), t64(2.25 + 0.0, 9.0), rtol=1e-15)


# ---------------------------------------------------------------------------------------
# forms.py: grid_classify
# ---------------------------------------------------------------------------------------
def test_grid_classify_named_cases_and_errors():
    """Brute force on the grid names each 2-D kind (the eigen route decides the same)."""
    cases = [
        (diag(1.0, 2.0), [0.2, 0.0], "minimum"),
        (diag(-1.0, -2.0), [0.2, 0.0], "maximum"),
        (diag(1.0, -2.0), [0.2, 0.0], "saddle"),
        (diag(1.0, 0.0), [0.2, 0.0], "valley"),
        (diag(-1.0, 0.0), [0.2, 0.0], "ridge"),
        (diag(1.0, 0.0), [0.2, 0.5], "none"),
        (diag(0.0, 0.0), [0.0, 0.0], "constant"),
    ]
    for A, b, kind in cases:
        f = QuadraticForm(A, b, 1.0)
        assert f.stationary().kind == kind
        assert grid_classify(f, 2.0) == kind, kind
        assert grid_classify(f, 2.0, n_grid=41) == kind, kind
    with pytest.raises(ValueError, match="^radius must be a finite number in \\(0, inf\\)"):
        grid_classify(QuadraticForm(diag(1.0, 1.0)), 0.0)
    with pytest.raises(ValueError, match="needs a form in 2 variables, got n = 3"):
        grid_classify(QuadraticForm(diag(1.0, 1.0, 1.0)), 1.0)


def test_polynomial_value_refuses_complex_entries():
    """The plain-Python route reads real numbers only: a complex a_ij, b_k or x_i raises
    instead of silently dropping its imaginary part."""
    a, b, x = [[1.0, 0.0], [0.0, 1.0]], [1.0, 0.0], [0.5, 2.0]
    assert polynomial_value(a, b, 0.0, x) == 0.25 + 4.0 + 0.5
    for args in (([[1j, 0.0], [0.0, 1.0]], b, x), (a, [1j, 0.0], x), (a, b, [1j, 2.0])):
        with pytest.raises(TypeError):
            polynomial_value(args[0], args[1], 0.0, args[2])


def test_none_still_reports_the_null_space_and_the_eigen_decomposition():
    """With no stationary point the eigenvalues, eigenvectors and null(A) are still given:
    A = 0 (null(A) = R²) and A = diag(1, 0) with b ∉ range(A) (null(A) = span e₂)."""
    for A, b, null_dim in ((diag(0.0, 0.0), [0.0, 1.0], 2), (diag(1.0, 0.0), [0.0, 1.0], 1)):
        st = QuadraticForm(A, b).stationary()
        lam, V = np.linalg.eigh(A.numpy())
        assert st.kind == "none"
        assert np.allclose(st.eigenvalues.numpy(), lam, atol=0)
        assert np.allclose(np.abs(st.eigenvectors.numpy()), np.abs(V), atol=0)
        D = st.directions.numpy()
        assert D.shape == (2, null_dim) and np.allclose(A.numpy() @ D, 0.0, atol=0)
        assert np.allclose(D.T @ D, np.eye(null_dim), atol=1e-15)


def test_conversion_messages_and_float64_default():
    """as_vector names the argument in every refusal; a non-tensor x is refused by name;
    a float32 NumPy array with dtype=None becomes float64 (like lists and integers)."""
    like = torch.zeros(2, dtype=F64)
    with pytest.raises(TypeError, match=r"^b must hold real numbers, got list$"):
        as_vector(["x", "y"], "b", 2, like)
    with pytest.raises(TypeError, match=r"^b must be real, got complex values$"):
        as_vector([1j, 0.0], "b", 2, like)
    with pytest.raises(
        ValueError, match=r"^A must be a square \(n, n\) matrix with n >= 1, got shape \(2, 3\)$"
    ):
        QuadraticForm(torch.zeros(2, 3, dtype=F64))
    with pytest.raises(TypeError, match=r"^c must be a real number, got str '1'$"):
        QuadraticForm(diag(1.0, 1.0), None, "1")
    with pytest.raises(TypeError, match=r"^x must be a torch.Tensor, got list$"):
        QuadraticForm(diag(1.0, 1.0)).value([0.0, 0.0])
    f = QuadraticForm.from_coefficients(np.eye(2, dtype=np.float32), [0, 0], 0.0, dtype=None)
    assert f.dtype == F64


def test_half_form_and_singular_messages_in_full():
    """The error messages of from_half_form, stationary_point and completed_square, whole."""
    with pytest.raises(
        ValueError, match=r"^Q must be a square \(n, n\) matrix with n >= 1, got shape \(2, 3\)$"
    ):
        QuadraticForm.from_half_form(torch.zeros(2, 3, dtype=F64), [1.0, 2.0])
    with pytest.raises(
        ValueError,
        match=r"^A is singular \(stationary set: valley, dimension 1\); "
        r"x\* = -½A⁻¹b needs an invertible A$",
    ):
        QuadraticForm(diag(1.0, 0.0)).stationary_point()
    with pytest.raises(
        ValueError,
        match=r"^f has no stationary point \(b is not in the range of A\): no square$",
    ):
        QuadraticForm(diag(1.0, 0.0), [0.0, 1.0]).completed_square(t64(0.0, 0.0))


def test_completed_square_on_one_point_and_a_3d_batch():
    """(3.2) for x of shape (n,) and (2, 2, n): the square sums over the last axis only."""
    f = QuadraticForm(t64(2.0, 1.0, 1.0, 3.0).reshape(2, 2), [1.0, -1.0], 0.5)
    x = torch.randn(2, 2, 2, dtype=F64, generator=gen(4))
    assert torch.allclose(f.completed_square(x), f.value(x), rtol=1e-13)
    # by hand at x = 0: f(0) = c = 0.5
    assert math.isclose(float(f.completed_square(t64(0.0, 0.0))), 0.5, rel_tol=1e-14)


def _saddle_at(a, b):
    """(x - a)(y - b) = xy - b x - a y + ab: A = [[0, ½], [½, 0]], ∇f = (y - b, x - a)."""
    return QuadraticForm(t64(0.0, 0.5, 0.5, 0.0).reshape(2, 2), [-b, -a], a * b)


def _valley_at(a, axis):
    """(x_axis - a)²: ∇f = 2 (x_axis - a) e_axis, the stationary line x_axis = a."""
    d = [0.0, 0.0]
    d[axis] = 1.0
    b = [0.0, 0.0]
    b[axis] = -2 * a
    return QuadraticForm(diag(*d), b, a * a)


def test_grid_classify_none_threshold_is_the_hessian_bound_h():
    """|∇f| at the interior node nearest to x* is at most ‖Hδ‖ with |δ_i| <= h/2, below the
    bound (max|H_ii| + |H_12|) h the code allows (h = 0.01 on the default 201-node grid of
    [-1, 1]). A stationary set 0.93 h beyond the last interior node (0.99) is still found;
    1.05 h beyond it is "none". The cases load each second difference (H_12 for the saddle,
    H_11 / H_22 for the valleys) and sit at either edge, so the bound and the interior
    slice both count. On a 202-node grid (no node on y = 0, h = 2/201) the 0.93 h case has
    |∇f| = sqrt(0.00925² + 0.004975²) > 2/201, so the default grid size matters too."""
    inside, outside = 0.99 + 0.0093, 0.99 + 0.0105
    for a, kind in ((inside, "saddle"), (outside, "none")):
        assert grid_classify(_saddle_at(a, 0.0), 1.0) == kind
        assert grid_classify(_saddle_at(0.0, a), 1.0) == kind
    for a, kind in ((inside, "valley"), (outside, "none")):
        assert grid_classify(_valley_at(a, 0), 1.0) == kind
        assert grid_classify(_valley_at(a, 1), 1.0) == kind
    assert grid_classify(_saddle_at(inside, 0.0), 1.0, n_grid=202) == "none"


def test_grid_classify_elongated_minimum_is_a_point():
    """f = x² + 100 y²: the near-optimal set {f < 10⁻³ · 101} is |x| < 0.318, |y| < 0.0318
    on [-1, 1]², a box of diagonal about 0.64 < radius 1: a minimum, not a valley."""
    assert grid_classify(QuadraticForm(diag(1.0, 100.0)), 1.0) == "minimum"
    assert grid_classify(QuadraticForm(diag(1.0, 0.0)), 1.0) == "valley"


def test_grid_classify_constant_tolerance_and_float32():
    """ "constant" when the grid's value span is at most 1e-12 (1 + |mean f|): f = b x on
    [-1, 1] spans 2|b|; f = 10⁶ + b x has mean 10⁶ and a tolerance of about 10⁻⁶."""

    def line(b, c=0.0):
        return QuadraticForm(torch.zeros(2, 2, dtype=F64), [b, 0.0], c)

    assert grid_classify(line(0.4e-12), 1.0) == "constant"  # span 0.8e-12
    assert grid_classify(line(0.6e-12), 1.0) == "none"  # span 1.2e-12
    assert grid_classify(line(0.1), 1.0) == "none"
    assert grid_classify(line(1e-7, 1e6), 1.0) == "constant"  # span 2e-7 <= 1e-6
    assert grid_classify(line(1e-5, 1e6), 1.0) == "none"  # span 2e-5
    # a float32 form is evaluated on float32 points
    assert grid_classify(QuadraticForm(torch.eye(2), [0.2, 0.0]), 1.0) == "minimum"


@pytest.mark.gpu
def test_forms_built_and_classified_on_cuda():
    """from_coefficients(device=) allocates there; grid_classify evaluates on the form's device."""
    f = QuadraticForm.from_coefficients([[1.0, 0.0], [0.0, 2.0]], [0.2, 0.0], 1.0, device="cuda")
    assert f.device.type == "cuda" and f.A.device.type == "cuda" and f.b.device.type == "cuda"
    g = QuadraticForm(torch.eye(2, dtype=F64, device="cuda"), np.array([1.0, 2.0]))
    assert g.b.device.type == "cuda"
    assert QuadraticForm(torch.eye(2, device="cuda")).b.device.type == "cuda"  # b = 0
    h = QuadraticForm.from_coefficients(torch.eye(2, dtype=F64, device="cuda"), [0, 0], 0.0)
    assert h.device.type == "cuda"  # device=None keeps a tensor's own device
    assert grid_classify(f, 2.0) == "minimum"


# ---------------------------------------------------------------------------------------
# optim.py: rates and parameters
# ---------------------------------------------------------------------------------------
def test_rate_formulas_by_hand():
    """μ ∈ [1, 9]: η* = 2/10, GD rate (9-1)/(9+1) = 0.8; heavy ball α = 4/(3+1)² = 1/4,
    β = ((3-1)/(3+1))² = 1/4, rate (3-1)/(3+1) = 1/2; CG bound 2 (1/2)^k."""
    assert gd_optimal_step(1.0, 9.0) == 0.2 and gd_optimal_step(2.0, 2.0) == 0.5
    assert gd_rate(9.0) == 0.8
    assert heavy_ball_parameters(1.0, 9.0) == (0.25, 0.25)
    assert heavy_ball_rate(9.0) == 0.5
    assert cg_error_bound(9.0, 2) == 0.5 and cg_error_bound(9.0, 0) == 2.0
    # the optimal step equalises |1 - ημ| at both ends (5.2)
    assert math.isclose(gd_rate_for_step(0.2, [1.0, 9.0]), gd_rate(9.0), rel_tol=1e-15)
    assert gd_rate_for_step(0.5, t64(1.0, 3.0, 5.0)) == 1.5  # |1 - 2.5|
    with pytest.raises(ValueError, match="^step must be a finite number in \\(0, inf\\)"):
        gd_rate_for_step(0.0, [1.0])
    with pytest.raises(ValueError, match="^kappa must be a finite number in \\[1, inf\\)"):
        heavy_ball_rate(0.9)
    with pytest.raises(ValueError, match="^k must be >= 0"):
        cg_error_bound(4.0, -1)
    with pytest.raises(ValueError, match="^mu_min must be a finite number in \\(0, inf\\)"):
        gd_optimal_step(0.0, 1.0)
    with pytest.raises(ValueError, match="^mu_max must be a finite number in \\[2, inf\\)"):
        heavy_ball_parameters(2.0, 1.0)


def test_heavy_ball_rate_for_against_numpy_eigenvalues():
    """ρ(T_μ), T_μ = [[1 + β - αμ, -β], [1, 0]] (6.1), against numpy.linalg.eigvals; with
    the tuned (α, β) every T_μ has spectral radius √β (6.2); β = 0 is gradient descent."""
    mu = np.array([1.0, 2.5, 9.0])
    for alpha, beta in ((0.3, 0.5), (0.05, 0.9), (0.2, 0.0)):
        ref = max(
            np.abs(np.linalg.eigvals(np.array([[1 + beta - alpha * m, -beta], [1, 0]]))).max()
            for m in mu
        )
        assert math.isclose(heavy_ball_rate_for(alpha, beta, mu), ref, rel_tol=1e-12)
    assert math.isclose(heavy_ball_rate_for(0.2, 0.0, mu), 0.8, rel_tol=1e-12)  # |1 - 0.2·9|
    a, b = heavy_ball_parameters(1.0, 9.0)
    assert math.isclose(heavy_ball_rate_for(a, b, np.linspace(1, 9, 7)), 0.5, rel_tol=1e-6)
    with pytest.raises(ValueError, match="^momentum must be a finite number in \\[0, inf\\)"):
        heavy_ball_rate_for(0.1, -0.1, mu)
    with pytest.raises(ValueError, match="^step must be"):
        heavy_ball_rate_for(0.0, 0.1, mu)


def test_measured_rate_window():
    """The default window is the second half [K/2, K]; start/stop move it; it needs >= 2 steps."""
    e = [1.0, 1.0, 1.0, 1.0, 0.5, 0.25]  # K = 5: window e[2..5] -> (0.25/1)^(1/3)
    assert math.isclose(measured_rate(e), 0.25 ** (1 / 3), rel_tol=1e-15)
    assert math.isclose(measured_rate(e, start=0.6), 0.5, rel_tol=1e-15)  # e[3..5]
    assert math.isclose(measured_rate(e, 0.0, 0.6), 1.0, rel_tol=1e-15)  # e[0..3]
    assert math.isclose(measured_rate(e, start=0.0, stop=1.0), 0.25**0.2, rel_tol=1e-15)
    assert math.isclose(measured_rate([4.0, 2.0, 1.0], start=0.0), 0.5, rel_tol=1e-15)
    with pytest.raises(ValueError, match="the window needs at least 2 steps, got indices 1..2"):
        measured_rate([4.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="^start must be a finite number in \\[0, 1\\]"):
        measured_rate(e, start=-0.1)
    with pytest.raises(ValueError, match="^stop must be a finite number in \\[0.5, 1\\]"):
        measured_rate(e, start=0.5, stop=0.4)
    with pytest.raises(ValueError, match="positive and finite"):
        measured_rate([1.0, 1.0, 1.0, math.inf])


# ---------------------------------------------------------------------------------------
# optim.py: random_spd
# ---------------------------------------------------------------------------------------
def test_random_spd_spectrum_by_hand_and_seeding():
    """κ = 100, n = 3: geometric 1, 10, 100; uniform 1, 50.5, 100 (numpy eigvalsh agrees);
    the same seed gives the same matrix, another seed another, the global RNG is untouched."""
    for spectrum, mu_ref in (("geometric", (1.0, 10.0, 100.0)), ("uniform", (1.0, 50.5, 100.0))):
        H, mu = random_spd(3, 100.0, spectrum=spectrum, generator=gen(2))
        assert torch.allclose(mu, t64(*mu_ref), rtol=1e-14)
        assert np.allclose(np.linalg.eigvalsh(H.numpy()), mu_ref, rtol=1e-12)
        assert torch.equal(H, H.T)
    H1, _ = random_spd(3, 100.0, generator=gen(2))
    torch.manual_seed(123)
    before = torch.get_rng_state()
    H2, _ = random_spd(3, 100.0, generator=gen(2))
    assert torch.equal(torch.get_rng_state(), before)  # the draws came from the generator
    assert torch.equal(H1, H2)
    assert not torch.allclose(H1, random_spd(3, 100.0, generator=gen(3))[0])
    H, mu = random_spd(2, 1.0, dtype=F32)  # n = 2 and κ = 1 are allowed: the identity
    assert H.dtype == F32 and mu.dtype == F32 and torch.allclose(H, torch.eye(2), atol=1e-6)
    assert random_spd(4, 7.0, generator=gen(0))[1].tolist()[::3] == [1.0, 7.0]  # exact ends
    with pytest.raises(ValueError, match="^n must be >= 2"):
        random_spd(1, 2.0)
    with pytest.raises(ValueError, match="^kappa must be"):
        random_spd(3, 0.5)
    with pytest.raises(ValueError, match="spectrum must be 'geometric' or 'uniform', got 'x'"):
        random_spd(3, 2.0, spectrum="x")
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        random_spd(3, 2.0, generator=1)


def test_random_spd_interior_eigenvalues_in_float64_and_device_checks():
    """Interior eigenvalues that float32 cannot hold: geometric κ = 10, n = 3 gives 1, √10, 10;
    uniform κ = 2, n = 4 gives 1, 4/3, 5/3, 2. device= is honoured, checked and must match
    the generator's (PyTorch's data-free "meta" device stands in for a second device; its
    first use imports torch's decompositions, which a full test run has loaded already)."""
    _, mu = random_spd(3, 10.0, generator=gen(1))
    assert torch.allclose(mu, t64(1.0, math.sqrt(10.0), 10.0), rtol=1e-15, atol=0)
    _, mu = random_spd(4, 2.0, spectrum="uniform", generator=gen(1))
    assert torch.allclose(mu, t64(1.0, 4 / 3, 5 / 3, 2.0), rtol=1e-15, atol=0)
    H, mu = random_spd(3, 10.0, device="meta")
    assert (H.device.type, mu.device.type, H.shape) == ("meta", "meta", (3, 3))
    with pytest.raises(ValueError, match=r"^device='bogus' is not a device name \("):
        random_spd(3, 10.0, device="bogus")
    with pytest.raises(
        ValueError,
        match=r"^generator lives on cpu but device=meta was requested; "
        r"create the generator on the same device$",
    ):
        random_spd(3, 10.0, generator=gen(1), device="meta")


@pytest.mark.gpu
def test_random_spd_on_the_requested_device():
    """device="cuda": the draws, the eigenvalues and the matrix are all on CUDA."""
    H, mu = random_spd(3, 10.0, device="cuda")
    assert H.device.type == "cuda" and mu.device.type == "cuda"
    assert torch.allclose(torch.linalg.eigvalsh(H).cpu(), mu.cpu(), rtol=1e-12)


def test_measured_rate_messages_in_full():
    """The window error names the indices and the length; the positivity error is whole."""
    with pytest.raises(
        ValueError, match=r"^the window needs at least 2 steps, got indices 1\.\.2 of 3$"
    ):
        measured_rate([4.0, 2.0, 1.0])
    with pytest.raises(
        ValueError, match=r"^errors in the window must be positive and finite \(no exact 0\)$"
    ):
        measured_rate([1.0, 1.0, 1.0, 0.0])


# ---------------------------------------------------------------------------------------
# optim.py: the optimisers, two steps by hand
# ---------------------------------------------------------------------------------------
def _form():
    # A = [[1, 0.5], [0.5, 2]], b = (1, -1): ∇f = 2Ax + b, H = [[2, 1], [1, 4]]
    return QuadraticForm(t64(1.0, 0.5, 0.5, 2.0).reshape(2, 2), [1.0, -1.0], 0.0)


def test_gradient_descent_two_steps_by_hand():
    """x₀ = (1, 1): ∇f = (2+1+1, 1+4-1) = (4, 4), x₁ = (1, 1) - 0.1(4, 4) = (0.6, 0.6);
    ∇f(x₁) = 2(0.9, 1.5) + (1, -1) = (2.8, 2.0), x₂ = (0.32, 0.40)."""
    h = gradient_descent(_form(), t64(1.0, 1.0), 0.1, 2)
    assert h.shape == (3, 2)
    assert torch.allclose(h, t64(1.0, 1.0, 0.6, 0.6, 0.32, 0.40).reshape(3, 2), rtol=1e-14)
    it = gradient_descent_iterates(_form(), t64(1.0, 1.0), 0.1)
    assert torch.equal(next(it), t64(1.0, 1.0))
    assert gradient_descent(_form(), t64(1.0, 1.0), 0.1, 0).shape == (1, 2)
    with pytest.raises(ValueError, match="^step must be a finite number in \\(0, inf\\)"):
        gradient_descent(_form(), t64(1.0, 1.0), 0.0, 2)
    with pytest.raises(ValueError, match="^n_steps must be >= 0"):
        gradient_descent(_form(), t64(1.0, 1.0), 0.1, -1)


def test_heavy_ball_two_steps_by_hand():
    """x₋₁ = x₀ = (1, 1), α = 0.1, β = 0.5: x₁ = (0.6, 0.6) (no momentum yet);
    x₂ = x₁ - 0.1 ∇f(x₁) + 0.5 (x₁ - x₀) = (0.32, 0.40) + (-0.2, -0.2) = (0.12, 0.20)."""
    h = heavy_ball(_form(), t64(1.0, 1.0), 0.1, 0.5, 2)
    assert torch.allclose(h, t64(1.0, 1.0, 0.6, 0.6, 0.12, 0.20).reshape(3, 2), rtol=1e-13)
    # β = 0 is allowed and is gradient descent
    h0 = heavy_ball(_form(), t64(1.0, 1.0), 0.1, 0.0, 2)
    assert torch.allclose(h0, gradient_descent(_form(), t64(1.0, 1.0), 0.1, 2), rtol=1e-15)
    assert torch.equal(next(heavy_ball_iterates(_form(), t64(1.0, 1.0), 0.1, 0.5)), t64(1, 1))
    with pytest.raises(ValueError, match="^momentum must be a finite number in \\[0, 1\\)"):
        heavy_ball(_form(), t64(1.0, 1.0), 0.1, 1.0, 2)
    with pytest.raises(ValueError, match="^step must be"):
        heavy_ball(_form(), t64(1.0, 1.0), 0.0, 0.5, 2)


def test_newton_default_one_step_on_a_batch():
    """One Newton step lands on x* = -½A⁻¹b (numpy.linalg.solve) from every start of a
    (2, 3, n) batch; the default is one step."""
    f = _form()
    x_star = np.linalg.solve(f.A.numpy(), -0.5 * f.b.numpy())
    x0 = torch.randn(2, 3, 2, dtype=F64, generator=gen(1))
    h = newton(f, x0)
    assert h.shape == (2, 2, 3, 2) and torch.equal(h[0], x0)
    assert np.allclose(h[1].numpy(), np.broadcast_to(x_star, (2, 3, 2)), rtol=1e-12)
    with pytest.raises(ValueError, match="^n_steps must be >= 0"):
        newton(f, x0, -1)


def test_conjugate_gradient_two_steps_replayed_in_numpy():
    """(8.1) by hand in numpy on a 3×3 SPD H (distinct eigenvalues) from a batch of starts;
    x₃ = x* (numpy.linalg.solve)."""
    H = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]])
    p = np.array([1.0, 2.0, -1.0])
    f = QuadraticForm.from_half_form(torch.from_numpy(H), p)
    x0 = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]])
    h = conjugate_gradient(f, torch.from_numpy(x0), 3)
    for row in range(2):
        x = x0[row]
        r = p - H @ x
        d = r
        for k in range(2):
            a = (r @ r) / (d @ H @ d)
            x = x + a * d
            r_new = r - a * H @ d
            d = r_new + (r_new @ r_new) / (r @ r) * d
            r = r_new
            assert np.allclose(h[k + 1, row].numpy(), x, rtol=1e-12), (row, k)
        assert np.allclose(h[3, row].numpy(), np.linalg.solve(H, p), rtol=1e-10)


def test_conjugate_gradient_stays_put_at_the_solution():
    """A row started at x* has r₀ = 0 (and dᵀHd = 0): α = β = 0, no 0/0, it stays at x*."""
    f = QuadraticForm.from_half_form(diag(2.0, 4.0), [2.0, 4.0])  # x* = (1, 1)
    x0 = t64(1.0, 1.0, 0.0, 0.0).reshape(2, 2)
    h = conjugate_gradient(f, x0, 3)
    assert torch.equal(h[:, 0], t64(1.0, 1.0).expand(4, 2))
    assert torch.allclose(h[-1, 1], t64(1.0, 1.0), rtol=1e-14)
    it = conjugate_gradient_iterates(f, t64(1.0, 1.0))
    assert all(torch.equal(next(it), t64(1.0, 1.0)) for _ in range(3))


def test_conjugate_gradient_checks_definiteness_up_to_n_2048(monkeypatch):
    """The eigenvalue check runs for n <= 2048 exactly (a spy stands in for eigvalsh)."""
    calls = []

    def spy(H):
        calls.append(H.shape[0])
        return torch.tensor([-1.0], dtype=F64)

    def big(n):  # bfloat16 keeps the (n, n) matrices cheap: only n matters here
        bf = torch.bfloat16
        return QuadraticForm(torch.eye(n, dtype=bf)), torch.zeros(n, dtype=bf)

    monkeypatch.setattr(torch.linalg, "eigvalsh", spy)
    with pytest.raises(ValueError, match="needs a positive definite Hessian, got smallest"):
        conjugate_gradient(*big(2048), 0)
    h = conjugate_gradient(*big(2049), 0)
    assert calls == [2048] and h.shape == (1, 2049)


def test_optimiser_argument_errors():
    """A non-form and a start of the wrong shape or dtype are refused with clear messages."""
    f = _form()
    with pytest.raises(TypeError, match="^form must be a QuadraticForm, got Tensor"):
        gradient_descent(torch.eye(2), t64(1.0, 1.0), 0.1, 1)
    with pytest.raises(
        ValueError, match="^x0 must have shape \\(\\.\\.\\., 2\\), dtype torch.float64"
    ):
        heavy_ball(f, torch.zeros(2), 0.1, 0.5, 1)
    with pytest.raises(ValueError, match="got \\(3,\\), torch.float64 on cpu"):
        conjugate_gradient(f, torch.zeros(3, dtype=F64), 1)
    with pytest.raises(ValueError, match="^n_steps must be >= 0"):
        conjugate_gradient(f, t64(1.0, 1.0), -1)


def test_heavy_ball_rate_for_reads_a_list_of_mu_in_float64():
    """β = 0 leaves T_μ = [[1 - αμ, 0], [1, 0]] with eigenvalues 1 - αμ and 0: for α = 0.1,
    μ = 1/3 the rate is 1 - 1/30, to float64 precision (a float32 μ would be off by ~1e-8)."""
    assert math.isclose(heavy_ball_rate_for(0.1, 0.0, [1 / 3]), 1 - 0.1 / 3, rel_tol=1e-15)


def test_heavy_ball_steps_and_semidefinite_cg_messages():
    """n_steps is named in heavy ball's error; CG refuses a merely semi-definite Hessian."""
    f = _form()
    with pytest.raises(ValueError, match=r"^n_steps must be >= 0, got -1$"):
        heavy_ball(f, t64(0.0, 0.0), 0.1, 0.5, -1)
    with pytest.raises(TypeError, match=r"^x0 must be a torch.Tensor, got list$"):
        gradient_descent(f, [0.0, 0.0], 0.1, 1)
    with pytest.raises(
        ValueError,
        match=r"^conjugate gradients needs a positive definite Hessian, "
        r"got smallest eigenvalue 0$",
    ):
        conjugate_gradient(QuadraticForm(diag(1.0, 0.0)), t64(0.0, 0.0), 2)


# ---------------------------------------------------------------------------------------
# bridges.py
# ---------------------------------------------------------------------------------------
def test_gaussian_and_least_squares_coefficients_by_hand():
    """(9.1) for N(1, 4) in one variable: A = -1/8, b = 1/4, c = -1/8 - ½ log(8π);
    (9.2) for X = (1, 2)ᵀ, y = (1, 3): A = 5, b = -2 (1 + 6) = -14, c = 1 + 9 = 10."""
    f = gaussian_log_density_form(t64(1.0), t64(4.0).reshape(1, 1))
    assert torch.allclose(f.A, t64(-1 / 8).reshape(1, 1), rtol=1e-15)
    assert torch.allclose(f.b, t64(1 / 4), rtol=1e-15)
    assert math.isclose(f.c, -1 / 8 - 0.5 * math.log(8 * math.pi), rel_tol=1e-15)
    g = least_squares_form(t64(1.0, 2.0).reshape(2, 1), t64(1.0, 3.0))
    assert torch.equal(g.A, t64(5.0).reshape(1, 1)) and torch.equal(g.b, t64(-14.0))
    assert g.c == 10.0


def test_bridge_errors_in_full():
    """The checks of both bridges name the argument, the expected and the given shape."""
    X, y = torch.ones(4, 2, dtype=F64), torch.ones(4, dtype=F64)
    cov = torch.eye(3, dtype=F64)
    cases = [
        (
            ValueError,
            r"^cov must be a square \(n, n\) matrix with n >= 1, got shape \(2, 3\)$",
            lambda: gaussian_log_density_form(t64(0.0, 0.0), torch.ones(2, 3, dtype=F64)),
        ),
        (
            ValueError,
            r"^mean must have shape \(3,\) to match A, got \(2,\)$",
            lambda: gaussian_log_density_form(t64(0.0, 0.0), cov),
        ),
        (
            ValueError,
            r"^cov must be symmetric positive definite \(its Cholesky factor failed\)$",
            lambda: gaussian_log_density_form(t64(0.0, 0.0, 0.0), diag(1.0, 0.0, 1.0)),
        ),
        (TypeError, r"^X must be a torch.Tensor, got list$", lambda: least_squares_form([1.0], y)),
        (
            ValueError,
            r"^X must have at least 2 dimension\(s\), got shape \(4,\)$",
            lambda: least_squares_form(y, y),
        ),
        (
            ValueError,
            r"^X must be a matrix \(N, d\), got shape \(1, 4, 2\)$",
            lambda: least_squares_form(X[None], y),
        ),
        (TypeError, r"^y must be a torch.Tensor, got list$", lambda: least_squares_form(X, [1.0])),
        (
            ValueError,
            r"^y must have at least 1 dimension\(s\), got shape \(\)$",
            lambda: least_squares_form(X, y[0]),
        ),
        (
            ValueError,
            r"^y must have shape \(4,\) to match X, got \(4, 1\)$",
            lambda: least_squares_form(X, y[:, None]),
        ),
    ]
    for exc, msg, call in cases:
        with pytest.raises(exc, match=msg):
            call()
