r"""Gaussian mixtures: data whose noised marginals, scores and denoisers are exact (section 6).

Let p_0(x) = sum_k w_k N(x; mu_k, Sigma_k) in R^d. Every process in this chapter perturbs data
as x_t = a x_0 + s eps, eps ~ N(0, I): DDPM has a = sqrt(alpha_bar_t), s = sqrt(1 - alpha_bar_t),
the VE SDE has a = 1, s = sigma(t). A Gaussian convolved with a Gaussian is Gaussian, so

    p_t(x) = sum_k w_k N(x; a mu_k, a^2 Sigma_k + s^2 I).                                  (6.1)

Write C_k = a^2 Sigma_k + s^2 I and r_k(x) = w_k N(x; a mu_k, C_k) / p_t(x) (the posterior
responsibility of component k). The score of the noised marginal is

    grad_x log p_t(x) = -sum_k r_k(x) C_k^{-1} (x - a mu_k).                                (6.2)

Tweedie's formula links score and denoiser: E[x_0 | x_t = x] = (x + s^2 grad log p_t(x)) / a, and
the noise prediction is eps(x) = E[eps | x_t = x] = -s grad log p_t(x).                  (6.3)

For each component the posterior mean of x_0 is mu_k + a Sigma_k C_k^{-1}(x - a mu_k), so the
exact denoiser in the variance-exploding parametrisation (a = 1, s = sigma) is

    D(x; sigma) = sum_k r_k(x) [mu_k + Sigma_k (Sigma_k + sigma^2 I)^{-1} (x - mu_k)],     (6.4)

which is well defined at sigma = 0 (D(x; 0) = x). All matrix work uses the eigendecomposition
Sigma_k = U_k diag(lambda_k) U_k^T, so C_k = U_k diag(a^2 lambda_k + s^2) U_k^T is inverted exactly.
"""

from __future__ import annotations

import math

import torch

from ..validation import (
    check_generator,
    check_int,
    check_real,
    check_tensor,
    per_sample,
    resolve_device,
)

__all__ = ["GaussianMixture", "gaussian", "ring_mixture", "toy_mixture"]


def _as_level(v: float | torch.Tensor, x: torch.Tensor, name: str) -> torch.Tensor:
    """a or s (>= 0, a scalar or one per sample) as shape (B, 1, 1), broadcasting over (B, K, d)."""
    return per_sample(v, x, name, low=0).reshape(-1, 1, 1)


class GaussianMixture:
    """p_0(x) = sum_k w_k N(mu_k, Sigma_k) with exact noised density, score and denoiser
    (6.1)-(6.4).

    ``weights`` (K,) positive (normalised here), ``means`` (K, d), ``covs`` (K, d, d)
    symmetric positive definite. Stored in ``dtype`` (float64 by default) on ``device``.
    """

    def __init__(
        self,
        weights: torch.Tensor,
        means: torch.Tensor,
        covs: torch.Tensor,
        *,
        dtype: torch.dtype = torch.float64,
        device: str | torch.device | None = None,
    ) -> None:
        w = torch.as_tensor(weights, dtype=dtype, device=device)
        mu = torch.as_tensor(means, dtype=dtype, device=device)
        cov = torch.as_tensor(covs, dtype=dtype, device=device)
        if mu.dim() != 2:
            raise ValueError(f"means must have shape (K, d), got {tuple(mu.shape)}")
        K, d = mu.shape
        if w.shape != (K,):
            raise ValueError(f"weights must have shape ({K},), got {tuple(w.shape)}")
        if cov.shape != (K, d, d):
            raise ValueError(f"covs must have shape ({K}, {d}, {d}), got {tuple(cov.shape)}")
        if torch.any(w <= 0):
            raise ValueError("weights must be positive")
        if not torch.allclose(cov, cov.transpose(-1, -2)):
            raise ValueError("covs must be symmetric")
        lam, U = torch.linalg.eigh(cov)
        if torch.any(lam <= 0):
            raise ValueError(
                f"covs must be positive definite, smallest eigenvalue {float(lam.min()):.3g}"
            )
        self.weights, self.means, self.covs = w / w.sum(), mu, cov
        self.eigvals, self.eigvecs = lam, U  # Sigma_k = U diag(lam) U^T

    @property
    def dim(self) -> int:
        """Dimension d of the data."""
        return self.means.shape[1]

    def to(
        self, device: str | torch.device | None = None, dtype: torch.dtype | None = None
    ) -> GaussianMixture:
        """The same mixture on another device / dtype."""
        dtype = dtype or self.means.dtype
        return GaussianMixture(self.weights, self.means, self.covs, dtype=dtype, device=device)

    def mean(self) -> torch.Tensor:
        """E[x_0] = sum_k w_k mu_k."""
        return self.weights @ self.means

    def covariance(self) -> torch.Tensor:
        """Cov[x_0] = sum_k w_k (Sigma_k + mu_k mu_k^T) - m m^T."""
        m = self.mean()
        second = torch.einsum("k,kij->ij", self.weights, self.covs)
        second = second + torch.einsum("k,ki,kj->ij", self.weights, self.means, self.means)
        return second - torch.outer(m, m)

    def sample(
        self,
        n: int,
        *,
        generator: torch.Generator | None = None,
        device: str | torch.device | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> torch.Tensor:
        """n draws from p_0: a component k ~ w, then mu_k + U_k sqrt(lambda_k) z; shape (n, d)."""
        n = check_int(n, "n", minimum=1)
        check_generator(generator)
        gdev = resolve_device(None, generator)
        out_dev = torch.device(device) if device is not None else self.means.device
        w, mu = self.weights.to(gdev), self.means.to(gdev)
        lam, U = self.eigvals.to(gdev), self.eigvecs.to(gdev)
        k = torch.multinomial(w, n, replacement=True, generator=generator)
        z = torch.randn(n, self.dim, dtype=mu.dtype, device=gdev, generator=generator)
        # x = mu_k + U_k diag(sqrt(lambda_k)) z
        x = mu[k] + torch.einsum("nij,nj->ni", U[k], lam[k].sqrt() * z)
        return x.to(device=out_dev, dtype=dtype)

    def _parts(self, x: torch.Tensor, a, s):
        """Per-component projections y = U^T (x - a mu), variances a^2 lambda + s^2, log r_k."""
        x = check_tensor(x, "x", min_dim=2)
        if x.dim() != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (B, {self.dim}), got {tuple(x.shape)}")
        a, s = _as_level(a, x, "a"), _as_level(s, x, "s")
        mu, lam, U = (
            t.to(device=x.device, dtype=x.dtype) for t in (self.means, self.eigvals, self.eigvecs)
        )
        logw = self.weights.to(device=x.device, dtype=x.dtype).log()
        diff = x[:, None, :] - a * mu[None]  # (B, K, d): x - a mu_k
        y = torch.einsum("kji,bkj->bki", U, diff)  # U_k^T (x - a mu_k)
        var = a**2 * lam[None] + s**2  # eigenvalues of C_k, eq. (6.1)
        if torch.any(var <= 0):
            raise ValueError("a = 0 and s = 0 together give a degenerate marginal")
        # log w_k N(x; a mu_k, C_k)
        logp = logw[None] - 0.5 * ((y**2 / var) + var.log() + math.log(2 * math.pi)).sum(-1)
        return y, var, logp, U, a, s, mu, lam

    def log_prob(
        self, x: torch.Tensor, a: float | torch.Tensor = 1.0, s: float | torch.Tensor = 0.0
    ) -> torch.Tensor:
        """log p_t(x) of the marginal (6.1) for x_t = a x_0 + s eps; shape (B,)."""
        _, _, logp, *_ = self._parts(x, a, s)
        return torch.logsumexp(logp, dim=1)

    def score(
        self, x: torch.Tensor, a: float | torch.Tensor = 1.0, s: float | torch.Tensor = 0.0
    ) -> torch.Tensor:
        """grad_x log p_t(x) = -sum_k r_k C_k^{-1}(x - a mu_k), eq. (6.2); shape (B, d)."""
        y, var, logp, U, *_ = self._parts(x, a, s)
        r = torch.softmax(logp, dim=1)  # responsibilities r_k(x)
        # C_k^{-1}(x - a mu_k) = U_k (y / var)
        prec_diff = torch.einsum("kij,bkj->bki", U, y / var)
        return -(r[..., None] * prec_diff).sum(1)

    def eps(
        self, x: torch.Tensor, a: float | torch.Tensor, s: float | torch.Tensor
    ) -> torch.Tensor:
        """E[eps | x_t = x] = -s grad log p_t(x), eq. (6.3); zero where s = 0 (its limit)."""
        s_t = _as_level(s, x, "s")[:, :, 0]
        return -s_t * self.score(x, a, s)

    def denoiser(self, x: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
        """D(x; sigma) = E[x_0 | x_0 + sigma eps = x], eq. (6.4); shape (B, d)."""
        y, var, logp, U, _, s, mu, lam = self._parts(x, 1.0, sigma)
        r = torch.softmax(logp, dim=1)
        # Sigma_k (Sigma_k + sigma^2 I)^{-1} (x - mu_k) = U_k (lambda/(lambda + sigma^2) * y)
        shrunk = torch.einsum("kij,bkj->bki", U, lam[None] / var * y)
        return (r[..., None] * (mu[None] + shrunk)).sum(1)

    def posterior_mean(
        self, x: torch.Tensor, a: float | torch.Tensor, s: float | torch.Tensor
    ) -> torch.Tensor:
        """E[x_0 | a x_0 + s eps = x] = D(x / a; s / a) (Tweedie, eq. 6.3); needs a > 0."""
        a_t, s_t = _as_level(a, x, "a")[:, :, 0], _as_level(s, x, "s")[:, :, 0]
        if torch.any(a_t <= 0):
            raise ValueError("a must be positive to recover x_0")
        return self.denoiser(x / a_t, (s_t / a_t).reshape(-1))


def gaussian(
    mean: torch.Tensor, cov: torch.Tensor, *, dtype: torch.dtype = torch.float64, device=None
) -> GaussianMixture:
    """A single Gaussian N(mean, cov) as a one-component mixture (closed-form PF-ODE checks)."""
    mean = torch.as_tensor(mean, dtype=dtype)
    cov = torch.as_tensor(cov, dtype=dtype)
    return GaussianMixture(torch.ones(1), mean[None], cov[None], dtype=dtype, device=device)


def ring_mixture(
    n_modes: int = 8, radius: float = 2.0, std: float = 0.2, *, dtype=torch.float64, device=None
) -> GaussianMixture:
    """n_modes equal-weight isotropic Gaussians (std ``std``) evenly spaced on a circle."""
    n_modes = check_int(n_modes, "n_modes", minimum=1)
    radius = check_real(radius, "radius", low=0)
    std = check_real(std, "std", low=0, low_open=True)
    ang = 2 * math.pi * torch.arange(n_modes, dtype=torch.float64) / n_modes
    means = radius * torch.stack([ang.cos(), ang.sin()], dim=1)
    covs = std**2 * torch.eye(2, dtype=torch.float64).expand(n_modes, 2, 2)
    return GaussianMixture(torch.ones(n_modes), means, covs, dtype=dtype, device=device)


def toy_mixture(*, dtype: torch.dtype = torch.float64, device=None) -> GaussianMixture:
    """The chapter's 2-D data: 5 unequal, anisotropic components of roughly unit overall scale.

    Unequal weights make mode-dropping and wrong mode weights visible to the metrics; the
    thin components test samplers at small noise levels.
    """
    weights = torch.tensor([0.3, 0.2, 0.2, 0.15, 0.15])
    means = torch.tensor([[-1.2, -0.8], [1.3, -0.9], [0.0, 1.4], [-1.4, 1.0], [1.4, 0.9]])
    angles = torch.tensor([0.3, -0.6, 0.0, 1.0, -1.2])
    sd_major = torch.tensor([0.35, 0.30, 0.45, 0.20, 0.25])
    sd_minor = torch.tensor([0.10, 0.12, 0.08, 0.15, 0.07])
    rot = torch.stack(
        [
            torch.stack([angles.cos(), -angles.sin()], -1),
            torch.stack([angles.sin(), angles.cos()], -1),
        ],
        dim=-2,
    )
    diag = torch.diag_embed(torch.stack([sd_major, sd_minor], -1) ** 2)
    covs = rot @ diag @ rot.transpose(-1, -2)
    covs = 0.5 * (covs + covs.transpose(-1, -2))
    return GaussianMixture(weights, means, covs, dtype=dtype, device=device)
