"""The training rule of learned confidence (DeVries & Taylor 2018, eq. 1-5 and sec. 3.1-3.2).

The network's probabilities ``p`` are pushed towards the one-hot label ``y`` in proportion to ``1 - c``:
``p' = c p + (1 - c) y``, with task loss ``L_t = -sum_i log(p'_i) y_i`` and confidence loss
``L_c = -log c``; the total is ``L_t + lambda L_c``. Hints are given to a random half of the examples
(the others use ``c = 1``, so they cannot lean on the label), and lambda follows a budget beta: after each
step it is divided by ``1 - step`` if ``L_c > beta`` (more weight on confidence) and by ``1 + step``
otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.nn import functional as F

from core.errors import InputError
from vision_attention.confidence.config import ConfidenceConfig

__all__ = ["augment", "confidence_loss", "cross_entropy_loss", "hint_probabilities", "update_lambda"]


def hint_probabilities(
    probabilities: torch.Tensor, confidence: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """``p' = c p + (1 - c) y`` for ``probabilities (N, K)``, ``confidence (N,)`` and ``labels (N,)`` long.

    Raises:
        InputError: the shapes disagree.
    """
    if (
        probabilities.dim() != 2
        or confidence.shape != probabilities.shape[:1]
        or labels.shape != confidence.shape
    ):
        raise InputError(
            "hints need probabilities (N, K), confidence (N,) and labels (N,)",
            item=(tuple(probabilities.shape), tuple(confidence.shape), tuple(labels.shape)),
        )
    onehot = F.one_hot(labels, probabilities.shape[1]).to(probabilities.dtype)
    c = confidence.unsqueeze(1)
    return c * probabilities + (1 - c) * onehot


def augment(images: torch.Tensor, generator: torch.Generator, shift: int, cutout: int) -> torch.Tensor:
    """Random translation by up to `shift` pixels (zero fill) and one `cutout` x `cutout` zeroed square per
    image (the paper trains with aggressive augmentation so that the training set keeps misclassified,
    hard examples for the confidence branch to learn from). ``(N, C, H, W) -> (N, C, H, W)``."""
    if shift == 0 and cutout == 0:
        return images
    n, _, h, w = images.shape
    out = images
    if shift > 0:
        padded = F.pad(images, (shift, shift, shift, shift))
        dy = torch.randint(0, 2 * shift + 1, (n,), generator=generator)
        dx = torch.randint(0, 2 * shift + 1, (n,), generator=generator)
        out = torch.stack([padded[k, :, dy[k] : dy[k] + h, dx[k] : dx[k] + w] for k in range(n)])
    if cutout > 0:
        cy = torch.randint(0, h, (n,), generator=generator)
        cx = torch.randint(0, w, (n,), generator=generator)
        rows = torch.arange(h).view(1, h, 1)
        cols = torch.arange(w).view(1, 1, w)
        half = cutout // 2
        inside = ((rows - cy.view(n, 1, 1)).abs() <= half) & ((cols - cx.view(n, 1, 1)).abs() <= half)
        out = out * (~inside).unsqueeze(1).to(out.dtype).to(out.device)
    return out


def _step_generator(model: torch.nn.Module, seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + int(model.step))


def cross_entropy_loss(
    model: torch.nn.Module, batch: Sequence[torch.Tensor], config: ConfidenceConfig, seed: int
) -> torch.Tensor:
    """The baseline's loss: cross-entropy of the logits on the same augmented images; advances ``step``."""
    images, labels = batch
    generator = _step_generator(model, seed)
    logits, _ = model(augment(images, generator, config.shift, config.cutout))
    with torch.no_grad():
        model.step.add_(1)
    return F.cross_entropy(logits, labels)


def update_lambda(lmbda: float, confidence_loss_value: float, config: ConfidenceConfig) -> float:
    """The budget rule: lambda / (1 - step) when ``L_c > beta``, lambda / (1 + step) otherwise."""
    if confidence_loss_value > config.budget:
        return lmbda / (1 - config.lambda_step)
    return lmbda / (1 + config.lambda_step)


def confidence_loss(
    model: torch.nn.Module, batch: Sequence[torch.Tensor], config: ConfidenceConfig, seed: int
) -> torch.Tensor:
    """One step's loss ``L_t + lambda L_c`` for a `ConfidenceCNN`; updates its ``lmbda`` and ``step`` buffers.

    ``batch`` is ``(images (N, 1, H, W), labels (N,))``. The augmentation and the hint mask of step s are
    drawn from a generator seeded by ``(seed, s)``, so the run is reproducible and resumes exactly.
    """
    images, labels = batch
    generator = _step_generator(model, seed)
    logits, confidence = model(augment(images, generator, config.shift, config.cutout))
    probabilities = F.softmax(logits, dim=1).clamp(config.clamp, 1 - config.clamp)
    confidence = confidence.clamp(config.clamp, 1 - config.clamp)
    hinted = torch.rand(len(labels), generator=generator) < config.hint_fraction
    c = torch.where(hinted.to(confidence.device), confidence, torch.ones_like(confidence))
    adjusted = hint_probabilities(probabilities, c, labels)
    task = F.nll_loss(torch.log(adjusted), labels)
    penalty = -torch.log(confidence).mean()
    lmbda = float(model.lmbda)
    total = task + lmbda * penalty
    with torch.no_grad():
        model.lmbda.fill_(update_lambda(lmbda, float(penalty), config))
        model.step.add_(1)
    return total
