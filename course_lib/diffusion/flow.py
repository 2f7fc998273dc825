r"""Flow matching and rectified flow (Lipman et al. 2023; Liu, Gong & Liu 2023), section 10.

**Convention** (the ``Flow`` family of :mod:`.edm`; the same as Esser et al. 2024): t = 0 is
data and t = 1 is noise,

    x_t = (1 - t) x_0 + t x_1,   x_0 ~ p_data,  x_1 ~ N(0, I),                           (10.1)

with the conditional velocity u = d x_t / dt = x_1 - x_0. Sampling integrates dx/dt =
v(x, t) from t = 1 down to t = 0.

**Which end is which.** Here t = 0 is data and t = 1 is noise, as in the diffusion chapters
(and Esser et al.'s rectified-flow transformers). torchcfm (``ConditionalFlowMatcher``), Lipman
et al. and Liu et al. put the noise at t = 0 and the data at t = 1: their x0 is our x_1 (noise),
their x1 our x_0 (data), their t is our 1 - t and their velocity our -v. To keep this visible,
the functions below name their arguments ``x_data`` (our x_0) and ``x_noise`` (our x_1).

**Marginal velocity.** The flow-matching regression E ||v_theta(x_t, t) - (x_1 - x_0)||^2 (10.3)
is minimised by v(x, t) = E[x_1 - x_0 | x_t = x]. From (10.1), x_1 = (x_t - (1 - t) x_0)/t, so

    v(x, t) = (x - E[x_0 | x_t = x]) / t,                                                (10.2)

and E[x_0 | x_t = x] = D(x / (1 - t); t / (1 - t)) is part 1's denoiser at the scaled input
(Tweedie with a = 1 - t, s = t). For Gaussian-mixture data (10.2) is exact; it equals the EDM
ODE (9.3) of the Flow family. At t = 1, E[x_0 | x_1] = E[x_0], so v(x, 1) = x - E[x_0].

**Euler sampling** with k uniform steps: x_{t - 1/k} = x_t - v(x_t, t) / k.            (10.4)

**Reflow** (Liu et al., "rectify"): draw x_1 ~ N(0, I), solve the flow's ODE to get the
coupled sample x_0 = Z(x_1), and train a new velocity on the *pairs* (x_0, x_1) with the same
loss (10.3). The new flow transports N(0, I) to the same marginal but its paths cross less, so
they are straighter and fewer Euler steps suffice.                                      (10.5)

**Straightness** (Liu et al. eq. 3, in our time direction): for the trajectory z_t of the ODE,

    S = int_0^1 E || (z_1 - z_0) - v(z_t, t) ||^2 dt,                                    (10.6)

zero exactly when every path is a straight line traversed at constant speed (then one Euler
step is exact). We estimate it on the Euler grid that produced the trajectory.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..validation import (
    batch_view,
    check_generator,
    check_int,
    check_same_shape,
    check_tensor,
    per_sample,
    randn_like,
)
from .mixtures import GaussianMixture
from .nets import MLP
from .samplers import Callback, SampleResult, check_callback

__all__ = [
    "VelocityNet",
    "cfm_loss",
    "conditional_path",
    "conditional_velocity",
    "flow_euler_sample",
    "flow_grid",
    "mixture_velocity",
    "reflow_pairs",
    "straightness",
]

Velocity = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _check_pair(x_data: object, x_noise: object) -> tuple[torch.Tensor, torch.Tensor]:
    return check_same_shape(x_data, "x_data", x_noise, "x_noise", min_dim=2)


def _check_velocity(v: object) -> Velocity:
    if not callable(v):
        raise TypeError(f"velocity must be callable as v(x, t), got {type(v).__name__}")
    return v


def conditional_path(
    x_data: torch.Tensor, x_noise: torch.Tensor, t: float | torch.Tensor
) -> torch.Tensor:
    """x_t = (1 - t) x_0 + t x_1, eq. (10.1), with x_0 = ``x_data`` (t = 0) and x_1 =
    ``x_noise`` (t = 1; torchcfm's ends are the other way round); ``t`` a scalar or shape (B,)."""
    x0, x1 = _check_pair(x_data, x_noise)
    tb = batch_view(per_sample(t, x0, "t", low=0, high=1), x0)
    return (1 - tb) * x0 + tb * x1


def conditional_velocity(x_data: torch.Tensor, x_noise: torch.Tensor) -> torch.Tensor:
    """u = d x_t / dt = x_1 - x_0 (noise minus data) along the straight path (10.1)."""
    x0, x1 = _check_pair(x_data, x_noise)
    return x1 - x0


def mixture_velocity(
    mix: GaussianMixture, x: torch.Tensor, t: float | torch.Tensor
) -> torch.Tensor:
    """Exact marginal velocity v(x, t) = (x - E[x_0 | x_t = x]) / t for mixture data, eq. (10.2).

    ``t`` in (0, 1] (a scalar or shape (B,)); at t = 1, E[x_0 | x_1] = E[x_0].
    """
    if not isinstance(mix, GaussianMixture):
        raise TypeError(f"mix must be a GaussianMixture, got {type(mix).__name__}")
    x = check_tensor(x, "x", min_dim=2)
    tt = per_sample(t, x, "t", low=0, high=1)
    if torch.any(tt <= 0):
        raise ValueError("the marginal velocity (10.2) needs t > 0")
    # region: mixture-velocity
    inner = tt < 1
    x0_hat = mix.mean().to(dtype=x.dtype, device=x.device).expand_as(x).clone()
    if torch.any(inner):
        ti = tt[inner]
        # E[x_0 | (1 - t) x_0 + t x_1 = x] (Tweedie with a = 1 - t, s = t)
        x0_hat[inner] = mix.posterior_mean(x[inner], 1 - ti, ti)
    # v(x, t) = (x - E[x_0 | x_t = x]) / t, eq. (10.2)
    return (x - x0_hat) / batch_view(tt, x)
    # endregion: mixture-velocity


def cfm_loss(
    velocity: Velocity,
    x_data: torch.Tensor,
    *,
    x_noise: torch.Tensor | None = None,
    t: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Conditional flow-matching loss E_{t, x_0, x_1} ||v(x_t, t) - (x_1 - x_0)||^2 / d, eq. (10.3).

    x_0 = ``x_data``; t ~ U(0, 1) and the noise x_1 = ``x_noise`` ~ N(0, I) are drawn from
    ``generator`` unless given (reflow passes the coupled noise).
    """
    velocity, x0 = _check_velocity(velocity), check_tensor(x_data, "x_data", min_dim=2)
    check_generator(generator)
    x1 = randn_like(x0, generator) if x_noise is None else _check_pair(x0, x_noise)[1]
    if t is None:
        gdev = generator.device if generator is not None else torch.device("cpu")
        t = torch.rand(x0.shape[0], generator=generator, device=gdev, dtype=x0.dtype)
    tt = per_sample(t, x0, "t", low=0, high=1)
    xt = conditional_path(x0, x1, tt)
    return ((velocity(xt, tt) - (x1 - x0)) ** 2).mean()


def flow_grid(grid: int | torch.Tensor) -> list[float]:
    """The decreasing times of a flow sampler: an int k means k uniform steps from t = 1 to 0;
    a 1-D tensor is used as given (strictly decreasing, inside [0, 1])."""
    if isinstance(grid, torch.Tensor):
        ts = check_tensor(grid, "grid")
        if ts.dim() != 1 or ts.numel() < 2 or torch.any(ts[1:] >= ts[:-1]):
            raise ValueError("grid must be a 1-D strictly decreasing tensor of times (>= 2 points)")
        if ts[-1] < 0 or ts[0] > 1:
            raise ValueError(
                f"grid times must lie in [0, 1], got [{float(ts[-1])}, {float(ts[0])}]"
            )
        return ts.double().cpu().tolist()
    n = check_int(grid, "grid (the number of steps)", minimum=1)
    return torch.linspace(1.0, 0.0, n + 1, dtype=torch.float64).tolist()


@torch.no_grad()
def flow_euler_sample(
    velocity: Velocity,
    x: torch.Tensor,
    grid: int | torch.Tensor,
    *,
    callback: Callback | None = None,
) -> SampleResult:
    """Euler's method for dx/dt = v(x, t) from the noise x = x_1 (t = 1 here; t = 0 in
    torchcfm) down to the data end t = 0, eq. (10.4): x <- x - v(x, t)/k for ``grid`` = k
    uniform steps, or on a decreasing tensor of times (:func:`flow_grid`).

    ``callback`` gets {i, x, t, velocity, denoised} before each step, denoised = x - t v =
    E[x_0 | x_t = x] for the exact velocity (10.2)."""
    velocity, x = _check_velocity(velocity), check_tensor(x, "x", min_dim=2)
    callback = check_callback(callback)
    ts = flow_grid(grid)
    for i, (t, t_next) in enumerate(zip(ts[:-1], ts[1:], strict=False)):
        tv = torch.full((x.shape[0],), t, dtype=x.dtype, device=x.device)
        v = velocity(x, tv)
        if callback is not None:
            callback({"i": i, "x": x, "t": t, "velocity": v, "denoised": x - t * v})
        x = x + (t_next - t) * v  # dt < 0
    return SampleResult(x, len(ts) - 1)


@torch.no_grad()
def straightness(velocity: Velocity, x_noise: torch.Tensor, n_steps: int = 100) -> float:
    """S = int_0^1 E ||(z_1 - z_0) - v(z_t, t)||^2 dt, eq. (10.6), on an ``n_steps`` Euler grid.

    z_1 = ``x_noise`` (the t = 1 end), z_0 the Euler solution; the integral is the mean over the
    steps of the per-step mean squared deviation (summed over coordinates).
    """
    velocity, x = _check_velocity(velocity), check_tensor(x_noise, "x_noise", min_dim=2)
    n = check_int(n_steps, "n_steps", minimum=1)
    ts = torch.linspace(1.0, 0.0, n + 1, dtype=torch.float64).tolist()
    vs = []
    for t, t_next in zip(ts[:-1], ts[1:], strict=False):
        tv = torch.full((x.shape[0],), t, dtype=x.dtype, device=x.device)
        v = velocity(x, tv)
        vs.append(v)
        x = x + (t_next - t) * v
    chord = x_noise - x  # z_1 - z_0: the straight-line velocity
    dev = torch.stack([((chord - v) ** 2).flatten(1).sum(1).mean() for v in vs])
    return float(dev.mean())


@torch.no_grad()
def reflow_pairs(
    velocity: Velocity,
    n: int,
    *,
    dim: int = 2,
    n_steps: int = 100,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Coupled pairs (x_data, x_noise) for reflow, eq. (10.5): x_noise = x_1 ~ N(0, I) from
    ``generator``, x_data = x_0 = the ``n_steps``-step Euler solution of the flow from x_1."""
    velocity = _check_velocity(velocity)
    n, dim = check_int(n, "n", minimum=1), check_int(dim, "dim", minimum=1)
    check_generator(generator)
    gdev = generator.device if generator is not None else torch.device("cpu")
    x1 = torch.randn(n, dim, generator=generator, device=gdev, dtype=dtype)
    x1 = x1.to(device if device is not None else gdev)
    x0 = flow_euler_sample(velocity, x1, n_steps).x
    return x0, x1


class VelocityNet(nn.Module):
    """v_theta(x, t) = F(x, t) for a part-1 :class:`.nets.MLP` conditioned on the time t itself."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        if not isinstance(net, nn.Module):
            raise TypeError(f"net must be an nn.Module, got {type(net).__name__}")
        self.net = net

    @classmethod
    def mlp(cls, dim: int = 2, hidden: int = 128, depth: int = 3, emb_dim: int = 32) -> VelocityNet:
        """A velocity network from part 1's MLP."""
        return cls(MLP(dim, hidden, depth, emb_dim))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        x = check_tensor(x, "x", min_dim=2)
        return self.net(x, per_sample(t, x, "t", low=0, high=1))
