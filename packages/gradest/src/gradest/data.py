"""Data: binarised 8x8 digits (scikit-learn's copy of the UCI optical digits) and digit canvases.

``sklearn.datasets.load_digits`` ships inside the scikit-learn wheel (no download): 1,797 images of
8x8 pixels with grey levels 0..16, from the UCI "Optical Recognition of Handwritten Digits" data set
(Alpaydin & Kaynak, 1998; CC BY 4.0). Binarised at half intensity.
"""

from __future__ import annotations

import torch
from torch import Tensor

from core.errors import InputError

__all__ = ["DigitSplit", "load_binarized_digits", "make_canvases"]


class DigitSplit:
    """Train/test tensors of binarised digits: ``train`` ``(n_train, 64)``, ``test`` ``(n_test, 64)``, float 0/1."""

    def __init__(self, train: Tensor, test: Tensor, train_labels: Tensor, test_labels: Tensor) -> None:
        self.train, self.test = train, test
        self.train_labels, self.test_labels = train_labels, test_labels


def load_binarized_digits(test_fraction: float = 0.2, seed: int = 0, threshold: float = 8.0) -> DigitSplit:
    """The 1,797 sklearn digits as 0/1 pixels (grey level > `threshold` of 16), split at random.

    Raises:
        InputError: `test_fraction` outside (0, 1).
    """
    if not 0.0 < test_fraction < 1.0:
        raise InputError("test_fraction must lie strictly between 0 and 1", item=test_fraction)
    from sklearn.datasets import load_digits

    bunch = load_digits()
    pixels = torch.as_tensor(bunch.data > threshold, dtype=torch.float32)
    labels = torch.as_tensor(bunch.target, dtype=torch.long)
    order = torch.randperm(len(pixels), generator=torch.Generator().manual_seed(seed))
    n_test = round(test_fraction * len(pixels))
    test, train = order[:n_test], order[n_test:]
    return DigitSplit(pixels[train], pixels[test], labels[train], labels[test])


def make_canvases(
    digits: Tensor, canvas_size: int = 20, generator: torch.Generator | None = None, clutter: float = 0.0
) -> tuple[Tensor, Tensor, Tensor]:
    """Paste each 8x8 digit at a uniformly random position of a square canvas.

    Args:
        digits: ``(n, 64)`` or ``(n, 8, 8)`` pixels.
        canvas_size: side of the canvas in pixels (>= 8).
        clutter: probability that a background pixel is switched on (distractor noise), in [0, 1).

    Returns:
        ``(canvases (n, size, size), glyphs (n, 8, 8), positions (n,))``; a position indexes the
        ``(size - 7)^2`` top-left corners in row-major order.
    """
    glyphs = digits.reshape(-1, 8, 8)
    if canvas_size < 8:
        raise InputError("the canvas must be at least as large as a digit", item=canvas_size, expected=">= 8")
    if not 0.0 <= clutter < 1.0:
        raise InputError("clutter must lie in [0, 1)", item=clutter)
    side = canvas_size - 7
    n = glyphs.shape[0]
    positions = torch.randint(0, side * side, (n,), generator=generator)
    noise = torch.rand(n, canvas_size, canvas_size, generator=generator)
    canvases = (noise < clutter).to(glyphs.dtype)
    rows, cols = positions // side, positions % side
    for i in range(n):  # one-off data construction, n copies of an 8x8 block
        canvases[i, rows[i] : rows[i] + 8, cols[i] : cols[i] + 8] = glyphs[i]
    return canvases, glyphs, positions
