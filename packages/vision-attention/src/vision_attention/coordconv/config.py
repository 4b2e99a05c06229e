"""Configs of the CoordConv tasks, free of torch."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InputError
from core.validate import require_ints, require_seed

__all__ = ["COORD_MODELS", "COORD_SPLITS", "COORD_TASKS", "CoordTaskConfig"]

COORD_TASKS = ("classification", "regression", "rendering")
COORD_SPLITS = ("uniform", "quadrant")
COORD_MODELS = ("coordconv", "conv")


@dataclass(frozen=True)
class CoordTaskConfig:
    """One Not-so-Clevr experiment: which task, split and network.

    Attributes:
        task: ``classification`` (coordinates -> one-hot 64x64 pixel, softmax over 4096), ``regression``
            (one-hot pixel image -> coordinates) or ``rendering`` (coordinates -> the 9x9 square, per pixel).
        split: ``uniform`` (random 80/20 of the 3136 positions) or ``quadrant`` (the 729 positions whose
            centre lies in the bottom-right quadrant are the test set).
        model: ``coordconv`` or ``conv`` (the paper's baseline: deconvolution for classification and
            rendering, strided convolution + dense layers for regression).
        width: channels of the hidden layers of the CoordConv model (the paper's smallest CoordConv models use 8).
        conv_width: channels of the first hidden layer of the conv baseline (halved every two layers up the resolution; the paper's baselines are far wider, up to 1.3M parameters).
        split_seed: seeds the uniform split (the paper's split is random; the quadrant split is fixed).
    """

    task: str = "classification"
    split: str = "uniform"
    model: str = "coordconv"
    width: int = 8
    conv_width: int = 16
    split_seed: int = 0

    def __post_init__(self) -> None:
        for name, allowed in (("task", COORD_TASKS), ("split", COORD_SPLITS), ("model", COORD_MODELS)):
            if getattr(self, name) not in allowed:
                raise InputError(
                    f"CoordTaskConfig.{name} is unknown", item=getattr(self, name), expected=str(allowed)
                )
        require_ints(self, "width", "conv_width")
        require_seed(self, "split_seed")
