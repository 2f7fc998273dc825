r"""A flow = a stack of invertible layers on a base distribution (Chapter 06a, sections 1, 6).

For z = f_L o ... o f_1 (x) the chain rule multiplies Jacobians, so log-dets add:

    log p(x) = log N(z; 0, I) + sum_l log|det df_l/dh_{l-1}|,   h_0 = x, h_L = z,        (1.2)

with log N(z; 0, I) = -|z|^2 / 2 - (d/2) log(2 pi).                                      (1.3)

Sampling runs the layers backwards: z ~ N(0, I), x = f_1^{-1} o ... o f_L^{-1}(z).       (1.4)

:func:`jacobian_logdet` is the brute-force route every layer is checked against: the full
Jacobian by autograd (``torch.func.jacrev``, one sample at a time under ``vmap``) and its
log|det| by an LU factorisation (``torch.linalg.slogdet``), O(d^3) per sample.          (1.5)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import torch
from torch import nn

from ..validation import check_generator, check_int, check_real, check_tensor, resolve_device
from .layers import (
    ActNorm,
    AdditiveCoupling,
    AffineCoupling,
    FlowLayer,
    InvertibleConv1x1,
    Permutation,
    Scaling,
)

__all__ = [
    "FAMILIES",
    "Flow",
    "jacobian_logdet",
    "logdet_timing",
    "make_flow",
    "standard_normal_log_prob",
]

#: Discrete flow families that :func:`make_flow` builds.
FAMILIES = ("nice", "realnvp", "glow")


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) = -|z|^2/2 - (d/2) log(2 pi) per sample (flattened), eq. (1.3)."""
    z = check_tensor(z, "z", min_dim=2).flatten(1)
    return -0.5 * (z**2).sum(dim=1) - 0.5 * z.shape[1] * math.log(2 * math.pi)


class Flow(nn.Module):
    """Layers f_1..f_L on a standard normal base over R^dim, eqs. (1.2)-(1.4)."""

    def __init__(self, layers: Sequence[FlowLayer], dim: int) -> None:
        super().__init__()
        self.dim = check_int(dim, "dim", minimum=1)
        layers = list(layers)
        for i, layer in enumerate(layers):
            if not isinstance(layer, FlowLayer):
                raise TypeError(f"layer {i} must be a FlowLayer, got {type(layer).__name__}")
        self.layers = nn.ModuleList(layers)

    def _check(self, x: object, name: str) -> torch.Tensor:
        x = check_tensor(x, name, min_dim=2)
        if x.dim() != 2 or x.shape[1] != self.dim:
            raise ValueError(f"{name} must have shape (B, {self.dim}), got {tuple(x.shape)}")
        return x

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z = f(x) and log|det df/dx| (B,), the sum over layers of eq. (1.2)."""
        h = self._check(x, "x")
        total = h.new_zeros(h.shape[0])
        for layer in self.layers:
            h, logdet = layer(h)
            total = total + logdet
        return h, total

    def inverse(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x = f^{-1}(z) and log|det df^{-1}/dz| (B,), eq. (1.4)."""
        h = self._check(z, "z")
        total = h.new_zeros(h.shape[0])
        for layer in reversed(self.layers):
            h, logdet = layer.inverse(h)
            total = total + logdet
        return h, total

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) = log N(f(x); 0, I) + log|det df/dx|, eq. (1.2); shape (B,)."""
        # region: log-prob
        z, logdet = self(x)
        return standard_normal_log_prob(z) + logdet  # eq. (1.2)
        # endregion: log-prob

    @torch.no_grad()
    def sample(
        self, n: int, *, generator: torch.Generator | None = None, device=None, dtype=None
    ) -> torch.Tensor:
        """n draws: z ~ N(0, I) from ``generator``, x = f^{-1}(z), eq. (1.4); shape (n, dim)."""
        n = check_int(n, "n", minimum=1)
        check_generator(generator)
        p = next(self.parameters(), None)
        dtype = dtype or (p.dtype if p is not None else torch.float32)
        out = torch.device(device) if device is not None else (p.device if p is not None else None)
        gdev = resolve_device(None, generator)
        z = torch.randn(n, self.dim, generator=generator, device=gdev, dtype=dtype)
        return self.inverse(z.to(out))[0]

    @torch.no_grad()
    def trajectory(self, z: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Base points pushed back through the layers one at a time: a list of L + 1 pairs
        (h_k, running log|det dh_k/dz|), from (z, 0) to (x, log|det df^{-1}/dz|)."""
        h = self._check(z, "z")
        total = h.new_zeros(h.shape[0])
        out = [(h, total)]
        for layer in reversed(self.layers):
            h, logdet = layer.inverse(h)
            total = total + logdet
            out.append((h, total))
        return out

    @torch.no_grad()
    def initialize(self, x: torch.Tensor) -> Flow:
        """Data-dependent initialisation (4.1): run ``x`` forward, initialising every actnorm."""
        h = self._check(x, "x")
        for layer in self.layers:
            if isinstance(layer, ActNorm):
                layer.initialize(h)
            h, _ = layer(h)
        return self


def make_flow(
    family: str,
    dim: int = 2,
    n_layers: int = 8,
    *,
    hidden: int = 64,
    depth: int = 2,
    clamp: float = 2.0,
    seed: int = 0,
) -> Flow:
    """A flow of ``n_layers`` coupling steps (initialised from ``seed``; global RNG untouched).

    * ``nice``: additive couplings (2.1) with alternating halves, then a scaling layer (2.2);
    * ``realnvp``: affine couplings (3.1) with a reversing permutation (5.1) between them;
    * ``glow``: steps of actnorm (4.1), invertible 1x1 convolution (4.2), affine coupling (3.1).

    Every coupling starts as the identity (zero-initialised conditioners), so an untrained
    NICE or RealNVP flow is exactly N(0, I).
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    dim, n_layers = check_int(dim, "dim", minimum=2), check_int(n_layers, "n_layers", minimum=1)
    clamp = check_real(clamp, "clamp", low=0, low_open=True)
    layers: list[FlowLayer] = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(check_int(seed, "seed"))
        for i in range(n_layers):
            if family == "nice":
                layers.append(AdditiveCoupling(dim, i % 2, hidden, depth))
            elif family == "realnvp":
                if i > 0:
                    layers.append(Permutation(dim, "reverse"))
                layers.append(AffineCoupling(dim, 0, hidden, depth, clamp))
            else:
                layers += [
                    ActNorm(dim),
                    InvertibleConv1x1(dim),
                    AffineCoupling(dim, i % 2, hidden, depth, clamp),
                ]
        if family == "nice":
            layers.append(Scaling(dim))
    return Flow(layers, dim)


def jacobian_logdet(fn: Callable[[torch.Tensor], object], x: torch.Tensor) -> torch.Tensor:
    """log|det d fn/dx| per sample by brute force, eq. (1.5): the full Jacobian of the
    per-sample map by ``torch.func.jacrev`` under ``vmap``, then ``slogdet``.

    ``fn`` maps a batch (B, *shape) to a batch of the same size (or a tuple whose first entry
    is); the map must act on each sample separately. Returns shape (B,).
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    x = check_tensor(x, "x", min_dim=2)

    def one(xi: torch.Tensor) -> torch.Tensor:
        out = fn(xi[None])
        out = out[0] if isinstance(out, tuple) else out
        return out[0].flatten()

    jac = torch.func.vmap(torch.func.jacrev(one))(x)  # (B, D_out, *shape)
    jac = jac.reshape(x.shape[0], jac.shape[1], -1)
    if jac.shape[1] != jac.shape[2]:
        raise ValueError(f"fn must map R^D to R^D, got a Jacobian of shape {tuple(jac.shape[1:])}")
    return torch.linalg.slogdet(jac)[1]


def logdet_timing(
    dims: Sequence[int],
    *,
    repeats: int = 5,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.float32,
    seed: int = 0,
) -> list[float]:
    """Best-of-``repeats`` seconds of one ``slogdet`` of a random d x d matrix for each d in
    ``dims`` (the minimum is the least disturbed by other work on the machine): the O(d^3)
    cost a general Jacobian determinant would add to every sample (1.5)."""
    repeats = check_int(repeats, "repeats", minimum=1)
    gen = torch.Generator().manual_seed(check_int(seed, "seed"))
    out = []
    for d in dims:
        d = check_int(d, "dim", minimum=1)
        a = torch.randn(d, d, generator=gen, dtype=dtype).to(device) + d**0.5 * torch.eye(
            d, dtype=dtype, device=device
        )
        torch.linalg.slogdet(a)  # warm-up
        times = []
        for _ in range(repeats):
            if a.is_cuda:
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            torch.linalg.slogdet(a)
            if a.is_cuda:
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        out.append(min(times))
    return out
