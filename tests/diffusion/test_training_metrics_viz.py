"""Networks, cached training, metrics, figures/widgets and exercises."""

import json
import math
import warnings

import pytest
import torch

from course_lib.checks import check
from course_lib.diffusion import (
    MLP,
    EpsDenoiser,
    TinyConvNet,
    TrainConfig,
    cache_key,
    data_floor,
    digits_dataset,
    make_schedule,
    mmd,
    sliced_wasserstein,
    toy_mixture,
    train_denoiser,
    viz,
)
from course_lib.diffusion.exercises import EXERCISES

SMALL = TrainConfig(steps=60, batch_size=64, hidden=32, depth=2)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_eps_denoiser_is_ddpm_eps_model():
    """D(x; sigma) = x - sigma F(x / sqrt(1 + sigma^2)): with F = the exact eps, D is exact."""
    mix = toy_mixture()

    class ExactEps(torch.nn.Module):
        def forward(self, xt, c):
            sigma = (4 * c).exp()
            a = 1 / (1 + sigma**2).sqrt()
            return mix.eps(xt, a, sigma * a)

    D = EpsDenoiser(ExactEps())
    x = torch.randn(30, 2, generator=gen(), dtype=torch.float64)
    sigma = torch.full((30,), 0.8, dtype=torch.float64)
    assert torch.allclose(D(x, sigma), mix.denoiser(x, sigma), atol=1e-10)


def test_networks_shapes_and_errors():
    assert MLP(2, 16, 2)(torch.zeros(5, 2), torch.zeros(5)).shape == (5, 2)
    assert TinyConvNet(1, 8)(torch.zeros(3, 1, 8, 8), torch.zeros(3)).shape == (3, 1, 8, 8)
    with pytest.raises(ValueError, match="x must have shape"):
        MLP(2)(torch.zeros(5, 3), torch.zeros(5))
    with pytest.raises(ValueError, match="sigma must be positive"):
        EpsDenoiser(MLP(2))(torch.zeros(2, 2), torch.zeros(2))


def test_digits_are_bundled_and_scaled():
    d = digits_dataset()
    assert d.shape == (1797, 1, 8, 8) and float(d.min()) == -1.0 and float(d.max()) == 1.0


def test_training_reduces_the_loss_and_is_deterministic(tmp_path):
    a = train_denoiser(SMALL, cache_folder=tmp_path, progress=False)
    b = train_denoiser(SMALL, use_cache=False, progress=False)
    assert not a.from_cache and a.path is not None and a.path.exists()
    assert torch.equal(a.losses, b.losses)  # same seed, same numbers
    assert float(a.losses[-20:].mean()) < float(a.losses[:20].mean())
    state = torch.get_rng_state()
    train_denoiser(SMALL, use_cache=False, progress=False)
    assert torch.equal(state, torch.get_rng_state())  # global RNG untouched


def test_cache_hit_and_corruption_rebuild(tmp_path):
    first = train_denoiser(SMALL, cache_folder=tmp_path, progress=False)
    hit = train_denoiser(SMALL, cache_folder=tmp_path, progress=False)
    assert hit.from_cache
    x, s = torch.randn(4, 2), torch.full((4,), 0.5)
    assert torch.equal(first.model(x, s), hit.model(x, s))
    # corrupt the weights: the checksum no longer matches -> warning and retrain
    first.path.write_bytes(first.path.read_bytes()[:-10] + b"0123456789")
    with pytest.warns(UserWarning, match="corrupt or stale"):
        rebuilt = train_denoiser(SMALL, cache_folder=tmp_path, progress=False)
    assert not rebuilt.from_cache
    assert train_denoiser(SMALL, cache_folder=tmp_path, progress=False).from_cache
    # a stale sidecar (config edited) is not trusted either
    meta = first.path.with_suffix(".json")
    data = json.loads(meta.read_text())
    data["config"]["steps"] = 1
    meta.write_text(json.dumps(data))
    with pytest.warns(UserWarning, match="stored config differs"):
        assert not train_denoiser(SMALL, cache_folder=tmp_path, progress=False).from_cache


def test_cache_key_depends_on_the_config():
    assert cache_key(SMALL) == cache_key(TrainConfig(steps=60, batch_size=64, hidden=32, depth=2))
    assert cache_key(SMALL) != cache_key(TrainConfig(steps=61, batch_size=64, hidden=32, depth=2))


def test_interrupt_keeps_the_model_and_skips_the_cache(tmp_path, monkeypatch):
    from course_lib.diffusion import training

    calls = {"n": 0}
    real = training.OBJECTIVES["eps"]

    def interrupting(model, x0, g, cfg):
        calls["n"] += 1
        if calls["n"] == 10:
            raise KeyboardInterrupt
        return real(model, x0, g, cfg)

    monkeypatch.setitem(training.OBJECTIVES, "eps", interrupting)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = train_denoiser(SMALL, cache_folder=tmp_path, progress=False)
    assert res.interrupted and res.losses.numel() == 9 and res.path is None
    assert not list(tmp_path.iterdir())


def test_config_validation():
    with pytest.raises(ValueError, match="data must be one of"):
        TrainConfig(data="cifar")
    with pytest.raises(TypeError, match="steps must be an int"):
        TrainConfig(steps=1.5)
    with pytest.raises(TypeError, match="config must be a TrainConfig"):
        train_denoiser({"steps": 3})


def test_mmd_and_swd_detect_a_shift_and_respect_the_floor():
    mix = toy_mixture()
    n = 1000
    floor, sd = data_floor(lambda k, g: mix.sample(k, generator=g), n, generator=gen(1))
    assert 0 < sd < floor
    x, y = mix.sample(n, generator=gen(2)), mix.sample(n, generator=gen(3))
    assert mmd(x, y) < floor + 4 * sd
    assert mmd(x + 0.3, y) > floor + 4 * sd
    assert mmd(x, x) == 0.0
    swd_floor, _ = data_floor(lambda k, g: mix.sample(k, generator=g), n, "swd", generator=gen(4))
    # a shift by (0.3, 0.3) moves every projection by 0.3 (u1 + u2): SW2 >= about 0.3 * E|u1 + u2|
    assert sliced_wasserstein(x + 0.3, y, generator=gen(5)) > 0.3 * 0.8
    assert sliced_wasserstein(x, y, generator=gen(5)) < 3 * swd_floor
    with pytest.raises(ValueError, match="same dimension"):
        mmd(torch.zeros(5, 2), torch.zeros(5, 3))
    with pytest.raises(ValueError, match="equal sample sizes"):
        sliced_wasserstein(torch.zeros(5, 2), torch.zeros(6, 2))
    with pytest.raises(ValueError, match="NaN"):
        mmd(torch.full((3, 2), math.nan), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="at least one sample each, got 0 and 5"):
        mmd(torch.zeros(0, 2), torch.zeros(5, 2))
    with pytest.raises(ValueError, match="bandwidths must be positive finite numbers"):
        mmd(torch.zeros(3, 2), torch.zeros(3, 2), bandwidths=(1.0, math.inf))


def test_figures_and_widgets():
    from matplotlib.figure import Figure

    assert isinstance(viz.schedules_figure(100), Figure)
    assert isinstance(viz.forward_diffusion_figure(t=50, T=100, n=200), Figure)
    assert isinstance(viz.sampler_explorer_figure("pf_heun", 5, n=100), Figure)
    w = viz.forward_diffusion_widget(t=10, T=100)
    image = w.children[1]
    before = image.value
    w.children[0].children[0].value = 90  # move the t slider: the picture must change
    assert image.value != before
    s = viz.sampler_explorer_widget(n=100)
    before = s.children[1].value
    s.children[0].children[1].value = 3
    assert s.children[1].value != before
    with pytest.raises(ValueError, match="sampler must be one of"):
        viz.sampler_explorer_figure("euler")


def test_exercises_reject_wrong_answers_and_accept_the_library():
    ids = sorted(e.id for e in EXERCISES.exercises)
    assert ids == sorted(f"05.{i}" for i in range(1, 16))
    assert not check("05.1", None)
    ab_T = float(make_schedule("linear", 1000).alpha_bars[-1])
    assert check("05.1", ab_T) and not check("05.1", 2 * ab_T)
    assert check("05.2", lambda t, p: (1 - p) / (1 - t) * (1 - t / p))
    assert not check("05.2", lambda t, p: 1 - t / p)  # beta instead of beta_tilde
    assert check("05.5", lambda x, m, v: -(x - m) / v)
    assert not check("05.5", lambda x, m, v: (x - m) / v)


def test_conv_net_trains_on_digits(tmp_path):
    cfg = TrainConfig(data="digits", net="conv", hidden=8, steps=20, batch_size=32)
    res = train_denoiser(cfg, cache_folder=tmp_path, progress=False)
    x = torch.randn(4, 1, 8, 8)
    assert res.model(x, torch.full((4,), 0.5)).shape == (4, 1, 8, 8)
    assert torch.all(torch.isfinite(res.losses))
    assert train_denoiser(cfg, cache_folder=tmp_path, progress=False).from_cache


@pytest.mark.gpu
def test_training_and_sampling_on_cuda(tmp_path):
    from course_lib.diffusion import ddim_sample

    res = train_denoiser(SMALL, device="cuda", cache_folder=tmp_path, progress=False)
    sch = make_schedule()
    x = ddim_sample(res.model, torch.randn(16, 2, device="cuda"), sch.timesteps(5), schedule=sch).x
    assert x.device.type == "cuda" and torch.all(torch.isfinite(x))
    cpu = train_denoiser(SMALL, use_cache=False, progress=False)
    assert torch.allclose(cpu.losses[:5], res.losses[:5], rtol=1e-3, atol=1e-4)
    fig = viz.sampler_explorer_figure("sde_em", 5, denoiser=res.model, n=50)
    assert fig is not None
