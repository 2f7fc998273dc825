r"""The FlashAttention forward and backward passes as Triton kernels (section 6).

Each program of the forward kernel owns one block of BLOCK_M query rows of one (batch, head)
and walks over the key/value blocks with the online-softmax recurrence (3.1), keeping m, l
and the output accumulator in registers (fp32) and writing O and the log-sum-exp L once.
Exponentials use base 2: exp(x) = 2^(x log2 e), so the scale is folded into
``qk_scale = scale * log2(e)``.

The backward pass follows FlashAttention-2: Delta = rowsum(dO o O) is computed first; one
kernel owns a K/V block and loops over query blocks to accumulate dK and dV (4.1); a second
owns a query block and loops over key blocks to accumulate dQ, so no atomics are needed.

On a machine without CUDA the package sets ``TRITON_INTERPRET=1`` before triton is imported
(:mod:`._interpret`), so the very same kernels run on CPU tensors through Triton's
interpreter (slowly: keep N <= 256 there). The interpreter computes bfloat16 wrongly, so
bfloat16 is rejected there: use float32 or float16 on the CPU and bfloat16 on a GPU.
"""

from __future__ import annotations

import os

import torch

from ..validation import check_flag
from ._interpret import INTERPRET_SET_HERE, TRITON_PREIMPORTED
from .shapes import check_qkv, resolve_scale

try:
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover - triton is a Linux-only extra
    triton = None
    tl = None

__all__ = [
    "FlashAttentionFunction",
    "MAX_HEAD_DIM",
    "MIN_HEAD_DIM",
    "flash_attention",
    "interpreter_active",
    "triton_available",
]

MIN_HEAD_DIM, MAX_HEAD_DIM = 16, 128
LOG2E = 1.4426950408889634  # log2(e)


def triton_available() -> bool:
    """True when Triton is installed (the kernels then run on CUDA or in the interpreter)."""
    return triton is not None


def interpreter_active() -> bool:
    """True when kernels run through Triton's CPU interpreter (TRITON_INTERPRET=1)."""
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


if triton is not None:

    @triton.jit
    def _fwd_inner(
        acc, l_i, m_i, q, K_z, V_z, stride_kn, stride_vn, rows, offs_n, offs_d, d_ok,
        lo, hi, n_k, qk_scale,
        BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr, MASKED: tl.constexpr,
    ):  # fmt: skip
        """Key blocks lo..hi of the online-softmax recurrence (3.1) for one query block.

        MASKED=False is used for blocks that lie entirely inside the sequence and (when
        causal) entirely left of the diagonal, so the masks are skipped there.
        """
        for start_n in range(lo, hi, BLOCK_N):
            cols = start_n + offs_n
            if MASKED:
                kv_mask = (cols[:, None] < n_k) & d_ok[None, :]
            else:
                kv_mask = d_ok[None, :]
            k = tl.load(K_z + cols[:, None] * stride_kn + offs_d[None, :], mask=kv_mask, other=0.0)
            s = tl.dot(q, tl.trans(k)) * qk_scale  # S_ij in log2 units
            if MASKED:
                valid = cols[None, :] < n_k
                if CAUSAL:
                    valid = valid & (cols[None, :] <= rows[:, None])
                s = tl.where(valid, s, float("-inf"))
            m_new = tl.maximum(m_i, tl.max(s, 1))  # m' = max(m, rowmax S)
            shift = tl.where(m_new == float("-inf"), 0.0, m_new)  # no (-inf) - (-inf)
            p = tl.exp2(s - shift[:, None])  # P~ = exp(S - m')
            alpha = tl.exp2(m_i - shift)  # e^{m - m'}
            l_i = l_i * alpha + tl.sum(p, 1)  # l' = e^{m-m'} l + rowsum P~
            v = tl.load(V_z + cols[:, None] * stride_vn + offs_d[None, :], mask=kv_mask, other=0.0)
            acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v)  # o' = e^{m-m'} o + P~ V
            m_i = m_new
        return acc, l_i, m_i

    @triton.jit
    def _fwd_kernel(
        Q, K, V, O, L,
        stride_qz, stride_qm, stride_kz, stride_kn, stride_vz, stride_vn, stride_oz, stride_om,
        n_q, n_k, qk_scale,
        HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_M: tl.constexpr,
        BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr,
    ):  # fmt: skip
        pid_m = tl.program_id(0)
        z = tl.program_id(1)
        rows = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_n = tl.arange(0, BLOCK_N)
        offs_d = tl.arange(0, BLOCK_D)
        d_ok = offs_d < HEAD_DIM
        q = tl.load(
            Q + z * stride_qz + rows[:, None] * stride_qm + offs_d[None, :],
            mask=(rows[:, None] < n_q) & d_ok[None, :], other=0.0,
        )  # fmt: skip
        m_i = tl.full([BLOCK_M], float("-inf"), dtype=tl.float32)
        l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
        acc = tl.zeros([BLOCK_M, BLOCK_D], dtype=tl.float32)
        K_z, V_z = K + z * stride_kz, V + z * stride_vz
        # Stage 1: full key blocks that need no mask (inside the sequence; when causal, left
        # of the diagonal block). Stage 2: the remaining blocks, masked.
        full_end = (n_k // BLOCK_N) * BLOCK_N
        hi = n_k
        if CAUSAL:  # keys j <= i only: stop after the diagonal block
            hi = tl.minimum((pid_m + 1) * BLOCK_M, n_k)
            full_end = tl.minimum(full_end, (pid_m * BLOCK_M // BLOCK_N) * BLOCK_N)
        acc, l_i, m_i = _fwd_inner(
            acc, l_i, m_i, q, K_z, V_z, stride_kn, stride_vn, rows, offs_n, offs_d, d_ok,
            0, full_end, n_k, qk_scale, BLOCK_N, CAUSAL, False,
        )  # fmt: skip
        acc, l_i, m_i = _fwd_inner(
            acc, l_i, m_i, q, K_z, V_z, stride_kn, stride_vn, rows, offs_n, offs_d, d_ok,
            full_end, hi, n_k, qk_scale, BLOCK_N, CAUSAL, True,
        )  # fmt: skip
        l_safe = tl.where(l_i == 0.0, 1.0, l_i)
        out = acc / l_safe[:, None]  # O = o / l
        # L = m + log l, stored in natural-log units for the backward pass
        lse = tl.where(l_i == 0.0, float("-inf"), (m_i + tl.log2(l_safe)) / 1.4426950408889634)
        row_ok = rows < n_q
        tl.store(O + z * stride_oz + rows[:, None] * stride_om + offs_d[None, :],
                 out.to(O.dtype.element_ty), mask=row_ok[:, None] & d_ok[None, :])  # fmt: skip
        tl.store(L + z * n_q + rows, lse, mask=row_ok)

    @triton.jit
    def _recompute_p(q, k, lse, rows, cols, n_q, n_k, sm_scale, CAUSAL: tl.constexpr):
        """P = exp(Q K^T scale - L) for one tile, zero outside the sequence or the mask."""
        s = tl.dot(q, tl.trans(k)) * sm_scale  # S = Q K^T scale
        valid = (rows[:, None] < n_q) & (cols[None, :] < n_k) & (lse[:, None] > float("-inf"))
        if CAUSAL:
            valid = valid & (cols[None, :] <= rows[:, None])
        return tl.where(valid, tl.exp(s - lse[:, None]), 0.0)  # P = exp(S - L)

    @triton.jit
    def _bwd_dkdv_kernel(
        Q, K, V, DO, L, DELTA, DK, DV,
        stride_qz, stride_qm, stride_kz, stride_kn, stride_vz, stride_vn,
        n_q, n_k, sm_scale,
        HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_M: tl.constexpr,
        BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr,
    ):  # fmt: skip
        pid_n = tl.program_id(0)
        z = tl.program_id(1)
        cols = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        offs_m = tl.arange(0, BLOCK_M)
        offs_d = tl.arange(0, BLOCK_D)
        d_ok = offs_d < HEAD_DIM
        kv_mask = (cols[:, None] < n_k) & d_ok[None, :]
        k = tl.load(K + z * stride_kz + cols[:, None] * stride_kn + offs_d[None, :],
                    mask=kv_mask, other=0.0)  # fmt: skip
        v = tl.load(V + z * stride_vz + cols[:, None] * stride_vn + offs_d[None, :],
                    mask=kv_mask, other=0.0)  # fmt: skip
        dk = tl.zeros([BLOCK_N, BLOCK_D], dtype=tl.float32)
        dv = tl.zeros([BLOCK_N, BLOCK_D], dtype=tl.float32)
        lo = 0
        if CAUSAL:  # rows i >= j only: start at the query block holding the first key
            lo = (pid_n * BLOCK_N // BLOCK_M) * BLOCK_M
        for start_m in range(lo, n_q, BLOCK_M):
            rows = start_m + offs_m
            row_ok = rows < n_q
            q_mask = row_ok[:, None] & d_ok[None, :]
            q = tl.load(Q + z * stride_qz + rows[:, None] * stride_qm + offs_d[None, :],
                        mask=q_mask, other=0.0)  # fmt: skip
            do = tl.load(DO + z * stride_qz + rows[:, None] * stride_qm + offs_d[None, :],
                         mask=q_mask, other=0.0)  # fmt: skip
            lse = tl.load(L + z * n_q + rows, mask=row_ok, other=0.0)
            delta = tl.load(DELTA + z * n_q + rows, mask=row_ok, other=0.0)
            p = _recompute_p(q, k, lse, rows, cols, n_q, n_k, sm_scale, CAUSAL)
            dv += tl.dot(tl.trans(p.to(do.dtype)), do)  # dV += P^T dO
            dp = tl.dot(do, tl.trans(v))  # dP = dO V^T
            ds = p * (dp - delta[:, None])  # dS = P o (dP - Delta)
            dk += tl.dot(tl.trans(ds.to(q.dtype)), q)  # dK += dS^T Q (scaled below)
        tl.store(DK + z * stride_kz + cols[:, None] * stride_kn + offs_d[None, :],
                 (dk * sm_scale).to(DK.dtype.element_ty), mask=kv_mask)  # fmt: skip
        tl.store(DV + z * stride_vz + cols[:, None] * stride_vn + offs_d[None, :],
                 dv.to(DV.dtype.element_ty), mask=kv_mask)  # fmt: skip

    @triton.jit
    def _bwd_dq_kernel(
        Q, K, V, DO, L, DELTA, DQ,
        stride_qz, stride_qm, stride_kz, stride_kn, stride_vz, stride_vn,
        n_q, n_k, sm_scale,
        HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_M: tl.constexpr,
        BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr,
    ):  # fmt: skip
        pid_m = tl.program_id(0)
        z = tl.program_id(1)
        rows = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_n = tl.arange(0, BLOCK_N)
        offs_d = tl.arange(0, BLOCK_D)
        d_ok = offs_d < HEAD_DIM
        row_ok = rows < n_q
        q_mask = row_ok[:, None] & d_ok[None, :]
        q = tl.load(Q + z * stride_qz + rows[:, None] * stride_qm + offs_d[None, :],
                    mask=q_mask, other=0.0)  # fmt: skip
        do = tl.load(DO + z * stride_qz + rows[:, None] * stride_qm + offs_d[None, :],
                     mask=q_mask, other=0.0)  # fmt: skip
        lse = tl.load(L + z * n_q + rows, mask=row_ok, other=0.0)
        delta = tl.load(DELTA + z * n_q + rows, mask=row_ok, other=0.0)
        dq = tl.zeros([BLOCK_M, BLOCK_D], dtype=tl.float32)
        hi = n_k
        if CAUSAL:
            hi = tl.minimum((pid_m + 1) * BLOCK_M, n_k)
        for start_n in range(0, hi, BLOCK_N):
            cols = start_n + offs_n
            kv_mask = (cols[:, None] < n_k) & d_ok[None, :]
            k = tl.load(K + z * stride_kz + cols[:, None] * stride_kn + offs_d[None, :],
                        mask=kv_mask, other=0.0)  # fmt: skip
            v = tl.load(V + z * stride_vz + cols[:, None] * stride_vn + offs_d[None, :],
                        mask=kv_mask, other=0.0)  # fmt: skip
            p = _recompute_p(q, k, lse, rows, cols, n_q, n_k, sm_scale, CAUSAL)
            dp = tl.dot(do, tl.trans(v))  # dP = dO V^T
            ds = p * (dp - delta[:, None])  # dS = P o (dP - Delta)
            dq += tl.dot(ds.to(k.dtype), k)  # dQ += dS K (scaled below)
        tl.store(DQ + z * stride_qz + rows[:, None] * stride_qm + offs_d[None, :],
                 (dq * sm_scale).to(DQ.dtype.element_ty), mask=q_mask)  # fmt: skip


# (BLOCK_M, BLOCK_N, num_warps, num_stages) per padded head dim, for a GPU. Under the
# interpreter small blocks keep the Python-level emulation fast.
_GPU_FWD = {16: (128, 64, 4, 3), 32: (128, 64, 4, 3), 64: (128, 64, 4, 3), 128: (128, 64, 8, 3)}
_GPU_BWD = {16: (64, 64, 4, 2), 32: (64, 64, 4, 2), 64: (64, 64, 4, 2), 128: (64, 64, 8, 2)}
_INTERPRETER_BLOCKS = (32, 32, 1, 1)

# On a GPU the forward kernel is autotuned over these (BLOCK_M, BLOCK_N, warps, stages),
# keyed by the shapes; autotuning launches kernels, so it exists only when CUDA does.
_FWD_TUNING = [(128, 64, 4, 3), (128, 128, 8, 3), (128, 64, 8, 4), (64, 64, 4, 3), (128, 32, 4, 4)]
_fwd_kernel_tuned = None
if triton is not None and torch.cuda.is_available() and not interpreter_active():
    _fwd_kernel_tuned = triton.autotune(
        configs=[
            triton.Config({"BLOCK_M": bm, "BLOCK_N": bn}, num_warps=w, num_stages=st)
            for bm, bn, w, st in _FWD_TUNING
        ],
        key=["n_q", "n_k", "HEAD_DIM", "CAUSAL"],
    )(_fwd_kernel)


def _configs(block_d: int) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
    if interpreter_active():
        return _INTERPRETER_BLOCKS, _INTERPRETER_BLOCKS
    return _GPU_FWD[block_d], _GPU_BWD[block_d]


def _check_inputs(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> int:
    if triton is None:
        raise RuntimeError("Triton is not installed; use course_lib.attention.tiled_attention")
    if TRITON_PREIMPORTED and INTERPRET_SET_HERE:
        raise RuntimeError(
            "triton was imported before TRITON_INTERPRET=1 was set, so its interpreter cannot "
            "run; set os.environ['TRITON_INTERPRET'] = '1' before anything imports triton "
            "(or import course_lib.attention.triton_kernel first) and restart the kernel"
        )
    check_qkv(q, k, v)
    d = q.shape[-1]
    if not MIN_HEAD_DIM <= d <= MAX_HEAD_DIM:
        raise ValueError(
            f"head dim must be in [{MIN_HEAD_DIM}, {MAX_HEAD_DIM}], got {d}; "
            "pad q, k, v with zeros or use tiled_attention"
        )
    if q.dtype == torch.float64:
        raise TypeError("the Triton kernel takes float16, bfloat16 or float32, got float64")
    if q.dtype == torch.bfloat16 and interpreter_active():
        raise TypeError(
            "Triton's CPU interpreter computes bfloat16 wrongly; use float32 or float16 on the "
            "CPU (bfloat16 works on a GPU)"
        )
    if q.device.type != "cuda" and not interpreter_active():
        raise ValueError(f"tensors on {q.device} need CUDA or TRITON_INTERPRET=1")
    if q.device.type == "cuda" and interpreter_active():
        raise ValueError("TRITON_INTERPRET=1 runs on CPU tensors; move q, k, v to the CPU")
    return max(16, triton.next_power_of_2(d))


def _flatten(x: torch.Tensor) -> torch.Tensor:
    """(..., N, d) -> contiguous (Z, N, d)."""
    return x.reshape(-1, x.shape[-2], x.shape[-1]).contiguous()


def _forward(q, k, v, causal: bool, scale: float, block_d: int):
    (bm, bn, warps, stages), _ = _configs(block_d)
    q3, k3, v3 = _flatten(q), _flatten(k), _flatten(v)
    z, n_q, d = q3.shape
    n_k = k3.shape[1]
    out = torch.empty_like(q3)
    lse = torch.empty(z, n_q, dtype=torch.float32, device=q.device)
    args = (
        q3, k3, v3, out, lse,
        q3.stride(0), q3.stride(1), k3.stride(0), k3.stride(1), v3.stride(0), v3.stride(1),
        out.stride(0), out.stride(1), n_q, n_k, scale * LOG2E,
    )  # fmt: skip
    if _fwd_kernel_tuned is not None and q.device.type == "cuda":
        grid = lambda meta: (triton.cdiv(n_q, meta["BLOCK_M"]), z)  # noqa: E731
        _fwd_kernel_tuned[grid](*args, HEAD_DIM=d, BLOCK_D=block_d, CAUSAL=causal)
    else:
        _fwd_kernel[(triton.cdiv(n_q, bm), z)](
            *args, HEAD_DIM=d, BLOCK_D=block_d, BLOCK_M=bm, BLOCK_N=bn, CAUSAL=causal,
            num_warps=warps, num_stages=stages,
        )  # fmt: skip
    return out.reshape(q.shape), lse.reshape(q.shape[:-1])


def _backward(q, k, v, out, lse, d_out, causal: bool, scale: float, block_d: int):
    _, (bm, bn, warps, stages) = _configs(block_d)
    q3, k3, v3, do3 = _flatten(q), _flatten(k), _flatten(v), _flatten(d_out)
    z, n_q, d = q3.shape
    n_k = k3.shape[1]
    lse2 = lse.reshape(z, n_q).contiguous()
    # Delta_i = rowsum(dO o O) in fp32
    delta = (do3.float() * _flatten(out).float()).sum(dim=-1).contiguous()
    dq, dk, dv = torch.empty_like(q3), torch.empty_like(k3), torch.empty_like(v3)
    common = (
        q3.stride(0), q3.stride(1), k3.stride(0), k3.stride(1), v3.stride(0), v3.stride(1),
        n_q, n_k, scale,
    )  # fmt: skip
    meta = dict(HEAD_DIM=d, BLOCK_D=block_d, BLOCK_M=bm, BLOCK_N=bn, CAUSAL=causal,
                num_warps=warps, num_stages=stages)  # fmt: skip
    _bwd_dkdv_kernel[(triton.cdiv(n_k, bn), z)](
        q3, k3, v3, do3, lse2, delta, dk, dv, *common, **meta
    )
    _bwd_dq_kernel[(triton.cdiv(n_q, bm), z)](q3, k3, v3, do3, lse2, delta, dq, *common, **meta)
    return dq.reshape(q.shape), dk.reshape(k.shape), dv.reshape(v.shape)


class FlashAttentionFunction(torch.autograd.Function):
    """Autograd wrapper of the Triton kernels; saves Q, K, V, O and the log-sum-exp L."""

    @staticmethod
    def forward(ctx, q, k, v, is_causal, scale):  # noqa: D102
        block_d = _check_inputs(q, k, v)
        scale = resolve_scale(scale, q.shape[-1])
        out, lse = _forward(q, k, v, is_causal, scale, block_d)
        ctx.save_for_backward(q, k, v, out, lse)
        ctx.config = (is_causal, scale, block_d)
        return out

    @staticmethod
    def backward(ctx, d_out):  # noqa: D102
        q, k, v, out, lse = ctx.saved_tensors
        is_causal, scale, block_d = ctx.config
        dq, dk, dv = _backward(q, k, v, out, lse, d_out, is_causal, scale, block_d)
        return dq, dk, dv, None, None


def flash_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    is_causal: bool = False,
    scale: float | None = None,
) -> torch.Tensor:
    """softmax(Q K^T scale) V with the Triton kernels; same call shape as SDPA.

    ``q`` (..., N_q, d), ``k``/``v`` (..., N_k, d) with 16 <= d <= 128 (padded
    to a power of two inside the kernel); float16/bfloat16 on a GPU (fp32 accumulation;
    float32 inputs there use TF32 tensor-core products), float32/float16 under the CPU
    interpreter. ``is_causal`` masks keys j > i as SDPA does.
    """
    return FlashAttentionFunction.apply(q, k, v, check_flag(is_causal, "is_causal"), scale)
