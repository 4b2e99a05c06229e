"""Configs of the BSN study (Lin et al. 2018), free of torch."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InputError
from core.validate import require_ints

__all__ = ["BSNConfig", "SyntheticVideoConfig"]


@dataclass(frozen=True)
class BSNConfig:
    """The temporal evaluation module (TEM), proposal generation, BSP features and the proposal evaluation module.

    Attributes:
        features: feature channels per snippet.
        scale: snippets per video (the paper rescales every video to ``l_w = 100``).
        tem_hidden: channels of TEM's two 1-D convolutions.
        action_weight: lambda of ``L_TEM = lambda L_action + L_start + L_end``.
        iop_threshold: theta_IoP; a snippet is positive when its IoP label exceeds it.
        peak_ratio: a location is a boundary candidate when its probability is a local peak or above
            ``peak_ratio * max`` of the curve.
        max_duration: longest proposal, as a fraction of the video.
        center_points / boundary_points: BSP samples of the actionness curve inside the proposal and in each of
            its start and end regions (the paper: 16 and 8, so 32 features).
        pem_hidden: hidden units of the proposal evaluation perceptron.
        positive_iou: a training proposal is positive above this IoU; PEM trains on 1 positive : 2 negatives.
        nms_sigma / nms_threshold: Gaussian Soft-NMS ``s *= exp(-iou^2 / sigma)`` for IoU above the threshold.
        proposals: proposals kept per video after Soft-NMS.
    """

    features: int = 16
    scale: int = 100
    tem_hidden: int = 64
    action_weight: float = 1.0
    iop_threshold: float = 0.5
    peak_ratio: float = 0.9
    max_duration: float = 1.0
    center_points: int = 16
    boundary_points: int = 8
    pem_hidden: int = 64
    positive_iou: float = 0.7
    nms_sigma: float = 0.75
    nms_threshold: float = 0.65
    proposals: int = 100

    def __post_init__(self) -> None:
        require_ints(
            self,
            "features",
            "scale",
            "tem_hidden",
            "center_points",
            "boundary_points",
            "pem_hidden",
            "proposals",
        )
        for name in ("iop_threshold", "peak_ratio", "max_duration", "positive_iou", "nms_threshold"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
                raise InputError(f"BSNConfig.{name} must be in (0, 1]", item=value)
        for name in ("action_weight", "nms_sigma"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise InputError(f"BSNConfig.{name} must be > 0", item=value)
        if self.scale < 8:
            raise InputError("BSNConfig.scale must be >= 8 snippets", item=self.scale)


@dataclass(frozen=True)
class SyntheticVideoConfig:
    """Synthetic feature sequences with annotated action segments.

    Attributes:
        videos: how many.
        features: channels per snippet.
        scale: snippets per video.
        max_actions: 1..max_actions non-overlapping actions per video.
        min_length / max_length: action length as a fraction of the video.
        classes: action classes, each with its own feature prototype.
        noise: standard deviation of the per-snippet Gaussian noise (the prototypes have unit norm per channel).
        onset: snippets over which an action's features ramp in and out (soft boundaries).
    """

    videos: int = 200
    features: int = 16
    scale: int = 100
    max_actions: int = 3
    min_length: float = 0.05
    max_length: float = 0.4
    classes: int = 4
    noise: float = 1.0
    onset: int = 2

    def __post_init__(self) -> None:
        require_ints(self, "videos", "features", "scale", "max_actions", "classes")
        require_ints(self, "onset", minimum=0)
        if not 0 < self.min_length <= self.max_length <= 1:
            raise InputError(
                "SyntheticVideoConfig needs 0 < min_length <= max_length <= 1",
                item=f"min_length={self.min_length}, max_length={self.max_length}",
            )
        if self.max_actions * self.min_length > 1:
            raise InputError(
                "SyntheticVideoConfig: max_actions actions of min_length do not fit in one video",
                item=f"max_actions={self.max_actions}, min_length={self.min_length}",
            )
        if not self.noise >= 0:
            raise InputError("SyntheticVideoConfig.noise must be >= 0", item=self.noise)
