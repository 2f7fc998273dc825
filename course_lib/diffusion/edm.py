r"""The EDM unified framework (Karras et al. 2022, "Elucidating the Design Space ...", section 9).

**Perturbation.** Every diffusion model of this chapter perturbs data as

    x_t = s(t) (x_0 + sigma(t) eps),   eps ~ N(0, I),                                      (9.1)

so x_t / s(t) = x_0 + sigma(t) eps: the scaled variable is the variance-exploding one that
the denoiser D(x; sigma) = E[x_0 | x_0 + sigma eps = x] of part 1 takes. The families (EDM
Table 1; beta_d = beta_max - beta_min):

* **VP**:  sigma(t) = sqrt(exp(beta_d t^2 / 2 + beta_min t) - 1),  s(t) = 1 / sqrt(1 + sigma(t)^2);
* **VE**:  sigma(t) = sqrt(t),  s(t) = 1;
* **flow** (rectified flow / flow matching, x_t = (1 - t) x_0 + t eps): s = 1 - t,
  sigma = t / (1 - t);
* **EDM**: sigma(t) = t, s(t) = 1.                                                      (9.2)

**Probability-flow ODE** (EDM eq. 4), with Tweedie grad log p(x; sigma) = (D(x; sigma) - x) /
sigma^2:

    dx/dt = (s'/s) x - s^2 sigma' sigma grad_x log p(x/s; sigma)
          = (sigma'/sigma + s'/s) x - (sigma' s / sigma) D(x/s; sigma),                    (9.3)

where grad_x acts on the composite x -> log p(x/s; sigma), i.e. grad_x = s^{-1} grad_y at
y = x/s.

For EDM's family this is dx/dsigma = (x - D(x; sigma)) / sigma: the tangent always points
at the current denoised estimate D, so a path is a straight line wherever D stays constant
along it (nearly so at large and small sigma), and one Euler step of it is exactly a
deterministic DDIM step (9.8).

**Predictions** (all functions of the scaled x = x_0 + sigma eps and D = E[x_0 | x]):
score = (D - x)/sigma^2, eps = (x - D)/sigma, v = (eps - sigma D)/sqrt(1 + sigma^2) (Salimans &
Ho's v for the VP input x/sqrt(1 + sigma^2)), flow velocity u = (x - (1 + sigma) D)/sigma
(E[x_1 - x_0 | x_t] for x_t = (1-t) x_0 + t x_1, see :mod:`.flow`).                     (9.4)

**Preconditioning** (EDM section 5, Table 1): D_theta(x; sigma) = c_skip x + c_out F(c_in x,
c_noise) with sigma_data the data standard deviation,

    c_skip = sigma_data^2 / (sigma^2 + sigma_data^2),  c_out = sigma sigma_data /
    sqrt(sigma^2 + sigma_data^2),  c_in = 1 / sqrt(sigma^2 + sigma_data^2),
    c_noise = ln(sigma) / 4,  lambda(sigma) = 1 / c_out^2.                               (9.5)

Then c_in x has unit variance, the effective target (x_0 - c_skip x)/c_out has unit variance,
and the weighted loss lambda ||D_theta - x_0||^2 = ||F - (x_0 - c_skip x)/c_out||^2 (9.6);
training draws ln sigma ~ N(P_mean, P_std^2).

**Time steps** (EDM eq. 5): for i = 0..N-1

    sigma_i = (sigma_max^(1/rho) + i/(N-1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho,
    sigma_N = 0.                                                                         (9.7)

**Samplers.** Euler and Heun (EDM Algorithm 1: Heun's correction is skipped on the last step to
sigma = 0, so N steps cost 2N - 1 evaluations) on any family, and the stochastic sampler
(Algorithm 2: S_churn, S_tmin, S_tmax, S_noise) on the EDM family. With s = 1, sigma = t, one
Euler step from sigma to sigma' gives

    x' = D + (sigma'/sigma)(x - D),                                                     (9.8)

which is DDIM (eta = 0, eq. 4.1) written for x_t / sqrt(alpha_bar_t), sigma = sqrt((1 - ab)/ab).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import torch
from torch import nn

from ..validation import (
    Denoiser,
    batch_view,
    check_denoiser,
    check_generator,
    check_int,
    check_real,
    check_sigma,
    check_tensor,
    check_time,
    per_sample,
    randn_like,
)
from .samplers import (
    Callback,
    NoiseSampler,
    SampleResult,
    check_callback,
    make_noise_sampler,
)

__all__ = [
    "EDM",
    "PREDICTIONS",
    "VE",
    "VP",
    "EDMPrecond",
    "Family",
    "Flow",
    "edm_loss",
    "edm_sample",
    "edm_sigmas",
    "from_denoised",
    "loss_weight",
    "ode_derivative",
    "precond_coefficients",
    "stochastic_sample",
    "to_denoised",
]

F64 = torch.float64

#: prediction kinds understood by :func:`from_denoised` / :func:`to_denoised`, eq. (9.4)
PREDICTIONS = ("x0", "score", "eps", "v", "flow")


class Family(ABC):
    """A perturbation family x_t = s(t)(x_0 + sigma(t) eps), eq. (9.1), with derivatives.

    Subclasses give ``sigma``, ``dsigma``, ``s``, ``ds`` and the inverse ``t_of_sigma``; ``t_max``
    is the largest admissible time.
    """

    name = "family"
    t_max: float = 1.0

    @abstractmethod
    def sigma(self, t: float | torch.Tensor) -> torch.Tensor:
        """Noise level sigma(t)."""

    @abstractmethod
    def dsigma(self, t: float | torch.Tensor) -> torch.Tensor:
        """d sigma / dt."""

    @abstractmethod
    def s(self, t: float | torch.Tensor) -> torch.Tensor:
        """Scale s(t)."""

    @abstractmethod
    def ds(self, t: float | torch.Tensor) -> torch.Tensor:
        """d s / dt."""

    @abstractmethod
    def t_of_sigma(self, sigma: float | torch.Tensor) -> torch.Tensor:
        """The inverse sigma^{-1}: the time at which the noise level is ``sigma``."""

    def mean_std(self, t: float | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(a, b) of x_t = a x_0 + b eps: a = s(t), b = s(t) sigma(t), from eq. (9.1)."""
        s = self.s(t)
        return s, s * self.sigma(t)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class VP(Family):
    """Variance preserving family (EDM Table 1), the same process as part 1's ``VPSDE``."""

    name = "VP"

    def __init__(self, beta_min: float = 0.1, beta_max: float = 20.0) -> None:
        self.beta_min = check_real(beta_min, "beta_min", low=0, low_open=True)
        self.beta_max = check_real(beta_max, "beta_max", low=self.beta_min)
        self.beta_d = self.beta_max - self.beta_min

    def _B(self, t: float | torch.Tensor) -> torch.Tensor:
        t = check_time(t)
        return 0.5 * self.beta_d * t**2 + self.beta_min * t  # int_0^t beta

    def sigma(self, t: float | torch.Tensor) -> torch.Tensor:
        return torch.expm1(self._B(t)).sqrt()  # sqrt(e^{B(t)} - 1)

    def dsigma(self, t: float | torch.Tensor) -> torch.Tensor:
        t = check_time(t)
        # d/dt sqrt(e^B - 1) = beta(t) e^B / (2 sigma)
        return (self.beta_d * t + self.beta_min) * self._B(t).exp() / (2 * self.sigma(t))

    def s(self, t: float | torch.Tensor) -> torch.Tensor:
        return torch.exp(-0.5 * self._B(t))  # 1 / sqrt(1 + sigma^2) = e^{-B/2}

    def ds(self, t: float | torch.Tensor) -> torch.Tensor:
        t = check_time(t)
        return -0.5 * (self.beta_d * t + self.beta_min) * self.s(t)

    def t_of_sigma(self, sigma: float | torch.Tensor) -> torch.Tensor:
        sig = check_sigma(sigma)
        # solve beta_d t^2 / 2 + beta_min t = B = ln(1 + sigma^2) for t >= 0: the root
        # (sqrt(beta_min^2 + 2 beta_d B) - beta_min) / beta_d, rationalised to
        # 2 B / (sqrt(beta_min^2 + 2 beta_d B) + beta_min), which also holds for a constant
        # beta (beta_d = 0, t = B / beta_min) and does not cancel at small sigma
        B = torch.log1p(sig**2)
        t = 2 * B / (torch.sqrt(self.beta_min**2 + 2 * self.beta_d * B) + self.beta_min)
        if torch.any(t > 1 + 1e-12):
            raise ValueError(f"sigma = {float(sig.max()):.3g} is beyond sigma(1) for this VP")
        return t.clamp(max=1.0)

    def __repr__(self) -> str:
        return f"VP(beta_min={self.beta_min:g}, beta_max={self.beta_max:g})"


class VE(Family):
    """Variance exploding family (EDM Table 1): sigma(t) = sqrt(t), s = 1."""

    name = "VE"
    t_max = math.inf

    def sigma(self, t: float | torch.Tensor) -> torch.Tensor:
        return check_time(t, high=None).sqrt()

    def dsigma(self, t: float | torch.Tensor) -> torch.Tensor:
        return 0.5 / check_time(t, high=None).sqrt()  # d sqrt(t)/dt = 1/(2 sqrt t)

    def s(self, t: float | torch.Tensor) -> torch.Tensor:
        return torch.ones_like(check_time(t, high=None))

    def ds(self, t: float | torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(check_time(t, high=None))

    def t_of_sigma(self, sigma: float | torch.Tensor) -> torch.Tensor:
        return check_sigma(sigma) ** 2


class Flow(Family):
    """Rectified flow / flow matching: x_t = (1 - t) x_0 + t eps, s = 1 - t, sigma = t/(1 - t)."""

    name = "flow"

    def sigma(self, t: float | torch.Tensor) -> torch.Tensor:
        t = check_time(t)
        if torch.any(t >= 1):
            raise ValueError("sigma(t) = t/(1 - t) is infinite at t = 1; use t < 1")
        return t / (1 - t)

    def dsigma(self, t: float | torch.Tensor) -> torch.Tensor:
        t = check_time(t)
        if torch.any(t >= 1):
            raise ValueError("d sigma/dt = 1/(1 - t)^2 is infinite at t = 1; use t < 1")
        return 1 / (1 - t) ** 2

    def s(self, t: float | torch.Tensor) -> torch.Tensor:
        return 1 - check_time(t)

    def ds(self, t: float | torch.Tensor) -> torch.Tensor:
        return -torch.ones_like(check_time(t))

    def t_of_sigma(self, sigma: float | torch.Tensor) -> torch.Tensor:
        sig = check_sigma(sigma)
        return sig / (1 + sig)  # inverse of t/(1 - t)


class EDM(Family):
    """EDM's choice: sigma(t) = t, s(t) = 1 (EDM Table 1)."""

    name = "EDM"
    t_max = math.inf

    def sigma(self, t: float | torch.Tensor) -> torch.Tensor:
        return check_time(t, high=None).clone()

    def dsigma(self, t: float | torch.Tensor) -> torch.Tensor:
        return torch.ones_like(check_time(t, high=None))

    def s(self, t: float | torch.Tensor) -> torch.Tensor:
        return torch.ones_like(check_time(t, high=None))

    def ds(self, t: float | torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(check_time(t, high=None))

    def t_of_sigma(self, sigma: float | torch.Tensor) -> torch.Tensor:
        return check_sigma(sigma).clone()


def _check_family(family: object) -> Family:
    if not isinstance(family, Family):
        raise TypeError(f"family must be a Family (VP, VE, Flow, EDM), got {type(family).__name__}")
    return family


# ---------------------------------------------------------------------------------------
# Predictions, eq. (9.4)
# ---------------------------------------------------------------------------------------
def _check_prediction(
    kind: str, value: torch.Tensor, name: str, x: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate ``kind`` and that ``value`` and ``x`` are tensors of one shape."""
    if kind not in PREDICTIONS:
        raise ValueError(f"kind must be one of {PREDICTIONS}, got {kind!r}")
    x, value = check_tensor(x, "x", min_dim=2), check_tensor(value, name, min_dim=2)
    if value.shape != x.shape:
        raise ValueError(f"{name} and x must have the same shape, got {value.shape} and {x.shape}")
    return x, value


def _positive_sigma(kind: str, sigma: float | torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """sigma broadcast against x; every prediction but 'x0' divides by it."""
    sig = per_sample(sigma, x, "sigma", low=0)
    if torch.any(sig <= 0):
        raise ValueError(f"the {kind!r} prediction needs sigma > 0")
    return batch_view(sig, x)


def from_denoised(
    kind: str, denoised: torch.Tensor, x: torch.Tensor, sigma: float | torch.Tensor
) -> torch.Tensor:
    """The ``kind`` prediction (one of :data:`PREDICTIONS`) equivalent to D(x; sigma), eq. (9.4).

    ``x`` is the scaled input x_0 + sigma eps, ``denoised`` = D(x; sigma); sigma > 0 except for
    'x0'.
    """
    x, d = _check_prediction(kind, denoised, "denoised", x)
    if kind == "x0":
        return d
    s = _positive_sigma(kind, sigma, x)
    eps = (x - d) / s  # x = x_0 + sigma eps
    if kind == "eps":
        return eps
    if kind == "score":
        return (d - x) / s**2  # Tweedie
    if kind == "v":
        return (eps - s * d) / (1 + s**2).sqrt()  # v = alpha eps - sigma_vp x_0
    return (x - (1 + s) * d) / s  # flow velocity E[x_1 - x_0 | x_t]


def to_denoised(
    kind: str, pred: torch.Tensor, x: torch.Tensor, sigma: float | torch.Tensor
) -> torch.Tensor:
    """D(x; sigma) from a ``kind`` prediction: the inverse of :func:`from_denoised`, eq. (9.4)."""
    x, p = _check_prediction(kind, pred, "pred", x)
    if kind == "x0":
        return p
    s = _positive_sigma(kind, sigma, x)
    if kind == "eps":
        return x - s * p  # x_0 = x - sigma eps
    if kind == "score":
        return x + s**2 * p  # Tweedie
    if kind == "v":
        # x_0 = alpha x_vp - sigma_vp v with x_vp = x / sqrt(1 + sigma^2)
        return x / (1 + s**2) - s * p / (1 + s**2).sqrt()
    return (x - s * p) / (1 + s)  # invert u = (x - (1 + sigma) D) / sigma


# ---------------------------------------------------------------------------------------
# Preconditioning, eqs. (9.5)-(9.6)
# ---------------------------------------------------------------------------------------
def precond_coefficients(
    sigma: float | torch.Tensor, sigma_data: float = 0.5
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(c_skip, c_out, c_in, c_noise) of eq. (9.5) at noise level(s) ``sigma`` > 0."""
    sd = check_real(sigma_data, "sigma_data", low=0, low_open=True)
    sig = check_sigma(sigma, positive=True)
    norm = (sig**2 + sd**2).sqrt()
    c_skip = sd**2 / norm**2  # sigma_data^2 / (sigma^2 + sigma_data^2)
    c_out = sig * sd / norm  # sigma sigma_data / sqrt(sigma^2 + sigma_data^2)
    c_in = 1 / norm  # 1 / sqrt(sigma^2 + sigma_data^2)
    c_noise = sig.log() / 4  # ln(sigma) / 4
    return c_skip, c_out, c_in, c_noise


def loss_weight(sigma: float | torch.Tensor, sigma_data: float = 0.5) -> torch.Tensor:
    """lambda(sigma) = (sigma^2 + sigma_data^2) / (sigma sigma_data)^2 = 1 / c_out^2, eq. (9.5)."""
    _, c_out, _, _ = precond_coefficients(sigma, sigma_data)
    return 1 / c_out**2


class EDMPrecond(nn.Module):
    """D_theta(x; sigma) = c_skip x + c_out F(c_in x, c_noise), eq. (9.5), around a raw network F.

    ``net(x, c)`` is any network of part 1 (:class:`.nets.MLP`, :class:`.nets.TinyConvNet`)
    conditioned on the scalar c = c_noise = ln(sigma)/4.
    """

    def __init__(self, net: nn.Module, sigma_data: float = 0.5) -> None:
        super().__init__()
        if not isinstance(net, nn.Module):
            raise TypeError(f"net must be an nn.Module, got {type(net).__name__}")
        self.net = net
        self.sigma_data = check_real(sigma_data, "sigma_data", low=0, low_open=True)

    def raw(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """F(c_in x, c_noise): what the network outputs (its target is eq. 9.6)."""
        _, _, c_in, c_noise = precond_coefficients(sigma, self.sigma_data)
        return self.net(batch_view(c_in, x) * x, c_noise)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        x = check_tensor(x, "x", min_dim=2)
        sig = per_sample(sigma, x, "sigma", low=0)
        c_skip, c_out, _, _ = precond_coefficients(sig, self.sigma_data)
        # D = c_skip x + c_out F(c_in x, c_noise)
        return batch_view(c_skip, x) * x + batch_view(c_out, x) * self.raw(x, sig)


# ---------------------------------------------------------------------------------------
# Time steps and samplers, eqs. (9.3), (9.7)
# ---------------------------------------------------------------------------------------
def edm_sigmas(
    n_steps: int,
    *,
    sigma_min: float = 0.002,
    sigma_max: float = 80.0,
    rho: float = 7.0,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """sigma_0 = sigma_max > ... > sigma_{N-1} = sigma_min, sigma_N = 0: eq. (9.7), N + 1 values."""
    n = check_int(n_steps, "n_steps", minimum=1)
    hi = check_real(sigma_max, "sigma_max", low=0, low_open=True)
    lo = check_real(sigma_min, "sigma_min", low=0, high=hi, low_open=True)
    rho = check_real(rho, "rho", low=0, low_open=True)
    if n == 1:
        return torch.tensor([hi, 0.0], dtype=dtype, device=device)
    i = torch.arange(n, dtype=torch.float64)
    # (sigma_max^(1/rho) + i/(N-1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho
    sig = (hi ** (1 / rho) + i / (n - 1) * (lo ** (1 / rho) - hi ** (1 / rho))) ** rho
    return torch.cat([sig, torch.zeros(1, dtype=torch.float64)]).to(dtype=dtype, device=device)


def _check_sigmas(sigmas: object) -> torch.Tensor:
    sig = check_tensor(sigmas, "sigmas")
    if sig.dim() != 1 or sig.numel() < 2:
        raise ValueError(f"sigmas must be 1-D with at least 2 values, got {tuple(sig.shape)}")
    if torch.any(sig[1:] >= sig[:-1]) or sig[-1] < 0:
        raise ValueError("sigmas must be strictly decreasing and >= 0")
    return sig


def ode_derivative(
    denoiser: Denoiser, family: Family, x: torch.Tensor, t: float | torch.Tensor
) -> torch.Tensor:
    """dx/dt of the probability-flow ODE (9.3) at time t (scalar, with sigma(t) > 0)."""
    denoiser, family = check_denoiser(denoiser), _check_family(family)
    x = check_tensor(x, "x", min_dim=2)
    tt = torch.as_tensor(t, dtype=torch.float64).reshape(())
    sig, dsig = family.sigma(tt), family.dsigma(tt)
    s, ds = family.s(tt), family.ds(tt)
    if sig <= 0:
        raise ValueError("the ODE drift needs sigma(t) > 0")
    sig_v = torch.full((x.shape[0],), float(sig), dtype=x.dtype, device=x.device)
    # region: ode-derivative
    d = denoiser(x / float(s), sig_v)  # D(x/s; sigma)
    # (sigma'/sigma + s'/s) x - (sigma' s / sigma) D(x/s; sigma)
    return float(dsig / sig + ds / s) * x - float(dsig * s / sig) * d
    # endregion: ode-derivative


@torch.no_grad()
def edm_sample(
    denoiser: Denoiser,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    *,
    family: Family | None = None,
    solver: str = "heun",
    callback: Callback | None = None,
) -> SampleResult:
    """Deterministic sampling, EDM Algorithm 1, on the grid ``sigmas`` (e.g. :func:`edm_sigmas`).

    Times t_i = family.t_of_sigma(sigma_i); x is the *unscaled* start x(t_0) ~ N(0, s(t_0)^2
    sigma_0^2 I). ``solver`` 'euler' (N evaluations) or 'heun' (2N - 1: the correction is
    skipped on a step that ends at sigma = 0). ``callback`` gets {i, x, t, sigma, denoised}
    before each step, denoised = D(x/s; sigma) (the data-space estimate, unscaled).
    """
    denoiser, x = check_denoiser(denoiser), check_tensor(x, "x", min_dim=2)
    family = EDM() if family is None else _check_family(family)
    if solver not in ("euler", "heun"):
        raise ValueError(f"solver must be 'euler' or 'heun', got {solver!r}")
    callback = check_callback(callback)
    sig = _check_sigmas(sigmas)
    ts = family.t_of_sigma(sig.double().cpu())
    nfe = 0
    for i in range(ts.numel() - 1):
        t, t_next = ts[i], ts[i + 1]
        dt = float(t_next - t)
        d = ode_derivative(denoiser, family, x, t)  # d_i of Algorithm 1
        nfe += 1
        if callback is not None:
            callback(
                {
                    "i": i,
                    "x": x,
                    "t": float(t),
                    "sigma": float(sig[i]),
                    "denoised": _denoised(family, x, t, d),
                }
            )
        x_next = x + dt * d  # Euler step
        if solver == "heun" and sig[i + 1] > 0:
            d2 = ode_derivative(denoiser, family, x_next, t_next)
            nfe += 1
            x_next = x + dt * 0.5 * (d + d2)  # trapezoidal (Heun) correction
        x = x_next
    return SampleResult(x, nfe)


def _denoised(family: Family, x: torch.Tensor, t: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """D(x/s; sigma) recovered from the drift d of (9.3): D = ((sigma'/sigma + s'/s) x - d)
    sigma / (sigma' s) (for the callback only; sigma' > 0 in every family)."""
    sig, dsig, s, ds = family.sigma(t), family.dsigma(t), family.s(t), family.ds(t)
    return (float(dsig / sig + ds / s) * x - d) * float(sig / (dsig * s))


@torch.no_grad()
def stochastic_sample(
    denoiser: Denoiser,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    *,
    S_churn: float = 0.0,
    S_tmin: float = 0.0,
    S_tmax: float = math.inf,
    S_noise: float = 1.0,
    noise: torch.Tensor | NoiseSampler | None = None,
    generator: torch.Generator | None = None,
    callback: Callback | None = None,
) -> SampleResult:
    """EDM Algorithm 2 (sigma(t) = t, s(t) = 1), with the paper's names S_churn, S_tmin, S_tmax,
    S_noise (k-diffusion's ``s_churn``, ``s_tmin``, ``s_tmax``, ``s_noise``): per step, raise the
    noise level to t_hat = (1 + gamma_i) t_i with gamma_i = min(S_churn/N, sqrt(2) - 1) where
    S_tmin <= t_i <= S_tmax, add fresh noise of std S_noise sqrt(t_hat^2 - t_i^2), then take a
    Heun step to t_{i+1}. S_churn = 0 is Algorithm 1 (Heun).

    ``noise``: one slot per step (see :func:`.samplers.make_noise_sampler`); ``callback`` gets
    {i, x, sigma, x_hat, sigma_hat, denoised} with x = x_i, x_hat the churned state and
    denoised = D(x_hat; sigma_hat)."""
    denoiser, x = check_denoiser(denoiser), check_tensor(x, "x", min_dim=2)
    sig = _check_sigmas(sigmas)
    churn = check_real(S_churn, "S_churn", low=0)
    s_tmin = check_real(S_tmin, "S_tmin", low=0)
    s_tmax = float(S_tmax)
    if not s_tmax >= s_tmin:
        raise ValueError(f"S_tmax must be >= S_tmin, got {S_tmax} < {S_tmin}")
    s_noise = check_real(S_noise, "S_noise", low=0)
    callback = check_callback(callback)
    n = sig.numel() - 1
    next_noise = make_noise_sampler(noise, x, n, generator)
    ts = sig.double().cpu().tolist()
    nfe = 0

    def denoise(xx: torch.Tensor, t: float) -> torch.Tensor:
        return denoiser(xx, torch.full((xx.shape[0],), t, dtype=xx.dtype, device=xx.device))

    for i in range(n):
        t, t_next = ts[i], ts[i + 1]
        gamma = min(churn / n, math.sqrt(2) - 1) if s_tmin <= t <= s_tmax else 0.0
        t_hat = t + gamma * t  # increase the noise level temporarily
        x_hat = x
        if gamma > 0:
            eps = s_noise * next_noise(i, x)
            x_hat = x + math.sqrt(t_hat**2 - t**2) * eps  # x_hat = x_i + sqrt(t_hat^2 - t_i^2) eps
        denoised = denoise(x_hat, t_hat)
        nfe += 1
        if callback is not None:
            callback(
                {
                    "i": i,
                    "x": x,
                    "sigma": t,
                    "x_hat": x_hat,
                    "sigma_hat": t_hat,
                    "denoised": denoised,
                }
            )
        d = (x_hat - denoised) / t_hat  # dx/dt = (x - D(x; t)) / t
        x_next = x_hat + (t_next - t_hat) * d  # Euler step from t_hat to t_{i+1}
        if t_next > 0:
            d2 = (x_next - denoise(x_next, t_next)) / t_next
            nfe += 1
            x_next = x_hat + (t_next - t_hat) * 0.5 * (d + d2)  # second-order correction
        x = x_next
    return SampleResult(x, nfe)


def edm_loss(
    model: EDMPrecond,
    x0: torch.Tensor,
    *,
    generator: torch.Generator | None = None,
    P_mean: float = -1.2,
    P_std: float = 1.2,
) -> torch.Tensor:
    """E_{sigma, n} lambda(sigma) ||D_theta(x_0 + n; sigma) - x_0||^2 / d with ln sigma ~ N(P_mean,
    P_std^2), n ~ N(0, sigma^2 I), written as the unit-variance regression of eq. (9.6)."""
    if not isinstance(model, EDMPrecond):
        raise TypeError(f"model must be an EDMPrecond, got {type(model).__name__}")
    x0 = check_tensor(x0, "x0", min_dim=2)
    P_mean = check_real(P_mean, "P_mean")
    P_std = check_real(P_std, "P_std", low=0, low_open=True)
    check_generator(generator)
    gdev = generator.device if generator is not None else torch.device("cpu")
    z = torch.randn(x0.shape[0], generator=generator, device=gdev, dtype=x0.dtype).to(x0.device)
    sigma = (P_mean + P_std * z).exp()  # ln sigma ~ N(P_mean, P_std^2)
    noise = batch_view(sigma, x0) * randn_like(x0, generator)
    x = x0 + noise
    c_skip, c_out, _, _ = precond_coefficients(sigma, model.sigma_data)
    target = (x0 - batch_view(c_skip, x0) * x) / batch_view(
        c_out, x0
    )  # effective target, eq. (9.6)
    return ((model.raw(x, sigma) - target) ** 2).mean()
