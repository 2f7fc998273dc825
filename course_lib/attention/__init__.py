"""Chapter 07: FlashAttention, from online softmax to a Triton kernel.

* :mod:`.reference`     -- standard attention (1.1), safe softmax (2.1), online softmax (2.2)-(2.3);
* :mod:`.tiled`         -- tiled forward (3.1) and backward (4.1) in plain PyTorch;
* :mod:`.io_model`      -- HBM reads/writes of standard vs tiled attention (5.1)-(5.2), FLOPs;
* :mod:`.triton_kernel` -- the Triton kernels (``from course_lib.attention.triton_kernel
  import flash_attention``). On a machine without CUDA, importing this package sets
  ``TRITON_INTERPRET=1`` (see :mod:`._interpret`) so the kernels run in Triton's interpreter;
* :mod:`.viz`, :mod:`.exercises` -- widgets, figures and the chapter's exercises.
"""

from . import _interpret  # noqa: F401  (must run before anything imports triton)
from .io_model import (
    IOCount,
    attention_flops,
    io_model_mismatches,
    replay_tiled_io,
    standard_io,
    tiled_block_sizes,
    tiled_io,
)
from .reference import (
    OnlineSoftmaxState,
    causal_mask,
    online_softmax,
    online_softmax_states,
    safe_softmax,
    standard_attention,
)
from .tiled import (
    TiledAttention,
    tiled_attention,
    tiled_attention_backward,
    tiled_attention_forward,
)

__all__ = [
    "IOCount",
    "OnlineSoftmaxState",
    "TiledAttention",
    "attention_flops",
    "causal_mask",
    "io_model_mismatches",
    "online_softmax",
    "online_softmax_states",
    "replay_tiled_io",
    "safe_softmax",
    "standard_attention",
    "standard_io",
    "tiled_attention",
    "tiled_attention_backward",
    "tiled_attention_forward",
    "tiled_block_sizes",
    "tiled_io",
]
