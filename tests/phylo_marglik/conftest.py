"""Shared fixtures: the study's data folder, read in place from ../shared/data beside the checkout
(never copied). Tests that need it skip, saying why, when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "phylo-marglik"


@pytest.fixture(scope="session")
def study_data() -> Path:
    """The folder with the study's DS*.nex and credible sets ($PHYLO_MARGLIK_DATA or ../shared/data)."""
    folder = Path(os.environ.get("PHYLO_MARGLIK_DATA", SHARED)).resolve()
    if not (folder / "DS2.nex").is_file():
        pytest.skip(
            f"the study's data is not at {folder} (run 'phylo-marglik data fetch' and set PHYLO_MARGLIK_DATA)"
        )
    return folder
