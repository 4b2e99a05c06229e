"""Lesion images for the augmentation study: the `LesionData` container and the proxy generator.

The ISIC images are not available here (`vision_attention.augment.isic` reads them where they are), so
the study runs on a procedural proxy, stated as such wherever its numbers appear: coloured blobs on
textured skin, where malignant lesions show the dermoscopic ABCD signs more strongly:

- **A**symmetry: the radius ``r(theta) = R (1 + sum_k a_k cos(k theta + phi_k))`` carries odd, low
  harmonics k = 1..3 (amplitude grows with the asymmetry sign);
- **B**order irregularity: harmonics k = 6..12 (amplitude grows with the border sign);
- **C**olour variegation: dark-brown / black, blue-grey and red patches inside the lesion (the share of
  the lesion they cover grows with the colour sign).

Each sign is drawn from ``U(0, 1)`` for benign lesions and ``U(1 - overlap, 2 - overlap)`` for malignant
ones, so the classes overlap. The nuisances are those of dermoscopy images that augmentation can undo:
skin tone and texture, lighting (brightness, a linear gradient, vignetting), white balance (per-channel
gains), lesion position, size and orientation, and a few dark hairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from core.errors import InputError
from vision_attention.augment.config import ProxyConfig

__all__ = ["LesionData", "synthetic_lesions"]

_LIGHT_SKIN = np.array([0.93, 0.78, 0.68])
_DARK_SKIN = np.array([0.62, 0.44, 0.33])
_PIGMENT = np.array([0.50, 0.32, 0.20])
_VARIEGATION = np.array([[0.18, 0.11, 0.08], [0.42, 0.46, 0.56], [0.72, 0.32, 0.30]])


@dataclass(frozen=True)
class LesionData:
    """Images ``(n, 3, s, s)`` float32 in [0, 1], labels ``(n,)`` long (1 = malignant / melanoma), optional
    lesion masks ``(n, 1, s, s)`` float32 in [0, 1] (needed by lesion mix), the image ids and a description."""

    images: torch.Tensor
    labels: torch.Tensor
    masks: torch.Tensor | None = None
    ids: list[str] = field(default_factory=list)
    description: str = ""

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.images.dim() != 4 or self.images.shape[1] != 3 or len(self.images) != n or n == 0:
            raise InputError(
                "LesionData needs images (n, 3, s, s) and labels (n,), n >= 1",
                item=(tuple(self.images.shape), tuple(self.labels.shape)),
            )
        if self.masks is not None and self.masks.shape != (n, 1, *self.images.shape[2:]):
            raise InputError(
                "LesionData masks must be (n, 1, s, s) like the images",
                item=(tuple(self.masks.shape), tuple(self.images.shape)),
            )

    def subset(self, rows: torch.Tensor) -> LesionData:
        """The examples at `rows` (a long tensor of indices)."""
        return LesionData(
            images=self.images[rows],
            labels=self.labels[rows],
            masks=None if self.masks is None else self.masks[rows],
            ids=[self.ids[int(k)] for k in rows] if self.ids else [],
            description=self.description,
        )


def _sign(rng: np.random.Generator, malignant: bool, overlap: float) -> float:
    low = 1.0 - overlap if malignant else 0.0
    return float(rng.uniform(low, low + 1.0))


def _lesion(rng: np.random.Generator, malignant: bool, config: ProxyConfig) -> tuple[np.ndarray, np.ndarray]:
    """One image ``(s, s, 3)`` and its soft lesion mask ``(s, s)``."""
    s = config.size
    ys, xs = np.mgrid[0:s, 0:s].astype(np.float64)
    x, y = (2 * xs + 1) / s - 1, (2 * ys + 1) / s - 1  # pixel centres in [-1, 1]
    # skin: tone, low-frequency mottling, fine grain
    tone = rng.uniform()
    skin = (1 - tone) * _LIGHT_SKIN + tone * _DARK_SKIN
    mottle = gaussian_filter(rng.standard_normal((s, s)), sigma=s / 16) * (s / 16) * 0.05
    image = skin[None, None, :] * (1 + mottle[..., None]) + 0.012 * rng.standard_normal((s, s, 3))
    # lesion shape: radius with asymmetric (k 1..3) and irregular-border (k 6..12) harmonics
    asym, border, colour = (_sign(rng, malignant, config.overlap) for _ in range(3))
    cx, cy = rng.uniform(-2 * config.offset, 2 * config.offset, size=2)
    radius = 2 * rng.uniform(*config.radius)
    rho = np.hypot(x - cx, y - cy)
    theta = np.arctan2(y - cy, x - cx)
    shape = np.ones_like(theta)
    for k in (1, 2, 3):
        shape += 0.09 * asym * rng.uniform(0.5, 1.0) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    for k in range(6, 13):
        shape += 0.035 * border * rng.uniform(0.3, 1.0) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    # the asymmetry also stretches the lesion along a random axis
    stretch = 1 + 0.25 * asym * np.cos(2 * (theta - rng.uniform(0, np.pi)))
    edge = radius * shape * stretch / (1 + 0.25 * asym)
    mask = 1 / (1 + np.exp(-(edge - rho) / (0.03 + 0.02 * rng.uniform())))
    # pigment: one brown, darker towards the centre; variegation patches cover more with the colour sign
    darkness = rng.uniform(0.75, 1.15)
    pigment = _PIGMENT[None, None, :] * darkness * (0.85 + 0.15 * np.clip(rho / radius, 0, 1))[..., None]
    lesion = pigment + 0.02 * rng.standard_normal((s, s, 3))
    for colour_index in rng.permutation(3)[: 1 + int(colour > 0.6) + int(colour > 1.1)]:
        field_ = gaussian_filter(rng.standard_normal((s, s)), sigma=s / 20)
        field_ /= field_.std() + 1e-9
        cover = 1 / (1 + np.exp(-(field_ - (1.6 - 1.1 * colour)) * 4))
        lesion = (1 - cover[..., None]) * lesion + cover[..., None] * _VARIEGATION[colour_index]
    image = (1 - mask[..., None]) * image + mask[..., None] * lesion
    # hairs: thin dark quadratic curves
    for _ in range(int(rng.integers(0, config.hairs + 1))):
        a, b = rng.uniform(-1, 1, size=2), rng.uniform(-1, 1, size=2)
        bend = rng.uniform(-0.3, 0.3)
        t = np.linspace(0, 1, 2 * s)
        px = a[0] + (b[0] - a[0]) * t + bend * t * (1 - t)
        py = a[1] + (b[1] - a[1]) * t - bend * t * (1 - t)
        near = np.hypot(x[..., None] - px, y[..., None] - py).min(axis=-1)
        hair = np.clip(1 - near * s / 2 / 0.8, 0, 1) * rng.uniform(0.5, 0.9)
        image = (1 - hair[..., None]) * image + hair[..., None] * np.array([0.15, 0.10, 0.08])
    # lighting and white balance
    spread = config.lighting
    angle = rng.uniform(0, 2 * np.pi)
    light = rng.uniform(1 - spread, 1 + spread) * (
        1 + 0.6 * spread * rng.uniform() * (np.cos(angle) * x + np.sin(angle) * y)
    )
    light = light * (1 - rng.uniform(0, 0.35) * (x**2 + y**2) / 2)
    gains = 1 + rng.uniform(-config.color_cast, config.color_cast, size=3)
    image = image * light[..., None] * gains[None, None, :]
    return np.clip(image, 0, 1), mask


def synthetic_lesions(count: int, config: ProxyConfig | None = None, seed: int = 0) -> LesionData:
    """`count` proxy lesion images (about ``config.malignant_fraction`` of them malignant, at least one of
    each class), their masks and labels, deterministic in `seed`.

    Raises:
        InputError: count below 2.
    """
    if not isinstance(count, int) or isinstance(count, bool) or count < 2:
        raise InputError("synthetic_lesions needs count >= 2", item=count)
    config = ProxyConfig() if config is None else config
    rng = np.random.default_rng(seed)
    labels = (rng.uniform(size=count) < config.malignant_fraction).astype(np.int64)
    labels[0], labels[1] = 0, 1
    labels = rng.permutation(labels)
    images, masks = [], []
    for label in labels:
        image, mask = _lesion(rng, bool(label), config)
        images.append(image.transpose(2, 0, 1))
        masks.append(mask[None])
    return LesionData(
        images=torch.as_tensor(np.stack(images), dtype=torch.float32),
        labels=torch.as_tensor(labels),
        masks=torch.as_tensor(np.stack(masks), dtype=torch.float32),
        ids=[f"proxy_{seed}_{k:05d}" for k in range(count)],
        description=(
            f"procedural proxy lesions (vision_attention.augment.data, ABCD signs, overlap {config.overlap}), "
            f"{count} images of {config.size} px, seed {seed}; NOT ISIC images"
        ),
    )
