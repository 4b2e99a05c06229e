"""Config of the normalised CNN of the Group Normalization study, free of torch."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InputError
from core.validate import require_ints

__all__ = ["NORMS", "NormNetConfig"]

NORMS = ("batch", "group", "layer", "instance")
"""BN (statistics over batch, height, width per channel), GN (per example over a group of channels),
LN (GN with one group), IN (GN with one channel per group)."""


@dataclass(frozen=True)
class NormNetConfig:
    """The small CNN of the study: three 3x3 convolutions, each followed by a normalisation and ReLU.

    Attributes:
        norm: one of `NORMS`.
        width: channels of the first two convolutions (the third has ``2 * width``).
        groups: GN's number of groups (must divide `width`; the paper uses 32 groups on ResNet-50).
        classes: output classes.
        depth: extra conv3x3-norm-ReLU blocks (``2 * width`` channels) after the third convolution (0: the
            three-convolution net of the smoke study; more layers compound the noise of batch statistics).
    """

    norm: str = "group"
    width: int = 16
    groups: int = 4
    classes: int = 10
    depth: int = 0

    def __post_init__(self) -> None:
        if self.norm not in NORMS:
            raise InputError("NormNetConfig.norm is unknown", item=self.norm, expected=str(NORMS))
        require_ints(self, "width", "groups", "classes")
        require_ints(self, "depth", minimum=0)
        if self.width % self.groups:
            raise InputError(
                "NormNetConfig.groups must divide width",
                item=f"groups={self.groups}, width={self.width}",
            )
