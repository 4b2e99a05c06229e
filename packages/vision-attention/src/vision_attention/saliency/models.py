"""The small CNN the sanity checks run on (two conv blocks, two dense layers; every ReLU its own module,
as guided backpropagation needs)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["DigitCNN", "accuracy", "train_classifier"]


class DigitCNN(nn.Module):
    """``(n, 1, side, side)`` -> ``(n, classes)`` logits.

    conv1 (3x3, `channels`) - ReLU - conv2 (3x3, 2 `channels`) - ReLU - 2x2 max pool - fc1 (`hidden`) - ReLU - fc2.
    `LAYERS` lists the re-initialisable layers from the top (logits) down, the order of the cascading test;
    `gradcam_layer` is conv2, the last convolution (Grad-CAM's usual choice).
    """

    LAYERS = ("fc2", "fc1", "conv2", "conv1")

    def __init__(self, side: int = 28, classes: int = 10, channels: int = 16, hidden: int = 64) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(channels, 2 * channels, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(2 * channels * (side // 2) ** 2, hidden)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(hidden, classes)

    @property
    def gradcam_layer(self) -> nn.Module:
        return self.conv2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.relu2(self.conv2(self.relu1(self.conv1(x)))))
        return self.fc2(self.relu3(self.fc1(x.flatten(1))))


def train_classifier(
    images: torch.Tensor,
    labels: torch.Tensor,
    train,
    *,
    channels: int = 16,
    hidden: int = 64,
    checkpoint=None,
) -> tuple[DigitCNN, list[dict]]:
    """Fit a `DigitCNN` to ``(images (n, 1, s, s), labels (n,))`` with `vision_attention.training.fit`.

    Args:
        train: a `vision_attention.config.TrainConfig`.
        checkpoint: optional ``.safetensors`` path (resumed from when it exists).

    Returns:
        ``(model in eval mode, history)``; history rows carry the training accuracy.
    """
    import torch.nn.functional as F

    from vision_attention.training import build_model, fit

    side = int(images.shape[-1])
    model = build_model(lambda: DigitCNN(side, int(labels.max()) + 1, channels, hidden), train.seed)

    def loss(net: nn.Module, batch: list[torch.Tensor]) -> torch.Tensor:
        return F.cross_entropy(net(batch[0]), batch[1])

    def evaluate(net: nn.Module) -> dict[str, float]:
        return {"train_accuracy": accuracy(net, images, labels)}

    history = fit(model, loss, [images, labels], train, evaluate=evaluate, checkpoint=checkpoint)
    return model, history


@torch.no_grad()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, chunk: int = 512) -> float:
    """Fraction of `images` whose arg-max logit is the label."""
    model.eval()
    hits = sum(
        int((model(images[i : i + chunk]).argmax(1) == labels[i : i + chunk]).sum())
        for i in range(0, len(images), chunk)
    )
    return hits / len(images)
