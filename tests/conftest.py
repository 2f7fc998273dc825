"""Shared pytest set-up: skip ``gpu`` tests without CUDA, fast mode by default."""

from __future__ import annotations

import os

import pytest
import torch

os.environ.setdefault("COURSE_FAST", "1")
# Triton's CPU interpreter must be chosen before anything imports triton (see
# course_lib/attention/triton_kernel.py); with CUDA the real compiler is used.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)
