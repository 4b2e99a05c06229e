"""Configs of the KeypointNet study (Suwajanakorn et al. 2018), free of torch."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import InputError
from core.validate import require_ints, require_positive

__all__ = ["CATEGORIES", "KeypointConfig", "ViewConfig"]

CATEGORIES = ("box", "chair", "lshape")
"""box: one box with six differently coloured faces; chair: seat, back and four legs; lshape: a base and an
upright block at one end. Each has 8 annotated keypoints (`render.annotated_keypoints`) for the supervised
baseline."""


@dataclass(frozen=True)
class ViewConfig:
    """The rendered views: a pinhole camera looking at the object's centre from `distance`.

    Attributes:
        size: image side in pixels (square images, pixel centres at normalised coordinates in (-1, 1)).
        focal: focal length in normalised image units (u = focal * X / Z).
        distance: camera-to-object-centre distance, object units (objects fit in a ball of radius ~1).
        elevation: (min, max) camera elevation above the object's horizontal plane, degrees; the azimuth is
            uniform over the full circle.
        colour_jitter: per-instance uniform jitter of each face colour (0: the category's palette exactly).
    """

    size: int = 32
    focal: float = 4.0
    distance: float = 5.0
    elevation: tuple[float, float] = (10.0, 40.0)
    colour_jitter: float = 0.1

    def __post_init__(self) -> None:
        require_ints(self, "size", minimum=8)
        require_positive(self, "focal", "distance")
        if self.distance <= 1.5:
            raise InputError(
                "ViewConfig.distance must exceed 1.5 (the object would enclose the camera)",
                item=self.distance,
            )
        low, high = self.elevation if len(self.elevation) == 2 else (None, None)
        if low is None or not -90 <= low <= high <= 90:
            raise InputError(
                "ViewConfig.elevation must be (min, max) degrees within [-90, 90]", item=self.elevation
            )
        if not 0 <= self.colour_jitter <= 0.5:
            raise InputError("ViewConfig.colour_jitter must be in [0, 0.5]", item=self.colour_jitter)


@dataclass(frozen=True)
class KeypointConfig:
    """KeypointNet (or the supervised baseline) and the weights of its losses.

    Attributes:
        keypoints: N, the number of keypoint heads (the paper: 10; the supervised baseline: the 8 annotated).
        width: channels of every convolution.
        dilations: one 3x3 convolution per entry with that dilation (the paper: a 13-layer dilated stack).
        stride: the first convolution's stride; the keypoint maps are ``S / stride`` pixels square (2 here: four
            times cheaper on CPU, the expectation stays sub-pixel).
        consistency / pose / separation / silhouette: weights of the four losses (paper sec. 4).
        separation_delta: delta of the separation loss max(0, delta^2 - |X_i - X_j|^2), object units.
        pose_noise: standard deviation of Gaussian noise added to the 3-D keypoints before Procrustes in the
            pose loss (training only), object units.
    """

    keypoints: int = 10
    width: int = 32
    dilations: tuple[int, ...] = (1, 2, 4, 8, 1, 1)
    stride: int = 2
    consistency: float = 1.0
    pose: float = 1.0
    separation: float = 1.0
    silhouette: float = 1.0
    separation_delta: float = 0.5
    pose_noise: float = 0.05

    def __post_init__(self) -> None:
        require_ints(self, "width", "stride")
        require_ints(self, "keypoints", minimum=3)
        if not self.dilations or any(
            not isinstance(d, int) or isinstance(d, bool) or d < 1 for d in self.dilations
        ):
            raise InputError(
                "KeypointConfig.dilations must be a non-empty tuple of integers >= 1", item=self.dilations
            )
        for name in ("consistency", "pose", "separation", "silhouette", "separation_delta", "pose_noise"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (value >= 0 and math.isfinite(value))
            ):
                raise InputError(f"KeypointConfig.{name} must be a finite number >= 0", item=value)
