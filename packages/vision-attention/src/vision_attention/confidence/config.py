"""Configs of the learned-confidence study, free of torch."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InputError
from core.validate import require_ints, require_positive

__all__ = ["ConfidenceConfig", "OodConfig"]


@dataclass(frozen=True)
class ConfidenceConfig:
    """The confidence network and its training rule (DeVries & Taylor 2018, sec. 2-3).

    Attributes:
        width: channels of the first convolution (the second has ``2 * width``).
        hidden: units of the penultimate layer, from which both the logits and the confidence branch read.
        classes: output classes.
        budget: beta, the target of the confidence loss ``-log c``; lambda grows while the loss is above
            it and shrinks while below (the paper finds beta in [0.1, 1.0] reasonable; 0.3 its default).
        initial_lambda: lambda at the first step (0.1 in the authors' code).
        lambda_step: lambda is divided by ``1 - lambda_step`` when the loss exceeds the budget, by
            ``1 + lambda_step`` otherwise (0.01: the authors' 0.99 / 1.01).
        hint_fraction: share of examples that receive hints (0.5: "hints on half the batches").
        clamp: probabilities and confidences are clamped to ``[clamp, 1 - clamp]`` before the logs.
        shift: training augmentation, random translation of up to this many pixels (both networks).
        cutout: training augmentation, side of one zeroed square per image (0: none; the paper uses cutout).
    """

    width: int = 16
    hidden: int = 128
    classes: int = 10
    budget: float = 0.3
    initial_lambda: float = 0.1
    lambda_step: float = 0.01
    hint_fraction: float = 0.5
    clamp: float = 1e-12
    shift: int = 2
    cutout: int = 8

    def __post_init__(self) -> None:
        require_ints(self, "width", "hidden", "classes")
        require_ints(self, "shift", "cutout", minimum=0)
        require_positive(self, "budget", "initial_lambda", "clamp")
        for name in ("lambda_step", "hint_fraction"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
                raise InputError(f"ConfidenceConfig.{name} must be in [0, 1)", item=value)
        if self.classes < 2:
            raise InputError("ConfidenceConfig.classes must be >= 2", item=self.classes)


@dataclass(frozen=True)
class OodConfig:
    """How the detectors score an input (ODIN: Liang et al. 2018; DeVries & Taylor sec. 3.3).

    Attributes:
        temperatures: ODIN's softmax temperatures tried (ODIN tunes T with epsilon; 1000 its usual choice).
        epsilons: input-perturbation magnitudes tried (pixel units, images in [0, 1]); the one with the
            best AUROC on the validation half of the in- and out-of-distribution images is used on the
            test half, per detector (ODIN: the best (T, epsilon) pair) (ODIN's and the paper's protocol of tuning epsilon on held-out data).
    """

    temperatures: tuple[float, ...] = (1.0, 10.0, 100.0, 1000.0)
    epsilons: tuple[float, ...] = (0.0, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02)

    def __post_init__(self) -> None:
        if not self.temperatures or any(not isinstance(t, int | float) or t <= 0 for t in self.temperatures):
            raise InputError("OodConfig.temperatures must be numbers > 0", item=self.temperatures)
        if not self.epsilons or any(not isinstance(e, int | float) or e < 0 for e in self.epsilons):
            raise InputError("OodConfig.epsilons must be numbers >= 0", item=self.epsilons)
