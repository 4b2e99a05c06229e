"""Suite-wide settings.

Every package's tests run on one intra-op torch thread: their tensors are small, and on the
2-core CI machine several threads only contend (measured 10-35x slower per step under load).
"""

from __future__ import annotations

import pytest

from core import torch_threads


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    with torch_threads(1):
        yield
