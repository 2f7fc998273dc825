"""The Triton kernels compile for NVIDIA GPUs (sm_80, sm_90) on a machine without one.

The CPU interpreter runs kernels as NumPy code and accepts programs the GPU compiler
rejects, so a subprocess with TRITON_INTERPRET=0 compiles each kernel (bf16 and fp16,
causal and not, head dims 64 and 128, the block sizes used on a GPU) all the way to a cubin
with the ptxas that ships with Triton. No GPU is needed to compile.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("triton")

SCRIPT = textwrap.dedent(
    """
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource
    from course_lib.attention import triton_kernel as tk

    POINTERS = {"Q", "K", "V", "O", "DO", "DK", "DV", "DQ"}
    FP32_POINTERS = {"L", "DELTA"}
    FLOATS = {"qk_scale", "sm_scale"}

    def signature(fn, dtype, constants):
        sig = {}
        for name in fn.arg_names:
            if name in constants:
                sig[name] = "constexpr"
            elif name in POINTERS:
                sig[name] = "*" + dtype
            elif name in FP32_POINTERS:
                sig[name] = "*fp32"
            elif name in FLOATS:
                sig[name] = "fp32"
            else:
                sig[name] = "i32"
        return sig

    compiled = 0
    for arch in (80, 90):
        for dtype, causal, d in (("bf16", True, 128), ("fp16", False, 64)):
            (bm, bn, warps, stages), (bbm, bbn, bwarps, bstages) = tk._GPU_FWD[d], tk._GPU_BWD[d]
            for fn, blocks, w, s in (
                (tk._fwd_kernel, (bm, bn), warps, stages),
                (tk._bwd_dkdv_kernel, (bbm, bbn), bwarps, bstages),
                (tk._bwd_dq_kernel, (bbm, bbn), bwarps, bstages),
            ):
                constants = dict(HEAD_DIM=d, BLOCK_D=d, BLOCK_M=blocks[0], BLOCK_N=blocks[1],
                                 CAUSAL=causal)
                src = ASTSource(fn, signature(fn, dtype, constants), constants)
                out = triton.compile(src, target=GPUTarget("cuda", arch, 32),
                                     options={"num_warps": w, "num_stages": s})
                assert "cubin" in out.asm, (fn.__name__, arch)
                compiled += 1
    # every forward autotuning config compiles for sm_90; the default ones fit its shared memory
    for d in (64, 128):
        for bm, bn, w, s in tk._FWD_TUNING:
            constants = dict(HEAD_DIM=d, BLOCK_D=d, BLOCK_M=bm, BLOCK_N=bn, CAUSAL=True)
            src = ASTSource(tk._fwd_kernel, signature(tk._fwd_kernel, "bf16", constants), constants)
            out = triton.compile(src, target=GPUTarget("cuda", 90, 32),
                                 options={"num_warps": w, "num_stages": s})
            assert "cubin" in out.asm
            if (bm, bn, w, s) == tk._GPU_FWD[d]:
                assert out.metadata.shared <= 227 * 1024, out.metadata.shared
            compiled += 1
    print("compiled", compiled)
    """
)


@pytest.mark.slow
def test_kernels_compile_for_nvidia_targets():
    env = {**os.environ, "TRITON_INTERPRET": "0"}
    res = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "compiled 22" in res.stdout
