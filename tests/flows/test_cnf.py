"""Continuous flows: divergence, Hutchinson's estimator, the augmented ODE, exact likelihoods."""

from __future__ import annotations

import math

import pytest
import torch

from course_lib.checks import assert_within_se, standard_error
from course_lib.diffusion import gaussian, mixture_velocity
from course_lib.flows import (
    augmented_dynamics,
    cnf_log_likelihood,
    continuity_residual,
    divergence_exact,
    divergence_hutchinson,
    hutchinson_samples,
    hutchinson_variance,
    probe_like,
    toy,
)

A = torch.tensor([[1.0, 2.0, -0.5], [-3.0, 0.5, 1.5], [0.7, -2.0, 2.0]], dtype=torch.float64)


def _field(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """A nonlinear, time-dependent test field."""
    return torch.tanh(x @ A.T) * (1 + t[:, None]) + torch.sin(x.flip(1))


def test_exact_divergence_is_the_trace_of_the_autograd_jacobian():
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    t = torch.full((5,), 0.3, dtype=torch.float64)
    _, div = divergence_exact(_field, x, t)
    jac = torch.func.vmap(torch.func.jacrev(lambda xi, ti: _field(xi[None], ti[None])[0]))(x, t)
    torch.testing.assert_close(div, torch.diagonal(jac, dim1=1, dim2=2).sum(1))


@pytest.mark.parametrize("kind", ["rademacher", "gaussian"])
def test_hutchinson_is_unbiased_and_its_variance_matches_the_closed_form(kind):
    gen = torch.Generator().manual_seed(1)
    samples = hutchinson_samples(A, 200_000, kind, generator=gen)
    assert_within_se(samples.mean(), torch.trace(A), standard_error(samples), label=f"{kind} mean")
    var = float(samples.var())
    # SE of a sample variance: sqrt((m4 - var^2) / n)
    se_var = math.sqrt(float(((samples - samples.mean()) ** 4).mean()) - var**2) / math.sqrt(
        samples.numel()
    )
    assert_within_se(var, hutchinson_variance(A, kind), se_var, label=f"{kind} variance")
    # the symmetric-only formula 2(||A||_F^2 - sum A_ii^2) is wrong for this non-symmetric A
    wrong = 2 * float((A**2).sum() - (torch.diagonal(A) ** 2).sum())
    assert abs(wrong - var) > 10 * se_var


def test_hutchinson_variance_by_enumerating_all_rademacher_probes():
    signs = torch.cartesian_prod(*[torch.tensor([-1.0, 1.0], dtype=torch.float64)] * 3)
    vals = torch.einsum("ni,ij,nj->n", signs, A, signs)
    torch.testing.assert_close(vals.mean(), torch.trace(A))
    torch.testing.assert_close(
        float(vals.var(unbiased=False)), hutchinson_variance(A, "rademacher")
    )


def test_hutchinson_divergence_averages_to_the_exact_divergence():
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    t = torch.full((4,), 0.5, dtype=torch.float64)
    _, exact = divergence_exact(_field, x, t)
    gen = torch.Generator().manual_seed(3)
    ests = torch.stack(
        [divergence_hutchinson(_field, x, t, probe_like(x, generator=gen))[1] for _ in range(4000)]
    )
    for i in range(4):
        assert_within_se(
            ests[:, i].mean(), exact[i], standard_error(ests[:, i]), label=f"point {i}"
        )


def test_cnf_likelihood_of_a_linear_field_matches_the_closed_form():
    B = torch.tensor([[0.3, -1.0], [0.8, -0.4]], dtype=torch.float64)
    x = torch.randn(6, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    logp, z = cnf_log_likelihood(lambda y, t: y @ B.T, x, rtol=1e-10, atol=1e-12, return_noise=True)
    z_exact = x @ torch.linalg.matrix_exp(B).T  # x_1 = exp(B) x_0
    torch.testing.assert_close(z, z_exact, rtol=1e-8, atol=1e-9)
    expected = -0.5 * (z_exact**2).sum(1) - math.log(2 * math.pi) + torch.trace(B)
    torch.testing.assert_close(logp, expected, rtol=1e-8, atol=1e-8)


def test_cnf_likelihood_of_the_exact_mixture_flow_is_the_exact_mixture_density():
    mix = toy("toy_mixture")
    x = mix.sample(6, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    t0 = 1e-3  # the marginal at t0 is the mixture with a = 1 - t0, s = t0, eq. (6.1) of Ch. 05
    logp, z = cnf_log_likelihood(
        lambda y, t: mixture_velocity(mix, y, t), x, t0=t0, rtol=1e-8, atol=1e-10, return_noise=True
    )
    exact = mix.log_prob(x, 1 - t0, t0)
    torch.testing.assert_close(logp, exact, rtol=0, atol=1e-6)
    # a plausible slip, forgetting the divergence integral, is far off
    assert (-0.5 * (z**2).sum(1) - math.log(2 * math.pi) - exact).abs().min() > 0.3


def test_continuity_equation_holds_for_the_exact_velocity_and_fails_for_a_wrong_one():
    mix = gaussian(torch.tensor([0.5, -1.0]), torch.tensor([[0.5, 0.2], [0.2, 0.3]]))
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(6), dtype=torch.float64)

    def log_density(y, t):
        return mix.log_prob(y, 1 - t, t)

    def exact(y, t):
        return mixture_velocity(mix, y, t)

    res = continuity_residual(log_density, exact, x, 0.4)
    assert res.abs().max() < 1e-10
    assert (
        continuity_residual(log_density, lambda y, t: 1.3 * exact(y, t), x, 0.4).abs().max() > 0.05
    )


def test_jacobi_formula_log_det_of_the_flow_map_is_the_integrated_trace():
    from torchdiffeq import odeint

    def flow_map(x0):
        ts = torch.tensor([0.0, 1.0], dtype=torch.float64)
        return odeint(
            lambda t, y: _field(y[None], t.expand(1))[0],
            x0,
            ts,
            method="rk4",
            options={"step_size": 0.01},
        )[-1]

    x0 = torch.tensor([0.2, -0.4, 0.9], dtype=torch.float64)
    logdet = torch.linalg.slogdet(torch.autograd.functional.jacobian(flow_map, x0))[1]
    logp = cnf_log_likelihood(_field, x0[None], rtol=1e-10, atol=1e-12, return_noise=True)
    # log p_0(x) - log N(x_1) = int div = log|det dx_1/dx_0|, eqs. (7.3)-(7.4)
    z = logp[1]
    integral = logp[0] + 0.5 * (z**2).sum() + 1.5 * math.log(2 * math.pi)
    torch.testing.assert_close(integral[0], logdet, rtol=1e-7, atol=1e-7)


def test_bad_inputs_raise_clear_errors():
    x = torch.randn(3, 2)
    with pytest.raises(TypeError, match="callable"):
        divergence_exact(3, x, 0.5)
    with pytest.raises(ValueError, match=r"shape \(B, d\)"):
        divergence_exact(lambda y, t: y, torch.randn(3, 2, 2), 0.5)
    with pytest.raises(ValueError, match="probe"):
        divergence_hutchinson(lambda y, t: y, x, 0.5, torch.ones(3, 3))
    with pytest.raises(ValueError, match="square"):
        hutchinson_variance(torch.ones(2, 3))
    with pytest.raises(ValueError, match="kind"):
        hutchinson_variance(torch.eye(2), "uniform")
    with pytest.raises(ValueError, match="t1 > t0"):
        cnf_log_likelihood(lambda y, t: y, x, t0=0.5, t1=0.5)
    with pytest.raises(ValueError, match="needs a probe"):
        augmented_dynamics(lambda y, t: y, "hutchinson")
    with pytest.raises(ValueError, match="divergence"):
        augmented_dynamics(lambda y, t: y, "trace")
    with pytest.raises(
        ValueError, match=r"^x must have at least 1 dimension\(s\), got shape \(\)$"
    ):
        probe_like(torch.tensor(1.0))
    with pytest.raises(TypeError, match=r"^x must be a torch\.Tensor, got list$"):
        probe_like([1.0, -1.0])
