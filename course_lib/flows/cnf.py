r"""Continuous normalizing flows (Chapter 06b): the instantaneous change of variables.

**Orientation** (Chapter 05's :mod:`course_lib.diffusion.flow`): t = 0 is data, t = 1 is
noise N(0, I); a velocity field v(x, t) moves a point along dx/dt = v(x_t, t).

**Continuity equation.** The density p_t carried by the flow conserves mass:

    d p_t / d t + div(p_t v) = 0.                                                         (7.1)

Along a trajectory x_t, d/dt log p_t(x_t) = d_t log p_t + v . grad log p_t, and expanding
div(p v) = p div v + v . grad p in (7.1) gives the **instantaneous change of variables**

    d/dt log p_t(x_t) = -div v(x_t, t) = -tr(dv/dx).                                      (7.2)

The same result by Jacobians: J_t = dx_t/dx_0 obeys dJ/dt = (dv/dx) J, and Jacobi's formula
d/dt log|det J| = tr(J^{-1} dJ/dt) = tr(dv/dx), so log|det J_t| = int_0^t tr(dv/dx) ds.  (7.3)

**Log-likelihood.** Integrating (7.2) from t0 (data side) to t1 = 1 (noise):

    log p_t0(x) = log N(x_1; 0, I) + int_t0^1 div v(x_t, t) dt,   x_t0 = x,              (7.4)

one ODE solve of the augmented state (x_t, int div) -- :func:`cnf_log_likelihood`.

**Hutchinson's estimator** (7.5): for a probe v with E[v] = 0, E[v v^T] = I,
E[v^T A v] = tr(A), and v^T (dv/dx) v costs one vector-Jacobian product instead of d. Its
variance (7.6): write S = (A + A^T)/2 (v^T A v = v^T S v);

* Rademacher v (+-1): v^T S v = tr S + 2 sum_{i<j} S_ij v_i v_j, the products v_i v_j (i < j)
  are uncorrelated with variance 1, so Var = 4 sum_{i<j} S_ij^2 = sum_{i != j} (A_ij^2 + A_ij A_ji);
* Gaussian v: Var = 2 ||S||_F^2 = ||A||_F^2 + tr(A^2).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..validation import (
    check_generator,
    check_int,
    check_real,
    check_tensor,
    per_sample,
    resolve_device,
)
from .flow import standard_normal_log_prob

__all__ = [
    "augmented_dynamics",
    "cnf_log_likelihood",
    "continuity_residual",
    "divergence_exact",
    "divergence_hutchinson",
    "hutchinson_samples",
    "hutchinson_variance",
    "probe_like",
]

Velocity = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
PROBES = ("rademacher", "gaussian")
ADAPTIVE = ("dopri5", "dopri8", "bosh3", "fehlberg2", "adaptive_heun")


def _check_velocity(v: object) -> Velocity:
    if not callable(v):
        raise TypeError(f"velocity must be callable as v(x, t), got {type(v).__name__}")
    return v


def _check_points(x: object) -> torch.Tensor:
    x = check_tensor(x, "x", min_dim=2)
    if x.dim() != 2:
        raise ValueError(f"x must have shape (B, d), got {tuple(x.shape)}")
    return x


def divergence_exact(
    velocity: Velocity, x: torch.Tensor, t: float | torch.Tensor, *, create_graph: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """(v(x, t), div v = tr(dv/dx)) per sample, eq. (7.2): d backward passes, one per coordinate."""
    velocity, x = _check_velocity(velocity), _check_points(x)
    tt = per_sample(t, x, "t")
    with torch.enable_grad():
        xg = x if x.requires_grad else x.detach().requires_grad_(True)
        v = velocity(xg, tt)
        # region: exact-trace
        div = torch.zeros_like(v[:, 0])
        for i in range(x.shape[1]):  # tr(dv/dx) = sum_i d v_i / d x_i
            (g,) = torch.autograd.grad(v[:, i].sum(), xg, create_graph=True)
            div = div + g[:, i]
        # endregion: exact-trace
    if not create_graph:
        v, div = v.detach(), div.detach()
    return v, div


def probe_like(
    x: torch.Tensor, kind: str = "rademacher", *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A probe with E[v] = 0, E[v v^T] = I, shaped like ``x``: +-1 entries or N(0, 1) (7.5)."""
    x = check_tensor(x, "x", min_dim=1)
    if kind not in PROBES:
        raise ValueError(f"kind must be one of {PROBES}, got {kind!r}")
    check_generator(generator)
    gdev = resolve_device(None, generator)
    if kind == "gaussian":
        v = torch.randn(x.shape, generator=generator, device=gdev, dtype=x.dtype)
    else:
        v = torch.randint(0, 2, x.shape, generator=generator, device=gdev).to(x.dtype) * 2 - 1
    return v.to(x.device)


def divergence_hutchinson(
    velocity: Velocity,
    x: torch.Tensor,
    t: float | torch.Tensor,
    probe: torch.Tensor,
    *,
    create_graph: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(v(x, t), probe^T (dv/dx) probe) per sample, eq. (7.5): one vector-Jacobian product."""
    velocity, x = _check_velocity(velocity), _check_points(x)
    probe = check_tensor(probe, "probe", min_dim=2)
    if probe.shape != x.shape:
        raise ValueError(
            f"probe must have the shape of x {tuple(x.shape)}, got {tuple(probe.shape)}"
        )
    tt = per_sample(t, x, "t")
    with torch.enable_grad():
        xg = x if x.requires_grad else x.detach().requires_grad_(True)
        v = velocity(xg, tt)
        # region: hutchinson
        (vjp,) = torch.autograd.grad(v, xg, grad_outputs=probe, create_graph=True)  # probe^T dv/dx
        est = (vjp * probe).sum(dim=1)  # probe^T (dv/dx) probe, unbiased for tr(dv/dx)
        # endregion: hutchinson
    if not create_graph:
        v, est = v.detach(), est.detach()
    return v, est


def _check_square(A: object) -> torch.Tensor:
    A = check_tensor(A, "A", min_dim=2)
    if A.dim() != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be a square (d, d) matrix, got {tuple(A.shape)}")
    return A


def hutchinson_samples(
    A: torch.Tensor, n: int, kind: str = "rademacher", *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """n independent estimates v^T A v of tr(A), eq. (7.5); shape (n,)."""
    A = _check_square(A)
    n = check_int(n, "n", minimum=1)
    v = probe_like(A.new_empty(n, A.shape[0]), kind, generator=generator)
    return torch.einsum("ni,ij,nj->n", v, A, v)


def hutchinson_variance(A: torch.Tensor, kind: str = "rademacher") -> float:
    """Var[v^T A v], eq. (7.6): sum_{i != j} (A_ij^2 + A_ij A_ji) for Rademacher probes,
    ||A||_F^2 + tr(A^2) for Gaussian probes."""
    A = _check_square(A).double()
    if kind not in PROBES:
        raise ValueError(f"kind must be one of {PROBES}, got {kind!r}")
    if kind == "gaussian":
        return float((A**2).sum() + torch.trace(A @ A))
    off = ~torch.eye(A.shape[0], dtype=torch.bool, device=A.device)
    return float(((A**2 + A * A.T)[off]).sum())


def augmented_dynamics(
    velocity: Velocity, divergence: str = "exact", probe: torch.Tensor | None = None
) -> Callable[[torch.Tensor, tuple[torch.Tensor, torch.Tensor]], tuple[torch.Tensor, torch.Tensor]]:
    """f(t, (x, a)) = (v(x, t), div v(x, t)) for ``torchdiffeq.odeint``, eqs. (7.2)/(7.4).

    ``divergence`` 'exact' (d backward passes) or 'hutchinson' with a fixed ``probe`` for the
    whole solve (so the dynamics stay smooth in t for the adaptive solver).
    """
    velocity = _check_velocity(velocity)
    if divergence not in ("exact", "hutchinson"):
        raise ValueError(f"divergence must be 'exact' or 'hutchinson', got {divergence!r}")
    if divergence == "hutchinson" and probe is None:
        raise ValueError("divergence='hutchinson' needs a probe (see probe_like)")

    def f(t: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]):
        x = state[0]
        if divergence == "exact":
            v, div = divergence_exact(velocity, x, t.to(x.dtype).expand(x.shape[0]))
        else:
            v, div = divergence_hutchinson(velocity, x, t.to(x.dtype).expand(x.shape[0]), probe)
        return v, div

    return f


def cnf_log_likelihood(
    velocity: Velocity,
    x: torch.Tensor,
    *,
    t0: float = 0.0,
    t1: float = 1.0,
    divergence: str = "exact",
    generator: torch.Generator | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    method: str = "dopri5",
    return_noise: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """log p_t0(x) = log N(x_t1; 0, I) + int_t0^t1 div v dt by one augmented ODE solve, eq. (7.4).

    ``torchdiffeq.odeint`` with ``method`` (adaptive 'dopri5' by default) and tolerances
    ``rtol``/``atol``; for a velocity that is singular at t = 0 (the exact flow-matching
    velocity of data with thin components) pass a small t0 > 0. ``divergence='hutchinson'``
    draws one probe from ``generator`` for the whole solve (an unbiased estimate).
    Evaluation only: no gradient flows through the solve. With ``return_noise`` also x_t1.
    """
    from torchdiffeq import odeint

    velocity, x = _check_velocity(velocity), _check_points(x)
    t0, t1 = check_real(t0, "t0", low=0, high=1), check_real(t1, "t1", low=0, high=1)
    if not t1 > t0:
        raise ValueError(f"need t1 > t0, got t0={t0}, t1={t1}")
    rtol = check_real(rtol, "rtol", low=0, low_open=True)
    atol = check_real(atol, "atol", low=0, low_open=True)
    probe = probe_like(x, "rademacher", generator=generator) if divergence == "hutchinson" else None
    f = augmented_dynamics(velocity, divergence, probe)
    ts = torch.tensor([t0, t1], dtype=x.dtype, device=x.device)
    state0 = (x.detach(), x.new_zeros(x.shape[0]))
    # adaptive solvers must step onto t1 exactly: a velocity may be undefined beyond it
    options = {"step_t": ts[1:]} if method in ADAPTIVE else None
    # region: cnf-likelihood
    xs, integral = odeint(f, state0, ts, rtol=rtol, atol=atol, method=method, options=options)
    z = xs[-1]  # x_t1, the noise end
    logp = standard_normal_log_prob(z) + integral[-1]  # eq. (7.4)
    # endregion: cnf-likelihood
    return (logp, z) if return_noise else logp


def continuity_residual(
    log_density: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    velocity: Velocity,
    x: torch.Tensor,
    t: float | torch.Tensor,
) -> torch.Tensor:
    """d_t log p_t + v . grad log p_t + div v at (x, t), all by autograd: zero exactly when
    (p_t, v) satisfy the continuity equation (7.1) (divide (7.1) by p_t); shape (B,)."""
    velocity, x = _check_velocity(velocity), _check_points(x)
    if not callable(log_density):
        raise TypeError(
            f"log_density must be callable as log p(x, t), got {type(log_density).__name__}"
        )
    tt = per_sample(t, x, "t").detach().clone()
    with torch.enable_grad():
        xg, tg = x.detach().requires_grad_(True), tt.requires_grad_(True)
        logp = log_density(xg, tg)
        d_t, grad_x = torch.autograd.grad(logp.sum(), (tg, xg))
    v, div = divergence_exact(velocity, x.detach(), tt.detach())
    return d_t + (v * grad_x).sum(dim=1) + div
