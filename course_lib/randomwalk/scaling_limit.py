"""The diffusion limit of the random walk (Chapter 01, section 7; used again in Chapter 05).

A walker moves +-dx every dt. Its probability u(x, t) obeys the master equation

    u(x, t + dt) = (u(x - dx, t) + u(x + dx, t)) / 2.                              (7.1)

Taylor-expanding both sides, (u(t+dt) - u)/dt = (dx^2 / 2dt) (u(x+dx) - 2u + u(x-dx))/dx^2,
so as dx, dt -> 0 with D = dx^2 / (2 dt) fixed it becomes the heat equation

    du/dt = D d^2u/dx^2,                                                            (7.2)

solved from a point mass at 0 by p(x, t) = exp(-x^2 / (4 D t)) / sqrt(4 pi D t).

Position X_t = dx S_(t/dt) has variance dx^2 t/dt = 2 D t, matching (7.2). The lattice
pmf is spread over sites 2 dx apart (parity), so P(X_t = x) / (2 dx) -> p(x, t), with an
error O(1/n) at n = t/dt steps (local central limit theorem). Rescaled paths
W_n(t) = S_(floor(nt)) / sqrt(n) converge to Brownian motion (Donsker), whose covariance is
min(s, t).
"""

from __future__ import annotations

import math

import torch

from ..validation import check_int, check_probability, check_real
from .walks import endpoint_pmf, sample_paths

__all__ = [
    "diffusion_coefficient",
    "heat_equation_residual",
    "heat_kernel",
    "lattice_density",
    "master_equation_step",
    "master_equation_variance",
    "rescaled_paths",
]


def diffusion_coefficient(dx: float, dt: float) -> float:
    """D = dx^2 / (2 dt), the constant that survives the limit in eq. (7.2)."""
    dx, dt = check_real(dx, "dx", low=0, low_open=True), check_real(dt, "dt", low=0, low_open=True)
    return dx**2 / (2 * dt)


def heat_kernel(x: torch.Tensor, t: float | torch.Tensor, D: float) -> torch.Tensor:
    """p(x, t) = exp(-x^2 / (4 D t)) / sqrt(4 pi D t), eq. (7.2)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    D = check_real(D, "D", low=0, low_open=True)
    t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
    if torch.any(t <= 0):
        raise ValueError("t must be positive")
    return torch.exp(-(x**2) / (4 * D * t)) / torch.sqrt(4 * math.pi * D * t)


def heat_equation_residual(x: torch.Tensor, t: torch.Tensor, D: float) -> torch.Tensor:
    """du/dt - D d^2u/dx^2 for u = heat_kernel, by autograd (zero if (7.2) solves the PDE)."""
    x = x.detach().clone().requires_grad_(True)
    t = t.detach().clone().requires_grad_(True)
    u = heat_kernel(x, t, D)
    u_t, u_x = torch.autograd.grad(u.sum(), (t, x), create_graph=True)
    (u_xx,) = torch.autograd.grad(u_x.sum(), x)
    return (u_t - D * u_xx).detach()


def master_equation_step(u: torch.Tensor) -> torch.Tensor:
    """One step of eq. (7.1) on a grid: u'(x) = (u(x - dx) + u(x + dx)) / 2, zero outside."""
    if not isinstance(u, torch.Tensor) or u.dim() != 1:
        raise ValueError("u must be a 1-D tensor over the grid")
    padded = torch.nn.functional.pad(u[None, None], (1, 1))[0, 0]
    return 0.5 * (padded[:-2] + padded[2:])


def master_equation_variance(dx: float, n_steps: int) -> float:
    """Variance of the position after ``n_steps`` iterations of (7.1) from a point mass at 0.

    The master equation is solved on the grid x = dx k (no sampling); its variance grows by
    dx^2 per step, i.e. like 2 D t with t = n dt and D = dx^2 / (2 dt), eq. (7.2).
    """
    dx = check_real(dx, "dx", low=0, low_open=True)
    n_steps = check_int(n_steps, "n_steps", minimum=1)
    u = torch.zeros(2 * n_steps + 1, dtype=torch.float64)
    u[n_steps] = 1.0
    for _ in range(n_steps):
        u = master_equation_step(u)
    x = dx * torch.arange(-n_steps, n_steps + 1, dtype=torch.float64)
    mean = (x * u).sum()
    return float(((x - mean) ** 2 * u).sum())


def lattice_density(n: int, dx: float, p: float = 0.5) -> tuple[torch.Tensor, torch.Tensor]:
    """Positions x = dx k and densities P(S_n = k) / (2 dx) of the walk after n steps."""
    dx = check_real(dx, "dx", low=0, low_open=True)
    k, probs = endpoint_pmf(n, p)
    return dx * k.to(torch.float64), probs / (2 * dx)


def rescaled_paths(
    n_walks: int,
    n_steps: int,
    p: float = 0.5,
    *,
    generator: torch.Generator | None = None,
    device=None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Times t_k = k/n and W_n(t_k) = S_k / sqrt(n) (Donsker scaling, D = 1/2), float64."""
    n_steps = check_int(n_steps, "n_steps", minimum=1)
    check_probability(p)
    paths = sample_paths(
        n_walks, n_steps, p, generator=generator, device=device, dtype=torch.float64
    )
    times = torch.arange(n_steps + 1, dtype=torch.float64, device=paths.device) / n_steps
    return times, paths / math.sqrt(n_steps)
