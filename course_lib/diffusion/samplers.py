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

**One sampler signature** (k-diffusion's): ``sampler(denoiser, x, grid, *, <process>, ...,
noise=None, generator=None, callback=None) -> SampleResult``. ``x`` is the start, ``grid``
the decreasing levels (integer timesteps with ``schedule=``, times with ``sde=``, or sigmas),
``noise`` replaces the generator's draws by given ones (a tensor with one slot per step, or a
callable ``noise(i, x)``; :func:`make_noise_sampler`) so a run can be replayed against another
library's, and ``callback(info)`` is called once per step with the dict {i, x, t and/or
sigma, denoised} (:class:`Trajectory` keeps the path). The EDM and flow samplers of
:mod:`.edm` and :mod:`.flow` follow the same signature.
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
    check_flag,
    check_generator,
    check_int,
    check_real,
    check_tensor,
    per_sample,
    randn_like,
)
from .forward import posterior_coefficients
from .schedules import Schedule, check_schedule
from .sde import SDE, sde_time

__all__ = [
    "SAMPLERS",
    "Callback",
    "NoiseSampler",
    "SampleResult",
    "Trajectory",
    "annealed_langevin",
    "ddim_invert",
    "ddim_sample",
    "ddim_sigma",
    "ddim_step",
    "ddpm_sample",
    "check_callback",
    "denoiser_from_score",
    "eps_from_denoiser",
    "geometric_sigmas",
    "make_noise_sampler",
    "pf_drift",
    "pf_ode_euler",
    "pf_ode_heun",
    "reverse_sde_em",
    "run_sampler",
    "score_from_denoiser",
    "time_grid",
]


@dataclass
class SampleResult:
    """A sampler's output: the final ``x`` and the number of network evaluations ``nfe``.

    The path a sampler takes is reported step by step to its ``callback`` (see
    :class:`Trajectory` to keep it)."""

    x: torch.Tensor
    nfe: int


# ---------------------------------------------------------------------------------------
# The one sampler interface: sampler(denoiser, x, grid, *, ..., noise, generator, callback)
# ---------------------------------------------------------------------------------------
#: A progress callback: called once per step with a dict holding at least ``i`` (the step),
#: ``x`` (the state the step starts from), ``denoised`` (the model's x0_hat at that state) and
#: the state's level (``t`` and/or ``sigma``), as k-diffusion's samplers do.
Callback = Callable[[dict], None]

#: A noise sampler: ``noise(i, x)`` returns the standard normal draw used at step ``i``,
#: shaped like ``x`` (k-diffusion's ``noise_sampler(sigma, sigma_next)`` keyed by the step).
NoiseSampler = Callable[[int, torch.Tensor], torch.Tensor]


def check_callback(callback: object) -> Callback | None:
    """``callback`` unchanged if it is None or callable (``TypeError`` otherwise)."""
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable as callback(info: dict), got {callback!r}")
    return callback


def make_noise_sampler(
    noise: torch.Tensor | NoiseSampler | None,
    x: torch.Tensor,
    n_steps: int,
    generator: torch.Generator | None = None,
) -> NoiseSampler:
    """The source of a sampler's fresh noise z_i, validated once at the public boundary.

    * ``noise=None``: z_i ~ N(0, I) from ``generator`` (:func:`randn_like`);
    * a tensor of shape (n_steps, *x.shape): z_i = noise[i] (steps that add no noise skip
      their slot), e.g. the draws recorded from another library's run;
    * a callable ``noise(i, x)`` returning a tensor shaped like x.

    Giving both ``noise`` and ``generator`` is an error: only one of them can be the source.
    """
    check_generator(generator)
    n_steps = check_int(n_steps, "n_steps", minimum=0)
    if noise is None:
        return lambda i, xx: randn_like(xx, generator)
    if generator is not None:
        raise ValueError("give either noise= or generator=, not both (noise= is used as given)")
    if isinstance(noise, torch.Tensor):
        want = (n_steps, *x.shape)
        if tuple(noise.shape) != want:
            raise ValueError(
                f"noise must have shape (n_steps, *x.shape) = {want}, got {tuple(noise.shape)}"
            )
        table = noise.to(device=x.device, dtype=x.dtype)
        return lambda i, xx: table[i]
    if not callable(noise):
        raise TypeError(
            f"noise must be None, a tensor or a callable noise(i, x), got {type(noise).__name__}"
        )

    def checked(i: int, xx: torch.Tensor) -> torch.Tensor:
        z = noise(i, xx)
        if not isinstance(z, torch.Tensor) or z.shape != xx.shape:
            got = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise ValueError(
                f"noise(i, x) must return a tensor of shape {tuple(xx.shape)}, got {got}"
            )
        return z.to(device=xx.device, dtype=xx.dtype)

    return checked


class Trajectory:
    """A callback that keeps the states a sampler visits.

    ``rec = Trajectory(); res = sampler(..., callback=rec)``; then ``rec.stack(res)`` is the
    tensor (n_steps + 1, *x.shape) of the states from the start to the final ``res.x``, and
    ``rec.infos`` the dicts the sampler reported.
    """

    def __init__(self) -> None:
        self.infos: list[dict] = []

    def __call__(self, info: dict) -> None:
        self.infos.append(info)

    def stack(self, result: SampleResult) -> torch.Tensor:
        """The visited states x_0 (start), ..., then ``result.x``, stacked on a new first axis."""
        if not isinstance(result, SampleResult):
            raise TypeError(f"result must be a SampleResult, got {type(result).__name__}")
        return torch.stack([*(info["x"] for info in self.infos), result.x])


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
    """One DDIM update, eq. (4.1), from x_t to x_{t'} (``noise`` needed when eta > 0).

    The alpha_bars are taken in x's dtype before sigma_t(eta) is formed: python floats would
    otherwise give a float32 sigma (a relative error ~1e-8 in a float64 step)."""
    ab_t = torch.as_tensor(alpha_bar_t, dtype=x.dtype, device=x.device)
    ab_p = torch.as_tensor(alpha_bar_prev, dtype=x.dtype, device=x.device)
    sigma = ddim_sigma(ab_t, ab_p, eta)
    # direction pointing to x_t: sqrt(1 - ab_{t'} - sigma^2) eps_hat (clamped against round-off)
    x_prev = ab_p.sqrt() * x0_hat + (1 - ab_p - sigma**2).clamp(min=0).sqrt() * eps_hat
    if eta > 0:
        if noise is None:
            raise ValueError("eta > 0 needs noise")
        x_prev = x_prev + sigma * noise
    return x_prev


def _level(ab_t: torch.Tensor) -> float:
    """sigma_t = sqrt((1 - ab_t)/ab_t), the denoiser's noise level at alpha_bar_t."""
    return float(((1 - ab_t) / ab_t).sqrt())


@torch.no_grad()
def ddim_sample(
    denoiser: Denoiser,
    x: torch.Tensor,
    timesteps: torch.Tensor | None = None,
    *,
    schedule: Schedule,
    eta: float = 0.0,
    set_alpha_to_one: bool = True,
    noise: torch.Tensor | NoiseSampler | None = None,
    generator: torch.Generator | None = None,
    callback: Callback | None = None,
) -> SampleResult:
    """DDIM, eq. (4.1), from x = x_T over ``timesteps`` (a decreasing subset of 1..T, e.g.
    ``schedule.timesteps(n, spacing)``; None: all T steps) down to the end point.

    The end point is t = 0 (alpha_bar = 1). ``set_alpha_to_one=False`` is diffusers' option of
    that name: the last step lands on alpha_bar_1 (diffusers' ``alphas_cumprod[0]``) instead,
    and with eta > 0 it adds noise too. Each step goes to the next grid point; diffusers' DDIM
    steps to t - T//n instead, which is the same point whenever n divides T. ``noise``: see
    :func:`make_noise_sampler` (one slot per step); ``callback`` gets {i, x, t, sigma,
    denoised} before each step.
    """
    denoiser, x = check_denoiser(denoiser), check_tensor(x, "x", min_dim=2)
    eta = check_real(eta, "eta", low=0)
    set_alpha_to_one = check_flag(set_alpha_to_one, "set_alpha_to_one")
    callback = check_callback(callback)
    grid = _grid(schedule, timesteps)
    next_noise = make_noise_sampler(noise, x, len(grid) - 1, generator)
    ab = schedule.alpha_bars.to(device=x.device, dtype=x.dtype)
    ab_end = ab[0] if set_alpha_to_one else ab[1]
    for i, (t, t_prev) in enumerate(zip(grid[:-1], grid[1:], strict=False)):
        ab_t, ab_p = ab[t], (ab[t_prev] if t_prev > 0 else ab_end)
        x0_hat, eps_hat = eps_from_denoiser(denoiser, x, ab_t.sqrt(), (1 - ab_t).sqrt())
        if callback is not None:
            callback({"i": i, "x": x, "t": t, "sigma": _level(ab_t), "denoised": x0_hat})
        stochastic = eta > 0 and bool(ab_p < 1)  # sigma_t(eta) = 0 when ab_{t'} = 1
        z = next_noise(i, x) if stochastic else None
        x = ddim_step(x, x0_hat, eps_hat, ab_t, ab_p, eta if stochastic else 0.0, z)
    return SampleResult(x, len(grid) - 1)


@torch.no_grad()
def ddpm_sample(
    denoiser: Denoiser,
    x: torch.Tensor,
    timesteps: torch.Tensor | None = None,
    *,
    schedule: Schedule,
    sigma2: str = "beta_tilde",
    noise: torch.Tensor | NoiseSampler | None = None,
    generator: torch.Generator | None = None,
    callback: Callback | None = None,
) -> SampleResult:
    """Ancestral sampling, eq. (3.2): x_{t'} = mu_tilde(x_t, x0_hat) + sigma z on the grid
    ``timesteps`` (decreasing within 1..T; None: all T steps), from x = x_T to t = 0.

    ``sigma2``: 'beta_tilde' (eq. 1.7, the posterior variance) or 'beta' (1 - ab_t/ab_{t'});
    the last step (to t = 0) returns the mean, as in Ho et al. ``noise``: see
    :func:`make_noise_sampler`; ``callback`` gets {i, x, t, sigma, denoised} before each step.
    """
    denoiser, x = check_denoiser(denoiser), check_tensor(x, "x", min_dim=2)
    if sigma2 not in ("beta", "beta_tilde"):
        raise ValueError(f"sigma2 must be 'beta' or 'beta_tilde', got {sigma2!r}")
    callback = check_callback(callback)
    grid = _grid(schedule, timesteps)
    next_noise = make_noise_sampler(noise, x, len(grid) - 1, generator)
    ab = schedule.alpha_bars.to(device=x.device, dtype=x.dtype)
    for i, (t, t_prev) in enumerate(zip(grid[:-1], grid[1:], strict=False)):
        # region: ddpm-step
        x0_hat, _ = eps_from_denoiser(denoiser, x, ab[t].sqrt(), (1 - ab[t]).sqrt())
        if callback is not None:
            callback({"i": i, "x": x, "t": t, "sigma": _level(ab[t]), "denoised": x0_hat})
        c0, ct, var = posterior_coefficients(ab[t], ab[t_prev])
        # mu_tilde = c_0 x0_hat + c_t x_t, eq. (1.6)
        x = c0 * x0_hat + ct * x
        if t_prev > 0:
            var = var if sigma2 == "beta_tilde" else 1 - ab[t] / ab[t_prev]
            # x_{t'} = mu_tilde + sigma z, eq. (3.2)
            x = x + var.sqrt() * next_noise(i, x)
        # endregion: ddpm-step
    return SampleResult(x, len(grid) - 1)


@torch.no_grad()
def ddim_invert(
    denoiser: Denoiser,
    x: torch.Tensor,
    timesteps: torch.Tensor | None = None,
    *,
    schedule: Schedule,
    callback: Callback | None = None,
) -> SampleResult:
    """Deterministic DDIM encoding, eq. (4.2): run (4.1) with eta = 0 from data x (t = 0) up.

    x_{t_next} = sqrt(ab_next) x0_hat(x_t) + sqrt(1 - ab_next) eps_hat(x_t). ``timesteps`` is the
    same decreasing grid that :func:`ddim_sample` will decode with; the result is x at its top.
    ``callback`` gets {i, x, t, sigma, denoised} before each step (t increasing).
    """
    denoiser, x = check_denoiser(denoiser), check_tensor(x, "x", min_dim=2)
    callback = check_callback(callback)
    grid = _grid(schedule, timesteps)[::-1]  # 0, t_1, ..., t_top
    ab = schedule.alpha_bars.to(device=x.device, dtype=x.dtype)
    nfe = 0
    for i, (t, t_next) in enumerate(zip(grid[:-1], grid[1:], strict=False)):
        if t == 0:  # at t = 0: x0_hat = x and eps_hat = 0 (its limit), no evaluation needed
            x0_hat, eps_hat = x, torch.zeros_like(x)
        else:
            x0_hat, eps_hat = eps_from_denoiser(denoiser, x, ab[t].sqrt(), (1 - ab[t]).sqrt())
            nfe += 1
        if callback is not None:
            callback({"i": i, "x": x, "t": t, "sigma": _level(ab[t]), "denoised": x0_hat})
        x = ab[t_next].sqrt() * x0_hat + (1 - ab[t_next]).sqrt() * eps_hat
    return SampleResult(x, nfe)


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


def _sde_terms(
    denoiser: Denoiser, sde: SDE, x: torch.Tensor, t: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(f(t), g(t), grad log p_t(x), x0_hat) at one time t, eq. (3.1) with a(t), std(t)."""
    a, s = sde.a(t).to(x.dtype), sde.std(t).to(x.dtype)
    x0_hat, eps_hat = eps_from_denoiser(denoiser, x, a, s)
    score = -eps_hat / s  # Tweedie, eq. (3.1)
    return sde.f(t).to(x.dtype), sde.g(t).to(x.dtype), score, x0_hat


def pf_drift(
    denoiser: Denoiser, sde: SDE, x: torch.Tensor, t: float | torch.Tensor
) -> torch.Tensor:
    """dx/dt = f(t) x - 1/2 g(t)^2 grad log p_t(x), the probability-flow ODE (8.5), at time t.

    ``t`` is a number or a 0-dim tensor (as an ODE solver passes it); times a hair outside
    [0, 1] from an adaptive solver's overshoot are accepted (see :func:`.sde.sde_time`).
    With torchdiffeq, ``ts = torch.tensor([1.0, t_min])`` and ``odeint(lambda t, x: pf_drift(D,
    sde, x, t), x_1, ts, method="dopri5", options={"step_t": ts})`` integrates from the prior
    at t = 1 to t_min; ``step_t`` makes the solver land on t_min (by default it may take its
    last step past the end, below t = 0, and interpolate back, which no tolerance can allow).
    """
    denoiser, x = check_denoiser(denoiser), check_tensor(x, "x", min_dim=2)
    if not isinstance(sde, SDE):
        raise TypeError(f"sde must be an SDE (VPSDE, SubVPSDE, VESDE), got {type(sde).__name__}")
    tt = torch.as_tensor(t, dtype=torch.float64)
    if tt.dim() != 0:
        raise ValueError(f"t must be a single time, got shape {tuple(tt.shape)}")
    if float(sde_time(tt)) <= 0:
        raise ValueError("the probability-flow drift needs t > 0 (the score is singular at t = 0)")
    f, g, score, _ = _sde_terms(denoiser, sde, x, tt.to(x.device))
    return f * x - 0.5 * g**2 * score


@torch.no_grad()
def reverse_sde_em(
    denoiser: Denoiser,
    x: torch.Tensor,
    ts: torch.Tensor,
    *,
    sde: SDE,
    noise: torch.Tensor | NoiseSampler | None = None,
    generator: torch.Generator | None = None,
    callback: Callback | None = None,
) -> SampleResult:
    """Euler–Maruyama for the reverse SDE (8.4) from x = x(t_0) on the decreasing grid ``ts``
    (dt < 0): x <- x + [f x - g^2 score] dt + g sqrt(|dt|) z. The last step adds no noise.

    ``noise``: see :func:`make_noise_sampler`; ``callback`` gets {i, x, t, sigma, denoised}.
    """
    denoiser, x = check_denoiser(denoiser), check_tensor(x, "x", min_dim=2)
    ts = _check_ts(sde, ts).to(x.device)
    callback = check_callback(callback)
    n = ts.numel() - 1
    next_noise = make_noise_sampler(noise, x, n, generator)
    for i in range(n):
        t, dt = ts[i], ts[i + 1] - ts[i]
        f, g, score, x0_hat = _sde_terms(denoiser, sde, x, t)
        if callback is not None:
            callback(
                {"i": i, "x": x, "t": float(t), "sigma": float(sde.sigma(t)), "denoised": x0_hat}
            )
        drift = f * x - g**2 * score
        x = x + drift * dt.to(x.dtype)
        if i < n - 1:
            x = x + g * math.sqrt(float(-dt)) * next_noise(i, x)
    return SampleResult(x, n)


@torch.no_grad()
def pf_ode_euler(
    denoiser: Denoiser,
    x: torch.Tensor,
    ts: torch.Tensor,
    *,
    sde: SDE,
    callback: Callback | None = None,
) -> SampleResult:
    """Euler's method for the probability-flow ODE (8.5) from x = x(t_0) on the decreasing grid
    ``ts``: x <- x + (f x - 1/2 g^2 score) dt. ``callback`` gets {i, x, t, sigma, denoised}."""
    denoiser, x = check_denoiser(denoiser), check_tensor(x, "x", min_dim=2)
    ts = _check_ts(sde, ts).to(x.device)
    callback = check_callback(callback)
    for i in range(ts.numel() - 1):
        f, g, score, x0_hat = _sde_terms(denoiser, sde, x, ts[i])
        if callback is not None:
            callback(
                {
                    "i": i,
                    "x": x,
                    "t": float(ts[i]),
                    "sigma": float(sde.sigma(ts[i])),
                    "denoised": x0_hat,
                }
            )
        x = x + (f * x - 0.5 * g**2 * score) * (ts[i + 1] - ts[i]).to(x.dtype)
    return SampleResult(x, ts.numel() - 1)


@torch.no_grad()
def pf_ode_heun(
    denoiser: Denoiser,
    x: torch.Tensor,
    ts: torch.Tensor,
    *,
    sde: SDE,
    callback: Callback | None = None,
) -> SampleResult:
    """Heun's method (explicit trapezoid) for (8.5): an Euler predictor, then the average slope.

    Second order: the error at a fixed final time falls like (number of steps)^-2. Two
    evaluations per step. ``callback`` gets {i, x, t, sigma, denoised} (the predictor's x0_hat).
    """
    denoiser, x = check_denoiser(denoiser), check_tensor(x, "x", min_dim=2)
    ts = _check_ts(sde, ts).to(x.device)
    callback = check_callback(callback)
    for i in range(ts.numel() - 1):
        dt = (ts[i + 1] - ts[i]).to(x.dtype)
        f, g, score, x0_hat = _sde_terms(denoiser, sde, x, ts[i])
        if callback is not None:
            callback(
                {
                    "i": i,
                    "x": x,
                    "t": float(ts[i]),
                    "sigma": float(sde.sigma(ts[i])),
                    "denoised": x0_hat,
                }
            )
        d1 = f * x - 0.5 * g**2 * score
        x_pred = x + d1 * dt  # Euler predictor
        f2, g2, score2, _ = _sde_terms(denoiser, sde, x_pred, ts[i + 1])
        d2 = f2 * x_pred - 0.5 * g2**2 * score2
        x = x + 0.5 * (d1 + d2) * dt  # trapezoid corrector
    return SampleResult(x, 2 * (ts.numel() - 1))


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
    x: torch.Tensor,
    sigmas: Sequence[float] | torch.Tensor,
    *,
    n_steps_each: int = 10,
    step_lr: float = 2e-5,
    noise: torch.Tensor | NoiseSampler | None = None,
    generator: torch.Generator | None = None,
    callback: Callback | None = None,
) -> SampleResult:
    """Annealed Langevin dynamics (Song & Ermon 2019), eq. (7.2), from x over the levels
    ``sigmas`` (decreasing).

    For each level sigma_l, with step alpha_l = step_lr sigma_l^2 / sigma_L^2, repeat
    x <- x + alpha_l/2 grad log p_{sigma_l}(x) + sqrt(alpha_l) z, the score taken as
    (D(x; sigma_l) - x) / sigma_l^2. Step i (0 .. L n_steps_each - 1) is update number
    i mod n_steps_each at level l = i // n_steps_each; ``noise`` has one slot per update (see
    :func:`make_noise_sampler`); ``callback`` gets {i, level, x, sigma, denoised} per update.
    """
    denoiser, x = check_denoiser(denoiser), check_tensor(x, "x", min_dim=2)
    sig = torch.as_tensor(sigmas, dtype=torch.float64).reshape(-1)
    if sig.numel() < 1 or torch.any(sig <= 0) or torch.any(sig[1:] >= sig[:-1]):
        raise ValueError("sigmas must be positive and strictly decreasing")
    n_each = check_int(n_steps_each, "n_steps_each", minimum=1)
    lr = check_real(step_lr, "step_lr", low=0, low_open=True)
    callback = check_callback(callback)
    next_noise = make_noise_sampler(noise, x, sig.numel() * n_each, generator)
    i = 0
    for level, sigma in enumerate(sig.tolist()):
        alpha = lr * (sigma / float(sig[-1])) ** 2
        s_vec = torch.full((x.shape[0],), sigma, dtype=x.dtype, device=x.device)
        for _ in range(n_each):
            denoised = denoiser(x, s_vec)
            if callback is not None:
                callback({"i": i, "level": level, "x": x, "sigma": sigma, "denoised": denoised})
            score = (denoised - x) / sigma**2  # Tweedie: grad log p_sigma
            x = x + 0.5 * alpha * score + math.sqrt(alpha) * next_noise(i, x)
            i += 1
    return SampleResult(x, i)


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
    callback: Callback | None = None,
) -> SampleResult:
    """Draw ``n`` samples with sampler ``name`` in :data:`SAMPLERS` and ``n_steps`` steps.

    Discrete samplers use ``schedule.timesteps(n_steps)``; continuous ones use ``sde`` on
    :func:`time_grid` (n_steps, t_min). The start x_T ~ N(0, prior_std^2 I) and every later
    draw come from ``generator`` (prior_std = 1 for the discrete chain). ``pf_heun`` spends 2
    evaluations per step. ``callback`` is passed on to the sampler.
    """
    if name not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {name!r}")
    n, n_steps = check_int(n, "n", minimum=1), check_int(n_steps, "n_steps", minimum=1)
    check_generator(generator)
    gdev = generator.device if generator is not None else torch.device("cpu")
    dev = torch.device(device) if device is not None else gdev
    z = torch.randn((n, *shape), generator=generator, device=gdev, dtype=dtype).to(dev)
    if name == "ddpm":
        ts = schedule.timesteps(n_steps)
        return ddpm_sample(
            denoiser, z, ts, schedule=schedule, generator=generator, callback=callback
        )
    if name == "ddim":
        ts = schedule.timesteps(n_steps)
        return ddim_sample(
            denoiser, z, ts, schedule=schedule, eta=eta, generator=generator, callback=callback
        )
    grid = time_grid(n_steps, t_min=t_min, device=dev)
    x_T = sde.prior_std() * z
    if name == "sde_em":
        return reverse_sde_em(denoiser, x_T, grid, sde=sde, generator=generator, callback=callback)
    ode = pf_ode_euler if name == "pf_euler" else pf_ode_heun
    return ode(denoiser, x_T, grid, sde=sde, callback=callback)
