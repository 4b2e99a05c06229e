"""The error-against-batch-size study (Wu & He 2018, Figure 5 / Table 3) in small form.

For each normalisation and each batch size, train `NormCNN` from the same seeded initialisation for the
same number of epochs (as the paper: fixed epochs, so smaller batches take more steps) with
`vision_attention.training.fit` (Adam), and score the test error; BN evaluates with its running statistics
(as in the paper), the others need none.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from core.errors import InputError
from vision_attention.config import TrainConfig
from vision_attention.groupnorm.config import NormNetConfig
from vision_attention.groupnorm.models import NormCNN
from vision_attention.training import build_model, fit

__all__ = ["NormRun", "batch_size_study", "error_rate", "train_normalized"]


@dataclass(frozen=True)
class NormRun:
    """One trained network: its config, batch size, test error (fraction) and training seconds."""

    norm: str
    batch_size: int
    test_error: float
    train_error: float
    seconds: float


def error_rate(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of `images` ``(n, 1, H, W)`` whose arg-max logit is not `labels` ``(n,)`` (eval mode)."""
    model.eval()
    with torch.no_grad():
        predictions = torch.cat([model(chunk).argmax(1) for chunk in images.split(512)])
    return float((predictions != labels).float().mean())


def train_normalized(
    net: NormNetConfig,
    train: TrainConfig,
    images: torch.Tensor,
    labels: torch.Tensor,
) -> NormCNN:
    """Train one `NormCNN` with cross-entropy on ``images (n, 1, H, W)`` and ``labels (n,)``."""
    model = build_model(lambda: NormCNN(net), train.seed)

    def loss(module: torch.nn.Module, batch: Sequence[torch.Tensor]) -> torch.Tensor:
        return F.cross_entropy(module(batch[0]), batch[1])

    fit(model, loss, [images, labels], train)
    return model


def batch_size_study(
    train_images: torch.Tensor,
    train_labels: torch.Tensor,
    test_images: torch.Tensor,
    test_labels: torch.Tensor,
    *,
    norms: Sequence[str],
    batch_sizes: Sequence[int],
    epochs: int,
    learning_rate: float,
    seed: int = 0,
    width: int = 16,
    groups: int = 4,
    depth: int = 0,
) -> list[NormRun]:
    """Train one network per (normalisation, batch size) and return their errors, in that order.

    Raises:
        InputError: no norms or batch sizes, or a batch size below 2 (BN needs two examples).
    """
    if not norms or not batch_sizes:
        raise InputError("the batch-size study needs norms and batch sizes", item=(norms, batch_sizes))
    if any(size < 2 for size in batch_sizes):
        raise InputError("batch sizes must be >= 2", item=list(batch_sizes))
    runs = []
    for norm in norms:
        net = NormNetConfig(
            norm=norm, width=width, groups=groups, classes=int(train_labels.max()) + 1, depth=depth
        )
        for size in batch_sizes:
            train = TrainConfig(
                model=f"cnn-{norm}-batch{size}",
                epochs=epochs,
                batch_size=size,
                learning_rate=learning_rate,
                seed=seed,
            )
            began = time.perf_counter()
            model = train_normalized(net, train, train_images, train_labels)
            seconds = time.perf_counter() - began
            runs.append(
                NormRun(
                    norm=norm,
                    batch_size=size,
                    test_error=error_rate(model, test_images, test_labels),
                    train_error=error_rate(model, train_images, train_labels),
                    seconds=seconds,
                )
            )
    return runs
