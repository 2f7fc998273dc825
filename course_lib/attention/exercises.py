"""Chapter 07 exercises. References are computed by the library, never hard-coded.

Notebooks import :func:`course_lib.checks.check` and :func:`course_lib.checks.hint`;
this module only defines and registers the exercises (see :mod:`course_lib.checks`).
"""

from __future__ import annotations

import math

import torch

from ..checks import Exercise, ExerciseSet, float_answer, function_answer, integer_answer
from . import attention_flops, online_softmax_states, standard_io, tiled_block_sizes

__all__ = ["EXERCISES"]

_SCORES = (0.5, 2.0, -1.0, 3.0, 0.0, 4.5)


def _combine_reference(m1: float, l1: float, m2: float, l2: float) -> tuple[float, float]:
    """Merge the online-softmax states of two disjoint chunks by running the library on a
    pair of scores that reproduces each state: a chunk with state (m, l) is equivalent to
    the single score m + log l (its max is m, its sum of exp(x - m) is l)."""
    x = torch.tensor([m1 + math.log(l1), m2 + math.log(l2)], dtype=torch.float64)
    state = list(online_softmax_states(x, 2))[-1]
    m = max(m1, m2)
    # the library's state is relative to max(x); re-express it relative to m = max(m1, m2)
    return float(m), state.l.item() * math.exp(state.m.item() - m)


def _s_matrix_bytes() -> int:
    """Bytes of a float32 S of shape (B, H, N, N) = (1, 16, 8192, 8192), from torch's own
    size arithmetic on a meta tensor (nothing is allocated)."""
    s = torch.empty(1, 16, 8192, 8192, dtype=torch.float32, device="meta")
    return s.numel() * s.element_size()


def _running_sum_after_two_chunks() -> float:
    states = list(online_softmax_states(torch.tensor(_SCORES, dtype=torch.float64), 2))
    return states[1].l.item()


EXERCISES = ExerciseSet(
    "07",
    [
        Exercise(
            "07.1",
            "Standard attention for one head with N = 4096, d = 64: how many elements does it "
            "move between HBM and the chip (reads + writes)?",
            lambda: standard_io(4096, 64).total,
            integer_answer(),
            inputs=(4096, 64),
            hints=(
                "List every matrix that standard attention reads from or writes to HBM: "
                "Q, K, V, S, P and O.",
                "S = QK^T is written, then read back for the softmax; P is written, then read "
                "back for PV.",
                "Q, K, V and O hold N d elements each and are moved once; S and P hold N^2 "
                "elements each and are moved twice.",
            ),
        ),
        Exercise(
            "07.2",
            "Write combine(m1, l1, m2, l2) returning (m, l) for the union of two chunks whose "
            "online-softmax states are (m1, l1) and (m2, l2).",
            _combine_reference,
            function_answer(
                [
                    (0.0, 1.0, 0.0, 1.0),
                    (1.0, 2.0, 3.0, 0.5),
                    (5.0, 1.5, -2.0, 4.0),
                    (-1.0, 3.0, -1.0, 0.25),
                ],
                "combine(m1, l1, m2, l2) -> (m, l), a pair of floats",
            ),
            hints=(
                "A state is (running max m_i, sum of exp(x - m_i) over the chunk's scores).",
                "The merged max is the larger of the two; each partial sum must be re-expressed "
                "relative to the new max before adding.",
                "m = max(m1, m2) and l = l1 exp(m1 - m) + l2 exp(m2 - m).",
            ),
        ),
        Exercise(
            "07.3",
            "Scores x = [0.5, 2.0, -1.0, 3.0, 0.0, 4.5] are processed in chunks of 2. What is the "
            "running sum l after the second chunk?",
            _running_sum_after_two_chunks,
            float_answer(6),
            inputs=(*_SCORES, 2),
            hints=(
                "After each chunk the state is (m, l): the largest score seen so far and the "
                "sum of exp(x - m) over the scores seen so far.",
                "When a chunk raises the max from m_old to m_new, the old sum is multiplied by "
                "exp(m_old - m_new) before the chunk's own terms are added.",
                "After the second chunk, l is the sum of exp(x_i - m) over the first four "
                "scores, with m their maximum.",
            ),
        ),
        Exercise(
            "07.4",
            "How many bytes does the float32 score matrix S take for batch 1, 16 heads and "
            "N = 8192?",
            _s_matrix_bytes,
            integer_answer(),
            inputs=(1, 16, 8192),
            hints=(
                "S holds one score per (query, key) pair, for every head and batch element.",
                "A float32 takes 4 bytes.",
                "bytes = B H N^2 times the bytes of one float32.",
            ),
        ),
        Exercise(
            "07.5",
            "With on-chip memory M = 49152 elements and head dimension d = 64, which block "
            "sizes (B_r, B_c) does the FlashAttention paper's rule give?",
            lambda: tiled_block_sizes(64, 49152),
            integer_answer(shape=(2,)),
            inputs=(49152, 64),
            hints=(
                "The on-chip memory must hold a block of Q, of K, of V and of O at once, each "
                "row of length d.",
                "B_c is the largest key/value block for which four blocks of B_c rows fit in "
                "M (the paper rounds up); the query block B_r may not exceed d.",
                "B_c = ceil(M / (4 d)) and B_r = min(B_c, d).",
            ),
        ),
        Exercise(
            "07.6",
            "How many FLOPs does a causal attention forward take for B H = 32, N = 2048, d = 128 "
            "(count 2 FLOPs per multiply-add and ignore the softmax)?",
            lambda: attention_flops(32, 2048, 128, is_causal=True),
            integer_answer(),
            inputs=(32, 2048, 128, 2),
            hints=(
                "Count the two matrix products, QK^T and PV, per head.",
                "A product of an (N x d) and a (d x N) matrix takes 2 N^2 d FLOPs, and PV "
                "costs the same.",
                "The causal mask keeps only the lower triangle of S: the course counts half "
                "of the non-causal work.",
            ),
        ),
    ],
)
