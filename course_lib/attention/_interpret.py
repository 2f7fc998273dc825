"""Choose Triton's CPU interpreter before anything imports triton (imported first by the package).

Triton reads ``TRITON_INTERPRET`` when *it* is imported (its own library functions are jitted
then), and PyTorch may import triton lazily (e.g. under a dispatch mode), so on a machine
without CUDA the variable is set as soon as ``course_lib.attention`` is imported. This sets it
for the whole process; set ``TRITON_INTERPRET=0`` yourself beforehand to opt out.
"""

from __future__ import annotations

import os
import sys

import torch

#: triton was imported before this package: if we had to set the variable, it came too late.
TRITON_PREIMPORTED = "triton" in sys.modules
#: this module set TRITON_INTERPRET=1 (no CUDA, and the variable was unset)
INTERPRET_SET_HERE = False

if not torch.cuda.is_available() and "TRITON_INTERPRET" not in os.environ:
    os.environ["TRITON_INTERPRET"] = "1"
    INTERPRET_SET_HERE = True
