"""Peak memory of eager PyTorch code, by counting the bytes of live tensors (sections 1, 3).

``torch.cuda.max_memory_allocated`` answers this on a GPU; on a CPU PyTorch keeps no such
counter, so :func:`peak_tensor_bytes` runs the function under a ``TorchDispatchMode`` that
sees every tensor an operator returns, adds its storage size when the storage first appears,
and subtracts it when the last Python reference to it dies. The result is the peak of
``sum(bytes of live tensors created by fn)``: it ignores allocator caching and kernel
scratch space, which is exactly the quantity the memory-wall argument is about.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

__all__ = ["peak_tensor_bytes"]


class _LiveTensorBytes(TorchDispatchMode):
    """Tracks current and peak bytes of storages created under the mode."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: dict[int, list[int]] = {}  # storage pointer -> [nbytes, live tensors]
        self.current = 0
        self.peak = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: D105
        out = func(*args, **(kwargs or {}))
        for t in tree_leaves(out):
            if isinstance(t, torch.Tensor):
                self._track(t)
        return out

    def _track(self, t: torch.Tensor) -> None:
        storage = t.untyped_storage()
        key, nbytes = storage.data_ptr(), storage.nbytes()
        if key == 0 or nbytes == 0:
            return
        entry = self.refs.setdefault(key, [nbytes, 0])
        if entry[1] == 0:  # a storage we have not seen alive: count it once
            self.current += nbytes
            self.peak = max(self.peak, self.current)
        entry[1] += 1
        weakref.finalize(t, self._release, key)

    def _release(self, key: int) -> None:
        entry = self.refs.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] == 0:
            self.current -= entry[0]
            del self.refs[key]


def peak_tensor_bytes(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, int]:
    """Run ``fn(*args, **kwargs)``; return (its result, peak bytes of tensors it created).

    Tensors passed in are not counted; the result's own storage is (it was live at the end).
    On CUDA, prefer ``torch.cuda.max_memory_allocated``, which also sees kernel workspaces.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    mode = _LiveTensorBytes()
    with torch.no_grad(), mode:
        result = fn(*args, **kwargs)
    return result, mode.peak
