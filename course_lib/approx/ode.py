"""The ODE view of stochastic approximation (Chapter 03, section 6).

Read a_k as a time step. On the time scale

    t_1 = 0,   t_{k+1} = t_k + a_k = a_1 + ... + a_k,                                 (6.1)

the RM recursion (2.1) is Euler's method for the mean flow

    dw/dt = -g(w),                                                                    (6.2)

plus the noise term -a_k eta_k, whose sum over any window of fixed length T has variance
of order sum a_k^2 over the window -> 0. So as a_k -> 0 the iterates track a solution of
(6.2); its stable equilibrium is the root w*. The Euler error over a window of length T
is O(max a_k), which is why the gap shrinks linearly with the step scale.

For g(w) = tanh(w - w*), d/dt sinh(w - w*) = cosh(w - w*) dw/dt = -sinh(w - w*), hence

    w(t) = w* + asinh( sinh(w(0) - w*) e^{-t} ).                                      (6.3)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..validation import check_real, check_values

__all__ = ["solve_mean_ode", "tanh_flow"]


def tanh_flow(w0: float, t: object, root: float = 1.0) -> torch.Tensor:
    """Closed-form solution (6.3) of dw/dt = -tanh(w - root), w(0) = w0, at times t >= 0."""
    w0, root = check_real(w0, "w0"), check_real(root, "root")
    t = check_values(t, "t", low=0.0)
    return root + torch.asinh(torch.sinh(torch.tensor(w0 - root, dtype=t.dtype)) * torch.exp(-t))


def solve_mean_ode(
    g: Callable[[np.ndarray], np.ndarray], w0: float, t: object, *, rtol: float = 1e-10
) -> torch.Tensor:
    """Solve dw/dt = -g(w) (6.2), w(0) = w0, with scipy's solve_ivp (RK45) at times t.

    ``g`` acts on NumPy arrays; ``t`` is a non-decreasing set of times >= 0. Returns float64.
    """
    from scipy.integrate import solve_ivp

    if not callable(g):
        raise TypeError(f"g must be callable on NumPy arrays, got {type(g).__name__}")
    w0 = check_real(w0, "w0")
    ts = check_values(t, "t", low=0.0).reshape(-1).cpu().numpy()
    if ts.size and np.any(np.diff(ts) < 0):
        raise ValueError("t must be non-decreasing")
    t_end = float(ts[-1]) if ts.size else 0.0
    if t_end == 0.0:
        # every requested time is t = 0 (or none is): the solution there is w(0) = w0 itself;
        # solve_ivp cannot integrate over the empty span [0, 0]
        return torch.full((ts.size,), w0, dtype=torch.float64)
    # solve_ivp wants strictly increasing t_eval: solve at the distinct times, then repeat
    t_eval, where = np.unique(ts, return_inverse=True)
    sol = solve_ivp(
        lambda _t, w: -g(w), (0.0, t_end), [w0], t_eval=t_eval, rtol=rtol, atol=rtol * 1e-2
    )
    if not sol.success:
        raise ValueError(f"solve_ivp failed: {sol.message}")
    return torch.from_numpy(sol.y[0][where])  # ts is 1-D, so is where
