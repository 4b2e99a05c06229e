"""Hard attention over many locations: place a known digit on a canvas by choosing where it goes.

A canvas ``(size, size)`` holds one 8x8 digit at an unknown top-left corner among ``P = (size - 7)^2``
positions. A convolutional locator maps the canvas to logits over the P positions; the objective of a
position z is the squared error between the canvas and the digit pasted at z,
``f(z) = ||canvas - paste(digit, z)||^2``, linear in z so relaxed positions paste a blend. This is the
paper's pixel-attention setting in miniature (a categorical with hundreds of categories, where the
Gumbel-softmax relaxation blurs the attended patch).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gradest.estimators import Estimate, Estimator

__all__ = ["AttentionConfig", "Locator", "paste"]


@dataclass(frozen=True)
class AttentionConfig:
    """The task and the locator.

    Attributes:
        canvas_size: side of the canvas in pixels; ``(canvas_size - 7)^2`` positions.
        clutter: probability of a distractor pixel in the background.
        channels: hidden feature maps of the locator.
        learn_template: paste one learned 8x8 template (a decoder trained jointly, as the paper's
            attention model learns its reconstruction) instead of each canvas's true digit.
    """

    canvas_size: int = 20
    clutter: float = 0.1
    channels: int = 8
    learn_template: bool = True


def paste(z: Tensor, glyphs: Tensor, canvas_size: int) -> Tensor:
    """Paste ``glyphs (B, 8, 8)`` with position weights ``z (S, B, P)`` -> canvases ``(S, B, size, size)``.

    One-hot z pastes the digit at one corner; relaxed z pastes the z-weighted blend. A grouped
    transposed convolution does all rows at once.
    """
    side = canvas_size - 7
    num_draws, rows = z.shape[0], z.shape[1]
    weights = z.reshape(num_draws, rows, side, side)
    return F.conv_transpose2d(weights, glyphs.unsqueeze(1), groups=rows)


class Locator(nn.Module):
    """Canvas ``(B, size, size)`` -> logits over the ``(size - 7)^2`` positions, ``(B, P)``."""

    def __init__(self, config: AttentionConfig = AttentionConfig()) -> None:
        super().__init__()
        self.config = config
        self.features = nn.Conv2d(1, config.channels, 5, padding=2)
        self.score = nn.Conv2d(config.channels, 1, 8)
        self.template_logits = nn.Parameter(torch.zeros(8, 8)) if config.learn_template else None

    def forward(self, canvases: Tensor) -> Tensor:
        hidden = torch.relu(self.features(canvases.unsqueeze(1)))
        return self.score(hidden).flatten(1)

    def objective(self, canvases: Tensor, glyphs: Tensor):
        """``f(z) = ||canvas - paste(glyph, z)||^2`` per draw and row, ``z (S, B, P) -> (S, B)``."""
        size = self.config.canvas_size
        if self.template_logits is not None:
            glyphs = torch.sigmoid(self.template_logits).expand(canvases.shape[0], 8, 8)

        def squared_error(z: Tensor) -> Tensor:
            return (paste(z, glyphs, size) - canvases).pow(2).sum((-1, -2))

        return squared_error

    def loss(
        self,
        canvases: Tensor,
        glyphs: Tensor,
        estimator: Estimator,
        num_samples: int,
        generator: torch.Generator | None = None,
    ) -> tuple[Tensor, Estimate]:
        """Surrogate of the mean expected squared error over the batch, and the estimate."""
        logits = self(canvases)
        estimate = estimator(
            logits, self.objective(canvases, glyphs), num_samples=num_samples, generator=generator
        )
        return estimate.loss / canvases.shape[0], estimate

    @torch.no_grad()
    def evaluate(self, canvases: Tensor, glyphs: Tensor, positions: Tensor) -> tuple[float, float]:
        """Exact mean expected squared error (all P positions enumerated) and argmax localisation accuracy."""
        logits = self(canvases)
        positions_count = logits.shape[-1]
        errors = []
        for start in range(0, positions_count, 64):  # chunks of one-hot positions bound the memory
            eye = torch.eye(positions_count, dtype=canvases.dtype, device=canvases.device)[start : start + 64]
            z = eye.unsqueeze(1).expand(-1, canvases.shape[0], -1)
            errors.append(self.objective(canvases, glyphs)(z))
        table = torch.cat(errors, 0).transpose(0, 1)  # (B, P)
        expected = (torch.softmax(logits, -1) * table).sum(-1).mean()
        accuracy = (logits.argmax(-1) == positions).float().mean()
        return float(expected), float(accuracy)
