"""The Triton kernels: under TRITON_INTERPRET=1 on the CPU, and on CUDA (marked ``gpu``).

Importing ``course_lib.attention.triton_kernel`` on a machine without CUDA switches Triton
to its interpreter before the kernels are defined, so these tests run in CI on the CPU.
"""

import itertools

import pytest
import torch
import torch.nn.functional as F

pytest.importorskip("triton")
from course_lib.attention import standard_attention  # noqa: E402
from course_lib.attention.triton_kernel import flash_attention, interpreter_active  # noqa: E402

ON_CPU = not torch.cuda.is_available()
needs_interpreter = pytest.mark.skipif(
    not (ON_CPU and interpreter_active()), reason="CPU interpreter test"
)


def _inputs(b, h, n, d, dtype, device="cpu", seed=0, n_k=None):
    g = torch.Generator(device=device).manual_seed(seed)
    shape_q, shape_k = (b, h, n, d), (b, h, n_k or n, d)
    q = torch.randn(shape_q, generator=g, device=device, dtype=dtype)
    k = torch.randn(shape_k, generator=g, device=device, dtype=dtype)
    v = torch.randn(shape_k, generator=g, device=device, dtype=dtype)
    return q, k, v


def _reference_and_grads(q, k, v, d_out, causal):
    """float64 standard attention (1.1) and its autograd gradients."""
    q64, k64, v64 = (t.detach().double().requires_grad_() for t in (q, k, v))
    out = standard_attention(q64, k64, v64, is_causal=causal)
    grads = torch.autograd.grad(out, (q64, k64, v64), d_out.double())
    return out.detach(), grads


# Tolerances: fp32 kernels agree with float64 to ~1e-6; fp16 inputs (10-bit mantissa) with
# fp32 accumulation to ~1e-3 on O(1) values.
TOL = {torch.float32: 2e-5, torch.float16: 4e-3}


@needs_interpreter
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("n, d", [(64, 16), (77, 40), (128, 64), (33, 128)])
def test_interpreter_forward_backward(dtype, causal, n, d):
    q, k, v = (t.requires_grad_() for t in _inputs(1, 2, n, d, dtype, seed=n + d))
    out = flash_attention(q, k, v, is_causal=causal)
    assert out.shape == q.shape and out.dtype == dtype
    d_out = torch.randn(out.shape, generator=torch.Generator().manual_seed(1), dtype=dtype)
    dq, dk, dv = torch.autograd.grad(out, (q, k, v), d_out)
    ref, ref_grads = _reference_and_grads(q, k, v, d_out, causal)
    tol = TOL[dtype]
    assert (out.double() - ref).abs().max() < tol
    for name, got, want in zip("qkv", (dq, dk, dv), ref_grads, strict=True):
        err = (got.double() - want).abs().max().item()
        assert err < 4 * tol * max(1.0, want.abs().max().item()), f"d{name}: {err}"


@needs_interpreter
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("n_q, n_k, d", [(40, 71, 16), (71, 40, 64), (17, 50, 128), (50, 17, 32)])
def test_interpreter_causal_cross_lengths(dtype, n_q, n_k, d):
    """Causal with N_q != N_k (top-left aligned, as SDPA): queries past N_k see every key,
    keys past N_q get no gradient; ragged lengths leave partial diagonal and tail blocks."""
    q = _inputs(1, 2, n_q, d, dtype, seed=n_q)[0].requires_grad_()
    _, k, v = _inputs(1, 2, n_q, d, dtype, seed=n_k, n_k=n_k)
    k, v = k.requires_grad_(), v.requires_grad_()
    out = flash_attention(q, k, v, is_causal=True)
    d_out = torch.randn(out.shape, generator=torch.Generator().manual_seed(2), dtype=dtype)
    grads = torch.autograd.grad(out, (q, k, v), d_out)
    ref, ref_grads = _reference_and_grads(q, k, v, d_out, True)
    tol = TOL[dtype]
    assert (out.double() - ref).abs().max() < tol
    for name, got, want in zip("qkv", grads, ref_grads, strict=True):
        err = (got.double() - want).abs().max().item()
        assert err < 4 * tol * max(1.0, want.abs().max().item()), f"d{name}: {err}"
    if n_k > n_q:  # keys j >= N_q are seen by no query
        assert grads[1][..., n_q:, :].abs().max() == 0 and grads[2][..., n_q:, :].abs().max() == 0


@needs_interpreter
def test_interpreter_cross_attention_lengths_and_batch_dims():
    q, _, _ = _inputs(3, 1, 40, 32, torch.float32)
    _, k, v = _inputs(3, 1, 40, 32, torch.float32, n_k=70, seed=1)
    out = flash_attention(q, k, v)
    assert torch.allclose(
        out.double(), standard_attention(q.double(), k.double(), v.double()), atol=2e-5
    )
    out3 = flash_attention(q[:, 0], k[:, 0], v[:, 0])  # (B, N, d) works too
    assert torch.allclose(out3, out[:, 0])


@needs_interpreter
def test_interpreter_matches_sdpa_with_custom_scale():
    q, k, v = _inputs(1, 2, 50, 16, torch.float32)
    got = flash_attention(q, k, v, is_causal=True, scale=0.3)
    want = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3)
    assert torch.allclose(got, want, atol=2e-5)


def test_gpu_config_tables_follow_the_rules():
    """No warp repeats another's products (outer block >= 16 rows per warp); the inner block
    divides the outer one; the shared-memory pruning keeps only what fits, per device."""
    from course_lib.attention.triton_kernel import (
        _fitting,
        kernel_configs,
        shared_memory_estimate,
    )

    for kind, d, arch in itertools.product(("fwd", "dkdv", "dq"), (16, 32, 64, 128), (80, 90)):
        for cfg in kernel_configs(kind, d, arch):
            outer, inner = (
                (cfg.block_n, cfg.block_m) if kind == "dkdv" else (cfg.block_m, cfg.block_n)
            )
            assert outer >= 16 * cfg.num_warps, (kind, d, cfg)
            assert outer % inner == 0, (kind, d, cfg)
    a100, h100 = 166912, 232448
    for kind, elem, (arch, limit) in itertools.product(
        ("fwd", "dkdv", "dq"), (2, 4), ((80, a100), (90, h100))
    ):
        fit = _fitting(kind, 128, elem, limit, arch)
        assert all(shared_memory_estimate(kind, c, 128, elem) <= limit for c in fit)
    # fp32 d = 128 on an A100: the largest backward tiles do not fit and are pruned
    assert len(_fitting("dkdv", 128, 4, a100, 80)) < len(kernel_configs("dkdv", 128, 80))
    with pytest.raises(ValueError, match="kind must be one of"):
        kernel_configs("bwd", 64)
    with pytest.raises(ValueError, match="block_d must be 16, 32, 64 or 128, got 48"):
        kernel_configs("fwd", 48)
    with pytest.raises(ValueError, match="arch must be one of"):
        kernel_configs("fwd", 64, 75)


@needs_interpreter
def test_interpreter_rejects_empty_sequences():
    q, k, v = _inputs(1, 1, 8, 16, torch.float32)
    with pytest.raises(ValueError, match="N_q and N_k must be at least 1, got 8 and 0"):
        flash_attention(q, k[..., :0, :], v[..., :0, :])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"d": 8}, ValueError, r"head dim must be in \[16, 128\], got 8"),
        ({"d": 192}, ValueError, "got 192"),
        ({"dtype": torch.float64}, TypeError, "float16, bfloat16 or float32"),
        ({"causal": 1}, TypeError, "is_causal must be a bool"),
    ],
)
def test_bad_inputs(kwargs, error, match):
    d, dtype = kwargs.get("d", 16), kwargs.get("dtype", torch.float32)
    q, k, v = _inputs(1, 1, 8, d, dtype)
    with pytest.raises(error, match=match):
        flash_attention(q, k, v, is_causal=kwargs.get("causal", False))


@needs_interpreter
def test_interpreter_rejects_bfloat16():
    q, k, v = _inputs(1, 1, 8, 16, torch.bfloat16)
    with pytest.raises(TypeError, match="computes bfloat16 wrongly"):
        flash_attention(q, k, v)


# ---------------------------------------------------------------------------------------
# GPU: bf16/fp16 against SDPA (skipped without CUDA)
# ---------------------------------------------------------------------------------------
GPU_TOL = {torch.float16: 2e-3, torch.bfloat16: 1.6e-2}


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("n, d", [(1000, 64), (4096, 128), (16384, 64)])
def test_gpu_against_sdpa(dtype, causal, n, d):
    q, k, v = (t.requires_grad_() for t in _inputs(2, 4, n, d, dtype, device="cuda"))
    out = flash_attention(q, k, v, is_causal=causal)
    d_out = torch.randn_like(out)
    grads = torch.autograd.grad(out, (q, k, v), d_out)
    q32, k32, v32 = (t.detach().float().requires_grad_() for t in (q, k, v))
    ref = F.scaled_dot_product_attention(q32, k32, v32, is_causal=causal)
    ref_grads = torch.autograd.grad(ref, (q32, k32, v32), d_out.float())
    tol = GPU_TOL[dtype]
    assert (out.float() - ref).abs().max() < tol
    for got, want in zip(grads, ref_grads, strict=True):
        assert (got.float() - want).abs().max() < 4 * tol * max(1.0, want.abs().max().item())
