"""Chapter 07 exercises. References are computed by the library, never hard-coded."""

from __future__ import annotations

import math

import torch

from ..checks import Exercise, ExerciseSet, function_answer, numeric_answer
from .io_model import attention_flops, standard_io, tiled_block_sizes
from .reference import online_softmax_states


def _combine_reference(m1: float, l1: float, m2: float, l2: float) -> tuple[float, float]:
    """Merge two online-softmax states (m1, l1), (m2, l2) of disjoint chunks."""
    m = max(m1, m2)
    # l = l1 e^{m1 - m} + l2 e^{m2 - m}
    return m, l1 * math.exp(m1 - m) + l2 * math.exp(m2 - m)


def _s_matrix_bytes() -> int:
    # S for B=1, H=16, N=8192 in float32: B H N^2 4 bytes
    return 16 * 8192 * 8192 * 4


def _running_sum_after_two_chunks() -> float:
    x = torch.tensor([0.5, 2.0, -1.0, 3.0, 0.0, 4.5], dtype=torch.float64)
    states = list(online_softmax_states(x, 2))
    return states[1].l.item()


EXERCISES = ExerciseSet(
    "07",
    [
        Exercise(
            "07.1",
            "Standard attention for one head with N = 4096, d = 64: how many elements does it "
            "move between HBM and the chip (reads + writes)?",
            numeric_answer(lambda: standard_io(4096, 64).total, rtol=0, atol=0.5),
            hint="S and P are each written and read once; Q, K, V are read and O written: "
            "4Nd + 4N^2.",
        ),
        Exercise(
            "07.2",
            "Write combine(m1, l1, m2, l2) returning (m, l) for the union of two chunks whose "
            "online-softmax states are (m1, l1) and (m2, l2).",
            function_answer(
                _combine_reference,
                [
                    (0.0, 1.0, 0.0, 1.0),
                    (1.0, 2.0, 3.0, 0.5),
                    (5.0, 1.5, -2.0, 4.0),
                    (-1.0, 3.0, -1.0, 0.25),
                ],
                rtol=1e-9,
            ),
            hint="m = max(m1, m2); each sum is rescaled by exp(m_i - m) before adding.",
        ),
        Exercise(
            "07.3",
            "Scores x = [0.5, 2.0, -1.0, 3.0, 0.0, 4.5] are processed in chunks of 2. What is the "
            "running sum l after the second chunk?",
            numeric_answer(_running_sum_after_two_chunks, rtol=1e-9),
            hint="After chunk 2, m = 3.0 and l = e^{0.5-3} + e^{2-3} + e^{-1-3} + e^{3-3}.",
        ),
        Exercise(
            "07.4",
            "How many bytes does the float32 score matrix S take for batch 1, 16 heads and "
            "N = 8192?",
            numeric_answer(_s_matrix_bytes, rtol=0, atol=0.5),
            hint="B H N^2 entries of 4 bytes each (this is 4 GiB).",
        ),
        Exercise(
            "07.5",
            "With on-chip memory M = 16384 elements and d = 64, what query block size B_r does the "
            "FlashAttention paper's rule give?",
            numeric_answer(lambda: tiled_block_sizes(64, 16384)[0], rtol=0, atol=0.5),
            hint="B_c = ceil(M / 4d) and B_r = min(B_c, d).",
        ),
        Exercise(
            "07.6",
            "How many FLOPs does a causal attention forward take for B H = 32, N = 2048, d = 128?",
            numeric_answer(lambda: attention_flops(32, 2048, 128, is_causal=True), rtol=1e-12),
            hint="Two matmuls of 2 N^2 d flops each per head, and causal masking halves the work.",
        ),
    ],
)

check = EXERCISES.check
