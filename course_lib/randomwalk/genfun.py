"""Generating functions of the simple random walk (Chapter 01, sections 2-4).

Probability generating functions (pgf), with q = 1 - p:

    step:            phi(s) = E[s^X] = p s + q s^-1                                (2.1)
    endpoint:        E[s^S_n] = phi(s)^n                                           (2.2)
    returns:         u_2n = P(S_2n = 0) = C(2n, n) (pq)^n,
                     U(s) = sum_n u_2n s^2n = (1 - 4 pq s^2)^(-1/2)                (3.1)
    first returns:   f_2n = P(first return at time 2n),
                     F(s) = sum_n f_2n s^2n = 1 - sqrt(1 - 4 pq s^2) = 1 - 1/U(s)  (3.2)
                     f_2n = u_2n / (2n - 1),   P(ever return) = F(1) = 1 - |p - q|  (3.3)
    first passage:   T_1 = first time the walk hits +1,
                     Phi(s) = E[s^T_1] = (1 - sqrt(1 - 4 pq s^2)) / (2 q s),          (4.1)
                     P(T_1 = 2m - 1) = C_(m-1) p^m q^(m-1),  C_m = C(2m, m)/(m + 1)  (4.2)
    renewal:         u_2n = sum_{k=1}^n f_2k u_(2n-2k)  (n >= 1), i.e. U = 1 + F U     (3.4)
    telescoping:     f_2n = u_(2n-2) - u_2n  (p = 1/2), so P(no return by 2N) = u_2N   (3.5)
    hitting time:    P(T_r = n) = (r / n) P(S_n = r)   for r >= 1                  (5.4)
    last return:     L_2N = last time <= 2N at 0:  P(L_2N = 2k) = u_2k u_(2N-2k),
                     P(L_2N <= 2N x) -> (2/pi) arcsin(sqrt(x))  (p = 1/2)           (5.5)

The ``*_series`` functions expand the closed forms with sympy (exact rationals when p
is a ``sympy.Rational``); the numeric functions evaluate the coefficients in float64
with log-gamma, vectorised over n.
"""

from __future__ import annotations

import math

import sympy as sp
import torch

from ..validation import check_int, check_probability
from .walks import log_binomial_pmf

__all__ = [
    "HALF",
    "S",
    "catalan",
    "endpoint_pgf",
    "endpoint_pgf_coefficients",
    "ever_return_probability",
    "first_passage_pgf",
    "first_passage_pmf",
    "first_return_pgf",
    "first_return_probabilities",
    "arcsine_cdf",
    "hitting_time_pmf",
    "last_return_pmf",
    "renewal_convolution",
    "return_pgf",
    "return_probabilities",
    "series_coefficients",
    "step_pgf",
    "truncated_mean_return_time",
]

#: The formal variable of every generating function.
S = sp.Symbol("s")
#: p = 1/2 as an exact rational (the default: the symmetric walk).
HALF = sp.Rational(1, 2)


def _sym_p(p: float | sp.Rational) -> sp.Expr:
    if isinstance(p, sp.Basic):
        if not (p.is_real and 0 <= p <= 1):
            raise ValueError(f"p must be a real number in [0, 1], got {p}")
        return p
    return sp.nsimplify(check_probability(p))


def step_pgf(p: float | sp.Rational = HALF) -> sp.Expr:
    """phi(s) = p s + q / s, eq. (2.1)."""
    p = _sym_p(p)
    return p * S + (1 - p) / S


def endpoint_pgf(n: int, p: float | sp.Rational = HALF) -> sp.Expr:
    """E[s^S_n] = phi(s)^n, eq. (2.2) (a Laurent polynomial in s)."""
    return step_pgf(p) ** check_int(n, "n")


def endpoint_pgf_coefficients(n: int, p: float | sp.Rational = HALF) -> dict[int, sp.Expr]:
    """{k: coefficient of s^k in phi(s)^n}, which is P(S_n = k) by eq. (2.2)."""
    n = check_int(n, "n")
    # s^n phi(s)^n is an ordinary polynomial of degree 2n; shift exponents back by n.
    poly = sp.Poly(sp.expand(S**n * endpoint_pgf(n, p)), S)
    return {int(m[0]) - n: c for m, c in zip(poly.monoms(), poly.coeffs(), strict=True)}


def return_pgf(p: float | sp.Rational = HALF) -> sp.Expr:
    """U(s) = (1 - 4 p q s^2)^(-1/2), eq. (3.1)."""
    p = _sym_p(p)
    return 1 / sp.sqrt(1 - 4 * p * (1 - p) * S**2)


def first_return_pgf(p: float | sp.Rational = HALF) -> sp.Expr:
    """F(s) = 1 - sqrt(1 - 4 p q s^2), eq. (3.2)."""
    p = _sym_p(p)
    return 1 - sp.sqrt(1 - 4 * p * (1 - p) * S**2)


def first_passage_pgf(p: float | sp.Rational = HALF) -> sp.Expr:
    """Phi(s) = (1 - sqrt(1 - 4 p q s^2)) / (2 q s), eq. (4.1); needs p < 1."""
    p = _sym_p(p)
    if p == 1:
        raise ValueError("first_passage_pgf needs p < 1 (for p = 1, T_1 = 1 surely)")
    return (1 - sp.sqrt(1 - 4 * p * (1 - p) * S**2)) / (2 * (1 - p) * S)


def series_coefficients(expr: sp.Expr, order: int) -> list[sp.Expr]:
    """Coefficients of s^0 .. s^order in the Taylor series of ``expr`` about s = 0."""
    order = check_int(order, "order")
    poly = sp.series(expr, S, 0, order + 1).removeO()
    return [sp.simplify(poly.coeff(S, m)) for m in range(order + 1)]


def return_probabilities(n_max: int, p: float = 0.5, *, device=None) -> torch.Tensor:
    """u_0, u_2, ..., u_(2 n_max): u_2n = C(2n, n) (pq)^n, eq. (3.1); float64, length n_max+1."""
    n_max, p = check_int(n_max, "n_max"), check_probability(p)
    n = torch.arange(n_max + 1, dtype=torch.float64, device=device)
    # u_2n = P(S_2n = 0): n up-steps out of 2n
    return torch.exp(log_binomial_pmf(2 * n, n, p))


def first_return_probabilities(n_max: int, p: float = 0.5, *, device=None) -> torch.Tensor:
    """f_0, f_2, ..., f_(2 n_max) with f_0 = 0 and f_2n = u_2n / (2n - 1), eq. (3.3)."""
    u = return_probabilities(n_max, p, device=device)
    n = torch.arange(n_max + 1, dtype=torch.float64, device=device)
    f = u / (2 * n - 1)
    f[0] = 0.0
    return f


def ever_return_probability(p: float) -> float:
    """P(the walk ever returns to 0) = F(1) = 1 - |p - q|, eq. (3.3)."""
    p = check_probability(p)
    return 1.0 - abs(2 * p - 1)


def truncated_mean_return_time(n_max: int, p: float = 0.5) -> float:
    """sum_{n <= n_max} 2n f_2n: for p = 1/2 it grows like 2 sqrt(n_max / pi) (E[T_0] = inf)."""
    f = first_return_probabilities(n_max, p)
    n = torch.arange(n_max + 1, dtype=torch.float64)
    return float((2 * n * f).sum())


def catalan(m: int) -> int:
    """C_m = C(2m, m) / (m + 1): 1, 1, 2, 5, 14, 42, ... (exact integer)."""
    m = check_int(m, "m")
    return math.comb(2 * m, m) // (m + 1)


def first_passage_pmf(m_max: int, p: float = 0.5) -> torch.Tensor:
    """P(T_1 = 2m - 1) = C_(m-1) p^m q^(m-1) for m = 1..m_max, eq. (4.2); float64.

    Since C_(m-1) = C(2m-2, m-1) / m, this is p u_(2m-2) / m.
    """
    m_max, p = check_int(m_max, "m_max", minimum=1), check_probability(p)
    m = torch.arange(1, m_max + 1, dtype=torch.float64)
    return p * return_probabilities(m_max - 1, p) / m


def hitting_time_pmf(r: int, n_max: int, p: float = 0.5) -> torch.Tensor:
    """P(T_r = n) = (r/n) P(S_n = r) for n = 0..n_max, eq. (5.4) (zero for n < r)."""
    r = check_int(r, "r", minimum=1)
    n_max, p = check_int(n_max, "n_max"), check_probability(p)
    n = torch.arange(n_max + 1, dtype=torch.float64)
    reachable = (n >= r) & ((n - r) % 2 == 0)
    j = ((n + r) / 2).where(reachable, torch.zeros_like(n))  # up-steps when S_n = r
    p_s_n = torch.exp(log_binomial_pmf(n, j, p))  # P(S_n = r), eq. (1.1)
    return torch.where(reachable, r / n.clamp(min=1) * p_s_n, 0.0)


def renewal_convolution(f: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """The right side of the renewal equation (3.4): c_0 = 1, c_n = sum_{k=1}^n f_k u_(n-k).

    ``f`` = (f_0, f_2, ...) and ``u`` = (u_0, u_2, ...) of one length; the renewal equation
    holds exactly when the result equals ``u``.
    """
    for name, t in (("f", f), ("u", u)):
        if not isinstance(t, torch.Tensor) or t.dim() != 1:
            raise ValueError(f"{name} must be a 1-D tensor, got {type(t).__name__}")
    if f.shape != u.shape:
        raise ValueError(f"f and u must have one length, got {f.numel()} and {u.numel()}")
    f, u = f.to(torch.float64), u.to(torch.float64)
    c = torch.ones_like(u)
    for n in range(1, u.numel()):
        c[n] = torch.dot(f[1 : n + 1], u[:n].flip(0))  # f_k u_(n-k), k = 1..n
    return c


def last_return_pmf(n_half: int) -> torch.Tensor:
    """P(L_2N = 2k) = u_2k u_(2N-2k) for k = 0..N, symmetric walk, eq. (5.5); float64."""
    n_half = check_int(n_half, "n_half", minimum=1)
    u = return_probabilities(n_half)
    return u * u.flip(0)


def arcsine_cdf(x: torch.Tensor | float) -> torch.Tensor:
    """(2/pi) arcsin(sqrt(x)) for x in [0, 1]: the limit law of L_2N / 2N, eq. (5.5)."""
    x = torch.as_tensor(x, dtype=torch.float64)
    if torch.any((x < 0) | (x > 1)):
        raise ValueError("x must lie in [0, 1]")
    return 2 / math.pi * torch.asin(torch.sqrt(x))
