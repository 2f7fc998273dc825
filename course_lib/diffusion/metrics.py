r"""Sample-quality metrics for 2-D samples: MMD and sliced Wasserstein (section 6).

**MMD.** For a kernel k, MMD^2(P, Q) = E k(x, x') + E k(y, y') - 2 E k(x, y). We report the
square root of the biased (V-statistic) estimate from samples X ~ P, Y ~ Q:

    MMD(X, Y) = sqrt(mean k(X, X) + mean k(Y, Y) - 2 mean k(X, Y)).                       (6.5)

Kernel rule: an equal-weight sum of Gaussian kernels exp(-|x - y|^2 / (2 h^2)) with bandwidths
h = m/8, m/4, m/2, where m is the median pairwise distance of the reference sample Y (the
median heuristic, scaled down so that the shape of each mode, not only the overall layout, is
seen: on the chapter's mixture, components 30 % too wide or too narrow give more than twice the
data floor, while the floor's own standard deviation is 15-25 % of it for n = 2000-4000).

**Sliced Wasserstein.** SW_2(P, Q)^2 = E_theta W_2(theta^T P, theta^T Q)^2 over uniform
directions theta; in 1-D W_2 between equal-size samples pairs sorted values, so

    SW_2(X, Y) = sqrt(mean_theta mean_i (sort(X theta)_i - sort(Y theta)_i)^2).              (6.6)

**The data floor.** Both estimates are positive even when P = Q because the samples are
finite (MMD ~ n^-1/2). :func:`data_floor` measures the metric between two fresh data samples
of the same size; a sampler is "as good as the data allow" when its metric is near the floor.

**What the MMD can and cannot see at these sizes.** Measured on the chapter's mixture (20
repeats): at n = 1000 the data floor is 0.038 +- 0.009, a mixture with one 15 % mode missing
gives 0.145 +- 0.013 (far above 2x the floor), but components 30 % too wide give only
0.060 +- 0.008, *below* 2x the floor. So "MMD < 2 x floor" guards against lost modes, not
against wrong shapes. Detecting a 30 % width error with the MMD needs several
thousand samples (the unbiased statistic (6.7) puts it about 5 null standard deviations out at
n = 2000 and 2.5 at n = 1000); the per-mode checks below catch it at n = 1000.

**Unbiased MMD^2** (the U-statistic: the diagonal terms k(x_i, x_i) dropped),

    MMD_u^2 = sum_{i != j} k(x_i, x_j)/(n(n-1)) + sum_{i != j} k(y_i, y_j)/(m(m-1))
              - 2 mean k(X, Y),                                                          (6.7)

has mean MMD^2(P, Q), hence 0 when P = Q.

**Per-mode checks** (:func:`mode_statistics`): with the true mixture's responsibilities
r_k(x) = w_k N(x; mu_k, Sigma_k) / p(x), E_p[r_k(X)] = w_k and
E_p[r_k(X) (X - mu_k)(X - mu_k)^T] = w_k Sigma_k exactly (because r_k p = w_k N_k), so

    w_k_hat = mean_i r_k(x_i),
    Sigma_k_hat = sum_i r_k(x_i) (x_i - mu_k)(x_i - mu_k)^T / sum_i r_k(x_i)              (6.8)

estimate the mode weights and covariances of any sample without fitting anything; their
standard errors follow from the per-sample terms (a ratio estimator for Sigma_k_hat). A sampler
that drops a mode, gets the weights wrong or makes the modes 30 % too wide fails at n = 1000.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import torch

from ..validation import check_generator, check_int, check_tensor

__all__ = [
    "check_modes",
    "data_floor",
    "median_distance",
    "mmd",
    "mmd2_unbiased",
    "mode_statistics",
    "quality_table",
    "sliced_wasserstein",
]


def _check_pair(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = check_tensor(x, "x", min_dim=2), check_tensor(y, "y", min_dim=2)
    x, y = x.flatten(1).double(), y.flatten(1).to(x.device).double()
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got {x.shape[1]} and {y.shape[1]}")
    if x.shape[0] == 0 or y.shape[0] == 0:
        raise ValueError(
            f"x and y must hold at least one sample each, got {x.shape[0]} and {y.shape[0]}"
        )
    if not (torch.all(torch.isfinite(x)) and torch.all(torch.isfinite(y))):
        raise ValueError("samples contain NaN or infinity")
    return x, y


def median_distance(y: torch.Tensor, max_points: int = 2000) -> float:
    """Median pairwise Euclidean distance of (the first ``max_points`` rows of) y."""
    max_points = check_int(max_points, "max_points", minimum=2)
    y = check_tensor(y, "y", min_dim=2).flatten(1).double()[:max_points]
    d = torch.pdist(y)
    if d.numel() == 0:
        raise ValueError("need at least 2 points for a median distance")
    return float(d.median())


def _bandwidths(y: torch.Tensor, bandwidths: tuple[float, ...] | None) -> tuple[float, ...]:
    if bandwidths is None:
        m = median_distance(y)
        bandwidths = (m / 8, m / 4, m / 2)
    if not bandwidths or any(
        isinstance(h, bool) or not isinstance(h, numbers.Real) or not 0 < h < math.inf
        for h in bandwidths
    ):
        raise ValueError(f"bandwidths must be positive finite numbers, got {bandwidths}")
    return tuple(bandwidths)


def _kernel(a: torch.Tensor, b: torch.Tensor, bandwidths: tuple[float, ...]) -> torch.Tensor:
    d2 = torch.cdist(a, b) ** 2
    return sum(torch.exp(-d2 / (2 * h**2)) for h in bandwidths) / len(bandwidths)


def mmd(x: torch.Tensor, y: torch.Tensor, *, bandwidths: tuple[float, ...] | None = None) -> float:
    """MMD between samples x (n, d) and reference y (m, d), eq. (6.5), multi-bandwidth Gaussian
    kernel.

    ``bandwidths`` default to (m/8, m/4, m/2) with m = :func:`median_distance` of y.
    """
    x, y = _check_pair(x, y)
    bw = _bandwidths(y, bandwidths)
    mmd2 = _kernel(x, x, bw).mean() + _kernel(y, y, bw).mean() - 2 * _kernel(x, y, bw).mean()
    return float(mmd2.clamp(min=0).sqrt())


def sliced_wasserstein(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    n_projections: int = 256,
    generator: torch.Generator | None = None,
) -> float:
    """SW_2 between equal-size samples, eq. (6.6), with ``n_projections`` random directions."""
    x, y = _check_pair(x, y)
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"sliced_wasserstein needs equal sample sizes, got {x.shape[0]} and {y.shape[0]}"
        )
    n_proj = check_int(n_projections, "n_projections", minimum=1)
    check_generator(generator)
    gdev = generator.device if generator is not None else torch.device("cpu")
    theta = torch.randn(x.shape[1], n_proj, generator=generator, device=gdev, dtype=torch.float64)
    theta = (theta / theta.norm(dim=0, keepdim=True)).to(x.device)
    px, _ = torch.sort(x @ theta, dim=0)
    py, _ = torch.sort(y @ theta, dim=0)
    return float(((px - py) ** 2).mean().sqrt())


def data_floor(
    sample: Callable[[int, torch.Generator], torch.Tensor],
    n: int,
    metric: str = "mmd",
    *,
    repeats: int = 5,
    generator: torch.Generator | None = None,
) -> tuple[float, float]:
    """Mean and standard deviation of the metric between two fresh data samples of size n.

    ``sample(n, generator)`` draws data; ``metric`` is 'mmd' or 'swd'. Averaging ``repeats``
    pairs gives a stable floor to compare samplers with.
    """
    n, repeats = check_int(n, "n", minimum=2), check_int(repeats, "repeats", minimum=2)
    if metric not in ("mmd", "swd"):
        raise ValueError(f"metric must be 'mmd' or 'swd', got {metric!r}")
    vals = []
    for _ in range(repeats):
        a, b = sample(n, generator), sample(n, generator)
        vals.append(mmd(a, b) if metric == "mmd" else sliced_wasserstein(a, b, generator=generator))
    v = torch.tensor(vals)
    return float(v.mean()), float(v.std())


def quality_table(
    denoiser: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    reference: Callable[[int, torch.Generator], torch.Tensor],
    *,
    samplers: tuple[tuple[str, float], ...] = (
        ("ddpm", 1.0),
        ("ddim", 0.0),
        ("ddim", 1.0),
        ("sde_em", 0.0),
        ("pf_euler", 0.0),
    ),
    steps: tuple[int, ...] = (10, 20, 50, 100),
    n: int = 2000,
    repeats: int = 1,
    schedule=None,
    sde=None,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> list[dict]:
    """Sample quality against the number of network evaluations (NFE), one row per setting.

    Each row: sampler, eta, steps, nfe, and the MMD (6.5) and SWD (6.6) against a fresh
    reference sample of size n (``reference(n, generator)``), averaged over ``repeats``
    independent runs (``mmd_sd`` is their standard deviation). Every run has its own generator
    seeded from ``seed``, so the table is reproducible. Defaults: the linear schedule with
    T = 1000 (discrete samplers) and the VP SDE (0.1, 20) that it discretises.
    """
    from .samplers import SAMPLERS, run_sampler
    from .schedules import make_schedule
    from .sde import VPSDE

    schedule = schedule if schedule is not None else make_schedule("linear", 1000)
    sde = sde if sde is not None else VPSDE()
    repeats = check_int(repeats, "repeats", minimum=1)
    for name, _ in samplers:
        if name not in SAMPLERS:
            raise ValueError(f"unknown sampler {name!r}; choose from {SAMPLERS}")
    rows = []
    for i, (name, eta) in enumerate(samplers):
        for j, k in enumerate(steps):
            mmds, swds, nfe = [], [], 0
            for r in range(repeats):
                gen = torch.Generator().manual_seed(seed + 100_000 * r + 1000 * i + j)
                res = run_sampler(
                    name,
                    denoiser,
                    n,
                    k,
                    schedule=schedule,
                    sde=sde,
                    eta=eta,
                    generator=gen,
                    device=device,
                )
                ref = reference(n, gen)
                mmds.append(mmd(res.x, ref))
                swds.append(sliced_wasserstein(res.x, ref, generator=gen))
                nfe = res.nfe
            m = torch.tensor(mmds, dtype=torch.float64)
            rows.append(
                {
                    "sampler": name,
                    "eta": eta,
                    "steps": k,
                    "nfe": nfe,
                    "mmd": float(m.mean()),
                    "mmd_sd": float(m.std()) if repeats > 1 else float("nan"),
                    "repeats": repeats,
                    "swd": float(torch.tensor(swds).mean()),
                }
            )
    return rows


def mmd2_unbiased(
    x: torch.Tensor, y: torch.Tensor, *, bandwidths: tuple[float, ...] | None = None
) -> float:
    """The unbiased estimate (6.7) of MMD^2 (can be negative; mean 0 when x and y share a law).

    Same kernel rule as :func:`mmd`; needs at least 2 samples on each side.
    """
    x, y = _check_pair(x, y)
    if x.shape[0] < 2 or y.shape[0] < 2:
        raise ValueError(f"need at least 2 samples on each side, got {x.shape[0]} and {y.shape[0]}")
    bw = _bandwidths(y, bandwidths)
    n, m = x.shape[0], y.shape[0]
    kxx, kyy = _kernel(x, x, bw), _kernel(y, y, bw)
    within_x = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
    within_y = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return float(within_x + within_y - 2 * _kernel(x, y, bw).mean())


def mode_statistics(mixture, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Responsibility-weighted mode weights and covariances (6.8) of a sample, with errors.

    ``mixture`` is the true :class:`.mixtures.GaussianMixture`; ``x`` (n, d) the sample. Returns
    ``weights`` (K,), ``weights_se`` (K,), ``covs`` (K, d, d), ``covs_se`` (K, d, d), the
    ``width`` (K,) = responsibility-weighted mean of (x - mu_k)^T Sigma_k^{-1} (x - mu_k) (d under
    the truth; a mode 30 % too wide gives 1.69 d) with ``width_se``, and the truths
    ``true_weights``, ``true_covs``, ``true_width``. Standard errors: the spread of the per-sample
    terms over sqrt(n) (delta method for the ratio estimate of the covariances).
    """
    from .mixtures import GaussianMixture

    if not isinstance(mixture, GaussianMixture):
        raise TypeError(f"mixture must be a GaussianMixture, got {type(mixture).__name__}")
    x = check_tensor(x, "x", min_dim=2).double().cpu()
    if x.dim() != 2 or x.shape[1] != mixture.dim:
        raise ValueError(f"x must have shape (n, {mixture.dim}), got {tuple(x.shape)}")
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"need at least 2 samples, got {n}")
    mix = mixture.to("cpu", torch.float64)
    # responsibilities r_k(x) of the true mixture (its score code's log w_k N_k(x))
    logp = torch.stack(
        [
            torch.distributions.MultivariateNormal(mix.means[k], mix.covs[k]).log_prob(x)
            + mix.weights[k].log()
            for k in range(mix.means.shape[0])
        ],
        dim=1,
    )
    r = torch.softmax(logp, dim=1)  # (n, K)
    w_hat = r.mean(0)
    w_se = r.std(0) / math.sqrt(n)
    diff = x[:, None, :] - mix.means[None]  # (n, K, d)
    outer = diff[..., :, None] * diff[..., None, :]  # (n, K, d, d)
    covs = (r[..., None, None] * outer).sum(0) / r.sum(0)[:, None, None]
    # ratio estimator: per-sample terms r_i (outer_i - Sigma_hat) / w_hat
    terms = r[..., None, None] * (outer - covs[None]) / w_hat.clamp(min=1e-300)[None, :, None, None]
    covs_se = terms.std(0) / math.sqrt(n)
    # width: responsibility-weighted squared Mahalanobis distance, d under the truth
    maha = torch.einsum("nki,kij,nkj->nk", diff, torch.linalg.inv(mix.covs), diff)
    width = (r * maha).sum(0) / r.sum(0)
    width_se = (r * (maha - width[None]) / w_hat.clamp(min=1e-300)[None]).std(0) / math.sqrt(n)
    return {
        "width": width,
        "width_se": width_se,
        "true_width": torch.full_like(width, float(mix.dim)),
        "weights": w_hat,
        "weights_se": w_se,
        "covs": covs,
        "covs_se": covs_se,
        "true_weights": mix.weights,
        "true_covs": mix.covs,
    }


def check_modes(mixture, x: torch.Tensor, *, k: float = 4.0, label: str = "") -> float:
    """Assert that every mode weight, covariance entry and width (6.8) of x is within k standard
    errors of the truth; returns the largest |z|.

    Raises AssertionError naming the worst statistic of each kind.
    """
    st = mode_statistics(mixture, x)
    z_w = (st["weights"] - st["true_weights"]) / st["weights_se"].clamp(min=1e-12)
    z_c = (st["covs"] - st["true_covs"]) / st["covs_se"].clamp(min=1e-12)
    worst_w, worst_c = int(z_w.abs().argmax()), z_c.abs().flatten().argmax()
    kk, i, j = (int(v) for v in torch.unravel_index(worst_c, z_c.shape))
    z_s = (st["width"] - st["true_width"]) / st["width_se"].clamp(min=1e-12)
    worst_s = int(z_s.abs().argmax())
    z_max = max(float(z_w.abs().max()), float(z_c.abs().max()), float(z_s.abs().max()))
    if not z_max < k:
        raise AssertionError(
            f"{label or 'modes'}: weight of mode {worst_w}: {float(st['weights'][worst_w]):.4f} vs "
            f"{float(st['true_weights'][worst_w]):.4f} (z = {float(z_w[worst_w]):.1f}); "
            f"covariance [{kk}][{i},{j}]: {float(st['covs'][kk, i, j]):.4f} vs "
            f"{float(st['true_covs'][kk, i, j]):.4f} (z = {float(z_c[kk, i, j]):.1f}); "
            f"width of mode {worst_s}: {float(st['width'][worst_s]):.3f} vs {mixture.dim} "
            f"(z = {float(z_s[worst_s]):.1f}); allowed |z| < {k}"
        )
    return z_max
