"""Shared fixtures: the study's data folder (read in place from ../shared/data, never copied)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

STUDY_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "phylo-marglik"


@pytest.fixture(scope="session")
def study_data() -> Path:
    folder = Path(os.environ.get("PHYLO_MARGLIK_DATA", STUDY_DATA)).resolve()
    assert (folder / "refs.csv").is_file(), f"the study's data must be at {folder}"
    return folder


@pytest.fixture(autouse=True, scope="module")
def _single_intra_op_thread():
    """Pruning works on many small tensors: intra-op threads only add synchronisation, and on a
    shared 2-core CI machine they oversubscribe the cores. Restore the setting afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
