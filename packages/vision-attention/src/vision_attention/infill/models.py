"""The classifier FIDO explains and the small in-painting network of the generative in-fill."""

from __future__ import annotations

import torch
from torch import nn

from vision_attention.infill.config import InpainterConfig

__all__ = ["CanvasCNN", "Inpainter"]


class CanvasCNN(nn.Module):
    """Four 3x3 convolutions (two 2x2 max-pools), a global max pool, a linear layer: ``(n, 1, S, S) -> (n, classes)``.

    No batch statistics, so each canvas is classified independently of the rest of the batch.
    """

    def __init__(self, width: int = 16, classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(2 * width, 4 * width, 3, padding=1),
            nn.ReLU(),
        )
        self.head = nn.Linear(4 * width, classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images).amax((2, 3)))


class Inpainter(nn.Module):
    """``(x * keep, keep) -> image (n, 1, S, S)`` in [0, 1]: a full-resolution convolution, a half-resolution
    stack of dilated convolutions (receptive field ~40 px), an upsampling, a skip from the input.

    A small stand-in for the paper's contextual-attention GAN (CA-GAN): trained with an L1 loss on random
    masks, it predicts the conditional median of the dropped pixels given the kept ones (a point
    estimate, not a sampler). ``S`` must be even.
    """

    def __init__(self, config: InpainterConfig | None = None) -> None:
        super().__init__()
        config = config if config is not None else InpainterConfig()
        w = config.width
        self.config = config
        self.encode = nn.Sequential(nn.Conv2d(2, w, 3, padding=1), nn.ReLU())
        self.middle = nn.Sequential(
            nn.Conv2d(w, 2 * w, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=2, dilation=2),
            nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=4, dilation=4),
            nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=8, dilation=8),
            nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(2 * w, w, 3, padding=1),
            nn.ReLU(),
        )
        self.decode = nn.Sequential(
            nn.Conv2d(2 * w, w, 3, padding=1), nn.ReLU(), nn.Conv2d(w, 1, 3, padding=1)
        )

    def forward(self, images: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """``images, keep (n, 1, S, S)``; keep in [0, 1] (1: the pixel is seen). Returns the in-painted image."""
        seen = self.encode(torch.cat([images * keep, keep], 1))
        return torch.sigmoid(self.decode(torch.cat([seen, self.middle(seen)], 1)))
