"""Training loop with a progress bar, interruption and an on-disk cache (section 5).

``train_denoiser(config)`` builds the network a :class:`TrainConfig` names, trains it with
Adam on the config's objective, keeps an exponential moving average (EMA) of the weights and
returns the EMA model as a denoiser D(x; sigma). Objectives, data sets and networks are looked
up in registries (:data:`OBJECTIVES`, :data:`DATASETS`, :data:`NETWORKS`) so part 2 of the
chapter adds its own (EDM preconditioning, flow matching) without touching this loop.

**Interruption.** Ctrl-C (KeyboardInterrupt) stops the loop and returns what was trained so
far (``interrupted=True``); an interrupted model is never written to the cache.

**Cache.** A finished model is saved as ``<cache>/diffusion-<key>.pt`` with a JSON sidecar;
``key`` is a SHA-256 hash of the config (and a format version). The sidecar stores the config
and the SHA-256 checksum of the .pt file. On load, a missing sidecar, a config mismatch, a
checksum mismatch, a file ``torch.load(weights_only=True)`` refuses or a state dict that does
not fit the network all count as a stale/corrupt cache: it is rebuilt, never trusted. The
cache folder is ``$COURSE_CACHE_DIR`` or ``.course_cache/`` in the repository root.

**Generic part.** :func:`train_module` is the loop and cache without the denoiser registries:
any module, any loss ``loss_fn(model, generator)``, keyed by any JSON-able config dict under a
file-name ``prefix``. :func:`train_denoiser` is ``train_module`` with the registries'
network, batch sampler and objective (prefix ``"diffusion"``); Chapter 06's flows use it with
their own configs (prefix ``"flows"``).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from ..validation import check_int, check_real
from .data import TOY_DATASETS, digits_dataset, sample_toy
from .losses import eps_loss
from .nets import MLP, EpsDenoiser, TinyConvNet
from .schedules import make_schedule

__all__ = [
    "CACHE_ENV_VAR",
    "DATASETS",
    "NETWORKS",
    "OBJECTIVES",
    "TrainConfig",
    "TrainResult",
    "build_model",
    "cache_dir",
    "cache_key",
    "load_cached",
    "load_module",
    "module_cache_paths",
    "train_denoiser",
    "train_module",
]

CACHE_ENV_VAR = "COURSE_CACHE_DIR"
CACHE_FORMAT = 1


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a trained model (and hence its cache key)."""

    data: str = "toy_mixture"
    net: str = "mlp"
    objective: str = "eps"
    schedule: str = "linear"
    T: int = 1000
    hidden: int = 128
    depth: int = 3
    emb_dim: int = 32
    steps: int = 3000
    batch_size: int = 512
    lr: float = 2e-3
    ema: float = 0.995
    seed: int = 0
    extra: dict = field(default_factory=dict)  # objective-specific settings (part 2)

    def __post_init__(self) -> None:
        for name in ("T", "hidden", "depth", "emb_dim", "steps", "batch_size"):
            check_int(getattr(self, name), name, minimum=1)
        check_int(self.seed, "seed")
        check_real(self.lr, "lr", low=0, low_open=True)
        check_real(self.ema, "ema", low=0, high=1, high_open=True)
        for name, reg in (("data", DATASETS), ("net", NETWORKS), ("objective", OBJECTIVES)):
            if getattr(self, name) not in reg:
                raise ValueError(
                    f"{name} must be one of {sorted(reg)}, got {getattr(self, name)!r}"
                )
        if not isinstance(self.extra, dict):
            raise TypeError(f"extra must be a dict, got {type(self.extra).__name__}")

    def as_dict(self) -> dict:
        """The config as plain JSON-able data."""
        return dataclasses.asdict(self)


@dataclass
class TrainResult:
    """``model`` (EMA denoiser, eval mode), per-step ``losses``, and where it came from."""

    model: nn.Module
    losses: torch.Tensor
    from_cache: bool
    interrupted: bool
    path: Path | None


# --- registries -----------------------------------------------------------------------
#: data name -> batch sampler (n, generator, state) -> x0 on the CPU (state caches data sets)
DATASETS: dict[str, Callable[[int, torch.Generator, dict], torch.Tensor]] = {}
#: net name -> constructor from a config
NETWORKS: dict[str, Callable[[TrainConfig], nn.Module]] = {}
#: objective name -> loss(model, x0, generator, config)
OBJECTIVES: dict[
    str, Callable[[nn.Module, torch.Tensor, torch.Generator, TrainConfig], torch.Tensor]
] = {}


def _toy_batch(name: str):
    def draw(n: int, gen: torch.Generator, state: dict) -> torch.Tensor:
        return sample_toy(name, n, generator=gen)

    return draw


def _digits_batch(n: int, gen: torch.Generator, state: dict) -> torch.Tensor:
    if "digits" not in state:
        state["digits"] = digits_dataset()
    data = state["digits"]
    return data[torch.randint(0, data.shape[0], (n,), generator=gen)]


for _name in TOY_DATASETS:
    DATASETS[_name] = _toy_batch(_name)
DATASETS["digits"] = _digits_batch

NETWORKS["mlp"] = lambda cfg: EpsDenoiser(MLP(2, cfg.hidden, cfg.depth, cfg.emb_dim))
NETWORKS["conv"] = lambda cfg: EpsDenoiser(TinyConvNet(1, cfg.hidden, cfg.emb_dim))


def _eps_objective(
    model: nn.Module, x0: torch.Tensor, gen: torch.Generator, cfg: TrainConfig
) -> torch.Tensor:
    """L_simple, eq. (2.4), on the config's discrete schedule with t ~ U{1..T}."""
    schedule = make_schedule(cfg.schedule, cfg.T, device=x0.device)
    sigmas = schedule.sigmas().to(x0.dtype)
    t = torch.randint(1, cfg.T + 1, (x0.shape[0],), generator=gen).to(x0.device)
    noise = torch.randn(x0.shape, generator=gen, dtype=x0.dtype).to(x0.device)
    # eps_theta(x_t, t) = F(x_t, c(sigma_t)): DDPM's model, conditioned on the noise level
    return eps_loss(lambda xt, tt: model.eps_vp(xt, sigmas[tt]), x0, schedule, t=t, noise=noise)


OBJECTIVES["eps"] = _eps_objective


# --- model construction and cache ------------------------------------------------------
def build_model(config: TrainConfig, device: str | torch.device | None = None) -> nn.Module:
    """The untrained network of ``config``, initialised from ``config.seed`` (global RNG
    untouched)."""
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = NETWORKS[config.net](config)
    return model.to(device)


def cache_dir() -> Path:
    """``$COURSE_CACHE_DIR`` if set, else ``.course_cache/`` in the repository root."""
    env = os.environ.get(CACHE_ENV_VAR)
    return Path(env) if env else Path(__file__).resolve().parents[2] / ".course_cache"


def cache_key(config: TrainConfig | dict) -> str:
    """SHA-256 (first 16 hex digits) of the config's canonical JSON and the cache format
    (a :class:`TrainConfig` or any JSON-able dict)."""
    data = config.as_dict() if isinstance(config, TrainConfig) else config
    text = json.dumps({"format": CACHE_FORMAT, "config": data}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def module_cache_paths(config: dict, prefix: str, folder: Path | None = None) -> tuple[Path, Path]:
    """(weights, sidecar) paths ``<folder>/<prefix>-<key>.pt|.json`` of a config dict."""
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict, got {type(config).__name__}")
    if not isinstance(prefix, str) or not prefix.isidentifier():
        raise ValueError(f"prefix must be a plain name such as 'flows', got {prefix!r}")
    folder = Path(folder) if folder is not None else cache_dir()
    key = cache_key(config)
    return folder / f"{prefix}-{key}.pt", folder / f"{prefix}-{key}.json"


def load_module(
    build: Callable[[], nn.Module],
    config: dict,
    prefix: str,
    *,
    seed: int = 0,
    device: str | torch.device | None = None,
    folder: Path | None = None,
) -> tuple[nn.Module, torch.Tensor] | None:
    """(model, losses) from the cache if a valid entry for ``config`` exists, else ``None``
    (with a warning saying why when an entry exists but is corrupt or stale). ``build()`` makes
    the untrained module (under ``seed``) whose state dict must fit the stored one exactly."""
    pt, meta_path = module_cache_paths(config, prefix, folder)
    if not pt.exists() and not meta_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text())
        if meta.get("config") != json.loads(json.dumps(config)):
            raise ValueError("the stored config differs")
        if meta.get("sha256") != _sha256(pt):
            raise ValueError("the checksum of the weights file does not match")
        payload = torch.load(pt, map_location="cpu", weights_only=True)
        model = _build_seeded(build, seed)
        model.load_state_dict(payload["state_dict"], strict=True)
        losses = payload["losses"]
    except Exception as err:  # any failure means: do not trust this entry
        warnings.warn(
            f"cache entry {pt.name} is corrupt or stale ({err}); rebuilding it", stacklevel=3
        )
        return None
    model.eval().requires_grad_(False)
    return model.to(device), losses


def load_cached(
    config: TrainConfig, *, device: str | torch.device | None = None, folder: Path | None = None
) -> tuple[nn.Module, torch.Tensor] | None:
    """(model, losses) from the cache if a valid entry exists, else ``None`` (with a warning
    saying why when an entry exists but is corrupt or stale)."""
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    build = lambda: NETWORKS[config.net](config)  # noqa: E731
    return load_module(
        build, config.as_dict(), "diffusion", seed=config.seed, device=device, folder=folder
    )


def _build_seeded(build: Callable[[], nn.Module], seed: int) -> nn.Module:
    """``build()`` with the global RNG seeded by ``seed`` inside, and restored after."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build()
    if not isinstance(model, nn.Module):
        raise TypeError(f"build() must return an nn.Module, got {type(model).__name__}")
    return model


def _save_module(
    config: dict, prefix: str, model: nn.Module, losses: torch.Tensor, folder: Path | None
) -> Path:
    pt, meta_path = module_cache_paths(config, prefix, folder)
    pt.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    tmp = pt.with_suffix(".pt.tmp")
    torch.save({"state_dict": state, "losses": losses.cpu()}, tmp)
    os.replace(tmp, pt)  # atomic: a crash never leaves a half-written file under the real name
    meta = {"config": config, "sha256": _sha256(pt), "format": CACHE_FORMAT}
    tmp_meta = meta_path.with_suffix(".json.tmp")
    tmp_meta.write_text(json.dumps(meta, indent=1, sort_keys=True))
    os.replace(tmp_meta, meta_path)
    return pt


# region: train-module
def train_module(
    build: Callable[[], nn.Module],
    loss_fn: Callable[[nn.Module, torch.Generator], torch.Tensor],
    config: dict,
    *,
    prefix: str,
    steps: int,
    lr: float,
    seed: int = 0,
    ema: float | None = None,
    max_grad_norm: float | None = None,
    device: str | torch.device | None = None,
    use_cache: bool = True,
    cache_folder: Path | None = None,
    progress: bool = True,
    desc: str = "training",
) -> TrainResult:
    """Train (or load from the cache) the module ``build()`` by minimising ``loss_fn``.

    ``build()`` runs with the global RNG seeded by ``seed`` (restored afterwards) and must give
    the same module every call; ``loss_fn(model, generator)`` draws its own batch from the CPU
    generator (seeded ``seed + 1``, so CPU and GPU runs see the same data) and returns a scalar.
    Adam with a cosine-decayed learning rate for ``steps`` steps, optional gradient-norm
    clipping, and with ``ema`` in [0, 1) an exponential moving average of the weights is
    returned instead of the last iterate. ``config`` (a JSON-able dict that must determine the
    result) keys the cache entry ``<prefix>-<key>.pt``; Ctrl-C returns the model so far, uncached.
    """
    if not callable(build) or not callable(loss_fn):
        raise TypeError("build and loss_fn must be callable")
    steps, seed = check_int(steps, "steps", minimum=1), check_int(seed, "seed")
    lr = check_real(lr, "lr", low=0, low_open=True)
    if ema is not None:
        ema = check_real(ema, "ema", low=0, high=1, high_open=True)
    if max_grad_norm is not None:
        max_grad_norm = check_real(max_grad_norm, "max_grad_norm", low=0, low_open=True)
    dev = torch.device(device) if device is not None else torch.device("cpu")
    pt = module_cache_paths(config, prefix, cache_folder)[0]
    if use_cache:
        hit = load_module(build, config, prefix, seed=seed, device=dev, folder=cache_folder)
        if hit is not None:
            return TrainResult(hit[0], hit[1], True, False, pt)
    model = _build_seeded(build, seed).to(dev).train()
    averaged = copy.deepcopy(model).requires_grad_(False) if ema is not None else model
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    gen = torch.Generator().manual_seed(seed + 1)
    losses: list[float] = []
    interrupted = False
    bar = tqdm(range(steps), desc=desc, disable=not progress)
    try:
        for _ in bar:
            loss = loss_fn(model, gen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if max_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            opt.step()
            sched.step()
            if ema is not None:
                with torch.no_grad():  # EMA: theta_ema <- d theta_ema + (1 - d) theta
                    for pe, p in zip(averaged.parameters(), model.parameters(), strict=False):
                        pe.lerp_(p, 1 - ema)
                    for be, b in zip(averaged.buffers(), model.buffers(), strict=False):
                        be.copy_(b)
            losses.append(float(loss.detach()))
            if len(losses) % 50 == 0:
                bar.set_postfix(loss=f"{sum(losses[-50:]) / 50:.4f}")
    except KeyboardInterrupt:
        interrupted = True
        warnings.warn(
            f"training interrupted after {len(losses)} steps; returning that model", stacklevel=2
        )
    finally:
        bar.close()
    averaged.eval()
    loss_t = torch.tensor(losses)
    path = None
    if use_cache and not interrupted:
        path = _save_module(config, prefix, averaged, loss_t, cache_folder)
    return TrainResult(averaged, loss_t, False, interrupted, path)


# endregion: train-module


def train_denoiser(
    config: TrainConfig,
    *,
    device: str | torch.device | None = None,
    use_cache: bool = True,
    cache_folder: Path | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train (or load from the cache) the denoiser described by ``config``.

    Adam with a cosine-decayed learning rate; batches and noise come from a CPU generator
    seeded with ``config.seed + 1`` (so CPU and GPU runs see the same data). Returns the EMA
    weights wrapped as D(x; sigma) in eval mode.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    dev = torch.device(device) if device is not None else torch.device("cpu")
    state: dict = {}

    def loss_fn(model: nn.Module, gen: torch.Generator) -> torch.Tensor:
        x0 = DATASETS[config.data](config.batch_size, gen, state).to(dev)
        return OBJECTIVES[config.objective](model, x0, gen, config)

    return train_module(
        lambda: NETWORKS[config.net](config),
        loss_fn,
        config.as_dict(),
        prefix="diffusion",
        steps=config.steps,
        lr=config.lr,
        seed=config.seed,
        ema=config.ema,
        device=dev,
        use_cache=use_cache,
        cache_folder=cache_folder,
        progress=progress,
        desc=f"training {config.net} on {config.data}",
    )
