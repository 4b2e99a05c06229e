"""Trained models shipped inside the package: `pretrained(name)` loads one offline.

The weights are safetensors files in ``molgraph/pretrained/`` (package data, read through
``importlib.resources``); each one's model card (data, command, hours, hardware, measured
numbers) is in the package README under "Pretrained model".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.data import bundled_path
from core.errors import InputError

if TYPE_CHECKING:
    import torch

    from molgraph.model import JTVAE

__all__ = ["PRETRAINED", "pretrained"]

PRETRAINED = {"moses": "moses.safetensors"}
"""Name -> weights file in ``molgraph/pretrained/``."""


def pretrained(name: str = "moses", *, device: str | torch.device = "cpu") -> JTVAE:
    """A trained `JTVAE` shipped with the package (no network needed).

    Args:
        name: ``"moses"``: trained on MOSES training molecules (see the README's model card).
        device: where to put the weights.

    Raises:
        InputError: for an unknown name.
    """
    from molgraph.model import JTVAE

    if name not in PRETRAINED:
        raise InputError("unknown pretrained model", item=name, expected=f"one of {sorted(PRETRAINED)}")
    return JTVAE.load(bundled_path("molgraph", "pretrained", PRETRAINED[name]), device=device)
