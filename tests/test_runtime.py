import pytest
import torch

from course_lib import runtime


def test_is_fast_reads_environment(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    assert runtime.is_fast() and runtime.pick(3, 30) == 3
    monkeypatch.setenv("COURSE_FAST", "off")
    assert not runtime.is_fast() and runtime.pick(3, 30) == 30
    monkeypatch.setenv("COURSE_FAST", "")
    assert runtime.is_fast() == (not runtime._gpu_present())


def test_mode_follows_the_hardware_without_override(monkeypatch):
    monkeypatch.delenv("COURSE_FAST", raising=False)
    monkeypatch.setattr(runtime, "_gpu_present", lambda: True)
    assert runtime.mode_reason() == ("full", "a GPU is present")
    assert runtime.pick(3, 30) == 30
    monkeypatch.setattr(runtime, "_gpu_present", lambda: False)
    assert runtime.mode_reason() == ("fast", "no GPU found")
    assert runtime.pick(3, 30) == 3
    monkeypatch.setenv("COURSE_FAST", "0")  # the override wins on a CPU
    assert runtime.mode_reason() == ("full", "COURSE_FAST=0")


def test_is_fast_rejects_garbage(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "maybe")
    with pytest.raises(ValueError, match="COURSE_FAST"):
        runtime.is_fast()


def test_device_default_and_override(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    dev = runtime.device()
    assert dev.type == ("cuda" if torch.cuda.is_available() else dev.type)
    assert runtime.device("cpu") == torch.device("cpu")
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert runtime.device() == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
def test_device_cuda_without_cuda_is_clear():
    with pytest.raises(ValueError, match=r"prefer='cuda' was asked for, .*available: cpu"):
        runtime.device("cuda")
    with pytest.raises(ValueError, match=r"device='cuda' was asked for, .*available: cpu"):
        runtime.make_generator(0, "cuda")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
def test_device_env_override_is_checked(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    with pytest.raises(ValueError, match=r"COURSE_DEVICE='cuda' was asked for"):
        runtime.device()
    monkeypatch.setenv("COURSE_DEVICE", "gpu")
    with pytest.raises(ValueError, match=r"COURSE_DEVICE='gpu' is not a device name"):
        runtime.device()


def test_seed_all_is_deterministic():
    g1 = runtime.seed_all(123)
    a = torch.rand(5, generator=g1), torch.rand(3)
    g2 = runtime.seed_all(123)
    b = torch.rand(5, generator=g2), torch.rand(3)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(torch.rand(5, generator=runtime.make_generator(124)), a[0])


def test_make_generator_rejects_non_int():
    with pytest.raises(TypeError, match="seed must be an int"):
        runtime.make_generator(1.5)


def test_check_device_dtype():
    x = torch.zeros(2)
    runtime.check_device_dtype(x, x, dtype=torch.float32)
    with pytest.raises(ValueError, match="expected dtype"):
        runtime.check_device_dtype(x, dtype=torch.float64)
    with pytest.raises(TypeError, match="torch.Tensor"):
        runtime.check_device_dtype(x, [1.0])


def test_describe_mentions_mode_and_device():
    line = runtime.describe()
    assert "mode=" in line and "device=" in line and "COURSE_FAST=" in line
