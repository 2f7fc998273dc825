"""The Gaussian log-density and least squares as quadratic forms."""

import pytest
import torch

from course_lib.quadratic import gaussian_log_density_form, least_squares_form

F64 = torch.float64


def test_gaussian_log_density_is_a_quadratic_form():
    g = torch.Generator().manual_seed(0)
    m = torch.randn(3, 3, generator=g, dtype=F64)
    cov = m @ m.T + 0.3 * torch.eye(3, dtype=F64)
    mean = torch.randn(3, generator=g, dtype=F64)
    f = gaussian_log_density_form(mean, cov)
    x = torch.randn(30, 3, generator=g, dtype=F64)
    peer = torch.distributions.MultivariateNormal(mean, covariance_matrix=cov).log_prob(x)
    assert torch.allclose(f.value(x), peer, rtol=1e-10, atol=1e-10)
    prec = torch.linalg.inv(cov)

    def log_density(v):  # written out by hand, differentiated by torch.func
        d = v - mean
        return -0.5 * d @ prec @ d - 0.5 * torch.logdet(2 * torch.pi * cov)

    assert torch.allclose(log_density(x[0]), peer[0], rtol=1e-10)
    hess = torch.func.hessian(log_density)(x[0])
    assert torch.allclose(f.hessian(), hess, rtol=1e-9, atol=1e-10)
    assert torch.allclose(f.hessian(), -torch.linalg.inv(cov), rtol=1e-9)
    st = f.stationary()
    assert st.kind == "maximum" and torch.allclose(st.point, mean, rtol=1e-10)
    with pytest.raises(ValueError, match="positive definite"):
        gaussian_log_density_form(mean, -cov)


def test_least_squares_is_a_quadratic_form():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(50, 4, generator=g, dtype=F64)
    y = torch.randn(50, generator=g, dtype=F64)
    f = least_squares_form(X, y)
    w = torch.randn(10, 4, generator=g, dtype=F64)
    assert torch.allclose(f.value(w), ((w @ X.T - y) ** 2).sum(-1), rtol=1e-10)
    w_ls = torch.linalg.lstsq(X, y[:, None]).solution[:, 0]
    assert torch.allclose(f.stationary_point(), w_ls, rtol=1e-9)
    assert f.stationary().kind == "minimum"
    # rank-deficient design: a valley of least-squares solutions
    Xd = torch.cat([X, X[:, :1]], dim=1)
    assert least_squares_form(Xd, y).stationary().kind == "valley"
    with pytest.raises(ValueError, match=r"y must have shape \(50,\)"):
        least_squares_form(X, y[:3])
    with pytest.raises(ValueError, match="X must be a matrix"):
        least_squares_form(X[None], y)
