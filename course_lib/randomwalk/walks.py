"""The simple random walk S_n = X_1 + ... + X_n with i.i.d. steps X_i = +1 (prob. p), -1 (q = 1-p).

Exact law (Chapter 01, section 1). With K ~ Binomial(n, p) up-steps, S_n = 2K - n, so

    P(S_n = k) = C(n, (n+k)/2) p^((n+k)/2) q^((n-k)/2),   k = -n, -n+2, ..., n,   (1.1)
    E[S_n] = n (p - q),          Var[S_n] = 4 n p q.                                (1.2)

Simulation draws one uniform per step and compares it with p. A step is decided by a
31-bit uniform integer r: X = +1 iff r < round(p 2^31), so P(X = +1) equals p up to
2^-32 (float32 uniforms would give only 2^-24). For the symmetric walk (p = 1/2) every
random *bit* is a fair step, so :func:`sample_endpoints` sums the bits of random words
(a population count), 64 steps per word.
"""

from __future__ import annotations

import math

import torch

from ..validation import check_int, check_probability, resolve_device

__all__ = [
    "endpoint_mean_var",
    "endpoint_pmf",
    "log_binomial_pmf",
    "sample_endpoints",
    "sample_paths",
    "sample_steps",
]

_STEP_DTYPES = (torch.int8, torch.int16, torch.int32, torch.int64, torch.float32, torch.float64)


def _check_dtype(dtype: torch.dtype) -> torch.dtype:
    if dtype not in _STEP_DTYPES:
        raise TypeError(f"dtype must be a signed integer or float dtype, got {dtype}")
    return dtype


def sample_steps(
    n_walks: int,
    n_steps: int,
    p: float = 0.5,
    *,
    generator: torch.Generator | None = None,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.int8,
) -> torch.Tensor:
    """Steps X_i in {+1, -1} with P(X_i = +1) = p, shape (n_walks, n_steps)."""
    n_walks, n_steps = check_int(n_walks, "n_walks"), check_int(n_steps, "n_steps")
    p, dtype = check_probability(p), _check_dtype(dtype)
    dev = resolve_device(device, generator)
    # region: steps
    # r uniform on the 31-bit integers {0, ..., 2^31 - 1}
    r = torch.empty((n_walks, n_steps), dtype=torch.int32, device=dev)
    r.random_(0, 2**31, generator=generator)
    # X_i = +1 when r < round(p 2^31), written r <= round(p 2^31) - 1 so it fits int32 at p = 1
    up = r <= round(p * 2**31) - 1
    # X_i = 2 * 1{up} - 1 (a Python int keeps the tensor's dtype)
    return 2 * up.to(dtype) - 1
    # endregion: steps


def sample_paths(
    n_walks: int,
    n_steps: int,
    p: float = 0.5,
    *,
    generator: torch.Generator | None = None,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.int32,
) -> torch.Tensor:
    """Paths (S_0, S_1, ..., S_n) with S_0 = 0, shape (n_walks, n_steps + 1)."""
    steps = sample_steps(n_walks, n_steps, p, generator=generator, device=device, dtype=dtype)
    paths = torch.zeros(steps.shape[0], steps.shape[1] + 1, dtype=dtype, device=steps.device)
    # region: paths
    # S_k = X_1 + ... + X_k
    torch.cumsum(steps, dim=1, out=paths[:, 1:])
    # endregion: paths
    return paths


# Masks of the bit-parallel population count (each level adds neighbouring bit groups).
_M1, _M2, _M4 = 0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F


def _popcount_rows(words: torch.Tensor) -> torch.Tensor:
    """Number of set bits in each row of an int64 tensor (SWAR popcount, then byte sums)."""
    w = words - ((words >> 1) & _M1)  # 2-bit fields hold counts 0..2
    w = (w & _M2) + ((w >> 2) & _M2)  # 4-bit fields hold counts 0..4
    w = (w + (w >> 4)) & _M4  # each byte holds its count 0..8
    return w.view(torch.uint8).reshape(words.shape[0], -1).sum(dim=1, dtype=torch.int64)


def _up_steps_symmetric(n_walks: int, n_steps: int, generator, device) -> torch.Tensor:
    """K = number of up-steps for p = 1/2: every random bit is one fair step."""
    full_words, rest = divmod(n_steps, 64)
    # random 64-bit words (randint's upper bound is exclusive: 2^63 - 1 is never drawn,
    # a bias of 2^-64 per word)
    words = torch.randint(
        -(2**63),
        2**63 - 1,
        (n_walks, full_words + (rest > 0)),
        generator=generator,
        device=device,
        dtype=torch.int64,
    )
    if rest:
        words[:, -1] &= (1 << rest) - 1  # keep only the last `rest` bits of the final word
    return _popcount_rows(words)


def _up_steps_general(p: float, generator, r: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    """K = number of up-steps: count of 31-bit uniforms below round(p 2^31).

    ``r`` (int32) and ``up`` (bool), both (rows, n_steps), are reused from chunk to chunk so
    the loop allocates nothing large.
    """
    r.random_(0, 2**31, generator=generator)
    torch.le(r, round(p * 2**31) - 1, out=up)  # r < t  <=>  r <= t - 1 (as in sample_steps)
    return up.view(torch.uint8).sum(dim=1, dtype=torch.int64)


#: Steps simulated per chunk: small enough to stay in the CPU cache, large on a GPU.
DEFAULT_CHUNK_STEPS = {"cpu": 2**18, "cuda": 2**26}


def sample_endpoints(
    n_walks: int,
    n_steps: int,
    p: float = 0.5,
    *,
    generator: torch.Generator | None = None,
    device: str | torch.device | None = None,
    chunk_steps: int | None = None,
) -> torch.Tensor:
    """Simulate ``n_walks`` walks of ``n_steps`` steps and return S_n (int64, shape (n_walks,)).

    Every step is simulated (this is not a draw from the binomial law (1.1)); walks are
    processed in chunks of about ``chunk_steps`` random numbers (default:
    :data:`DEFAULT_CHUNK_STEPS` for the device) so memory stays bounded and, on a CPU,
    cache-resident.
    """
    n_walks, n_steps = check_int(n_walks, "n_walks"), check_int(n_steps, "n_steps")
    p = check_probability(p)
    dev = resolve_device(device, generator)
    if chunk_steps is None:
        chunk_steps = DEFAULT_CHUNK_STEPS.get(dev.type, 2**22)
    chunk_steps = check_int(chunk_steps, "chunk_steps", minimum=1)
    out = torch.empty(n_walks, dtype=torch.int64, device=dev)
    # the bit path stores 64 steps per word, so the same memory holds 64x more steps
    steps_per_chunk = 64 * chunk_steps if p == 0.5 else chunk_steps
    rows = max(1, min(steps_per_chunk // max(n_steps, 1), n_walks))
    if p != 0.5:  # buffers reused by every chunk of the general path
        r_buf = torch.empty(rows, n_steps, dtype=torch.int32, device=dev)
        up_buf = torch.empty(rows, n_steps, dtype=torch.bool, device=dev)
    for start in range(0, n_walks, rows):
        m = min(rows, n_walks - start)
        if p == 0.5:
            k = _up_steps_symmetric(m, n_steps, generator, dev)
        else:
            k = _up_steps_general(p, generator, r_buf[:m], up_buf[:m])
        out[start : start + m] = 2 * k - n_steps  # S_n = 2K - n
    return out


def endpoint_pmf(
    n: int,
    p: float = 0.5,
    *,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.float64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Support k = -n, -n+2, ..., n and probabilities P(S_n = k) of eq. (1.1).

    Computed in log space (:func:`log_binomial_pmf`) so n = 10^4 and beyond neither
    overflows nor underflows needlessly; p in {0, 1} gives the point mass at -n or n.
    """
    n, p = check_int(n, "n"), check_probability(p)
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    j = torch.arange(n + 1, device=device, dtype=torch.float64)  # j = (n + k)/2 up-steps
    k = (2 * j - n).to(torch.int64)
    return k, torch.exp(log_binomial_pmf(torch.full_like(j, n), j, p)).to(dtype)


def log_binomial_pmf(n: torch.Tensor, j: torch.Tensor, p: float) -> torch.Tensor:
    """log [C(n, j) p^j q^(n-j)] elementwise (float64), with 0 log 0 = 0 at p in {0, 1}.

    Log-gamma keeps n = 10^4 and beyond free of overflow: this is log P(S_n = 2j - n), (1.1).
    """
    # log C(n, j) = lgamma(n + 1) - lgamma(j + 1) - lgamma(n - j + 1)
    log_binom = torch.lgamma(n + 1) - torch.lgamma(j + 1) - torch.lgamma(n - j + 1)
    # + j log p + (n - j) log q, where a zero power contributes 0 even if p or q is 0
    up = torch.where(j > 0, j * math.log(p), 0.0) if p > 0 else torch.where(j > 0, -math.inf, 0.0)
    q = 1.0 - p
    down = n - j
    down = (
        torch.where(down > 0, down * math.log(q), 0.0)
        if q > 0
        else torch.where(down > 0, -math.inf, 0.0)
    )
    return log_binom + up + down


def endpoint_mean_var(n: int, p: float = 0.5) -> tuple[float, float]:
    """E[S_n] = n (p - q) and Var[S_n] = 4 n p q, eq. (1.2)."""
    n, p = check_int(n, "n"), check_probability(p)
    q = 1.0 - p
    return n * (p - q), 4.0 * n * p * q
