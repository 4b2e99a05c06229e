"""The small CNN the batch-size study trains, with a chosen normalisation after every convolution."""

from __future__ import annotations

import torch
from torch import nn

from vision_attention.groupnorm.config import NormNetConfig
from vision_attention.groupnorm.layer import make_norm

__all__ = ["NormCNN"]


class NormCNN(nn.Module):
    """conv3x3-norm-ReLU x2, 2x2 max-pool, conv3x3(2 width)-norm-ReLU (then `depth` more such blocks),
    global average pool, linear.

    Input ``(N, 1, H, W)`` images with H, W >= 2; output ``(N, classes)`` logits. Convolutions have no
    bias (the normalisation's beta replaces it).
    """

    def __init__(self, config: NormNetConfig) -> None:
        super().__init__()
        w, g = config.width, config.groups
        self.features = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1, bias=False),
            make_norm(config.norm, w, g),
            nn.ReLU(),
            nn.Conv2d(w, w, 3, padding=1, bias=False),
            make_norm(config.norm, w, g),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3, padding=1, bias=False),
            make_norm(config.norm, 2 * w, 2 * g),
            nn.ReLU(),
            *[
                module
                for _ in range(config.depth)
                for module in (
                    nn.Conv2d(2 * w, 2 * w, 3, padding=1, bias=False),
                    make_norm(config.norm, 2 * w, 2 * g),
                    nn.ReLU(),
                )
            ],
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(2 * w, config.classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))
