"""Configs of the augmentation study, free of torch (Perez et al. 2018, sec. 3)."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InputError
from core.validate import require_ints, require_positive

__all__ = ["SCENARIO_NAMES", "AugmentConfig", "ProxyConfig", "check_scenarios"]

SCENARIO_NAMES = (
    "a-none",
    "b-color",
    "c-color-hue",
    "d-affine",
    "e-flips",
    "f-crops",
    "g-erasing",
    "h-elastic",
    "i-lesion-mix",
    "j-basic",
    "k-basic-erasing",
    "l-basic-elastic",
    "m-basic-mix",
)
"""The paper's 13 scenarios, lettered as in its Figure 1: (a) none, (b) saturation / contrast / brightness,
(c) the same with hue, (d) affine (rotation, shear, scaling), (e) random flips, (f) random crops, (g) random
erasing, (h) elastic, (i) lesion mix, (j) the basic set f d e c, (k) f g d e c, (l) f d h e c, (m) i f d e c."""


def check_scenarios(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """`names` as a tuple, each one of `SCENARIO_NAMES` (a bare letter ``"j"`` is accepted for ``"j-basic"``).

    Raises:
        InputError: an unknown name (the message names it and lists the valid ones), or no name at all.
    """
    letters = {name.split("-")[0]: name for name in SCENARIO_NAMES}
    out = []
    for name in names:
        full = letters.get(name, name) if isinstance(name, str) else name
        if full not in SCENARIO_NAMES:
            raise InputError("unknown augmentation scenario", item=name, expected=", ".join(SCENARIO_NAMES))
        out.append(full)
    if not out:
        raise InputError("no augmentation scenario given", expected=", ".join(SCENARIO_NAMES))
    return tuple(out)


@dataclass(frozen=True)
class AugmentConfig:
    """The parameters of every transformation (the paper's ranges, Perez et al. 2018 sec. 3.1).

    Attributes:
        size: images are square ``size`` x ``size`` (the crops are resized back to it).
        color: brightness, contrast and saturation factors drawn from ``[1 - color, 1 + color]``.
        hue: hue shift drawn from ``[-hue, hue]`` (fractions of the colour wheel).
        degrees: rotation drawn from ``[-degrees, degrees]``.
        shear: shear angle drawn from ``[-shear, shear]`` degrees.
        scale: zoom factor drawn from ``[1 - scale, 1 + scale]``.
        crop_area: random crops cover ``[crop_area, 1]`` of the image (aspect ratio 3/4-4/3), resized to `size`.
        erase_probability, erase_area: random erasing (Zhong et al. 2017) of one rectangle covering
            ``erase_area`` of the image with this probability; pixels filled with clipped N(0, 1) noise.
        elastic_alpha, elastic_sigma: elastic deformation (Simard et al. 2003): displacement magnitude and
            smoothing in pixels (torchvision's ``ElasticTransform``; its 50 / 5 are for 224 px images).
        mix_probability: lesion mix replaces the skin around the lesion with another image's with this
            probability (the paper: always).
        tta_copies: test-time augmentation averages the predictions over this many augmented copies (the
            paper: 64).
    """

    size: int = 48
    color: float = 0.3
    hue: float = 0.1
    degrees: float = 90.0
    shear: float = 20.0
    scale: float = 0.2
    crop_area: float = 0.4
    erase_probability: float = 0.5
    erase_area: tuple[float, float] = (0.02, 0.33)
    elastic_alpha: float = 10.0
    elastic_sigma: float = 3.0
    mix_probability: float = 1.0
    tta_copies: int = 64

    def __post_init__(self) -> None:
        require_ints(self, "size", "tta_copies")
        require_positive(self, "degrees", "shear", "elastic_alpha", "elastic_sigma")
        for name in ("color", "hue", "scale", "crop_area", "erase_probability", "mix_probability"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise InputError(f"AugmentConfig.{name} must be in [0, 1]", item=value)
        if self.hue > 0.5:
            raise InputError("AugmentConfig.hue must be in [0, 0.5]", item=self.hue)
        low, high = self.erase_area
        if not 0 < low <= high < 1:
            raise InputError(
                "AugmentConfig.erase_area must be (low, high) with 0 < low <= high < 1", item=self.erase_area
            )


@dataclass(frozen=True)
class ProxyConfig:
    """The procedurally generated stand-in for ISIC images (`vision_attention.augment.data.synthetic_lesions`).

    A lesion is a blob on textured skin; malignant lesions follow the dermoscopic ABCD rule more strongly:
    asymmetry (odd radial harmonics), an irregular border (high radial harmonics) and colour variegation
    (several pigment colours). The three signs are drawn from overlapping ranges, so the classes overlap.
    Nuisances that augmentation can undo: lighting (brightness, a gradient, vignetting), colour cast,
    skin tone, lesion position, rotation and size, and hairs.

    Attributes:
        size: image side in pixels.
        malignant_fraction: share of malignant lesions (ISIC 2017: 374 melanomas in 2,000, 0.19).
        overlap: how far the benign and malignant ranges of the three signs overlap (0: disjoint, 1: same).
        lighting: the spread of the brightness factor and the lighting gradient.
        color_cast: the spread of the per-channel white-balance gains.
        hairs: the largest number of dark hairs drawn over an image.
        radius: the lesion radius range as fractions of the image side.
        offset: the largest shift of the lesion centre from the image centre, fraction of the side.
    """

    size: int = 48
    malignant_fraction: float = 0.3
    overlap: float = 0.3
    lighting: float = 0.25
    color_cast: float = 0.12
    hairs: int = 4
    radius: tuple[float, float] = (0.14, 0.28)
    offset: float = 0.18

    def __post_init__(self) -> None:
        require_ints(self, "size")
        require_ints(self, "hairs", minimum=0)
        for name in ("malignant_fraction", "overlap", "lighting", "color_cast", "offset"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise InputError(f"ProxyConfig.{name} must be in [0, 1]", item=value)
        if not 0 < self.malignant_fraction < 1:
            raise InputError("ProxyConfig.malignant_fraction must be in (0, 1)", item=self.malignant_fraction)
        low, high = self.radius
        if not 0 < low <= high <= 0.5:
            raise InputError(
                "ProxyConfig.radius must be (low, high) with 0 < low <= high <= 0.5", item=self.radius
            )
