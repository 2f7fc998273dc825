r"""The FlashAttention forward and backward passes as Triton kernels (section 6).

Each program of the forward kernel owns one block of BLOCK_M query rows of one (batch, head)
and walks over the key/value blocks with the online-softmax recurrence (3.1), keeping m, l
and the output accumulator in registers (fp32) and writing O and the log-sum-exp L once.
Exponentials use base 2, exp(x) = 2^(x log2 e), with the scale folded into
``qk_scale = scale * log2(e)``: the running max m and the stored L are in log2 units, and
every exponential is ``exp2(S * qk_scale - m)``, one fused multiply-add and one ``ex2``.

The backward pass follows FlashAttention-2 (4.1), in three kernels: a small one computes
Delta = rowsum(dO o O); one program per K/V block walks over the query blocks and accumulates
dK and dV, computing S^T = K Q^T directly so that P^T and dS^T feed the dV and dK products as
they are; one program per query block walks over the key blocks and accumulates dQ, so no
atomics are needed. That is 7 block products per (query block, key block) pair (S twice, dP
twice, dV, dK, dQ). In every kernel only the blocks on the causal diagonal or at the ragged
end of the sequence are masked, offsets are int64 (no wrap-around for any tensor size), and the
(batch x head, block) pairs are folded into grid axis 0 (no 65 535 cap on batch x heads).

On a GPU the block sizes are autotuned over a few configurations per head dim, pruned to those
whose shared memory fits the device (``shared_memory_estimate``); ``COURSE_TRITON_AUTOTUNE=0``
takes the first fitting one instead. On a machine without CUDA the package sets
``TRITON_INTERPRET=1`` before triton is imported (:mod:`._interpret`), so the very same
kernels run on CPU tensors through Triton's interpreter (slowly: keep N <= 256 there). The
interpreter computes bfloat16 wrongly, so bfloat16 is rejected there: use float32 or float16
on the CPU and bfloat16 on a GPU.
"""

from __future__ import annotations

import os
from typing import NamedTuple

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
    "TileConfig",
    "flash_attention",
    "interpreter_active",
    "kernel_configs",
    "shared_memory_estimate",
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
    def _load_rows(ptrs, idx, n, d_ok, CHECK_ROWS: tl.constexpr, EVEN_D: tl.constexpr):
        """Load a (rows, BLOCK_D) tile, zero-filled where masked.

        Rows ``idx >= n`` are masked only when CHECK_ROWS (tail blocks); the padded head dim
        only when the head dim is not a power of two (EVEN_D=False). Other tiles load unmasked.
        """
        if CHECK_ROWS:
            if EVEN_D:
                x = tl.load(ptrs, mask=idx[:, None] < n, other=0.0)
            else:
                x = tl.load(ptrs, mask=(idx[:, None] < n) & d_ok[None, :], other=0.0)
        else:
            if EVEN_D:
                x = tl.load(ptrs)
            else:
                x = tl.load(ptrs, mask=d_ok[None, :], other=0.0)
        return x

    @triton.jit
    def _fwd_inner(
        acc, l_i, m_i, q, K_z, V_z, stride_kn, rows, offs_n, offs_d, d_ok,
        lo, hi, n_k, qk_scale,
        BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr, MASKED: tl.constexpr, EVEN_D: tl.constexpr,
    ):  # fmt: skip
        """Key blocks lo..hi of the online-softmax recurrence (3.1) for one query block.

        MASKED=False is used for blocks that lie entirely inside the sequence and (when
        causal) entirely left of the diagonal, so no mask is computed there. Scores stay
        raw (S = Q K^T); m is kept in log2 units, m = max_j S_ij c with c = scale log2(e),
        so that each exponential is exp2(S c - m), one fused multiply-add.
        """
        cols = lo + offs_n
        # int64 row offsets: the pointers then never wrap, however long the sequence
        kv_offs = cols.to(tl.int64)[:, None] * stride_kn + offs_d[None, :]
        k_ptrs, v_ptrs = K_z + kv_offs, V_z + kv_offs
        for start_n in range(lo, hi, BLOCK_N):
            cols = start_n + offs_n
            k = _load_rows(k_ptrs, cols, n_k, d_ok, MASKED, EVEN_D)
            s = tl.dot(q, tl.trans(k))  # S_ij = Q_i K_j^T (scale folded into c below)
            if MASKED:
                valid = cols[None, :] < n_k
                if CAUSAL:
                    valid = valid & (cols[None, :] <= rows[:, None])
                s = tl.where(valid, s, float("-inf"))
            m_new = tl.maximum(m_i, tl.max(s, 1) * qk_scale)  # m' = max(m, rowmax S_ij)
            shift = m_new
            if MASKED:  # a row with every key masked so far: no (-inf) - (-inf)
                shift = tl.where(m_new == float("-inf"), 0.0, m_new)
            p = tl.math.exp2(s * qk_scale - shift[:, None])  # P~_ij = exp(S_ij - m')
            alpha = tl.math.exp2(m_i - shift)  # e^{m - m'}
            l_i = l_i * alpha + tl.sum(p, 1)  # l' = e^{m-m'} l + rowsum P~
            v = _load_rows(v_ptrs, cols, n_k, d_ok, MASKED, EVEN_D)
            acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v)  # o' = e^{m-m'} o + P~ V_j
            m_i = m_new
            k_ptrs += BLOCK_N * stride_kn
            v_ptrs += BLOCK_N * stride_kn
        return acc, l_i, m_i

    @triton.jit
    def _fwd_kernel(
        Q, K, V, O, L,
        stride_qz, stride_qm, stride_kz, stride_kn,
        n_q, n_k, qk_scale,
        HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_M: tl.constexpr,
        BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr,
    ):  # fmt: skip
        """One program per (batch x head, query block): O_i and L_i (log2 units) of (3.1).

        Q and O share strides (Z, N_q, d), K and V share (Z, N_k, d), head dim contiguous.
        The grid is one axis of Z * cdiv(N_q, BLOCK_M) programs, so Z is not capped at 65 535;
        when causal the longest query blocks (the last ones) are started first.
        """
        EVEN_D: tl.constexpr = HEAD_DIM == BLOCK_D
        n_blocks = tl.cdiv(n_q, BLOCK_M)
        pid = tl.program_id(0)
        z = pid // n_blocks
        pid_m = pid % n_blocks
        if CAUSAL:
            pid_m = n_blocks - 1 - pid_m
        rows = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_n = tl.arange(0, BLOCK_N)
        offs_d = tl.arange(0, BLOCK_D)
        d_ok = offs_d < HEAD_DIM
        q_offs = rows.to(tl.int64)[:, None] * stride_qm + offs_d[None, :]
        Q_z, O_z = Q + z.to(tl.int64) * stride_qz, O + z.to(tl.int64) * stride_qz
        K_z, V_z = K + z.to(tl.int64) * stride_kz, V + z.to(tl.int64) * stride_kz
        q = _load_rows(Q_z + q_offs, rows, n_q, d_ok, True, EVEN_D)
        m_i = tl.full([BLOCK_M], float("-inf"), dtype=tl.float32)
        l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
        acc = tl.zeros([BLOCK_M, BLOCK_D], dtype=tl.float32)
        # Stage 1: full key blocks that need no mask (inside the sequence; when causal, left
        # of the diagonal block). Stage 2: the remaining blocks, masked.
        full_end = (n_k // BLOCK_N) * BLOCK_N
        hi = n_k
        if CAUSAL:  # keys j <= i only: stop after the diagonal block
            hi = tl.minimum((pid_m + 1) * BLOCK_M, n_k)
            full_end = tl.minimum(full_end, (pid_m * BLOCK_M // BLOCK_N) * BLOCK_N)
        acc, l_i, m_i = _fwd_inner(
            acc, l_i, m_i, q, K_z, V_z, stride_kn, rows, offs_n, offs_d, d_ok,
            0, full_end, n_k, qk_scale, BLOCK_N, CAUSAL, False, EVEN_D,
        )  # fmt: skip
        acc, l_i, m_i = _fwd_inner(
            acc, l_i, m_i, q, K_z, V_z, stride_kn, rows, offs_n, offs_d, d_ok,
            full_end, hi, n_k, qk_scale, BLOCK_N, CAUSAL, True, EVEN_D,
        )  # fmt: skip
        l_safe = tl.where(l_i == 0.0, 1.0, l_i)
        out = acc / l_safe[:, None]  # O_i = o / l
        # L_i = m + log l, stored in log2 units (L log2(e) = m + log2 l) for the backward
        lse2 = tl.where(l_i == 0.0, float("-inf"), m_i + tl.math.log2(l_safe))
        row_ok = rows < n_q
        if EVEN_D:
            o_mask = row_ok[:, None]
        else:
            o_mask = row_ok[:, None] & d_ok[None, :]
        tl.store(O_z + q_offs, out.to(O.dtype.element_ty), mask=o_mask)
        tl.store(L + z.to(tl.int64) * n_q + rows, lse2, mask=row_ok)

    @triton.jit
    def _bwd_preprocess_kernel(
        O, DO, DELTA, stride_qz, stride_qm, n_q,
        HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_M: tl.constexpr,
    ):  # fmt: skip
        """Delta_i = rowsum(dO_i o O_i) in fp32, one program per (batch x head, row block)."""
        EVEN_D: tl.constexpr = HEAD_DIM == BLOCK_D
        n_blocks = tl.cdiv(n_q, BLOCK_M)
        pid = tl.program_id(0)
        z = pid // n_blocks
        rows = (pid % n_blocks) * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_d = tl.arange(0, BLOCK_D)
        d_ok = offs_d < HEAD_DIM
        offs = z.to(tl.int64) * stride_qz + rows.to(tl.int64)[:, None] * stride_qm + offs_d[None, :]
        o = _load_rows(O + offs, rows, n_q, d_ok, True, EVEN_D).to(tl.float32)
        do = _load_rows(DO + offs, rows, n_q, d_ok, True, EVEN_D).to(tl.float32)
        delta = tl.sum(do * o, 1)  # Delta_i = rowsum(dO o O)
        tl.store(DELTA + z.to(tl.int64) * n_q + rows, delta, mask=rows < n_q)

    @triton.jit
    def _bwd_dkdv_inner(
        dk, dv, k, v, Q_z, DO_z, L_z, D_z, stride_qm, cols, offs_m, offs_d, d_ok,
        lo, hi, n_q, qk_scale,
        BLOCK_M: tl.constexpr, CAUSAL: tl.constexpr, MASKED: tl.constexpr, EVEN_D: tl.constexpr,
    ):  # fmt: skip
        """Query blocks lo..hi of (4.1) for one key block, in transposed form.

        The program computes S^T = K Q^T directly, so P^T and dS^T come out in the layout the
        dV and dK products take as their first operand: no transpose, no trip through shared
        memory. L and Delta are indexed by the query row, i.e. by the column of S^T.
        """
        rows = lo + offs_m
        q_offs = rows.to(tl.int64)[:, None] * stride_qm + offs_d[None, :]
        q_ptrs, do_ptrs = Q_z + q_offs, DO_z + q_offs
        for start_m in range(lo, hi, BLOCK_M):
            rows = start_m + offs_m
            q = _load_rows(q_ptrs, rows, n_q, d_ok, MASKED, EVEN_D)
            do = _load_rows(do_ptrs, rows, n_q, d_ok, MASKED, EVEN_D)
            if MASKED:
                lse2 = tl.load(L_z + rows, mask=rows < n_q, other=0.0)
                delta = tl.load(D_z + rows, mask=rows < n_q, other=0.0)
            else:
                lse2 = tl.load(L_z + rows)
                delta = tl.load(D_z + rows)
            st = tl.dot(k, tl.trans(q))  # S^T = K_j Q_i^T
            pt = tl.math.exp2(st * qk_scale - lse2[None, :])  # P^T = exp(S^T scale - L)
            if MASKED:
                valid = rows[None, :] < n_q
                if CAUSAL:
                    valid = valid & (cols[:, None] <= rows[None, :])
                pt = tl.where(valid, pt, 0.0)
            dv += tl.dot(pt.to(do.dtype), do)  # dV_j += P^T dO_i
            dpt = tl.dot(v, tl.trans(do))  # dP^T = V_j dO_i^T
            dst = pt * (dpt - delta[None, :])  # dS^T = P^T o (dP^T - Delta)
            dk += tl.dot(dst.to(q.dtype), q)  # dK_j += dS^T Q_i (times scale at the end)
            q_ptrs += BLOCK_M * stride_qm
            do_ptrs += BLOCK_M * stride_qm
        return dk, dv

    @triton.jit
    def _bwd_dkdv_kernel(
        Q, K, V, DO, L, DELTA, DK, DV,
        stride_qz, stride_qm, stride_kz, stride_kn,
        n_q, n_k, qk_scale, sm_scale,
        HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_M: tl.constexpr,
        BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr,
    ):  # fmt: skip
        """One program per (batch x head, key block of BLOCK_N rows): dK_j, dV_j of (4.1).

        It walks over query blocks of BLOCK_M rows (BLOCK_N % BLOCK_M == 0): first the
        blocks on the causal diagonal (masked), then the full ones (no mask), then the
        ragged tail (masked). Q, dO share strides; K, V, dK, dV share strides.
        """
        EVEN_D: tl.constexpr = HEAD_DIM == BLOCK_D
        n_blocks = tl.cdiv(n_k, BLOCK_N)
        pid = tl.program_id(0)
        z = pid // n_blocks
        start_n = (pid % n_blocks) * BLOCK_N
        cols = start_n + tl.arange(0, BLOCK_N)
        offs_m = tl.arange(0, BLOCK_M)
        offs_d = tl.arange(0, BLOCK_D)
        d_ok = offs_d < HEAD_DIM
        kv_offs = z.to(tl.int64) * stride_kz + cols.to(tl.int64)[:, None] * stride_kn
        kv_offs = kv_offs + offs_d[None, :]
        k = _load_rows(K + kv_offs, cols, n_k, d_ok, True, EVEN_D)
        v = _load_rows(V + kv_offs, cols, n_k, d_ok, True, EVEN_D)
        Q_z, DO_z = Q + z.to(tl.int64) * stride_qz, DO + z.to(tl.int64) * stride_qz
        L_z, D_z = L + z.to(tl.int64) * n_q, DELTA + z.to(tl.int64) * n_q
        dk = tl.zeros([BLOCK_N, BLOCK_D], dtype=tl.float32)
        dv = tl.zeros([BLOCK_N, BLOCK_D], dtype=tl.float32)
        full_end = (n_q // BLOCK_M) * BLOCK_M
        if CAUSAL:  # rows i >= j only: start at the query block holding row start_n
            lo = (start_n // BLOCK_M) * BLOCK_M
            mid = start_n + BLOCK_N  # query blocks from here on lie below the diagonal
            dk, dv = _bwd_dkdv_inner(
                dk, dv, k, v, Q_z, DO_z, L_z, D_z, stride_qm, cols, offs_m, offs_d, d_ok,
                lo, tl.minimum(mid, n_q), n_q, qk_scale, BLOCK_M, CAUSAL, True, EVEN_D,
            )  # fmt: skip
            tail = tl.maximum(mid, full_end)
        else:
            mid = 0
            tail = full_end
        dk, dv = _bwd_dkdv_inner(
            dk, dv, k, v, Q_z, DO_z, L_z, D_z, stride_qm, cols, offs_m, offs_d, d_ok,
            mid, full_end, n_q, qk_scale, BLOCK_M, CAUSAL, False, EVEN_D,
        )  # fmt: skip
        dk, dv = _bwd_dkdv_inner(
            dk, dv, k, v, Q_z, DO_z, L_z, D_z, stride_qm, cols, offs_m, offs_d, d_ok,
            tail, n_q, n_q, qk_scale, BLOCK_M, CAUSAL, True, EVEN_D,
        )  # fmt: skip
        if EVEN_D:
            kv_mask = cols[:, None] < n_k
        else:
            kv_mask = (cols[:, None] < n_k) & d_ok[None, :]
        tl.store(
            DK + kv_offs, (dk * sm_scale).to(DK.dtype.element_ty), mask=kv_mask
        )  # dK = scale dS^T Q
        tl.store(DV + kv_offs, dv.to(DV.dtype.element_ty), mask=kv_mask)

    @triton.jit
    def _bwd_dq_inner(
        dq, q, do, lse2, delta, K_z, V_z, stride_kn, rows, offs_n, offs_d, d_ok,
        lo, hi, n_k, qk_scale,
        BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr, MASKED: tl.constexpr, EVEN_D: tl.constexpr,
    ):  # fmt: skip
        """Key blocks lo..hi of (4.1) for one query block: dQ_i += dS_ij K_j."""
        cols = lo + offs_n
        kv_offs = cols.to(tl.int64)[:, None] * stride_kn + offs_d[None, :]
        k_ptrs, v_ptrs = K_z + kv_offs, V_z + kv_offs
        for start_n in range(lo, hi, BLOCK_N):
            cols = start_n + offs_n
            k = _load_rows(k_ptrs, cols, n_k, d_ok, MASKED, EVEN_D)
            v = _load_rows(v_ptrs, cols, n_k, d_ok, MASKED, EVEN_D)
            s = tl.dot(q, tl.trans(k))  # S = Q_i K_j^T
            p = tl.math.exp2(s * qk_scale - lse2[:, None])  # P = exp(S scale - L)
            if MASKED:
                valid = cols[None, :] < n_k
                if CAUSAL:
                    valid = valid & (cols[None, :] <= rows[:, None])
                p = tl.where(valid, p, 0.0)
            dp = tl.dot(do, tl.trans(v))  # dP = dO_i V_j^T
            ds = p * (dp - delta[:, None])  # dS = P o (dP - Delta)
            dq += tl.dot(ds.to(k.dtype), k)  # dQ_i += dS K_j (times scale at the end)
            k_ptrs += BLOCK_N * stride_kn
            v_ptrs += BLOCK_N * stride_kn
        return dq

    @triton.jit
    def _bwd_dq_kernel(
        Q, K, V, DO, L, DELTA, DQ,
        stride_qz, stride_qm, stride_kz, stride_kn,
        n_q, n_k, qk_scale, sm_scale,
        HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_M: tl.constexpr,
        BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr,
    ):  # fmt: skip
        """One program per (batch x head, query block of BLOCK_M rows): dQ_i of (4.1).

        Key blocks of BLOCK_N (BLOCK_M % BLOCK_N == 0): the full ones left of the diagonal
        without a mask, then the diagonal and ragged-tail blocks with one.
        """
        EVEN_D: tl.constexpr = HEAD_DIM == BLOCK_D
        n_blocks = tl.cdiv(n_q, BLOCK_M)
        pid = tl.program_id(0)
        z = pid // n_blocks
        pid_m = pid % n_blocks
        if CAUSAL:
            pid_m = n_blocks - 1 - pid_m
        start_m = pid_m * BLOCK_M
        rows = start_m + tl.arange(0, BLOCK_M)
        offs_n = tl.arange(0, BLOCK_N)
        offs_d = tl.arange(0, BLOCK_D)
        d_ok = offs_d < HEAD_DIM
        q_offs = z.to(tl.int64) * stride_qz + rows.to(tl.int64)[:, None] * stride_qm
        q_offs = q_offs + offs_d[None, :]
        q = _load_rows(Q + q_offs, rows, n_q, d_ok, True, EVEN_D)
        do = _load_rows(DO + q_offs, rows, n_q, d_ok, True, EVEN_D)
        row_ok = rows < n_q
        lse2 = tl.load(L + z.to(tl.int64) * n_q + rows, mask=row_ok, other=0.0)
        delta = tl.load(DELTA + z.to(tl.int64) * n_q + rows, mask=row_ok, other=0.0)
        K_z, V_z = K + z.to(tl.int64) * stride_kz, V + z.to(tl.int64) * stride_kz
        dq = tl.zeros([BLOCK_M, BLOCK_D], dtype=tl.float32)
        full_end = (n_k // BLOCK_N) * BLOCK_N
        hi = n_k
        if CAUSAL:  # keys j <= i only
            hi = tl.minimum(start_m + BLOCK_M, n_k)
            full_end = tl.minimum(full_end, start_m)
        dq = _bwd_dq_inner(
            dq, q, do, lse2, delta, K_z, V_z, stride_kn, rows, offs_n, offs_d, d_ok,
            0, full_end, n_k, qk_scale, BLOCK_N, CAUSAL, False, EVEN_D,
        )  # fmt: skip
        dq = _bwd_dq_inner(
            dq, q, do, lse2, delta, K_z, V_z, stride_kn, rows, offs_n, offs_d, d_ok,
            full_end, hi, n_k, qk_scale, BLOCK_N, CAUSAL, True, EVEN_D,
        )  # fmt: skip
        if EVEN_D:
            q_mask = row_ok[:, None]
        else:
            q_mask = row_ok[:, None] & d_ok[None, :]
        tl.store(
            DQ + q_offs, (dq * sm_scale).to(DQ.dtype.element_ty), mask=q_mask
        )  # dQ = scale dS K


class TileConfig(NamedTuple):
    """Block sizes and launch options of one kernel launch."""

    block_m: int  # query rows per block
    block_n: int  # key rows per block
    num_warps: int
    num_stages: int


# GPU configurations per architecture (sm_90 Hopper, sm_80 Ampere and later non-Hopper) and
# kernel, for head dims up to 64 and up to 128; the first that fits the device's shared memory
# is the default, and compiles without register spills for 16-bit inputs (the compile test
# checks it). Rules (checked by the tests): the rows of every block product, BLOCK_M for the
# forward and dQ, BLOCK_N for dK/dV, are at least 16 per warp, so no warp repeats another's
# products (a 64-row tile on 8 warps computes everything twice); the inner block divides the
# outer one, so the diagonal blocks are whole steps of the loop.
_C = TileConfig
GPU_CONFIGS: dict[int, dict[str, dict[int, list[TileConfig]]]] = {
    90: {
        "fwd": {
            64: [_C(128, 64, 4, 3), _C(128, 128, 8, 3), _C(64, 64, 4, 3)],
            128: [_C(128, 64, 8, 3), _C(128, 64, 8, 2), _C(64, 64, 4, 2)],
        },
        "dkdv": {
            64: [_C(64, 128, 8, 2), _C(32, 128, 8, 2), _C(32, 64, 4, 3)],
            128: [_C(32, 128, 8, 2), _C(32, 64, 4, 2)],
        },
        "dq": {
            64: [_C(128, 32, 4, 3), _C(128, 64, 8, 2), _C(64, 32, 4, 3)],
            128: [_C(128, 32, 8, 2), _C(128, 64, 8, 2), _C(64, 32, 4, 2)],
        },
    },
    80: {
        "fwd": {
            64: [_C(128, 128, 8, 3), _C(64, 64, 4, 3), _C(128, 64, 8, 3)],
            128: [_C(128, 32, 8, 2), _C(64, 32, 4, 2), _C(128, 64, 8, 3)],
        },
        "dkdv": {
            64: [_C(32, 64, 4, 3), _C(64, 128, 8, 2), _C(32, 128, 8, 2)],
            128: [_C(32, 64, 4, 2), _C(32, 128, 8, 2)],
        },
        "dq": {
            64: [_C(128, 64, 8, 2), _C(64, 32, 4, 3), _C(128, 32, 4, 3)],
            128: [_C(128, 32, 8, 2), _C(64, 32, 4, 2)],
        },
    },
}
KINDS = ("fwd", "dkdv", "dq")
PREPROCESS_CONFIG = _C(128, 1, 4, 1)  # Delta: BLOCK_M rows per program
# Under the interpreter small blocks keep the NumPy emulation fast; the inner block is half the
# outer one so that the diagonal logic is exercised with unequal blocks, as on a GPU.
INTERPRETER_CONFIGS = {"fwd": _C(32, 16, 4, 1), "dkdv": _C(16, 32, 4, 1), "dq": _C(32, 16, 4, 1)}


def _arch(major: int) -> int:
    """The table for a compute capability major version: Hopper (9) or the Ampere one."""
    return 90 if major == 9 else 80


def kernel_configs(kind: str, block_d: int, arch: int = 90) -> list[TileConfig]:
    """GPU configurations of kernel ``kind`` ('fwd', 'dkdv', 'dq') for a padded head dim
    and an architecture (90: sm_90; 80: sm_80 and other non-Hopper GPUs)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    if block_d not in (16, 32, 64, 128):
        raise ValueError(f"block_d must be 16, 32, 64 or 128, got {block_d}")
    if arch not in GPU_CONFIGS:
        raise ValueError(f"arch must be one of {sorted(GPU_CONFIGS)}, got {arch!r}")
    return GPU_CONFIGS[arch][kind][64 if block_d <= 64 else 128]


def shared_memory_estimate(kind: str, cfg: TileConfig, block_d: int, elem_bytes: int) -> int:
    """Bytes of shared memory a launch needs, an upper bound checked against the compiler.

    Tiles that stay for the whole program are held once; tiles streamed by the loop are held
    ``num_stages`` times (the software pipeline's buffers). Forward: Q stays, K and V stream.
    dK/dV: K and V stay, Q and dO stream (with their L and Delta). dQ: Q and dO stay, K, V
    stream. A further block of BLOCK_M x BLOCK_N elements covers layout conversions.
    """
    bm, bn, _, stages = cfg
    tile = block_d * elem_bytes
    scratch = bm * bn * elem_bytes
    if kind == "fwd":
        return bm * tile + 2 * stages * bn * tile + scratch
    if kind == "dkdv":
        return 2 * bn * tile + stages * bm * (2 * tile + 8) + scratch
    if kind == "dq":
        return 2 * bm * tile + 2 * stages * bn * tile + scratch
    raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")


def _fitting(
    kind: str, block_d: int, elem_bytes: int, max_shared: int, arch: int = 90
) -> list[TileConfig]:
    """The configurations that fit ``max_shared`` bytes, in table order (at least one)."""
    configs = kernel_configs(kind, block_d, arch)
    fit = [c for c in configs if shared_memory_estimate(kind, c, block_d, elem_bytes) <= max_shared]
    if fit:
        return fit
    return [min(configs, key=lambda c: shared_memory_estimate(kind, c, block_d, elem_bytes))]


def _device_arch(device: torch.device) -> int:
    return _arch(torch.cuda.get_device_capability(device)[0])


def _max_shared(device: torch.device) -> int:
    """Shared memory one block may use on ``device`` (opt-in limit: 227 KB H100, 163 KB A100)."""
    props = torch.cuda.get_device_properties(device)
    return int(getattr(props, "shared_memory_per_block_optin", 0) or props.shared_memory_per_block)


def _autotune_enabled() -> bool:
    return os.environ.get("COURSE_TRITON_AUTOTUNE", "1") != "0"


def _tuned(kernel, kind: str):
    """``kernel`` autotuned over every table entry of ``kind``, pruned per launch to the
    entries of its head dim that fit the device's shared memory (the key includes dtypes)."""
    entries = sorted({c for a in GPU_CONFIGS.values() for table in a[kind].values() for c in table})

    def prune(configs, named_args, **kwargs):
        meta = {**named_args, **kwargs}
        block_d, elem, device = meta["BLOCK_D"], meta["Q"].element_size(), meta["Q"].device
        fit = set(_fitting(kind, block_d, elem, _max_shared(device), _device_arch(device)))
        keep = [c for c in configs if _from_triton(c) in fit]
        return keep

    return triton.autotune(
        configs=[
            triton.Config(
                {"BLOCK_M": c.block_m, "BLOCK_N": c.block_n},
                num_warps=c.num_warps,
                num_stages=c.num_stages,
            )
            for c in entries
        ],
        key=["n_q", "n_k", "HEAD_DIM", "CAUSAL"],
        prune_configs_by={"early_config_prune": prune},
    )(kernel)


def _from_triton(config) -> TileConfig:
    kw = config.kwargs
    return TileConfig(kw["BLOCK_M"], kw["BLOCK_N"], config.num_warps, config.num_stages)


# Autotuning launches kernels, so the tuned wrappers exist only when CUDA does.
_TUNED = {}
if triton is not None and torch.cuda.is_available() and not interpreter_active():
    _TUNED = {
        "fwd": _tuned(_fwd_kernel, "fwd"),
        "dkdv": _tuned(_bwd_dkdv_kernel, "dkdv"),
        "dq": _tuned(_bwd_dq_kernel, "dq"),
    }

#: the configuration each kernel last ran with, {kind: TileConfig} (the benchmark records it)
LAST_CONFIGS: dict[str, TileConfig] = {}


def _launch(kind: str, kernel, n_rows: int, z: int, args: tuple, block_d: int, **meta) -> None:
    """Launch ``kernel`` over z * cdiv(n_rows, block) programs with its tuned or fixed config."""
    device = args[0].device
    if device.type == "cuda" and kind in _TUNED and _autotune_enabled():
        tuned = _TUNED[kind]
        key = "BLOCK_N" if kind == "dkdv" else "BLOCK_M"
        tuned[lambda m: (triton.cdiv(n_rows, m[key]) * z,)](*args, BLOCK_D=block_d, **meta)
        if tuned.best_config is not None:
            LAST_CONFIGS[kind] = _from_triton(tuned.best_config)
        return
    if device.type == "cuda":
        elem = args[0].element_size()
        cfg = _fitting(kind, block_d, elem, _max_shared(device), _device_arch(device))[0]
    else:
        cfg = INTERPRETER_CONFIGS[kind]
    block = cfg.block_n if kind == "dkdv" else cfg.block_m
    kernel[(triton.cdiv(n_rows, block) * z,)](
        *args, BLOCK_D=block_d, BLOCK_M=cfg.block_m, BLOCK_N=cfg.block_n,
        num_warps=cfg.num_warps, num_stages=cfg.num_stages, **meta,
    )  # fmt: skip
    LAST_CONFIGS[kind] = cfg


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
    if q.shape[-2] == 0 or k.shape[-2] == 0:
        raise ValueError(f"N_q and N_k must be at least 1, got {q.shape[-2]} and {k.shape[-2]}")
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
    """O and the log-sum-exp in log2 units, L log2(e), shaped (..., N_q)."""
    q3, k3, v3 = _flatten(q), _flatten(k), _flatten(v)
    z, n_q, d = q3.shape
    n_k = k3.shape[1]
    out = torch.empty_like(q3)
    lse2 = torch.empty(z, n_q, dtype=torch.float32, device=q.device)
    args = (
        q3, k3, v3, out, lse2, q3.stride(0), q3.stride(1), k3.stride(0), k3.stride(1),
        n_q, n_k, scale * LOG2E,
    )  # fmt: skip
    _launch("fwd", _fwd_kernel, n_q, z, args, block_d, HEAD_DIM=d, CAUSAL=causal)
    return out.reshape(q.shape), lse2.reshape(q.shape[:-1])


def _backward(q, k, v, out, lse2, d_out, causal: bool, scale: float, block_d: int):
    q3, k3, v3, do3, o3 = (_flatten(t) for t in (q, k, v, d_out, out))
    z, n_q, d = q3.shape
    n_k = k3.shape[1]
    lse2 = lse2.reshape(z, n_q).contiguous()
    delta = torch.empty(z, n_q, dtype=torch.float32, device=q.device)
    pre = PREPROCESS_CONFIG
    _bwd_preprocess_kernel[(triton.cdiv(n_q, pre.block_m) * z,)](
        o3, do3, delta, q3.stride(0), q3.stride(1), n_q,
        HEAD_DIM=d, BLOCK_D=block_d, BLOCK_M=pre.block_m, num_warps=pre.num_warps,
    )  # fmt: skip
    dq, dk, dv = torch.empty_like(q3), torch.empty_like(k3), torch.empty_like(v3)
    strides = (q3.stride(0), q3.stride(1), k3.stride(0), k3.stride(1))
    scalars = (n_q, n_k, scale * LOG2E, scale)
    meta = dict(HEAD_DIM=d, CAUSAL=causal)
    dkdv_args = (q3, k3, v3, do3, lse2, delta, dk, dv, *strides, *scalars)
    _launch("dkdv", _bwd_dkdv_kernel, n_k, z, dkdv_args, block_d, **meta)
    dq_args = (q3, k3, v3, do3, lse2, delta, dq, *strides, *scalars)
    _launch("dq", _bwd_dq_kernel, n_q, z, dq_args, block_d, **meta)
    return dq.reshape(q.shape), dk.reshape(k.shape), dv.reshape(v.shape)


class FlashAttentionFunction(torch.autograd.Function):
    """Autograd wrapper of the Triton kernels; saves Q, K, V, O and L (log2 units)."""

    @staticmethod
    def forward(ctx, q, k, v, is_causal, scale):  # noqa: D102
        block_d = _check_inputs(q, k, v)
        scale = resolve_scale(scale, q.shape[-1])
        out, lse2 = _forward(q, k, v, is_causal, scale, block_d)
        ctx.save_for_backward(q, k, v, out, lse2)
        ctx.config = (is_causal, scale, block_d)
        return out

    @staticmethod
    def backward(ctx, d_out):  # noqa: D102
        q, k, v, out, lse2 = ctx.saved_tensors
        is_causal, scale, block_d = ctx.config
        dq, dk, dv = _backward(q, k, v, out, lse2, d_out, is_causal, scale, block_d)
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
    interpreter. ``is_causal`` masks keys j > i (top-left aligned) as SDPA does.
    """
    return FlashAttentionFunction.apply(q, k, v, check_flag(is_causal, "is_causal"), scale)
