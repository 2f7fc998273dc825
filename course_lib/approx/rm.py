"""The Robbins–Monro algorithm and Dvoretzky's theorem (Chapter 03, sections 2-4).

Find the root w* of g(w) = 0 when only noisy values g~(w, eta) = g(w) + eta can be observed:

    w_{k+1} = w_k - a_k g~(w_k, eta_k),   k = 1, 2, ...                          (2.1)

**RM theorem.** w_k -> w* with probability 1 if

    0 < c1 <= dg/dw <= c2 for all w                                               (2.2)
    sum a_k = inf,  sum a_k^2 < inf                                                (2.3)
    E[eta_k | H_k] = 0,  E[eta_k^2 | H_k] < inf  (H_k: the history up to k)          (2.4)

(2.2) gives a unique root that every step moves towards, with steps of controlled size;
(2.3a) lets the iterates travel to w* from anywhere; (2.3b) and (2.4) make the accumulated
noise sum a_k eta_k converge. Mean estimation is RM with g(w) = w - E[X] and
g~(w, x) = w - x, i.e. eta = E[X] - x.

**Dvoretzky's theorem** (the engine of the RM proof). For

    Delta_{k+1} = (1 - alpha_k) Delta_k + beta_k eta_k,                           (4.1)

Delta_k -> 0 with probability 1 if sum alpha_k = inf, sum alpha_k^2 < inf, sum beta_k^2 < inf
(uniformly, w.p. 1) and E[eta_k | H_k] = 0, E[eta_k^2 | H_k] <= C. For deterministic alpha,
beta and independent noise of variance s^2, the first two moments follow exactly

    E[Delta_{k+1}] = (1 - alpha_k) E[Delta_k],
    Var[Delta_{k+1}] = (1 - alpha_k)^2 Var[Delta_k] + beta_k^2 s^2.               (4.2)

RM is (4.1) for a linear g: with g(w) = c (w - w*), Delta = w - w* obeys (4.1) with
alpha_k = c a_k, beta_k = -a_k.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..validation import check_generator, check_int, check_real, check_tensor, randn_like
from .schedules import resolve_steps

__all__ = [
    "PROBLEMS",
    "RootProblem",
    "dvoretzky_moments",
    "dvoretzky_process",
    "gaussian_noise",
    "robbins_monro",
    "uniform_noise",
]

#: A noise model: eta = noise(w, generator), a tensor shaped like w (zero mean).
Noise = Callable[[torch.Tensor, "torch.Generator | None"], torch.Tensor]


def gaussian_noise(sigma: float) -> Noise:
    """eta ~ N(0, sigma^2), independent across runs, coordinates and steps (satisfies (2.4))."""
    sigma = check_real(sigma, "sigma", low=0.0)

    def draw(w: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return sigma * randn_like(w, generator)

    return draw


def uniform_noise(b: float) -> Noise:
    """eta ~ Uniform[-b, b] (variance b^2/3): bounded noise, |eta| <= b always."""
    b = check_real(b, "b", low=0.0)

    def draw(w: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        check_generator(generator)
        dev = generator.device if generator is not None else w.device
        u = torch.rand(w.shape, dtype=w.dtype, device=dev, generator=generator).to(w.device)
        return b * (2 * u - 1)

    return draw


def _resolve_noise(noise: object) -> Noise | None:
    if callable(noise):
        return noise
    if noise is None:
        return None
    sigma = check_real(noise, "noise", low=0.0)
    return None if sigma == 0 else gaussian_noise(sigma)


def robbins_monro(
    g: Callable[[torch.Tensor], torch.Tensor],
    w1: torch.Tensor,
    step_sizes: object,
    n_iter: int,
    *,
    noise: float | Noise | None = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """All iterates w_1, ..., w_{n_iter+1} of the RM recursion (2.1), shape (n_iter+1, *w1.shape).

    ``w1`` holds any number of independent runs (and dimensions), e.g. shape (runs,) or
    (runs, d); ``g`` maps a tensor of that shape to one of the same shape, elementwise per
    run. ``noise`` is a standard deviation (Gaussian eta), a callable ``noise(w, generator)``
    (see :func:`gaussian_noise`, :func:`uniform_noise`) or 0/None for exact values of g.
    ``step_sizes``: a :class:`~course_lib.approx.schedules.StepSize`, a positive number or a
    1-D tensor. Iterates that overflow raise ``ValueError`` (lower the steps).
    """
    if not callable(g):
        raise TypeError(
            f"g must be callable as g(w) -> tensor shaped like w, got {type(g).__name__}"
        )
    w1 = check_tensor(w1, "w1", min_dim=0)
    n_iter = check_int(n_iter, "n_iter")
    check_generator(generator)
    draw = _resolve_noise(noise)
    a = resolve_steps(step_sizes, n_iter).tolist()  # python floats: no device sync per step
    out = torch.empty((n_iter + 1, *w1.shape), dtype=w1.dtype, device=w1.device)
    out[0] = w = w1
    for k in range(n_iter):
        gw = g(w)
        if k == 0 and (not isinstance(gw, torch.Tensor) or gw.shape != w.shape):
            got = tuple(gw.shape) if isinstance(gw, torch.Tensor) else type(gw).__name__
            raise ValueError(f"g(w) must return a tensor of shape {tuple(w.shape)}, got {got}")
        # region: rm-step
        # (2.1): w_{k+1} = w_k - a_k g~(w_k, eta_k), with g~ = g(w_k) + eta_k
        g_tilde = gw if draw is None else gw + draw(w, generator)
        w = w - a[k] * g_tilde
        # endregion: rm-step
        out[k + 1] = w
    if not bool(torch.isfinite(out[-1]).all()):
        raise ValueError(
            "the iterates overflowed (inf/NaN): g grows too fast for these step sizes; "
            "use smaller steps or a start closer to the root"
        )
    return out


@dataclass(frozen=True)
class RootProblem:
    """A root-finding test problem: g, its root, a start, and the slope bounds of (2.2)."""

    name: str
    g: Callable[[torch.Tensor], torch.Tensor]
    root: float
    w1: float
    slope_min: float
    slope_max: float

    @property
    def satisfies_slope_condition(self) -> bool:
        """Whether 0 < c1 <= g' <= c2 (2.2) holds with c1 = slope_min > 0."""
        return self.slope_min > 0


def _linear(w: torch.Tensor) -> torch.Tensor:
    return w - 1.0  # slope 1, root 1


def _tanh(w: torch.Tensor) -> torch.Tensor:
    return torch.tanh(w - 1.0)  # slope 1/cosh^2 in (0, 1], root 1


def _flat(w: torch.Tensor) -> torch.Tensor:
    e = w - 1.0
    return e**3 / (1 + e**2)  # slope (3e^2 + e^4)/(1 + e^2)^2 in [0, 9/8]: vanishes at the root


#: The chapter's g's: a line, the seed article's tanh, and a g whose slope vanishes at w*.
PROBLEMS: dict[str, RootProblem] = {
    "linear": RootProblem("linear: g = w - 1", _linear, 1.0, 3.0, 1.0, 1.0),
    "tanh": RootProblem("tanh: g = tanh(w - 1)", _tanh, 1.0, 3.0, 0.0, 1.0),
    "flat": RootProblem("flat: g = e^3/(1+e^2), e = w - 1", _flat, 1.0, 3.0, 0.0, 9 / 8),
}


def dvoretzky_process(
    alpha: object,
    beta: object,
    n_iter: int,
    delta1: torch.Tensor,
    *,
    noise: float | Noise = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """All Delta_1..Delta_{n_iter+1} of (4.1) for a batch ``delta1`` of runs, shape
    (n_iter+1, *delta1.shape); alpha, beta: step-size objects, numbers or 1-D tensors."""
    delta1 = check_tensor(delta1, "delta1", min_dim=0)
    n_iter = check_int(n_iter, "n_iter")
    check_generator(generator)
    draw = _resolve_noise(noise)
    al = resolve_steps(alpha, n_iter).tolist()
    be = resolve_steps(beta, n_iter).tolist()
    out = torch.empty((n_iter + 1, *delta1.shape), dtype=delta1.dtype, device=delta1.device)
    out[0] = d = delta1
    for k in range(n_iter):
        eta = torch.zeros_like(d) if draw is None else draw(d, generator)
        # (4.1): Delta_{k+1} = (1 - alpha_k) Delta_k + beta_k eta_k
        d = (1 - al[k]) * d + be[k] * eta
        out[k + 1] = d
    return out


def dvoretzky_moments(
    alpha: object, beta: object, n_iter: int, delta1: float, sigma2: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact E[Delta_k] and Var[Delta_k], k = 1..n_iter+1, of (4.1) by the recursion (4.2)
    (deterministic Delta_1, independent zero-mean noise of variance sigma2), float64."""
    n_iter = check_int(n_iter, "n_iter")
    delta1 = check_real(delta1, "delta1")
    sigma2 = check_real(sigma2, "sigma2", low=0.0)
    al, be = resolve_steps(alpha, n_iter).tolist(), resolve_steps(beta, n_iter).tolist()
    mean, var = [delta1], [0.0]
    for k in range(n_iter):  # python floats: exact float64 arithmetic, no per-entry tensor ops
        mean.append((1 - al[k]) * mean[k])
        var.append((1 - al[k]) ** 2 * var[k] + be[k] ** 2 * sigma2)
    return torch.tensor(mean, dtype=torch.float64), torch.tensor(var, dtype=torch.float64)
