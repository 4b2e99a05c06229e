"""Standard (clean) training of the reference classifiers: resumable, checkpointed, with a progress bar.

Reads top to bottom: seed the initialisation, shuffle with an explicit generator, one Adam step per
minibatch of cross-entropy, evaluate on the test split after every epoch, checkpoint (model,
optimiser, shuffling generator, history) after every epoch. A checkpoint resumes under the one
resume rule: the config must equal the saved one except ``epochs``, which may be raised.
`run_training` is that loop with a pluggable per-minibatch `Objective`: the training defenses of
`robust.defenses` (adversarial, logit-pairing, universal adversarial training) reuse it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from core.checkpoint import load_checkpoint, load_state_into, save_checkpoint
from core.errors import InputError
from core.progress import progress
from robust.config import TrainConfig
from robust.data import ImageData
from robust.models import accuracy, build_model

__all__ = ["Objective", "TrainConfig", "fit", "load_model", "run_training"]


EpochCallback = Callable[[int, nn.Module], None]


class Objective:
    """What one minibatch step minimises: clean cross-entropy here; defenses (``robust.defenses``)
    subclass it with adversarial losses and may keep state (a universal perturbation, a pool of
    them, an attack's generator) that is checkpointed with the run.
    """

    def setup(self, model: nn.Module, device: torch.device) -> None:
        """Called once with the freshly built model before any step (or resume)."""

    def batch_loss(self, model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
        """Scalar loss of a minibatch ``x (b, c, h, w)``, ``y (b,)`` (the model is in train mode)."""
        return nn.functional.cross_entropy(model(x), y)

    def after_step(self) -> None:
        """Called after each optimiser step (simultaneous updates of the objective's own state)."""

    def end_epoch(self, model: nn.Module, x: Tensor, y: Tensor) -> dict[str, float]:
        """Called after each epoch with the training split; returns extra history entries."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        """The objective's state to checkpoint (tensors, numbers, lists)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned."""


def fit(
    data: ImageData,
    config: TrainConfig,
    checkpoint: str | Path | None = None,
    *,
    device: torch.device | str = "cpu",
    callback: EpochCallback | None = None,
) -> tuple[nn.Module, list[dict[str, float]]]:
    """Train ``build_model(config.model)`` on ``data``'s training split.

    Args:
        data: images; its ``name`` must equal ``config.data`` and its shape the model config's.
        config: the run.
        checkpoint: a ``.safetensors`` path; an existing file is resumed (same config except
            ``epochs``), and the file is rewritten after every epoch.
        device: where to train.
        callback: called as ``callback(epoch, model)`` after each epoch's checkpoint.

    Returns:
        ``(model, history)``: the trained model (in eval mode) and one row per epoch with
        ``epoch``, ``train_loss``, ``test_accuracy`` and cumulative ``train_seconds``.

    Raises:
        InputError: data that does not fit the config; CheckpointMismatchError when resuming with
            a different config.
    """
    return run_training(data, config, config, Objective(), checkpoint, device=device, callback=callback)


def run_training(
    data: ImageData,
    run_config: Any,
    config: TrainConfig,
    objective: Objective,
    checkpoint: str | Path | None = None,
    *,
    device: torch.device | str = "cpu",
    callback: EpochCallback | None = None,
) -> tuple[nn.Module, list[dict[str, float]]]:
    """The training loop shared by clean training and every training defense.

    Args:
        run_config: the config dataclass saved in (and checked against) the checkpoint: the
            `TrainConfig` itself, or a defense config that holds it.
        config: the `TrainConfig` part (model, data, epochs, batch size, learning rate, seed).
        objective: the per-minibatch loss and its state.
        checkpoint, device, callback: as in `fit`.
    """
    _check_fits(data, config)
    device = torch.device(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = build_model(config.model)
    model.to(device)
    objective.setup(model, device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    generator = torch.Generator().manual_seed(config.seed)
    path = Path(checkpoint) if checkpoint is not None else None
    history, start, state = resume_from(path, run_config, model, optimizer, generator, device=device)
    if state:  # resumed: the objective's own state (attack generator, ...) too
        objective.load_state_dict(state.get("objective", {}))
    x_train, y_train = data.x_train.to(device), data.y_train.to(device)
    x_test, y_test = data.x_test.to(device), data.y_test.to(device)
    seconds = history[-1]["train_seconds"] if history else 0.0
    for epoch in progress(range(start + 1, config.epochs + 1), desc=f"train {config.model.architecture}"):
        began = time.perf_counter()
        model.train()
        order = torch.randperm(len(x_train), generator=generator).to(device)
        total, count = 0.0, 0
        for batch in order.split(config.batch_size):
            loss = objective.batch_loss(model, x_train[batch], y_train[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            objective.after_step()
            total += float(loss.detach()) * len(batch)
            count += len(batch)
        model.eval()
        extra = objective.end_epoch(model, x_train, y_train)
        seconds += time.perf_counter() - began
        history.append(
            {
                "epoch": epoch,
                "train_loss": total / count,
                "test_accuracy": accuracy(model, x_test, y_test),
                **extra,
                "train_seconds": seconds,
            }
        )
        if path is not None:
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "generator": generator.get_state(),
                "objective": objective.state_dict(),
            }
            save_checkpoint(path, state, run_config, extra={"epoch": epoch, "history": history})
        if callback is not None:
            callback(epoch, model)
    model.eval()
    return model, history


def resume_from(
    path: Path | None,
    run_config: Any,
    module: nn.Module,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    *,
    key: str = "model",
    device: torch.device | str = "cpu",
) -> tuple[list[dict[str, float]], int, dict[str, Any]]:
    """Restore an epoch loop's module, optimizer and shuffling generator from its checkpoint.

    The checkpoint is the one the loops of this package write: state ``{key, "optimizer", "generator", ...}``
    and extra ``{"epoch", "history"}``, stamped with ``run_config`` (a different config is refused).

    Returns:
        (history rows, last finished epoch, the whole saved state); ``([], 0, {})`` when ``path`` is None
        or does not exist yet.
    """
    if path is None or not path.exists():
        return [], 0, {}
    saved = load_checkpoint(path, type(run_config), resume=run_config, map_location=device)
    load_state_into(module, saved.state[key], source=path)
    optimizer.load_state_dict(saved.state["optimizer"])
    generator.set_state(saved.state["generator"])
    return list(saved.extra["history"]), int(saved.extra["epoch"]), saved.state


def load_model(path: str | Path, device: torch.device | str = "cpu") -> tuple[nn.Module, TrainConfig]:
    """The trained model (eval mode) and its `TrainConfig` from a checkpoint written by `fit`.

    Raises:
        InputError: a missing, damaged or foreign checkpoint (one line naming the file).
    """
    saved = load_checkpoint(path, TrainConfig, map_location=device)
    model = build_model(saved.config.model).to(device)
    load_state_into(model, saved.state["model"], source=path)
    return model.eval(), saved.config


def _check_fits(data: ImageData, config: TrainConfig) -> None:
    if data.name != config.data:
        raise InputError("training data does not match the config", item=data.name, expected=config.data)
    c, h, w = data.image_shape
    model = config.model
    if (c, h, w) != (model.in_channels, model.image_size, model.image_size):
        raise InputError(
            f"images are {c}x{h}x{w} but the model config expects "
            f"{model.in_channels}x{model.image_size}x{model.image_size}",
            item=data.name,
        )
    if data.num_classes != model.num_classes:
        raise InputError("number of classes differs from the model config", item=data.num_classes)
