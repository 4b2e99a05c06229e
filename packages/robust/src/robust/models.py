"""Small reference classifiers of the attack papers, for 1-channel digits or 3-channel images.

- ``"cnn"``: the MNIST network of Madry et al. (2018) and the `MadryLab/mnist_challenge` code:
  conv 5x5 with 32 filters, ReLU, 2x2 max-pool, conv 5x5 with 64 filters, ReLU, 2x2 max-pool,
  fully connected 1024, ReLU, linear to the classes ("same" padding).
- ``"lenet"``: a LeNet-5-like net (conv 5x5 6, pool, conv 5x5 16, pool, 120, 84) used as the
  second architecture of the transfer experiments (Xie et al. transfer between architectures).
- ``"mlp"``: two hidden ReLU layers (Goodfellow et al.'s maxout-free MNIST baseline shape).
- ``"ibp-small"``, ``"ibp-medium"``, ``"ibp-large"``: Gowal et al.'s (2018) IBP nets (ReLU after every
  convolution and hidden linear layer, unpadded convolutions; `robust.config.IBP_NETS`).

Widths are config fields whose defaults are the papers'; models take ``(n, c, h, w)`` images in
[0, 1] and return ``(n, num_classes)`` logits.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from robust.config import ARCHITECTURES, IBP_CONVS, ModelConfig

__all__ = ["ARCHITECTURES", "ModelConfig", "accuracy", "build_model"]


def build_model(config: ModelConfig) -> nn.Module:
    """A freshly initialised classifier for `config` (parameters from torch's global generator;
    wrap the call in ``torch.random.fork_rng`` + ``torch.manual_seed`` for a seeded init)."""
    widths = config.resolved_widths()
    c, size, k = config.in_channels, config.image_size, config.num_classes
    if config.architecture == "mlp":
        layers: list[nn.Module] = [nn.Flatten()]
        previous = c * size * size
        for width in widths:
            layers += [nn.Linear(previous, width), nn.ReLU()]
            previous = width
        layers.append(nn.Linear(previous, k))
        return nn.Sequential(*layers)
    if config.architecture in IBP_CONVS:
        return _ibp_net(config, widths)
    pooled = size // 2 // 2
    a, b, *hidden = widths
    layers = [
        nn.Conv2d(c, a, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(a, b, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
    ]
    previous = b * pooled * pooled
    for width in hidden:  # cnn: one layer of 1024; lenet: 120 then 84
        layers += [nn.Linear(previous, width), nn.ReLU()]
        previous = width
    layers.append(nn.Linear(previous, k))
    return nn.Sequential(*layers)


def _ibp_net(config: ModelConfig, widths: tuple[int, ...]) -> nn.Module:
    convs = IBP_CONVS[config.architecture]
    layers: list[nn.Module] = []
    channels, size = config.in_channels, config.image_size
    for (kernel, stride), width in zip(convs, widths, strict=False):
        layers += [nn.Conv2d(channels, width, kernel, stride), nn.ReLU()]
        channels, size = width, (size - kernel) // stride + 1
        if size < 1:
            from core.errors import InputError

            raise InputError(f"images of {config.image_size} px are too small for {config.architecture}")
    layers.append(nn.Flatten())
    previous = channels * size * size
    for width in widths[len(convs) :]:
        layers += [nn.Linear(previous, width), nn.ReLU()]
        previous = width
    layers.append(nn.Linear(previous, config.num_classes))
    return nn.Sequential(*layers)


def accuracy(model: nn.Module, x: Tensor, y: Tensor, batch_size: int = 500) -> float:
    """Top-1 accuracy of `model` on ``x (n, c, h, w)``, ``y (n,)``, in eval mode, without gradients."""
    from robust.guard import evaluation_mode

    correct = 0
    with evaluation_mode(model), torch.no_grad():
        for start in range(0, len(x), batch_size):
            logits = model(x[start : start + batch_size])
            correct += int((logits.argmax(1) == y[start : start + batch_size]).sum())
    return correct / max(len(x), 1)
