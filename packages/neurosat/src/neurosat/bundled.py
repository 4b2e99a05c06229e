"""The model that ships with the package: weights inside the wheel, loaded offline.

``neurosat.pretrained()`` reads ``neurosat/weights/pretrained.safetensors`` (package data; no
download, no network). How it was trained, on what, for how long, and what it measures are in the
README's model card; the training run is a plain ``neurosat fit`` that can be resumed and extended.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import InputError

if TYPE_CHECKING:
    import torch

    from neurosat.model import NeuroSAT

__all__ = ["PRETRAINED_FILE", "pretrained", "pretrained_path"]

PRETRAINED_FILE = "pretrained.safetensors"


def pretrained_path() -> Path:
    """Path of the bundled weights file.

    Raises:
        InputError: the installed package lacks the file (a broken install).
    """
    path = Path(str(resources.files("neurosat") / "weights" / PRETRAINED_FILE))
    if not path.is_file():
        raise InputError(
            "the bundled pretrained weights are missing from this install",
            item=str(path),
            expected="reinstall neurosat from a wheel or checkout that includes neurosat/weights/",
        )
    return path


def pretrained(map_location: str | torch.device = "cpu") -> NeuroSAT:
    """The shipped NeuroSAT model (eval mode), verified like every checkpoint on load."""
    from neurosat.model import NeuroSAT

    return NeuroSAT.load(pretrained_path(), map_location=map_location).eval()
