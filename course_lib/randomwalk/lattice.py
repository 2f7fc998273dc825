r"""Simple random walks on Z^d and Polya's theorem (Chapter 01, section 8).

Each step moves to one of the 2d nearest neighbours with probability 1/(2d). Let
u_2n = P(S_2n = 0) and f_2n = P(first return at 2n). The renewal argument of section 3
holds in any dimension,

    u_2n = sum_{k=1}^{n} f_2k u_(2n-2k)  (n >= 1),   so   F(s) = 1 - 1/U(s),       (8.1)

and P(ever return) = F(1) = 1 - 1/U(1) with U(1) = sum_n u_2n (= infinity means recurrent).

Exact u_2n by dimension (u1 is the 1-D value C(2n, n)/4^n):

    d = 1:  u1(2n);
    d = 2:  u1(2n)^2 (the coordinates x + y and x - y are two independent 1-D walks);
    d = 3:  sum_j C(2n, 2j) (1/3)^(2j) (2/3)^(2n-2j) u1(2j) u2(2n - 2j)            (8.2)
            (2j of the steps move along z, a Binomial(2n, 1/3) count; they must return,
            and the other 2n - 2j steps form a 2-D walk that must return too).

Since u1(2n) ~ 1/sqrt(pi n), sum u_2n diverges for d = 1, 2 (recurrent: Polya 1921) and
converges for d = 3, where u_2n ~ 2 (3 / (4 pi n))^(3/2). In d = 3,

    U(1) = (2 pi)^-3 int_[-pi,pi]^3 dk / (1 - (cos k1 + cos k2 + cos k3)/3)
         = int_0^inf e^-t I_0(t/3)^3 dt                                             (8.3)

(Watson's integral; the second form uses 1/a = int e^(-a t) dt and
(1/pi) int_0^pi e^(t cos k / 3) dk = I_0(t/3)), so P(return) = 1 - 1/U(1) ~ 0.34.
"""

from __future__ import annotations

import math

import torch

from ..validation import check_int, resolve_device

__all__ = [
    "first_returns_from_returns",
    "lattice_return_probabilities",
    "sample_lattice_first_returns",
    "watson_return_sum",
]


def _log_u1(n: torch.Tensor) -> torch.Tensor:
    """log u1(2n) = log C(2n, n) - 2n log 2, elementwise over float64 n."""
    return torch.lgamma(2 * n + 1) - 2 * torch.lgamma(n + 1) - 2 * n * math.log(2)


def lattice_return_probabilities(n_max: int, dim: int) -> torch.Tensor:
    """u_0, u_2, ..., u_(2 n_max) = P(S_2n = 0) of the simple walk on Z^dim, eq. (8.2); float64."""
    n_max = check_int(n_max, "n_max")
    dim = check_int(dim, "dim", minimum=1)
    if dim > 3:
        raise ValueError(f"dim must be 1, 2 or 3, got {dim}")
    n = torch.arange(n_max + 1, dtype=torch.float64)
    log_u1 = _log_u1(n)
    if dim == 1:
        return torch.exp(log_u1)
    if dim == 2:
        return torch.exp(2 * log_u1)  # u2(2n) = u1(2n)^2
    # d = 3, eq. (8.2): row n, column j (terms with j > n are dropped)
    nn, j = n[:, None], n[None, :]
    valid = j <= nn
    jj = torch.where(valid, j, 0.0)
    rest = torch.where(valid, nn - jj, 0.0)
    log_choose = torch.lgamma(2 * nn + 1) - torch.lgamma(2 * jj + 1) - torch.lgamma(2 * rest + 1)
    log_terms = (
        log_choose
        + 2 * jj * math.log(1 / 3)
        + 2 * rest * math.log(2 / 3)
        + log_u1[jj.long()]
        + 2 * log_u1[rest.long()]
    )
    return torch.logsumexp(log_terms.masked_fill(~valid, -math.inf), dim=1).exp()


def first_returns_from_returns(u: torch.Tensor) -> torch.Tensor:
    """f_0 = 0, f_2, f_4, ... from u_0 = 1, u_2, ... by solving the renewal equation (8.1).

    f_2n = u_2n - sum_{k=1}^{n-1} f_2k u_(2n-2k), one n after another (float64).
    """
    if not isinstance(u, torch.Tensor) or u.dim() != 1 or u.numel() == 0:
        raise ValueError("u must be a non-empty 1-D tensor (u_0, u_2, ...)")
    if abs(float(u[0]) - 1.0) > 1e-12:
        raise ValueError(f"u_0 must be 1 (the walk starts at 0), got {float(u[0])}")
    u = u.to(torch.float64)
    f = torch.zeros_like(u)
    for n in range(1, u.numel()):
        f[n] = u[n] - torch.dot(f[1:n], u[1:n].flip(0))  # u[n-k] for k = 1..n-1
    return f


def watson_return_sum(dim: int = 3) -> float:
    """U(1) = sum_n u_2n for the transient walk on Z^3 by Watson's integral (8.3), with scipy.

    The integrand e^-t I_0(t/3)^3 is scipy's exponentially scaled Bessel function ive(0, t/3)
    cubed; it decays like t^(-3/2), and quad integrates it over [0, inf).
    """
    dim = check_int(dim, "dim")
    if dim != 3:
        raise ValueError(
            f"only dim = 3 is transient among 1, 2, 3 (U(1) = inf otherwise), got {dim}"
        )
    from scipy import integrate, special

    value, error = integrate.quad(lambda t: special.ive(0, t / 3) ** 3, 0, math.inf, limit=500)
    if error > 1e-6:
        raise RuntimeError(f"Watson integral did not converge (error estimate {error:.1e})")
    return float(value)


def sample_lattice_first_returns(
    n_walks: int,
    n_steps: int,
    dim: int,
    *,
    generator: torch.Generator | None = None,
    device=None,
    chunk: int = 256,
) -> torch.Tensor:
    """First return times to the origin of ``n_walks`` simple walks on Z^dim (-1: none by n_steps).

    Every step is simulated: a uniform integer r in [0, 2 dim) picks the axis r // 2 and the
    sign 2 (r % 2) - 1. Steps are drawn ``chunk`` at a time so memory stays bounded.
    """
    n_walks = check_int(n_walks, "n_walks", minimum=1)
    n_steps = check_int(n_steps, "n_steps", minimum=1)
    dim = check_int(dim, "dim", minimum=1)
    chunk = check_int(chunk, "chunk", minimum=1)
    dev = resolve_device(device, generator)
    pos = torch.zeros(n_walks, dim, dtype=torch.int32, device=dev)
    first = torch.full((n_walks,), -1, dtype=torch.int64, device=dev)
    for start in range(0, n_steps, chunk):
        c = min(chunk, n_steps - start)
        r = torch.randint(0, 2 * dim, (n_walks, c), generator=generator, device=dev)
        steps = torch.zeros(n_walks, c, dim, dtype=torch.int32, device=dev)
        steps.scatter_(2, (r // 2)[..., None], (2 * (r % 2) - 1).to(torch.int32)[..., None])
        path = pos[:, None, :] + torch.cumsum(steps, dim=1)  # positions after steps start+1..
        at_origin = (path == 0).all(dim=2)
        hit = at_origin.any(dim=1) & (first < 0)
        first[hit] = start + 1 + at_origin[hit].int().argmax(dim=1)
        pos = path[:, -1, :]
    return first
