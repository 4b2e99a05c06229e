"""Configs shared by every study in the package, kept free of torch (the CLI reads their defaults).

Each study keeps its own model/data configs in ``vision_attention.<study>.config`` (also torch-free);
`TrainConfig` is the one optimisation config every trainer here takes (`vision_attention.training.fit`).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InputError
from core.resume import extendable
from core.validate import require_ints, require_positive, require_seed

__all__ = ["TrainConfig"]


@dataclass(frozen=True)
class TrainConfig:
    """One minibatch training run with Adam.

    Attributes:
        model: names what is trained (``"coordconv-classification"``...); stored in the checkpoint, so a
            checkpoint of another model is refused naming this field.
        epochs: passes over the training set (extendable: a finished run resumes with more epochs).
        batch_size: examples per step.
        learning_rate: Adam step size.
        weight_decay: Adam's L2 weight decay.
        grad_clip: clip the global gradient norm to this value (0: no clipping).
        checkpoint_every: epochs between checkpoints (when a checkpoint path is given).
        seed: seeds the initialisation and the minibatch order.
    """

    model: str = "model"
    epochs: int = extendable(10)
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    grad_clip: float = 0.0
    checkpoint_every: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        require_ints(self, "epochs", "batch_size", "checkpoint_every")
        require_positive(self, "learning_rate")
        require_seed(self)
        for name in ("weight_decay", "grad_clip"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise InputError(f"TrainConfig.{name} must be a number >= 0", item=value)
