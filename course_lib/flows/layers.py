r"""Invertible layers with tractable log-determinants (Chapter 06a, sections 1-5).

**Change of variables** (section 1). For an invertible, differentiable z = f(x),

    log p_X(x) = log p_Z(f(x)) + log |det df/dx (x)|.                                    (1.1)

Every layer here is an ``nn.Module`` with

* ``forward(x) -> (z, logdet)``, logdet = log|det dz/dx| per sample, shape (B,);
* ``inverse(z) -> (x, logdet)``, logdet = log|det dx/dz| = -(forward logdet at x), shape (B,).

**NICE additive coupling** (Dinh et al. 2015), split x = (x_a, x_b):

    z_a = x_a,  z_b = x_b + m(x_a);   dz/dx is unit triangular, so log|det| = 0.        (2.1)

**NICE scaling**: z = x * exp(s) with a learned vector s, log|det| = sum_i s_i.          (2.2)

**RealNVP affine coupling** (Dinh et al. 2017):

    z_b = x_b * exp(s(x_a)) + t(x_a),   log|det| = sum_i s_i(x_a),                      (3.1)

with the *soft clamp* s = c tanh(s_raw / c): |s| < c, so exp(s) never overflows and the
inverse x_b = (z_b - t) exp(-s) never divides by zero, while s ~ s_raw for small s_raw. (3.2)

**Glow actnorm** (Kingma & Dhariwal 2018): per channel z = (x + b) exp(g); on an input with
spatial size H x W the log-det is H W sum_c g_c. Data-dependent initialisation sets
b = -mean, g = -log std of the first batch, so that its output has zero mean, unit variance. (4.1)

**Glow invertible 1x1 convolution**: z = W x at every pixel, log|det| = H W log|det W|. With
the LU parameterisation W = P L (U + diag(sign * exp(log_abs))), P a fixed permutation, L unit
lower triangular, U strictly upper triangular,

    log|det W| = sum_c log_abs_c,                                                         (4.2)

an O(C) sum instead of an O(C^3) determinant, and W is invertible for every parameter value.

**Permutations** between couplings (fixed, log|det| = 0) let every coordinate be transformed. (5.1)

Inputs are (B, d) vectors for the couplings, scaling and permutations; actnorm and the 1x1
convolution also take images (B, C, H, W) (channels in dimension 1; a vector is one pixel).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import torch
from torch import nn

from ..validation import check_int, check_real, check_tensor

__all__ = [
    "ActNorm",
    "AdditiveCoupling",
    "AffineCoupling",
    "Conditioner",
    "FlowLayer",
    "InvertibleConv1x1",
    "Permutation",
    "Scaling",
    "soft_clamp",
]


def soft_clamp(s: torch.Tensor, clamp: float) -> torch.Tensor:
    """c tanh(s / c), eq. (3.2): smooth, |result| < c, slope 1 at 0."""
    return clamp * torch.tanh(s / clamp)


class FlowLayer(nn.Module, ABC):
    """Base class: ``forward(x) -> (z, logdet)``, ``inverse(z) -> (x, logdet)`` (see module doc)."""

    @abstractmethod
    def inverse(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x = f^{-1}(z) and log|det d f^{-1}/dz| per sample."""


def _check_vectors(x: object, dim: int, name: str) -> torch.Tensor:
    x = check_tensor(x, name, min_dim=2)
    if x.dim() != 2 or x.shape[1] != dim:
        raise ValueError(f"{name} must have shape (B, {dim}), got {tuple(x.shape)}")
    return x


def _check_channels(x: object, channels: int, name: str) -> torch.Tensor:
    x = check_tensor(x, name, min_dim=2)
    if x.shape[1] != channels:
        raise ValueError(
            f"{name} must have {channels} channels in dimension 1 (shape (B, {channels}, ...)), "
            f"got shape {tuple(x.shape)}"
        )
    return x


def _pixels(x: torch.Tensor) -> int:
    """Number of pixels H*W... of an input (1 for a (B, C) vector)."""
    return math.prod(x.shape[2:])


def _channel_view(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A per-channel vector (C,) shaped (1, C, 1, ...) to broadcast against x."""
    return v.reshape(1, -1, *([1] * (x.dim() - 2)))


class Conditioner(nn.Module):
    """MLP m(x_a) of a coupling: ``depth`` hidden SiLU layers of width ``hidden``.

    The last layer is zero-initialised, so every coupling starts as the identity map
    (an untrained flow is exactly its base distribution).
    """

    def __init__(self, in_dim: int, out_dim: int, hidden: int = 64, depth: int = 2) -> None:
        super().__init__()
        in_dim, out_dim = (
            check_int(in_dim, "in_dim", minimum=1),
            check_int(out_dim, "out_dim", minimum=1),
        )
        hidden, depth = check_int(hidden, "hidden", minimum=1), check_int(depth, "depth", minimum=1)
        layers: list[nn.Module] = []
        width = in_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        last = nn.Linear(width, out_dim)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.net = nn.Sequential(*layers, last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class _Coupling(FlowLayer):
    """Shared split logic: ``parity`` 0 conditions on the first half and transforms the second,
    parity 1 the other way round; sizes floor(d/2) and d - floor(d/2)."""

    def __init__(self, dim: int, parity: int, out_factor: int, hidden: int, depth: int) -> None:
        super().__init__()
        dim = check_int(dim, "dim", minimum=1)
        if dim < 2:
            raise ValueError(f"a coupling splits x into two parts, so dim must be >= 2, got {dim}")
        if parity not in (0, 1):
            raise ValueError(f"parity must be 0 or 1, got {parity!r}")
        self.dim, self.parity = dim, parity
        first = dim // 2
        self.n_a = first if parity == 0 else dim - first  # conditioning part
        self.n_b = dim - self.n_a  # transformed part
        self.net = Conditioner(self.n_a, out_factor * self.n_b, hidden, depth)

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        first = self.dim // 2
        lo, hi = x[:, :first], x[:, first:]
        return (lo, hi) if self.parity == 0 else (hi, lo)

    def _join(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.cat([a, b], dim=1) if self.parity == 0 else torch.cat([b, a], dim=1)


class AdditiveCoupling(_Coupling):
    """NICE: z_b = x_b + m(x_a), z_a = x_a, log|det| = 0, eq. (2.1)."""

    def __init__(self, dim: int, parity: int = 0, hidden: int = 64, depth: int = 2) -> None:
        super().__init__(dim, parity, 1, hidden, depth)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x_a, x_b = self._split(_check_vectors(x, self.dim, "x"))
        # region: additive
        z_b = x_b + self.net(x_a)  # eq. (2.1): a shift that depends only on x_a
        logdet = x.new_zeros(x.shape[0])  # unit triangular Jacobian
        # endregion: additive
        return self._join(x_a, z_b), logdet

    def inverse(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z_a, z_b = self._split(_check_vectors(z, self.dim, "z"))
        return self._join(z_a, z_b - self.net(z_a)), z.new_zeros(z.shape[0])


class AffineCoupling(_Coupling):
    """RealNVP: z_b = x_b exp(s(x_a)) + t(x_a), log|det| = sum s, eqs. (3.1)-(3.2).

    ``clamp`` c > 0 bounds |s| < c by the soft clamp; ``clamp=None`` uses s_raw unclamped
    (only to show what goes wrong on large inputs).
    """

    def __init__(
        self,
        dim: int,
        parity: int = 0,
        hidden: int = 64,
        depth: int = 2,
        clamp: float | None = 2.0,
    ) -> None:
        super().__init__(dim, parity, 2, hidden, depth)
        self.clamp = None if clamp is None else check_real(clamp, "clamp", low=0, low_open=True)

    def _scale_shift(self, x_a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s_raw, t = self.net(x_a).chunk(2, dim=1)
        s = s_raw if self.clamp is None else soft_clamp(s_raw, self.clamp)  # eq. (3.2)
        return s, t

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x_a, x_b = self._split(_check_vectors(x, self.dim, "x"))
        # region: affine
        s, t = self._scale_shift(x_a)
        z_b = x_b * torch.exp(s) + t  # eq. (3.1)
        logdet = s.sum(dim=1)  # triangular Jacobian with diagonal (1, exp(s))
        # endregion: affine
        return self._join(x_a, z_b), logdet

    def inverse(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z_a, z_b = self._split(_check_vectors(z, self.dim, "z"))
        s, t = self._scale_shift(z_a)
        return self._join(z_a, (z_b - t) * torch.exp(-s)), -s.sum(dim=1)


class Scaling(FlowLayer):
    """NICE's diagonal scaling z = x exp(s), log|det| = sum s, eq. (2.2); s starts at 0."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = check_int(dim, "dim", minimum=1)
        self.log_scale = nn.Parameter(torch.zeros(self.dim))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = _check_vectors(x, self.dim, "x")
        return x * torch.exp(self.log_scale), self.log_scale.sum().expand(x.shape[0])

    def inverse(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = _check_vectors(z, self.dim, "z")
        return z * torch.exp(-self.log_scale), -self.log_scale.sum().expand(z.shape[0])


class ActNorm(FlowLayer):
    """Glow's actnorm z = (x + b) exp(g) per channel, log|det| = HW sum g, eq. (4.1).

    Data-dependent initialisation: :meth:`initialize` (called automatically by the first
    ``forward`` of an uninitialised layer) sets b = -mean, g = -log(std + eps) of that batch.
    """

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.channels = check_int(channels, "channels", minimum=1)
        self.eps = check_real(eps, "eps", low=0, low_open=True)
        self.bias = nn.Parameter(torch.zeros(self.channels))
        self.log_scale = nn.Parameter(torch.zeros(self.channels))
        self.register_buffer("initialized", torch.tensor(False))

    @torch.no_grad()
    def initialize(self, x: torch.Tensor) -> None:
        """b = -mean_c, g = -log(std_c + eps) over the batch and pixels, eq. (4.1)."""
        x = _check_channels(x, self.channels, "x")
        flat = x.transpose(0, 1).reshape(self.channels, -1)
        if flat.shape[1] < 2:
            raise ValueError(
                f"actnorm's data-dependent initialisation needs at least 2 values per channel, "
                f"got a batch of shape {tuple(x.shape)}"
            )
        self.bias.copy_(-flat.mean(dim=1))
        self.log_scale.copy_(-torch.log(flat.std(dim=1) + self.eps))
        self.initialized.fill_(True)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = _check_channels(x, self.channels, "x")
        if not bool(self.initialized):
            self.initialize(x)
        # region: actnorm
        z = (x + _channel_view(self.bias, x)) * torch.exp(_channel_view(self.log_scale, x))
        logdet = _pixels(x) * self.log_scale.sum()  # eq. (4.1): HW sum_c g_c
        # endregion: actnorm
        return z, logdet.expand(x.shape[0])

    def inverse(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = _check_channels(z, self.channels, "z")
        x = z * torch.exp(-_channel_view(self.log_scale, z)) - _channel_view(self.bias, z)
        return x, (-_pixels(z) * self.log_scale.sum()).expand(z.shape[0])


class InvertibleConv1x1(FlowLayer):
    """Glow's invertible 1x1 convolution z = W x per pixel, W = P L (U + diag(sign e^{log_abs})),
    log|det| = HW sum log_abs, eq. (4.2).

    Initialised from a random rotation (global RNG: build it under a seed), or from a given
    weight with :meth:`from_weight` (a singular weight raises ValueError).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = check_int(channels, "channels", minimum=1)
        q, _ = torch.linalg.qr(torch.randn(self.channels, self.channels, dtype=torch.float64))
        self._set_from(q)

    def _set_from(self, weight: torch.Tensor) -> None:
        P, L, U = torch.linalg.lu(weight.to(torch.float64))
        diag = torch.diagonal(U)
        if torch.any(diag.abs() <= 1e-12 * max(1.0, float(weight.abs().max()))):
            raise ValueError(
                "the 1x1 convolution's weight must be invertible, got a singular matrix"
            )
        self.register_buffer("perm", P.float())
        self.register_buffer("sign", torch.sign(diag).float())
        self.register_buffer("lower_mask", torch.tril(torch.ones_like(L), -1).float())
        self.lower = nn.Parameter(L.float())
        self.upper = nn.Parameter(torch.triu(U, 1).float())
        self.log_abs = nn.Parameter(diag.abs().log().float())

    @classmethod
    def from_weight(cls, weight: torch.Tensor) -> InvertibleConv1x1:
        """A layer whose W equals ``weight`` (C, C), through its LU factors."""
        weight = check_tensor(weight, "weight", min_dim=2)
        if weight.dim() != 2 or weight.shape[0] != weight.shape[1]:
            raise ValueError(f"weight must be a square (C, C) matrix, got {tuple(weight.shape)}")
        layer = cls.__new__(cls)
        nn.Module.__init__(layer)
        layer.channels = weight.shape[0]
        layer._set_from(weight)
        return layer

    def weight(self) -> torch.Tensor:
        """W = P L (U + diag(sign * exp(log_abs))), with L's diagonal fixed to 1."""
        eye = torch.eye(self.channels, dtype=self.lower.dtype, device=self.lower.device)
        L = self.lower * self.lower_mask + eye
        U = torch.triu(self.upper, 1) + torch.diag(self.sign * torch.exp(self.log_abs))
        return self.perm @ L @ U

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = _check_channels(x, self.channels, "x")
        # region: invconv
        W = self.weight().to(x.dtype)
        z = torch.einsum("ij,bj...->bi...", W, x)  # z = W x at every pixel
        logdet = _pixels(x) * self.log_abs.sum()  # eq. (4.2): HW sum_c log|u_cc|
        # endregion: invconv
        return z, logdet.to(x.dtype).expand(x.shape[0])

    def inverse(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = _check_channels(z, self.channels, "z")
        W_inv = torch.linalg.inv(self.weight().to(z.dtype))
        x = torch.einsum("ij,bj...->bi...", W_inv, z)
        return x, (-_pixels(z) * self.log_abs.sum()).to(z.dtype).expand(z.shape[0])


class Permutation(FlowLayer):
    """A fixed permutation of the d coordinates, log|det| = 0, eq. (5.1).

    ``kind='reverse'`` reverses them; ``kind='random'`` draws one from ``seed``.
    """

    def __init__(self, dim: int, kind: str = "reverse", seed: int = 0) -> None:
        super().__init__()
        self.dim = check_int(dim, "dim", minimum=1)
        if kind == "reverse":
            perm = torch.arange(self.dim - 1, -1, -1)
        elif kind == "random":
            perm = torch.randperm(
                self.dim, generator=torch.Generator().manual_seed(check_int(seed, "seed"))
            )
        else:
            raise ValueError(f"kind must be 'reverse' or 'random', got {kind!r}")
        self.register_buffer("perm", perm)
        self.register_buffer("inv_perm", torch.argsort(perm))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = _check_vectors(x, self.dim, "x")
        return x[:, self.perm], x.new_zeros(x.shape[0])

    def inverse(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = _check_vectors(z, self.dim, "z")
        return z[:, self.inv_perm], z.new_zeros(z.shape[0])
