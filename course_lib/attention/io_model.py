r"""IO complexity of attention: HBM element reads and writes (section 5).

Counts are in elements (multiply by the element size for bytes); N is the sequence length,
d the head dim, M the on-chip memory (SRAM) in elements, per (batch, head).

**Standard attention** (three kernels, S and P written to HBM and read back):

    S = Q K^T:     read Q, K (2 N d),     write S (N^2)
    P = softmax S: read S (N^2),          write P (N^2)
    O = P V:       read P, V (N^2 + N d), write O (N d)
    total = 4 N d + 4 N^2 = Theta(N d + N^2).                                          (5.1)

**Tiled attention** (FlashAttention-2 order): with row blocks of B_r queries and column
blocks of B_c keys chosen to fit on chip, B_c = ceil(M / (4 d)), B_r = min(B_c, d) (the
FlashAttention paper's choice), each of the T_r = ceil(N / B_r) query blocks is read once and
streams all of K and V:

    read Q (N d) + read K, V once per query block (2 N d T_r) + write O (N d) + write L (N)
    = Theta(N^2 d^2 / M)   for d <= M <= N d.                                          (5.2)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..validation import check_int

__all__ = [
    "IOCount",
    "attention_flops",
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


def tiled_io(n: int, d: int, m: int) -> IOCount:
    """HBM traffic of tiled attention, eq. (5.2): Nd + 2Nd T_r reads, Nd + N writes."""
    n = check_int(n, "n", minimum=1)
    b_r, _ = tiled_block_sizes(d, m)
    t_r = math.ceil(n / b_r)  # number of query blocks
    reads = n * d + 2 * n * d * t_r  # Q once, K and V once per query block
    writes = n * d + n  # O and the log-sum-exp L
    return IOCount(reads, writes)


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
