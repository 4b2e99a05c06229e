"""The classifier of the augmentation study: a small CNN with one melanoma logit.

The paper fine-tunes ImageNet-pretrained Inception-v4, ResNet-152 and DenseNet-161 on 2,000 images; the
proxy runs a network small enough for 2 CPU cores, trained from scratch on a few hundred images.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["LesionCNN"]


class LesionCNN(nn.Module):
    """Three conv3x3-BN-ReLU-maxpool blocks (``width``, ``2 width``, ``4 width`` channels), global average
    pooling and a linear layer: ``forward(images (N, 3, s, s)) -> logits (N,)``. The ``step`` buffer counts
    the training steps (it seeds each step's augmentation, so a resumed run continues exactly)."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        channels = 3
        for out in (width, 2 * width, 4 * width):
            blocks += [
                nn.Conv2d(channels, out, 3, padding=1),
                nn.BatchNorm2d(out),
                nn.ReLU(),
                nn.MaxPool2d(2),
            ]
            channels = out
        self.features = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(channels, 1)
        self.register_buffer("step", torch.tensor(0, dtype=torch.int64))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images)).squeeze(-1)
