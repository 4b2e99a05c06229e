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
