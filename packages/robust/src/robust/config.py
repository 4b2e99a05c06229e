"""The configs of the reference models and their training (torch-free, so the CLI's help can read
their defaults without importing torch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from core.errors import InputError
from core.resume import extendable

__all__ = ["ARCHITECTURES", "ModelConfig", "TrainConfig"]

ARCHITECTURES = ("cnn", "lenet", "mlp", "ibp-small", "ibp-medium", "ibp-large")


IBP_NETS = {
    "ibp-small": (16, 32, 100),
    "ibp-medium": (32, 32, 64, 64, 512, 512),
    "ibp-large": (64, 64, 128, 128, 128, 512),
}
"""Widths of Gowal et al.'s (2018) MNIST nets: small = conv 16 4x4/2, conv 32 4x4/1, fc 100;
medium = conv 32 3x3/1, conv 32 4x4/2, conv 64 3x3/1, conv 64 4x4/2, fc 512, fc 512;
large = conv 64 3x3/1, conv 64 3x3/1, conv 128 3x3/2, conv 128 3x3/1, conv 128 3x3/1, fc 512."""

IBP_CONVS = {
    "ibp-small": ((4, 2), (4, 1)),
    "ibp-medium": ((3, 1), (4, 2), (3, 1), (4, 2)),
    "ibp-large": ((3, 1), (3, 1), (3, 2), (3, 1), (3, 1)),
}
"""(kernel, stride) of each convolution of the IBP nets (no padding)."""


@dataclass(frozen=True)
class ModelConfig:
    """Which classifier to build.

    Attributes:
        architecture: ``"cnn"`` (Madry et al.'s MNIST net), ``"lenet"``, ``"mlp"``, or Gowal et al.'s
            IBP nets ``"ibp-small"``, ``"ibp-medium"``, ``"ibp-large"`` (fixed widths).
        in_channels, image_size: input images ``(in_channels, image_size, image_size)``.
        num_classes: output logits.
        widths: channels/units per hidden layer; empty means the paper's
            (cnn: 32, 64, 1024; lenet: 6, 16, 120, 84; mlp: 256, 256).
    """

    architecture: Literal["cnn", "lenet", "mlp", "ibp-small", "ibp-medium", "ibp-large"] = "cnn"
    in_channels: int = 1
    image_size: int = 28
    num_classes: int = 10
    widths: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise InputError(
                "unknown architecture", item=self.architecture, expected=", ".join(ARCHITECTURES)
            )
        for name in ("in_channels", "image_size", "num_classes"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be >= 1", item=getattr(self, name))
        if self.architecture != "mlp" and self.image_size < 4:
            raise InputError("convolutional nets need images of at least 4x4 pixels", item=self.image_size)
        if self.widths and self.architecture.startswith("ibp-"):
            raise InputError(f"{self.architecture} has the paper's fixed widths", item=self.widths)
        wanted = {"cnn": 3, "lenet": 4}.get(self.architecture)
        if self.widths and wanted is not None and len(self.widths) != wanted:
            raise InputError(f"{self.architecture} takes {wanted} widths", item=self.widths)
        if any(w < 1 for w in self.widths):
            raise InputError("widths must be >= 1", item=self.widths)

    def resolved_widths(self) -> tuple[int, ...]:
        """The widths actually used (the paper's when `widths` is empty)."""
        defaults = {"cnn": (32, 64, 1024), "lenet": (6, 16, 120, 84), "mlp": (256, 256), **IBP_NETS}
        return self.widths or defaults[self.architecture]


@dataclass(frozen=True)
class TrainConfig:
    """One training run of a reference classifier.

    Attributes:
        model: the architecture to train.
        data: name of the data set it is trained on (checked against the `ImageData` given to `fit`).
        epochs: passes over the training split (extendable: a finished run can be continued).
        batch_size: images per step (Madry et al.'s MNIST code uses 50).
        learning_rate: Adam step size.
        seed: seeds the initialisation and the shuffling.
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    data: str = "mnist5000"
    epochs: int = extendable(10)
    batch_size: int = 50
    learning_rate: float = 1e-3
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be >= 1", item=getattr(self, name))
        if not self.learning_rate > 0:
            raise InputError("learning_rate must be > 0", item=self.learning_rate)
