r"""Samplers as small pure functions over a denoiser and a time grid (sections 3-4 and 7-9).

**One model interface.** Every model is a denoiser D(x; sigma) ≈ E[x_0 | x_0 + sigma eps = x]
with sigma of shape (B,). A process with marginal x_t = a x_0 + s eps is the same thing seen
at scale a: x_t / a = x_0 + (s/a) eps, so

    x0_hat = D(x_t / a; s / a),   eps_hat = (x_t - a x0_hat) / s,   score = -eps_hat / s.      (3.1)

The exact mixture (:meth:`GaussianMixture.denoiser`) and the trained networks
(:mod:`.nets`) both have this signature, so each sampler runs on either.

**DDPM ancestral** (Ho et al. 2020): x_{t'} ~ q(x_{t'} | x_t, x_0 = x0_hat), eqs. (1.6)-(1.7), on a
decreasing grid t > t' (t' = t - 1 without skipping), with variance beta_tilde or beta.     (3.2)

**DDIM** (Song, Meng & Ermon 2021) keeps the marginals q(x_t | x_0) but drops the Markov
property; with sigma_t(eta) = eta sqrt((1 - ab_{t'})/(1 - ab_t)) sqrt(1 - ab_t/ab_{t'}),

    x_{t'} = sqrt(ab_{t'}) x0_hat + sqrt(1 - ab_{t'} - sigma_t^2) eps_hat + sigma_t z.      (4.1)

eta = 1 on adjacent steps is the DDPM posterior; eta = 0 is deterministic, an Euler step of
the ODE d(x/a) = eps_hat d(s/a), which can be run backwards to encode (inversion, eq. 4.2).

**Continuous time** (:mod:`.sde`): reverse-SDE Euler–Maruyama for (8.4), probability-flow
ODE (8.5) with Euler or Heun, and annealed Langevin dynamics (SMLD, eq. 7.2).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from ..validation import (
    Denoiser,
    batch_view,
    check_denoiser,
    check_generator,
    check_int,
    check_real,
    check_tensor,
    per_sample,
    randn_like,
)
from .forward import posterior_coefficients
from .schedules import Schedule, check_schedule
from .sde import SDE

__all__ = [
    "SAMPLERS",
    "SampleResult",
    "annealed_langevin",
    "ddim_invert",
    "ddim_sample",
    "ddim_sigma",
    "ddim_step",
    "ddpm_sample",
    "denoiser_from_score",
    "eps_from_denoiser",
    "geometric_sigmas",
    "pf_ode_euler",
    "pf_ode_heun",
    "reverse_sde_em",
    "run_sampler",
    "score_from_denoiser",
    "time_grid",
]


@dataclass
class SampleResult:
    """A sampler's output: final ``x``, the number of network evaluations ``nfe`` and,
    when asked for, the ``trajectory`` (a tensor (n_points, *x.shape) from noise to data)."""

    x: torch.Tensor
    nfe: int
    trajectory: torch.Tensor | None = None


def eps_from_denoiser(
    denoiser: Denoiser, x: torch.Tensor, a: torch.Tensor | float, s: torch.Tensor | float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(x0_hat, eps_hat) of eq. (3.1) for x = a x_0 + s eps; eps_hat = 0 at s = 0 (its limit)."""
    denoiser, x = check_denoiser(denoiser), check_tensor(x, "x", min_dim=2)
    a_v, s_v = per_sample(a, x, "a", low=0, low_open=True), per_sample(s, x, "s", low=0)
    a_b, s_b = batch_view(a_v, x), batch_view(s_v, x)
    x0_hat = denoiser(x / a_b, s_v / a_v)
    if x0_hat.shape != x.shape:
        raise ValueError(
            f"the denoiser returned shape {tuple(x0_hat.shape)} for input {tuple(x.shape)}"
        )
    safe_s = torch.where(s_b > 0, s_b, torch.ones_like(s_b))
    eps_hat = torch.where(s_b > 0, (x - a_b * x0_hat) / safe_s, torch.zeros_like(x))
    return x0_hat, eps_hat


def score_from_denoiser(
    denoiser: Denoiser, x: torch.Tensor, a: torch.Tensor | float, s: torch.Tensor | float
) -> torch.Tensor:
    """grad log p_t(x) = -(x - a D(x/a; s/a)) / s^2, eq. (3.1) (Tweedie); needs s > 0."""
    x = check_tensor(x, "x", min_dim=2)
    s_v = per_sample(s, x, "s (the score needs s > 0)", low=0, low_open=True)
    _, eps_hat = eps_from_denoiser(denoiser, x, a, s)
    return -eps_hat / batch_view(s_v, x)


def denoiser_from_score(score: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Denoiser:
    """Wrap a VE score model s(x, sigma) ≈ grad log p_sigma(x) as D(x; sigma) = x + sigma^2 s
    (Tweedie)."""
    if not callable(score):
        raise TypeError("score must be callable as s(x, sigma)")

    def denoiser(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return x + batch_view(sigma, x) ** 2 * score(x, sigma)

    return denoiser


def _grid(schedule: Schedule, timesteps: torch.Tensor | None) -> list[int]:
    schedule = check_schedule(schedule)
    if timesteps is None:
        ts = list(range(schedule.T, 0, -1))
    else:
        ts = [int(t) for t in torch.as_tensor(timesteps).reshape(-1).tolist()]
    if (
        not ts
        or any(b >= a for a, b in zip(ts, ts[1:], strict=False))
        or ts[-1] < 1
        or ts[0] > schedule.T
    ):
        raise ValueError(
            f"timesteps must be strictly decreasing within 1..{schedule.T}, got {ts[:5]}..."
        )
    return ts + [0]


def ddim_sigma(alpha_bar_t: torch.Tensor, alpha_bar_prev: torch.Tensor, eta: float) -> torch.Tensor:
    """sigma_t(eta) = eta sqrt((1 - ab_{t'})/(1 - ab_t)) sqrt(1 - ab_t/ab_{t'}), eq. (4.1)."""
    eta = check_real(eta, "eta", low=0)
    ab_t, ab_p = torch.as_tensor(alpha_bar_t), torch.as_tensor(alpha_bar_prev)
    return eta * ((1 - ab_p) / (1 - ab_t)).sqrt() * (1 - ab_t / ab_p).sqrt()


def ddim_step(
    x: torch.Tensor,
    x0_hat: torch.Tensor,
    eps_hat: torch.Tensor,
    alpha_bar_t: torch.Tensor,
    alpha_bar_prev: torch.Tensor,
    eta: float,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """One DDIM update, eq. (4.1), from x_t to x_{t'} (``noise`` needed when eta > 0)."""
    sigma = ddim_sigma(alpha_bar_t, alpha_bar_prev, eta)
    ab_p = torch.as_tensor(alpha_bar_prev, dtype=x.dtype, device=x.device)
    sigma = sigma.to(dtype=x.dtype, device=x.device)
    # direction pointing to x_t: sqrt(1 - ab_{t'} - sigma^2) eps_hat (clamped against round-off)
    x_prev = ab_p.sqrt() * x0_hat + (1 - ab_p - sigma**2).clamp(min=0).sqrt() * eps_hat
    if eta > 0:
        if noise is None:
            raise ValueError("eta > 0 needs noise")
        x_prev = x_prev + sigma * noise
    return x_prev


@torch.no_grad()
def ddim_sample(
    denoiser: Denoiser,
    schedule: Schedule,
    x_T: torch.Tensor,
    *,
    timesteps: torch.Tensor | None = None,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    return_trajectory: bool = False,
) -> SampleResult:
    """DDIM, eq. (4.1), over ``timesteps`` (a decreasing subset of 1..T; default all) to t = 0."""
    denoiser, x = check_denoiser(denoiser), check_tensor(x_T, "x_T", min_dim=2)
    check_generator(generator)
    eta = check_real(eta, "eta", low=0)
    grid = _grid(schedule, timesteps)
    ab = schedule.alpha_bars.to(device=x.device, dtype=x.dtype)
    traj = [x]
    for t, t_prev in zip(grid[:-1], grid[1:], strict=False):
        x0_hat, eps_hat = eps_from_denoiser(denoiser, x, ab[t].sqrt(), (1 - ab[t]).sqrt())
        noise = randn_like(x, generator) if eta > 0 and t_prev > 0 else None
        x = ddim_step(x, x0_hat, eps_hat, ab[t], ab[t_prev], eta if t_prev > 0 else 0.0, noise)
        if return_trajectory:
            traj.append(x)
    return SampleResult(x, len(grid) - 1, torch.stack(traj) if return_trajectory else None)


@torch.no_grad()
def ddpm_sample(
    denoiser: Denoiser,
    schedule: Schedule,
    x_T: torch.Tensor,
    *,
    timesteps: torch.Tensor | None = None,
    sigma2: str = "beta_tilde",
    generator: torch.Generator | None = None,
    return_trajectory: bool = False,
) -> SampleResult:
    """Ancestral sampling, eq. (3.2): x_{t'} = mu_tilde(x_t, x0_hat) + sigma z on the grid.

    ``sigma2``: 'beta_tilde' (eq. 1.7, the posterior variance) or 'beta' (1 - ab_t/ab_{t'});
    the last step (to t = 0) returns the mean, as in Ho et al.
    """
    denoiser, x = check_denoiser(denoiser), check_tensor(x_T, "x_T", min_dim=2)
    check_generator(generator)
    if sigma2 not in ("beta", "beta_tilde"):
        raise ValueError(f"sigma2 must be 'beta' or 'beta_tilde', got {sigma2!r}")
    grid = _grid(schedule, timesteps)
    ab = schedule.alpha_bars.to(device=x.device, dtype=x.dtype)
    traj = [x]
    for t, t_prev in zip(grid[:-1], grid[1:], strict=False):
        # region: ddpm-step
        x0_hat, _ = eps_from_denoiser(denoiser, x, ab[t].sqrt(), (1 - ab[t]).sqrt())
        c0, ct, var = posterior_coefficients(ab[t], ab[t_prev])
        # mu_tilde = c_0 x0_hat + c_t x_t, eq. (1.6)
        x = c0 * x0_hat + ct * x
        if t_prev > 0:
            var = var if sigma2 == "beta_tilde" else 1 - ab[t] / ab[t_prev]
            # x_{t'} = mu_tilde + sigma z, eq. (3.2)
            x = x + var.sqrt() * randn_like(x, generator)
        # endregion: ddpm-step
        if return_trajectory:
            traj.append(x)
    return SampleResult(x, len(grid) - 1, torch.stack(traj) if return_trajectory else None)


@torch.no_grad()
def ddim_invert(
    denoiser: Denoiser,
    schedule: Schedule,
    x0: torch.Tensor,
    *,
    timesteps: torch.Tensor | None = None,
    return_trajectory: bool = False,
) -> SampleResult:
    """Deterministic DDIM encoding, eq. (4.2): run (4.1) with eta = 0 from t = 0 up the grid.

    x_{t_next} = sqrt(ab_next) x0_hat(x_t) + sqrt(1 - ab_next) eps_hat(x_t). ``timesteps`` is the
    same decreasing grid that :func:`ddim_sample` will decode with; the result is x at its top.
    """
    denoiser, x = check_denoiser(denoiser), check_tensor(x0, "x0", min_dim=2)
    grid = _grid(schedule, timesteps)[::-1]  # 0, t_1, ..., t_top
    ab = schedule.alpha_bars.to(device=x.device, dtype=x.dtype)
    traj, nfe = [x], 0
    for t, t_next in zip(grid[:-1], grid[1:], strict=False):
        if t == 0:  # at t = 0: x0_hat = x and eps_hat = 0 (its limit), no evaluation needed
            x0_hat, eps_hat = x, torch.zeros_like(x)
        else:
            x0_hat, eps_hat = eps_from_denoiser(denoiser, x, ab[t].sqrt(), (1 - ab[t]).sqrt())
            nfe += 1
        x = ab[t_next].sqrt() * x0_hat + (1 - ab[t_next]).sqrt() * eps_hat
        if return_trajectory:
            traj.append(x)
    return SampleResult(x, nfe, torch.stack(traj) if return_trajectory else None)


# ---------------------------------------------------------------------------------------
# Continuous time
# ---------------------------------------------------------------------------------------
def time_grid(
    n_steps: int,
    *,
    t_max: float = 1.0,
    t_min: float = 1e-3,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """Decreasing times t_max = t_0 > ... > t_n = t_min, uniformly spaced (n_steps + 1 points)."""
    n = check_int(n_steps, "n_steps", minimum=1)
    t_max = check_real(t_max, "t_max", low=0, high=1)
    t_min = check_real(t_min, "t_min", low=0, high=t_max, low_open=True, high_open=True)
    return torch.linspace(t_max, t_min, n + 1, dtype=dtype, device=device)


def _check_ts(sde: object, ts: torch.Tensor) -> torch.Tensor:
    if not isinstance(sde, SDE):
        raise TypeError(f"sde must be an SDE (VPSDE, SubVPSDE, VESDE), got {type(sde).__name__}")
    ts = check_tensor(ts, "ts")
    if ts.dim() != 1 or ts.numel() < 2 or torch.any(ts[1:] >= ts[:-1]):
        raise ValueError("ts must be a 1-D strictly decreasing grid with at least 2 points")
    if ts[-1] <= 0 or ts[0] > 1:
        raise ValueError(f"ts must lie in (0, 1], got [{float(ts[-1])}, {float(ts[0])}]")
    return ts


def _score(denoiser: Denoiser, sde: SDE, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return score_from_denoiser(denoiser, x, sde.a(t).to(x.dtype), sde.std(t).to(x.dtype))


def _ode_drift(denoiser: Denoiser, sde: SDE, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """dx/dt = f(t) x - 1/2 g(t)^2 grad log p_t(x), eq. (8.5)."""
    f, g = sde.f(t).to(x.dtype), sde.g(t).to(x.dtype)
    return f * x - 0.5 * g**2 * _score(denoiser, sde, x, t)


@torch.no_grad()
def reverse_sde_em(
    denoiser: Denoiser,
    sde: SDE,
    x_T: torch.Tensor,
    ts: torch.Tensor,
    *,
    generator: torch.Generator | None = None,
    return_trajectory: bool = False,
) -> SampleResult:
    """Euler–Maruyama for the reverse SDE (8.4) on the decreasing grid ``ts`` (dt < 0):

    x <- x + [f x - g^2 score] dt + g sqrt(|dt|) z. The last step adds no noise.
    """
    denoiser, x = check_denoiser(denoiser), check_tensor(x_T, "x_T", min_dim=2)
    ts = _check_ts(sde, ts).to(x.device)
    check_generator(generator)
    traj = [x]
    n = ts.numel() - 1
    for i in range(n):
        t, dt = ts[i], ts[i + 1] - ts[i]
        f, g = sde.f(t).to(x.dtype), sde.g(t).to(x.dtype)
        drift = f * x - g**2 * _score(denoiser, sde, x, t)
        x = x + drift * dt.to(x.dtype)
        if i < n - 1:
            x = x + g * math.sqrt(float(-dt)) * randn_like(x, generator)
        if return_trajectory:
            traj.append(x)
    return SampleResult(x, n, torch.stack(traj) if return_trajectory else None)


@torch.no_grad()
def pf_ode_euler(
    denoiser: Denoiser,
    sde: SDE,
    x_T: torch.Tensor,
    ts: torch.Tensor,
    *,
    return_trajectory: bool = False,
) -> SampleResult:
    """Euler's method for the probability-flow ODE (8.5): x <- x + (f x - 1/2 g^2 score) dt."""
    denoiser, x = check_denoiser(denoiser), check_tensor(x_T, "x_T", min_dim=2)
    ts = _check_ts(sde, ts).to(x.device)
    traj = [x]
    for i in range(ts.numel() - 1):
        x = x + _ode_drift(denoiser, sde, x, ts[i]) * (ts[i + 1] - ts[i]).to(x.dtype)
        if return_trajectory:
            traj.append(x)
    return SampleResult(x, ts.numel() - 1, torch.stack(traj) if return_trajectory else None)


@torch.no_grad()
def pf_ode_heun(
    denoiser: Denoiser,
    sde: SDE,
    x_T: torch.Tensor,
    ts: torch.Tensor,
    *,
    return_trajectory: bool = False,
) -> SampleResult:
    """Heun's method (explicit trapezoid) for (8.5): an Euler predictor, then the average slope.

    Second order: the error at a fixed final time falls like (number of steps)^-2. Two
    evaluations per step.
    """
    denoiser, x = check_denoiser(denoiser), check_tensor(x_T, "x_T", min_dim=2)
    ts = _check_ts(sde, ts).to(x.device)
    traj = [x]
    for i in range(ts.numel() - 1):
        dt = (ts[i + 1] - ts[i]).to(x.dtype)
        d1 = _ode_drift(denoiser, sde, x, ts[i])
        x_pred = x + d1 * dt  # Euler predictor
        d2 = _ode_drift(denoiser, sde, x_pred, ts[i + 1])
        x = x + 0.5 * (d1 + d2) * dt  # trapezoid corrector
        if return_trajectory:
            traj.append(x)
    return SampleResult(x, 2 * (ts.numel() - 1), torch.stack(traj) if return_trajectory else None)


def geometric_sigmas(
    sigma_max: float, sigma_min: float, n_levels: int, *, dtype=torch.float64, device=None
) -> torch.Tensor:
    """sigma_1 > ... > sigma_L in geometric progression (SMLD's noise levels)."""
    hi = check_real(sigma_max, "sigma_max", low=0, low_open=True)
    lo = check_real(sigma_min, "sigma_min", low=0, high=hi, low_open=True, high_open=True)
    n = check_int(n_levels, "n_levels", minimum=2)
    return torch.exp(torch.linspace(math.log(hi), math.log(lo), n, dtype=dtype, device=device))


@torch.no_grad()
def annealed_langevin(
    denoiser: Denoiser,
    sigmas: Sequence[float] | torch.Tensor,
    x_init: torch.Tensor,
    *,
    n_steps_each: int = 10,
    step_lr: float = 2e-5,
    generator: torch.Generator | None = None,
    return_trajectory: bool = False,
) -> SampleResult:
    """Annealed Langevin dynamics (Song & Ermon 2019), eq. (7.2).

    For each level sigma_i (decreasing), with step alpha_i = step_lr sigma_i^2 / sigma_L^2,
    repeat x <- x + alpha_i/2 grad log p_{sigma_i}(x) + sqrt(alpha_i) z, the score taken as
    (D(x; sigma_i) - x) / sigma_i^2. The trajectory keeps the state after each level.
    """
    denoiser, x = check_denoiser(denoiser), check_tensor(x_init, "x_init", min_dim=2)
    sig = torch.as_tensor(sigmas, dtype=torch.float64).reshape(-1)
    if sig.numel() < 1 or torch.any(sig <= 0) or torch.any(sig[1:] >= sig[:-1]):
        raise ValueError("sigmas must be positive and strictly decreasing")
    n_each = check_int(n_steps_each, "n_steps_each", minimum=1)
    lr = check_real(step_lr, "step_lr", low=0, low_open=True)
    check_generator(generator)
    traj, nfe = [x], 0
    for sigma in sig.tolist():
        alpha = lr * (sigma / float(sig[-1])) ** 2
        s_vec = torch.full((x.shape[0],), sigma, dtype=x.dtype, device=x.device)
        for _ in range(n_each):
            score = (denoiser(x, s_vec) - x) / sigma**2  # Tweedie: grad log p_sigma
            x = x + 0.5 * alpha * score + math.sqrt(alpha) * randn_like(x, generator)
            nfe += 1
        if return_trajectory:
            traj.append(x)
    return SampleResult(x, nfe, torch.stack(traj) if return_trajectory else None)


#: Sampler names understood by :func:`run_sampler`.
SAMPLERS = ("ddpm", "ddim", "sde_em", "pf_euler", "pf_heun")


def run_sampler(
    name: str,
    denoiser: Denoiser,
    n: int,
    n_steps: int,
    *,
    schedule: Schedule,
    sde: SDE,
    eta: float = 0.0,
    shape: tuple[int, ...] = (2,),
    t_min: float = 1e-3,
    generator: torch.Generator | None = None,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.float32,
    return_trajectory: bool = False,
) -> SampleResult:
    """Draw ``n`` samples with sampler ``name`` in :data:`SAMPLERS` and ``n_steps`` steps.

    Discrete samplers use ``schedule.timesteps(n_steps)``; continuous ones use ``sde`` on
    :func:`time_grid` (n_steps, t_min). The start x_T ~ N(0, prior_std^2 I) comes from ``generator``
    (prior_std = 1 for the discrete chain). ``pf_heun`` spends 2 evaluations per step.
    """
    if name not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {name!r}")
    n, n_steps = check_int(n, "n", minimum=1), check_int(n_steps, "n_steps", minimum=1)
    check_generator(generator)
    gdev = generator.device if generator is not None else torch.device("cpu")
    dev = torch.device(device) if device is not None else gdev
    z = torch.randn((n, *shape), generator=generator, device=gdev, dtype=dtype).to(dev)
    if name in ("ddpm", "ddim"):
        ts = schedule.timesteps(n_steps)
        if name == "ddpm":
            return ddpm_sample(
                denoiser,
                schedule,
                z,
                timesteps=ts,
                generator=generator,
                return_trajectory=return_trajectory,
            )
        return ddim_sample(
            denoiser,
            schedule,
            z,
            timesteps=ts,
            eta=eta,
            generator=generator,
            return_trajectory=return_trajectory,
        )
    grid = time_grid(n_steps, t_min=t_min, device=dev)
    x_T = sde.prior_std() * z
    if name == "sde_em":
        return reverse_sde_em(
            denoiser, sde, x_T, grid, generator=generator, return_trajectory=return_trajectory
        )
    ode = pf_ode_euler if name == "pf_euler" else pf_ode_heun
    return ode(denoiser, sde, x_T, grid, return_trajectory=return_trajectory)
