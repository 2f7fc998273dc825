import math

import pytest
import torch

from course_lib.validation import (
    available_devices,
    batch_view,
    check_denoiser,
    check_device,
    check_generator,
    check_int,
    check_probability,
    check_real,
    check_sigma,
    check_square_matrix,
    check_tensor,
    check_time,
    per_sample,
    randn_like,
    resolve_device,
)


def test_check_int():
    assert check_int(3, "n") == 3 and check_int(1, "n", minimum=1) == 1
    with pytest.raises(TypeError, match="n must be an int, got float 3.0"):
        check_int(3.0, "n")
    with pytest.raises(TypeError, match="got bool"):
        check_int(True, "n")
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        check_int(0, "n", minimum=1)


def test_check_real_intervals():
    assert check_real(0.5, "x", low=0, high=1) == 0.5
    assert check_real(0, "x", low=0) == 0.0
    with pytest.raises(ValueError, match=r"x must be a finite number in \(0, inf\), got 0"):
        check_real(0, "x", low=0, low_open=True)
    with pytest.raises(ValueError, match=r"in \(-inf, inf\), got nan"):
        check_real(float("nan"), "x")
    with pytest.raises(TypeError, match="x must be a real number"):
        check_real("1", "x")


def test_check_probability():
    assert check_probability(1) == 1.0
    with pytest.raises(ValueError, match=r"p must lie in \(0, 1\), got 1.0"):
        check_probability(1.0, open_interval=True)
    with pytest.raises(ValueError, match=r"q must lie in \[0, 1\], got -0.5"):
        check_probability(-0.5, "q")


def test_check_generator():
    g = torch.Generator()
    assert check_generator(g) is g and check_generator(None) is None
    with pytest.raises(TypeError, match="torch.Generator or None, got int"):
        check_generator(0)


def test_check_tensor():
    x = torch.zeros(2, 3)
    assert check_tensor(x, "x", min_dim=2) is x
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got list"):
        check_tensor([1.0], "x")
    with pytest.raises(ValueError, match=r"at least 3 dimension\(s\), got shape \(2, 3\)"):
        check_tensor(x, "x", min_dim=3)
    with pytest.raises(TypeError, match="floating-point tensor, got dtype torch.int64"):
        check_tensor(torch.zeros(2, dtype=torch.long), "x")


def test_time_and_sigma_ranges():
    t = check_time(0.25)
    assert t.dtype == torch.float64 and float(t) == 0.25  # numbers keep every digit
    assert check_time(torch.tensor([0.0, 1.0])).dtype == torch.float32
    assert float(check_time(3.0, high=None)) == 3.0
    with pytest.raises(ValueError, match=r"t must lie in \[0, 1\] \(finite\), got 1.5..1.5"):
        check_time(1.5)
    with pytest.raises(ValueError, match=r"t must lie in \(0, 1\]"):
        check_time(torch.tensor([0.0, 0.5]), low_open=True)
    with pytest.raises(ValueError, match="got nan"):
        check_time(math.nan)
    with pytest.raises(TypeError, match="t must be a real number or a tensor, got str"):
        check_time("0.5")
    assert float(check_sigma(0.0)) == 0.0
    with pytest.raises(ValueError, match=r"sigma must lie in \(0, inf\)"):
        check_sigma(0.0, positive=True)
    with pytest.raises(ValueError, match=r"sigma must lie in \[0, inf\)"):
        check_sigma(torch.tensor([1.0, -1.0]))


def test_per_sample_and_batch_view():
    x = torch.zeros(3, 2, 2, dtype=torch.float64)
    v = per_sample(0.5, x, "a")
    assert v.shape == (3,) and v.dtype == torch.float64
    assert torch.equal(
        per_sample(torch.tensor([1.0, 2.0, 3.0]), x, "a"), torch.tensor([1.0, 2, 3]).double()
    )
    with pytest.raises(ValueError, match=r"a must be a scalar or have shape \(3,\), got 2 values"):
        per_sample(torch.tensor([1.0, 2.0]), x, "a")
    with pytest.raises(ValueError, match=r"a must lie in \[0, inf\)"):
        per_sample(-1.0, x, "a", low=0)
    b = batch_view(torch.tensor([1.0, 2.0, 3.0]), x)
    assert b.shape == (3, 1, 1) and b.dtype == torch.float64
    assert torch.equal((b * torch.ones_like(x))[:, 1, 1], torch.tensor([1.0, 2.0, 3.0]).double())


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
def test_device_without_cuda_names_what_is_available():
    with pytest.raises(ValueError, match=r"device='cuda' was asked for, but .*; available: cpu"):
        check_device("cuda")
    with pytest.raises(ValueError, match=r"device='cuda:0' was asked for"):
        resolve_device("cuda:0", None)
    assert "cpu" in available_devices()


@pytest.mark.skipif(
    getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available(),
    reason="checks the no-MPS error",
)
def test_device_without_mps_is_clear():
    with pytest.raises(ValueError, match=r"device='mps' was asked for, but MPS is not available"):
        check_device("mps")


def test_device_names_and_types():
    assert check_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="device='gpu' is not a device name"):
        check_device("gpu")
    with pytest.raises(TypeError, match="device must be a str or torch.device, got int"):
        check_device(0)


def test_resolve_device_rule():
    g = torch.Generator()
    assert resolve_device(None, None) == torch.device("cpu")
    assert resolve_device(None, g) == torch.device("cpu")
    assert resolve_device("cpu", g) == torch.device("cpu")
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        resolve_device(None, 3)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_resolve_device_rejects_a_generator_of_another_type():
    with pytest.raises(ValueError, match="generator lives on cpu but device=cuda"):
        resolve_device("cuda", torch.Generator())


def test_randn_like_is_reproducible_and_shaped():
    x = torch.zeros(4, 3, dtype=torch.float64)
    a = randn_like(x, torch.Generator().manual_seed(1))
    b = randn_like(x, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and a.dtype == x.dtype and torch.equal(a, b)
    assert not torch.equal(a, randn_like(x, torch.Generator().manual_seed(2)))


def test_check_denoiser():
    f = lambda x, sigma: x  # noqa: E731
    assert check_denoiser(f) is f
    with pytest.raises(TypeError, match="denoiser must be callable as D\\(x, sigma\\), got int"):
        check_denoiser(3)


def test_check_square_matrix():
    a = torch.eye(3)
    assert check_square_matrix(a, "A") is a
    with pytest.raises(ValueError, match=r"square \(n, n\) matrix .* got shape \(2, 3\)"):
        check_square_matrix(torch.zeros(2, 3), "A")
    with pytest.raises(ValueError, match="got shape"):
        check_square_matrix(torch.zeros(2, 2, 2), "A")
    with pytest.raises(ValueError, match="finite"):
        check_square_matrix(torch.tensor([[1.0, float("nan")], [0.0, 1.0]]), "A")
    with pytest.raises(TypeError, match="complex"):
        check_square_matrix(torch.eye(2, dtype=torch.complex64), "A")
    with pytest.raises(TypeError, match="floating-point"):
        check_square_matrix(torch.eye(2, dtype=torch.int64), "A")
    with pytest.raises(TypeError, match="torch.Tensor"):
        check_square_matrix([[1.0]], "A")
