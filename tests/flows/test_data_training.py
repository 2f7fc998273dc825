"""Toys, entropy, dequantisation, cached training and held-out NLL."""

from __future__ import annotations

import math

import pytest
import torch

from course_lib.checks import assert_within_se
from course_lib.diffusion import gaussian
from course_lib.flows import (
    FlowConfig,
    dequantize,
    heldout_nll,
    make_flow,
    mixture_entropy,
    mixture_entropy_mc,
    toy,
    train_flow,
)

SMALL = FlowConfig(family="realnvp", n_layers=4, hidden=32, steps=150, batch_size=128, lr=3e-3)


def test_gaussian_entropy_matches_the_closed_form():
    cov = torch.tensor([[0.5, 0.2], [0.2, 0.3]], dtype=torch.float64)
    exact = 0.5 * math.log(torch.linalg.det(2 * math.pi * math.e * cov).item())
    assert abs(mixture_entropy(gaussian(torch.zeros(2), cov)) - exact) < 1e-6


@pytest.mark.parametrize("name", ["toy_mixture", "ring", "grid"])
def test_grid_entropy_agrees_with_monte_carlo(name):
    mc, se = mixture_entropy_mc(toy(name), 100_000, generator=torch.Generator().manual_seed(0))
    assert_within_se(mc, mixture_entropy(toy(name)), se, label=f"H({name})")


def test_dequantisation_bound_holds_and_is_tight_for_a_flat_density():
    # 1-D levels 0..4 on [-2, 2): discrete law of a N(0, 1) density integrated over each bin
    v = torch.arange(5, dtype=torch.float64)[:, None].repeat(4000, 1)
    y, log_vol = dequantize(v, 5, low=-2.0, high=2.0, generator=torch.Generator().manual_seed(0))
    assert torch.all((y >= -2) & (y < 2)) and math.isclose(log_vol, math.log(4 / 5))
    normal = torch.distributions.Normal(0.0, 1.0)
    edges = torch.linspace(-2, 2, 6, dtype=torch.float64)
    mass = normal.cdf(edges[1:]) - normal.cdf(edges[:-1])
    for k in range(5):
        bound = normal.log_prob(y[v[:, 0] == k]).mean() + log_vol  # E_u log q(y) + log|bin|
        assert bound <= math.log(mass[k]) + 1e-3  # Jensen: the bound is below log P(v)
        assert bound > math.log(mass[k]) - 0.2  # and close for a smooth density
    # flat density on [-2, 2): q = 1/4 everywhere, the bound is exact: log(1/5)
    assert math.isclose(math.log(1 / 4) + log_vol, math.log(1 / 5))


def test_identity_flow_heldout_nll_is_the_expected_gaussian_nll():
    mix = toy("toy_mixture")
    flow = make_flow("realnvp", 2, 4).double()
    nll, se = heldout_nll(flow, mix, 20_000)
    # E[-log N(x; 0, I)] = (tr Cov + |mean|^2)/2 + log(2 pi)
    exact = 0.5 * float(torch.trace(mix.covariance()) + mix.mean().pow(2).sum()) + math.log(
        2 * math.pi
    )
    assert_within_se(nll, exact, se, label="identity-flow NLL")


def test_training_lowers_the_nll_is_deterministic_and_cached(tmp_path):
    res = train_flow(SMALL, cache_folder=tmp_path, progress=False)
    again = train_flow(SMALL, use_cache=False, progress=False)
    assert not res.from_cache and res.path.exists()
    assert torch.equal(res.losses, again.losses)
    assert res.losses[-20:].mean() < res.losses[:20].mean() - 0.3
    hit = train_flow(SMALL, cache_folder=tmp_path, progress=False)
    assert hit.from_cache
    x = torch.randn(10, 2)
    torch.testing.assert_close(hit.model.log_prob(x), res.model.log_prob(x))
    res.path.write_bytes(b"corrupt")
    with pytest.warns(UserWarning, match="corrupt or stale"):
        assert not train_flow(SMALL, cache_folder=tmp_path, progress=False).from_cache


@pytest.mark.parametrize("family", ["nice", "glow", "cnf"])
def test_every_family_trains_and_gives_a_finite_heldout_nll(family, tmp_path):
    cfg = FlowConfig(family=family, data="ring", n_layers=3, hidden=32, steps=60, batch_size=128)
    model = train_flow(cfg, cache_folder=tmp_path, progress=False).model
    nll, se = (
        heldout_nll(model, toy("ring"), 200, rtol=1e-4, atol=1e-6)
        if family == "cnf"
        else heldout_nll(model, toy("ring"), 200)
    )
    assert math.isfinite(nll) and se > 0


def test_digits_config_has_dimension_64_and_dequantised_batches(tmp_path):
    cfg = FlowConfig(family="glow", data="digits", n_layers=2, hidden=32, steps=3, batch_size=16)
    assert cfg.dim == 64
    res = train_flow(cfg, cache_folder=tmp_path, progress=False)
    assert res.model.sample(4, generator=torch.Generator().manual_seed(0)).shape == (4, 64)


def test_bad_configs_and_inputs_raise():
    with pytest.raises(ValueError, match="family"):
        FlowConfig(family="maf")
    with pytest.raises(ValueError, match="data"):
        FlowConfig(data="moons")
    with pytest.raises(ValueError, match="steps"):
        FlowConfig(steps=0)
    with pytest.raises(TypeError, match="FlowConfig"):
        train_flow({"family": "nice"})
    with pytest.raises(ValueError, match="integers in 0..4"):
        dequantize(torch.tensor([[5.0]]), 5)
    with pytest.raises(ValueError, match="high > low"):
        dequantize(torch.tensor([[1.0]]), 5, low=1.0, high=0.0)
    with pytest.raises(ValueError, match="unknown toy"):
        toy("moons")
    with pytest.raises(ValueError, match="2-D"):
        mixture_entropy(gaussian(torch.zeros(3), torch.eye(3)))
