"""Layers and flows: inverses, log-dets against autograd's full Jacobian, safety, bad input."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.flows import (
    ActNorm,
    AdditiveCoupling,
    AffineCoupling,
    Flow,
    InvertibleConv1x1,
    Permutation,
    Scaling,
    jacobian_logdet,
    make_flow,
    soft_clamp,
    standard_normal_log_prob,
)


def _perturb(module: torch.nn.Module, seed: int, scale: float = 0.5) -> torch.nn.Module:
    """Move every parameter off its (identity) initialisation, reproducibly."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return module


def _layer(kind: str, dim: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    if kind == "additive":
        layer = AdditiveCoupling(dim, seed % 2, hidden=8, depth=2)
    elif kind == "affine":
        layer = AffineCoupling(dim, seed % 2, hidden=8, depth=2, clamp=1.5)
    elif kind == "scaling":
        layer = Scaling(dim)
    elif kind == "actnorm":
        layer = ActNorm(dim)
        layer.initialized.fill_(True)
    elif kind == "invconv":
        layer = InvertibleConv1x1(dim)
    else:
        layer = Permutation(dim, "random", seed=seed)
    return _perturb(layer.double(), seed)


KINDS = ["additive", "affine", "scaling", "actnorm", "invconv", "permutation"]


@settings(max_examples=12, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    dim=st.integers(2, 6),
    batch=st.integers(1, 4),
    seed=st.integers(0, 10_000),
)
def test_every_layer_logdet_matches_the_autograd_jacobian_and_inverts(kind, dim, batch, seed):
    layer = _layer(kind, dim, seed)
    x = torch.randn(
        batch, dim, generator=torch.Generator().manual_seed(seed + 1), dtype=torch.float64
    )
    z, logdet = layer(x)
    brute = jacobian_logdet(lambda u: layer(u)[0], x)
    torch.testing.assert_close(logdet, brute, rtol=1e-9, atol=1e-9)
    x_back, inv_logdet = layer.inverse(z)
    torch.testing.assert_close(x_back, x, rtol=1e-9, atol=1e-9)
    # the inverse's log-det is that of the inverse map, also by brute force
    torch.testing.assert_close(
        inv_logdet, jacobian_logdet(lambda u: layer.inverse(u)[0], z), rtol=1e-9, atol=1e-9
    )


@settings(max_examples=6, deadline=None)
@given(
    channels=st.integers(1, 4), h=st.integers(1, 3), w=st.integers(1, 3), seed=st.integers(0, 1000)
)
def test_actnorm_and_invconv_on_images_scale_the_logdet_by_the_pixel_count(channels, h, w, seed):
    for kind in ("actnorm", "invconv"):
        layer = _layer(kind, channels, seed)
        x = torch.randn(
            2, channels, h, w, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
        )
        z, logdet = layer(x)
        torch.testing.assert_close(
            logdet, jacobian_logdet(lambda u, lay=layer: lay(u)[0], x), rtol=1e-9, atol=1e-9
        )
        torch.testing.assert_close(layer.inverse(z)[0], x, rtol=1e-9, atol=1e-9)


@settings(max_examples=6, deadline=None)
@given(
    family=st.sampled_from(["nice", "realnvp", "glow"]),
    dim=st.integers(2, 5),
    seed=st.integers(0, 1000),
)
def test_whole_flows_logdet_and_inverse(family, dim, seed):
    flow = _perturb(make_flow(family, dim, 3, hidden=8, seed=seed).double(), seed, 0.3)
    for layer in flow.layers:
        if isinstance(layer, ActNorm):
            layer.initialized.fill_(True)
    x = torch.randn(3, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    z, logdet = flow(x)
    torch.testing.assert_close(
        logdet, jacobian_logdet(lambda u: flow(u)[0], x), rtol=1e-9, atol=1e-9
    )
    torch.testing.assert_close(flow.inverse(z)[0], x, rtol=1e-8, atol=1e-9)


def test_nice_logdet_is_zero_without_the_scaling_layer_and_the_scaling_sum_with_it():
    flow = _perturb(make_flow("nice", 4, 4, hidden=8).double(), 3)
    x = torch.randn(6, 4, dtype=torch.float64)
    couplings = Flow(list(flow.layers)[:-1], 4)
    assert torch.all(couplings(x)[1] == 0)
    assert torch.all(jacobian_logdet(lambda u: couplings(u)[0], x).abs() < 1e-12)
    torch.testing.assert_close(flow(x)[1], flow.layers[-1].log_scale.sum().expand(6))


def test_identity_flow_nll_is_the_gaussian_nll():
    x = torch.tensor([[1.0, 2.0], [-0.5, 0.0]], dtype=torch.float64)
    gaussian_nll = 0.5 * (x**2).sum(1) + math.log(2 * math.pi)  # by hand, d = 2
    for family in ("nice", "realnvp"):
        flow = make_flow(family, 2, 4).double()  # untrained: every coupling is the identity
        torch.testing.assert_close(-flow.log_prob(x), gaussian_nll)
    torch.testing.assert_close(-standard_normal_log_prob(x), gaussian_nll)


def test_actnorm_data_dependent_init_whitens_the_first_batch():
    x = 3.0 + 2.5 * torch.randn(
        500, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64
    )
    layer = ActNorm(3).double()
    z, logdet = layer(x)
    torch.testing.assert_close(z.mean(0), torch.zeros(3, dtype=torch.float64), atol=1e-9, rtol=0)
    torch.testing.assert_close(z.std(0), torch.ones(3, dtype=torch.float64), atol=1e-5, rtol=0)
    torch.testing.assert_close(logdet[0], -x.std(0).log().sum(), atol=1e-5, rtol=0)
    z2, _ = layer(x + 1)  # the second batch no longer re-initialises
    torch.testing.assert_close(z2, z + torch.exp(layer.log_scale))


def test_invconv_logdet_is_log_abs_det_of_the_weight():
    W = torch.tensor([[2.0, 1.0], [0.5, 3.0]], dtype=torch.float64)
    layer = InvertibleConv1x1.from_weight(W).double()
    torch.testing.assert_close(layer.weight(), W)
    _, logdet = layer(torch.randn(1, 2, 4, 4, dtype=torch.float64))
    torch.testing.assert_close(logdet[0], 16 * torch.linalg.det(W).abs().log())


def test_sampling_is_seeded_and_inverts_log_prob():
    flow = _perturb(make_flow("realnvp", 2, 4, hidden=8).double(), 1, 0.3)
    a = flow.sample(50, generator=torch.Generator().manual_seed(5))
    b = flow.sample(50, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    z, _ = flow(a)
    torch.testing.assert_close(flow.inverse(z)[0], a)
    traj = flow.trajectory(z)
    assert len(traj) == len(flow.layers) + 1
    torch.testing.assert_close(traj[-1][0], a)
    torch.testing.assert_close(traj[-1][1], -flow(a)[1])


def test_soft_clamp_keeps_large_inputs_finite_where_the_raw_scale_overflows():
    torch.manual_seed(0)
    safe = _perturb(AffineCoupling(2, 0, hidden=8, clamp=2.0), 0, 2.0)
    raw = AffineCoupling(2, 0, hidden=8, clamp=None)
    raw.load_state_dict(safe.state_dict())
    x = torch.tensor([[1e4, 1.0], [-1e4, -1.0], [3e4, 5e3]])
    z, logdet = safe(x)
    assert torch.all(torch.isfinite(z)) and torch.all(torch.isfinite(logdet))
    assert torch.all(logdet.abs() <= 2.0)
    # without the clamp exp(+-s_raw) overflows in the forward or the inverse direction
    assert not (
        torch.all(torch.isfinite(raw(x)[0])) and torch.all(torch.isfinite(raw.inverse(x)[0]))
    )
    assert torch.all(torch.isfinite(safe.inverse(x)[0]))
    assert torch.all(soft_clamp(torch.tensor([-1e30, 0.0, 1e30]), 3.0).abs() <= 3.0)
    for family in ("nice", "realnvp", "glow"):
        flow = _perturb(make_flow(family, 2, 4, hidden=8), 2, 0.5)
        for layer in flow.layers:
            if isinstance(layer, ActNorm):
                layer.initialized.fill_(True)
        lp = flow.log_prob(torch.tensor([[1e4, -1e4], [3e3, 0.0]]))
        assert torch.all(torch.isfinite(lp)), family


def test_layers_follow_the_input_dtype_and_device():
    flow = make_flow("glow", 3, 2).double()
    x = torch.randn(8, 3, dtype=torch.float64)
    z, logdet = flow(x)
    assert z.dtype == logdet.dtype == torch.float64


@pytest.mark.gpu
def test_flow_on_cuda_matches_cpu():
    flow = _perturb(make_flow("glow", 2, 3, hidden=8), 0, 0.3)
    x = torch.randn(16, 2)
    cpu = flow.log_prob(x)
    gpu = flow.to("cuda").log_prob(x.cuda()).cpu()
    torch.testing.assert_close(gpu, cpu, rtol=1e-4, atol=1e-4)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="dim must be >= 2"):
        AdditiveCoupling(1)
    with pytest.raises(ValueError, match="parity"):
        AffineCoupling(4, parity=2)
    with pytest.raises(ValueError, match=r"shape \(B, 4\)"):
        AdditiveCoupling(4)(torch.randn(3, 5))
    with pytest.raises(TypeError, match="floating-point"):
        AffineCoupling(2)(torch.ones(3, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="singular"):
        InvertibleConv1x1.from_weight(torch.tensor([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(ValueError, match="square"):
        InvertibleConv1x1.from_weight(torch.ones(2, 3))
    with pytest.raises(ValueError, match="3 channels"):
        ActNorm(3)(torch.randn(4, 2))
    with pytest.raises(ValueError, match="at least 2 values"):
        ActNorm(2)(torch.randn(1, 2))
    with pytest.raises(ValueError, match="clamp"):
        AffineCoupling(2, clamp=0.0)
    with pytest.raises(ValueError, match="family"):
        make_flow("maf")
    with pytest.raises(ValueError, match="kind"):
        Permutation(3, "shuffle")
    with pytest.raises(TypeError, match="FlowLayer"):
        Flow([torch.nn.Linear(2, 2)], 2)
