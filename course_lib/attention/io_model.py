r"""IO complexity of attention: HBM element reads and writes (section 5).

Counts are in elements (multiply by the element size for bytes); N is the sequence length,
d the head dim, M the on-chip memory (SRAM) in elements, per (batch, head).

**Standard attention** (three kernels, S and P written to HBM and read back):

    S = Q K^T:     read Q, K (2 N d),     write S (N^2)
    P = softmax S: read S (N^2),          write P (N^2)
    O = P V:       read P, V (N^2 + N d), write O (N d)
    total = 4 N d + 4 N^2 = Theta(N d + N^2).                                          (5.1)

**Tiled attention.** Row blocks of B_r queries and column blocks of B_c keys are chosen to fit
on chip: B_c = ceil(M / (4 d)), B_r = min(B_c, d) (the FlashAttention paper's choice). With
T_r = ceil(N / B_r) query blocks and T_c = ceil(N / B_c) key blocks, the two loop orders move

    FlashAttention-2 order (Q blocks outer, K/V inner; O, l, m stay on chip):
        reads  N d (Q) + 2 N d T_r (all of K, V per query block),
        writes N d (O) + N (L),                                                       (5.2a)
    FlashAttention-1 order (K/V blocks outer, Q inner; O, l, m live in HBM):
        reads  2 N d (K, V once) + T_c (2 N d + 2 N) (Q_i, O_i, l_i, m_i per K/V block),
        writes (T_c + 1)(N d + 2 N) (initialise O, l, m; write them back per K/V block).  (5.2b)

So (5.2b) is ~ 12 N^2 d^2 / M = Theta(N^2 d^2 / M) for 4d <= M <= 4Nd (then T_c = 1).
(5.2a) is ~ 8 N^2 d^2 / M only while B_r = B_c < d, i.e. 4d <= M < 4d^2; from M >= 4d^2 on,
B_r = d and the traffic is flat at about 2 N^2 + 2 N d: the d-cap on B_r, not M, limits it.

:func:`replay_tiled_io` walks the loops of either order block by block (ragged last blocks,
optional causal skipping) and counts every HBM element read and written; it is the
independent route the closed forms (5.2a)-(5.2b) are checked against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..validation import check_int

__all__ = [
    "LOOP_ORDERS",
    "IOCount",
    "attention_flops",
    "io_model_mismatches",
    "replay_tiled_io",
    "standard_io",
    "tile_schedule",
    "tiled_block_sizes",
    "tiled_io",
    "tiled_traffic_after",
]


@dataclass(frozen=True)
class IOCount:
    """HBM element reads and writes of one attention pass (per batch and head)."""

    reads: int
    writes: int

    @property
    def total(self) -> int:
        """reads + writes."""
        return self.reads + self.writes

    def bytes(self, element_size: int = 2) -> int:
        """Traffic in bytes for ``element_size``-byte elements (2 for fp16/bf16)."""
        return self.total * element_size


def standard_io(n: int, d: int) -> IOCount:
    """HBM traffic of standard attention, eq. (5.1): reads 3Nd + 2N^2, writes Nd + 2N^2."""
    n, d = check_int(n, "n", minimum=1), check_int(d, "d", minimum=1)
    reads = 2 * n * d + n * n + (n * n + n * d)  # Q,K | S | P,V
    writes = n * n + n * n + n * d  # S | P | O
    return IOCount(reads, writes)


def tiled_block_sizes(d: int, m: int) -> tuple[int, int]:
    """(B_r, B_c) = (min(ceil(M / 4d), d), ceil(M / 4d)): Q, K, V, O blocks fit in M."""
    d, m = check_int(d, "d", minimum=1), check_int(m, "m", minimum=1)
    if m < 4 * d:
        raise ValueError(f"on-chip memory M must hold at least 4 d = {4 * d} elements, got {m}")
    b_c = math.ceil(m / (4 * d))
    return min(b_c, d), b_c


#: The two loop orders of the tiled forward: "fa2" (Q blocks outer), "fa1" (K/V blocks outer).
LOOP_ORDERS = ("fa2", "fa1")


def _check_loop_order(loop_order: str) -> str:
    if loop_order not in LOOP_ORDERS:
        raise ValueError(f"loop_order must be one of {LOOP_ORDERS}, got {loop_order!r}")
    return loop_order


def tiled_io(n: int, d: int, m: int, loop_order: str = "fa2") -> IOCount:
    """HBM traffic of tiled attention (non-causal): eq. (5.2a) for "fa2", (5.2b) for "fa1"."""
    n = check_int(n, "n", minimum=1)
    loop_order = _check_loop_order(loop_order)
    b_r, b_c = tiled_block_sizes(d, m)
    if loop_order == "fa2":
        t_r = math.ceil(n / b_r)  # number of query blocks
        reads = n * d + 2 * n * d * t_r  # Q once, K and V once per query block
        writes = n * d + n  # O and the log-sum-exp L
    else:
        t_c = math.ceil(n / b_c)  # number of key/value blocks
        reads = 2 * n * d + t_c * (2 * n * d + 2 * n)  # K, V once; Q, O, l, m per K/V block
        writes = (t_c + 1) * (n * d + 2 * n)  # O, l, m initialised, then written per K/V block
    return IOCount(reads, writes)


def replay_tiled_io(
    n: int, d: int, block_q: int, block_k: int, loop_order: str = "fa2", is_causal: bool = False
) -> IOCount:
    """Walk the tiled forward's loops and count HBM element reads and writes, block by block.

    "fa2": for each query block i, load Q_i; for each key block j it needs, load K_j and V_j;
    then store O_i and L_i. "fa1": store the initial O, l, m; for each key block j, load K_j
    and V_j; for each query block i that sees it, load Q_i, O_i, l_i, m_i and store O_i, l_i,
    m_i. With ``is_causal``, key blocks wholly right of a query block's last row are skipped.
    """
    n, d = check_int(n, "n", minimum=1), check_int(d, "d", minimum=1)
    block_q = check_int(block_q, "block_q", minimum=1)
    block_k = check_int(block_k, "block_k", minimum=1)
    loop_order = _check_loop_order(loop_order)
    q_blocks = [(i0, min(i0 + block_q, n)) for i0 in range(0, n, block_q)]
    k_blocks = [(j0, min(j0 + block_k, n)) for j0 in range(0, n, block_k)]
    reads = writes = 0
    if loop_order == "fa2":
        for i0, i1 in q_blocks:
            reads += (i1 - i0) * d  # Q_i
            for j0, j1 in k_blocks:
                if is_causal and j0 > i1 - 1:  # every key of the block lies right of the diagonal
                    break
                reads += 2 * (j1 - j0) * d  # K_j, V_j
            writes += (i1 - i0) * (d + 1)  # O_i, L_i
        return IOCount(reads, writes)
    writes += n * (d + 2)  # O = 0, l = 0, m = -inf in HBM
    for j0, j1 in k_blocks:
        reads += 2 * (j1 - j0) * d  # K_j, V_j
        for i0, i1 in q_blocks:
            if is_causal and j0 > i1 - 1:
                continue
            reads += (i1 - i0) * (2 * d + 2)  # Q_i, O_i, l_i, m_i
            writes += (i1 - i0) * (d + 2)  # O_i, l_i, m_i
    return IOCount(reads, writes)


def io_model_mismatches(
    model,
    ns: tuple[int, ...],
    d: int,
    ms: tuple[int, ...],
    loop_orders: tuple[str, ...] = LOOP_ORDERS,
) -> list[tuple[str, int, int, IOCount, IOCount]]:
    """Cases (loop order, N, M, model count, replayed count) where ``model`` != the replay.

    ``model(n, d, m, loop_order)`` is a closed form such as :func:`tiled_io`; the replay uses
    the same block sizes (:func:`tiled_block_sizes`). An empty list means the model is exact.
    """
    bad = []
    for order in loop_orders:
        for n in ns:
            for m in ms:
                b_r, b_c = tiled_block_sizes(d, m)
                replayed = replay_tiled_io(n, d, b_r, b_c, order)
                predicted = model(n, d, m, order)
                if predicted != replayed:
                    bad.append((order, n, m, predicted, replayed))
    return bad


def attention_flops(batch_heads: int, n: int, d: int, *, is_causal: bool = False) -> float:
    """Forward FLOPs 4 B H N^2 d (QK^T and PV, 2 flops per multiply-add), halved if causal."""
    batch_heads, n, d = (
        check_int(batch_heads, "batch_heads", minimum=1),
        check_int(n, "n", minimum=1),
        check_int(d, "d", minimum=1),
    )
    total = 4.0 * batch_heads * n * n * d
    return total / 2 if is_causal else total


def tile_schedule(
    n: int, block_q: int, block_k: int, is_causal: bool = False
) -> list[tuple[int, int]]:
    """(query block, key block) pairs in FlashAttention-2 order: Q blocks outer, K/V inner.

    With ``is_causal``, a query block stops after the key block that holds its last row.
    """
    n, block_q, block_k = (
        check_int(n, "n", minimum=1),
        check_int(block_q, "block_q", minimum=1),
        check_int(block_k, "block_k", minimum=1),
    )
    order = []
    for i in range(math.ceil(n / block_q)):
        last_row = min((i + 1) * block_q, n) - 1
        n_kv = last_row // block_k + 1 if is_causal else math.ceil(n / block_k)
        order.extend((i, j) for j in range(n_kv))
    return order


def tiled_traffic_after(
    n: int, d: int, block_q: int, block_k: int, step: int, is_causal: bool = False
) -> IOCount:
    """HBM traffic of the tiled forward up to and including ``step`` of :func:`tile_schedule`.

    Reads: each query block Q_a once when it starts, K_b and V_b at every step. Writes: O_a
    and L_a when query block a finishes (blocks before the current one).
    """
    schedule = tile_schedule(n, block_q, block_k, is_causal)
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < len(schedule):
        raise ValueError(f"step must be an int in [0, {len(schedule) - 1}], got {step!r}")
    i = schedule[step][0]
    q_rows = min((i + 1) * block_q, n)  # Q_0 .. Q_i loaded
    kv_rows = sum(min((b + 1) * block_k, n) - b * block_k for _, b in schedule[: step + 1])
    done_rows = min(i * block_q, n)  # O and L of finished query blocks written
    return IOCount(reads=q_rows * d + 2 * kv_rows * d, writes=done_rows * (d + 1))
