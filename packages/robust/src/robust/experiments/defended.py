"""Defended reference models shared by the sub-experiments: trained once per output folder with
`robust.defenses.fit_defense`, checkpointed under ``out/models/`` and resumed from there."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from core.cli import RunOptions
from robust.data import ImageData
from robust.defenses import DefenseConfig, fit_defense
from robust.experiments.models import EPOCHS
from robust.models import ModelConfig
from robust.train import TrainConfig

__all__ = ["defended_model"]


def defended_model(
    options: RunOptions,
    data: ImageData,
    architecture: str,
    name: str,
    *,
    epochs: int | None = None,
    **defense: object,
) -> tuple[nn.Module, list[dict[str, float]], DefenseConfig]:
    """Train (or resume) `architecture` on `data` with the defense fields `defense`.

    The training part (epochs, batch 50, Adam 1e-3, seed) is the clean reference model's at this
    scale (`robust.experiments.models.EPOCHS`; `epochs` overrides it); the checkpoint is
    ``out/models/<data>-<arch>-<name>-seed<s>``.
    """
    from core.device import pick_device

    c, size, _ = data.image_shape
    train = TrainConfig(
        model=ModelConfig(architecture, in_channels=c, image_size=size, num_classes=data.num_classes),
        data=data.name,
        epochs=EPOCHS[options.scale][architecture] if epochs is None else epochs,
        seed=options.seed,
    )
    config = DefenseConfig(train=train, **defense)  # type: ignore[arg-type]
    path = Path(options.out) / "models" / f"{data.name}-{architecture}-{name}-seed{options.seed}.safetensors"
    model, history = fit_defense(data, config, checkpoint=path, device=pick_device(options.device))
    return model, history, config
