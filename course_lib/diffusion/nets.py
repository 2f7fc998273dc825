r"""Small networks and the denoiser wrapper that turns them into D(x; sigma) (section 5).

**Time embedding.** The network is told the noise level through c = log(sigma)/4 (sigma is
the noise-to-signal ratio of (3.1); log scale spreads the levels 0.01..150 evenly), mapped to
sinusoidal features [sin(w_k c), cos(w_k c)] with frequencies w_k geometric in [1, max_freq]
(as the Transformer's position encoding and DDPM's time embedding).                     (5.1)

**epsilon parametrisation.** DDPM's eps_theta(x_t, t) sees x_t = a x_0 + s eps with
a = 1/sqrt(1 + sigma^2), s = sigma a. As a denoiser on the scaled variable
x = x_t / a = x_0 + sigma eps,

    D(x; sigma) = x - sigma F(x / sqrt(1 + sigma^2), c(sigma)),                           (5.2)

where F = eps_theta is the raw network: exactly DDPM's model, written so that every sampler
(and the EDM preconditionings of part 2) can use it.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..validation import check_int, check_tensor

__all__ = ["MLP", "EpsDenoiser", "SinusoidalEmbedding", "TinyConvNet", "noise_conditioning"]


def noise_conditioning(sigma: torch.Tensor) -> torch.Tensor:
    """c(sigma) = log(sigma) / 4, the scalar the network is conditioned on, eq. (5.1)."""
    if torch.any(sigma <= 0):
        raise ValueError("sigma must be positive to condition a network on log(sigma)")
    return sigma.log() / 4


class SinusoidalEmbedding(nn.Module):
    """c (B,) -> [sin(w_k c), cos(w_k c)]_k (B, dim), w_k geometric in [1, max_freq], eq. (5.1)."""

    def __init__(self, dim: int = 32, max_freq: float = 100.0) -> None:
        super().__init__()
        dim = check_int(dim, "dim", minimum=2)
        if dim % 2:
            raise ValueError(f"dim must be even, got {dim}")
        freqs = torch.exp(torch.linspace(0.0, math.log(max_freq), dim // 2))
        self.register_buffer("freqs", freqs, persistent=False)

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        arg = c.reshape(-1, 1).to(self.freqs.dtype) * self.freqs
        return torch.cat([arg.sin(), arg.cos()], dim=1)


class MLP(nn.Module):
    """F(x, c) for vectors: [x, emb(c)] -> ``depth`` SiLU layers of width ``hidden`` -> R^dim."""

    def __init__(self, dim: int = 2, hidden: int = 128, depth: int = 3, emb_dim: int = 32) -> None:
        super().__init__()
        self.dim = check_int(dim, "dim", minimum=1)
        hidden, depth = check_int(hidden, "hidden", minimum=1), check_int(depth, "depth", minimum=1)
        self.embed = SinusoidalEmbedding(emb_dim)
        layers: list[nn.Module] = [nn.Linear(dim + emb_dim, hidden), nn.SiLU()]
        for _ in range(depth - 1):
            layers += [nn.Linear(hidden, hidden), nn.SiLU()]
        layers.append(nn.Linear(hidden, dim))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (B, {self.dim}), got {tuple(x.shape)}")
        return self.body(torch.cat([x, self.embed(c).to(x.dtype)], dim=1))


class TinyConvNet(nn.Module):
    """F(x, c) for (B, C, 8, 8) images: three 3x3 conv blocks, the embedding added per channel."""

    def __init__(self, channels: int = 1, width: int = 32, emb_dim: int = 32) -> None:
        super().__init__()
        self.channels = check_int(channels, "channels", minimum=1)
        width = check_int(width, "width", minimum=4)
        self.embed = SinusoidalEmbedding(emb_dim)
        self.emb_proj = nn.Sequential(
            nn.Linear(emb_dim, width), nn.SiLU(), nn.Linear(width, 2 * width)
        )
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.conv1 = nn.Conv2d(width, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)
        self.norm1, self.norm2 = nn.GroupNorm(4, width), nn.GroupNorm(4, width)
        self.conv_out = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(f"x must have shape (B, {self.channels}, H, W), got {tuple(x.shape)}")
        e1, e2 = self.emb_proj(self.embed(c).to(x.dtype)).chunk(2, dim=1)
        h = self.conv_in(x)
        h = h + self.conv1(nn.functional.silu(self.norm1(h) + e1[:, :, None, None]))
        h = h + self.conv2(nn.functional.silu(self.norm2(h) + e2[:, :, None, None]))
        return self.conv_out(nn.functional.silu(h))


class EpsDenoiser(nn.Module):
    """Wrap an eps-network F as the denoiser D(x; sigma) of eq. (5.2)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        if not isinstance(net, nn.Module):
            raise TypeError(f"net must be an nn.Module, got {type(net).__name__}")
        self.net = net

    def eps_vp(self, x_t: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """eps_theta(x_t) for the VP-scaled input x_t = x / sqrt(1 + sigma^2) (DDPM's model)."""
        return self.net(x_t, noise_conditioning(sigma))

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        x = check_tensor(x, "x", min_dim=2)
        sigma = (
            torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1).expand(x.shape[0])
        )
        s = sigma.reshape(-1, *([1] * (x.dim() - 1)))
        # D(x; sigma) = x - sigma F(x / sqrt(1 + sigma^2), c(sigma))
        return x - s * self.eps_vp(x / (1 + s**2).sqrt(), sigma)
