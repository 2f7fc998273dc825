r"""Training flows through Chapter 05's cached loop, and held-out NLL (Chapter 06, section 8).

**Maximum likelihood** (8.1): a discrete flow minimises the NLL E_data[-log p_theta(x)], with
log p_theta from the change of variables (1.2); in expectation this is H(p) + KL(p || p_theta),
so the held-out NLL can never beat the data's entropy H(p) (6.1) and the gap is the KL in nats.

**Flow matching** (Chapter 05, eq. 10.3): family ``"cnf"`` trains a velocity v_theta(x, t)
without simulation; the model is a CNF and its NLL comes from the augmented ODE (7.4).   (8.2)

:func:`train_flow` hands a :class:`FlowConfig` to :func:`course_lib.diffusion.training.train_module`
(progress bar, Ctrl-C keeps the model, checksummed cache ``flows-<key>.pt`` keyed by the config).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..diffusion import GaussianMixture, VelocityNet, cfm_loss
from ..diffusion.training import TrainResult, train_module
from ..validation import check_int, check_real, check_tensor
from .cnf import cnf_log_likelihood
from .data import DIGIT_LEVELS, TOYS, dequantize, digits_levels, toy
from .flow import FAMILIES, Flow, make_flow

__all__ = ["MODEL_FAMILIES", "FlowConfig", "heldout_nll", "model_log_prob", "train_flow"]

#: Everything :func:`train_flow` trains: the discrete families and a flow-matching CNF.
MODEL_FAMILIES = (*FAMILIES, "cnf")
DIGITS_RANGE = (-2.0, 2.0)  # dequantised digits live in [-2, 2)


@dataclass(frozen=True)
class FlowConfig:
    """Everything that determines a trained flow (and hence its cache key)."""

    family: str = "realnvp"
    data: str = "toy_mixture"
    n_layers: int = 8
    hidden: int = 64
    depth: int = 2
    steps: int = 2000
    batch_size: int = 256
    lr: float = 2e-3
    ema: float = 0.99
    clamp: float = 2.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.family not in MODEL_FAMILIES:
            raise ValueError(f"family must be one of {MODEL_FAMILIES}, got {self.family!r}")
        if self.data not in (*TOYS, "digits"):
            raise ValueError(f"data must be one of {(*sorted(TOYS), 'digits')}, got {self.data!r}")
        for name in ("n_layers", "hidden", "depth", "steps", "batch_size"):
            check_int(getattr(self, name), name, minimum=1)
        check_int(self.seed, "seed")
        check_real(self.lr, "lr", low=0, low_open=True)
        check_real(self.ema, "ema", low=0, high=1, high_open=True)
        check_real(self.clamp, "clamp", low=0, low_open=True)

    @property
    def dim(self) -> int:
        """Data dimension: 2 for the toys, 64 for the 8x8 digits."""
        return 64 if self.data == "digits" else 2

    def as_dict(self) -> dict:
        """The config as plain JSON-able data (with a tag so flows never share diffusion keys)."""
        return {"kind": "flows", **dataclasses.asdict(self)}


def _batch_sampler(config: FlowConfig):
    """(n, generator) -> a float32 batch of the config's data (dequantised for digits, 6.2)."""
    if config.data == "digits":
        levels = digits_levels()

        def draw(n: int, gen: torch.Generator) -> torch.Tensor:
            idx = torch.randint(0, levels.shape[0], (n,), generator=gen)
            y, _ = dequantize(
                levels[idx], DIGIT_LEVELS, low=DIGITS_RANGE[0], high=DIGITS_RANGE[1], generator=gen
            )
            return y.float()

        return draw
    mix = toy(config.data)
    return lambda n, gen: mix.sample(n, generator=gen)


def _build(config: FlowConfig) -> nn.Module:
    if config.family == "cnf":
        return VelocityNet.mlp(config.dim, config.hidden, config.depth + 1)
    flow = make_flow(
        config.family,
        config.dim,
        config.n_layers,
        hidden=config.hidden,
        depth=config.depth,
        clamp=config.clamp,
        seed=config.seed,
    )
    if config.family == "glow":  # actnorm's data-dependent initialisation (4.1), on a fixed batch
        flow.initialize(
            _batch_sampler(config)(1024, torch.Generator().manual_seed(config.seed + 7))
        )
    return flow


def train_flow(
    config: FlowConfig,
    *,
    device: str | torch.device | None = None,
    use_cache: bool = True,
    cache_folder: Path | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train (or load from the cache) the model of ``config``: maximum likelihood (8.1) for the
    discrete families, flow matching (8.2) for ``"cnf"``. Returns the EMA model in eval mode."""
    if not isinstance(config, FlowConfig):
        raise TypeError(f"config must be a FlowConfig, got {type(config).__name__}")
    dev = torch.device(device) if device is not None else torch.device("cpu")
    draw = _batch_sampler(config)

    # region: mle-loss
    def loss_fn(model: nn.Module, gen: torch.Generator) -> torch.Tensor:
        x = draw(config.batch_size, gen).to(dev)
        if config.family == "cnf":
            return cfm_loss(model, x, generator=gen)  # Chapter 05, eq. (10.3)
        return -model.log_prob(x).mean()  # eq. (8.1): the NLL in nats per sample

    # endregion: mle-loss

    return train_module(
        lambda: _build(config),
        loss_fn,
        config.as_dict(),
        prefix="flows",
        steps=config.steps,
        lr=config.lr,
        seed=config.seed,
        ema=config.ema,
        max_grad_norm=10.0,
        device=dev,
        use_cache=use_cache,
        cache_folder=cache_folder,
        progress=progress,
        desc=f"training {config.family} on {config.data}",
    )


def model_log_prob(model: nn.Module, x: torch.Tensor, **ode_kwargs) -> torch.Tensor:
    """log p(x) (B,) of a :class:`Flow` (1.2), or of a velocity network as a CNF (7.4) from t = 0
    (``ode_kwargs`` go to :func:`cnf_log_likelihood`)."""
    x = check_tensor(x, "x", min_dim=2)
    if isinstance(model, Flow):
        with torch.no_grad():
            return model.log_prob(x)
    if isinstance(model, nn.Module):
        return cnf_log_likelihood(model, x, **ode_kwargs)
    raise TypeError(f"model must be a Flow or a velocity nn.Module, got {type(model).__name__}")


def heldout_nll(
    model: nn.Module, mix: GaussianMixture, n: int = 2000, *, seed: int = 12345, **ode_kwargs
) -> tuple[float, float]:
    """Mean NLL (nats) of ``n`` fresh held-out points from ``mix`` (seeded by ``seed``, a stream
    training never uses) and its standard error; compare with H(p), eq. (8.1)."""
    if not isinstance(mix, GaussianMixture):
        raise TypeError(f"mix must be a GaussianMixture, got {type(mix).__name__}")
    n = check_int(n, "n", minimum=2)
    p = next(model.parameters())
    x = mix.sample(n, generator=torch.Generator().manual_seed(seed), dtype=p.dtype).to(p.device)
    nll = -model_log_prob(model, x, **ode_kwargs).double()
    if not torch.all(torch.isfinite(nll)):
        raise ValueError("the model gave a non-finite log-density on held-out data")
    return float(nll.mean()), float(nll.std() / math.sqrt(n))
