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
    "train_denoiser",
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


def cache_key(config: TrainConfig) -> str:
    """SHA-256 (first 16 hex digits) of the config's canonical JSON and the cache format."""
    text = json.dumps({"format": CACHE_FORMAT, "config": config.as_dict()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _paths(config: TrainConfig, folder: Path | None) -> tuple[Path, Path]:
    folder = Path(folder) if folder is not None else cache_dir()
    key = cache_key(config)
    return folder / f"diffusion-{key}.pt", folder / f"diffusion-{key}.json"


def load_cached(
    config: TrainConfig, *, device: str | torch.device | None = None, folder: Path | None = None
) -> tuple[nn.Module, torch.Tensor] | None:
    """(model, losses) from the cache if a valid entry exists, else ``None`` (with a warning
    saying why when an entry exists but is corrupt or stale)."""
    pt, meta_path = _paths(config, folder)
    if not pt.exists() and not meta_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text())
        if meta.get("config") != json.loads(json.dumps(config.as_dict())):
            raise ValueError("the stored config differs")
        if meta.get("sha256") != _sha256(pt):
            raise ValueError("the checksum of the weights file does not match")
        payload = torch.load(pt, map_location="cpu", weights_only=True)
        model = build_model(config)
        model.load_state_dict(payload["state_dict"], strict=True)
        losses = payload["losses"]
    except Exception as err:  # any failure means: do not trust this entry
        warnings.warn(
            f"cache entry {pt.name} is corrupt or stale ({err}); rebuilding it", stacklevel=2
        )
        return None
    model.eval().requires_grad_(False)
    return model.to(device), losses


def _save(config: TrainConfig, model: nn.Module, losses: torch.Tensor, folder: Path | None) -> Path:
    pt, meta_path = _paths(config, folder)
    pt.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    tmp = pt.with_suffix(".pt.tmp")
    torch.save({"state_dict": state, "losses": losses.cpu()}, tmp)
    os.replace(tmp, pt)  # atomic: a crash never leaves a half-written file under the real name
    meta = {"config": config.as_dict(), "sha256": _sha256(pt), "format": CACHE_FORMAT}
    tmp_meta = meta_path.with_suffix(".json.tmp")
    tmp_meta.write_text(json.dumps(meta, indent=1, sort_keys=True))
    os.replace(tmp_meta, meta_path)
    return pt


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
    if use_cache:
        hit = load_cached(config, device=dev, folder=cache_folder)
        if hit is not None:
            return TrainResult(hit[0], hit[1], True, False, _paths(config, cache_folder)[0])
    model = build_model(config, dev).train()
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.steps)
    gen = torch.Generator().manual_seed(config.seed + 1)
    state: dict = {}
    losses: list[float] = []
    interrupted = False
    bar = tqdm(
        range(config.steps), desc=f"training {config.net} on {config.data}", disable=not progress
    )
    try:
        for _ in bar:
            x0 = DATASETS[config.data](config.batch_size, gen, state).to(dev)
            loss = OBJECTIVES[config.objective](model, x0, gen, config)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            with torch.no_grad():  # EMA: theta_ema <- d theta_ema + (1 - d) theta
                for pe, p in zip(ema.parameters(), model.parameters(), strict=False):
                    pe.lerp_(p, 1 - config.ema)
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
    ema.eval()
    loss_t = torch.tensor(losses)
    path = None
    if use_cache and not interrupted:
        path = _save(config, ema, loss_t, cache_folder)
    return TrainResult(ema, loss_t, False, interrupted, path)
