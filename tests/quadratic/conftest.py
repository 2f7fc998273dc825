"""Chapter 02's tests run thousands of tiny matrix-vector products: one thread is fastest
(thread hand-offs cost more than the products, badly so on a busy machine)."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
