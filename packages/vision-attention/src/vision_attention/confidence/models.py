"""The classifier with a confidence branch (DeVries & Taylor 2018, Figure 2)."""

from __future__ import annotations

import torch
from torch import nn

from vision_attention.confidence.config import ConfidenceConfig

__all__ = ["ConfidenceCNN"]


class ConfidenceCNN(nn.Module):
    """conv3x3-ReLU-maxpool x2, adaptive average pool to 4x4, a hidden layer, then two heads in parallel.

    ``forward(images (N, 1, H, W)) -> (logits (N, classes), confidence (N,) in (0, 1))``; the confidence is a
    sigmoid of one linear unit on the penultimate layer, as the paper's branch. Two buffers carry the
    training rule's state through checkpoints: ``lmbda`` (the budget-controlled weight of the confidence
    loss, float64) and ``step`` (the steps taken, which seeds each step's hint mask), so a resumed run
    continues exactly. A baseline trained with plain cross-entropy uses the same network and ignores the
    confidence head.
    """

    def __init__(self, config: ConfidenceConfig) -> None:
        super().__init__()
        w = config.width
        self.features = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(4),
            nn.Flatten(),
            nn.Linear(2 * w * 16, config.hidden),
            nn.ReLU(),
        )
        self.classifier = nn.Linear(config.hidden, config.classes)
        self.confidence = nn.Linear(config.hidden, 1)
        self.register_buffer("lmbda", torch.tensor(config.initial_lambda, dtype=torch.float64))
        self.register_buffer("step", torch.tensor(0, dtype=torch.int64))

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.features(images)
        return self.classifier(hidden), torch.sigmoid(self.confidence(hidden)).squeeze(-1)
